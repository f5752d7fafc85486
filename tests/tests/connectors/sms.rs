//! The SMS gateway (`plugins/sms`, world `sms-gateway` of
//! `guichet:connector@0.2.0`) as a real component against the simulated
//! SMS provider (`examples/vendors/sms`) over real HTTP: what the provider
//! receives, idempotent resends, failures and what the journal keeps; and
//! the gateway committed for 0.2.0 (`tests/fixtures/connector@0.2.0/`)
//! beside a component of 0.1.0.

use std::path::{Path, PathBuf};

use guichet_core::{phone, sms};
use guichet_host::connectors::journal::{MemoryJournal, Outcome};
use guichet_host::connectors::model::{Operation, SmsMessage};
use guichet_tests::instance_config;

use super::*;

/// The instance every test configures.
const INSTANCE: &str = "sms";

/// The settings of an instance for the provider at `base_url`.
fn sms_config(base_url: &str) -> guichet_host::connectors::InstanceConfig {
    instance_config(
        INSTANCE,
        "sms",
        base_url,
        serde_json::json!({
            "base_url": base_url,
            "api_key": sms_sim::DEFAULT_API_KEY,
            "sender": "MAIRIE"
        }),
    )
}

/// A registry with the SMS gateway at `path` installed and the instance
/// `sms` configured for a fresh simulated provider.
async fn with_gateway(path: &Path) -> (Arc<Registry>, sms_sim::Handle, Arc<MemoryJournal>) {
    let (registry, journal) = registry();
    let provider = sms_sim::spawn(([127, 0, 0, 1], 0).into())
        .await
        .expect("the simulated provider starts");
    registry
        .install_file(path)
        .await
        .expect("the SMS gateway installs");
    registry
        .configure(sms_config(&provider.base_url()), None)
        .expect("instance configured");
    (registry, provider, journal)
}

async fn with_sms() -> (Arc<Registry>, sms_sim::Handle, Arc<MemoryJournal>) {
    with_gateway(components::SMS.as_ref()).await
}

/// A committed component (`tests/fixtures/`, see its README).
fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(path)
}

fn message(to: &str, text: &str, key: &str) -> SmsMessage {
    SmsMessage {
        to: to.into(),
        text: text.into(),
        idempotency_key: key.into(),
    }
}

fn call_error(result: Result<impl std::fmt::Debug, RegistryError>) -> CallError {
    match result {
        Err(RegistryError::Call(e)) => e,
        other => panic!("expected a call error, got {other:?}"),
    }
}

#[tokio::test]
async fn sms_gateway_check_reports_the_provider_version() {
    let (registry, _provider, _) = with_sms().await;

    let availability = registry.check(INSTANCE).await.expect("check answers");

    assert!(availability.available);
    assert_eq!(availability.remote_version.as_deref(), Some("1.0-sim"));
}

#[tokio::test]
async fn an_sms_reaches_the_provider_with_the_e164_number_and_the_fitted_text() {
    let (registry, provider, _) = with_sms().await;
    let to = phone::mobile_e164("06 12 34 56 78")
        .expect("a French number")
        .expect("a mobile");
    let text = sms::fit(
        "Votre demande SIG-2026-000042 « Nid de poule » est traitée : l'équipe \
         voirie a rebouché le trou ce matin. Merci de votre signalement, à bientôt.",
        1,
    );
    assert!(text.transliterated, "{text:?}");

    let receipt = registry
        .send_sms(INSTANCE, message(&to, &text.text, "notification-1"))
        .await
        .expect("sent");

    let received = provider.messages();
    assert_eq!(received.len(), 1);
    let sent = &received[0];
    assert_eq!(sent.to, "+33612345678");
    assert_eq!(sent.from, "MAIRIE");
    assert_eq!(sent.text, text.text);
    assert!(
        sent.text.contains("\"Nid de poule\" est traitée"),
        "{}",
        sent.text
    );
    assert_eq!(sent.idempotency_key.as_deref(), Some("notification-1"));
    assert_eq!(receipt.message_id, sent.id);
}

