//! `twp pbx-sim`: the PBX simulator as a standalone CSTA server, with a
//! scenario console on standard input that makes the outside world act.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use twp_pbx_sim::{DeviceConfig, LoadConfig, SimConfig, Simulator};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub const CONSOLE_HELP: &str = "\
Scenario console — one command a line:
  call FROM TO          an outside number FROM calls extension TO
  dial FROM TO          extension FROM dials TO (internal or outside)
  answer DEV            DEV answers its ringing call
  hangup DEV            DEV hangs up
  dnd DEV on|off        do-not-disturb
  mwi DEV on|off        message waiting lamp
  device DEV            state of one device
  calls                 calls in progress
  links                 CSTA links and their monitors
  drop                  drop every CSTA link (link loss)
  refuse on|off         refuse new links
  load RATE SECS        generate RATE calls per second for SECS seconds
  help, quit";

/// Parses `FIRST-LAST@SITE.CLUSTER` (e.g. `1000-1019@1.1`).
pub fn parse_range(s: &str) -> Result<(u64, u64, String), String> {
    let (range, site) = s.split_once('@').unwrap_or((s, "1.1"));
    let (a, b) = range.split_once('-').unwrap_or((range, range));
    let first: u64 = a.trim().parse().map_err(|_| {
        format!(
            "'{s}': '{a}' is not a number (expected FIRST-LAST@SITE.CLUSTER, e.g. 1000-1019@1.1)"
        )
    })?;
    let last: u64 = b
        .trim()
        .parse()
        .map_err(|_| format!("'{s}': '{b}' is not a number"))?;
    if last < first || last - first >= 1_000_000 {
        return Err(format!(
            "'{s}': the range must go upwards and hold at most 1,000,000 extensions"
        ));
    }
    Ok((first, last - first + 1, site.to_owned()))
}

pub fn config(listen: &[SocketAddr], ranges: &[String], demo: bool) -> Result<SimConfig, BoxError> {
    let mut cfg = if demo || ranges.is_empty() {
        SimConfig::demo()
    } else {
        SimConfig::default()
    };
    if !listen.is_empty() {
        cfg.listen = listen.to_vec();
    }
    for r in ranges {
        let (first, count, site) = parse_range(r)?;
        cfg = cfg.with_extensions(first, count, &site);
    }
    if !ranges.is_empty() && !cfg.devices.iter().any(|d| d.number == "1999") {
        cfg = cfg.with_device(DeviceConfig::voicemail_server("1999"));
    }
    Ok(cfg)
}

pub async fn run(cfg: SimConfig, console: bool) -> Result<(), BoxError> {
    let devices = cfg.devices.len();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let running = twp_pbx_sim::run(cfg, async move {
        let _ = stop_rx.await;
    })
    .await?;
    for a in &running.addrs {
        println!("PBX simulator: CSTA XML link listening on {a}");
    }
    println!(
        "{devices} devices. {}",
        if console {
            "Type 'help' for the scenario console."
        } else {
            "Stop with Ctrl+C."
        }
    );
    let sim = running.simulator.clone();
    if console {
        let mut lines = BufReader::new(tokio::io::stdin()).lines();
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => break,
                line = lines.next_line() => match line? {
                    None => { let _ = tokio::signal::ctrl_c().await; break; }
                    Some(l) => if !execute(&sim, l.trim()).await { break },
                },
            }
        }
    } else {
        let _ = tokio::signal::ctrl_c().await;
    }
    let _ = stop_tx.send(());
    let _ = running.task.await;
    Ok(())
}

/// Runs one console command; returns false on `quit`.
pub async fn execute(sim: &Simulator, line: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().collect();
    let on = |w: Option<&&str>| matches!(w.copied(), Some("on" | "yes" | "1" | "true"));
    let out: Result<String, String> = match words.as_slice() {
        [] => return true,
        ["quit" | "exit"] => return false,
        ["help"] => Ok(CONSOLE_HELP.into()),
        ["call", from, to] => sim
            .external_call(from, to)
            .map(|c| format!("call {c}: {from} → {to} ringing"))
            .map_err(|e| e.to_string()),
        ["dial", from, to] => sim
            .dial(from, to)
            .map(|c| format!("call {c}: {from} dials {to}"))
            .map_err(|e| e.to_string()),
        ["answer", d] => sim
            .answer(d)
            .map(|c| format!("{d} answered call {c}"))
            .map_err(|e| e.to_string()),
        ["hangup", d] => sim
            .hang_up(d)
            .map(|c| format!("{d} hung up call {c}"))
            .map_err(|e| e.to_string()),
        ["dnd", d, v] => sim
            .set_do_not_disturb(d, on(Some(v)))
            .map(|()| format!("{d}: do-not-disturb {v}"))
            .map_err(|e| e.to_string()),
        ["mwi", d, v] => sim
            .set_message_waiting(d, on(Some(v)))
            .map(|()| format!("{d}: message waiting {v}"))
            .map_err(|e| e.to_string()),
        ["device", d] => sim
            .device(d)
            .map(|s| format!("{s:#?}"))
            .ok_or_else(|| format!("no device {d}")),
        ["calls"] => Ok(sim
            .calls()
            .iter()
            .map(|c| format!("{} {} → {} {:?}", c.id, c.calling, c.called, c.parties))
            .collect::<Vec<_>>()
            .join("\n"))
        .map(|s| if s.is_empty() { "no calls".into() } else { s }),
        ["links"] => Ok(sim
            .links()
            .iter()
            .map(|l| {
                format!(
                    "link {} on listener {} from {}: {} monitors",
                    l.id, l.listener, l.peer, l.monitors
                )
            })
            .collect::<Vec<_>>()
            .join("\n"))
        .map(|s| if s.is_empty() { "no links".into() } else { s }),
        ["drop"] => Ok(format!("dropped {} link(s)", sim.drop_links(None))),
        ["refuse", v] => {
            sim.refuse_links(on(Some(v)));
            Ok(format!("refusing new links: {v}"))
        }
        ["load", rate, secs] => match (rate.parse::<u32>(), secs.parse::<u64>()) {
            (Ok(r), Ok(s)) => {
                println!("generating {r} calls/s for {s} s…");
                let rep = sim
                    .run_load(LoadConfig {
                        calls_per_second: r,
                        duration: Duration::from_secs(s),
                        ..LoadConfig::default()
                    })
                    .await;
                Ok(format!("{rep:?}"))
            }
            _ => Err("usage: load RATE SECS".into()),
        },
        _ => Err(format!("unknown command '{line}' (type 'help')")),
    };
    match out {
        Ok(s) => println!("{s}"),
        Err(e) => println!("error: {e}"),
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(
            parse_range("1000-1019@1.1").unwrap(),
            (1000, 20, "1.1".into())
        );
        assert_eq!(parse_range("300").unwrap(), (300, 1, "1.1".into()));
        assert!(parse_range("10-1").is_err());
        assert!(parse_range("a-b@1.1").unwrap_err().contains("FIRST-LAST"));
    }
}
