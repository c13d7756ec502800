//! The demo app's users: a small table, argon2 hashes.

mod repository;
mod store;

pub use jwt_actix::passwords::Passwords;
pub use repository::{DemoUser, NewUserError, Role, Status, Users};
pub use store::DemoUserStore;

// The migrations of the demo app's tables.
jwt_registry::embedded_migrations!(pub MIGRATIONS, SQLITE_MIGRATIONS, POSTGRES_MIGRATIONS, "server");

diesel::table! {
    demo_user (id) {
        id -> BigInt,
        username -> Text,
        password_hash -> Text,
        is_active -> Bool,
        last_login -> Nullable<Timestamp>,
        tokens_valid_since -> Nullable<Timestamp>,
        created_at -> Timestamp,
        is_admin -> Bool,
    }
}
