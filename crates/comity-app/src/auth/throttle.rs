//! Log-in throttling: per account name and per client address, growing delays after a
//! few free attempts, up to a temporary lockout. Kept in memory, bounded: a flood of
//! made-up names or addresses evicts the stalest entries instead of growing the map.

use std::collections::HashMap;
use std::sync::Mutex;

use comity_domain::Timestamp;

/// How one throttle counts.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    /// Failures allowed before any delay.
    pub free_attempts: u32,
    /// The first delay, in milliseconds; it doubles with each further failure.
    pub first_delay_ms: i64,
    /// The longest delay: the temporary lockout, in milliseconds.
    pub lockout_ms: i64,
    /// A key with no failure for this long is forgotten, in milliseconds.
    pub forget_after_ms: i64,
    /// At most this many keys are remembered.
    pub capacity: usize,
}

impl ThrottlePolicy {
    /// Per account: 5 free attempts, then 1 s, 2 s, 4 s... up to a 15-minute lockout.
    pub const ACCOUNT: ThrottlePolicy = ThrottlePolicy {
        free_attempts: 5,
        first_delay_ms: 1_000,
        lockout_ms: 15 * 60 * 1_000,
        forget_after_ms: 60 * 60 * 1_000,
        capacity: 10_000,
    };

    /// Per client address: 20 free attempts (several people may share an address), then
    /// the same growth as per account.
    pub const ADDRESS: ThrottlePolicy = ThrottlePolicy {
        free_attempts: 20,
        ..ThrottlePolicy::ACCOUNT
    };

    /// The delay after `failures` failures in a row.
    pub fn delay_after(&self, failures: u32) -> i64 {
        if failures <= self.free_attempts {
            return 0;
        }
        let doublings = (failures - self.free_attempts - 1).min(30);
        self.first_delay_ms
            .saturating_mul(1_i64 << doublings)
            .min(self.lockout_ms)
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last_failure: Timestamp,
    blocked_until: Timestamp,
}

/// One throttle (accounts, or addresses).
#[derive(Debug)]
pub struct Throttle {
    policy: ThrottlePolicy,
    entries: Mutex<HashMap<String, Entry>>,
}

/// Refused by a throttle: try again after this many milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub i64);

impl Throttle {
    /// An empty throttle.
    pub fn new(policy: ThrottlePolicy) -> Throttle {
        Throttle {
            policy,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `key` may try now.
    pub fn check(&self, key: &str, now: Timestamp) -> Result<(), RetryAfter> {
        let entries = self.lock();
        match entries.get(key) {
            Some(entry) if entry.blocked_until.millis() > now.millis() => {
                Err(RetryAfter(entry.blocked_until.millis() - now.millis()))
            }
            _ => Ok(()),
        }
    }

    /// Counts an attempt as failed. It is counted before the password is checked, so
    /// that many attempts at once cannot all pass the check; [`Throttle::forgive`] takes
    /// it back when the password was right.
    pub fn record_failure(&self, key: &str, now: Timestamp) {
        let mut entries = self.lock();
        if !entries.contains_key(key) && entries.len() >= self.policy.capacity {
            self.make_room(&mut entries, now);
        }
        let entry = entries.entry(key.to_string()).or_insert(Entry {
            failures: 0,
            last_failure: now,
            blocked_until: now,
        });
        if now.millis() - entry.last_failure.millis() > self.policy.forget_after_ms {
            entry.failures = 0;
        }
        entry.failures = entry.failures.saturating_add(1);
        entry.last_failure = now;
        entry.blocked_until = Timestamp(now.millis() + self.policy.delay_after(entry.failures));
    }

    /// Takes back one counted attempt (the password was right).
    pub fn forgive(&self, key: &str) {
        let mut entries = self.lock();
        if let Some(entry) = entries.get_mut(key) {
            entry.failures = entry.failures.saturating_sub(1);
            if entry.failures <= self.policy.free_attempts {
                entry.blocked_until = entry.last_failure;
            }
        }
    }

    /// Forgets `key` (a successful log-in to the account).
    pub fn clear(&self, key: &str) {
        self.lock().remove(key);
    }

    /// How many keys are remembered.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no key is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn make_room(&self, entries: &mut HashMap<String, Entry>, now: Timestamp) {
        let forget_after = self.policy.forget_after_ms;
        entries.retain(|_, entry| {
            entry.blocked_until.millis() > now.millis()
                || now.millis() - entry.last_failure.millis() <= forget_after
        });
        if entries.len() < self.policy.capacity {
            return;
        }
        // Still full: drop the stalest tenth, so this scan runs rarely.
        let mut by_age: Vec<(i64, String)> = entries
            .iter()
            .map(|(key, entry)| (entry.last_failure.millis(), key.clone()))
            .collect();
        by_age.sort_unstable();
        let excess = entries.len() + 1 - self.policy.capacity;
        let drop_count = excess.max(self.policy.capacity / 10).min(by_age.len());
        for (_, key) in by_age.into_iter().take(drop_count) {
            entries.remove(&key);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding the lock leaves counts that are still usable.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: ThrottlePolicy = ThrottlePolicy {
        free_attempts: 3,
        first_delay_ms: 1_000,
        lockout_ms: 8_000,
        forget_after_ms: 60_000,
        capacity: 10,
    };

    #[test]
    fn delays_grow_after_the_free_attempts_up_to_the_lockout() {
        let delays: Vec<i64> = (1..=9).map(|n| POLICY.delay_after(n)).collect();
        assert_eq!(delays, [0, 0, 0, 1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
        assert_eq!(POLICY.delay_after(u32::MAX), 8_000);
    }

    #[test]
    fn a_key_is_refused_until_its_delay_has_passed_and_others_are_not() {
        let throttle = Throttle::new(POLICY);
        let t0 = Timestamp(1_000_000);
        for _ in 0..4 {
            assert_eq!(throttle.check("mallory", t0), Ok(()));
            throttle.record_failure("mallory", t0);
        }
        assert_eq!(throttle.check("mallory", t0), Err(RetryAfter(1_000)));
        assert_eq!(throttle.check("alice", t0), Ok(()));
        assert_eq!(
            throttle.check("mallory", Timestamp(t0.millis() + 1_000)),
            Ok(())
        );
        throttle.clear("mallory");
        assert_eq!(throttle.check("mallory", t0), Ok(()));
    }

    #[test]
    fn a_right_password_takes_back_its_counted_attempt() {
        let throttle = Throttle::new(POLICY);
        let t0 = Timestamp(5_000);
        for _ in 0..4 {
            throttle.record_failure("10.0.0.1", t0);
        }
        assert!(throttle.check("10.0.0.1", t0).is_err());
        throttle.forgive("10.0.0.1");
        assert_eq!(throttle.check("10.0.0.1", t0), Ok(()));
    }

    #[test]
    fn memory_is_bounded_by_evicting_the_stalest_keys() {
        let throttle = Throttle::new(POLICY);
        for n in 0..1_000 {
            throttle.record_failure(&format!("made-up-{n}"), Timestamp(n));
        }
        assert!(throttle.len() <= POLICY.capacity, "{}", throttle.len());
        // The newest key is still remembered.
        throttle.record_failure("made-up-999", Timestamp(1_000));
        throttle.record_failure("made-up-999", Timestamp(1_000));
        throttle.record_failure("made-up-999", Timestamp(1_000));
        assert!(throttle.check("made-up-999", Timestamp(1_000)).is_err());
    }
}
