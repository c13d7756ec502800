//! Connecting tokens to the interlocutor (app, OS, device, network) they
//! were issued to: one statement on PostgreSQL, one per token on SQLite, in
//! the registration's transaction.

use std::collections::BTreeMap;
use std::net::IpAddr;

use aws_lc_rs::digest;
use diesel::prelude::*;
use jwt_registry::db::{DbConnection, DbError};
use jwt_registry::types::{JsonDoc, Moment, RowId};

use crate::recognize::Recognized;
use crate::schema::jwt_interlocutor_intake;

/// A shared row's key: the SHA-256 of its normalised fields (`None` and ""
/// alike), and the id derived from it — the same row whoever creates it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    /// Lowercase hex SHA-256.
    pub digest: String,
    /// A version-8 UUID made of the digest's first bytes.
    pub id: RowId,
}

impl Key {
    /// The key of a row whose normalised fields are `fields`; `None` when
    /// every field is empty (no row).
    pub fn of(kind: &str, fields: &[Option<&str>]) -> Option<Key> {
        if fields.iter().all(|field| field.is_none_or(str::is_empty)) {
            return None;
        }
        Some(Key::always(kind, fields))
    }

    /// The key of a row that exists even with every field empty.
    pub fn always(kind: &str, fields: &[Option<&str>]) -> Key {
        let mut context = digest::Context::new(&digest::SHA256);
        context.update(kind.as_bytes());
        for field in fields {
            let field = field.unwrap_or_default();
            // Length-prefixed: no separator can be forged inside a field.
            context.update(format!("\u{0}{}:", field.len()).as_bytes());
            context.update(field.as_bytes());
        }
        let hash = context.finish();
        let bytes = hash.as_ref();
        let mut id = [0u8; 16];
        id.copy_from_slice(&bytes[..16]);
        Key {
            digest: jwt_registry::hex(bytes),
            // A version 8 (custom) UUID from the digest's first 16 bytes.
            id: RowId(uuid::Builder::from_custom_bytes(id).into_uuid()),
        }
    }
}

fn number(value: Option<f64>) -> Option<String> {
    value.map(|value| format!("{value}"))
}

#[derive(Insertable)]
#[diesel(table_name = jwt_interlocutor_intake, treat_none_as_default_value = false)]
struct Intake<'a> {
    token_id: RowId,
    connection_id: RowId,
    now: Moment,
    app_id: Option<RowId>,
    app_digest: Option<&'a str>,
    app_family: Option<&'a str>,
    app_version: Option<&'a str>,
    os_id: Option<RowId>,
    os_digest: Option<&'a str>,
    os_family: Option<&'a str>,
    os_version: Option<&'a str>,
    os_arch: Option<&'a str>,
    device_id: Option<RowId>,
    device_digest: Option<&'a str>,
    device_family: Option<&'a str>,
    device_brand: Option<&'a str>,
    device_model: Option<&'a str>,
    device_bitness: Option<&'a str>,
    device_memory: Option<f64>,
    device_dpr: Option<f64>,
    device_viewport_width: Option<i32>,
    interlocutor_id: RowId,
    interlocutor_digest: &'a str,
    outer_id: Option<&'a str>,
    user_agent: &'a str,
    client_hints: JsonDoc,
    network_id: Option<RowId>,
    network_digest: Option<&'a str>,
    ip: Option<String>,
}

/// What [`connect`] connected the tokens to. When every token was already
/// connected, nothing was stored and these name the rows the request would
/// have had.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connected {
    /// The interlocutor's row.
    pub interlocutor: RowId,
    /// The network's row, when the address was known.
    pub network: Option<RowId>,
}

