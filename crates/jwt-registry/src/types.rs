//! Column types that differ between the backends (docs/registry.md): ids are
//! `uuid` on PostgreSQL and lowercase hyphenated `TEXT` on SQLite;
//! timestamps `timestamptz` and `TEXT` `YYYY-MM-DD HH:MM:SS.ffffff` (UTC);
//! JSON `jsonb` and `TEXT`. Each is one SQL type with one Rust type, so the
//! queries are written once for both backends.

use std::fmt;

use chrono::{DateTime, Datelike, TimeZone, Timelike, Utc};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::HasSqlType;

use crate::db::{MultiBackend, MultiRawValue};

/// The SQL types.
pub mod sql {
    /// `uuid` / `TEXT`.
    #[derive(
        Clone, Copy, Debug, Default, diesel::sql_types::SqlType, diesel::query_builder::QueryId,
    )]
    #[cfg_attr(
        feature = "postgres",
        diesel(postgres_type(oid = 2950, array_oid = 2951))
    )]
    #[cfg_attr(feature = "sqlite", diesel(sqlite_type(name = "Text")))]
    pub struct Id;

    /// `timestamptz` / `TEXT`.
    #[derive(
        Clone, Copy, Debug, Default, diesel::sql_types::SqlType, diesel::query_builder::QueryId,
    )]
    #[cfg_attr(
        feature = "postgres",
        diesel(postgres_type(oid = 1184, array_oid = 1185))
    )]
    #[cfg_attr(feature = "sqlite", diesel(sqlite_type(name = "Text")))]
    pub struct Moment;

    /// Both forms order as time does (the SQLite text is fixed-width).
    impl diesel::sql_types::SqlOrd for Moment {}

    /// `jsonb` / `TEXT`.
    #[derive(
        Clone, Copy, Debug, Default, diesel::sql_types::SqlType, diesel::query_builder::QueryId,
    )]
    #[cfg_attr(
        feature = "postgres",
        diesel(postgres_type(oid = 3802, array_oid = 3807))
    )]
    #[cfg_attr(feature = "sqlite", diesel(sqlite_type(name = "Text")))]
    pub struct JsonDoc;
}

/// A row id: a UUID. New ones are version 7 (time-ordered, then random),
/// so that rows registered together land side by side in every index of
/// ids: a group of registrations writes a few index pages, not one page
/// per row. Ids of any version are read.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, AsExpression, FromSqlRow)]
#[diesel(sql_type = sql::Id)]
pub struct RowId(pub uuid::Uuid);

impl RowId {
    /// A new id: the time now, then random bits.
    pub fn new() -> Self {
        RowId(uuid::Uuid::now_v7())
    }
}

impl std::str::FromStr for RowId {
    type Err = uuid::Error;

    /// A hyphenated (or simple) UUID.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(text).map(RowId)
    }
}

impl Default for RowId {
    fn default() -> Self {
        RowId::new()
    }
}

impl fmt::Display for RowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl fmt::Debug for RowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// An instant with microsecond precision, in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, AsExpression, FromSqlRow)]
#[diesel(sql_type = sql::Moment)]
pub struct Moment(pub DateTime<Utc>);

impl Moment {
    /// RFC 3339 in UTC with a `Z`, fractional seconds only when there are
    /// any (`2026-11-29T02:00:00Z`, `2026-11-29T02:00:00.250Z`).
    pub fn to_rfc3339(&self) -> String {
        self.0.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    }

    /// The instant, its nanoseconds cut to microseconds (what both
    /// backends store).
    pub fn from_system_time(time: std::time::SystemTime) -> Self {
        let at = DateTime::<Utc>::from(time);
        let micros = at.nanosecond() / 1_000 * 1_000;
        Moment(at.with_nanosecond(micros).unwrap_or(at))
    }

    /// Whole seconds since the epoch (a JWT `exp`).
    pub fn from_unix_seconds(seconds: i64) -> Self {
        Moment(
            Utc.timestamp_opt(seconds, 0)
                .single()
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        )
    }

