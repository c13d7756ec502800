//! The middleware: attaches the (lazily resolved) caller to each request
//! and never rejects one.

use std::future::{Ready, ready};
use std::rc::Rc;

use actix_web::HttpMessage;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};

use crate::caller::{LazyCaller, Resolve};
use crate::state::JwtAuth;
use crate::store::UserStore;

/// Attaches the request's caller to it, resolved on first use by an
/// extractor (header, token, user: once per request, never for requests no
/// handler asks about). It never answers by itself: an anonymous or badly
/// authenticated request goes on, and the extractor decides. A request an
/// earlier middleware already authenticated
/// ([`dangerous::authenticate_request`](crate::dangerous::authenticate_request))
/// is left alone.
pub struct JwtMiddleware<S: UserStore> {
    jwt: JwtAuth<S>,
}

impl<S: UserStore> JwtAuth<S> {
    /// The middleware that attaches the caller to requests, lazily.
    pub fn middleware(&self) -> JwtMiddleware<S> {
        JwtMiddleware { jwt: self.clone() }
    }
}

impl<S, Svc, B> Transform<Svc, ServiceRequest> for JwtMiddleware<S>
where
    S: UserStore,
    Svc: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = JwtMiddlewareService<S::User, Svc>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: Svc) -> Self::Future {
        let resolver: Rc<dyn Resolve<S::User>> = Rc::new(self.jwt.clone());
        ready(Ok(JwtMiddlewareService { service, resolver }))
    }
}

/// The service [`JwtMiddleware`] wraps around the app.
pub struct JwtMiddlewareService<U, Svc> {
    service: Svc,
    resolver: Rc<dyn Resolve<U>>,
}

impl<U, Svc, B> Service<ServiceRequest> for JwtMiddlewareService<U, Svc>
where
    U: 'static,
    Svc: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = Svc::Future;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let already = req.extensions().contains::<Rc<LazyCaller<U>>>();
        if !already {
            let lazy = Rc::new(LazyCaller::new(Rc::clone(&self.resolver)));
            req.extensions_mut().insert(lazy);
        }
        self.service.call(req)
    }
}
