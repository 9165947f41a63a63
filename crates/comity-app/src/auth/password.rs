//! Passwords: the policy (NIST SP 800-63B: length over composition, common passwords
//! refused) and the Argon2id hasher, which runs on the blocking pool behind a small
//! semaphore so that a flood of log-ins cannot stall the async executor.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use tokio::sync::Semaphore;

use crate::AppError;

/// The shortest password accepted (as the API's schema says).
pub const MIN_PASSWORD_CHARS: usize = comity_wire::schema::MIN_PASSWORD_CHARS;
/// The longest password accepted (as the API's schema says).
pub const MAX_PASSWORD_CHARS: usize = comity_wire::schema::MAX_PASSWORD_CHARS;

/// Passwords of 12 characters or more found among the most used ones (see
/// `data/README.md` for the source and licence), lower case, one per line.
const COMMON_PASSWORDS: &str = include_str!("data/common-passwords.txt");

/// Checks a new password for `username` against the policy; `field` names the input in
/// the error. No composition rules: any characters, spaces included.
pub fn check_policy(password: &str, username: &str, field: &str) -> Result<(), AppError> {
    let length = password.chars().count();
    if length < MIN_PASSWORD_CHARS {
        return Err(AppError::invalid(
            field,
            format!("must have at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if length > MAX_PASSWORD_CHARS {
        return Err(AppError::invalid(
            field,
            format!("must have at most {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    if password.trim().is_empty() {
        return Err(AppError::invalid(field, "must not be only spaces"));
    }
    comity_domain::text::check_secret(password)
        .map_err(|error| AppError::invalid(field, error.to_string()))?;
    let lowered = password.to_lowercase();
    if is_common(&lowered) {
        return Err(AppError::invalid(
            field,
            "is one of the most common passwords; choose another",
        ));
    }
    let name = username.trim().to_lowercase();
    if name.chars().count() >= 3 && lowered.contains(&name) {
        return Err(AppError::invalid(field, "must not contain the user name"));
    }
    Ok(())
}

fn is_common(lowered: &str) -> bool {
    COMMON_PASSWORDS.lines().any(|line| line == lowered)
}

/// Runs Argon2id off the async executor: at most `permits` hashes at a time on the
/// blocking pool, and at most `max_waiting` callers in all, hashing or waiting (more are
/// told to come back, rather than piling up).
#[derive(Debug)]
pub struct Hasher {
    permits: Semaphore,
    waiting: AtomicUsize,
    max_waiting: usize,
}

/// Argon2 work the [`Hasher`] runs.
enum Job {
    Hash(String),
    Verify {
        hash: Option<String>,
        password: String,
    },
}

impl Hasher {
    /// A hasher for this machine: half its cores (at least one, at most four) hash at
    /// once, and up to 256 callers are admitted.
    pub fn for_this_machine() -> Hasher {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Hasher::new((cores / 2).clamp(1, 4), 256)
    }

    /// A hasher running `permits` hashes at once, admitting `max_waiting` callers.
    pub fn new(permits: usize, max_waiting: usize) -> Hasher {
        Hasher {
            permits: Semaphore::new(permits),
            waiting: AtomicUsize::new(0),
            max_waiting,
        }
    }

    /// The Argon2id PHC string of `password`, with a random salt.
    pub async fn hash(&self, password: &str) -> Result<String, AppError> {
        match self.run(Job::Hash(password.to_string())).await? {
            Outcome::Hashed(hash) => Ok(hash),
            Outcome::Verified(_) => Err(AppError::invalid("password", "could not be hashed")),
        }
    }

    /// Whether `password` matches `hash`. With no hash (an unknown user) the password is
    /// checked against a fixed dummy hash, so both paths cost the same.
    pub async fn verify(&self, hash: Option<&str>, password: &str) -> Result<bool, AppError> {
        let job = Job::Verify {
            hash: hash.map(str::to_string),
            password: password.to_string(),
        };
        match self.run(job).await? {
            Outcome::Verified(matches) => Ok(matches),
            Outcome::Hashed(_) => Ok(false),
        }
    }

    async fn run(&self, job: Job) -> Result<Outcome, AppError> {
        let queued = self.waiting.fetch_add(1, Ordering::SeqCst);
        let _waiting = WaitingGuard(&self.waiting);
        if queued >= self.max_waiting {
            return Err(AppError::Throttled {
                retry_after_secs: 1,
                message: "the node is busy checking passwords; try again in a moment".into(),
            });
        }
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| AppError::Unauthenticated("the node is shutting down".into()))?;
        tokio::task::spawn_blocking(move || job.run())
            .await
            .map_err(|_| AppError::Unauthenticated("the password check was interrupted".into()))?
    }
}

enum Outcome {
    Hashed(String),
    Verified(bool),
}

struct WaitingGuard<'a>(&'a AtomicUsize);

impl Drop for WaitingGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Job {
    fn run(self) -> Result<Outcome, AppError> {
        match self {
            Job::Hash(password) => hash_now(&password).map(Outcome::Hashed),
            Job::Verify { hash, password } => {
                let dummy;
                let hash = match &hash {
                    Some(hash) => hash.as_str(),
                    None => {
                        dummy = dummy_hash()?;
                        dummy
                    }
                };
                let matches = PasswordHash::new(hash).is_ok_and(|parsed| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                });
                // The dummy hash never matches: it hides a password no one knows.
                Ok(Outcome::Verified(matches && hash != dummy_hash()?))
            }
        }
    }
}

fn hash_now(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| AppError::invalid("password", error.to_string()))
}

/// A hash of a random password, made once, for the unknown-user path.
fn dummy_hash() -> Result<&'static str, AppError> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(hash) = DUMMY.get() {
        return Ok(hash);
    }
    let mut secret = [0u8; 24];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
    let made = hash_now(&format!("{secret:?}"))?;
    Ok(DUMMY.get_or_init(|| made))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(password: &str, username: &str) -> Option<String> {
        match check_policy(password, username, "password") {
            Ok(()) => None,
            Err(AppError::Invalid { field, message }) => Some(format!("{field}: {message}")),
            Err(other) => Some(format!("unexpected {other}")),
        }
    }

    #[test]
    fn the_policy_follows_nist_800_63b() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            (
                "short pass",
                "ana",
                Some("password: must have at least 12 characters"),
            ),
            (
                "            ",
                "ana",
                Some("password: must not be only spaces"),
            ),
            (
                "\t \u{3000}         ",
                "ana",
                Some("password: must not be only spaces"),
            ),
            (
                "1234567890QWERTY",
                "ana",
                Some("password: is one of the most common passwords; choose another"),
            ),
            (
                "123456789000",
                "ana",
                Some("password: is one of the most common passwords; choose another"),
            ),
            (
                "my name is Karim.B!",
                "karim.b",
                Some("password: must not contain the user name"),
            ),
            // Length over composition: lower-case words and spaces are fine.
            ("correct horse battery staple", "ana", None),
            ("ñandú en la pampa", "ana", None),
        ];
        for (password, username, expected) in cases {
            assert_eq!(
                refusal(password, username).as_deref(),
                *expected,
                "{password:?}"
            );
        }
        let long = "x".repeat(MAX_PASSWORD_CHARS + 1);
        assert_eq!(
            refusal(&long, "ana").as_deref(),
            Some("password: must have at most 128 characters")
        );
        assert_eq!(refusal(&"x y ".repeat(32), "ana"), None);
    }

    /// On a single-threaded runtime, another task makes progress while a password is
    /// hashed: the hash runs on the blocking pool, not on the executor.
    #[tokio::test(flavor = "current_thread")]
    async fn hashing_leaves_the_executor_free() {
        let ticks = std::sync::Arc::new(AtomicUsize::new(0));
        let ticker = tokio::spawn({
            let ticks = ticks.clone();
            async move {
                loop {
                    ticks.fetch_add(1, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                }
            }
        });
        let hasher = Hasher::new(1, 4);
        let hash = hasher.hash("a long enough password").await.expect("hash");
        let during_hash = ticks.load(Ordering::SeqCst);
        assert!(hasher.verify(None, "unknown user").await.is_ok());
        let during_dummy = ticks.load(Ordering::SeqCst) - during_hash;
        ticker.abort();
        assert!(!hash.is_empty());
        assert!(during_hash > 0, "the executor was blocked while hashing");
        assert!(
            during_dummy > 0,
            "the executor was blocked on the unknown-user path"
        );
    }

    #[tokio::test]
    async fn a_full_queue_is_told_to_come_back() {
        let hasher = std::sync::Arc::new(Hasher::new(1, 1));
        let first = tokio::spawn({
            let hasher = hasher.clone();
            async move { hasher.hash("a long enough password").await }
        });
        // Wait until the first call holds the only queue place.
        while hasher.waiting.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        let refused = hasher.verify(None, "another password").await;
        assert!(
            matches!(refused, Err(AppError::Throttled { .. })),
            "{refused:?}"
        );
        assert!(first.await.expect("task").is_ok());
    }

    #[tokio::test]
    async fn hashes_verify_and_the_unknown_user_path_never_matches() {
        let hasher = Hasher::new(1, 4);
        let hash = hasher.hash("a long enough password").await.expect("hash");
        assert!(
            hasher
                .verify(Some(&hash), "a long enough password")
                .await
                .expect("verify")
        );
        assert!(
            !hasher
                .verify(Some(&hash), "another password!")
                .await
                .expect("verify")
        );
        assert!(
            !hasher
                .verify(None, "a long enough password")
                .await
                .expect("verify")
        );
        assert!(
            !hasher
                .verify(Some("not a phc string"), "x")
                .await
                .expect("verify")
        );
    }
}
