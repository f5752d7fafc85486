//! `guichet demo`: the platform on loopback, ready to try with `curl`.
//!
//! It starts from a fresh SQLite database in the demo's data directory,
//! installs the ATAL and Espace famille connectors and the SMS gateway and
//! configures them against the simulated vendor servers and SMS provider
//! (which `cargo xtask demo` starts beside it), imports the three example démarches, creates one agent per
//! role of the collectivité's table in groups named like its organisation
//! chart (`Gest_SVL_DACT_Mobilités`…) granted on the examples, plus an
//! usager with a full profile, prints the logins and how to log in, and
//! serves the API with its scheduler until Ctrl-C.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use clap::Args;
use guichet_core::clock::{Clock, SystemClock};
use guichet_core::id::Slug;

use guichet_core::profile::Profile;
use guichet_core::role::{Grant, GroupName, Right, Scope};
use guichet_core::value::Address;
use guichet_store::Store;
use guichet_store::account::{NewUser, UserKind};
use guichet_store::registry::{InstanceUse, LinkSource};

use super::{Failure, say};
use crate::app::{App, Config};
use crate::connectors::{InstanceConfig, Registry};
use crate::mail::{MailSettings, Mailer, SmtpSecurity};
use crate::service::Guichet;
use crate::service::accounts::{PasswordCost, hash_password};
use crate::service::connectors as service;
use crate::service::notifications::Delivery;

/// Options of `guichet demo`.
#[derive(Debug, Args)]
pub(super) struct Demo {
    /// Address of the API.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Directory holding the built connector components.
    #[arg(long, default_value = "target/wasm32-wasip2/guest")]
    components: PathBuf,
    /// Directory of the example démarches.
    #[arg(long, default_value = "examples/demarches")]
    examples: PathBuf,
    /// Base URL of the simulated ATAL.
    #[arg(long, default_value = "http://127.0.0.1:8091")]
    atal_url: String,
    /// API key of the simulated ATAL.
    #[arg(long, default_value = "demo-atal-key")]
    atal_key: String,
    /// Base URL of the simulated Espace famille.
    #[arg(long, default_value = "http://127.0.0.1:8092")]
    famille_url: String,
    /// Token of the simulated Espace famille.
    #[arg(long, default_value = "demo-espace-famille-token")]
    famille_token: String,
    /// SMTP address of the local mail sink (`mail-sim`).
    #[arg(long, default_value = "127.0.0.1:2525")]
    smtp: SocketAddr,
    /// Where the mail sink shows the mails it received.
    #[arg(long, default_value = "http://127.0.0.1:8094")]
    mails_url: String,
    /// Base URL of the simulated SMS provider.
    #[arg(long, default_value = "http://127.0.0.1:8093")]
    sms_url: String,
    /// API key of the simulated SMS provider.
    #[arg(long, default_value = "demo-sms-key")]
    sms_key: String,
    /// Directory for the demo's data (database, files, component cache);
    /// its database and files are reset at each start.
    #[arg(long, default_value = ".guichet-demo")]
    data_dir: PathBuf,
}

/// The example démarches, by file name.
const EXAMPLES: [&str; 3] = [
    "aide-reparation-velo",
    "signalement-voie-publique",
    "inscription-restauration-scolaire",
];

/// One demo account: role, login, password, name, groups.
struct Account {
    role: &'static str,
    login: &'static str,
    password: &'static str,
    name: &'static str,
    groups: &'static [&'static str],
}

