//! Restart back-off of a container, as a kubelet counts it: the first restart right away, then
//! 10 s, doubling to at most 5 minutes; a container that ran for 10 minutes starts over.

use std::time::{Duration, Instant};

/// The first delay after a restart.
pub const INITIAL: Duration = Duration::from_secs(10);
/// The longest delay.
pub const MAX: Duration = Duration::from_secs(300);
/// A run at least this long resets the back-off.
pub const RESET_AFTER: Duration = Duration::from_secs(600);

/// The back-off of one container (or one image pull).
#[derive(Clone, Debug, Default)]
pub struct Backoff {
    /// The delay before the next restart (zero until the first restart happened).
    delay: Duration,
    /// When the next restart may happen.
    due: Option<Instant>,
}

impl Backoff {
    /// Records that the container exited (or a pull failed) at `now` after running for `ran`,
    /// and returns when it may be restarted. The same exit may be recorded again (every sync
    /// sees it): only the first call for an exit moves the back-off; call [`Backoff::restarted`]
    /// when the restart happens.
    pub fn exited(&mut self, now: Instant, ran: Duration) -> Instant {
        if let Some(due) = self.due {
            return due;
        }
        if ran >= RESET_AFTER {
            self.delay = Duration::ZERO;
        }
        let due = now + self.delay;
        self.due = Some(due);
        due
    }

    /// Records that the restart happened: the next one waits longer.
    pub fn restarted(&mut self) {
        self.due = None;
        self.delay = if self.delay.is_zero() {
            INITIAL
        } else {
            (self.delay * 2).min(MAX)
        };
    }

    /// Whether a restart is held back at `now` (the pod shows CrashLoopBackOff meanwhile).
    pub fn waiting(&self, now: Instant) -> bool {
        self.due.is_some_and(|d| d > now)
    }

    /// When the pending restart is due, if one is pending.
    pub fn due(&self) -> Option<Instant> {
        self.due
    }

    /// The delay the pending restart waits in all (for the BackOff message).
    pub fn delay(&self) -> Duration {
        self.delay
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_restart_at_once_then_doubling_to_five_minutes() {
        let mut b = Backoff::default();
        let t = Instant::now();
        assert_eq!(b.exited(t, Duration::from_secs(1)), t);
        assert!(!b.waiting(t));
        b.restarted();
        let mut expected = Vec::new();
        let mut seen = Vec::new();
        for want in [10, 20, 40, 80, 160, 300, 300] {
            let due = b.exited(t, Duration::from_secs(1));
            // Seeing the same exit again does not move it.
            assert_eq!(b.exited(t, Duration::from_secs(1)), due);
            assert!(b.waiting(t));
            assert!(!b.waiting(due));
            seen.push((due - t).as_secs());
            expected.push(want);
            b.restarted();
        }
        assert_eq!(seen, expected);
    }

    #[test]
    fn a_long_run_resets_the_back_off() {
        let mut b = Backoff::default();
        let t = Instant::now();
        b.exited(t, Duration::ZERO);
        b.restarted();
        b.exited(t, Duration::ZERO);
        b.restarted();
        assert_eq!(b.delay(), Duration::from_secs(20));
        assert_eq!(b.exited(t, RESET_AFTER), t);
    }
}
