//! SMS through the SMS gateway: a connector instance whose component
//! implements the world `sms-gateway` of `guichet:connector@0.2.0`
//! (`plugins/sms`), called with [`Registry::send_sms`](crate::connectors::Registry::send_sms).
//!
//! Texts are fitted to [`MAX_SEGMENTS`] segments before they leave
//! (`guichet_core::sms::fit`: GSM 03.38 7-bit, 160 characters in one part
//! and 153 per part beyond, else UCS-2, 70 and 67; accented letters outside
//! the 7-bit alphabet are transliterated when that keeps the text in it,
//! and a text still too long ends with an ellipsis). Numbers are
//! normalised to E.164 beforehand (`guichet_core::phone`).

use crate::connectors::model::SmsMessage;

use super::Guichet;

/// Segments an SMS of the platform may take (two: 306 characters in the
/// 7-bit alphabet, 134 in UCS-2).
pub const MAX_SEGMENTS: usize = 2;

/// Why the gateway did not take an SMS.
pub struct SmsFailure {
    /// What it said, in French.
    pub message: String,
    /// Whether sending again may succeed (the provider unavailable, a
    /// timeout, the component's fault).
    pub retryable: bool,
}

/// A text fitted to [`MAX_SEGMENTS`] segments.
pub fn fit(text: &str) -> String {
    guichet_core::sms::fit(text, MAX_SEGMENTS).text
}

/// Sends `text` to the E.164 number `to` through the gateway instance
/// `gateway`; the same `key` twice sends one SMS.
///
/// # Errors
/// An [`SmsFailure`], retryable when the provider or the component may
/// answer later.
pub async fn send(
    guichet: &Guichet,
    gateway: &str,
    key: &str,
    to: &str,
    text: &str,
) -> Result<(), SmsFailure> {
    let message = SmsMessage {
        to: to.to_owned(),
        text: text.to_owned(),
        idempotency_key: key.to_owned(),
    };
    match guichet.registry.send_sms(gateway, message).await {
        Ok(_) => Ok(()),
        Err(error) => Err(SmsFailure {
            retryable: error.worth_retrying(),
            message: format!("passerelle SMS : {error}"),
        }),
    }
}
