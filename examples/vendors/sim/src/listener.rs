//! A TCP listener that obeys [`Mode::Down`].
//!
//! While the switch is down, accepted connections are dropped at once and
//! reads on connections already open fail, so a client sees a connection
//! error and never an HTTP response — even on a pooled keep-alive
//! connection. Writes still go through, so the answer to the request that
//! switched the mode (`POST /_sim/mode {"mode":"down"}`) reaches its caller.

use std::{
    io,
    net::SocketAddr,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use axum::serve::Listener;
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
};

use crate::mode::{Mode, ModeSwitch};

/// How long to wait before accepting again after an accept error that is
/// not about one connection (for instance too many open files).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// A [`TcpListener`] wrapper implementing [`axum::serve::Listener`] that
/// drops connections while its [`ModeSwitch`] is [`Mode::Down`].
#[derive(Debug)]
pub struct SwitchedListener {
    inner: TcpListener,
    switch: ModeSwitch,
}

impl SwitchedListener {
    /// Binds `addr` (port 0 picks a free port).
    ///
    /// # Errors
    /// When the address cannot be bound.
    pub async fn bind(addr: SocketAddr, switch: ModeSwitch) -> io::Result<Self> {
        let inner = TcpListener::bind(addr).await?;
        Ok(Self { inner, switch })
    }

    /// The address actually bound.
    ///
    /// # Errors
    /// When the operating system cannot tell.
    pub fn bound_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

impl Listener for SwitchedListener {
    type Io = SwitchedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, peer)) => {
                    if self.switch.get() == Mode::Down {
                        tracing::debug!(%peer, "simulated outage: connection dropped");
                        drop(stream);
                        continue;
                    }
                    let stream = SwitchedStream {
                        inner: stream,
                        switch: self.switch.clone(),
                    };
                    return (stream, peer);
                }
                Err(error) if is_connection_error(&error) => {}
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// Errors that concern one connection only: accept again at once.
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// An accepted connection whose reads fail while the switch is down, so
/// hyper closes it before reading another request.
#[derive(Debug)]
pub struct SwitchedStream {
    inner: TcpStream,
    switch: ModeSwitch,
}

impl SwitchedStream {
    fn outage(&self) -> Option<io::Error> {
        self.switch
            .is_down()
            .then(|| io::Error::new(io::ErrorKind::ConnectionReset, "simulated outage"))
    }
}

impl AsyncRead for SwitchedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(error) = self.outage() {
            return Poll::Ready(Err(error));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for SwitchedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