/// Connects `tokens` to the interlocutor `recognized` describes, from `ip`:
/// app, OS, device, interlocutor and network rows are got or created by
/// digest, one connection per token (a token already connected keeps its
/// connection). One statement on PostgreSQL, one per token on SQLite.
pub fn connect(
    conn: &mut DbConnection,
    tokens: &[RowId],
    recognized: &Recognized,
    ip: Option<IpAddr>,
    now: Moment,
) -> Result<Connected, DbError> {
    let app = &recognized.app;
    let os = &recognized.os;
    let device = &recognized.device;
    let app_key = Key::of("app", &[app.family.as_deref(), app.version.as_deref()]);
    let os_key = Key::of(
        "os",
        &[
            os.family.as_deref(),
            os.version.as_deref(),
            os.arch.as_deref(),
        ],
    );
    // What identifies a device: not its DPR (zoom) or viewport (window
    // size), which are kept as first seen.
    let memory = number(device.memory);
    let device_key = Key::of(
        "device",
        &[
            device.family.as_deref(),
            device.brand.as_deref(),
            device.model.as_deref(),
            device.bitness.as_deref(),
            memory.as_deref(),
        ],
    );
    let hints = serde_json::to_string(&recognized.client_hints).unwrap_or_else(|_| "{}".into());
    // What identifies an interlocutor: the hints that describe the browser
    // and device, not the network's or the window's, which change between
    // requests of the same browser.
    let stable: BTreeMap<&str, &str> = recognized
        .client_hints
        .iter()
        .filter(|(name, _)| name.starts_with("sec-ch-ua") || name.ends_with("device-memory"))
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let stable = serde_json::to_string(&stable).unwrap_or_default();
    let id_text = |key: &Option<Key>| key.as_ref().map(|key| key.id.to_string());
    let (app_id, os_id, device_id) = (id_text(&app_key), id_text(&os_key), id_text(&device_key));
    // Always a row: even a request that says nothing is someone, somewhere.
    let interlocutor = Key::always(
        "interlocutor",
        &[
            app_id.as_deref(),
            os_id.as_deref(),
            device_id.as_deref(),
            recognized.outer_id.as_deref(),
            Some(recognized.user_agent.as_str()),
            Some(stable.as_str()),
        ],
    );
    let ip_text = ip.map(|ip| ip.to_canonical().to_string());
    let interlocutor_id = interlocutor.id.to_string();
    let network = ip_text
        .as_deref()
        .and_then(|ip| Key::of("network", &[Some(interlocutor_id.as_str()), Some(ip)]));

    let rows: Vec<Intake<'_>> = tokens
        .iter()
        .map(|token| Intake {
            token_id: *token,
            connection_id: RowId::new(),
            now,
            app_id: app_key.as_ref().map(|key| key.id),
            app_digest: app_key.as_ref().map(|key| key.digest.as_str()),
            app_family: app.family.as_deref(),
            app_version: app.version.as_deref(),
            os_id: os_key.as_ref().map(|key| key.id),
            os_digest: os_key.as_ref().map(|key| key.digest.as_str()),
            os_family: os.family.as_deref(),
            os_version: os.version.as_deref(),
            os_arch: os.arch.as_deref(),
            device_id: device_key.as_ref().map(|key| key.id),
            device_digest: device_key.as_ref().map(|key| key.digest.as_str()),
            device_family: device.family.as_deref(),
            device_brand: device.brand.as_deref(),
            device_model: device.model.as_deref(),
            device_bitness: device.bitness.as_deref(),
            device_memory: device.memory,
            device_dpr: device.dpr,
            device_viewport_width: device.viewport_width,
            interlocutor_id: interlocutor.id,
            interlocutor_digest: &interlocutor.digest,
            outer_id: recognized.outer_id.as_deref(),
            user_agent: &recognized.user_agent,
            client_hints: JsonDoc(hints.clone()),
            network_id: network.as_ref().map(|key| key.id),
            network_digest: network.as_ref().map(|key| key.digest.as_str()),
            ip: ip_text.clone(),
        })
        .collect();
    let intake = jwt_interlocutor_intake::table;
    match conn {
        // One round trip for all the tokens.
        #[cfg(feature = "postgres")]
        DbConnection::Pg(c) => {
            if !rows.is_empty() {
                diesel::insert_into(intake).values(&rows).execute(c)?;
            }
        }
        // No round trips on SQLite; a statement of one row is prepared once
        // per connection and reused, instead of a multi-row statement
        // prepared anew each time.
        #[cfg(feature = "sqlite")]
        DbConnection::Sqlite(c) => {
            for row in &rows {
                diesel::insert_into(intake).values(row).execute(c)?;
            }
        }
        // The registry was built with a backend this crate was not.
        #[allow(unreachable_patterns)]
        _ => {
            return Err(DbError::Unreachable(
                "jwt-device was built without this backend".into(),
            ));
        }
    }
    Ok(Connected {
        interlocutor: interlocutor.id,
        network: network.map(|key| key.id),
    })
}
