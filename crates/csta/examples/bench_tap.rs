//! What the PDU tap costs a link: events per second through one
//! [`Link`] (read, cut, decode, trace, deliver) over an in-memory stream,
//! with no tap, a tap with nothing attached (the engine's state when no
//! trace runs), and a tap with a sink that counts every PDU.
//!
//! ```text
//! cargo run --release -p twp-csta --example bench_tap -- [--events 200000] [--rounds 5]
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use twp_csta::frame::frame_to_bytes;
use twp_csta::{
    CallEventInfo, ConnectionId, DeviceId, Event, EventKind, InvokeId, Link, LinkConfig, Message,
    Pdu, PduSink, Tap, to_frame,
};

#[derive(Default)]
struct Counter(AtomicU64);

impl PduSink for Counter {
    fn pdu(&self, _pdu: &Pdu<'_>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

fn fail(what: &str) -> ! {
    eprintln!("bench_tap: {what}");
    std::process::exit(1);
}

/// `events` Delivered events, framed back to back.
fn stream(events: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..events {
        let ev = Event {
            cross_ref_id: format!("{}", i % 1000),
            kind: EventKind::Delivered {
                connection: ConnectionId::new(format!("C{i}"), "1000"),
                alerting_device: Some(DeviceId::new("1000")),
                calling_device: Some(DeviceId::new("0612345678")),
                called_device: Some(DeviceId::new("1000")),
                last_redirection_device: None,
                info: CallEventInfo::default(),
            },
        };
        let frame = to_frame(InvokeId::EVENT, &Message::Event(ev));
        let bytes = frame_to_bytes(&frame).unwrap_or_else(|e| fail(&e.to_string()));
        out.extend_from_slice(&bytes);
    }
    out
}

/// Time for the link to deliver every event of `input`.
async fn run(input: Arc<Vec<u8>>, events: usize, tap: Option<Tap>) -> Duration {
    let (client, mut server) = tokio::io::duplex(1 << 20);
    let config = LinkConfig {
        heartbeat_interval: None,
        event_capacity: 65_536,
        tap,
        ..LinkConfig::default()
    };
    let started = Instant::now();
    let (_link, mut rx) = Link::from_stream(client, config);
    let writer = tokio::spawn(async move {
        let _ = server.write_all(&input).await;
        server
    });
    for _ in 0..events {
        if rx.recv().await.is_none() {
            fail("link closed early");
        }
    }
    let elapsed = started.elapsed();
    drop(writer.await);
    elapsed
}

fn main() {
    let mut events = 200_000usize;
    let mut rounds = 5usize;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let n = it
            .next()
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or_else(|| fail(&format!("{flag} needs a number")));
        match flag.as_str() {
            "--events" => events = n.max(1),
            "--rounds" => rounds = n.max(1),
            _ => fail(&format!("unknown option {flag}")),
        }
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(&e.to_string()));
    let input = Arc::new(stream(events));
    let detached = Tap::new();
    let attached = Tap::new();
    let counter = Arc::new(Counter::default());
    attached.attach(counter.clone());
    let modes: [(&str, Option<Tap>); 3] = [
        ("no tap", None),
        ("tap, nothing attached", Some(detached)),
        ("tap, counting sink", Some(attached)),
    ];
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); modes.len()];
    runtime.block_on(async {
        for _ in 0..rounds {
            for (m, (_, tap)) in modes.iter().enumerate() {
                times[m].push(run(input.clone(), events, tap.clone()).await);
            }
        }
    });
    let command: Vec<String> = std::env::args().collect();
    println!("command: {}", command.join(" "));
    println!(
        "cores: {cores}; profile: {}",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!(
        "{events} DeliveredEvent frames ({} bytes) through one link, {rounds} rounds, median:",
        input.len()
    );
    let mut base = None;
    for (m, (name, _)) in modes.iter().enumerate() {
        times[m].sort();
        let t = times[m][times[m].len() / 2];
        let b = *base.get_or_insert(t);
        println!(
            "{name:>22}: {:.3} s, {:.0} events/s, {:.0} ns/event, {:+.1} % vs no tap",
            t.as_secs_f64(),
            events as f64 / t.as_secs_f64(),
            t.as_nanos() as f64 / events as f64,
            (t.as_secs_f64() / b.as_secs_f64() - 1.0) * 100.0
        );
    }
    println!(
        "PDUs seen by the counting sink: {}",
        counter.0.load(Ordering::Relaxed)
    );
}
