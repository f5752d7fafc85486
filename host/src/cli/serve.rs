//! `guichet serve`, `guichet migrate`, `guichet admin create` and `guichet
//! admin rotate-master-key`: run the platform, bring a database up to date,
//! create the first administrator, put the database under a new master
//! key.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, Subcommand};
use guichet_core::calendar::Zone;
use guichet_core::clock::{Clock, SystemClock};
use guichet_core::role::{Grant, GroupName, Scope};
use guichet_store::StoreError;
use guichet_store::account::{NewUser, UserKind};

use super::{Failure, say};
use crate::app::{App, Config, open_store};
use crate::service::accounts::{PasswordCost, check_password, hash_password};

/// Where the data lives.
#[derive(Debug, Args)]
pub(super) struct Database {
    /// Data directory: attachments, component cache, default SQLite file.
    #[arg(long, env = "GUICHET_DATA_DIR", default_value = "guichet-data")]
    pub data_dir: PathBuf,
    /// Database URL (`sqlite://…` or `postgres://…`); default: the SQLite
    /// file `guichet.db` in the data directory.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// File of the master key that seals personal values in the database
    /// (32 bytes in base64, mode 0600); default: `master.key` in the data
    /// directory, created on first start. Every host of one database uses
    /// the same key; keep it out of the database's backups.
    #[arg(long, env = "GUICHET_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,
}

impl Database {
    pub(super) fn config(&self, listen: SocketAddr) -> Config {
        let mut config = Config::new(self.data_dir.clone(), self.database_url.clone(), listen);
        config.master_key_file = self.master_key_file.clone();
        config
    }
}

/// Options of `guichet serve`.
#[derive(Debug, Args)]
pub(super) struct Serve {
    /// Address of the API.
    #[arg(long, env = "GUICHET_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    #[command(flatten)]
    database: Database,
    /// Mark the session cookie `Secure` (when served behind HTTPS).
    #[arg(long)]
    secure_cookies: bool,
    /// The collectivité's time zone (IANA name: `Europe/Paris`,
    /// `Indian/Reunion`, `America/Guadeloupe`…), in which every calendar
    /// date is read.
    #[arg(long, env = "GUICHET_TIME_ZONE", default_value = "Europe/Paris")]
    time_zone: String,
    /// Days a demande stays in the trash (restorable) before it is purged.
    #[arg(long, env = "GUICHET_TRASH_RETENTION_DAYS", default_value_t = 30)]
    trash_retention_days: u32,
    /// Days an unsent draft is kept after its last save.
    #[arg(long, env = "GUICHET_DRAFT_RETENTION_DAYS", default_value_t = 90)]
    draft_retention_days: u32,
    /// Seconds between two comparisons of the connector registry with the
    /// database, which catch changes made by the command line or by
    /// another host (PostgreSQL also announces them at once); 0: only
    /// PostgreSQL's announcements.
    #[arg(long, env = "GUICHET_REGISTRY_POLL_SECONDS", default_value_t = 5)]
    registry_poll_seconds: u64,
    /// `production` on the collectivité's production host (shows the
    /// démarches' *Je donne mon avis* button of the national Observatoire),
    /// `test` elsewhere.
    #[arg(long, env = "GUICHET_ENVIRONMENT", default_value = "test", value_parser = ["test", "production"])]
    environment: String,
    /// The portal's main colour (`#1d4f91`): the header's background and
    /// the links'; it must give a contrast of 4.5:1 with white.
    #[arg(long, env = "GUICHET_PORTAL_COLOUR")]
    portal_colour: Option<String>,
    /// The collectivité's logo on the portal: a PNG or JPEG file, 200 KB
    /// at most.
    #[arg(long, env = "GUICHET_LOGO_FILE")]
    logo_file: Option<std::path::PathBuf>,
    #[command(flatten)]
    notify: super::notify::Notify,
}