#[tokio::test]
async fn an_sms_sent_again_with_the_same_key_is_sent_once() {
    let (registry, provider, _) = with_sms().await;
    let first_sms = message("+262692123456", "Demande reçue.", "notification-2");

    let first = registry
        .send_sms(INSTANCE, first_sms.clone())
        .await
        .expect("first send");
    let again = registry
        .send_sms(INSTANCE, first_sms)
        .await
        .expect("second send");
    let other = registry
        .send_sms(
            INSTANCE,
            message("+262692123456", "Demande reçue.", "notification-3"),
        )
        .await
        .expect("another notification");

    assert_eq!(first, again);
    assert_ne!(first, other);
    let keys: Vec<_> = provider
        .messages()
        .into_iter()
        .map(|m| m.idempotency_key)
        .collect();
    assert_eq!(
        keys,
        [Some("notification-2".into()), Some("notification-3".into())]
    );
}

#[tokio::test]
async fn a_provider_that_is_down_fails_the_sms_as_retryable_and_sends_it_once_back() {
    let (registry, provider, journal) = with_sms().await;
    let notification = message(
        "+33612345678",
        "Votre demande est traitée.",
        "notification-4",
    );
    provider.set_mode(sms_sim::Mode::Down);

    let down = registry.send_sms(INSTANCE, notification.clone()).await;
    provider.set_mode(sms_sim::Mode::Normal);
    let retried = registry.send_sms(INSTANCE, notification).await;

    let error = call_error(down);
    assert!(
        matches!(error, CallError::Connector(ConnectorError::Unavailable(_))),
        "{error:?}"
    );
    assert!(error.is_retryable());
    let failed = journal
        .records()
        .into_iter()
        .find(|r| r.operation == Operation::SendSms)
        .expect("the failed call is journaled");
    assert_eq!(failed.outcome, Outcome::ConnectorError);
    assert!(failed.http[0].error.is_some(), "{:?}", failed.http);
    assert!(retried.is_ok(), "{retried:?}");
    assert_eq!(provider.messages().len(), 1);
}

#[tokio::test]
async fn a_failing_provider_is_unavailable_too() {
    let (registry, provider, _) = with_sms().await;
    provider.set_mode(sms_sim::Mode::Fail);

    let result = registry
        .send_sms(
            INSTANCE,
            message("+33612345678", "Bonjour", "notification-5"),
        )
        .await;

    let error = call_error(result);
    assert!(
        matches!(error, CallError::Connector(ConnectorError::Unavailable(_))),
        "{error:?}"
    );
    assert!(error.is_retryable());
    assert!(provider.messages().is_empty());
}

#[tokio::test]
async fn what_the_provider_refuses_is_not_retried() {
    let (registry, provider, _) = with_sms().await;
    let mut wrong_key = sms_config(&provider.base_url());
    wrong_key.id = "sms-faux".into();
    wrong_key.settings["api_key"] = "pas-la-bonne".into();
    registry.configure(wrong_key, None).expect("configured");

    let national = registry
        .send_sms(INSTANCE, message("0612345678", "Bonjour", "notification-6"))
        .await;
    let unauthorised = registry
        .send_sms(
            "sms-faux",
            message("+33612345678", "Bonjour", "notification-7"),
        )
        .await;
    let reused_key = registry
        .send_sms(
            INSTANCE,
            message("+33612345678", "Bonjour", "notification-8"),
        )
        .await
        .and(
            registry
                .send_sms(
                    INSTANCE,
                    message("+33612345678", "Au revoir", "notification-8"),
                )
                .await,
        );

    for (result, kind) in [
        (national, "invalid_input"),
        (unauthorised, "configuration"),
        (reused_key, "rejected"),
    ] {
        let error = call_error(result);
        assert_eq!(error.code(), kind, "{error:?}");
        assert!(!error.is_retryable(), "{error:?}");
    }
    assert_eq!(provider.messages().len(), 1);
}

