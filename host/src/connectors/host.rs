//! The state of one call (the data of its `Store`) and the capabilities the
//! host grants the guest through it: outbound HTTP, logs, configuration and
//! secrets, attachment content. WASI comes with an empty context: no
//! filesystem, environment, arguments or sockets (clocks and random only);
//! stderr is captured, bounded, so a panic message reaches the journal.
//!
//! What a call leaves behind is bounded here, where it is made: log records
//! (count, bytes, fields, key and value sizes) and HTTP exchanges (sent and
//! refused ones counted apart) follow the call's
//! [`RecordLimits`](super::bounds::RecordLimits); what is dropped is counted
//! and named by a marker record. Every text from the guest is masked (the
//! instance's secrets replaced by `***`) before it is kept.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::bounds::{RecordLimits, cut_masked};
use super::instance::Instance;
use super::model::{GuestLog, HttpError, HttpRequest, HttpResponse};
use super::outbound::Exchange;

/// Largest stderr output kept from a guest, bytes (a panic message fits easily).
const STDERR_CAPACITY: usize = 16 * 1024;

/// A future returned by an [`AttachmentSource`].
pub type AttachmentFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, String>> + Send + 'a>>;

/// Where the content of a demande's attachments comes from (file storage).
pub trait AttachmentSource: Send + Sync {
    /// Reads the whole attachment `id`.
    fn read<'a>(&'a self, id: &'a str) -> AttachmentFuture<'a>;
}

/// Attachments held in memory (CLI, tests).
#[derive(Debug, Default, Clone)]
pub struct MemoryAttachments(pub std::collections::HashMap<String, Vec<u8>>);

impl AttachmentSource for MemoryAttachments {
    fn read<'a>(&'a self, id: &'a str) -> AttachmentFuture<'a> {
        Box::pin(async move {
            self.0
                .get(id)
                .cloned()
                .ok_or_else(|| format!("pièce jointe inconnue : {id}"))
        })
    }
}

/// The data of one call's `Store`.
pub struct CallState {
    instance: Arc<Instance>,
    attachments: Option<Arc<dyn AttachmentSource>>,
    /// Attachment ids the guest may read: those of the demande of this call.
    readable: HashSet<String>,
    wasi: WasiCtx,
    table: ResourceTable,
    stderr: MemoryOutputPipe,
    pub(super) limits: MemoryCap,
    pub(super) deadline: Instant,
    pub(super) timed_out: bool,
    record_limits: RecordLimits,
    logs: Vec<GuestLog>,
    log_bytes: usize,
    dropped_logs: usize,
    exchanges: Vec<Exchange>,
    sent_kept: usize,
    sent_dropped: usize,
    refused_kept: usize,
    refused_dropped: usize,
}

impl CallState {
    pub(super) fn new(
        instance: Arc<Instance>,
        attachments: Option<Arc<dyn AttachmentSource>>,
        readable: HashSet<String>,
        record_limits: RecordLimits,
    ) -> Self {
        let stderr = MemoryOutputPipe::new(STDERR_CAPACITY);
        let wasi = WasiCtxBuilder::new().stderr(stderr.clone()).build();
        let limits = MemoryCap::new(instance.memory_bytes());
        let deadline = Instant::now() + instance.timeout();
        Self {
            instance,
            attachments,
            readable,
            wasi,
            table: ResourceTable::new(),
            stderr,
            limits,
            deadline,
            timed_out: false,
            record_limits,
            logs: Vec::new(),
            log_bytes: 0,
            dropped_logs: 0,
            exchanges: Vec::new(),
            sent_kept: 0,
            sent_dropped: 0,
            refused_kept: 0,
            refused_dropped: 0,
        }
    }

    /// What the guest wrote to stderr (a panic message), masked.
    pub(super) fn stderr(&self) -> String {
        let text = String::from_utf8_lossy(&self.stderr.contents())
            .trim()
            .to_string();
        self.instance.mask(&text)
    }

    /// Logs and exchanges, for the journal, each list ending with a marker
    /// when some were dropped.
    pub(super) fn take_journal(&mut self) -> (Vec<GuestLog>, Vec<Exchange>) {
        let limits = self.record_limits;
        let mut logs = std::mem::take(&mut self.logs);
        if self.dropped_logs > 0 {
            logs.push(GuestLog {
                level: "warn".into(),
                message: format!(
                    "{} enregistrements de journal ignorés (limite de {} enregistrements ou {} octets par appel)",
                    self.dropped_logs, limits.max_logs, limits.max_log_bytes
                ),
                fields: Vec::new(),
            });
        }
        let mut exchanges = std::mem::take(&mut self.exchanges);
        for (dropped, what, limit) in [
            (
                self.sent_dropped,
                "échanges HTTP non enregistrés",
                limits.max_exchanges,
            ),
            (
                self.refused_dropped,
                "requêtes refusées par l'hôte non enregistrées",
                limits.max_refused,
            ),
        ] {
            if dropped > 0 {
                exchanges.push(Exchange {
                    method: "…".into(),
                    url: String::new(),
                    status: None,
                    error: Some(format!("{dropped} {what} (limite de {limit} par appel)")),
                    duration_ms: 0.0,
                });
            }
        }
        (logs, exchanges)
    }

