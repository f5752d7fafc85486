//! The usager's account on the portal: log in (`/connexion`), log out
//! (`/deconnexion`), register (`/inscription`), and *Mon compte*
//! (`/mon-compte`): the profile that prefills forms, and the links to
//! the vendors' records (the family at Espace famille).
//!
//! The rules are `service::accounts` and `service::links`: this module
//! reads the forms, shows their errors field by field, and writes the
//! session cookie (`crate::http::auth::session_set_cookie`, the API's).

use askama::Template;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::NaiveDate;
use guichet_core::value::Address;
use guichet_store::link::AccountLink;
use serde::Deserialize;

use super::session::{Checked, Posted, Usager, safe_return};
use super::{ErrorView, Errors, Site, failure, message, page, see_other};
use crate::http::AppState;
use crate::http::auth::{ClientAddress, SESSION_CLEARED, session_cookie, session_set_cookie};
use crate::service::accounts::{self, ProfileForm, Registration};
use crate::service::{Caller, ServiceError, links};

/// The routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/connexion", get(login_page).post(login))
        .route("/deconnexion", post(logout))
        .route("/inscription", get(register_page).post(register))
        .route("/mon-compte", get(account_page).post(update_profile))
        .route("/mon-compte/rattachements", post(link))
        .route("/mon-compte/rattachements/supprimer", post(unlink))
        .route(
            "/mon-compte/supprimer",
            get(delete_page).post(delete_account),
        )
}

/// The errors of a service call on a form, field by field; `None` for an
/// error that is not about the fields.
fn field_errors(error: &ServiceError, prefix: &str) -> Option<Errors> {
    match error {
        ServiceError::Fields(problems) => Some(Errors(
            problems
                .iter()
                .map(|p| {
                    let name = p.field.strip_prefix(prefix).unwrap_or(&p.field);
                    ErrorView::on(name, p.message.clone())
                })
                .collect(),
        )),
        _ => None,
    }
}

/// A redirection to `suite` with the cookie of the session just opened.
pub(super) fn session_opened(
    state: &AppState,
    suite: &str,
    logged_in: &accounts::LoggedIn,
) -> Response {
    let cookie = session_set_cookie(&state.settings, logged_in.session.token.expose());
    let mut response = see_other(suite);
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[derive(Debug, Default, Deserialize)]
struct Return {
    suite: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/login.html")]
struct LoginPage {
    site: Site,
    login: String,
    suite: String,
    errors: Errors,
}

async fn login_page(site: Site, Query(back): Query<Return>) -> Response {
    page(
        StatusCode::OK,
        &LoginPage {
            site,
            login: String::new(),
            suite: safe_return(back.suite.as_deref()),
            errors: Errors::default(),
        },
    )
}

async fn login(
    State(state): State<AppState>,
    site: Site,
    ClientAddress(address): ClientAddress,
    Checked(posted): Checked,
) -> Response {
    let login = posted.text("login");
    let suite = safe_return(posted.filled("suite").as_deref());
    let refused = |errors: Errors| {
        page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &LoginPage {
                site: site.clone(),
                login: login.clone(),
                suite: suite.clone(),
                errors,
            },
        )
    };
    if login.is_empty() || posted.raw("password").is_empty() {
        let mut errors = Vec::new();
        if login.is_empty() {
            errors.push(ErrorView::on("login", "Saisissez votre adresse e-mail."));
        }
        if posted.raw("password").is_empty() {
            errors.push(ErrorView::on("password", "Saisissez votre mot de passe."));
        }
        return refused(Errors(errors));
    }
    match accounts::log_in(&state.accounts(), &login, &posted.raw("password"), address).await {
        Ok(logged_in) => {
            // The portal's pages are the usagers': an agent goes to the
            // back office unless asked for one of its pages.
            let suite = if logged_in.caller.is_usager()
                || suite.starts_with("/back-office")
                || suite.starts_with("/admin")
            {
                suite.clone()
            } else {
                "/back-office/demandes".to_owned()
            };
            session_opened(&state, &suite, &logged_in)
        }
        Err(ServiceError::InvalidCredentials) => refused(Errors(vec![ErrorView::on(
            "login",
            "Adresse e-mail ou mot de passe incorrect.",
        )])),
        Err(ServiceError::TooManyAttempts(wait)) => refused(Errors(vec![ErrorView::on(
            "login",
            format!(
                "Trop d'essais infructueux : patientez {} seconde(s) avant de réessayer.",
                wait.seconds
            ),
        )])),
        Err(other) => failure(&site, other),
    }
}

async fn logout(
    State(state): State<AppState>,
    site: Site,
    headers: HeaderMap,
    _: Checked,
) -> Response {
    let guichet = state.guichet();
    if let Some(secret) = session_cookie(&headers)
        && let Ok(caller) =
            accounts::authenticate(&guichet, accounts::Presented::Session(secret)).await
        && let Err(error) = accounts::log_out(&guichet, &caller, Some(secret)).await
    {
        return failure(&site, error);
    }
    let mut response = see_other("/");
    response.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static(SESSION_CLEARED),
    );
    response
}

