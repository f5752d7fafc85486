//! The layers every response goes through: security headers and the
//! refusal of cross-site requests that would change state.
//!
//! **Headers** (`tower-http`'s `SetResponseHeaderLayer`, set unless a
//! handler chose otherwise): `X-Content-Type-Options: nosniff` (a browser
//! never guesses a type, so an uploaded file is never run as a page),
//! `Content-Security-Policy: default-src 'none'; frame-ancestors 'none'`
//! (a JSON API loads nothing and is framed by no one), `X-Frame-Options:
//! DENY` for older browsers, `Referrer-Policy: no-referrer`,
//! `Cache-Control: no-store` (answers carry personal data: no cache keeps
//! them), and `Strict-Transport-Security` when the API is served behind
//! TLS ([`Settings::secure_cookies`]).
//!
//! **Cross-site requests**: the session cookie is `SameSite=Lax`, which
//! still lets another site's multipart form reach the API in some
//! browsers. [`refuse_cross_site`] answers 403 `cross_site_request` to a
//! `POST`, `PUT`, `PATCH` or `DELETE` whose `Origin` is neither the API's
//! own host (the `Host` header, or `X-Forwarded-Host` behind a trusted
//! proxy: [`Settings::trust_forwarded_for`]) nor one of
//! [`Settings::allowed_origins`], or, without `Origin`,
//! whose `Sec-Fetch-Site` is `cross-site`. Requests without either header
//! (curl, machine clients with a bearer token) pass: no browser sends a
//! cross-site write without them. Which content types a route accepts is
//! checked by the extractors ([`super::extract`], [`super::upload`]): 415
//! `unsupported_media_type` for any other.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::set_header::SetResponseHeaderLayer;

use super::{ApiError, AppState, ErrorCode, Settings};

/// The Content-Security-Policy of a JSON API.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// HSTS behind TLS: one year, subdomains included.
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000; includeSubDomains";

/// Adds the security headers to every response of `router`.
pub fn with_headers<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    settings: &Settings,
) -> Router<S> {
    let fixed: [(HeaderName, &'static str); 5] = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    let mut router = router;
    for (name, value) in fixed {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ));
    }
    if settings.secure_cookies {
        router = router.layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(STRICT_TRANSPORT_SECURITY),
        ));
    }
    router
}

/// `host[:port]` in lowercase, without the default ports 80 and 443.
fn authority(host: &str) -> String {
    let host = host.trim().to_ascii_lowercase();
    host.strip_suffix(":80")
        .or_else(|| host.strip_suffix(":443"))
        .map_or(host.clone(), str::to_owned)
}

/// Whether `origin` may send state-changing requests to a server reached
/// as `host` (the `Host` header).
fn origin_allowed(origin: &str, host: Option<&str>, allowed: &[String]) -> bool {
    let Ok(url) = url::Url::parse(origin.trim()) else {
        return false;
    };
    let Some(origin_host) = url.host_str() else {
        return false;
    };
    let serialized = url.origin().ascii_serialization();
    if allowed.iter().any(|a| {
        a.trim()
            .trim_end_matches('/')
            .eq_ignore_ascii_case(&serialized)
    }) {
        return true;
    }
    let origin_authority = match url.port() {
        Some(port) => format!("{origin_host}:{port}"),
        None => origin_host.to_owned(),
    };
    host.is_some_and(|host| authority(host) == authority(&origin_authority))
}

fn refused(detail: &str) -> Response {
    ApiError::new(
        ErrorCode::CrossSiteRequest,
        format!("requête refusée : elle vient d'un autre site ({detail})"),
    )
    .into_response()
}

/// Refuses a state-changing request sent by another site (403
/// `cross_site_request`).
pub async fn refuse_cross_site(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let writes = matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    if !writes {
        return next.run(request).await;
    }
    let headers = request.headers();
    let text = |name: &str| headers.get(name).map(|v| v.to_str().unwrap_or("?"));
    if let Some(origin) = text("origin") {
        let settings = &state.settings;
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
        // Behind a trusted reverse proxy, the host the browser used.
        let forwarded_host = settings
            .trust_forwarded_for
            .then(|| text("x-forwarded-host"))
            .flatten();
        if !origin_allowed(origin, host, &settings.allowed_origins)
            && !forwarded_host.is_some_and(|h| origin_allowed(origin, Some(h), &[]))
        {
            let shown: String = origin.chars().take(100).collect();
            return refused(&format!("Origin: {shown}"));
        }
    } else if text("sec-fetch-site").is_some_and(|site| site.eq_ignore_ascii_case("cross-site")) {
        return refused("Sec-Fetch-Site: cross-site");
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_own_host_and_allowed_origins_may_write() {
        let none: &[String] = &[];
        assert!(origin_allowed(
            "http://127.0.0.1:8080",
            Some("127.0.0.1:8080"),
            none
        ));
        assert!(origin_allowed(
            "https://guichet.ville.fr",
            Some("guichet.ville.fr:443"),
            none
        ));
        assert!(!origin_allowed(
            "https://evil.example",
            Some("guichet.ville.fr"),
            none
        ));
        assert!(!origin_allowed(
            "http://127.0.0.1:9999",
            Some("127.0.0.1:8080"),
            none
        ));
        assert!(!origin_allowed("null", Some("guichet.ville.fr"), none));
        let portal = ["https://portail.ville.fr/".to_owned()];
        assert!(origin_allowed(
            "https://portail.ville.fr",
            Some("api.ville.fr"),
            &portal
        ));
    }
}
