//! Where "now" comes from: the system clock, or one a test sets.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> SystemTime;

    /// The current time in whole seconds since the Unix epoch, rounded down
    /// (Python's `timegm`, which simplejwt uses for `iat` and `exp`).
    fn unix_seconds(&self) -> i64 {
        unix_seconds(self.now())
    }
}

/// Whole seconds since the Unix epoch, rounded down; negative before 1970.
pub fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => {
            let before = before.duration();
            let whole = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
            if before.subsec_nanos() > 0 {
                -whole - 1
            } else {
                -whole
            }
        }
    }
}

/// The operating system's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that stands still until it is moved: for tests, and for
/// verifying recorded tokens "as of" their issue time.
///
/// Clones share the same time, so a test keeps one and hands the other to
/// the [`TokenService`](crate::TokenService).
#[derive(Clone, Debug)]
pub struct ManualClock {
    micros: Arc<AtomicI64>,
}

impl ManualClock {
    /// A clock showing `unix_seconds` seconds after the epoch.
    pub fn at(unix_seconds: i64) -> Self {
        ManualClock {
            micros: Arc::new(AtomicI64::new(unix_seconds.saturating_mul(1_000_000))),
        }
    }

    /// Sets the time to `unix_seconds` seconds after the epoch.
    pub fn set(&self, unix_seconds: i64) {
        self.micros
            .store(unix_seconds.saturating_mul(1_000_000), Ordering::SeqCst);
    }

    /// Sets the time with microsecond precision.
    pub fn set_micros(&self, unix_micros: i64) {
        self.micros.store(unix_micros, Ordering::SeqCst);
    }

    /// Moves the time forward.
    pub fn advance(&self, by: Duration) {
        let micros = i64::try_from(by.as_micros()).unwrap_or(i64::MAX);
        self.micros.fetch_add(micros, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        let micros = self.micros.load(Ordering::SeqCst);
        let offset = Duration::from_micros(micros.unsigned_abs());
        if micros >= 0 {
            UNIX_EPOCH + offset
        } else {
            UNIX_EPOCH - offset
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told_and_clones_share_it() {
        let clock = ManualClock::at(1_700_000_000);
        let shared = clock.clone();
        assert_eq!(shared.unix_seconds(), 1_700_000_000);
        clock.advance(Duration::from_millis(1_500));
        assert_eq!(shared.unix_seconds(), 1_700_000_001);
        clock.set_micros(1_700_000_009_999_999);
        assert_eq!(shared.unix_seconds(), 1_700_000_009);
    }

    #[test]
    fn seconds_round_down_before_the_epoch_too() {
        assert_eq!(unix_seconds(UNIX_EPOCH - Duration::from_millis(500)), -1);
        assert_eq!(unix_seconds(UNIX_EPOCH - Duration::from_secs(2)), -2);
    }
}
