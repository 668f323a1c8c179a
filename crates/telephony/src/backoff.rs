//! Reconnection delays: exponential, bounded, with jitter so links of many
//! servers do not reconnect in step.

use std::time::Duration;

/// Delay before reconnection attempt `n` (0-based):
/// `min(max, initial * 2^n)`, then reduced by a random part of up to
/// `jitter` (0.0–1.0) of itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
    pub jitter: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(30),
            jitter: 0.3,
        }
    }
}

impl Backoff {
    /// The delay for `attempt`, with `random` uniform in `[0, 1)`.
    pub fn delay(&self, attempt: u32, random: f64) -> Duration {
        let base = self
            .initial
            .checked_mul(1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX))
            .unwrap_or(self.max)
            .min(self.max);
        let jitter = self.jitter.clamp(0.0, 1.0) * random.clamp(0.0, 1.0);
        base.mul_f64(1.0 - jitter)
    }
}

/// A small xorshift generator for jitter (no dependency, not for secrets).
#[derive(Debug, Clone)]
pub struct Jitter(u64);

impl Jitter {
    pub fn new(seed: u64) -> Jitter {
        Jitter(seed | 1)
    }

    pub fn seeded_from_clock(salt: u64) -> Jitter {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Jitter::new(nanos ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    /// Uniform in `[0, 1)`.
    pub fn next_unit(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn doubles_up_to_the_bound() {
        let b = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
            jitter: 0.0,
        };
        let v: Vec<u128> = (0..6).map(|n| b.delay(n, 0.5).as_millis()).collect();
        assert_eq!(v, vec![100, 200, 400, 800, 1000, 1000]);
    }

    proptest! {
        #[test]
        fn bounded(attempt in 0u32..200, r in 0.0f64..1.0, j in 0.0f64..1.0) {
            let b = Backoff { initial: Duration::from_millis(50), max: Duration::from_secs(10), jitter: j };
            let d = b.delay(attempt, r);
            prop_assert!(d <= b.max);
            let base = b.delay(attempt, 0.0);
            prop_assert!(d.as_secs_f64() >= base.as_secs_f64() * (1.0 - j) - 1e-9);
        }

        #[test]
        fn jitter_in_unit_interval(seed in any::<u64>()) {
            let mut j = Jitter::new(seed);
            for _ in 0..20 {
                let x = j.next_unit();
                prop_assert!((0.0..1.0).contains(&x));
            }
        }
    }
}
