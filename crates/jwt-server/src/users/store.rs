//! The demo users as jwt-actix's `UserStore`.

use std::future::Future;
use std::time::Duration;

use jwt_actix::{BackendError, UserCache, UserStore, blocking};
use jwt_core::UserId;

use super::{DemoUser, Passwords, Users};

/// The demo app's users for jwt-actix: queries run on the blocking pool,
/// and users found by id are cached (the registry tells the cache of every
/// change the command line makes).
#[derive(Clone)]
pub struct DemoUserStore {
    users: Users,
    passwords: Passwords,
    cache: UserCache<DemoUser>,
}

/// Users kept in memory: a few MB at most.
const CACHED_USERS: usize = 10_000;

/// A cached user is read again after this long even if nothing said it
/// changed.
const CACHED_FOR: Duration = Duration::from_secs(60);

impl DemoUserStore {
    pub fn new(users: Users, passwords: Passwords) -> Self {
        DemoUserStore {
            users,
            passwords,
            cache: UserCache::new(CACHED_USERS, CACHED_FOR),
        }
    }
}

impl UserStore for DemoUserStore {
    type User = DemoUser;

    fn user_id(&self, user: &DemoUser) -> UserId {
        UserId::Int(user.id)
    }

    fn is_active(&self, user: &DemoUser) -> bool {
        user.is_active
    }

    fn find_by_username(
        &self,
        username: &str,
    ) -> impl Future<Output = Result<Option<DemoUser>, BackendError>> {
        let users = self.users.clone();
        let username = username.to_owned();
        blocking(move || users.find_by_username(&username))
    }

    fn find_by_id(
        &self,
        id: &UserId,
    ) -> impl Future<Output = Result<Option<DemoUser>, BackendError>> {
        let users = self.users.clone();
        let id = id.clone();
        async move {
            match id {
                UserId::Int(id) => blocking(move || users.find_by_id(id)).await,
                UserId::Str(_) => Ok(None),
            }
        }
    }

    fn check_password(&self, user: Option<&DemoUser>, password: &str) -> bool {
        self.passwords
            .verify(password, user.map(|user| user.password_hash.as_str()))
    }

    fn update_last_login(&self, user: &DemoUser) -> impl Future<Output = Result<(), BackendError>> {
        let users = self.users.clone();
        let id = user.id;
        blocking(move || users.touch_last_login(id))
    }

    fn is_admin(&self, user: &DemoUser) -> bool {
        user.is_admin
    }

    fn user_cache(&self) -> Option<&UserCache<DemoUser>> {
        Some(&self.cache)
    }

    fn tokens_valid_since(&self, user: &DemoUser) -> Option<i64> {
        user.tokens_valid_since.map(|at| at.and_utc().timestamp())
    }
}

#[cfg(test)]
mod tests {
    use jwt_actix::{AuthSettings, Failure, JwtAuth};
    use jwt_core::{TokenService, TokenSettings};
    use jwt_registry::db::{Database, DatabaseUrl, run_migrations};

    use crate::users::{Role, Status};

    use super::*;

    #[actix_web::test]
    async fn each_failed_login_costs_exactly_one_argon2_verification() {
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::parse(dir.path().join("users.sqlite3").to_str().unwrap()).unwrap();
        let db = Database::connect(&url).unwrap();
        run_migrations(&db, &[crate::users::MIGRATIONS]).unwrap();
        let passwords = Passwords::new().unwrap();
        let users = Users::new(db);
        users
            .create(
                "alice",
                &Passwords::hash("wonderland-42").unwrap(),
                Status::Active,
                Role::User,
            )
            .unwrap();
        users
            .create(
                "bob",
                &Passwords::hash("builder-7").unwrap(),
                Status::Inactive,
                Role::User,
            )
            .unwrap();
        let tokens = TokenService::new(&TokenSettings {
            signing_key: "k".repeat(32).into(),
            ..TokenSettings::default()
        })
        .unwrap();
        let jwt = JwtAuth::builder(
            tokens,
            AuthSettings::default(),
            DemoUserStore::new(users, passwords.clone()),
        )
        .build()
        .unwrap();
        for (username, password) in [
            ("alice", "wrong"),
            ("nobody", "wonderland-42"),
            ("bob", "builder-7"),
        ] {
            let before = passwords.verifications();
            let refused = jwt.authenticate(username, password).await.unwrap_err();
            assert_eq!(refused.failure(), Failure::NoActiveAccount, "{username}");
            assert_eq!(
                passwords.verifications() - before,
                1,
                "{username}: one verification"
            );
        }
        let before = passwords.verifications();
        let alice = jwt.authenticate("alice", "wonderland-42").await.unwrap();
        assert_eq!((alice.id, passwords.verifications() - before), (1, 1));
    }
}
