//! The baseline `GET /api/v1/me/`: an actix-web app with actix's default
//! worker count, checking the bearer token with `jsonwebtoken::decode`
//! (HS256, the `DecodingKey` built once, `Validation::new(HS256)` with
//! leeway 0) and answering the same JSON body as jwt-server's `/me/`,
//! taken from the token instead of a users table. No registry, no user
//! lookup, no other work: the cost of a stateless check.

use std::net::TcpListener;

use actix_web::http::header::AUTHORIZATION;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
struct Claims {
    user_id: i64,
}

struct Check {
    key: DecodingKey,
    validation: Validation,
}

async fn me(req: HttpRequest, check: web::Data<Check>) -> HttpResponse {
    let token = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let Some(token) = token else {
        return HttpResponse::Unauthorized().finish();
    };
    match jsonwebtoken::decode::<Claims>(token, &check.key, &check.validation) {
        Ok(data) => {
            HttpResponse::Ok().json(json!({"id": data.claims.user_id, "username": "alice"}))
        }
        Err(_) => HttpResponse::Unauthorized().finish(),
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(bind), Some(key_file)) = (args.next(), args.next()) else {
        eprintln!("usage: baseline-app ADDRESS KEY_FILE");
        std::process::exit(2);
    };
    let secret = std::fs::read(&key_file)?;
    let key = DecodingKey::from_secret(&secret).map_err(std::io::Error::other)?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    let check = web::Data::new(Check { key, validation });
    let listener = TcpListener::bind(bind)?;
    println!("listening on http://{}", listener.local_addr()?);
    HttpServer::new(move || {
        App::new()
            .app_data(check.clone())
            .route("/api/v1/me/", web::get().to(me))
    })
    .listen(listener)?
    .run()
    .await
}
