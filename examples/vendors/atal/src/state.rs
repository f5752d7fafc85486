//! The in-memory ATAL: reference data, works requests, their numbering and
//! the idempotency ledgers, behind one lock.
//!
//! Routes and the test [`crate::Handle`] both go through [`State`]; nothing
//! else touches the records.

use std::{fmt, sync::Arc};

use chrono::Utc;
use serde::Serialize;
use uuid::Uuid;
use vendor_sim::{Claim, Ledger, ModeSwitch, Numbering, Outcome, Shared};

use crate::{
    DEFAULT_API_KEY,
    error::ApiError,
    referential::Referential,
    works_request::{
        AgentResponse, Attachment, NewResponse, NewWorksRequest, StateCode, WorksRequest,
    },
};

/// What `POST /api/WorksRequests` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Receipt {
    /// ATAL's id of the works request.
    pub id: Uuid,
    /// Its number, `DI-<year>-<6 digits>`.
    pub request_number: String,
}

impl From<&WorksRequest> for Receipt {
    fn from(request: &WorksRequest) -> Self {
        Self {
            id: request.id,
            request_number: request.request_number.clone(),
        }
    }
}

/// An uploaded file, read from the multipart `file` part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// The part's file name.
    pub file_name: String,
    /// The part's content type.
    pub content_type: String,
    /// The size in bytes.
    pub size: u64,
    /// A hash of the content, so an idempotent retry can be told from
    /// another file.
    pub digest: u64,
}

impl Upload {
    /// The idempotency claim of this upload to works request `request`,
    /// read from the `Idempotency-Key` header.
    ///
    /// # Errors
    /// 400 when the header is malformed.
    pub fn claim(
        &self,
        headers: &axum::http::HeaderMap,
        request: Uuid,
    ) -> Result<Option<Claim>, ApiError> {
        Claim::from_headers(headers, self.fingerprint(request))
    }

    fn fingerprint(&self, request: Uuid) -> serde_json::Value {
        serde_json::json!({
            "request": request,
            "file_name": self.file_name,
            "content_type": self.content_type,
            "size": self.size,
            "digest": self.digest,
        })
    }
}

/// The simulator's state: cheap to clone, every clone sees the same records.
#[derive(Clone)]
pub struct State {
    api_key: Arc<str>,
    mode: ModeSwitch,
    store: Shared<Store>,
}

#[derive(Debug)]
struct Store {
    referential: Referential,
    requests: Vec<WorksRequest>,
    numbering: Numbering,
    request_keys: Ledger<Uuid>,
    attachment_keys: Ledger<Uuid>,
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
            .field(
                "works_requests",
                &self.store.with(|store| store.requests.len()),
            )
            .finish_non_exhaustive()
    }
}

impl State {
    /// A simulator seeded with the README's reference data and no works
    /// request, accepting `api_key` in `X-API-Key`.
    pub fn new(api_key: impl Into<String>) -> Self {
        let store = Store {
            referential: Referential::seeded(),
            requests: Vec::new(),
            numbering: Numbering::new("DI", 6),
            request_keys: Ledger::default(),
            attachment_keys: Ledger::default(),
        };
        Self {
            api_key: api_key.into().into(),
            mode: ModeSwitch::new(),
            store: Shared::new(store),
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

    /// The thematics and third parties.
    pub fn referential(&self) -> Referential {
        self.store.with(|store| store.referential.clone())
    }

    /// Files a works request, or returns the one an earlier request with
    /// the same idempotency claim filed.
    ///
    /// # Errors
    /// 400 when the body breaks ATAL's rules; 409 when the key was used
    /// with another body.
    pub fn create_works_request(
        &self,
        input: NewWorksRequest,
        claim: Option<Claim>,
    ) -> Result<Outcome<WorksRequest>, ApiError> {
        self.store.with(|store| {
            if let Some(id) = store.request_keys.replay(claim.as_ref())? {
                return store.request(id).cloned().map(Outcome::Existing);
            }
            let now = Utc::now();
            let number = store.numbering.peek(now);
            let request = input.into_works_request(&store.referential, number.to_string(), now)?;
            store.numbering.take(&number);
            store.request_keys.record(claim, request.id);
            store.requests.push(request.clone());
            Ok(Outcome::Created(request))
        })
    }

    /// Whether a works request exists.
    pub fn has_works_request(&self, id: Uuid) -> bool {
        self.store.with(|store| store.request(id).is_ok())
    }

    /// Attaches an uploaded file's metadata to a works request, or returns
    /// the attachment an earlier request with the same claim created.
    ///
    /// # Errors
    /// 404 when the request is unknown; 409 when the key was used with
    /// another upload.
    pub fn add_attachment(
        &self,
        request_id: Uuid,
        upload: Upload,
        claim: Option<Claim>,
    ) -> Result<Outcome<Attachment>, ApiError> {
        self.store.with(|store| {
            store.request(request_id)?;
            let replayed = store.attachment_keys.replay(claim.as_ref())?;
            let request = store.request_mut(request_id)?;
            if let Some(id) = replayed
                && let Some(attachment) = request.attachments.iter().find(|a| a.id == id)
            {
                return Ok(Outcome::Existing(attachment.clone()));
            }
            let attachment = Attachment {
                id: Uuid::new_v4(),
                file_name: upload.file_name,
                content_type: upload.content_type,
                size: upload.size,
            };
            request.attachments.push(attachment.clone());
            store.attachment_keys.record(claim, attachment.id);
            Ok(Outcome::Created(attachment))
        })
    }

    /// One works request.
    pub fn works_request(&self, id: Uuid) -> Option<WorksRequest> {
        self.store.with(|store| store.request(id).ok().cloned())
    }

    /// All works requests, oldest first.
    pub fn works_requests(&self) -> Vec<WorksRequest> {
        self.store.with(|store| store.requests.clone())
    }

    /// Moves a works request to `code`, optionally adding an agent's response.
    ///
    /// # Errors
    /// 404 when the request is unknown.
    pub fn set_request_state(
        &self,
        id: Uuid,
        code: StateCode,
        response: Option<NewResponse>,
    ) -> Result<WorksRequest, ApiError> {
        self.store.with(|store| {
            let request = store.request_mut(id)?;
            request.request_state = code.into();
            if let Some(response) = response {
                request.responses.push(answer(response));
            }
            Ok(request.clone())
        })
    }

    /// Adds an agent's response without changing the state.
    ///
    /// # Errors
    /// 404 when the request is unknown.
    pub fn add_response(&self, id: Uuid, response: NewResponse) -> Result<WorksRequest, ApiError> {
        self.store.with(|store| {
            let request = store.request_mut(id)?;
            request.responses.push(answer(response));
            Ok(request.clone())
        })
    }
}

fn answer(response: NewResponse) -> AgentResponse {
    AgentResponse {
        id: Uuid::new_v4(),
        date: Utc::now(),
        author: response.author,
        text: response.text,
    }
}

/// The 404 for an unknown works request.
pub(crate) fn unknown_request(id: Uuid) -> ApiError {
    ApiError::not_found(
        "demande_introuvable",
        format!("Demande d'intervention {id} introuvable"),
    )
}

impl Store {
    fn request(&self, id: Uuid) -> Result<&WorksRequest, ApiError> {
        self.requests
            .iter()
            .find(|request| request.id == id)
            .ok_or_else(|| unknown_request(id))
    }

    fn request_mut(&mut self, id: Uuid) -> Result<&mut WorksRequest, ApiError> {
        self.requests
            .iter_mut()
            .find(|request| request.id == id)
            .ok_or_else(|| unknown_request(id))
    }
}
