//! The state of one call (the data of its `Store`) and the capabilities the
//! host grants the guest through it: outbound HTTP, logs, configuration and
//! secrets, attachment content. WASI comes with an empty context: no
//! filesystem, environment, arguments or sockets (clocks and random only);
//! stderr is captured, bounded, so a panic message reaches the journal.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::instance::Instance;
use super::model::{GuestLog, HttpError, HttpRequest, HttpResponse};
use super::outbound::Exchange;

/// Largest stderr output kept from a guest (a panic message fits easily).
const STDERR_CAPACITY: usize = 16 * 1024;
/// Most log records kept from one call.
const MAX_LOGS: usize = 200;
/// Longest log message kept, in bytes.
const MAX_LOG_BYTES: usize = 4 * 1024;

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
    logs: Vec<GuestLog>,
    dropped_logs: usize,
    exchanges: Vec<Exchange>,
}

impl CallState {
    pub(super) fn new(
        instance: Arc<Instance>,
        attachments: Option<Arc<dyn AttachmentSource>>,
        readable: HashSet<String>,
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
            logs: Vec::new(),
            dropped_logs: 0,
            exchanges: Vec::new(),
        }
    }

    /// What the guest wrote to stderr (a panic message), masked.
    pub(super) fn stderr(&self) -> String {
        let text = String::from_utf8_lossy(&self.stderr.contents())
            .trim()
            .to_string();
        self.instance.mask(&text)
    }

    /// Logs and exchanges, for the journal.
    pub(super) fn take_journal(&mut self) -> (Vec<GuestLog>, Vec<Exchange>) {
        let mut logs = std::mem::take(&mut self.logs);
        if self.dropped_logs > 0 {
            logs.push(GuestLog {
                level: "warn".into(),
                message: format!(
                    "{} enregistrements de journal ignorés (limite de {MAX_LOGS})",
                    self.dropped_logs
                ),
                fields: Vec::new(),
            });
        }
        (logs, std::mem::take(&mut self.exchanges))
    }

    pub(super) async fn send_http(
        &mut self,
        request: HttpRequest,
    ) -> Result<HttpResponse, HttpError> {
        let (result, mut exchange) = self.instance.outbound().send(request).await;
        exchange.url = self.instance.mask(&exchange.url);
        exchange.error = exchange.error.map(|e| self.instance.mask(&e));
        self.exchanges.push(exchange);
        result
    }

    pub(super) fn write_log(
        &mut self,
        level: &str,
        message: String,
        fields: Vec<(String, String)>,
    ) {
        if self.logs.len() >= MAX_LOGS {
            self.dropped_logs += 1;
            return;
        }
        let mut message = self.instance.mask(&message);
        truncate(&mut message, MAX_LOG_BYTES);
        let fields = fields
            .into_iter()
            .map(|(k, v)| (k, self.instance.mask(&v)))
            .collect();
        self.logs.push(GuestLog {
            level: level.to_string(),
            message,
            fields,
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

fn truncate(text: &mut String, max: usize) {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
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