    /// `text` masked and cut to `max` bytes, with a marker when cut.
    fn keep(&self, text: &str, max: usize) -> String {
        let instance = &self.instance;
        cut_masked(text, max, instance.longest_secret(), |t| instance.mask(t))
    }

    pub(super) async fn send_http(
        &mut self,
        request: HttpRequest,
    ) -> Result<HttpResponse, HttpError> {
        let (result, exchange) = self.instance.outbound().send(request).await;
        let limits = self.record_limits;
        // Refused before any byte left the host: counted apart, so a loop of
        // refused requests neither fills the journal nor hides real exchanges.
        let refused = matches!(
            result,
            Err(HttpError::Forbidden(_) | HttpError::InvalidUrl(_))
        );
        let (kept, dropped, max) = if refused {
            (
                &mut self.refused_kept,
                &mut self.refused_dropped,
                limits.max_refused,
            )
        } else {
            (
                &mut self.sent_kept,
                &mut self.sent_dropped,
                limits.max_exchanges,
            )
        };
        if *kept >= max {
            *dropped += 1;
            return result;
        }
        *kept += 1;
        let exchange = Exchange {
            url: self.keep(&exchange.url, limits.max_exchange_text_bytes),
            error: exchange
                .error
                .map(|e| self.keep(&e, limits.max_exchange_text_bytes)),
            ..exchange
        };
        self.exchanges.push(exchange);
        result
    }

    pub(super) fn write_log(
        &mut self,
        level: &str,
        message: String,
        fields: Vec<(String, String)>,
    ) {
        let limits = self.record_limits;
        if self.logs.len() >= limits.max_logs || self.log_bytes >= limits.max_log_bytes {
            self.dropped_logs += 1;
            return;
        }
        let message = self.keep(&message, limits.max_message_bytes);
        let total_fields = fields.len();
        let mut kept: Vec<(String, String)> = fields
            .iter()
            .take(limits.max_fields)
            .map(|(k, v)| {
                (
                    self.keep(k, limits.max_field_key_bytes),
                    self.keep(v, limits.max_field_value_bytes),
                )
            })
            .collect();
        drop(fields);
        if total_fields > limits.max_fields {
            kept.push((
                "…".into(),
                format!(
                    "{} champs ignorés (limite de {} par enregistrement)",
                    total_fields - limits.max_fields,
                    limits.max_fields
                ),
            ));
        }
        self.log_bytes +=
            message.len() + kept.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
        self.logs.push(GuestLog {
            level: level.to_string(),
            message,
            fields: kept,
        });
    }

    pub(super) fn config_value(&self, key: &str) -> Option<String> {
        self.instance.setting(key).map(str::to_string)
    }

    pub(super) fn secret_value(&self, key: &str) -> Option<String> {
        self.instance.secret(key).map(|s| s.expose().to_string())
    }

    /// Reads an attachment of this call's demande. The future owns what it
    /// needs, so it does not borrow the (non-`Sync`) call state across I/O.
    pub(super) fn read_attachment(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Vec<u8>, String>> + Send + 'static {
        let id = id.to_string();
        let allowed = self.readable.contains(&id);
        let source = self.attachments.clone();
        async move {
            if !allowed {
                return Err(format!(
                    "la pièce jointe « {id} » n'appartient pas à cette demande"
                ));
            }
            match source {
                Some(source) => source.read(&id).await,
                None => Err("aucune pièce jointe n'est disponible pour cet appel".into()),
            }
        }
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The memory cap of one call: denies growth past the cap and remembers it, so
/// the runtime reports a memory blow-up rather than a bare trap.
pub(super) struct MemoryCap {
    max_bytes: u64,
    pub(super) exceeded: bool,
}

impl MemoryCap {
    fn new(max_bytes: u64) -> Self {
        Self {
            max_bytes,
            exceeded: false,
        }
    }
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired as u64 > self.max_bytes {
            self.exceeded = true;
            wasmtime::bail!("limite de mémoire de {} octets atteinte", self.max_bytes);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}