const ACCOUNTS: [Account; 7] = [
    Account {
        role: "Agent",
        login: "agent@ville.example.fr",
        password: "agent-demo-2026",
        name: "Alex Accueil",
        groups: &["Agent_SVL_DGS_Accueil"],
    },
    Account {
        role: "Observateur",
        login: "observateur@ville.example.fr",
        password: "observateur-demo-2026",
        name: "Odile Observatrice",
        groups: &["Obs_SVL_DGS_GRU"],
    },
    Account {
        role: "Consultant",
        login: "consultant@ville.example.fr",
        password: "consultant-demo-2026",
        name: "Claude Consultant",
        groups: &["Cons_SVL_DACT_Mobilités"],
    },
    Account {
        role: "Saisie BO",
        login: "saisie@ville.example.fr",
        password: "saisie-demo-2026",
        name: "Sacha Saisie",
        groups: &["Saisie_SVL_DGS_Accueil"],
    },
    Account {
        role: "Gestionnaire",
        login: "gestionnaire@ville.example.fr",
        password: "gestionnaire-demo-2026",
        name: "Dominique Gestionnaire",
        groups: &[
            "Gest_SVL_DACT_Mobilités",
            "Gest_SVL_DTE_Voirie",
            "Gest_SVL_DEJ_RestaurationScolaire",
        ],
    },
    Account {
        role: "Qualité",
        login: "qualite@ville.example.fr",
        password: "qualite-demo-2026",
        name: "Quentin Qualité",
        groups: &["Qual_SVL_DGS_Qualité"],
    },
    Account {
        role: "Administrateur",
        login: "admin@ville.example.fr",
        password: "admin-demo-2026",
        name: "Ada Administratrice",
        groups: &["Admin_SVL_DSI_Guichet"],
    },
];

/// The demo usager.
const USAGER_LOGIN: &str = "camille.martin@example.fr";
const USAGER_PASSWORD: &str = "usager-demo-2026";

/// Groups and what they are granted: a démarche slug, or every démarche.
const GRANTS: [(&str, Option<&str>); 14] = [
    ("Agent_SVL_DGS_Accueil", Some("aide-reparation-velo")),
    ("Agent_SVL_DGS_Accueil", Some("signalement-voie-publique")),
    (
        "Agent_SVL_DGS_Accueil",
        Some("inscription-restauration-scolaire"),
    ),
    ("Obs_SVL_DGS_GRU", Some("aide-reparation-velo")),
    ("Obs_SVL_DGS_GRU", Some("signalement-voie-publique")),
    ("Obs_SVL_DGS_GRU", Some("inscription-restauration-scolaire")),
    ("Cons_SVL_DACT_Mobilités", Some("aide-reparation-velo")),
    ("Saisie_SVL_DGS_Accueil", Some("aide-reparation-velo")),
    ("Saisie_SVL_DGS_Accueil", Some("signalement-voie-publique")),
    ("Gest_SVL_DACT_Mobilités", Some("aide-reparation-velo")),
    ("Gest_SVL_DTE_Voirie", Some("signalement-voie-publique")),
    (
        "Gest_SVL_DEJ_RestaurationScolaire",
        Some("inscription-restauration-scolaire"),
    ),
    ("Qual_SVL_DGS_Qualité", None),
    ("Admin_SVL_DSI_Guichet", None),
];

/// The services a signalement can be transferred to (its `transfer_targets`).
const TRANSFER_TARGETS: [&str; 3] = [
    "Gest_SVL_DTE_Éclairage",
    "Gest_SVL_DTE_Propreté",
    "Gest_SVL_DTE_EspacesVerts",
];

