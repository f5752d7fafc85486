//! Delivering the notifications the workflow queues: mails through SMTP
//! (`crate::mail`) and SMS through the SMS gateway, a connector instance
//! (`Registry::send_sms`).
//!
//! **Queued with the step.** Every transition writes its notifications as
//! jobs of kind [`NOTIFICATION_JOB`] in its own transaction
//! (`guichet_store::outcome`), with the usager's contact captured when
//! the recipient is the usager (`guichet_store::contact`). Nothing here
//! runs inside a transition: a mail server that is down never blocks one.
//!
//! **Delivered by a worker.** [`run`] — started by `guichet serve` beside
//! the scheduler ([`work`]) — claims due notification jobs (`FOR UPDATE
//! SKIP LOCKED` on PostgreSQL: one host sends each), renders the text —
//! the démarche's own (`notifications:` of its definition) or the French
//! default of its template key (`guichet_core::notification`) — with the
//! démarche's title, the link to the demande on the portal
//! (`{lien_suivi}`) and, in the closing, refusal and abandon mails to the
//! usager, a signed single-use link to the satisfaction survey
//! (`{lien_enquete}`, `super::survey`), and sends it:
//!
//! | recipient | mail to | SMS to |
//! |---|---|---|
//! | the usager | the address captured when queued | the mobile number captured, normalised to E.164 |
//! | a service | its group's mailbox (`agent_groups.mailbox`) | — |
//! | a service's manager | the mailbox of the service's *Qualité* group | — |
//!
//! The same worker mails the password links (*mot de passe oublié*, an
//! account created by an agent: `super::accounts::password_links`), which
//! belong to no demande and write no history.
//!
//! **Recorded.** A mail or SMS sent writes "Mail « … » envoyé à … le …"
//! in the agents' history, with the job's completion, in one transaction;
//! a notification that cannot reach anyone (no address, no mobile number,
//! no mailbox, no SMS gateway configured) is ended with a note saying why.
//! A failure that may pass (server down, `4xx`, timeout, the SMS provider
//! unavailable) is retried with the connector worker's backoff
//! (`super::transmission::retry_delay`: 30 s doubled per attempt, at most
//! one hour) up to [`MAX_ATTEMPTS`]; a permanent one (`5xx`, an invalid
//! address) or the last attempt fails the job for good, with
//! "Échec de l'envoi …" in the agents' history; an administrator sees it
//! among the failed jobs and may put it back in the queue.
//!
//! **Sent once.** The job is completed only after the server accepted the
//! mail; a failure before is retried, and the mail's `Message-ID` is the
//! job's id, the same on every attempt. Between the server's acceptance
//! and the completion's commit, a crash sends the mail again when the
//! job's lease ends: the outbox gives *at least once*, narrowed to that
//! window. The captured contact and the free texts of the parameters are
//! erased from the job when it ends (`guichet_store::contact::strip`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use guichet_core::demarche::Definition;
use guichet_core::history::{Audience, Author, HistoryEntry};
use guichet_core::id::DemandeId;
use guichet_core::notification::{
    Channel, NotificationJob, Recipient, default_text, placeholders_in, render,
};
use guichet_core::role::Role;
use guichet_store::contact::{CONTACT_KEY, Contact};
use guichet_store::job::{Completion, Job, NOTIFICATION_JOB};

use super::accounts::password_links::{self, PASSWORD_LINK_JOB};
use super::transmission::retry_delay;
use super::{Guichet, ServiceError, survey};
use crate::mail::{Mail, Mailer};

/// Attempts before a notification fails for good (about five hours of
/// retries with the backoff).
pub const MAX_ATTEMPTS: u32 = 10;

/// Jobs claimed per batch.
const BATCH: u32 = 50;

/// Notifications sent at once (each an SMTP exchange or an SMS call).
pub const CONCURRENCY: usize = 4;

/// The event of the history entries this worker writes.
pub const NOTIFIED_EVENT: &str = "notification";

