//! The pipeline step `connect_interlocutor`, and the archiver's cleanup.

#[cfg(feature = "sqlite")]
use diesel::connection::SimpleConnection;
#[cfg(feature = "postgres")]
use diesel::sql_types::{Array, Text};
#[cfg(feature = "postgres")]
use diesel::{PgConnection, QueryableByName, RunQueryDsl};
use jwt_core::RequestInfo;
use jwt_registry::db::{DbConnection, DbError};
use jwt_registry::{Cleanup, Context, Step};

use crate::connector;
use crate::network::{TrustedProxies, client_ip};
use crate::recognize::recognize;

/// `connect_interlocutor`: recognises the request the tokens were issued on
/// and connects every token of the registration to its interlocutor. Put it
/// after `register_pairs` in `[registry] pipeline`.
#[derive(Clone, Debug, Default)]
pub struct ConnectInterlocutor {
    proxies: TrustedProxies,
}

impl ConnectInterlocutor {
    /// Believes the forwarding header from these proxies only
    /// ([`DeviceSettings::proxies`](crate::DeviceSettings::proxies)); the
    /// default believes no one.
    pub fn new(proxies: TrustedProxies) -> Self {
        ConnectInterlocutor { proxies }
    }
}

impl ConnectInterlocutor {
    /// The step's name in the `pipeline` setting.
    pub const NAME: &'static str = "connect_interlocutor";
}

impl Step for ConnectInterlocutor {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn run(&self, conn: &mut DbConnection, context: &mut Context) -> Result<(), DbError> {
        let Some(registration) = &context.registration else {
            return Ok(());
        };
        // No request (a registration from code): still connected, to an
        // interlocutor that says nothing.
        let none = RequestInfo::default();
        let request = context.request.as_ref().unwrap_or(&none);
        let recognized = recognize(request);
        let ip = client_ip(request, &self.proxies);
        connector::connect(conn, &registration.ids(), &recognized, ip, context.now)?;
        Ok(())
    }
}

/// Removes interlocutors and networks no token uses any more (IP addresses
/// are personal data: none is kept without a token). Run by the archiver
/// and when a user is forgotten.
#[derive(Clone, Copy, Debug, Default)]
pub struct ForgetUnusedInterlocutors;

impl Cleanup for ForgetUnusedInterlocutors {
    fn clean(&self, conn: &mut DbConnection) -> Result<(), DbError> {
        match conn {
            // One writer at a time: nothing can connect a token meanwhile.
            #[cfg(feature = "sqlite")]
            DbConnection::Sqlite(c) => c.batch_execute(
                "DELETE FROM jwt_interlocutor_network WHERE NOT EXISTS \
                     (SELECT 1 FROM jwt_token_interlocutor_connection c WHERE c.network_id = jwt_interlocutor_network.id); \
                 DELETE FROM jwt_interlocutor WHERE NOT EXISTS \
                     (SELECT 1 FROM jwt_token_interlocutor_connection c WHERE c.interlocutor_id = jwt_interlocutor.id);",
            )?,
            #[cfg(feature = "postgres")]
            DbConnection::Pg(c) => {
                forget_unused(c, "jwt_interlocutor_network", "network_id")?;
                forget_unused(c, "jwt_interlocutor", "interlocutor_id")?;
            }
            // The registry was built with a backend this crate was not.
            #[allow(unreachable_patterns)]
            _ => return Err(DbError::Unreachable("jwt-device was built without this backend".into())),
        }
        Ok(())
    }
}

#[cfg(feature = "postgres")]
#[derive(QueryableByName)]
struct Unused {
    #[diesel(sql_type = Text)]
    id: String,
}

/// Deletes the rows of `table` no connection names in `column`, on
/// PostgreSQL, where registrations run concurrently: the candidates are
/// locked first, skipping rows a registration holds (its trigger locks the
/// rows it connects to), then deleted only if, seen after the locks were
/// taken, still no connection names them.
#[cfg(feature = "postgres")]
fn forget_unused(conn: &mut PgConnection, table: &str, column: &str) -> Result<(), DbError> {
    let unused = format!(
        "NOT EXISTS (SELECT 1 FROM jwt_token_interlocutor_connection c WHERE c.{column} = t.id)"
    );
    let locked: Vec<String> = diesel::sql_query(format!(
        "SELECT CAST(t.id AS TEXT) AS id FROM {table} t WHERE {unused} FOR UPDATE SKIP LOCKED"
    ))
    .load::<Unused>(conn)?
    .into_iter()
    .map(|row| row.id)
    .collect();
    for chunk in locked.chunks(10_000) {
        diesel::sql_query(format!(
            "DELETE FROM {table} t WHERE t.id = ANY(CAST($1 AS uuid[])) AND {unused}"
        ))
        .bind::<Array<Text>, _>(chunk)
        .execute(conn)?;
    }
    Ok(())
}
