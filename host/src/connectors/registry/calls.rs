//! The typed calls of the registry: one operation on an instance's active
//! version (a call in flight keeps the version it started with), the
//! data-source answers through the instance's cache, and the SMS of an
//! SMS gateway. Every call is journaled by the runtime.

use std::sync::Arc;

use super::{Registry, RegistryError};
use crate::connectors::error::CallError;
use crate::connectors::host::AttachmentSource;
use crate::connectors::model::{
    Availability, Card, Demande, LookupItem, LookupQuery, Receipt, RemoteStatus, Request, Response,
    SmsMessage, SmsReceipt,
};

impl Registry {
    /// Calls one operation on an instance's active version.
    ///
    /// # Errors
    /// Unknown instance, or the call's [`CallError`].
    pub async fn call(
        &self,
        instance_id: &str,
        request: Request,
        attachments: Option<Arc<dyn AttachmentSource>>,
    ) -> Result<Response, RegistryError> {
        let (version, instance) = {
            let state = self.read();
            let slot = state
                .instances
                .get(instance_id)
                .ok_or_else(|| RegistryError::UnknownInstance(instance_id.to_string()))?;
            (slot.active.clone(), slot.instance.clone())
        };
        Ok(self
            .runtime
            .call(&version, &instance, request, attachments)
            .await?)
    }

    /// `check` on an instance.
    ///
    /// # Errors
    /// See [`Registry::call`].
    pub async fn check(&self, instance_id: &str) -> Result<Availability, RegistryError> {
        match self.call(instance_id, Request::Check, None).await? {
            Response::Check(a) => Ok(a),
            other => Err(unexpected(other)),
        }
    }

    /// `transmit` on an instance.
    ///
    /// # Errors
    /// See [`Registry::call`].
    pub async fn transmit(
        &self,
        instance_id: &str,
        demande: Demande,
        idempotency_key: &str,
        attachments: Option<Arc<dyn AttachmentSource>>,
    ) -> Result<Receipt, RegistryError> {
        let request = Request::Transmit {
            demande: Box::new(demande),
            idempotency_key: idempotency_key.to_string(),
        };
        match self.call(instance_id, request, attachments).await? {
            Response::Transmit(r) => Ok(r),
            other => Err(unexpected(other)),
        }
    }

    /// `status` on an instance.
    ///
    /// # Errors
    /// See [`Registry::call`].
    pub async fn status(
        &self,
        instance_id: &str,
        remote_id: &str,
    ) -> Result<RemoteStatus, RegistryError> {
        let request = Request::Status {
            remote_id: remote_id.to_string(),
        };
        match self.call(instance_id, request, None).await? {
            Response::Status(s) => Ok(s),
            other => Err(unexpected(other)),
        }
    }

    /// `lookup` on an instance.
    ///
    /// # Errors
    /// See [`Registry::call`].
    pub async fn lookup(
        &self,
        instance_id: &str,
        query: LookupQuery,
    ) -> Result<Vec<LookupItem>, RegistryError> {
        match self.call(instance_id, Request::Lookup(query), None).await? {
            Response::Lookup(items) => Ok(items),
            other => Err(unexpected(other)),
        }
    }

    /// `lookup` on an instance, answered from the instance's cache when
    /// the same query was answered less than `ttl` ago (see
    /// [`crate::connectors::lookups`]).
    ///
    /// # Errors
    /// See [`Registry::call`]; an error is shared by the callers that
    /// waited for the same query.
    pub async fn lookup_cached(
        &self,
        instance_id: &str,
        query: LookupQuery,
        ttl: std::time::Duration,
    ) -> Result<Arc<Vec<LookupItem>>, Arc<RegistryError>> {
        let lookups = self
            .read()
            .instances
            .get(instance_id)
            .map(|slot| slot.lookups.clone())
            .ok_or_else(|| Arc::new(RegistryError::UnknownInstance(instance_id.to_owned())))?;
        lookups
            .get_or_call(query.clone(), ttl, self.lookup(instance_id, query))
            .await
    }

    /// `card` on an instance.
    ///
    /// # Errors
    /// See [`Registry::call`].
    pub async fn card(&self, instance_id: &str, remote_id: &str) -> Result<Card, RegistryError> {
        let request = Request::Card {
            remote_id: remote_id.to_string(),
        };
        match self.call(instance_id, request, None).await? {
            Response::Card(c) => Ok(c),
            other => Err(unexpected(other)),
        }
    }
}

impl Registry {
    /// `send_sms` on an instance of an SMS gateway (a component of the
    /// world `sms-gateway` of `guichet:connector@0.2.0`): sends one SMS.
    ///
    /// The caller checks the number and fits the text first
    /// (`guichet_core::phone::mobile_e164`, `guichet_core::sms::fit`), and
    /// passes the same `idempotency_key` when it retries. Like every call,
    /// it is journaled; a worker delivering a demande's notification runs
    /// it inside [`journal::collect`](crate::connectors::journal::collect)
    /// so its record names the demande (and is erased with it).
    ///
    /// # Errors
    /// [`RegistryError::UnknownInstance`]; else [`RegistryError::Call`]
    /// with the call's [`CallError`], whose
    /// [`is_retryable`](CallError::is_retryable) says whether to try again
    /// later: the provider down or failing (`unavailable`) or the call's
    /// deadline (`timeout`) are; a number or text refused
    /// (`invalid_input`), a refusal (`rejected`), a wrong key, sender or
    /// URL (`configuration`), an instance that is no SMS gateway
    /// (`unsupported`), a trap or a memory blow-up are not.
    ///
    /// # Example
    /// ```no_run
    /// # async fn example(registry: &guichet_host::connectors::Registry) {
    /// use guichet_host::connectors::model::SmsMessage;
    ///
    /// let receipt = registry
    ///     .send_sms(
    ///         "sms",
    ///         SmsMessage {
    ///             to: "+33612345678".into(),
    ///             text: "Votre demande SIG-2026-000042 a été reçue.".into(),
    ///             idempotency_key: "notification-42".into(),
    ///         },
    ///     )
    ///     .await;
    /// # }
    /// ```
    pub async fn send_sms(
        &self,
        instance_id: &str,
        message: SmsMessage,
    ) -> Result<SmsReceipt, RegistryError> {
        match self
            .call(instance_id, Request::SendSms(message), None)
            .await?
        {
            Response::SendSms(receipt) => Ok(receipt),
            other => Err(unexpected(other)),
        }
    }
}

fn unexpected(response: Response) -> RegistryError {
    RegistryError::Call(CallError::Host(format!(
        "réponse inattendue : {response:?}"
    )))
}