/// How notifications leave the platform: the host's configuration.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The SMTP transport; `None`: mails wait in the queue (`guichet serve`
    /// says so at start) until a server is configured.
    pub mailer: Option<Mailer>,
    /// The connector instance that sends SMS (the SMS gateway); `None`:
    /// SMS are not sent, and their jobs end with a note saying so.
    pub sms_gateway: Option<String>,
    /// The portal's address, without a trailing slash
    /// (`https://demarches.ville.fr`): the base of the links in the texts.
    pub public_url: String,
    /// How long a survey link stays valid after it is sent, in days.
    pub survey_days: u32,
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery {
            mailer: None,
            sms_gateway: None,
            public_url: "http://127.0.0.1:8080".to_owned(),
            survey_days: survey::DEFAULT_DAYS,
        }
    }
}

impl Delivery {
    /// The link to a demande on the usager portal.
    pub fn demande_url(&self, demande: DemandeId) -> String {
        format!("{}/demandes/{}", self.public_url, demande.uuid())
    }
}

/// What one run of the worker did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Notified {
    /// Mails the SMTP server accepted.
    pub mails: usize,
    /// SMS the gateway accepted.
    pub sms: usize,
    /// Notifications that could reach no one (no address, no gateway).
    pub unreachable: usize,
    /// Attempts failed, to be retried.
    pub retried: usize,
    /// Jobs failed for good.
    pub failed: usize,
}

/// What became of one job.
enum Outcome {
    Sent(Channel),
    Unreachable,
    Retried,
    Failed,
    /// Left in the queue: no SMTP server is configured.
    Waiting,
}

impl Notified {
    fn count(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Sent(Channel::Mail) => self.mails += 1,
            Outcome::Sent(Channel::Sms) => self.sms += 1,
            Outcome::Unreachable => self.unreachable += 1,
            Outcome::Retried => self.retried += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Waiting => {}
        }
    }
}

/// Delivers every notification due at the guichet's now, batch after
/// batch, as `worker`. Without an SMTP server configured, mails are left
/// in the queue (claimed, then given back unrun).
///
/// # Errors
/// A store error while claiming or recording; a job whose outcome could
/// not be recorded is claimed again when its lease ends.
pub async fn run(guichet: &Guichet, worker: &str) -> Result<Notified, ServiceError> {
    let mut notified = Notified::default();
    loop {
        let batch = guichet
            .store
            .claim_jobs(
                worker,
                &[NOTIFICATION_JOB, PASSWORD_LINK_JOB],
                guichet.now(),
                BATCH,
            )
            .await?;
        let full = batch.len() as u32 == BATCH;
        let mut waiting = 0;
        let mut outcomes = futures::stream::iter(batch)
            .map(|job| deliver(guichet, worker, job))
            .buffer_unordered(CONCURRENCY);
        let mut first_error = None;
        while let Some(outcome) = outcomes.next().await {
            match outcome {
                Ok(Outcome::Waiting) => waiting += 1,
                Ok(outcome) => notified.count(outcome),
                Err(error) => first_error = first_error.or(Some(error)),
            }
        }
        if let Some(error) = first_error {
            return Err(error);
        }
        // Mails given back for want of a server would be claimed again at
        // once: stop when a batch did nothing else.
        if !full || waiting == BATCH as usize {
            return Ok(notified);
        }
    }
}

/// Runs [`run`] every `period` until the task is dropped (what `guichet
/// serve` does beside the scheduler).
pub async fn work(guichet: Guichet, worker: String, period: std::time::Duration) {
    super::every(
        period,
        "notifications delivered",
        "notification round failed",
        || run(&guichet, &worker),
    )
    .await;
}

/// A notification ready to leave: to whom, what.
struct Prepared {
    notification: NotificationJob,
    /// The address or E.164 number; `None` with the reason it is missing.
    address: Result<String, String>,
    /// Who it goes to, as the history says it (no personal data).
    who: String,
    subject: String,
    body: String,
}

