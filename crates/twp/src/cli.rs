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
  twp demo                              try TWP with sample data
  twp serve --config /etc/twp/twp.toml  run the server
  twp admin reset-password --name tws   regain access after a lost password
  twp config example > twp.toml         write a commented configuration
  twp dialplan test 0155171889          check a number against a dialing plan
  twp pbx-sim                           a simulated PBX to try TWP against

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
    /// Directory tools (guide 8) that work on the database directly.
    Directory {
        #[command(subcommand)]
        command: DirectoryCommand,
    },
    /// Administrator tools that work on the database directly.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Print the OpenAPI document of the web services.
    #[command(after_help = "Example:\n  twp openapi > openapi.json")]
    Openapi,
    /// Dialing plan tools (guide chapter 5): check rules before they go live.
    Dialplan {
        #[command(subcommand)]
        command: DialplanCommand,
    },
    /// CSTA tools for administrators debugging PBX links.
    Csta {
        #[command(subcommand)]
        command: CstaCommand,
    },
    /// Run the PBX simulator: a CSTA XML server modelling a PBX, with a
    /// scenario console (calls from outside, answer, hang up, link loss…).
    #[command(after_help = "\
Examples:
  twp pbx-sim                                   demo PBX (1000-1019@1.1, 2000-2009@2.1, hunt group 1900, voicemail 1999) on 127.0.0.1:3211
  twp pbx-sim --listen 127.0.0.1:3211 --listen 127.0.0.1:3212 --extensions 1000-1999@1.1 --extensions 2000-2999@2.1
  then type:  call 0612345678 1000    answer 1000    hangup 1000    drop    help")]
    PbxSim {
        /// CSTA listener address; repeat for several links.
        #[arg(long)]
        listen: Vec<SocketAddr>,
        /// Extensions FIRST-LAST@SITE.CLUSTER; repeat for several ranges (default: the demo PBX).
        #[arg(long)]
        extensions: Vec<String>,
        /// No console: just serve until Ctrl+C.
        #[arg(long)]
        no_console: bool,
    },
    /// Configuration helpers.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// License issuer's tools: signing keys, signing and reading license files.
    License {
        #[command(subcommand)]
        command: LicenseCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum LicenseCommand {
    /// Create a signing key pair: DIR/license.key (secret) and DIR/license.pub.
    #[command(after_help = "\
Example:
  twp license keygen --out keys/
Then put the printed line in the servers' twp.toml:
  [licenses]
  trusted_keys = [\"<the base64 line of license.pub>\"]
Keep license.key off the servers: whoever holds it can issue licenses.")]
    Keygen {
        /// Folder to write the two key files to (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
    /// Sign a license body and print the complete license file.
    #[command(after_help = "\
Example: write body.txt with the installation id shown by the console
(GET /api/v1/license):
  TWP LICENSE 1
  customer: ACME SA
  installation: 7QH2KC-0M4XRT-9D2F1A-BB3E8W
  expires: 2027-12-31
  seats.caller: 100
  seats.alerter: 10
then:
  twp license sign --key keys/license.key body.txt > acme.lic
Applications: caller, alerter, stats, stats-admin, soft-phone, rules, videoshare, toolkit.")]
    Sign {
        /// The secret key file written by `twp license keygen`.
        #[arg(long)]
        key: PathBuf,
        /// The license body (an existing signature line is replaced).
        body: PathBuf,
    },
    /// Print a license file's content, expiry and signature status.
    #[command(after_help = "\
Examples:
  twp license inspect acme.lic
  twp license inspect acme.lic --key keys/license.pub
Exit status 1 when --key is given and the signature is not valid for it.")]
    Inspect {
        file: PathBuf,
        /// Public key files to check the signature against; repeatable.
        #[arg(long)]
        key: Vec<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DirectoryCommand {
    /// Synchronise one directory now, showing progress and the report.
    ///
    /// Works on the database directly with the server's configuration and
    /// key file. A running server keeps its loaded contacts until its next
    /// start or its own next synchronisation (POST …/directories/{id}/sync
    /// refreshes a running server).
    #[command(after_help = "\
Examples:
  twp directory sync 'Exemple SA' Paris 'Sample CSV' --data twp-demo-data
  twp directory sync 1 1 2 --config /etc/twp/twp.toml      by ids")]
    Sync {
        /// Company name or id.
        company: String,
        /// Domain name or id.
        domain: String,
        /// Directory name or id.
        directory: String,
        #[arg(long, short, env = "TWP_CONFIG")]
        config: Option<PathBuf>,
        /// Data folder (overrides data_dir).
        #[arg(long)]
        data: Option<PathBuf>,
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
pub enum DialplanCommand {
    /// Show the dialable and canonical forms of numbers under a plan.
    #[command(after_help = "\
Examples:
  twp dialplan example > plan.json                         the guide's French plan, to edit
  twp dialplan test --plan plan.json +33155171889 3611 0033155171889
  twp dialplan test --plan plan.json --explain '+42(0)141906666'
Without --plan, the guide's example plan is used.")]
    Test {
        /// A plan document (JSON), as exported by the API or `twp dialplan example`.
        #[arg(long)]
        plan: Option<PathBuf>,
        /// Show every step and which rule fired.
        #[arg(long)]
        explain: bool,
        /// Numbers to test.
        #[arg(required = true)]
        numbers: Vec<String>,
    },
    /// Print the guide's example plan as a plan document.
    Example,
}

#[derive(Debug, Subcommand)]
pub enum CstaCommand {
    /// Pretty-print a captured CSTA byte stream, one XML body, or a PDU trace.
    #[command(after_help = "\
Examples:
  twp csta decode capture.bin         frames back to back, as on the wire
  twp csta decode body.xml            one ECMA-323 XML message
  twp csta decode trace.txt           a PDU trace written by TWP
Exit status 1 when a frame or body cannot be decoded; the report names its offset.")]
    Decode {
        /// The file to read (`-` for standard input).
        file: PathBuf,
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
