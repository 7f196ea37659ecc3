//! Per-provider rate limits (MS-4): each provider (SMTP relay, Twilio) holds
//! one [`RateLimiter`] that every worker of the process shares, so its
//! messages leave at most `HOMEROOM_<PROVIDER>_MAX_PER_SECOND` a second from
//! each replica.

use std::num::NonZeroU32;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// Spaces requests evenly, one every `1 / per_second` seconds, however many
/// tasks share it; waits in tokio time (so paused-clock tests see it).
#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    next_slot: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// At most `per_second` requests per second.
    pub fn per_second(per_second: NonZeroU32) -> RateLimiter {
        RateLimiter {
            interval: Duration::from_secs(1) / per_second.get(),
            next_slot: Mutex::new(None),
        }
    }

    /// Waits for this caller's slot.
    pub async fn acquire(&self) {
        let slot = {
            let mut next = self
                .next_slot
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let now = Instant::now();
            let slot = next.map_or(now, |n| n.max(now));
            *next = Some(slot + self.interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn requests_are_spaced_evenly_across_tasks_and_never_burst() {
        let limiter = Arc::new(RateLimiter::per_second(NonZeroU32::new(10).unwrap()));
        let start = Instant::now();

        let tasks: Vec<_> = (0..30)
            .map(|_| {
                let limiter = limiter.clone();
                tokio::spawn(async move {
                    limiter.acquire().await;
                    Instant::now()
                })
            })
            .collect();
        let mut times = Vec::new();
        for task in tasks {
            times.push(task.await.unwrap() - start);
        }
        times.sort();

        assert_eq!(times[0], Duration::ZERO);
        assert_eq!(times[29], Duration::from_millis(2900));
        assert!(
            times
                .windows(11)
                .all(|w| w[10] - w[0] >= Duration::from_secs(1))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_limiter_saves_up_no_burst() {
        let limiter = RateLimiter::per_second(NonZeroU32::new(4).unwrap());
        limiter.acquire().await;
        tokio::time::sleep(Duration::from_secs(10)).await;
        let start = Instant::now();
        for _ in 0..3 {
            limiter.acquire().await;
        }
        assert_eq!(start.elapsed(), Duration::from_millis(500));
    }
}
