//! The one retry schedule: capped exponential backoff with jitter, used by the poll
//! loop and the delivery worker alike, plus the jitter-free ceilings (exponential or
//! linear) a platform may document for reconnecting a live stream.

use std::time::Duration;

use rand::Rng;

/// Longest `Retry-After` that is honoured.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(6 * 3600);

/// Capped exponential backoff: attempt `n` waits a random time in
/// `[d/2, d]` where `d = min(initial · 2ⁿ⁻¹, max)` ("equal jitter"), so retries from
/// many sources spread out while the wait still grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Wait after the first failure (before jitter).
    pub initial: Duration,
    /// Upper bound of any wait.
    pub max: Duration,
}

impl Backoff {
    /// The wait before retrying after `failures` consecutive failures (`failures ≥ 1`).
    pub fn delay(&self, failures: u32) -> Duration {
        let ceiling = self.ceiling(failures);
        let half = ceiling / 2;
        half + rand::thread_rng().gen_range(Duration::ZERO..=ceiling - half)
    }

    /// The exponential wait without jitter: `min(initial · 2ⁿ⁻¹, max)` after `n`
    /// failures (at least 1 ms). X documents its stream reconnects this way (HTTP
    /// errors from 5 s to 320 s, a 429 from 60 s).
    pub fn ceiling(&self, failures: u32) -> Duration {
        let exponent = failures.saturating_sub(1).min(30);
        self.initial
            .saturating_mul(1u32 << exponent)
            .min(self.max)
            .max(Duration::from_millis(1))
    }

    /// The linear wait without jitter: `min(initial · n, max)` after `n` failures. X
    /// documents its stream reconnects after network errors this way (250 ms steps up
    /// to 16 s).
    pub fn linear(&self, failures: u32) -> Duration {
        self.initial.saturating_mul(failures.max(1)).min(self.max)
    }

    /// The wait after `failures` failures, but never shorter than a server's
    /// `Retry-After` (itself capped at [`MAX_RETRY_AFTER`], so a hostile server cannot
    /// park us for years).
    pub fn delay_honouring(&self, failures: u32, retry_after: Option<Duration>) -> Duration {
        let delay = self.delay(failures);
        retry_after.map_or(delay, |asked| asked.min(MAX_RETRY_AFTER).max(delay))
    }
}

/// `base` spread by up to `± fraction · base`, so sources with the same interval
/// do not poll in lock-step.
pub fn jittered(base: Duration, fraction: f64) -> Duration {
    if fraction <= 0.0 || base.is_zero() {
        return base;
    }
    let spread = base.as_secs_f64() * fraction.min(1.0);
    let offset = rand::thread_rng().gen_range(-spread..=spread);
    Duration::from_secs_f64((base.as_secs_f64() + offset).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BACKOFF: Backoff = Backoff {
        initial: Duration::from_secs(1),
        max: Duration::from_secs(60),
    };

    #[test]
    fn grows_exponentially_within_jitter_bounds_and_caps() {
        for (failures, ceiling) in [(1, 1), (2, 2), (3, 4), (6, 32), (7, 60), (40, 60)] {
            for _ in 0..50 {
                let delay = BACKOFF.delay(failures);
                let ceiling = Duration::from_secs(ceiling);
                assert!(
                    delay <= ceiling && delay >= ceiling / 2,
                    "{failures}: {delay:?}"
                );
            }
        }
    }

    #[test]
    fn ceiling_doubles_and_linear_steps_without_jitter() {
        let http = Backoff {
            initial: Duration::from_secs(5),
            max: Duration::from_secs(320),
        };
        let secs = |n| http.ceiling(n).as_secs();
        assert_eq!([1, 2, 3, 7, 8, 30].map(secs), [5, 10, 20, 320, 320, 320]);
        let network = Backoff {
            initial: Duration::from_millis(250),
            max: Duration::from_secs(16),
        };
        let millis = |n| network.linear(n).as_millis();
        assert_eq!(
            [1, 2, 4, 64, 65, 1000].map(millis),
            [250, 500, 1000, 16000, 16000, 16000]
        );
    }

    #[test]
    fn retry_after_is_a_floor() {
        let asked = Some(Duration::from_secs(120));
        assert_eq!(BACKOFF.delay_honouring(1, asked), Duration::from_secs(120));
        assert!(BACKOFF.delay_honouring(1, None) <= Duration::from_secs(1));
    }

    #[test]
    fn jitter_stays_within_fraction() {
        for _ in 0..100 {
            let wait = jittered(Duration::from_secs(100), 0.1);
            assert!(wait >= Duration::from_secs(90) && wait <= Duration::from_secs(110));
        }
        assert_eq!(
            jittered(Duration::from_secs(5), 0.0),
            Duration::from_secs(5)
        );
    }
}