    /// The SQLite text form: `YYYY-MM-DD HH:MM:SS.ffffff`.
    pub fn to_sqlite_text(self) -> String {
        let (date, time) = (self.0.date_naive(), self.0.time());
        let year = u32::try_from(date.year()).ok().filter(|year| *year <= 9999);
        let (Some(year), false) = (year, time.nanosecond() >= 1_000_000_000) else {
            // Years outside 0..=9999 (the MIN_UTC / MAX_UTC sentinels) and
            // leap seconds: chrono's own spelling, as they always had.
            return self.0.format("%Y-%m-%d %H:%M:%S%.6f").to_string();
        };
        // The same text as that format, without parsing it on every row.
        let mut text = String::with_capacity(26);
        let mut push = |value: u32, digits: u32, after: Option<char>| {
            for place in (0..digits).rev() {
                let digit = value / 10_u32.pow(place) % 10;
                text.push(char::from(b'0' + digit as u8));
            }
            if let Some(after) = after {
                text.push(after);
            }
        };
        push(year, 4, Some('-'));
        push(date.month(), 2, Some('-'));
        push(date.day(), 2, Some(' '));
        push(time.hour(), 2, Some(':'));
        push(time.minute(), 2, Some(':'));
        push(time.second(), 2, Some('.'));
        push(time.nanosecond() / 1_000, 6, None);
        text
    }

    /// `by` earlier (the earliest instant there is, rather than overflow).
    pub fn minus(self, by: std::time::Duration) -> Self {
        chrono::Duration::from_std(by)
            .ok()
            .and_then(|by| self.0.checked_sub_signed(by))
            .map_or(Moment(DateTime::<Utc>::MIN_UTC), Moment)
    }

    /// `by` later (the latest instant there is, rather than overflow).
    pub fn plus(self, by: std::time::Duration) -> Self {
        chrono::Duration::from_std(by)
            .ok()
            .and_then(|by| self.0.checked_add_signed(by))
            .map_or(Moment(DateTime::<Utc>::MAX_UTC), Moment)
    }

    /// One microsecond earlier: the latest instant before this one that
    /// both backends can store.
    pub fn just_before(self) -> Self {
        self.minus(std::time::Duration::from_micros(1))
    }

    /// Whole seconds since the epoch, rounded down.
    pub fn unix_seconds(self) -> i64 {
        self.0.timestamp()
    }
}

/// A JSON document (claims).
#[derive(Clone, Debug, PartialEq, AsExpression, FromSqlRow)]
#[diesel(sql_type = sql::JsonDoc)]
pub struct JsonDoc(pub String);

macro_rules! multi_backend {
    ($sql:ty, $rust:ty) => {
        impl HasSqlType<$sql> for MultiBackend {
            fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
                MultiBackend::lookup_sql_type::<$sql>(lookup)
            }
        }

        impl ToSql<$sql, MultiBackend> for $rust {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value((<$sql>::default(), self));
                Ok(IsNull::No)
            }
        }

        impl FromSql<$sql, MultiBackend> for $rust {
            fn from_sql(bytes: MultiRawValue<'_>) -> deserialize::Result<Self> {
                bytes.from_sql::<Self, $sql>()
            }
        }
    };
}

multi_backend!(sql::Id, RowId);
multi_backend!(sql::Moment, Moment);
multi_backend!(sql::JsonDoc, JsonDoc);

/// The PostgreSQL forms: `uuid`, `timestamptz`, `jsonb`.
#[cfg(feature = "postgres")]
mod postgres {
    use std::io::Write;

    use chrono::{DateTime, Utc};
    use diesel::deserialize::{self, FromSql};
    use diesel::pg::{Pg, PgValue};
    use diesel::serialize::{self, IsNull, Output, ToSql};

    use super::{JsonDoc, Moment, RowId, sql};

