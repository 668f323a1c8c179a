//! Scheduled synchronisations (guide 8.2.1): `daily` at the
//! `timeSynchronizationDirectories` parameter (HH:MM, UTC; the domain's
//! value, else the administrator's default, else the catalogue's 02:00) and
//! `every` N minutes. A task looks every [`TICK`] at each directory's last
//! run (its report) and starts what is due; a run already in flight is
//! left alone, so a directory never has two.

use std::time::Duration;

use twp_access::params::Level;
use twp_store::directories::{self, StoredDirectory};
use twp_store::{now_ms, parameters};

use crate::AppState;

/// How often schedules are checked.
pub const TICK: Duration = Duration::from_secs(20);

const DAY_MS: i64 = 86_400_000;

/// Minutes after midnight of `HH:MM`.
pub fn parse_time(text: &str) -> Option<i64> {
    let (h, m) = text.trim().split_once(':')?;
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    ((0..24).contains(&h) && (0..60).contains(&m)).then_some(h * 60 + m)
}

/// Whether a directory is due at `now` (epoch ms), given the start of its
/// last run and, for `daily`, the time of day in minutes.
pub fn due(
    mode: &str,
    every_minutes: Option<i64>,
    daily_at: i64,
    last: Option<i64>,
    now: i64,
) -> bool {
    match mode {
        "every" => {
            let period = every_minutes.unwrap_or(60).max(1) * 60_000;
            last.is_none_or(|l| now - l >= period)
        }
        "daily" => {
            let today = now - now.rem_euclid(DAY_MS) + daily_at * 60_000;
            // the most recent planned time not in the future
            let planned = if today <= now { today } else { today - DAY_MS };
            last.is_none_or(|l| l < planned)
        }
        _ => false,
    }
}

async fn daily_time(st: &AppState, d: &StoredDirectory) -> i64 {
    const KEY: &str = "timeSynchronizationDirectories";
    let default = parse_time("02:00").unwrap_or(120);
    let Ok(mut c) = st.store.read().await else {
        return default;
    };
    for (company, level) in [
        (Some(d.company_id), Level::Domain(d.domain_id)),
        (None, Level::Default),
    ] {
        if let Ok(values) = parameters::list_level(&mut c, company, level).await
            && let Some(v) = values.iter().find(|v| v.key == KEY)
            && let Some(t) = parse_time(&v.value)
        {
            return t;
        }
    }
    default
}

/// Starts every due synchronisation once.
pub async fn tick(st: &AppState) {
    let all = match st.store.read().await {
        Ok(mut c) => directories::list_all(&mut c).await,
        Err(e) => Err(e),
    };
    let all = match all {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "directory schedules not read");
            return;
        }
    };
    for d in all {
        let mode = d.data.sync_mode.as_str();
        if mode == "manual"
            || d.data.kind == "draft"
            || d.data.server_type == "private"
            || st.directories.is_running(d.id)
        {
            continue;
        }
        let last = match st.store.read().await {
            Ok(mut c) => directories::report(&mut c, d.company_id, d.domain_id, d.id)
                .await
                .ok()
                .flatten()
                .map(|r| r.started_at),
            Err(_) => continue,
        };
        let at = if mode == "daily" {
            daily_time(st, &d).await
        } else {
            0
        };
        if due(mode, d.data.sync_every_minutes, at, last, now_ms()) {
            let trigger = if mode == "daily" { "daily" } else { "every" };
            if let Err(e) = super::run::start(st, d.company_id, d.domain_id, d.id, trigger).await {
                tracing::warn!(directory = d.id, error = %e.body.message, "scheduled synchronisation not started");
            }
        }
    }
}

/// Runs the schedules until the server stops.
pub fn spawn(st: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(TICK);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            tick(&st).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    #[test]
    fn times_of_day() {
        assert_eq!(parse_time("02:00"), Some(120));
        assert_eq!(parse_time("23:59"), Some(1439));
        assert_eq!(parse_time("24:00"), None);
        assert_eq!(parse_time("2h"), None);
    }

    #[test]
    fn every_n_minutes() {
        let now = 100 * H;
        assert!(due("every", Some(30), 0, None, now));
        assert!(!due("every", Some(30), 0, Some(now - 29 * 60_000), now));
        assert!(due("every", Some(30), 0, Some(now - 30 * 60_000), now));
        assert!(!due("manual", Some(30), 0, None, now));
    }

    #[test]
    fn daily_at_a_time() {
        let midnight = 1000 * 24 * H;
        let at = 120; // 02:00
        // 01:00: yesterday's 02:00 run is the latest planned
        assert!(!due(
            "daily",
            None,
            at,
            Some(midnight - 22 * H),
            midnight + H
        ));
        // 02:00 reached, last run yesterday: due
        assert!(due(
            "daily",
            None,
            at,
            Some(midnight - 22 * H),
            midnight + 2 * H
        ));
        // already ran today after 02:00
        assert!(!due(
            "daily",
            None,
            at,
            Some(midnight + 2 * H + 1),
            midnight + 5 * H
        ));
        assert!(due("daily", None, at, None, midnight + H));
    }
}
