//! Who visits a page, and the protection of the portal's forms.
//!
//! - [`Visitor`]: the person of the session cookie, if any (the API's
//!   `guichet_session`, so that logging in on the portal or through the API
//!   is one session). A page never answers 401: a page reserved to usagers
//!   sends an anonymous visitor to `/connexion?suite=<the page>`
//!   ([`Usager`]); an agent reads a page saying the portal is the usagers'.
//! - **CSRF** (synchronizer token in a cookie, "double submit"): the
//!   portal's middleware [`csrf_cookie`] gives every browser a random token
//!   (32 bytes from the OS, `getrandom`) in the cookie `guichet_csrf`
//!   (`HttpOnly`, `SameSite=Strict`, `Secure` behind TLS); every form of
//!   the portal carries it in the hidden field `csrf`, and every `POST`
//!   handler checks that both are equal ([`Csrf::check`]) before acting,
//!   in constant time. Another site can neither read the cookie nor set
//!   it, so it cannot forge the field. This comes on top of the
//!   cross-site refusal of every write (`crate::http::security`).

use std::convert::Infallible;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;

use crate::http::AppState;
use crate::http::auth::SESSION_COOKIE;
use crate::service::Caller;
use crate::service::accounts::{self, Presented};

/// The name of the CSRF cookie.
pub const CSRF_COOKIE: &str = "guichet_csrf";

/// The name of the forms' hidden field holding the CSRF token.
pub const CSRF_FIELD: &str = "csrf";

pub use crate::http::auth::cookie;

/// The CSRF token of this browser: the cookie's, or the one the middleware
/// has just made (then sent with the response).
#[derive(Debug, Clone)]
pub struct Csrf(pub String);

impl Csrf {
    /// Whether a form's `csrf` field is this browser's token.
    pub fn check(&self, sent: Option<&str>) -> bool {
        let Some(sent) = sent else { return false };
        if self.0.is_empty() {
            return false;
        }
        let (a, b) = (self.0.as_bytes(), sent.as_bytes());
        // Constant time over the token's length: the comparison tells an
        // attacker nothing about how much of a guess was right.
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl FromRequestParts<AppState> for Csrf {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Infallible> {
        Ok(parts
            .extensions
            .get::<Csrf>()
            .cloned()
            .unwrap_or_else(|| Csrf(String::new())))
    }
}

/// A new random token: 32 bytes, base64url.
///
/// # Errors
/// The OS gave no randomness.
fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// The portal's middleware: reads the CSRF cookie, or makes one and sends
/// it with the response.
pub async fn csrf_cookie(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(token) = cookie(request.headers(), CSRF_COOKIE) {
        let token = token.to_owned();
        request.extensions_mut().insert(Csrf(token));
        return next.run(request).await;
    }
    let token = match new_token() {
        Ok(token) => token,
        Err(error) => {
            tracing::error!(%error, "aucun aléa pour le jeton CSRF");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "Service momentanément indisponible.",
            )
                .into_response();
        }
    };
    request.extensions_mut().insert(Csrf(token.clone()));
    let mut response = next.run(request).await;
    let secure = if state.settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    if let Ok(value) = HeaderValue::from_str(&format!(
        "{CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{secure}"
    )) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The fields of a posted form, its CSRF token checked and every text
/// free of control characters (`crate::http::extract::is_forbidden_char`).
#[derive(Debug, Default)]
pub struct Posted {
    pairs: Vec<(String, String)>,
}

/// Why a posted form is not read.
#[derive(Debug)]
pub enum Refusal {
    /// The CSRF token is missing or is not this browser's.
    Csrf,
    /// A field holds a control character; its name.
    Control(String),
}

impl Posted {
    /// Reads a form's fields.
    ///
    /// # Errors
    /// [`Refusal`].
    pub fn read(csrf: &Csrf, pairs: Vec<(String, String)>) -> Result<Posted, Refusal> {
        let token = pairs
            .iter()
            .find(|(name, _)| name == CSRF_FIELD)
            .map(|(_, value)| value.as_str());
        if !csrf.check(token) {
            return Err(Refusal::Csrf);
        }
        if let Some((name, _)) = pairs.iter().find(|(name, value)| {
            name.chars()
                .chain(value.chars())
                .any(crate::http::extract::is_forbidden_char)
        }) {
            return Err(Refusal::Control(name.clone()));
        }
        Ok(Posted { pairs })
    }

    /// The first value of `name`, trimmed; empty when absent.
    pub fn text(&self, name: &str) -> String {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    }

    /// The first value of `name` as given (passwords keep their spaces).
    pub fn raw(&self, name: &str) -> String {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// The value of `name`, trimmed, or `None` when absent or blank.
    pub fn filled(&self, name: &str) -> Option<String> {
        Some(self.text(name)).filter(|v| !v.is_empty())
    }

    /// Every value of `name` (checkboxes of one list).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Every field, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// Whether `name` was sent (a ticked box, the button pressed).
    pub fn has(&self, name: &str) -> bool {
        self.pairs.iter().any(|(n, _)| n == name)
    }
}

/// A posted URL-encoded form of the portal, read with [`Posted::read`]; a
/// form refused (its token, a control character, an unreadable body) is
/// answered with a page saying why, before the handler runs.
#[derive(Debug)]
pub struct Checked(pub Posted);

impl axum::extract::FromRequest<AppState> for Checked {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let Ok(site) = super::Site::from_request_parts(&mut parts, state).await;
        let Ok(csrf) = Csrf::from_request_parts(&mut parts, state).await;
        let request = Request::from_parts(parts, body);
        let axum::Form(pairs) =
            axum::Form::<Vec<(String, String)>>::from_request(request, state)
                .await
                .map_err(|rejection| {
                    super::message(
                        &site,
                        StatusCode::BAD_REQUEST,
                        "Formulaire illisible",
                        &format!(
                            "Le formulaire envoyé n'a pas pu être lu ({}). Revenez à la page précédente et recommencez.",
                            rejection.body_text()
                        ),
                    )
                })?;
        Posted::read(&csrf, pairs)
            .map(Checked)
            .map_err(|refused| super::refusal(&site, refused))
    }
}

/// The person of the session cookie, if it names a live session.
#[derive(Debug, Clone)]
pub struct Visitor(pub Option<Caller>);

impl FromRequestParts<AppState> for Visitor {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        if let Some(found) = parts.extensions.get::<Visitor>() {
            return Ok(found.clone());
        }
        let found = match cookie(&parts.headers, SESSION_COOKIE) {
            Some(secret) => accounts::authenticate(&state.guichet(), Presented::Session(secret))
                .await
                .ok(),
            None => None,
        };
        let visitor = Visitor(found);
        parts.extensions.insert(visitor.clone());
        Ok(visitor)
    }
}

/// A logged-in usager; anyone else is sent to the login page (anonymous)
/// or told the portal is for usagers (an agent).
#[derive(Debug, Clone)]
pub struct Usager(pub Caller);

impl FromRequestParts<AppState> for Usager {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Ok(Visitor(found)) = Visitor::from_request_parts(parts, state).await;
        match found {
            Some(caller) if caller.is_usager() => Ok(Usager(caller)),
            Some(_) => Err(super::message(
                &super::Site::anonymous(state),
                StatusCode::FORBIDDEN,
                "Espace réservé aux usagers",
                "Vous êtes connecté(e) avec un compte d'agent. Le portail sert les usagers : connectez-vous avec un compte usager pour déposer ou suivre une demande.",
            )),
            None => {
                // Only the path goes in `suite`: a query may hold a search.
                let path = parts.uri.path();
                let back = if parts.method == axum::http::Method::GET {
                    path
                } else {
                    "/"
                };
                Err(
                    Redirect::to(&format!("/connexion?suite={}", super::urlencoded(back)))
                        .into_response(),
                )
            }
        }
    }
}

