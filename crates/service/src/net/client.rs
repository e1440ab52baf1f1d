//! A small client of `clearsim serve` (tokio): connect with a participant's
//! id and token, then send requests (pipelined: many may be in flight) and
//! read notices. `clearsim load` and the tests use it.
//!
//! ```no_run
//! # async fn f() -> Result<(), clearsim_service::client::ClientError> {
//! use clearsim_service::net::protocol::{Notice, Request, Submit};
//! let token: &[u8] = b"the bank's 64 hex digits, from the tokens file";
//! let mut bank = clearsim_service::client::Client::connect("127.0.0.1:7878", "ICBC", token).await?;
//! bank.send(&Request::Submit(Submit { client_ref: 1, receiver: 2, amount_fen: 10_000, priority: 0, instrument: 0 })).await?;
//! while let Some(notice) = bank.next().await? {
//!     if let Notice::Settled { .. } = notice { break; }
//! }
//! # Ok(()) }
//! ```

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// A connection's halves, over TCP or TLS.
type Reading = Box<dyn AsyncRead + Send + Unpin>;
type Writing = Box<dyn AsyncWrite + Send + Unpin>;

use super::protocol::{ErrorCode, FrameBuf, Notice, OLDEST_VERSION, ProtocolError, Request};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the service sent a bad frame: {0}")]
    Protocol(#[from] ProtocolError),
    #[error("the service refused the connection: {code:?}: {message}")]
    Refused { code: ErrorCode, message: String },
    #[error("the service closed the connection before answering HELLO")]
    Closed,
    #[error("the service answered HELLO with {0:?}")]
    Unexpected(Box<Notice>),
}

/// The sending half of a connection.
pub struct ClientWriter {
    writer: Writing,
    out: Vec<u8>,
}

impl ClientWriter {
    /// Adds `request` to what the next [`ClientWriter::flush`] sends.
    pub fn queue(&mut self, request: &Request) {
        request.encode(&mut self.out);
    }

    /// Bytes queued and not yet sent.
    pub fn queued_bytes(&self) -> usize {
        self.out.len()
    }

    pub async fn flush(&mut self) -> std::io::Result<()> {
        self.writer.write_all(&self.out).await?;
        // A TLS session holds what was written until flushed.
        self.writer.flush().await?;
        self.out.clear();
        Ok(())
    }

    /// Sends raw bytes (tests: frames that are wrong on purpose).
    pub async fn send_raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.writer.write_all(bytes).await?;
        self.writer.flush().await
    }
}

/// The receiving half of a connection.
pub struct ClientReader {
    reader: Reading,
    frames: FrameBuf,
}

impl ClientReader {
    /// The next notice; `None` once the service closed the connection.
    pub async fn next(&mut self) -> Result<Option<Notice>, ClientError> {
        loop {
            if let Some(notice) = self.try_next()? {
                return Ok(Some(notice));
            }
            if !self.fill().await? {
                return Ok(None);
            }
        }
    }

    /// The next notice already received, without waiting.
    pub fn try_next(&mut self) -> Result<Option<Notice>, ClientError> {
        Ok(self.frames.next(Notice::decode)?)
    }

    /// Waits for more of the service's bytes: false once it closed the
    /// connection.
    pub async fn fill(&mut self) -> Result<bool, ClientError> {
        match self.frames.fill(&mut self.reader).await {
            Ok(n) => Ok(n > 0),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

/// A connection, authenticated.
pub struct Client {
    pub writer: ClientWriter,
    pub reader: ClientReader,
    /// This connection's participant index, the roster's size, and the
    /// service's next sequence number when it answered HELLO.
    pub participant: u32,
    pub participants: u32,
    pub next_seq: u64,
}

impl Client {
    /// Connects and authenticates as `participant` with `token`, speaking
    /// protocol version 1: every accepted payment is answered ACCEPTED,
    /// and its SETTLED follows.
    pub async fn connect(
        address: impl tokio::net::ToSocketAddrs,
        participant: &str,
        token: &[u8],
    ) -> Result<Client, ClientError> {
        Client::connect_with(address, participant, token, None, OLDEST_VERSION).await
    }

    /// [`Client::connect`] speaking `version` (1 or 2: version 2 answers a
    /// payment that settles on arrival with one ACCEPTED_SETTLED), over
    /// TLS when `tls` is given: the service's certificate must chain to
    /// its roots and name the address's IP.
    pub async fn connect_with(
        address: impl tokio::net::ToSocketAddrs,
        participant: &str,
        token: &[u8],
        tls: Option<&Arc<rustls::ClientConfig>>,
        version: u16,
    ) -> Result<Client, ClientError> {
        let stream = TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        let (reader, writer): (Reading, Writing) = match tls {
            None => {
                let (reader, writer) = stream.into_split();
                (Box::new(reader), Box::new(writer))
            }
            Some(config) => {
                let name =
                    rustls::pki_types::ServerName::IpAddress(stream.peer_addr()?.ip().into());
                let connector = tokio_rustls::TlsConnector::from(config.clone());
                let tls = connector.connect(name, stream).await?;
                let (reader, writer) = tokio::io::split(tls);
                (Box::new(reader), Box::new(writer))
            }
        };
        let mut client_writer = ClientWriter {
            writer,
            out: Vec::with_capacity(64 * 1024),
        };
        let mut client_reader = ClientReader {
            reader,
            frames: FrameBuf::default(),
        };
        client_writer.queue(&Request::Hello {
            version,
            participant: participant.to_string(),
            token: token.to_vec(),
        });
        client_writer.flush().await?;
        match client_reader.next().await? {
            Some(Notice::Welcome {
                participant,
                participants,
                next_seq,
                ..
            }) => Ok(Client {
                writer: client_writer,
                reader: client_reader,
                participant,
                participants,
                next_seq,
            }),
            Some(Notice::Error { code, message }) => Err(ClientError::Refused { code, message }),
            Some(other) => Err(ClientError::Unexpected(Box::new(other))),
            None => Err(ClientError::Closed),
        }
    }

    /// Sends one request now.
    pub async fn send(&mut self, request: &Request) -> std::io::Result<()> {
        self.writer.queue(request);
        self.writer.flush().await
    }

    /// The next notice (see [`ClientReader::next`]).
    pub async fn next(&mut self) -> Result<Option<Notice>, ClientError> {
        self.reader.next().await
    }
}

impl clearsim_core::Blamed for ClientError {
    /// No service there, or one that refuses the token: the user's to fix;
    /// a service that speaks wrongly is a bug.
    fn blame(&self) -> clearsim_core::Blame {
        match self {
            ClientError::Io(_) | ClientError::Refused { .. } => clearsim_core::Blame::User,
            _ => clearsim_core::Blame::Bug,
        }
    }
}
