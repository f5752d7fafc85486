//! Mail through SMTP: the host's settings, the transport, and a message
//! with a plain text part and an HTML part.
//!
//! Libraries: [`lettre`] builds the MIME message (encoded headers,
//! quoted-printable bodies, `multipart/alternative`) and speaks SMTP —
//! plain, STARTTLS or implicit TLS (rustls with the webpki roots), with
//! credentials when given; [`askama`] renders the HTML part from a
//! template compiled into the binary (`templates/mail.html`, escaping
//! every text); [`linkify`] finds the links in the text to make them
//! clickable.
//!
//! What is sent is decided elsewhere (`crate::service::notifications`):
//! this module only turns a rendered text into a mail and hands it to the
//! SMTP server, telling a refusal that will not pass (a `5xx` answer, an
//! invalid address) from one that may (the server down, a `4xx` answer).

use std::time::Duration;

use askama::Template;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum SmtpSecurity {
    /// No TLS (a relay on the same machine or network, a test sink).
    None,
    /// Plain connection upgraded with `STARTTLS`, which is required
    /// (submission port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// The host's SMTP settings (`guichet serve --smtp-…`).
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// The SMTP server's host name.
    pub host: String,
    /// Its port (25, 465, 587, or a test sink's).
    pub port: u16,
    /// How the connection is protected.
    pub security: SmtpSecurity,
    /// Login and password, when the server asks for them.
    pub credentials: Option<(String, String)>,
    /// The sender (`Ville de Saint-Laurent <ne-pas-repondre@ville.fr>`).
    pub from: Mailbox,
    /// Where answers go, when not to the sender.
    pub reply_to: Option<Mailbox>,
    /// How long one SMTP exchange may take before it counts as failed.
    pub timeout: Duration,
}

/// A mail to send, its texts rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// The recipient's address.
    pub to: String,
    /// The subject.
    pub subject: String,
    /// The plain text body; the HTML part is made from it.
    pub text: String,
    /// The `Message-ID`, stable across attempts (`<job-id>@<domain>`), so
    /// that a mail sent again after a lost acknowledgement can be told
    /// apart by the receiving server.
    pub message_id: String,
}

/// Why a mail was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    /// What the server or the builder said, in French.
    pub message: String,
    /// Whether sending again cannot help (an address refused, a `5xx`).
    pub permanent: bool,
}

impl SendError {
    fn permanent(message: impl Into<String>) -> SendError {
        SendError {
            message: message.into(),
            permanent: true,
        }
    }
}

/// The SMTP transport with its sender; cheap to clone (a connection
/// pool inside).
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    reply_to: Option<Mailbox>,
    /// Shown in the HTML part's header and footer.
    collectivite: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// A transport to the server of `settings`; nothing connects before
    /// the first mail.
    ///
    /// # Errors
    /// A French message when TLS cannot be set up for the host name.
    pub fn new(settings: &MailSettings, collectivite: &str) -> Result<Mailer, String> {
        let host = settings.host.as_str();
        let builder = match settings.security {
            SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|e| format!("serveur SMTP « {host} » : {e}"))?,
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                .map_err(|e| format!("serveur SMTP « {host} » : {e}"))?,
        };
        let mut builder = builder.port(settings.port).timeout(Some(settings.timeout));
        if let Some((login, password)) = &settings.credentials {
            builder = builder.credentials(Credentials::new(login.clone(), password.clone()));
        }
        Ok(Mailer {
            transport: builder.build(),
            from: settings.from.clone(),
            reply_to: settings.reply_to.clone(),
            collectivite: collectivite.to_owned(),
        })
    }

    /// The sender's address.
    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    /// The collectivité's name the mails are signed with.
    pub fn collectivite(&self) -> &str {
        &self.collectivite
    }

    /// Sends one mail, its HTML part made from its text.
    ///
    /// # Errors
    /// A [`SendError`], permanent for an address the builder or the server
    /// refuses for good, temporary otherwise (connection, timeout, `4xx`).
    pub async fn send(&self, mail: &Mail) -> Result<(), SendError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e| SendError::permanent(format!("adresse « {} » invalide : {e}", mail.to)))?;
        let html = html_part(&mail.subject, &mail.text, &self.collectivite);
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .message_id(Some(format!("<{}>", mail.message_id)));
        if let Some(reply_to) = &self.reply_to {
            builder = builder.reply_to(reply_to.clone());
        }
        let message = builder
            .multipart(MultiPart::alternative_plain_html(mail.text.clone(), html))
            .map_err(|e| SendError::permanent(format!("mail impossible à construire : {e}")))?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(error) => Err(SendError {
                permanent: error.is_permanent(),
                message: format!("serveur SMTP : {error}"),
            }),
        }
    }
}

/// The HTML part of a mail: the text's paragraphs (blank lines) and lines,
/// escaped, its links clickable, under the collectivité's name.
pub fn html_part(subject: &str, text: &str, collectivite: &str) -> String {
    let paragraphs = text
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|paragraph| paragraph.lines().map(pieces).collect())
        .collect();
    let page = MailPage {
        subject,
        collectivite,
        paragraphs,
    };
    // The template only formats strings: rendering cannot fail.
    page.render().unwrap_or_else(|_| text.to_owned())
}

/// One line cut into plain text and links.
fn pieces(line: &str) -> Vec<Piece<'_>> {
    let finder = linkify::LinkFinder::new();
    finder
        .spans(line)
        .map(|span| Piece {
            text: span.as_str(),
            link: matches!(span.kind(), Some(linkify::LinkKind::Url)),
        })
        .collect()
}

/// A run of text or a link, in the HTML template.
struct Piece<'a> {
    text: &'a str,
    link: bool,
}

#[derive(Template)]
#[template(path = "mail.html")]
struct MailPage<'a> {
    subject: &'a str,
    collectivite: &'a str,
    paragraphs: Vec<Vec<Vec<Piece<'a>>>>,
}

/// The header of a stable message id, for a job: `<job>@<sender's domain>`.
pub fn message_id(job: &str, from: &Mailbox) -> String {
    let domain = from.email.domain();
    format!("{job}@{domain}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_html_part_escapes_the_text_and_makes_links_clickable() {
        let html = html_part(
            "Objet <b>",
            "Bonjour,\n\nMotif : <script>alert(1)</script> & co\nSuivi : https://guichet.ville.fr/demandes/42\n\nCordialement.",
            "Ville d'Exemple",
        );
        assert!(
            html.contains("&#60;script&#62;alert(1)&#60;/script&#62; &#38; co"),
            "{html}"
        );
        assert!(
            html.contains(r#"<a href="https://guichet.ville.fr/demandes/42" style="color:#000091;">https://guichet.ville.fr/demandes/42</a>"#),
            "{html}"
        );
        assert_eq!(html.matches("<p>").count(), 3, "{html}");
        assert!(!html.contains("<b>"), "{html}");
    }
}