pub(super) async fn run(options: Demo) -> Result<(), Failure> {
    reset(&options.data_dir)?;
    let mut config = Config::new(options.data_dir.clone(), None, options.listen);
    config.settings.delivery = Arc::new(delivery(&options)?);
    config.settings.collectivite = "Ville de Saint-Laurent".to_owned();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let app = App::start(&config, clock.clone())
        .await
        .map_err(|e| Failure::input(e.to_string()))?;
    install_connectors(&app.state.guichet(), &options).await?;
    let now = clock.now();
    let store = &app.state.store;
    for name in EXAMPLES {
        let path = options.examples.join(format!("{name}.yaml"));
        let (definition, source) = super::demarche::read(&path)?;
        store
            .import_demarche(&definition, &source, now)
            .await
            .map_err(fail)?;
    }
    seed_accounts(store, now).await?;
    let token = admin_token(store, now).await?;
    say(&welcome(&options, &app.state.registry, &token));
    app.serve(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .map_err(|e| Failure::call(e.to_string()))
}

fn fail(error: impl std::fmt::Display) -> Failure {
    Failure::call(error.to_string())
}

/// Removes the previous demo's database and files (the component cache stays).
fn reset(data_dir: &Path) -> Result<(), Failure> {
    for name in ["guichet.db", "guichet.db-wal", "guichet.db-shm"] {
        let path = data_dir.join(name);
        if path.exists() {
            std::fs::remove_file(&path)
                .map_err(|e| Failure::input(format!("{} : {e}", path.display())))?;
        }
    }
    let files = data_dir.join("files");
    if files.exists() {
        std::fs::remove_dir_all(&files)
            .map_err(|e| Failure::input(format!("{} : {e}", files.display())))?;
    }
    Ok(())
}

/// The settings of the demo's `atal-ville` instance: the simulated ATAL,
/// the Hôtel de Ville as requester (`105`), and the signalement's address
/// in its field `localisation`. Its category needs no mapping: the usager
/// chooses among ATAL's request types (the data source `thematics`).
pub fn atal_settings(base_url: &str, api_key: &str) -> serde_json::Value {
    serde_json::json!({
        "base_url": base_url,
        "api_key": api_key,
        "requester_id": "105",
        "fields": { "address": "localisation" }
    })
}

/// The settings of the demo's `espace-famille-ville` instance: the
/// simulated Espace famille, and the restauration form's field holding the
/// family's id (`famille`, a choice of the family the usager's account is
/// linked to).
pub fn famille_settings(base_url: &str, token: &str) -> serde_json::Value {
    serde_json::json!({
        "base_url": base_url,
        "token": token,
        "fields": { "family": "famille" }
    })
}

/// How the platform uses the demo's `espace-famille-ville` instance: an
/// usager links their account to their family with its code and secret
/// (the `family-link` source; agents may also use a parent's name and
/// birth date), and registrations are read back every 2 minutes (the
/// instance's interval wins over the démarche's hour), so the card shows
/// soon after the acceptance.
pub fn famille_use() -> InstanceUse {
    InstanceUse {
        link: Some(LinkSource {
            source: "family-link".into(),
            usager_params: vec!["family-code".into(), "secret".into()],
        }),
        sync_every_minutes: Some(2),
    }
}

/// Installs and configures the demo's connectors through the persisted
/// registry, as an administrator would with the API.
async fn install_connectors(guichet: &Guichet, options: &Demo) -> Result<(), Failure> {
    let connectors = [
        (
            "guichet_connector_atal.wasm",
            InstanceConfig {
                id: "atal-ville".into(),
                connector: "atal".into(),
                settings: atal_settings(&options.atal_url, &options.atal_key),
                allowed_hosts: vec![options.atal_url.clone()],
                timeout_ms: None,
                memory_mib: None,
                http: Default::default(),
            },
            // ATAL's work requests are read back every 2 minutes in the
            // demo (a collectivité would say 15), so a work request closed
            // in the simulator closes its demande while one watches.
            InstanceUse {
                link: None,
                sync_every_minutes: Some(2),
            },
        ),
        (
            "guichet_connector_espace_famille.wasm",
            InstanceConfig {
                id: "espace-famille-ville".into(),
                connector: "espace-famille".into(),
                settings: famille_settings(&options.famille_url, &options.famille_token),
                allowed_hosts: vec![options.famille_url.clone()],
                timeout_ms: None,
                memory_mib: None,
                http: Default::default(),
            },
            famille_use(),
        ),
        // The SMS gateway the notifications' delivery sends through.
        (
            "guichet_connector_sms.wasm",
            InstanceConfig {
                id: "sms".into(),
                connector: "sms".into(),
                settings: serde_json::json!({
                    "base_url": options.sms_url,
                    "api_key": options.sms_key,
                    "sender": "MAIRIE"
                }),
                allowed_hosts: vec![options.sms_url.clone()],
                timeout_ms: None,
                memory_mib: None,
                http: Default::default(),
            },
            InstanceUse::default(),
        ),
    ];
    for (file, config, uses) in connectors {
        let path = options.components.join(file);
        let component = std::fs::read(&path)
            .map_err(|e| Failure::input(format!("{} : {e}", path.display())))?;
        service::install(guichet, component)
            .await
            .map_err(|e| Failure::input(format!("{} : {e}", path.display())))?;
        service::configure_with_use(guichet, config, None, uses)
            .await
            .map_err(|e| Failure::input(e.to_string()))?;
    }
    Ok(())
}

fn group(name: &str) -> Result<GroupName, Failure> {
    GroupName::parse(name).map_err(|e| Failure::input(e.to_string()))
}

/// The local part of a group's demo mailbox: its service, lower case,
/// without accents (`Gest_SVL_DTE_Éclairage` → `eclairage`), prefixed by
/// `responsable-` for a Qualité group.
fn mailbox_name(group: &str) -> String {
    use unicode_normalization::UnicodeNormalization as _;
    let service = group.rsplit('_').next().unwrap_or(group);
    let plain: String = service
        .nfd()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_lowercase();
    if group.starts_with("Qual_") {
        format!("responsable-{plain}")
    } else {
        plain
    }
}

async fn seed_accounts(store: &Store, now: DateTime<Utc>) -> Result<(), Failure> {
    let mut names: Vec<&str> = GRANTS.iter().map(|(g, _)| *g).collect();
    names.extend(TRANSFER_TARGETS);
    names.sort_unstable();
    names.dedup();
    for name in names {
        store.create_group(&group(name)?, now).await.map_err(fail)?;
        // Each service's mailbox: where the demo's mails to services go.
        let mailbox = format!("{}@ville-saint-laurent.fr", mailbox_name(name));
        store
            .set_group_mailbox(&group(name)?, Some(&mailbox))
            .await
            .map_err(fail)?;
    }
    for (name, slug) in GRANTS {
        let scope = slug.map_or(Scope::All, |s| Scope::Demarche(Slug::from(s)));
        store
            .grant(
                &Grant {
                    group: group(name)?,
                    scope,
                },
                now,
            )
            .await
            .map_err(fail)?;
    }
    for target in TRANSFER_TARGETS {
        let grant = Grant {
            group: group(target)?,
            scope: Scope::Demarche(Slug::from("signalement-voie-publique".to_owned())),
        };
        store.grant(&grant, now).await.map_err(fail)?;
    }
    let hashes = futures::future::try_join_all(
        ACCOUNTS
            .iter()
            .map(|a| a.password)
            .chain([USAGER_PASSWORD])
            .map(|password| hash_password(password.to_owned(), PasswordCost::Standard)),
    )
    .await
    .map_err(|e| Failure::call(e.to_string()))?;
    for (account, hash) in ACCOUNTS.iter().zip(&hashes) {
        let user = store
            .create_user(
                NewUser {
                    login: account.login.to_owned(),
                    display_name: account.name.to_owned(),
                    kind: UserKind::Agent,
                    profile: Profile {
                        email: Some(account.login.to_owned()),
                        ..Profile::default()
                    },
                    password_hash: Some(hash.clone()),
                },
                now,
            )
            .await
            .map_err(fail)?;
        for name in account.groups {
            store
                .add_member(&group(name)?, user.id)
                .await
                .map_err(fail)?;
        }
    }
    let usager_hash = hashes.last().cloned().unwrap_or_default();
    store
        .create_user(
            NewUser {
                login: USAGER_LOGIN.to_owned(),
                display_name: "Camille Martin".to_owned(),
                kind: UserKind::Usager,
                profile: usager_profile(),
                password_hash: Some(usager_hash),
            },
            now,
        )
        .await
        .map_err(fail)?;
    Ok(())
}

fn usager_profile() -> Profile {
    Profile {
        first_name: Some("Camille".to_owned()),
        last_name: Some("Martin".to_owned()),
        email: Some(USAGER_LOGIN.to_owned()),
        phone: Some("06 12 34 56 78".to_owned()),
        address: Some(Address {
            street: "12 rue de la République".to_owned(),
            complement: Some("Bâtiment B".to_owned()),
            postcode: "13001".to_owned(),
            city: "Marseille".to_owned(),
            label: None,
            latitude: Some(43.2965),
            longitude: Some(5.3698),
        }),
        birth_date: NaiveDate::from_ymd_opt(1988, 4, 12),
    }
}

/// An API token of the administrator, for the connector administration.
async fn admin_token(store: &Store, now: DateTime<Utc>) -> Result<String, Failure> {
    let admin = store
        .user_by_login("admin@ville.example.fr")
        .await
        .map_err(fail)?;
    let scopes = [Right::Administration]
        .iter()
        .filter_map(|r| serde_json::to_value(r).ok())
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect::<Vec<_>>();
    let (_, secret) = store
        .create_api_token(admin.id, "démo-connecteurs", &scopes, now)
        .await
        .map_err(fail)?;
    Ok(secret.expose().to_owned())
}

/// Mails to the local sink, SMS through the gateway instance `sms`.
fn delivery(options: &Demo) -> Result<Delivery, Failure> {
    let settings = MailSettings {
        host: options.smtp.ip().to_string(),
        port: options.smtp.port(),
        security: SmtpSecurity::None,
        credentials: None,
        from: "Ville de Saint-Laurent <ne-pas-repondre@ville-saint-laurent.fr>"
            .parse()
            .map_err(|e| Failure::input(format!("expéditeur : {e}")))?,
        reply_to: None,
        timeout: std::time::Duration::from_secs(10),
    };
    Ok(Delivery {
        mailer: Some(Mailer::new(&settings, "Ville de Saint-Laurent").map_err(Failure::input)?),
        sms_gateway: Some("sms".to_owned()),
        public_url: format!("http://{}", options.listen),
        ..Delivery::default()
    })
}

fn welcome(options: &Demo, registry: &Registry, token: &str) -> String {
    let base = format!("http://{}", options.listen);
    let mut accounts = String::new();
    for account in &ACCOUNTS {
        accounts.push_str(&format!(
            "  {:<15} {:<32} {:<24} {}\n",
            account.role,
            account.login,
            account.password,
            account.groups.join(", ")
        ));
    }
    accounts.push_str(&format!(
        "  {:<15} {:<32} {}\n",
        "Usager", USAGER_LOGIN, USAGER_PASSWORD
    ));
    format!(
        "Portail des usagers : {base}/ (s'y connecter en usager : {USAGER_LOGIN} / {USAGER_PASSWORD}, ou créer un compte)\n\
         Guichet (démo) écoute sur {base} (API : {base}/api/openapi.json)\n\
         \n\
         Démarches importées : {}\n\
         Connecteurs installés : {}\n\
         Applications simulées : ATAL {} — Espace famille {} — fournisseur de SMS {}\n\
         SMS reçus par le fournisseur simulé (passerelle « sms ») : {}/_sim/messages\n\
         Mails reçus (serveur SMTP local {}) : {}/ (texte) et {}/messages (JSON)\n\
         \n\
         Comptes (rôle, identifiant, mot de passe, groupes) :\n{accounts}\
         \n\
         Se connecter (le cookie de session est gardé dans un fichier) :\n  \
         curl -s -c usager.txt -H 'Content-Type: application/json' \\\n       \
         -d '{{\"login\":\"{USAGER_LOGIN}\",\"password\":\"{USAGER_PASSWORD}\"}}' {base}/api/auth/login\n  \
         curl -s -b usager.txt {base}/api/me\n  \
         curl -s '{base}/api/demarches?q=velo'\n\
         Rattacher le compte de l'usager à sa famille de l'Espace famille (une fois, avant la restauration scolaire) :\n  \
         curl -s -b usager.txt -X PUT -H 'Content-Type: application/json' \\\n       \
         -d '{{\"params\":{{\"family-code\":\"F-0002\",\"secret\":\"s3cret-martin\"}}}}' {base}/api/me/links/espace-famille-ville\n\
         La suite pas à pas : README, section « Démo : déposer et traiter une demande avec curl ».\n\
         Description de l'API : {base}/api/openapi.json\n\
         \n\
         Jeton d'API de l'administrateur (administration des connecteurs) :\n  \
         export TOKEN={token}\n  \
         curl -s -H \"Authorization: Bearer $TOKEN\" {base}/api/connectors/instances\n  \
         curl -s -X POST -H \"Authorization: Bearer $TOKEN\" {base}/api/connectors/instances/atal-ville/check\n  \
         curl -s -X POST -H \"Authorization: Bearer $TOKEN\" -H 'Content-Type: application/json' \\\n       \
         -d '{{\"source\":\"thematics\",\"q\":\"voirie\"}}' {base}/api/connectors/instances/atal-ville/lookup\n  \
         curl -s -H \"Authorization: Bearer $TOKEN\" {base}/api/connectors/journal\n\
         \n\
         Ctrl-C pour arrêter.",
        EXAMPLES.join(", "),
        registry.connectors().join(", "),
        options.atal_url,
        options.famille_url,
        options.sms_url,
        options.sms_url.trim_end_matches('/'),
        options.smtp,
        options.mails_url.trim_end_matches('/'),
        options.mails_url.trim_end_matches('/'),
    )
}