    impl ToSql<sql::Id, Pg> for RowId {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
            out.write_all(self.0.as_bytes())?;
            Ok(IsNull::No)
        }
    }

    impl FromSql<sql::Id, Pg> for RowId {
        fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
            Ok(RowId(uuid::Uuid::from_slice(value.as_bytes())?))
        }
    }

    impl ToSql<sql::Moment, Pg> for Moment {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
            <DateTime<Utc> as ToSql<diesel::sql_types::Timestamptz, Pg>>::to_sql(&self.0, out)
        }
    }

    impl FromSql<sql::Moment, Pg> for Moment {
        fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
            <DateTime<Utc> as FromSql<diesel::sql_types::Timestamptz, Pg>>::from_sql(value)
                .map(Moment)
        }
    }

    impl ToSql<sql::JsonDoc, Pg> for JsonDoc {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
            // jsonb's binary form: a version byte, then the text.
            out.write_all(&[1])?;
            out.write_all(self.0.as_bytes())?;
            Ok(IsNull::No)
        }
    }

    impl FromSql<sql::JsonDoc, Pg> for JsonDoc {
        fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
            match value.as_bytes().split_first() {
                Some((1, text)) => Ok(JsonDoc(String::from_utf8(text.to_vec())?)),
                _ => Err("unsupported jsonb version".into()),
            }
        }
    }
}

/// The SQLite forms: `TEXT` each.
#[cfg(feature = "sqlite")]
mod sqlite {
    use chrono::NaiveDateTime;
    use diesel::deserialize::{self, FromSql};
    use diesel::serialize::{self, IsNull, Output, ToSql};
    use diesel::sqlite::{Sqlite, SqliteValue};

    use super::{JsonDoc, Moment, RowId, sql};

    fn sqlite_text(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<String> {
        <String as FromSql<diesel::sql_types::Text, Sqlite>>::from_sql(value)
    }

    impl ToSql<sql::Id, Sqlite> for RowId {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
            out.set_value(self.to_string());
            Ok(IsNull::No)
        }
    }

    impl FromSql<sql::Id, Sqlite> for RowId {
        fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
            Ok(RowId(uuid::Uuid::parse_str(&sqlite_text(value)?)?))
        }
    }

    impl ToSql<sql::Moment, Sqlite> for Moment {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
            out.set_value(self.to_sqlite_text());
            Ok(IsNull::No)
        }
    }

    impl FromSql<sql::Moment, Sqlite> for Moment {
        fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
            let text = sqlite_text(value)?;
            let naive = NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S%.f")?;
            Ok(Moment(naive.and_utc()))
        }
    }

    impl ToSql<sql::JsonDoc, Sqlite> for JsonDoc {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
            out.set_value(self.0.as_str());
            Ok(IsNull::No)
        }
    }

    impl FromSql<sql::JsonDoc, Sqlite> for JsonDoc {
        fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
            sqlite_text(value).map(JsonDoc)
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    #[test]
    fn sqlite_text_is_chrono_s_spelling_of_the_format() {
        let chrono_text =
            |moment: DateTime<Utc>| moment.format("%Y-%m-%d %H:%M:%S%.6f").to_string();
        let at = |y, mo, d, h, mi, s, nanos| {
            NaiveDate::from_ymd_opt(y, mo, d)
                .and_then(|date| date.and_hms_nano_opt(h, mi, s, nanos))
                .map(|naive| naive.and_utc())
                .expect("a valid instant")
        };
        let mut moments = vec![
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC,
            DateTime::<Utc>::UNIX_EPOCH,
            at(0, 1, 1, 0, 0, 0, 0),
            at(7, 3, 4, 5, 6, 7, 8_000),
            at(999, 12, 31, 23, 59, 59, 999_999_999),
            at(2026, 12, 2, 21, 33, 45, 123_456_789),
            at(9999, 12, 31, 23, 59, 59, 999_999_000),
            at(10_000, 1, 1, 0, 0, 0, 0),
            at(-1, 6, 15, 12, 0, 0, 0),
            at(2016, 12, 31, 23, 59, 59, 1_500_000_000),
        ];
        // A spread of ordinary instants, microsecond digits included.
        let mut seconds = 0_i64;
        for step in 0..2_000_i64 {
            seconds = seconds
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(step)
                % 4_000_000_000;
            let micros = (step * 7_919) % 1_000_000;
            moments.extend(
                Utc.timestamp_opt(seconds.abs(), (micros * 1_000) as u32)
                    .single(),
            );
        }
        for moment in moments {
            assert_eq!(
                Moment(moment).to_sqlite_text(),
                chrono_text(moment),
                "{moment:?}"
            );
        }
    }
}
