//! The pipeline step `connect_interlocutor`, and the archiver's cleanup.

use diesel::connection::SimpleConnection;
use jwt_core::RequestInfo;
use jwt_registry::db::{DbConnection, DbError};
use jwt_registry::{Cleanup, Context, Step};

use crate::connector;
use crate::network::{Cidr, client_ip};
use crate::recognize::recognize;

/// `connect_interlocutor`: recognises the request the tokens were issued on
/// and connects every token of the registration to its interlocutor. Put it
/// after `register_pairs` in `[registry] pipeline`.
#[derive(Clone, Debug, Default)]
pub struct ConnectInterlocutor {
    trusted_proxies: Vec<Cidr>,
}

impl ConnectInterlocutor {
    /// Believes forwarding headers from these proxies only
    /// ([`DeviceSettings::trusted_proxies`](crate::DeviceSettings::trusted_proxies)).
    pub fn new(trusted_proxies: Vec<Cidr>) -> Self {
        ConnectInterlocutor { trusted_proxies }
    }
}

impl Step for ConnectInterlocutor {
    fn name(&self) -> &str {
        "connect_interlocutor"
    }

    fn run(&self, conn: &mut DbConnection, context: &mut Context) -> Result<(), DbError> {
        let Some(registration) = &context.registration else {
            return Ok(());
        };
        let request = context
            .request
            .clone()
            .unwrap_or_else(|| RequestInfo::new(None));
        let recognized = recognize(&request);
        let ip = client_ip(&request, &self.trusted_proxies);
        let connected =
            connector::connect(conn, &registration.ids(), &recognized, ip, context.now)?;
        context.values.insert(
            "interlocutor_id".into(),
            connected.interlocutor.to_string().into(),
        );
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
        conn.batch_execute(
            "DELETE FROM jwt_interlocutor_network WHERE NOT EXISTS \
                 (SELECT 1 FROM jwt_token_interlocutor_connection c WHERE c.network_id = jwt_interlocutor_network.id); \
             DELETE FROM jwt_interlocutor WHERE NOT EXISTS \
                 (SELECT 1 FROM jwt_token_interlocutor_connection c WHERE c.interlocutor_id = jwt_interlocutor.id);",
        )?;
        Ok(())
    }
}
