//! What each subcommand does.

use std::path::Path;

use rand::Rng;
use tokio::net::TcpListener;
use twp_api::crypto::SecretBox;
use twp_api::{AppState, bootstrap};
use twp_store::{Store, StoreOptions};

use crate::cli::{
    AdminCommand, Cli, Command, ConfigCommand, CstaCommand, DialplanCommand, DirectoryCommand,
    LicenseCommand,
};
use crate::config::{Config, EXAMPLE};

pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub fn run(cli: Cli) -> Result<(), BoxError> {
    match cli.command {
        Command::Openapi => {
            let doc = twp_api::openapi().to_pretty_json()?;
            println!("{doc}");
            Ok(())
        }
        Command::Csta {
            command: CstaCommand::Decode { file },
        } => {
            let bytes = if file.as_os_str() == "-" {
                let mut v = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut v)?;
                v
            } else {
                std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?
            };
            let report = twp_csta::decode_report(&bytes);
            print!("{report}");
            if report.errors() > 0 {
                return Err(format!(
                    "{} frame(s) or body(ies) could not be decoded",
                    report.errors()
                )
                .into());
            }
            Ok(())
        }
        Command::PbxSim {
            listen,
            extensions,
            no_console,
        } => {
            let cfg = crate::pbx_sim::config(&listen, &extensions, false)?;
            tokio_runtime()?.block_on(crate::pbx_sim::run(cfg, !no_console))
        }
        Command::Dialplan {
            command:
                DialplanCommand::Test {
                    plan,
                    explain,
                    numbers,
                },
        } => {
            let text = match &plan {
                Some(p) => std::fs::read_to_string(p)
                    .map_err(|e| format!("cannot read {}: {e}", p.display()))?,
                None => twp_dialplan::DialPlan::default().to_json(),
            };
            let compiled = twp_dialplan::DialPlan::from_json(&text).map_err(|e| match &plan {
                Some(p) => format!("{}: {e}", p.display()),
                None => e.to_string(),
            })?;
            print!(
                "{}",
                twp_dialplan::render_test_report(&compiled, &numbers, explain)
            );
            Ok(())
        }
        Command::Dialplan {
            command: DialplanCommand::Example,
        } => {
            println!("{}", twp_dialplan::DialPlan::default().to_json());
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::Example,
        } => {
            print!("{EXAMPLE}");
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::Check { config },
        } => {
            let cfg = Config::load(config.as_deref(), std::env::vars())?;
            println!("configuration is valid:\n{cfg:#?}");
            Ok(())
        }
        Command::License {
            command: LicenseCommand::Keygen { out },
        } => crate::license::keygen_to(&out),
        Command::License {
            command: LicenseCommand::Sign { key, body },
        } => crate::license::sign_file(&key, &body),
        Command::License {
            command: LicenseCommand::Inspect { file, key },
        } => {
            if crate::license::inspect_file(&file, &key)? {
                Ok(())
            } else {
                Err("the signature is not valid for the given keys".into())
            }
        }
        Command::Serve {
            config,
            listen,
            data,
        } => {
            let mut cfg = Config::load(config.as_deref(), std::env::vars())?;
            if let Some(l) = listen {
                cfg.server.listen = l;
            }
            if let Some(d) = data {
                cfg.data_dir = d;
            }
            init_logging(&cfg);
            tokio_runtime()?.block_on(serve(cfg, false))
        }
        Command::Demo { listen, data } => {
            let mut cfg = Config::load(
                None,
                std::env::vars().filter(|(k, _)| k.starts_with("TWP_LOG")),
            )?;
            cfg.server.listen = listen;
            cfg.data_dir = data;
            init_logging(&cfg);
            tokio_runtime()?.block_on(serve(cfg, true))
        }
        Command::Directory {
            command:
                DirectoryCommand::Sync {
                    company,
                    domain,
                    directory,
                    config,
                    data,
                },
        } => {
            let mut cfg = Config::load(config.as_deref(), std::env::vars())?;
            if let Some(d) = data {
                cfg.data_dir = d;
            }
            init_logging(&cfg);
            tokio_runtime()?.block_on(async {
                let store = open_store(&cfg).await?;
                let secrets = load_or_create_key(&cfg.key_file())?;
                let state = AppState::new(store.clone(), secrets, cfg.api_settings());
                let done = crate::directory::sync(state, &company, &domain, &directory).await;
                store.close().await;
                done
            })
        }
        Command::Admin {
            command:
                AdminCommand::ResetPassword {
                    name,
                    password,
                    config,
                    data,
                },
        } => {
            let mut cfg = Config::load(config.as_deref(), std::env::vars())?;
            if let Some(d) = data {
                cfg.data_dir = d;
            }
            let generated = password.is_none();
            let password = password.unwrap_or_else(random_password);
            tokio_runtime()?.block_on(async {
                let store = open_store(&cfg).await?;
                bootstrap::reset_password(&store, &name, &password).await?;
                store.close().await;
                Ok::<_, BoxError>(())
            })?;
            if generated {
                println!("Temporary password of '{name}': {password}");
            } else {
                println!("Password of '{name}' reset.");
            }
            println!(
                "'{name}' is unlocked, its sessions are closed, and it must choose a new password at next login."
            );
            Ok(())
        }
    }
}

