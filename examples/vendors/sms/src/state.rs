//! The in-memory provider: the messages received, their numbering and the
//! idempotency ledger, behind one lock.

use std::{fmt, sync::Arc};

use chrono::Utc;
use vendor_sim::{Claim, Ledger, ModeSwitch, Numbering, Outcome, Shared};

use crate::{
    DEFAULT_API_KEY,
    error::ApiError,
    message::{Message, NewMessage},
};

/// The simulator's state: cheap to clone, every clone sees the same
/// messages.
#[derive(Clone)]
pub struct State {
    api_key: Arc<str>,
    mode: ModeSwitch,
    store: Shared<Store>,
}

#[derive(Debug)]
struct Store {
    messages: Vec<Message>,
    numbering: Numbering,
    keys: Ledger<String>,
}

impl Default for State {
    fn default() -> Self {
        Self::new(DEFAULT_API_KEY)
    }
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("State")
            .field("mode", &self.mode.get())
            .field("messages", &self.store.with(|store| store.messages.len()))
            .finish_non_exhaustive()
    }
}

impl State {
    /// A provider with no message, accepting `api_key` as a bearer token.
    pub fn new(api_key: impl Into<String>) -> Self {
        Self {
            api_key: api_key.into().into(),
            mode: ModeSwitch::new(),
            store: Shared::new(Store {
                messages: Vec::new(),
                numbering: Numbering::new("MSG", 6),
                keys: Ledger::default(),
            }),
        }
    }

    /// The accepted API key.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The failure switch the router and the listener share.
    pub fn mode_switch(&self) -> &ModeSwitch {
        &self.mode
    }

    /// Accepts a message, or returns the one an earlier request with the
    /// same idempotency claim sent (nothing is sent twice).
    ///
    /// # Errors
    /// 400 when the message breaks the provider's rules; 409 when the key
    /// was used for another message.
    pub fn send(
        &self,
        input: NewMessage,
        claim: Option<Claim>,
        key: Option<String>,
    ) -> Result<Outcome<Message>, ApiError> {
        self.store.with(|store| {
            if let Some(id) = store.keys.replay(claim.as_ref())? {
                return store
                    .messages
                    .iter()
                    .find(|m| m.id == id)
                    .cloned()
                    .map(Outcome::Existing)
                    .ok_or_else(|| ApiError::internal("message rejoué introuvable"));
            }
            input.validate()?;
            let now = Utc::now();
            let number = store.numbering.peek(now);
            store.numbering.take(&number);
            let message = Message {
                id: number.to_string(),
                to: input.to,
                from: input.from,
                text: input.text,
                idempotency_key: key,
                received_at: now,
            };
            store.keys.record(claim, message.id.clone());
            store.messages.push(message.clone());
            Ok(Outcome::Created(message))
        })
    }

    /// Every message received, oldest first.
    pub fn messages(&self) -> Vec<Message> {
        self.store.with(|store| store.messages.clone())
    }
}
