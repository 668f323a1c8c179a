use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// TWP — a telephony gateway between a company's PBX and its IT.
///
/// TWP holds CTI links to the PBX, supervises users' phones and offers
/// telephony, directories and administration as web services.
#[derive(Debug, Parser)]
#[command(
    name = "twp",
    version,
    propagate_version = true,
    after_help = "\
Examples:
  twp demo                                  try TWP: sample company, users and data, on 127.0.0.1:8000
  twp serve --config /etc/twp/twp.toml      run the server
  twp admin reset-password --name tws       regain access after a lost password
  twp config example > twp.toml             write a commented configuration file

Documentation: README.md, and the API reference at http://127.0.0.1:8000/api/docs/ once running."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    #[command(after_help = "\
Examples:
  twp serve                                 defaults: 127.0.0.1:8000, SQLite in ./twp-data
  twp serve --config twp.toml --listen 0.0.0.0:8000
  TWP_DATABASE__URL=postgres://twp@127.0.0.1/twp twp serve

At first start the administrator 'tws' with password 'tws' is created (boot mode):
log in and change that password before anything else is allowed.")]
    Serve {
        /// TOML configuration file (see `twp config example`).
        #[arg(long, short, env = "TWP_CONFIG")]
        config: Option<PathBuf>,
        /// Address and port to listen on (overrides server.listen).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Data folder (overrides data_dir).
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Start a demonstration server with sample data, ready to explore.
    #[command(after_help = "\
Examples:
  twp demo                                  data in ./twp-demo-data, on 127.0.0.1:8000
  twp demo --listen 127.0.0.1:8001 --data /tmp/demo2    a second demo beside the first

The demo keeps its data between runs; delete the data folder to start afresh.")]
    Demo {
        /// Address and port to listen on.
        #[arg(long, default_value = "127.0.0.1:8000")]
        listen: SocketAddr,
        /// Data folder of the demo (created if missing).
        #[arg(long, default_value = "twp-demo-data")]
        data: PathBuf,
    },
    /// Administrator tools that work on the database directly.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Print the OpenAPI document of the web services.
    #[command(after_help = "Example:\n  twp openapi > openapi.json")]
    Openapi,
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Set a new password for an administrator and unlock it.
    ///
    /// Works on the database directly (the server may be running). The
    /// administrator must choose a new password at next login. With no
    /// --password, a random one is generated and printed.
    #[command(after_help = "\
Examples:
  twp admin reset-password                          reset 'tws' (re-created if it was deleted)
  twp admin reset-password --name paris-admin --config /etc/twp/twp.toml")]
    ResetPassword {
        /// Administrator name.
        #[arg(long, default_value = "tws")]
        name: String,
        /// The new (temporary) password; generated when absent.
        #[arg(long)]
        password: Option<String>,
        #[arg(long, short, env = "TWP_CONFIG")]
        config: Option<PathBuf>,
        /// Data folder (overrides data_dir).
        #[arg(long)]
        data: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print a commented configuration file with every default.
    Example,
    /// Check a configuration file and print the settings in force.
    Check {
        #[arg(long, short, env = "TWP_CONFIG")]
        config: Option<PathBuf>,
    },
}
