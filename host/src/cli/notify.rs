//! The options of `guichet serve` (and `guichet demo`) that say how
//! notifications leave: the SMTP server and sender, the SMS gateway, the
//! portal's address for links, the survey's window.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;

use super::Failure;
use crate::mail::{MailSettings, Mailer, SmtpSecurity};
use crate::service::notifications::Delivery;

/// Mail, SMS and links.
#[derive(Debug, Clone, Args)]
pub(super) struct Notify {
    /// The address usagers reach the portal at (`https://demarches.ville.fr`),
    /// the base of the links in mails and SMS; default: the API's address.
    #[arg(long, env = "GUICHET_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The collectivité's name, shown on the portal's pages and in mails
    /// (`Ville de Saint-Laurent`).
    #[arg(long, env = "GUICHET_COLLECTIVITE", default_value = "Guichet")]
    pub collectivite: String,
    /// The SMTP server mails go through; without it, mails wait in the
    /// queue.
    #[arg(long, env = "GUICHET_SMTP_HOST")]
    pub smtp_host: Option<String>,
    /// Its port.
    #[arg(long, env = "GUICHET_SMTP_PORT", default_value_t = 587)]
    pub smtp_port: u16,
    /// How the connection is protected: `starttls` (required, port 587),
    /// `tls` (port 465) or `none` (a relay on the same network).
    #[arg(
        long,
        env = "GUICHET_SMTP_SECURITY",
        value_enum,
        default_value = "starttls"
    )]
    pub smtp_security: SmtpSecurity,
    /// The SMTP login, when the server asks for one.
    #[arg(long, env = "GUICHET_SMTP_USER")]
    pub smtp_user: Option<String>,
    /// The SMTP password.
    #[arg(long, env = "GUICHET_SMTP_PASSWORD", hide_env_values = true)]
    pub smtp_password: Option<String>,
    /// The sender (`Ville de Saint-Laurent <ne-pas-repondre@ville.fr>`);
    /// required with an SMTP server.
    #[arg(long, env = "GUICHET_MAIL_FROM")]
    pub mail_from: Option<String>,
    /// Where answers to the mails go, when not to the sender.
    #[arg(long, env = "GUICHET_MAIL_REPLY_TO")]
    pub mail_reply_to: Option<String>,
    /// The connector instance that sends SMS (an SMS gateway such as
    /// `plugins/sms`); without it, SMS are not sent.
    #[arg(long, env = "GUICHET_SMS_GATEWAY")]
    pub sms_gateway: Option<String>,
    /// Days a survey link stays valid.
    #[arg(long, env = "GUICHET_SURVEY_DAYS", default_value_t = crate::service::survey::DEFAULT_DAYS)]
    pub survey_days: u32,
}

impl Notify {
    /// The delivery these options describe, for an API at `listen`.
    ///
    /// # Errors
    /// A [`Failure::input`] for a sender or reply-to that is not an
    /// address, an SMTP server without sender, a password without login.
    pub(super) fn delivery(&self, listen: SocketAddr) -> Result<Delivery, Failure> {
        let mailer = match &self.smtp_host {
            None => None,
            Some(host) => {
                let from = self.mail_from.as_deref().ok_or_else(|| {
                    Failure::input("--mail-from est requis avec --smtp-host".to_owned())
                })?;
                let credentials = match (&self.smtp_user, &self.smtp_password) {
                    (Some(user), Some(password)) => Some((user.clone(), password.clone())),
                    (None, None) => None,
                    _ => {
                        return Err(Failure::input(
                            "--smtp-user et --smtp-password vont ensemble".to_owned(),
                        ));
                    }
                };
                let settings = MailSettings {
                    host: host.clone(),
                    port: self.smtp_port,
                    security: self.smtp_security,
                    credentials,
                    from: parse_mailbox("--mail-from", from)?,
                    reply_to: self
                        .mail_reply_to
                        .as_deref()
                        .map(|r| parse_mailbox("--mail-reply-to", r))
                        .transpose()?,
                    timeout: Duration::from_secs(30),
                };
                Some(Mailer::new(&settings, &self.collectivite).map_err(Failure::input)?)
            }
        };
        Ok(Delivery {
            mailer,
            sms_gateway: self.sms_gateway.clone().filter(|g| !g.trim().is_empty()),
            public_url: self
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{listen}"))
                .trim_end_matches('/')
                .to_owned(),
            survey_days: self.survey_days,
        })
    }
}

fn parse_mailbox(option: &str, text: &str) -> Result<lettre::message::Mailbox, Failure> {
    text.parse()
        .map_err(|e| Failure::input(format!("{option} « {text} » : adresse invalide ({e})")))
}