/// Runs one claimed job and records its outcome.
async fn deliver(guichet: &Guichet, worker: &str, job: Job) -> Result<Outcome, ServiceError> {
    if job.kind == PASSWORD_LINK_JOB {
        return deliver_password_link(guichet, worker, job).await;
    }
    let now = guichet.now();
    let prepared = match prepare(guichet, &job).await {
        Ok(prepared) => prepared,
        Err(problem) => {
            // A payload or demande that cannot be read will not mend.
            guichet
                .store
                .fail_job_noted(job.id, worker, &problem, None, now, None)
                .await?;
            return Ok(Outcome::Failed);
        }
    };
    let channel = prepared.notification.channel;
    let what = match channel {
        Channel::Mail => format!("Mail « {} »", prepared.subject),
        Channel::Sms => "SMS".to_owned(),
    };
    let address = match &prepared.address {
        Ok(address) => address.clone(),
        Err(reason) => {
            let entry = note(
                guichet,
                &prepared,
                format!("{what} non envoyé à {} : {reason}", prepared.who),
                None,
            )
            .await?;
            let completion = Completion {
                history: vec![entry],
                ..Completion::default()
            };
            guichet
                .store
                .complete_job_with(job.id, worker, now, &[], &completion)
                .await?;
            return Ok(Outcome::Unreachable);
        }
    };
    let sent = match channel {
        Channel::Mail => {
            let Some(mailer) = guichet.delivery.mailer.as_ref() else {
                guichet.store.release_job(job.id, worker, now, now).await?;
                return Ok(Outcome::Waiting);
            };
            send_mail(mailer, &job, &prepared, address).await
        }
        Channel::Sms => send_sms(guichet, &job, &prepared, address).await,
    };
    match sent {
        Ok(()) => {
            let at = guichet.zone.local(now);
            let text = format!(
                "{what} envoyé à {} le {} à {}",
                prepared.who,
                at.format("%d/%m/%Y"),
                at.format("%H:%M")
            );
            let completion = Completion {
                history: vec![note(guichet, &prepared, text, None).await?],
                ..Completion::default()
            };
            guichet
                .store
                .complete_job_with(job.id, worker, now, &[], &completion)
                .await?;
            Ok(Outcome::Sent(channel))
        }
        Err(failure) => {
            let retry_at = retry_at(failure.permanent, job.attempts, now);
            tracing::warn!(job = %job.id, attempts = job.attempts, error = %failure.message, retry = retry_at.is_some(), "notification failed");
            let entry = match retry_at {
                Some(_) => None,
                None => Some(
                    note(
                        guichet,
                        &prepared,
                        format!("Échec de l'envoi : {what} à {}", prepared.who),
                        Some(failure.message.clone()),
                    )
                    .await?,
                ),
            };
            guichet
                .store
                .fail_job_noted(
                    job.id,
                    worker,
                    &failure.message,
                    retry_at,
                    now,
                    entry.as_ref(),
                )
                .await?;
            Ok(if retry_at.is_some() {
                Outcome::Retried
            } else {
                Outcome::Failed
            })
        }
    }
}

/// When a failed attempt is tried again: `None` when the failure is
/// permanent or the attempts are spent ([`MAX_ATTEMPTS`]).
fn retry_at(permanent: bool, attempts: u32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (!permanent && attempts < MAX_ATTEMPTS)
        .then(|| now + retry_delay(attempts, super::transmission::jitter()))
}