pub(super) async fn serve(options: Serve) -> Result<(), Failure> {
    let mut config = options.database.config(options.listen);
    config.settings.secure_cookies = options.secure_cookies;
    config.settings.environment = match options.environment.as_str() {
        "production" => crate::service::Environment::Production,
        _ => crate::service::Environment::Test,
    };
    config.settings.time_zone =
        Zone::parse(&options.time_zone).map_err(|e| Failure::input(e.to_string()))?;
    config.settings.retention = crate::scheduler::Retention {
        trash: chrono::Duration::days(i64::from(options.trash_retention_days)),
        drafts: chrono::Duration::days(i64::from(options.draft_retention_days)),
    };
    config.settings.collectivite = options.notify.collectivite.clone();
    let logo = match &options.logo_file {
        Some(path) => Some(
            std::fs::read(path).map_err(|e| Failure::input(format!("{} : {e}", path.display())))?,
        ),
        None => None,
    };
    config.settings.look = Arc::new(
        crate::web::Look::new(options.portal_colour.as_deref(), logo)
            .map_err(|e| Failure::input(format!("--portal-colour / --logo-file : {e}")))?,
    );
    let delivery = options.notify.delivery(options.listen)?;
    if delivery.mailer.is_none() {
        tracing::warn!("no SMTP server configured (--smtp-host): mails wait in the queue");
    }
    config.settings.delivery = Arc::new(delivery);
    config.registry_poll = (options.registry_poll_seconds > 0)
        .then(|| std::time::Duration::from_secs(options.registry_poll_seconds));
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let app = App::start(&config, clock)
        .await
        .map_err(|e| Failure::input(e.to_string()))?;
    tracing::info!(listen = %config.listen, data_dir = %config.data_dir.display(), time_zone = %config.settings.time_zone, "Guichet démarre");
    say(&format!("Guichet écoute sur http://{}", config.listen));
    app.serve(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .map_err(|e| Failure::call(e.to_string()))
}

pub(super) async fn migrate(options: Database) -> Result<(), Failure> {
    let config = options.config(SocketAddr::from(([127, 0, 0, 1], 0)));
    let store = open_store(&config)
        .await
        .map_err(|e| Failure::input(e.to_string()))?;
    store.close().await;
    say(&format!(
        "Base de données à jour : {}",
        redact(&config.database_url)
    ));
    Ok(())
}

/// The URL without its password.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

#[derive(Debug, Subcommand)]
pub(super) enum AdminCommand {
    /// Creates an administrator: an agent account in an `Admin_…` group
    /// granted on every démarche.
    Create {
        /// Login of the account.
        #[arg(long)]
        login: String,
        /// Password (at least 12 characters, hard to guess).
        #[arg(long, env = "GUICHET_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
        /// The administrators' group.
        #[arg(long, default_value = "Admin_SVL_DSI_Guichet")]
        group: String,
        #[command(flatten)]
        database: Database,
    },
    /// Puts the database under a new master key: every data key is
    /// rewrapped in one transaction (sealed values are not rewritten). Stop
    /// every host first; start them afterwards with the new key file.
    RotateMasterKey {
        /// The new key's file: read if it exists, else created with a new
        /// random key (mode 0600).
        #[arg(long)]
        new_master_key_file: PathBuf,
        #[command(flatten)]
        database: Database,
    },
}

pub(super) async fn admin(command: AdminCommand) -> Result<(), Failure> {
    let (login, password, group, database) = match command {
        AdminCommand::Create {
            login,
            password,
            group,
            database,
        } => (login, password, group, database),
        AdminCommand::RotateMasterKey {
            new_master_key_file,
            database,
        } => return rotate_master_key(&new_master_key_file, &database).await,
    };
    check_password("password", &password, &[&login])
        .map_err(|problem| Failure::input(problem.message))?;
    let group = GroupName::parse(&group).map_err(|e| Failure::input(e.to_string()))?;
    let config = database.config(SocketAddr::from(([127, 0, 0, 1], 0)));
    let store = open_store(&config)
        .await
        .map_err(|e| Failure::input(e.to_string()))?;
    let now = SystemClock.now();
    let hash = hash_password(password, PasswordCost::Standard)
        .await
        .map_err(|e| Failure::call(e.to_string()))?;
    let user = store
        .create_user(
            NewUser {
                display_name: login.clone(),
                login,
                kind: UserKind::Agent,
                profile: Default::default(),
                password_hash: Some(hash),
            },
            now,
        )
        .await
        .map_err(|e| Failure::input(e.to_string()))?;
    ensure_group(&store, &group, now).await?;
    store
        .add_member(&group, user.id)
        .await
        .map_err(|e| Failure::call(e.to_string()))?;
    store.close().await;
    say(&format!(
        "Administrateur « {} » créé dans le groupe {group}.",
        user.login
    ));
    Ok(())
}

/// Creates a group granted on every démarche, unless it exists.
pub(super) async fn ensure_group(
    store: &guichet_store::Store,
    group: &GroupName,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), Failure> {
    match store.create_group(group, now).await {
        Ok(()) | Err(StoreError::Conflict(_)) => {}
        Err(e) => return Err(Failure::call(e.to_string())),
    }
    let grant = Grant {
        group: group.clone(),
        scope: Scope::All,
    };
    match store.grant(&grant, now).await {
        Ok(()) | Err(StoreError::Conflict(_)) => Ok(()),
        Err(e) => Err(Failure::call(e.to_string())),
    }
}

/// `guichet admin rotate-master-key`.
async fn rotate_master_key(new_file: &std::path::Path, database: &Database) -> Result<(), Failure> {
    let config = database.config(SocketAddr::from(([127, 0, 0, 1], 0)));
    let current = config.master_key_path();
    if !current.is_file() {
        return Err(Failure::input(format!(
            "clé maîtresse actuelle introuvable : {}",
            current.display()
        )));
    }
    if new_file == current {
        return Err(Failure::input(
            "la nouvelle clé doit être dans un autre fichier que l'actuelle",
        ));
    }
    let new = guichet_store::MasterKey::load_or_create(new_file)
        .map_err(|e| Failure::input(format!("nouvelle clé : {e}")))?;
    let store = open_store(&config)
        .await
        .map_err(|e| Failure::input(e.to_string()))?;
    let rewrapped = store
        .rotate_master_key(&new)
        .await
        .map_err(|e| Failure::input(e.to_string()));
    store.close().await;
    say(&format!(
        "{} clé(s) de données rechiffrée(s) sous la nouvelle clé maîtresse. Démarrez \
         désormais Guichet avec --master-key-file {} ; gardez l'ancienne clé hors ligne \
         tant que les sauvegardes antérieures sont conservées.",
        rewrapped?,
        new_file.display()
    ));
    Ok(())
}
