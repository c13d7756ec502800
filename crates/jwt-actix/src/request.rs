//! Reading the body of a token view (or a registry route) as the app's
//! settings say: the size limit, and no form bodies in cookie mode.

use actix_web::HttpRequest;
use actix_web::web::Payload;

use crate::body::{FieldReader, Forms, RequestData, Trim};
use crate::fault::Fault;
use crate::state::JwtAuth;
use crate::store::UserStore;

/// The body, read with the configured limit; forms are refused (415) in
/// cookie mode.
pub(crate) async fn read_body<S: UserStore>(
    jwt: &JwtAuth<S>,
    req: &HttpRequest,
    payload: Payload,
) -> Result<RequestData, Fault> {
    let forms = if jwt.cookie_mode() {
        Forms::Refused
    } else {
        Forms::Accepted
    };
    let limit = jwt.settings().max_body_bytes;
    RequestData::read_accepting(req, payload, limit, forms).await
}

/// The one token field of `refresh/` and `verify/`.
pub(crate) async fn read_token_field<S: UserStore>(
    jwt: &JwtAuth<S>,
    req: &HttpRequest,
    payload: Payload,
    name: &'static str,
) -> Result<String, Fault> {
    let data = read_body(jwt, req, payload).await?;
    let mut fields = FieldReader::new(&data);
    let token = fields.string(name, Trim::Yes);
    fields.finish_with(token)
}
