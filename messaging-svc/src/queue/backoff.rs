//! Retry timing for transient failures: exponential backoff with jitter.

use std::time::Duration;

use rand::Rng;

/// How transient failures are retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Tries in all before a delivery is failed.
    pub max_attempts: i32,
    /// Wait after the first failure.
    pub base: Duration,
    /// Longest wait.
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            base: Duration::from_secs(30),
            max: Duration::from_secs(3600),
        }
    }
}

impl RetryPolicy {
    /// The wait after the `attempt`-th failed try (1-based): base × 2^(attempt−1),
    /// capped, with ±20% jitter so retries of one outage spread out; never less
    /// than what the provider asked for.
    pub fn delay(&self, attempt: i32, asked: Option<Duration>) -> Duration {
        let exponent = u32::try_from(attempt.saturating_sub(1))
            .unwrap_or(0)
            .min(20);
        let raw = self.base.saturating_mul(1u32 << exponent).min(self.max);
        let jitter = rand::thread_rng().gen_range(0.8..=1.2);
        raw.mul_f64(jitter).max(asked.unwrap_or_default())
    }

    /// Whether a delivery that failed its `attempt`-th try gets another.
    pub fn retries(&self, attempt: i32) -> bool {
        attempt < self.max_attempts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_within_jitter_up_to_the_cap_and_respect_retry_after() {
        let p = RetryPolicy::default();
        for (attempt, expected) in [(1, 30.0), (2, 60.0), (3, 120.0), (20, 3600.0)] {
            let d = p.delay(attempt, None).as_secs_f64();
            assert!(
                d >= expected * 0.8 && d <= expected * 1.2,
                "attempt {attempt}: {d}"
            );
        }
        assert!(p.delay(1, Some(Duration::from_secs(90))) >= Duration::from_secs(90));
        assert!(p.retries(7) && !p.retries(8));
    }
}
