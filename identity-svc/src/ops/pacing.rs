//! ID-3: a password login answers no sooner than a floor, so its time tells
//! neither whether an account holds the identifier nor how many do. A login
//! verifies the password against every holder (argon2, one after another),
//! so without the floor an address held by two accounts answered in twice the
//! time of an unknown one.
//!
//! The floor is `(HOLDERS_COVERED + 1)` verifications, measured as this
//! process runs them (a moving average), so it follows the machine: up to
//! that many holders with a password (two parents and a grandparent on one
//! email) the time is the floor's; the one spare verification covers the
//! lookups, counters and audit rows. A waiting login holds no thread and no
//! argon2 permit, so the floor costs latency, and throughput only when few
//! clients wait on it (BENCHMARKS.md).

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

/// Holders whose verifications fit under the floor.
pub const HOLDERS_COVERED: u32 = 3;

/// What one verification is assumed to take before one is measured.
const FIRST_GUESS: Duration = Duration::from_millis(50);

/// The login floor and the measured cost of one verification.
#[derive(Debug)]
pub struct Pacing {
    /// Moving average of one verification, in nanoseconds.
    one_ns: AtomicU64,
    /// Verifications the floor covers; 0 turns the floor off.
    covers: u32,
}

impl Pacing {
    /// A floor covering `covers` verifications (0: no floor, for A/B measurements).
    pub fn new(covers: u32) -> Pacing {
        Pacing {
            one_ns: AtomicU64::new(FIRST_GUESS.as_nanos() as u64),
            covers,
        }
    }

    /// A floor of `covers` verifications, starting from one measured now.
    pub fn calibrated(covers: u32, one: Duration) -> Pacing {
        let pacing = Pacing::new(covers);
        pacing.one_ns.store(
            u64::try_from(one.as_nanos()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        pacing
    }

    /// Takes one measured verification into the average (weight 1/8).
    pub fn record(&self, one: Duration) {
        let sample = u64::try_from(one.as_nanos()).unwrap_or(u64::MAX);
        let _ = self
            .one_ns
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |avg| {
                Some(avg - avg / 8 + sample / 8)
            });
    }

    /// The floor now: `covers` verifications and one more for the rest of
    /// the work (lookups, counters, audit rows).
    pub fn floor(&self) -> Duration {
        if self.covers == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(self.one_ns.load(Ordering::Relaxed)) * (self.covers + 1)
    }

    /// The moment an attempt starting now may answer.
    pub fn floor_from_now(&self) -> Floor {
        Floor {
            until: tokio::time::Instant::now() + self.floor(),
        }
    }
}

impl Default for Pacing {
    fn default() -> Self {
        Pacing::new(HOLDERS_COVERED)
    }
}

/// When an attempt may answer.
#[derive(Debug)]
pub struct Floor {
    until: tokio::time::Instant,
}

impl Floor {
    /// Waits until the floor has passed.
    pub async fn wait(self) {
        tokio::time::sleep_until(self.until).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_follows_the_measured_verifications() {
        let pacing = Pacing::new(4);
        assert_eq!(pacing.floor(), FIRST_GUESS * 5);
        for _ in 0..200 {
            pacing.record(Duration::from_millis(20));
        }
        let floor = pacing.floor();
        assert!(
            floor > Duration::from_millis(99) && floor < Duration::from_millis(102),
            "{floor:?}"
        );
        assert_eq!(Pacing::new(0).floor(), Duration::ZERO);
    }
}
