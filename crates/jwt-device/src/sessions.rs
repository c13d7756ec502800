//! What the sessions list shows of a session's device: the recognised app,
//! OS, device and IP of its newest token.

use std::collections::HashMap;

use diesel::prelude::*;
use jwt_registry::db::{DbConnection, DbError};
use jwt_registry::types::RowId;
use jwt_registry::{SessionDetails, SessionDetailsSource};

use crate::schema::{
    jwt_app, jwt_device, jwt_interlocutor, jwt_interlocutor_network, jwt_os,
    jwt_token_interlocutor_connection as connection,
};

/// The device registry as the source of session details
/// (`RegistryBuilder::session_details`).
#[derive(Clone, Copy, Debug, Default)]
pub struct DeviceSessionDetails;

type Row = (
    RowId,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// `"Chrome 124.0"`, `"Chrome"`, or nothing; cleaned, as a row stored
/// before names were cleaned may hold anything a header said.
fn joined(parts: &[Option<String>]) -> Option<String> {
    let text = parts
        .iter()
        .flatten()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" ");
    crate::names::display_name(&text)
}

impl SessionDetailsSource for DeviceSessionDetails {
    fn details(
        &self,
        conn: &mut DbConnection,
        tokens: &[RowId],
    ) -> Result<HashMap<RowId, SessionDetails>, DbError> {
        let rows: Vec<Row> = jwt_registry::on_backend!(conn, c => connection::table
            .inner_join(
                jwt_interlocutor::table
                    .left_join(jwt_app::table)
                    .left_join(jwt_os::table)
                    .left_join(jwt_device::table),
            )
            .left_join(
                jwt_interlocutor_network::table
                    .on(connection::network_id.eq(jwt_interlocutor_network::id.nullable())),
            )
            .filter(connection::token_id.eq_any(tokens))
            .select((
                connection::token_id,
                jwt_app::family.nullable(),
                jwt_app::version.nullable(),
                jwt_os::family.nullable(),
                jwt_os::version.nullable(),
                jwt_device::family.nullable(),
                jwt_device::brand.nullable(),
                jwt_device::model.nullable(),
                jwt_interlocutor_network::ip.nullable(),
            ))
            .load(c))?;
        Ok(rows
            .into_iter()
            .map(
                |(token, app, app_version, os, os_version, family, brand, model, ip)| {
                    let device = joined(&[brand, model]).or_else(|| joined(&[family]));
                    let details = SessionDetails {
                        app: joined(&[app, app_version]),
                        os: joined(&[os, os_version]),
                        device,
                        ip,
                    };
                    (token, details)
                },
            )
            .collect())
    }
}