/// The identity fields of the registration and profile forms, as typed.
#[derive(Debug, Clone, Default)]
struct Identity {
    first_name: String,
    last_name: String,
    phone: String,
    birth_date: String,
    street: String,
    complement: String,
    postcode: String,
    city: String,
}

impl Identity {
    fn read(posted: &Posted) -> Identity {
        Identity {
            first_name: posted.text("first_name"),
            last_name: posted.text("last_name"),
            phone: posted.text("phone"),
            birth_date: posted.text("birth_date"),
            street: posted.text("street"),
            complement: posted.text("complement"),
            postcode: posted.text("postcode"),
            city: posted.text("city"),
        }
    }

    /// The address's inputs: name, label, value, `autocomplete` token.
    fn address_fields(&self) -> [(&'static str, &'static str, &str, &'static str); 4] {
        [
            ("street", "Numéro et voie", &self.street, "address-line1"),
            (
                "complement",
                "Complément (bâtiment, étage…)",
                &self.complement,
                "address-line2",
            ),
            ("postcode", "Code postal", &self.postcode, "postal-code"),
            ("city", "Commune", &self.city, "address-level2"),
        ]
    }

    fn of(caller: &Caller) -> Identity {
        let profile = &caller.user.profile;
        let address = profile.address.clone();
        Identity {
            first_name: profile.first_name.clone().unwrap_or_default(),
            last_name: profile.last_name.clone().unwrap_or_default(),
            phone: profile.phone.clone().unwrap_or_default(),
            birth_date: profile
                .birth_date
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
            street: address
                .as_ref()
                .map(|a| a.street.clone())
                .unwrap_or_default(),
            complement: address
                .as_ref()
                .and_then(|a| a.complement.clone())
                .unwrap_or_default(),
            postcode: address
                .as_ref()
                .map(|a| a.postcode.clone())
                .unwrap_or_default(),
            city: address.map(|a| a.city).unwrap_or_default(),
        }
    }

    /// The profile to give the service, or the errors of the fields the
    /// service does not read (the date, an address given in part).
    fn form(&self) -> Result<ProfileForm, Errors> {
        let mut errors = Vec::new();
        let birth_date = match self.birth_date.as_str() {
            "" => None,
            text => match guichet_core::format::parse_date(text)
                .or_else(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
            {
                Some(date) => Some(date),
                None => {
                    errors.push(ErrorView::on(
                        "birth_date",
                        "Saisissez une date de naissance au format JJ/MM/AAAA.",
                    ));
                    None
                }
            },
        };
        let parts = [&self.street, &self.postcode, &self.city];
        let address = if parts.iter().all(|p| p.is_empty()) {
            None
        } else {
            for (name, value, what) in [
                ("street", &self.street, "le numéro et la voie"),
                ("postcode", &self.postcode, "le code postal"),
                ("city", &self.city, "la commune"),
            ] {
                if value.is_empty() {
                    errors.push(ErrorView::on(
                        name,
                        format!("Complétez l'adresse : saisissez {what}."),
                    ));
                }
            }
            Some(Address {
                street: self.street.clone(),
                complement: Some(self.complement.clone()).filter(|c| !c.is_empty()),
                postcode: self.postcode.clone(),
                city: self.city.clone(),
                label: None,
                latitude: None,
                longitude: None,
            })
        };
        if !errors.is_empty() {
            return Err(Errors(errors));
        }
        Ok(ProfileForm {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            phone: Some(self.phone.clone()).filter(|p| !p.is_empty()),
            address,
            birth_date,
        })
    }
}

#[derive(Template)]
#[template(path = "portal/register.html")]
struct RegisterPage {
    site: Site,
    login: String,
    identity: Identity,
    errors: Errors,
}

async fn register_page(site: Site) -> Response {
    page(
        StatusCode::OK,
        &RegisterPage {
            site,
            login: String::new(),
            identity: Identity::default(),
            errors: Errors::default(),
        },
    )
}

async fn register(
    State(state): State<AppState>,
    site: Site,
    ClientAddress(address): ClientAddress,
    Checked(posted): Checked,
) -> Response {
    let login = posted.text("login");
    let identity = Identity::read(&posted);
    let refused = |errors: Errors| {
        page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &RegisterPage {
                site: site.clone(),
                login: login.clone(),
                identity: identity.clone(),
                errors,
            },
        )
    };
    let profile = match identity.form() {
        Ok(profile) => profile,
        Err(errors) => return refused(errors),
    };
    let password = posted.raw("password");
    if password != posted.raw("password_confirmation") {
        return refused(Errors(vec![ErrorView::on(
            "password_confirmation",
            "Les deux mots de passe saisis sont différents.",
        )]));
    }
    let registration = Registration {
        login: login.clone(),
        password: password.clone(),
        profile,
    };
    let accounts = state.accounts();
    match accounts::register(&accounts, registration).await {
        Ok(_) => {}
        Err(ServiceError::LoginTaken(_)) => {
            return refused(Errors(vec![ErrorView::on(
                "login",
                "Un compte existe déjà avec cette adresse e-mail : connectez-vous.",
            )]));
        }
        Err(error) => {
            return match field_errors(&error, "profile.") {
                Some(errors) => refused(errors),
                None => failure(&site, error),
            };
        }
    }
    // Registered: the usager is logged in at once.
    match accounts::log_in(&accounts, &login, &password, address).await {
        Ok(logged_in) => session_opened(&state, "/mon-compte?cree=1", &logged_in),
        Err(_) => see_other("/connexion"),
    }
}

/// A vendor the usager may link their account to.
struct Offer {
    instance: String,
    /// Its name for people.
    label: String,
    /// The parameters of the proof, each with its label.
    params: Vec<(String, String)>,
    /// The link made, if any.
    link: Option<AccountLink>,
}

/// A proof parameter's label.
pub(crate) fn param_label(name: &str) -> String {
    match name {
        "family-code" => "Code famille".to_owned(),
        "secret" => "Code secret".to_owned(),
        "last-name" => "Nom".to_owned(),
        "first-name" => "Prénom".to_owned(),
        "birth-date" => "Date de naissance (AAAA-MM-JJ)".to_owned(),
        other => other.replace('-', " "),
    }
}

/// An instance's name for people: its connector's name, capitalised, with
/// spaces (`espace-famille` → « Espace famille »).
pub(crate) fn instance_label(state: &AppState, instance: &str) -> String {
    let name = state
        .registry
        .instance(instance)
        .map_or_else(|| instance.to_owned(), |info| info.connector);
    let spaced = name.replace('-', " ");
    let mut chars = spaced.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[derive(Template)]
#[template(path = "portal/account.html")]
struct AccountPage {
    site: Site,
    login: String,
    created: bool,
    saved: bool,
    identity: Identity,
    offers: Vec<Offer>,
    /// The instance whose link form has `errors`, if any.
    link_errors: Option<(String, Errors)>,
    linked: Option<String>,
    errors: Errors,
}

impl AccountPage {
    fn link_error(&self, instance: &str) -> Option<&Errors> {
        self.link_errors
            .as_ref()
            .filter(|(i, _)| i == instance)
            .map(|(_, e)| e)
    }
}

#[derive(Debug, Default, Deserialize)]
struct AccountQuery {
    cree: Option<String>,
    enregistre: Option<String>,
    rattache: Option<String>,
}

async fn offers(state: &AppState, caller: &Caller) -> Result<Vec<Offer>, ServiceError> {
    let guichet = state.guichet();
    let mine = links::mine(&guichet, caller).await?;
    Ok(links::offered(&guichet)
        .await?
        .into_iter()
        .map(|(instance, source)| Offer {
            label: instance_label(state, &instance),
            params: source
                .usager_params
                .iter()
                .map(|p| (p.clone(), param_label(p)))
                .collect(),
            link: mine.iter().find(|l| l.instance == instance).cloned(),
            instance,
        })
        .collect())
}

async fn account_page(
    State(state): State<AppState>,
    site: Site,
    Usager(caller): Usager,
    Query(query): Query<AccountQuery>,
) -> Response {
    let offers = match offers(&state, &caller).await {
        Ok(offers) => offers,
        Err(error) => return failure(&site, error),
    };
    page(
        StatusCode::OK,
        &AccountPage {
            site,
            login: caller.user.login.clone(),
            created: query.cree.is_some(),
            saved: query.enregistre.is_some(),
            identity: Identity::of(&caller),
            offers,
            link_errors: None,
            linked: query.rattache.map(|i| instance_label(&state, &i)),
            errors: Errors::default(),
        },
    )
}

async fn update_profile(
    State(state): State<AppState>,
    site: Site,
    Usager(caller): Usager,
    Checked(posted): Checked,
) -> Response {
    let identity = Identity::read(&posted);
    let result = match identity.form() {
        Ok(form) => accounts::update_profile(&state.guichet(), &caller, form)
            .await
            .map_err(|error| field_errors(&error, "").ok_or(error)),
        Err(errors) => Err(Ok(errors)),
    };
    match result {
        Ok(_) => see_other("/mon-compte?enregistre=1"),
        Err(Err(error)) => failure(&site, error),
        Err(Ok(errors)) => {
            let offers = match offers(&state, &caller).await {
                Ok(offers) => offers,
                Err(error) => return failure(&site, error),
            };
            page(
                errors.status(),
                &AccountPage {
                    site,
                    login: caller.user.login.clone(),
                    created: false,
                    saved: false,
                    identity,
                    offers,
                    link_errors: None,
                    linked: None,
                    errors,
                },
            )
        }
    }
}

async fn link(
    State(state): State<AppState>,
    site: Site,
    Usager(caller): Usager,
    Checked(posted): Checked,
) -> Response {
    let instance = posted.text("instance");
    let guichet = state.guichet();
    let offers_now = match offers(&state, &caller).await {
        Ok(offers) => offers,
        Err(error) => return failure(&site, error),
    };
    let Some(offer) = offers_now.iter().find(|o| o.instance == instance) else {
        return failure(
            &site,
            ServiceError::NotFound("ce rattachement n'est pas proposé"),
        );
    };
    let params = offer
        .params
        .iter()
        .map(|(name, _)| (name.clone(), posted.text(&format!("param_{name}"))))
        .collect();
    let missing: Vec<ErrorView> = offer
        .params
        .iter()
        .filter(|(name, _)| posted.text(&format!("param_{name}")).is_empty())
        .map(|(name, label)| {
            let id = format!("{instance}-{name}");
            ErrorView {
                field: id.clone(),
                anchor: id,
                message: format!("Saisissez le {}.", label.to_lowercase()),
                label: None,
            }
        })
        .collect();
    let errors = if missing.is_empty() {
        let problem = match links::link(&guichet, &caller, &instance, params).await {
            Ok(_) => {
                return see_other(&format!(
                    "/mon-compte?rattache={}",
                    super::urlencoded(&instance)
                ));
            }
            Err(ServiceError::LinkRefused(_)) => "Ces codes ne correspondent à aucun dossier : vérifiez-les sur le courrier reçu de l'application du service.".to_owned(),
            Err(ServiceError::LinkParams(text)) => text,
            Err(error) if error_is_unavailable(&error) => "L'application du service ne répond pas pour le moment : réessayez dans quelques minutes.".to_owned(),
            Err(error) => return failure(&site, error),
        };
        let first = offer
            .params
            .first()
            .map(|(name, _)| format!("{instance}-{name}"))
            .unwrap_or_default();
        Errors(vec![ErrorView {
            field: first.clone(),
            anchor: first,
            message: problem,
            label: None,
        }])
    } else {
        Errors(missing)
    };
    page(
        StatusCode::UNPROCESSABLE_ENTITY,
        &AccountPage {
            site,
            login: caller.user.login.clone(),
            created: false,
            saved: false,
            identity: Identity::of(&caller),
            offers: offers_now,
            link_errors: Some((instance, errors.clone())),
            linked: None,
            errors,
        },
    )
}

/// Whether a failure is a vendor that does not answer (the connector's
/// error, as `service::links` gives it).
pub(crate) fn error_is_unavailable(error: &ServiceError) -> bool {
    matches!(error, ServiceError::Registry(_))
}

async fn unlink(
    State(state): State<AppState>,
    site: Site,
    Usager(caller): Usager,
    Checked(posted): Checked,
) -> Response {
    match links::unlink(&state.guichet(), &caller, &posted.text("instance")).await {
        Ok(()) => see_other("/mon-compte"),
        Err(error) => failure(&site, error),
    }
}

#[derive(Template)]
#[template(path = "portal/delete_account.html")]
struct DeletePage {
    site: Site,
    errors: Errors,
}

async fn delete_page(site: Site, Usager(_): Usager) -> Response {
    page(
        StatusCode::OK,
        &DeletePage {
            site,
            errors: Errors::default(),
        },
    )
}

async fn delete_account(
    State(state): State<AppState>,
    site: Site,
    Usager(caller): Usager,
    ClientAddress(address): ClientAddress,
    Checked(posted): Checked,
) -> Response {
    let refused = |text: String| {
        page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &DeletePage {
                site: site.clone(),
                errors: Errors(vec![ErrorView::on("password", text)]),
            },
        )
    };
    let password = posted.raw("password");
    if password.is_empty() {
        return refused("Saisissez votre mot de passe pour confirmer.".to_owned());
    }
    match accounts::delete_account(&state.accounts(), &caller, &password, address).await {
        Ok(()) => {
            let gone = Site {
                user: None,
                ..site.clone()
            };
            let mut response = message(
                &gone,
                StatusCode::OK,
                "Compte supprimé",
                "Votre compte, vos brouillons et vos rattachements sont supprimés. Les demandes déjà déposées restent traitées par les services, qui les conservent le temps prévu par la loi.",
            );
            response.headers_mut().append(
                header::SET_COOKIE,
                HeaderValue::from_static(SESSION_CLEARED),
            );
            response
        }
        Err(ServiceError::InvalidCredentials) => refused("Mot de passe incorrect.".to_owned()),
        Err(ServiceError::TooManyAttempts(wait)) => refused(format!(
            "Trop d'essais infructueux : patientez {} seconde(s) avant de réessayer.",
            wait.seconds
        )),
        Err(error) => failure(&site, error),
    }
}
