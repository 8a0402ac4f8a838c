//! [`Verifier`]: the thread-safe front the server uses, with a cache of successful logins.
//!
//! A test rig logs in thousands of times with the same credentials, and one bcrypt or argon2
//! check costs tens of milliseconds. So each distinct (user, password) pair that verified is
//! remembered, as an HMAC-SHA256 tag under a random key made when the verifier is built; the
//! password itself is never stored. Only positive verdicts are kept: a wrong password always
//! takes the full check, and a right password followed by a wrong one cannot hit the cache
//! because the two tags differ.
//!
//! The credentials and their cache live together in one [`Snapshot`] behind an `Arc`.
//! [`Verifier::replace`] swaps in a fresh snapshot with an empty cache, so a check that started
//! against the old credentials can only write its verdict into the old, discarded cache.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::{Arc, Condvar, Mutex, PoisonError, RwLock};

use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;

use crate::credentials::Credentials;
use crate::secret::Secret;

/// How many successful (user, password) pairs are remembered; the oldest is forgotten first.
pub const CACHE_CAPACITY: usize = 4096;

/// An HMAC-SHA256 tag standing for one (user, password) pair.
type Tag = [u8; 32];

/// Verifies logins from many worker threads at once; see the module documentation.
pub struct Verifier {
    /// `None` when the system's random source failed: the cache is then off.
    key: Option<Secret<[u8; 32]>>,
    current: RwLock<Arc<Snapshot>>,
}

/// One set of credentials and the verdicts cached against it.
struct Snapshot {
    credentials: Arc<Credentials>,
    cache: RwLock<VerdictCache>,
    /// Checks running now, by tag, so identical concurrent logins share one.
    in_flight: Mutex<HashMap<Tag, Arc<Pending>>>,
}

/// A check in progress; others with the same tag wait for its verdict.
#[derive(Default)]
struct Pending {
    verdict: Mutex<Option<bool>>,
    ready: Condvar,
}

impl Pending {
    fn wait(&self) -> bool {
        let mut verdict = self.verdict.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(v) = *verdict {
                return v;
            }
            verdict = self
                .ready
                .wait(verdict)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// Publishes the leader's verdict and retires the in-flight entry, also if the check panicked
/// (then waiters get `false`), so nobody waits forever.
struct Finish<'a> {
    snapshot: &'a Snapshot,
    tag: Tag,
    pending: &'a Pending,
    verdict: bool,
}

impl Drop for Finish<'_> {
    fn drop(&mut self) {
        *self
            .pending
            .verdict
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(self.verdict);
        self.pending.ready.notify_all();
        self.snapshot
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.tag);
    }
}

/// A bounded set of tags, forgotten in insertion order.
#[derive(Default)]
struct VerdictCache {
    tags: HashSet<Tag>,
    order: VecDeque<Tag>,
}

impl Verifier {
    /// Wraps `credentials` and draws a fresh cache key from the operating system.
    pub fn new(credentials: Credentials) -> Self {
        let mut key = [0u8; 32];
        let key = match getrandom::fill(&mut key) {
            Ok(()) => Some(Secret::new(key)),
            Err(error) => {
                log::warn!("no system randomness ({error}): the login cache is disabled");
                None
            }
        };
        Self {
            key,
            current: RwLock::new(Arc::new(Snapshot::new(credentials))),
        }
    }

    /// Checks `password` for `user`, answering from the cache when this exact pair verified
    /// before against the current credentials.
    pub fn verify(&self, user: &str, password: &[u8]) -> bool {
        let snapshot = self.snapshot();
        let Some(tag) = self.tag(user, password) else {
            return snapshot.credentials.verify(user, password);
        };
        if snapshot.cached(&tag) {
            return true;
        }
        // Sessions that start together with the same credentials wait for one check instead
        // of each paying for bcrypt.
        let (pending, leader) = snapshot.join(tag);
        if !leader {
            return pending.wait();
        }
        let mut finish = Finish {
            snapshot: &snapshot,
            tag,
            pending: &pending,
            verdict: false,
        };
        // A leader that finished between our cache check and `join` left its verdict.
        let verified = snapshot.cached(&tag) || snapshot.credentials.verify(user, password);
        if verified {
            snapshot.remember(tag);
        }
        finish.verdict = verified;
        drop(finish);
        verified
    }

    /// Checks a CRAM-MD5 response; see [`Credentials::verify_cram_md5`]. Not cached: it is a
    /// single HMAC-MD5, and every challenge differs.
    pub fn verify_cram_md5(&self, user: &str, challenge: &[u8], response_hex: &str) -> bool {
        self.snapshot()
            .credentials
            .verify_cram_md5(user, challenge, response_hex)
    }

    /// Swaps in reloaded credentials and empties the cache, atomically for every thread.
    pub fn replace(&self, credentials: Credentials) {
        let fresh = Arc::new(Snapshot::new(credentials));
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = fresh;
    }

    /// The current credentials.
    pub fn credentials(&self) -> Arc<Credentials> {
        Arc::clone(&self.snapshot().credentials)
    }

    /// See [`Credentials::has_plain_users`].
    pub fn has_plain_users(&self) -> bool {
        self.snapshot().credentials.has_plain_users()
    }

    /// How many users the current credentials hold.
    pub fn user_count(&self) -> usize {
        self.snapshot().credentials.len()
    }

    /// How many successful logins are cached right now (for metrics and tests).
    pub fn cached_logins(&self) -> usize {
        self.snapshot().read_cache().tags.len()
    }

    fn snapshot(&self) -> Arc<Snapshot> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// HMAC-SHA256 over the user name's length, the user name and the password. The length
    /// prefix keeps ("a", "bc") and ("ab", "c") apart whatever bytes the name contains.
    pub(crate) fn tag(&self, user: &str, password: &[u8]) -> Option<Tag> {
        let key = self.key.as_ref()?;
        let mut mac = Hmac::<Sha256>::new_from_slice(key.expose_secret()).ok()?;
        mac.update(&(user.len() as u64).to_be_bytes());
        mac.update(user.as_bytes());
        mac.update(password);
        Some(mac.finalize().into_bytes().into())
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("credentials", &self.snapshot().credentials)
            .field("cached_logins", &self.cached_logins())
            .field("cache_enabled", &self.key.is_some())
            .finish()
    }
}

impl Snapshot {
    fn new(credentials: Credentials) -> Self {
        Self {
            credentials: Arc::new(credentials),
            cache: RwLock::default(),
            in_flight: Mutex::default(),
        }
    }

    /// The pending check for `tag`, and whether the caller starts it (the leader) or waits.
    fn join(&self, tag: Tag) -> (Arc<Pending>, bool) {
        let mut in_flight = self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match in_flight.get(&tag) {
            Some(pending) => (Arc::clone(pending), false),
            None => {
                let pending = Arc::new(Pending::default());
                in_flight.insert(tag, Arc::clone(&pending));
                (pending, true)
            }
        }
    }

    fn read_cache(&self) -> std::sync::RwLockReadGuard<'_, VerdictCache> {
        self.cache.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn cached(&self, tag: &Tag) -> bool {
        self.read_cache().tags.contains(tag)
    }

    fn remember(&self, tag: Tag) {
        self.cache
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(tag);
    }
}

impl VerdictCache {
    fn insert(&mut self, tag: Tag) {
        if !self.tags.insert(tag) {
            return;
        }
        self.order.push_back(tag);
        if self.order.len() > CACHE_CAPACITY {
            if let Some(oldest) = self.order.pop_front() {
                self.tags.remove(&oldest);
            }
        }
    }
}
