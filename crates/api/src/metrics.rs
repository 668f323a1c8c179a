//! Prometheus text-format metrics of the HTTP layer, without a metrics
//! framework: counters and a latency histogram per route.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;

const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Default)]
struct RouteStats {
    count_by_status: BTreeMap<u16, u64>,
    buckets: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// Methods with a slot of their own; any other method counts as the last.
const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "OTHER",
];

const OTHER: usize = METHODS.len() - 1;

fn method_slot(m: &axum::http::Method) -> usize {
    METHODS[..OTHER]
        .iter()
        .position(|x| *x == m.as_str())
        .unwrap_or(OTHER)
}

/// Per route template, per method. Keyed by the template alone so that a
/// request finds its entry without allocating (one allocation when a route
/// is first seen).
#[derive(Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<String, [Option<RouteStats>; METHODS.len()]>>,
}

impl Metrics {
    fn observe(&self, method: usize, route: &str, status: u16, secs: f64) {
        let Ok(mut map) = self.routes.lock() else {
            return;
        };
        let slots = match map.get_mut(route) {
            Some(slots) => slots,
            None => map.entry(route.to_owned()).or_default(),
        };
        let s = slots[method].get_or_insert_with(RouteStats::default);
        *s.count_by_status.entry(status).or_default() += 1;
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                s.buckets[i] += 1;
            }
        }
        s.sum += secs;
        s.count += 1;
    }

    /// Every (method, route, stats), routes in order.
    fn each(
        map: &BTreeMap<String, [Option<RouteStats>; METHODS.len()]>,
    ) -> impl Iterator<Item = (&'static str, &str, &RouteStats)> {
        let mut all: Vec<_> = map
            .iter()
            .flat_map(|(r, slots)| {
                slots
                    .iter()
                    .enumerate()
                    .filter_map(move |(m, s)| Some((METHODS[m], r.as_str(), s.as_ref()?)))
            })
            .collect();
        // method first, as before: `DELETE …` lines, then `GET …`
        all.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        all.into_iter()
    }

    /// Renders the HTTP metrics in the Prometheus text format.
    pub fn render(&self, out: &mut String) {
        let Ok(map) = self.routes.lock() else { return };
        out.push_str("# HELP twp_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE twp_http_requests_total counter\n");
        for (m, r, s) in Self::each(&map) {
            for (status, n) in &s.count_by_status {
                let _ = writeln!(
                    out,
                    "twp_http_requests_total{{method=\"{m}\",route=\"{r}\",status=\"{status}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP twp_http_request_duration_seconds HTTP request latency by route.\n");
        out.push_str("# TYPE twp_http_request_duration_seconds histogram\n");
        for (m, r, s) in Self::each(&map) {
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "twp_http_request_duration_seconds_bucket{{method=\"{m}\",route=\"{r}\",le=\"{b}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "twp_http_request_duration_seconds_bucket{{method=\"{m}\",route=\"{r}\",le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "twp_http_request_duration_seconds_sum{{method=\"{m}\",route=\"{r}\"}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "twp_http_request_duration_seconds_count{{method=\"{m}\",route=\"{r}\"}} {}",
                s.count
            );
        }
    }
}

/// Middleware: times every request under its route template (never the
/// raw path, so ids do not explode the label set).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // MatchedPath is a shared string: cloning it does not allocate
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = method_slot(req.method());
    let t = Instant::now();
    let resp = next.run(req).await;
    state.metrics.observe(
        method,
        route.as_ref().map_or("unmatched", MatchedPath::as_str),
        resp.status().as_u16(),
        t.elapsed().as_secs_f64(),
    );
    resp
}