/// Someone logged in who fills a form: an usager for themselves, or an
/// agent for an usager (*saisie au nom de l'usager*: the draft's owner is
/// the agent, `service::drafts` checks it); anonymous visitors are sent to
/// the login page.
#[derive(Debug, Clone)]
pub struct Filler(pub Caller);

impl FromRequestParts<AppState> for Filler {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Ok(Visitor(found)) = Visitor::from_request_parts(parts, state).await;
        match found {
            Some(caller) => Ok(Filler(caller)),
            None => Usager::from_request_parts(parts, state)
                .await
                .map(|Usager(caller)| Filler(caller)),
        }
    }
}

/// Where to go after logging in: a path of this site only (`/…`, never
/// `//host` or a full address, which would send the usager elsewhere).
pub fn safe_return(path: Option<&str>) -> String {
    match path {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path.to_owned()
        }
        _ => "/demandes".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_of_this_site_are_followed_after_login() {
        assert_eq!(safe_return(Some("/brouillons")), "/brouillons");
        for elsewhere in [
            "//evil.example",
            "https://evil.example/",
            "/\\evil.example",
            "evil",
        ] {
            assert_eq!(safe_return(Some(elsewhere)), "/demandes", "{elsewhere}");
        }
        assert_eq!(safe_return(None), "/demandes");
    }

    #[test]
    fn a_token_matches_only_itself() {
        let csrf = Csrf("abc".to_owned());
        assert!(csrf.check(Some("abc")));
        assert!(!csrf.check(Some("abd")));
        assert!(!csrf.check(Some("ab")));
        assert!(!csrf.check(None));
        assert!(!Csrf(String::new()).check(Some("")), "no token, no form");
    }
}
