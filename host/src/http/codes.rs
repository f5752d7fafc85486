//! The catalogue of the API's error codes: one table of stable snake_case
//! code → HTTP status → what it means (French, for the OpenAPI document).
//!
//! Every [`ApiError`](super::ApiError) carries one [`ErrorCode`] and takes its
//! status from here, so a code always answers the same status. Top-level codes
//! are English; the codes of the field problems inside a `validation_failed`
//! (`requis`, `format_email`…) are the core's validation codes
//! ([`guichet_core::validation::ErrorCode`]), French like the forms they
//! describe. A test writes the whole catalogue to
//! `tests/tests/api/error_catalogue.snap` and compares: renaming a code or
//! changing its status fails until the snapshot is updated on purpose.

use axum::http::StatusCode;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Serialize, Serializer};

/// Declares [`ErrorCode`], its text, status and meaning from one table.
macro_rules! catalogue {
    ($($(#[doc = $doc:literal])+ $variant:ident = $code:literal, $status:ident, $meaning:literal;)+) => {
        /// A stable error code of the API.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[doc = $doc])+ $variant,)+
        }

        impl ErrorCode {
            /// Every code, in the order of the catalogue.
            pub const ALL: &[ErrorCode] = &[$(ErrorCode::$variant,)+];

            /// The code as sent (`not_found`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)+
                }
            }

            /// The HTTP status every answer with this code has.
            pub fn status(self) -> StatusCode {
                match self {
                    $(ErrorCode::$variant => StatusCode::$status,)+
                }
            }

            /// What the code means, in French (the OpenAPI document).
            pub fn meaning(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $meaning,)+
                }
            }
        }
    };
}

