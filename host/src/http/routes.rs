//! A router that documents itself: every route is added with its
//! [`Doc`] (summary, who may call it, request and response shapes), so the
//! OpenAPI document ([`super::openapi`]) is built from the very list the
//! router serves, and a test checks the two against each other.

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use schemars::{JsonSchema, Schema, SchemaGenerator};

use super::AppState;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without logging in.
    Public,
    /// Any logged-in person or machine token.
    Authenticated,
    /// An usager (session cookie).
    Usager,
    /// An agent with this right on the démarche concerned (`back_office`,
    /// `read`, `comment`, `file_on_behalf`, `process`); the action itself may
    /// need more (see the workflow).
    Agent(&'static str),
    /// An administrator: the Administrateur role on every démarche, or a
    /// machine token with the `administration` scope.
    Administrator,
}

impl Access {
    /// The text shown in the document.
    pub fn describe(self) -> String {
        match self {
            Access::Public => "public".to_owned(),
            Access::Authenticated => "connecté (session ou jeton)".to_owned(),
            Access::Usager => "usager connecté".to_owned(),
            Access::Agent(right) => format!("agent avec le droit « {right} » sur la démarche"),
            Access::Administrator => "administrateur".to_owned(),
        }
    }
}

/// A schema producer, resolved when the document is built.
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;

/// The schema of `T`, as a [`SchemaFn`].
pub fn schema<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// The schema of `T` itself, not a reference to it (query parameters are
/// listed one by one).
pub fn inline_schema<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    T::json_schema(generator)
}

/// Any JSON value (shapes described in prose, such as the connector
/// runtime's types).
pub fn any_json(_: &mut SchemaGenerator) -> Schema {
    schemars::json_schema!({ "description": "JSON (voir le résumé de la route)" })
}

/// A request or response body.
#[derive(Clone, Copy)]
pub enum Body {
    /// No body.
    None,
    /// JSON of this schema.
    Json(SchemaFn),
    /// A démarche definition in YAML (or JSON).
    Yaml,
    /// A multipart form; the text lists its parts.
    Multipart(&'static str),
    /// A file download.
    File,
    /// A CSV file (`text/csv`, UTF-8).
    Csv,
    /// A WebAssembly component (`application/wasm`, or
    /// `application/octet-stream`).
    Component,
}

/// The documentation of one route.
#[derive(Clone, Copy)]
pub struct Doc {
    /// One line saying what it does, in French.
    pub summary: &'static str,
    /// Who may call it.
    pub access: Access,
    /// Its query-string parameters: the schema of a struct whose fields
    /// are the parameters ([`Doc::query`]).
    pub query: Option<SchemaFn>,
    /// What it reads.
    pub request: Body,
    /// What it answers on success.
    pub response: Body,
    /// The success status.
    pub status: u16,
}

impl Doc {
    /// A route answering 200 with JSON, reading nothing.
    pub fn new(summary: &'static str, access: Access) -> Doc {
        Doc {
            summary,
            access,
            query: None,
            request: Body::None,
            response: Body::None,
            status: 200,
        }
    }

    /// Reads the query-string parameters of `T`: one parameter per field,
    /// required unless it is an `Option`. What the handler reads through
    /// `super::extract::ApiQuery<T>`.
    pub fn query<T: JsonSchema>(mut self) -> Doc {
        self.query = Some(inline_schema::<T>);
        self
    }

    /// Reads JSON of type `T`.
    pub fn takes<T: JsonSchema>(mut self) -> Doc {
        self.request = Body::Json(schema::<T>);
        self
    }

    /// Reads this body.
    pub fn reads(mut self, body: Body) -> Doc {
        self.request = body;
        self
    }

    /// Answers JSON of type `T`.
    pub fn gives<T: JsonSchema>(mut self) -> Doc {
        self.response = Body::Json(schema::<T>);
        self
    }

    /// Answers JSON described in prose.
    pub fn json(mut self) -> Doc {
        self.response = Body::Json(any_json);
        self
    }

    /// Answers this body.
    pub fn answers(mut self, body: Body) -> Doc {
        self.response = body;
        self
    }

    /// Answers this success status.
    pub fn status(mut self, status: u16) -> Doc {
        self.status = status;
        self
    }
}

/// One documented route.
#[derive(Clone)]
pub struct Route {
    /// The method.
    pub method: Method,
    /// The path, axum style (`/api/demandes/{id}`).
    pub path: &'static str,
    /// Its documentation.
    pub doc: Doc,
}

/// An axum router with the documentation of its routes.
pub struct ApiRouter {
    router: Router<AppState>,
    routes: Vec<Route>,
}

impl Default for ApiRouter {
    fn default() -> Self {
        Self::new()
    }
}

impl ApiRouter {
    /// No route yet.
    pub fn new() -> Self {
        Self {
            router: Router::new(),
            routes: Vec::new(),
        }
    }

    fn add(
        mut self,
        method: Method,
        path: &'static str,
        route: axum::routing::MethodRouter<AppState>,
        doc: Doc,
    ) -> Self {
        self.router = self.router.route(path, route);
        self.routes.push(Route { method, path, doc });
        self
    }

    /// A `GET` route.
    pub fn get<H, T>(self, path: &'static str, handler: H, doc: Doc) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::GET, path, axum::routing::get(handler), doc)
    }

    /// A `POST` route.
    pub fn post<H, T>(self, path: &'static str, handler: H, doc: Doc) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::POST, path, axum::routing::post(handler), doc)
    }

    /// A `PUT` route.
    pub fn put<H, T>(self, path: &'static str, handler: H, doc: Doc) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::PUT, path, axum::routing::put(handler), doc)
    }

    /// A `DELETE` route.
    pub fn delete<H, T>(self, path: &'static str, handler: H, doc: Doc) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.add(Method::DELETE, path, axum::routing::delete(handler), doc)
    }

    /// Both routers' routes.
    pub fn merge(mut self, other: ApiRouter) -> Self {
        self.router = self.router.merge(other.router);
        self.routes.extend(other.routes);
        self
    }

    /// The routes and their documentation.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The axum router and the documented routes.
    pub fn into_parts(self) -> (Router<AppState>, Vec<Route>) {
        (self.router, self.routes)
    }
}