/// Mails a password link (`super::accounts::password_links`): not tied to
/// a demande, so no history entry; retried as the other mails.
async fn deliver_password_link(
    guichet: &Guichet,
    worker: &str,
    job: Job,
) -> Result<Outcome, ServiceError> {
    let now = guichet.now();
    let Some(mailer) = guichet.delivery.mailer.as_ref() else {
        guichet.store.release_job(job.id, worker, now, now).await?;
        return Ok(Outcome::Waiting);
    };
    let Some(mail) = password_links::mail_of(guichet, &job, mailer.collectivite()).await? else {
        guichet.store.complete_job(job.id, worker, now).await?;
        return Ok(Outcome::Unreachable);
    };
    let mail = Mail {
        message_id: crate::mail::message_id(&job.id.to_string(), mailer.from()),
        ..mail
    };
    match mailer.send(&mail).await {
        Ok(()) => {
            guichet.store.complete_job(job.id, worker, now).await?;
            Ok(Outcome::Sent(Channel::Mail))
        }
        Err(failure) => {
            let retry_at = retry_at(failure.permanent, job.attempts, now);
            tracing::warn!(job = %job.id, attempts = job.attempts, error = %failure.message, retry = retry_at.is_some(), "password link mail failed");
            guichet
                .store
                .fail_job(job.id, worker, &failure.message, retry_at, now)
                .await?;
            Ok(if retry_at.is_some() {
                Outcome::Retried
            } else {
                Outcome::Failed
            })
        }
    }
}

/// Why a notification was not sent: the transport's words, and whether
/// trying again can help.
struct Failure {
    message: String,
    permanent: bool,
}

async fn send_mail(
    mailer: &Mailer,
    job: &Job,
    prepared: &Prepared,
    to: String,
) -> Result<(), Failure> {
    let mail = Mail {
        to,
        subject: prepared.subject.clone(),
        text: prepared.body.clone(),
        message_id: crate::mail::message_id(&job.id.to_string(), mailer.from()),
    };
    mailer.send(&mail).await.map_err(|e| Failure {
        message: e.message,
        permanent: e.permanent,
    })
}

async fn send_sms(
    guichet: &Guichet,
    job: &Job,
    prepared: &Prepared,
    to: String,
) -> Result<(), Failure> {
    let Some(gateway) = guichet.delivery.sms_gateway.as_deref() else {
        return Err(Failure {
            message: "aucune passerelle SMS n'est configurée".to_owned(),
            permanent: true,
        });
    };
    super::sms::send(guichet, gateway, &job.id.to_string(), &to, &prepared.body)
        .await
        .map_err(|e| Failure {
            permanent: !e.retryable,
            message: e.message,
        })
}

/// An entry of the agents' history about a notification.
async fn note(
    guichet: &Guichet,
    prepared: &Prepared,
    text: String,
    message: Option<String>,
) -> Result<HistoryEntry, ServiceError> {
    let demande = guichet.store.demande(prepared.notification.demande).await?;
    Ok(HistoryEntry {
        demande: prepared.notification.demande,
        at: guichet.now(),
        audience: Audience::Agents,
        author: Author::System,
        event: NOTIFIED_EVENT.to_owned(),
        status: demande.demande.status,
        text,
        message,
        attachment: None,
    })
}

/// Reads what a job needs: its notification, the text for its channel
/// rendered with every placeholder, and where it goes.
///
/// # Errors
/// A French text when the payload or its demande cannot be read.
async fn prepare(guichet: &Guichet, job: &Job) -> Result<Prepared, String> {
    let notification: NotificationJob = serde_json::from_value(job.payload.clone())
        .map_err(|e| format!("notification illisible : {e}"))?;
    let captured: Option<Contact> = job
        .payload
        .get(CONTACT_KEY)
        .cloned()
        .map(serde_json::from_value)
        .transpose()
        .map_err(|e| format!("coordonnées illisibles : {e}"))?;
    // A job put back in the queue by an administrator lost its captured
    // contact when it failed: the usager is reached as they are now.
    let contact = match captured {
        Some(contact) => contact,
        None if notification.recipient == Recipient::Usager => guichet
            .store
            .current_contact(notification.demande)
            .await
            .map_err(|e| format!("lecture des coordonnées : {e}"))?,
        None => Contact::default(),
    };
    let stored = guichet
        .store
        .demande(notification.demande)
        .await
        .map_err(|e| format!("lecture de la demande : {e}"))?;
    let reference = &stored.demande.demarche;
    let version = guichet
        .store
        .demarche_version(&reference.slug, reference.version)
        .await
        .map_err(|e| format!("lecture de la démarche : {e}"))?;
    let definition = &version.definition;
    let text = definition
        .notifications
        .get(&notification.template)
        .cloned()
        .or_else(|| default_text(&notification.template))
        .ok_or_else(|| format!("modèle « {} » inconnu", notification.template))?;
    let params = params(guichet, definition, &notification, &text, job)?;
    let rendered = render(&text, notification.channel, &params);
    let (address, who) = address(guichet, &notification, &contact).await;
    Ok(Prepared {
        address,
        who,
        subject: rendered.subject,
        body: match notification.channel {
            Channel::Mail => rendered.body,
            Channel::Sms => super::sms::fit(&rendered.body),
        },
        notification,
    })
}

