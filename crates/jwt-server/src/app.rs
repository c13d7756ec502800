//! The demo app's routes.

use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, HttpRequest, HttpResponse, web};
use jwt_actix::{
    ApiError, Authenticated, Failure, Fault, JwtAuth, backend_failure, blocking, protected_resource,
};
use jwt_registry::db::Database;
use serde::Serialize;
use serde_json::json;

use crate::users::{DemoUser, DemoUserStore};

/// Token routes (with the sessions routes and the admin API) at
/// `/api/v1/auth/token/`, `GET /api/v1/me/`, `GET /healthz`,
/// and a JSON 404 for anything else.
pub fn app(
    jwt: JwtAuth<DemoUserStore>,
    db: Database,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .app_data(web::Data::new(db))
        .app_data(jwt.clone())
        .wrap(jwt.middleware())
        .service(
            web::scope("/api/v1/auth/token").configure(jwt.token_routes().admin(true).configure()),
        )
        .service(protected_resource::<DemoUser>("/api/v1/me/", "GET").route(|| web::get().to(me)))
        .service(
            web::resource(["/healthz", "/healthz/"])
                .route(web::get().to(healthz))
                .default_service(web::to(get_only)),
        )
        .default_service(web::to(not_found))
}

/// The body of `/me/`.
#[derive(Serialize)]
struct Me<'a> {
    id: i64,
    username: &'a str,
}

async fn me(auth: Authenticated<DemoUser>) -> HttpResponse {
    let user = auth.user();
    HttpResponse::Ok().json(Me {
        id: user.id,
        username: &user.username,
    })
}

async fn healthz(
    db: web::Data<Database>,
    jwt: JwtAuth<DemoUserStore>,
) -> Result<HttpResponse, ApiError> {
    let db = db.into_inner();
    match blocking(move || db.ping()).await {
        Ok(()) => Ok(HttpResponse::Ok().json(json!({"status": "ok"}))),
        Err(err) => {
            tracing::warn!("health check failed");
            Err(jwt.error(backend_failure(&err)))
        }
    }
}

async fn get_only(req: HttpRequest, jwt: JwtAuth<DemoUserStore>) -> Result<HttpResponse, ApiError> {
    Err(jwt.error(Fault::method_not_allowed(req.method().as_str(), "GET")))
}

async fn not_found(jwt: JwtAuth<DemoUserStore>) -> Result<HttpResponse, ApiError> {
    Err(jwt.error(Failure::NotFound))
}
