//! Per-client throttling of failed logins, in memory. Per-administrator
//! lock-out lives in the store (it must survive restarts); this one stops a
//! client from trying many names.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct LoginLimiter {
    max: u32,
    window: Duration,
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl LoginLimiter {
    pub fn new(max: u32, window: Duration) -> Self {
        Self {
            max,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds to wait before this client may try again, if it is blocked.
    pub fn blocked_for(&self, ip: IpAddr) -> Option<u64> {
        let map = self.failures.lock().ok()?;
        let (count, since) = map.get(&ip)?;
        let left = self.window.checked_sub(since.elapsed())?;
        (*count >= self.max).then(|| left.as_secs().max(1))
    }

    pub fn failed(&self, ip: IpAddr) {
        if let Ok(mut map) = self.failures.lock() {
            if map.len() > 100_000 {
                let window = self.window;
                map.retain(|_, (_, since)| since.elapsed() < window);
            }
            let e = map.entry(ip).or_insert((0, Instant::now()));
            if e.1.elapsed() >= self.window {
                *e = (0, Instant::now());
            }
            e.0 += 1;
        }
    }

    pub fn succeeded(&self, ip: IpAddr) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(&ip);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_and_forgets_on_success() {
        let l = LoginLimiter::new(3, Duration::from_secs(60));
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..2 {
            l.failed(ip);
        }
        assert!(l.blocked_for(ip).is_none());
        l.failed(ip);
        assert!(l.blocked_for(ip).is_some());
        l.succeeded(ip);
        assert!(l.blocked_for(ip).is_none());
    }
}