/// The placeholders' values: the job's, the démarche's title, the links.
fn params(
    guichet: &Guichet,
    definition: &Definition,
    notification: &NotificationJob,
    text: &guichet_core::notification::MessageText,
    job: &Job,
) -> Result<BTreeMap<String, String>, String> {
    let mut params = notification.params.clone();
    params.insert("demarche".to_owned(), definition.title.clone());
    params.insert(
        "lien_suivi".to_owned(),
        guichet.delivery.demande_url(notification.demande),
    );
    let uses_survey = [Some(&text.subject), Some(&text.body), text.sms.as_ref()]
        .into_iter()
        .flatten()
        .any(|t| placeholders_in(t).contains(&"lien_enquete"));
    if uses_survey && notification.recipient == Recipient::Usager {
        // Valid from the job's creation, so that a mail retried for hours
        // keeps the window the usager was promised.
        let link = survey::link(guichet, notification.demande, job.created_at);
        params.insert("lien_enquete".to_owned(), link);
    }
    Ok(params)
}

/// Where a notification goes, and who that is as the history says it.
async fn address(
    guichet: &Guichet,
    notification: &NotificationJob,
    contact: &Contact,
) -> (Result<String, String>, String) {
    match (&notification.recipient, notification.channel) {
        (Recipient::Usager, Channel::Mail) => (
            contact
                .email
                .clone()
                .ok_or_else(|| "l'usager n'a pas donné d'adresse électronique".to_owned()),
            "l'usager".to_owned(),
        ),
        (Recipient::Usager, Channel::Sms) => (
            match contact.phone.as_deref() {
                None => Err("l'usager n'a pas donné de numéro de téléphone".to_owned()),
                Some(phone) => match guichet_core::phone::mobile_e164(phone) {
                    Ok(Some(number)) => Ok(number),
                    Ok(None) => Err("le numéro de l'usager n'est pas un mobile".to_owned()),
                    Err(e) => Err(format!("numéro de l'usager illisible ({e})")),
                },
            },
            "l'usager".to_owned(),
        ),
        (Recipient::Service(group), _) => (
            mailbox(guichet, group).await,
            format!("la boîte du service {group}"),
        ),
        (Recipient::Manager(group), _) => {
            let manager = group.with_role(Role::Qualite);
            (
                mailbox(guichet, &manager).await,
                format!("la boîte du responsable {manager}"),
            )
        }
    }
}

/// A group's mailbox, or why there is none.
async fn mailbox(
    guichet: &Guichet,
    group: &guichet_core::role::GroupName,
) -> Result<String, String> {
    match guichet.store.group_mailbox(group).await {
        Ok(Some(mailbox)) => Ok(mailbox),
        Ok(None) => Err(format!("le groupe {group} n'a pas de boîte aux lettres")),
        Err(e) => Err(format!("lecture du groupe {group} : {e}")),
    }
}

/// The moment a survey link sent now expires.
pub fn survey_deadline(guichet: &Guichet, sent: DateTime<Utc>) -> DateTime<Utc> {
    guichet.zone.add_days(sent, guichet.delivery.survey_days)
}
