//! The credential a simulated API demands: an API-key header (ATAL) or a
//! bearer token (Espace famille).

use std::fmt;

use axum::{
    Router,
    extract::{Request, State},
    http::{HeaderMap, HeaderName, header::AUTHORIZATION},
    middleware::{self, Next},
    response::{IntoResponse, Response},
};

use crate::error::{Error, ErrorShape};

/// What a caller must present.
#[derive(Clone)]
pub enum Credential {
    /// A header that must carry exactly this value.
    Header {
        /// The header name, such as `x-api-key`.
        name: HeaderName,
        /// The expected value.
        value: String,
    },
    /// `Authorization: Bearer <token>` with exactly this token.
    Bearer(String),
}

impl Credential {
    /// Whether `headers` carry the credential.
    pub fn accepts(&self, headers: &HeaderMap) -> bool {
        match self {
            Self::Header { name, value } => headers
                .get(name)
                .and_then(|given| given.to_str().ok())
                .is_some_and(|given| given == value),
            Self::Bearer(token) => headers
                .get(AUTHORIZATION)
                .and_then(|given| given.to_str().ok())
                .and_then(|given| given.split_once(' '))
                .is_some_and(|(scheme, given)| {
                    scheme.eq_ignore_ascii_case("bearer") && given.trim() == token
                }),
        }
    }
}

/// Secrets stay out of logs.
impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Header { name, .. } => write!(f, "Credential::Header({name}: ***)"),
            Self::Bearer(_) => f.write_str("Credential::Bearer(***)"),
        }
    }
}

#[derive(Clone)]
struct Guard {
    credential: Credential,
    refusal: &'static str,
}

/// Wraps every route of `router` so that a request without `credential`
/// is answered 401 with the French `refusal` message in shape `S`.
pub fn guard<S, St>(router: Router<St>, credential: Credential, refusal: &'static str) -> Router<St>
where
    S: ErrorShape,
    St: Clone + Send + Sync + 'static,
{
    let guard = Guard {
        credential,
        refusal,
    };
    router.layer(middleware::from_fn_with_state(guard, check::<S>))
}

async fn check<S: ErrorShape>(
    State(guard): State<Guard>,
    request: Request,
    next: Next,
) -> Response {
    if guard.credential.accepts(request.headers()) {
        next.run(request).await
    } else {
        Error::<S>::unauthorized(guard.refusal).into_response()
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(name: &'static str, value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            name,
            HeaderValue::from_str(value).expect("a valid header value"),
        );
        headers
    }

    #[test]
    fn api_key_must_match_exactly() {
        let key = Credential::Header {
            name: HeaderName::from_static("x-api-key"),
            value: "k".into(),
        };

        assert!(key.accepts(&headers("x-api-key", "k")));
        assert!(!key.accepts(&headers("x-api-key", "K")));
        assert!(!key.accepts(&HeaderMap::new()));
    }

    #[test]
    fn bearer_scheme_is_case_insensitive_but_the_token_is_not() {
        let token = Credential::Bearer("t0k".into());

        assert!(token.accepts(&headers("authorization", "Bearer t0k")));
        assert!(token.accepts(&headers("authorization", "bearer t0k")));
        assert!(!token.accepts(&headers("authorization", "Bearer T0K")));
        assert!(!token.accepts(&headers("authorization", "t0k")));
        assert!(!token.accepts(&headers("authorization", "Basic t0k")));
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let token = Credential::Bearer("t0k".into());

        assert!(!format!("{token:?}").contains("t0k"));
    }
}