catalogue! {
    /// A JSON body that is not JSON.
    MalformedJson = "malformed_json", BAD_REQUEST, "corps JSON mal formé";
    /// A query string or a body that cannot be read.
    InvalidRequest = "invalid_request", BAD_REQUEST, "paramètres d'adresse ou corps de requête illisibles";
    /// The connector does not implement the operation.
    ConnectorUnsupported = "connector_unsupported", BAD_REQUEST, "le connecteur ne prend pas en charge cette opération";
    /// No valid session or token.
    Unauthenticated = "unauthenticated", UNAUTHORIZED, "connexion requise (session ou jeton)";
    /// Wrong login or password.
    InvalidCredentials = "invalid_credentials", UNAUTHORIZED, "identifiant ou mot de passe incorrect";
    /// A right is missing.
    Forbidden = "forbidden", FORBIDDEN, "droit manquant pour cette action";
    /// A state-changing request sent by another site.
    CrossSiteRequest = "cross_site_request", FORBIDDEN, "requête venue d'un autre site";
    /// Nothing at this address, or not for this caller.
    NotFound = "not_found", NOT_FOUND, "ressource introuvable";
    /// No route at this path.
    RouteNotFound = "route_not_found", NOT_FOUND, "cette adresse n'existe pas";
    /// No such group.
    GroupNotFound = "group_not_found", NOT_FOUND, "groupe introuvable";
    /// No such démarche.
    DemarcheNotFound = "demarche_not_found", NOT_FOUND, "démarche introuvable";
    /// No such connector, version or instance.
    ConnectorNotFound = "connector_not_found", NOT_FOUND, "connecteur, version ou instance introuvable";
    /// The connector's application has no such record.
    ConnectorRemoteNotFound = "connector_remote_not_found", NOT_FOUND, "l'application métier ne connaît pas cet enregistrement";
    /// The route exists, not with this method.
    MethodNotAllowed = "method_not_allowed", METHOD_NOT_ALLOWED, "méthode non prise en charge à cette adresse";
    /// A concurrent change or a uniqueness rule refused the write.
    Conflict = "conflict", CONFLICT, "conflit : la donnée a changé ou existe déjà";
    /// The login is already taken.
    LoginTaken = "login_taken", CONFLICT, "identifiant déjà utilisé";
    /// The group already exists.
    GroupExists = "group_exists", CONFLICT, "ce groupe existe déjà";
    /// The change would leave nobody holding administration.
    LastAdministrator = "last_administrator", CONFLICT, "le dernier administrateur doit rester";
    /// The action is not open from the demande's status.
    ActionNotAllowed = "action_not_allowed", CONFLICT, "action impossible dans l'état de la demande";
    /// The démarche is outside its open period.
    DemarcheClosed = "demarche_closed", CONFLICT, "démarche fermée au dépôt";
    /// The demande can no longer be changed.
    DemandeFrozen = "demande_frozen", CONFLICT, "demande figée";
    /// The connector version conflicts with what is installed.
    ConnectorConflict = "connector_conflict", CONFLICT, "conflit de version du connecteur";
    /// The job was abandoned by an administrator: it is never run again.
    JobAbandoned = "job_abandoned", CONFLICT, "tâche abandonnée : elle ne sera plus exécutée";
    /// The job is not failed for good: nothing to retry or abandon.
    JobNotFailed = "job_not_failed", CONFLICT, "la tâche n'est pas en échec définitif";
    /// A survey link altered, or not made by this platform.
    LienInvalide = "lien_invalide", NOT_FOUND, "lien d'enquête invalide";
    /// A survey link past its time.
    EnqueteExpiree = "enquete_expiree", GONE, "lien d'enquête expiré";
    /// The demande's survey was answered already.
    EnqueteDejaRepondue = "enquete_deja_repondue", CONFLICT, "enquête déjà répondue";
    /// A password link altered, or its account gone.
    LienMotDePasseInvalide = "lien_mot_de_passe_invalide", NOT_FOUND, "lien de mot de passe invalide";
    /// A password link used already, or past its time.
    LienMotDePasseEpuise = "lien_mot_de_passe_epuise", GONE, "lien de mot de passe déjà utilisé ou expiré";
    /// The body is too large.
    PayloadTooLarge = "payload_too_large", PAYLOAD_TOO_LARGE, "requête trop volumineuse";
    /// The body's content type is not one the route reads.
    UnsupportedMediaType = "unsupported_media_type", UNSUPPORTED_MEDIA_TYPE, "type de contenu non pris en charge";
    /// JSON of the wrong shape (unknown or missing property, wrong type).
    InvalidBody = "invalid_body", UNPROCESSABLE_ENTITY, "contenu JSON non conforme";
    /// A text holds a control character.
    ControlCharacter = "control_character", UNPROCESSABLE_ENTITY, "caractère de contrôle interdit";
    /// Field by field problems, listed in `errors`.
    ValidationFailed = "validation_failed", UNPROCESSABLE_ENTITY, "le formulaire comporte des erreurs (voir errors)";
    /// A value the store cannot keep (a reference to nothing…).
    Invalid = "invalid", UNPROCESSABLE_ENTITY, "donnée refusée";
    /// No such action in the workflow.
    UnknownAction = "unknown_action", UNPROCESSABLE_ENTITY, "action inconnue";
    /// The action's inputs are missing, unexpected or too long.
    InvalidAction = "invalid_action", UNPROCESSABLE_ENTITY, "données de l'action invalides";
    /// The action needs `confirmed: true`.
    ConfirmationRequired = "confirmation_required", UNPROCESSABLE_ENTITY, "confirmation requise";
    /// The service named is not one the demande may go to.
    InvalidService = "invalid_service", UNPROCESSABLE_ENTITY, "service invalide";
    /// A démarche definition with problems, listed in `errors`.
    InvalidDefinition = "invalid_definition", UNPROCESSABLE_ENTITY, "définition de démarche invalide (voir errors)";
    /// A component that cannot be installed.
    ConnectorInvalid = "connector_invalid", UNPROCESSABLE_ENTITY, "composant de connecteur invalide";
    /// An instance configuration that does not fit the connector.
    ConnectorConfigInvalid = "connector_config_invalid", UNPROCESSABLE_ENTITY, "configuration d'instance invalide";
    /// The connector refused the input.
    ConnectorInvalidInput = "connector_invalid_input", UNPROCESSABLE_ENTITY, "donnée refusée par le connecteur";
    /// Parameters of an account link the caller may not give, or missing.
    LinkParamsInvalid = "link_params_invalid", UNPROCESSABLE_ENTITY, "paramètres de rattachement non admis ou manquants";
    /// The vendor refused the proof of an account link.
    LinkRefused = "link_refused", UNPROCESSABLE_ENTITY, "rattachement refusé : preuve incorrecte ou dossier introuvable";
    /// Too many failed logins: wait `Retry-After` seconds.
    TooManyAttempts = "too_many_attempts", TOO_MANY_REQUESTS, "trop de tentatives : réessayer après Retry-After";
    /// An error of the server; the detail is in its logs.
    Internal = "internal", INTERNAL_SERVER_ERROR, "erreur interne du serveur";
    /// The connector's application is unavailable.
    ConnectorUnavailable = "connector_unavailable", BAD_GATEWAY, "application métier indisponible";
    /// The connector's application refused.
    ConnectorRejected = "connector_rejected", BAD_GATEWAY, "refusé par l'application métier";
    /// The connector instance is misconfigured.
    ConnectorConfiguration = "connector_configuration", BAD_GATEWAY, "configuration du connecteur en défaut";
    /// Another error of the connector.
    ConnectorError = "connector_error", BAD_GATEWAY, "erreur du connecteur";
    /// The connector stopped on an internal error.
    ConnectorTrap = "connector_trap", BAD_GATEWAY, "le connecteur s'est arrêté sur une erreur interne";
    /// The connector used more memory than allowed.
    ConnectorMemoryLimit = "connector_memory_limit", BAD_GATEWAY, "le connecteur a dépassé sa limite de mémoire";
    /// The host could not run the connector.
    ConnectorHostError = "connector_host_error", BAD_GATEWAY, "appel du connecteur impossible";
    /// Password hashing is saturated: wait `Retry-After` seconds.
    ServiceBusy = "service_busy", SERVICE_UNAVAILABLE, "service saturé : réessayer après Retry-After";
    /// The connector did not answer in time.
    ConnectorTimeout = "connector_timeout", GATEWAY_TIMEOUT, "le connecteur n'a pas répondu à temps";
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl JsonSchema for ErrorCode {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ErrorCode".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let codes: Vec<serde_json::Value> = ErrorCode::ALL
            .iter()
            .map(|code| {
                serde_json::json!({
                    "const": code.as_str(),
                    "description": format!("{} — {}", code.status().as_u16(), code.meaning()),
                })
            })
            .collect();
        schemars::json_schema!({
            "type": "string",
            "description": "Code stable de l'erreur ; chaque code a toujours le même statut HTTP.",
            "oneOf": codes,
        })
    }
}
