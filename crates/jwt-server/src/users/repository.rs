//! Queries on the `demo_user` table.

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as QueryError};
use jwt_registry::db::{Database, DbConnection, DbError};

use super::demo_user;

/// A user of the demo app. `Debug` leaves the password hash out.
#[derive(Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = demo_user)]
pub struct DemoUser {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub is_active: bool,
    pub last_login: Option<NaiveDateTime>,
    pub tokens_valid_since: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub is_admin: bool,
}

impl std::fmt::Debug for DemoUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoUser")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("is_active", &self.is_active)
            .field("is_admin", &self.is_admin)
            .finish_non_exhaustive()
    }
}

#[derive(Insertable)]
#[diesel(table_name = demo_user)]
struct NewUser<'a> {
    username: &'a str,
    password_hash: &'a str,
    is_active: bool,
    is_admin: bool,
    created_at: NaiveDateTime,
}

/// Why a user could not be created.
#[derive(Debug, thiserror::Error)]
pub enum NewUserError {
    #[error("a user named {0:?} already exists")]
    Exists(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// The `demo_user` table. Every method blocks: call it off the executor.
#[derive(Clone, Debug)]
pub struct Users {
    db: Database,
}

/// Whether a user may log in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Active,
    Inactive,
}

/// Whether a user may use the admin API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    User,
    Admin,
}

impl Users {
    pub fn new(db: Database) -> Self {
        Users { db }
    }

    pub fn create(
        &self,
        username: &str,
        password_hash: &str,
        status: Status,
        role: Role,
    ) -> Result<i64, NewUserError> {
        let mut conn = self.db.get()?;
        let inserted = diesel::insert_into(demo_user::table)
            .values(NewUser {
                username,
                password_hash,
                is_active: status == Status::Active,
                is_admin: role == Role::Admin,
                created_at: Utc::now().naive_utc(),
            })
            .returning(demo_user::id)
            .get_result(&mut conn);
        match inserted {
            Ok(id) => Ok(id),
            Err(QueryError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                Err(NewUserError::Exists(username.to_owned()))
            }
            Err(err) => Err(NewUserError::Db(err.into())),
        }
    }

    pub fn find_by_username(&self, username: &str) -> Result<Option<DemoUser>, DbError> {
        let mut conn = self.db.get()?;
        Ok(demo_user::table
            .filter(demo_user::username.eq(username))
            .select(DemoUser::as_select())
            .first(&mut conn)
            .optional()?)
    }

    pub fn find_by_id(&self, id: i64) -> Result<Option<DemoUser>, DbError> {
        let mut conn = self.db.get()?;
        Ok(demo_user::table
            .find(id)
            .select(DemoUser::as_select())
            .first(&mut conn)
            .optional()?)
    }

    /// Disables a user; `false` when there is no such user.
    pub fn deactivate(&self, username: &str) -> Result<bool, DbError> {
        self.change(username, |conn| {
            diesel::update(demo_user::table.filter(demo_user::username.eq(username)))
                .set(demo_user::is_active.eq(false))
                .execute(conn)
        })
    }

    /// Opens the admin API to a user, or closes it; `false` when there is
    /// no such user.
    pub fn set_role(&self, username: &str, role: Role) -> Result<bool, DbError> {
        let admin = role == Role::Admin;
        self.change(username, |conn| {
            diesel::update(demo_user::table.filter(demo_user::username.eq(username)))
                .set(demo_user::is_admin.eq(admin))
                .execute(conn)
        })
    }

    /// Changes a user's password and moves their tokens-valid-since cut-off
    /// to now: every token issued until this second is refused from then
    /// on. `false` when there is no such user.
    pub fn set_password(&self, username: &str, password_hash: &str) -> Result<bool, DbError> {
        self.change(username, |conn| {
            diesel::update(demo_user::table.filter(demo_user::username.eq(username)))
                .set((
                    demo_user::password_hash.eq(password_hash),
                    demo_user::tokens_valid_since.eq(Some(Utc::now().naive_utc())),
                ))
                .execute(conn)
        })
    }

    /// Runs `update` on the user named `username` and, in the same
    /// transaction, tells every running server that the user changed (their
    /// user caches forget it). `false` when there is no such user.
    fn change(
        &self,
        username: &str,
        update: impl FnOnce(&mut DbConnection) -> Result<usize, QueryError>,
    ) -> Result<bool, DbError> {
        self.db.write(|conn| {
            let id: Option<i64> = demo_user::table
                .filter(demo_user::username.eq(username))
                .select(demo_user::id)
                .first(conn)
                .optional()?;
            let Some(id) = id else {
                return Ok(false);
            };
            update(conn)?;
            jwt_registry::announce_user_changes(conn, &[&id.to_string()])?;
            Ok(true)
        })
    }

    pub fn touch_last_login(&self, id: i64) -> Result<(), DbError> {
        let mut conn = self.db.get()?;
        diesel::update(demo_user::table.find(id))
            .set(demo_user::last_login.eq(Utc::now().naive_utc()))
            .execute(&mut conn)?;
        Ok(())
    }
}