fn tokio_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

fn init_logging(cfg: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&cfg.log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    if cfg.log.format == "json" {
        b.json().init();
    } else {
        b.init();
    }
}

fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..16)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Reads the secret key, creating it (readable by the owner only) at first start.
fn load_or_create_key(path: &Path) -> Result<SecretBox, BoxError> {
    if path.exists() {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the secret key {}: {e}", path.display()))?;
        return SecretBox::from_base64(&text)
            .map_err(|e| format!("{}: {e}", path.display()).into());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let key = SecretBox::generate_key();
    write_private(path, &key)?;
    tracing::info!(path = %path.display(), "created the secret key: back it up with the database");
    Ok(SecretBox::from_base64(&key)?)
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

async fn open_store(cfg: &Config) -> Result<Store, BoxError> {
    let url = cfg.database_url();
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&cfg.data_dir).map_err(|e| {
            format!(
                "cannot create the data folder {}: {e}",
                cfg.data_dir.display()
            )
        })?;
    }
    Store::open(&StoreOptions {
        url: url.clone(),
        max_connections: cfg.database.max_connections,
    })
    .await
    .map_err(|e| format!("cannot open the database {}: {e}", redact(&url)).into())
}

/// A database URL without its password, for messages and logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

async fn serve(cfg: Config, demo: bool) -> Result<(), BoxError> {
    let store = open_store(&cfg).await?;
    let secrets = load_or_create_key(&cfg.key_file())?;
    let listener = TcpListener::bind(cfg.server.listen).await.map_err(|e| {
        format!(
            "cannot listen on {}: {e} (choose another with --listen)",
            cfg.server.listen
        )
    })?;
    let addr = listener.local_addr()?;
    let logins = if demo {
        crate::demo::seed(&store, &secrets).await?
    } else {
        bootstrap::ensure_boot_admin(&store).await?;
        &[]
    };
    tracing::info!(%addr, database = store.backend().as_str(), "TWP is listening");
    if demo {
        crate::demo::print_banner(addr, &cfg.data_dir, logins);
    }
    let mut trusted = cfg.trusted_keys();
    if demo {
        trusted.push(crate::demo::ensure_license(&store, &cfg.data_dir).await?);
    }
    let mut state =
        AppState::new(store.clone(), secrets, cfg.api_settings()).with_trusted_keys(trusted);
    let pbx = if demo {
        let pbx = crate::demo::DemoPbx::start(&store).await?;
        tracing::info!(address = %pbx.address, "demo PBX simulator started");
        state = state.with_scenario(std::sync::Arc::new(crate::demo::SimScenario(
            pbx.simulator.clone(),
        )));
        Some(pbx)
    } else {
        None
    };
    // every domain with enabled links gets its engine; a domain whose links
    // cannot start is reported and the others run
    state.telephony.start_all(&store).await?;
    for f in state.telephony.failures() {
        tracing::warn!(domain = %f.domain_name, reason = %f.message, "telephony of this domain not started");
    }
    // directories: restored from their derived keys, then the schedules
    match state.directories.load_all(&state).await {
        Ok(s) => tracing::info!(
            domains = s.domains,
            directories = s.directories,
            contacts = s.contacts,
            ms = s.elapsed.as_millis() as u64,
            "directories loaded"
        ),
        Err(e) => tracing::error!(error = %e.body.message, "directories not loaded"),
    }
    if demo {
        crate::demo::directories(&state, &cfg.data_dir).await?;
    }
    twp_api::directories::schedule::spawn(state.clone());
    let hub = state.telephony.clone();
    tokio::spawn(purge_expired_sessions(store.clone()));
    // users imports with a daily or interval schedule (issue 7)
    twp_api::imports::spawn_scheduler(state.clone(), std::time::Duration::from_secs(30));
    twp_api::serve(listener, state, shutdown_signal()).await?;
    hub.shutdown().await;
    if let Some(p) = pbx {
        p.stop().await;
    }
    store.close().await;
    tracing::info!("TWP stopped");
    Ok(())
}

/// Removes expired administrator sessions every ten minutes.
async fn purge_expired_sessions(store: Store) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
    loop {
        tick.tick().await;
        let done = async {
            let mut tx = store.begin().await?;
            let n = twp_store::admins::purge_sessions(&mut tx).await?;
            tx.commit().await?;
            Ok::<_, twp_store::StoreError>(n)
        };
        match done.await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(sessions = n, "expired sessions removed"),
            Err(e) => tracing::warn!(error = %e, "could not remove expired sessions"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_passwords_are_redacted() {
        assert_eq!(
            super::redact("postgres://twp:s3cret@db/twp"),
            "postgres://twp:***@db/twp"
        );
        assert_eq!(
            super::redact("postgres://twp@db/twp"),
            "postgres://twp@db/twp"
        );
        assert_eq!(super::redact("sqlite://x.db"), "sqlite://x.db");
    }
}
