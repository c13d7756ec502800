//! Users kept in memory by id, so that an authenticated request needs no
//! query — only where every change of a user is sure to reach the cache
//! before the next request that could see it.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jwt_core::UserId;

/// Shards of the map: requests for different users seldom share a lock.
const SHARDS: usize = 16;

/// The users [`UserStore::find_by_id`](crate::UserStore::find_by_id) found,
/// kept by id for authenticated requests (protected routes, `refresh/`);
/// logins always ask the store.
///
/// A cache serves nothing until something promises to tell it of every
/// change of a user (deactivation, new password or cut-off, rights):
///
/// - with the `registry` feature, the [`JwtAuth`](crate::JwtAuth) builder
///   connects it to the registry (`revocation = "cached"`), and the app's
///   writers call `jwt_registry::announce_user_changes` in the transaction
///   that changes a user: every process forgets that user at its next
///   request on SQLite, within the notification delay on PostgreSQL;
/// - an app whose users change only in this process calls
///   [`forget`](Self::forget) after each change and
///   [`changes_told_by_app`](Self::changes_told_by_app) once.
///
/// Entries are also forgotten after `max_age` (a safety net, not the
/// mechanism), and the cache never holds more than `capacity` users.
///
/// ```
/// use std::time::Duration;
/// use jwt_actix::UserCache;
/// use jwt_core::UserId;
///
/// let cache: UserCache<String> = UserCache::new(10_000, Duration::from_secs(60));
/// assert!(!cache.is_serving(), "nothing promised to tell it of changes yet");
/// cache.forget(&UserId::Int(7));
/// ```
pub struct UserCache<U> {
    inner: Arc<Inner<U>>,
}

impl<U> Clone for UserCache<U> {
    fn clone(&self) -> Self {
        UserCache {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<U> std::fmt::Debug for UserCache<U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserCache")
            .field("serving", &self.inner.serving.load(Ordering::SeqCst))
            .field("capacity", &(self.inner.per_shard * SHARDS))
            .field("max_age", &self.inner.max_age)
            .finish_non_exhaustive()
    }
}

struct Inner<U> {
    shards: Vec<RwLock<HashMap<UserId, Entry<U>>>>,
    per_shard: usize,
    max_age: Duration,
    serving: AtomicBool,
    /// Bumped by every forget: a user read before a forget is not kept.
    generation: AtomicU64,
}

struct Entry<U> {
    user: U,
    at: Instant,
}

/// What [`UserCache::start_lookup`] saw, to keep the looked-up user only
/// if nothing was forgotten meanwhile.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Lookup(u64);

impl<U: Clone> UserCache<U> {
    /// An empty cache of at most `capacity` users, each kept at most
    /// `max_age`; it serves nothing until told how it learns of changes.
    pub fn new(capacity: usize, max_age: Duration) -> Self {
        UserCache {
            inner: Arc::new(Inner {
                shards: (0..SHARDS).map(|_| RwLock::new(HashMap::new())).collect(),
                per_shard: capacity.div_ceil(SHARDS),
                max_age,
                serving: AtomicBool::new(false),
                generation: AtomicU64::new(0),
            }),
        }
    }

    /// The app promises to call [`forget`](Self::forget) after every
    /// change of a user, before any request that could see the change:
    /// the cache serves from now on. Only for apps whose users change in
    /// this process alone.
    pub fn changes_told_by_app(&self) {
        self.inner.serving.store(true, Ordering::SeqCst);
    }

    /// Whether the cache serves (something tells it of changes).
    pub fn is_serving(&self) -> bool {
        self.inner.serving.load(Ordering::SeqCst)
    }

    /// Forgets one user.
    pub fn forget(&self, id: &UserId) {
        self.inner.generation.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut shard) = self.shard(id).write() {
            shard.remove(id);
        }
    }

    /// Forgets everyone.
    pub fn forget_all(&self) {
        self.inner.generation.fetch_add(1, Ordering::SeqCst);
        for shard in &self.inner.shards {
            if let Ok(mut shard) = shard.write() {
                shard.clear();
            }
        }
    }

    /// Forgets a user named by its id as the registry stores it (decimal
    /// text for integer ids): both readings of `"42"` are forgotten.
    pub fn forget_stored(&self, id: &str) {
        if let Ok(n) = id.parse::<i64>() {
            self.forget(&UserId::Int(n));
        }
        self.forget(&UserId::Str(id.to_owned()));
    }

