//! The OpenAPI document describes every route of the router, and the
//! router serves every route of the document.

use std::collections::BTreeSet;

use guichet_tests::app::TestApp;
use guichet_tests::on_both_backends;

on_both_backends!(openapi_document_and_router_list_the_same_routes);

async fn openapi_document_and_router_list_the_same_routes(app: TestApp) {
    let document = app.anonymous().get("/api/openapi.json").await;
    let document = document.expect(200).clone();
    assert_eq!(document["openapi"], "3.1.0");

    let documented: BTreeSet<(String, String)> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, methods)| {
            methods
                .as_object()
                .unwrap()
                .keys()
                .map(move |method| (method.to_uppercase(), path.clone()))
        })
        .collect();
    let routed: BTreeSet<(String, String)> = guichet_host::http::api()
        .routes()
        .iter()
        .map(|route| (route.method.as_str().to_owned(), route.path.to_owned()))
        .collect();
    assert_eq!(documented, routed);

    for (method, path) in &routed {
        let operation = &document["paths"][path][method.to_lowercase()];
        assert!(
            operation["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{method} {path}"
        );
        assert!(operation["x-guichet-access"].is_string(), "{method} {path}");
        assert!(
            operation["responses"]["default"].is_object(),
            "{method} {path}"
        );

        // The router answers the route itself, never its fallbacks.
        let concrete = path
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "00000000-0000-0000-0000-000000000000"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let reply = app
            .anonymous()
            .raw(method, &concrete, "application/json", b"{}".to_vec())
            .await;
        assert!(
            !matches!(reply.code(), "route_not_found" | "method_not_allowed"),
            "{method} {path} is not served: {}",
            reply.body
        );
        assert_ne!(reply.status, 500, "{method} {path}: {}", reply.body);
    }
    let schemas = document["components"]["schemas"].as_object().unwrap();
    for name in ["ApiError", "Action", "DraftView", "AgentDemande"] {
        assert!(schemas.contains_key(name), "{name} is described");
    }
}