#[tokio::test]
async fn only_an_sms_gateway_sends_sms_and_it_transmits_nothing() {
    let (registry, provider, _) = with_sms().await;
    let atal_sim = atal().await;
    registry
        .install_file(components::ATAL.as_ref())
        .await
        .expect("ATAL installs");
    registry
        .configure(atal_config("atal-ville", &atal_sim.base_url()), None)
        .expect("configured");

    let from_atal = registry
        .send_sms(
            "atal-ville",
            message("+33612345678", "Bonjour", "notification-9"),
        )
        .await;
    let transmitted = registry
        .transmit(INSTANCE, signalement("SIG-2026-000020"), "sig-20", None)
        .await;

    assert_eq!(
        call_error(from_atal),
        CallError::Unsupported(Operation::SendSms)
    );
    assert_eq!(
        call_error(transmitted),
        CallError::Unsupported(Operation::Transmit)
    );
    assert!(provider.messages().is_empty());
    assert!(atal_sim.works_requests().is_empty());
}

#[tokio::test]
async fn the_journal_keeps_the_message_id_but_neither_the_number_nor_the_text() {
    let (registry, _provider, journal) = with_sms().await;
    let text = "Votre rendez-vous du 12 mars est confirmé.";

    let receipt = registry
        .send_sms(INSTANCE, message("+33612345678", text, "notification-10"))
        .await
        .expect("sent");

    let record = journal
        .records()
        .into_iter()
        .find(|r| r.operation == Operation::SendSms)
        .expect("journaled");
    assert_eq!(record.outcome, Outcome::Ok);
    assert_eq!(record.connector, "sms");
    assert!(record.http[0].url.ends_with("/api/messages"));
    assert!(
        record.logs.iter().any(|l| l
            .fields
            .contains(&("message_id".into(), receipt.message_id.clone()))),
        "{:?}",
        record.logs
    );
    let everything = serde_json::to_string(&journal.records()).expect("json");
    for secret in ["612345678", text, sms_sim::DEFAULT_API_KEY] {
        assert!(!everything.contains(secret), "{secret} in {everything}");
    }
}

#[tokio::test]
async fn the_gateway_built_against_0_2_0_sends_sms_beside_a_0_1_0_connector() {
    let (registry, provider, _) = with_gateway(&fixture("connector@0.2.0/sms.wasm")).await;
    let atal_sim = atal().await;
    registry
        .install_file(&fixture("connector@0.1.0/atal.wasm"))
        .await
        .expect("the 0.1.0 ATAL installs");
    registry
        .configure(atal_config("atal-ville", &atal_sim.base_url()), None)
        .expect("configured");

    let availability = registry.check(INSTANCE).await.expect("check");
    let receipt = registry
        .send_sms(
            INSTANCE,
            message("+596696201234", "Demande transmise.", "notification-11"),
        )
        .await
        .expect("sent");
    let transmitted = transmit_signalement(&registry, "SIG-2026-000021").await;

    let gateway = registry.versions("sms");
    let description = gateway[0].description();
    assert_eq!(description.contract, "guichet:connector@0.2.0");
    assert_eq!(
        description.operations,
        [Operation::Check, Operation::SendSms]
    );
    assert!(description.config_schema["properties"]["api_key"]["x-secret"] == true);
    assert!(availability.available);
    let received = provider.messages();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].to, "+596696201234");
    assert_eq!(received[0].id, receipt.message_id);
    assert_eq!(
        registry.versions("atal")[0].description().contract,
        "guichet:connector@0.1.0"
    );
    assert_eq!(
        atal_sim.works_requests()[0].id.to_string(),
        transmitted.remote_id
    );
}