    /// The user, if it is kept and young enough (and the cache serves).
    pub(crate) fn get(&self, id: &UserId) -> Option<U> {
        if !self.is_serving() {
            return None;
        }
        let shard = self.shard(id).read().ok()?;
        let entry = shard.get(id)?;
        (entry.at.elapsed() < self.inner.max_age).then(|| entry.user.clone())
    }

    /// Call before asking the store, and give the answer to
    /// [`keep`](Self::keep).
    pub(crate) fn start_lookup(&self) -> Lookup {
        Lookup(self.inner.generation.load(Ordering::SeqCst))
    }

    /// Keeps `user`, looked up since `lookup`, unless a user was forgotten
    /// in between (its change may have been read before it committed).
    pub(crate) fn keep(&self, id: &UserId, user: &U, lookup: Lookup) {
        if !self.is_serving() {
            return;
        }
        let Ok(mut shard) = self.shard(id).write() else {
            return;
        };
        if self.inner.generation.load(Ordering::SeqCst) != lookup.0 {
            return;
        }
        if shard.len() >= self.inner.per_shard && !shard.contains_key(id) {
            // Full: the oldest entries go first, a quarter of the shard at
            // once, so a burst of new users does not sort on every insert.
            let mut ages: Vec<Instant> = shard.values().map(|entry| entry.at).collect();
            let cut = ages.len() / 4;
            ages.select_nth_unstable(cut);
            let oldest = ages[cut];
            shard.retain(|_, entry| entry.at > oldest);
        }
        shard.insert(
            id.clone(),
            Entry {
                user: user.clone(),
                at: Instant::now(),
            },
        );
    }

    /// Starts serving: something now tells the cache of every change.
    #[cfg(any(feature = "registry", test))]
    pub(crate) fn serve(&self) {
        self.inner.serving.store(true, Ordering::SeqCst);
    }

    /// How many users are kept.
    pub fn len(&self) -> usize {
        self.inner
            .shards
            .iter()
            .map(|shard| shard.read().map_or(0, |shard| shard.len()))
            .sum()
    }

    /// Whether no user is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn shard(&self, id: &UserId) -> &RwLock<HashMap<UserId, Entry<U>>> {
        let mut hasher = DefaultHasher::new();
        id.hash(&mut hasher);
        let index = usize::try_from(hasher.finish() % SHARDS as u64).unwrap_or(0);
        &self.inner.shards[index]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache() -> UserCache<String> {
        let cache = UserCache::new(64, Duration::from_secs(60));
        cache.changes_told_by_app();
        cache
    }

    #[test]
    fn serves_nothing_until_told_how_it_learns_of_changes() {
        let cache = UserCache::new(64, Duration::from_secs(60));
        let id = UserId::Int(1);
        cache.keep(&id, &"alice".to_owned(), cache.start_lookup());
        assert_eq!(cache.get(&id), None);
        cache.serve();
        cache.keep(&id, &"alice".to_owned(), cache.start_lookup());
        assert_eq!(cache.get(&id).as_deref(), Some("alice"));
    }

    #[test]
    fn a_user_read_before_a_forget_is_not_kept() {
        let cache = cache();
        let id = UserId::Int(1);
        let lookup = cache.start_lookup();
        // The user changes (and is forgotten) while the store is asked.
        cache.forget(&UserId::Int(2));
        cache.keep(&id, &"stale".to_owned(), lookup);
        assert_eq!(cache.get(&id), None);
        cache.keep(&id, &"fresh".to_owned(), cache.start_lookup());
        assert_eq!(cache.get(&id).as_deref(), Some("fresh"));
    }

    #[test]
    fn stored_ids_forget_both_readings() {
        let cache = cache();
        for id in [UserId::Int(42), UserId::Str("42".into())] {
            cache.keep(&id, &"x".to_owned(), cache.start_lookup());
        }
        cache.keep(
            &UserId::Str("bob".into()),
            &"bob".to_owned(),
            cache.start_lookup(),
        );
        cache.forget_stored("42");
        assert_eq!(cache.len(), 1);
        cache.forget_stored("bob");
        assert!(cache.is_empty());
    }

    #[test]
    fn old_entries_are_not_served_and_capacity_holds() {
        let cache = UserCache::new(32, Duration::from_millis(30));
        cache.serve();
        for n in 0..1_000 {
            cache.keep(&UserId::Int(n), &n.to_string(), cache.start_lookup());
        }
        assert!(cache.len() <= 32 + SHARDS, "{} kept", cache.len());
        assert_eq!(cache.get(&UserId::Int(999)).as_deref(), Some("999"));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(cache.get(&UserId::Int(999)), None, "past max_age");
    }
}
