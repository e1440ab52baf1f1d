//! The wire protocol of `clearsim serve`, versions 1 and 2
//! (docs/protocol.md). Version 2 adds one notice, ACCEPTED_SETTLED, for a
//! payment that settles on arrival; everything else is version 1's.
//!
//! A frame is `length: u32` (little-endian: the bytes that follow it, at
//! most [`MAX_FRAME_BYTES`]), `type: u8`, then the type's fixed fields,
//! little-endian. Banks send [`Request`]s; the service answers and pushes
//! [`Notice`]s. Decoding never panics and never reads past a frame: a frame
//! whose length, type or fields are wrong is a [`ProtocolError`], and the
//! service closes that connection after an ERROR frame.

/// The newest protocol version this build speaks.
pub const VERSION: u16 = 2;
/// The oldest it still speaks: a bank's HELLO names either, and the
/// service answers in the version the bank named.
pub const OLDEST_VERSION: u16 = 1;
/// The largest frame body (type and fields): HELLO with a 64-byte id and a
/// 64-byte token is the longest.
pub const MAX_FRAME_BYTES: usize = 160;
/// Limits on HELLO's strings.
pub const MAX_ID_BYTES: usize = 64;
pub const MAX_TOKEN_BYTES: usize = 64;
/// The longest ERROR message.
pub const MAX_MESSAGE_BYTES: usize = 120;

/// Frame types.
mod kind {
    pub const HELLO: u8 = 0x01;
    pub const SUBMIT: u8 = 0x02;
    pub const QUERY: u8 = 0x03;
    pub const BYE: u8 = 0x04;
    pub const WELCOME: u8 = 0x41;
    pub const ACCEPTED: u8 = 0x42;
    pub const REJECTED: u8 = 0x43;
    pub const SETTLED: u8 = 0x44;
    pub const CREDIT: u8 = 0x45;
    pub const BALANCE: u8 = 0x46;
    pub const GOODBYE: u8 = 0x47;
    pub const ACCEPTED_SETTLED: u8 = 0x48;
    pub const ERROR: u8 = 0x4F;
}

/// What a bank sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// First frame of a connection: who the bank is, and its token.
    Hello {
        version: u16,
        participant: String,
        token: Vec<u8>,
    },
    /// A payment from the connection's own participant.
    Submit(Submit),
    /// The participant's own balance and queue.
    Query { query_ref: u64 },
    /// The bank is done: the service answers GOODBYE and closes.
    Bye,
}

/// A payment as a bank submits it: from its connection's own participant
/// (the frame has no sender), as the edge hands it to the engine and as
/// the journal records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Submit {
    /// The bank's own reference, echoed in every answer about it.
    pub client_ref: u64,
    /// Participant index (WELCOME gives the roster's size).
    pub receiver: u32,
    pub amount_fen: i64,
    pub priority: u8,
    /// Index of the scenario's instrument.
    pub instrument: u16,
}

/// What the service sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    Welcome {
        version: u16,
        participant: u32,
        participants: u32,
        /// The system's next sequence number: every payment it ever
        /// accepted has a lower one (after a recovery, too).
        next_seq: u64,
    },
    Accepted {
        client_ref: u64,
        seq: u64,
    },
    Rejected {
        client_ref: u64,
        reason: Reason,
    },
    /// Pushed to the sender when its payment settles (engine time, ms of
    /// the business day).
    Settled {
        client_ref: u64,
        seq: u64,
        at_ms: u32,
    },
    /// Version 2: the answer to a SUBMIT that settled on arrival, in
    /// place of its ACCEPTED and its SETTLED.
    AcceptedSettled {
        client_ref: u64,
        seq: u64,
        at_ms: u32,
    },
    /// Pushed to the receiver's connections when a payment to it settles.
    Credit {
        seq: u64,
        sender: u32,
        amount_fen: i64,
        at_ms: u32,
    },
    Balance {
        query_ref: u64,
        balance_fen: i64,
        credit_limit_fen: i64,
        queued: u32,
        queued_fen: i64,
    },
    /// The answer to BYE: this connection's counts, for the bank's own
    /// accounting.
    Goodbye {
        accepted: u64,
        rejected: u64,
    },
    /// The connection is closed after it.
    Error {
        code: ErrorCode,
        message: String,
    },
}

/// Why a SUBMIT was refused (the connection stays open).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum Reason {
    UnknownReceiver = 1,
    SelfPayment = 2,
    /// Not positive.
    BadAmount = 3,
    /// The system's queues are full and the payment cannot settle at once.
    QueueFull = 4,
    /// The connection has as many instructions awaiting an answer as it
    /// may.
    TooManyInFlight = 5,
    /// The business day is over.
    DayClosed = 6,
    UnknownInstrument = 7,
    /// The service is stopping.
    ShuttingDown = 8,
}

/// Why the service closed a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum ErrorCode {
    Malformed = 1,
    TooLarge = 2,
    UnknownType = 3,
    /// A frame other than HELLO came first.
    NotAuthenticated = 4,
    /// Unknown participant or wrong token (the two are not told apart).
    BadCredentials = 5,
    UnsupportedVersion = 6,
    /// Its outbound queue filled: it did not read its notices.
    SlowReader = 7,
    /// The connection limit is reached.
    Busy = 8,
    /// A second HELLO.
    AlreadyAuthenticated = 9,
    /// No HELLO within the HELLO limit, or no request within the idle
    /// limit.
    Timeout = 10,
    /// The service has stopped (its engine failed, or it is stopping).
    Unavailable = 11,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("frame of {0} bytes: at most {MAX_FRAME_BYTES}")]
    TooLarge(usize),
    #[error("empty frame: no type")]
    Empty,
    #[error("unknown frame type 0x{0:02x}")]
    UnknownType(u8),
    #[error("frame type 0x{kind:02x}: {what}")]
    Malformed { kind: u8, what: &'static str },
}

impl ProtocolError {
    /// The ERROR code the service answers it with.
    pub fn code(&self) -> ErrorCode {
        match self {
            ProtocolError::TooLarge(_) => ErrorCode::TooLarge,
            ProtocolError::UnknownType(_) => ErrorCode::UnknownType,
            ProtocolError::Empty | ProtocolError::Malformed { .. } => ErrorCode::Malformed,
        }
    }
}

impl Reason {
    /// Its name in metrics' labels.
    pub fn name(self) -> &'static str {
        match self {
            Reason::UnknownReceiver => "unknown_receiver",
            Reason::SelfPayment => "self_payment",
            Reason::BadAmount => "bad_amount",
            Reason::QueueFull => "queue_full",
            Reason::TooManyInFlight => "too_many_in_flight",
            Reason::DayClosed => "day_closed",
            Reason::UnknownInstrument => "unknown_instrument",
            Reason::ShuttingDown => "shutting_down",
        }
    }

    pub fn from_u16(code: u16) -> Option<Reason> {
        use Reason::*;
        [
            UnknownReceiver,
            SelfPayment,
            BadAmount,
            QueueFull,
            TooManyInFlight,
            DayClosed,
            UnknownInstrument,
            ShuttingDown,
        ]
        .into_iter()
        .find(|r| *r as u16 == code)
    }
}

impl ErrorCode {
    fn from_u16(code: u16) -> Option<ErrorCode> {
        use ErrorCode::*;
        [
            Malformed,
            TooLarge,
            UnknownType,
            NotAuthenticated,
            BadCredentials,
            UnsupportedVersion,
            SlowReader,
            Busy,
            AlreadyAuthenticated,
            Timeout,
            Unavailable,
        ]
        .into_iter()
        .find(|c| *c as u16 == code)
    }
}

/// Appends one frame: its length, then `body` (type and fields).
fn frame(out: &mut Vec<u8>, body: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    body(out);
    let length = out.len() - start - 4;
    clearsim_core::invariant!(length <= MAX_FRAME_BYTES, "a frame we write fits");
    out[start..start + 4].copy_from_slice(&(length as u32).to_le_bytes());
}

/// Appends a string of at most `max` bytes with its u8 length (longer ones
/// are cut at a character boundary: only ERROR messages can be).
fn put_str(out: &mut Vec<u8>, text: &[u8], max: usize) {
    let mut end = text.len().min(max);
    while end > 0 && std::str::from_utf8(&text[..end]).is_err() {
        end -= 1;
    }
    out.push(end as u8);
    out.extend_from_slice(&text[..end]);
}

impl Request {
    pub fn encode(&self, out: &mut Vec<u8>) {
        frame(out, |b| match self {
            Request::Hello {
                version,
                participant,
                token,
            } => {
                b.push(kind::HELLO);
                b.extend_from_slice(&version.to_le_bytes());
                put_str(b, participant.as_bytes(), MAX_ID_BYTES);
                b.push(token.len().min(MAX_TOKEN_BYTES) as u8);
                b.extend_from_slice(&token[..token.len().min(MAX_TOKEN_BYTES)]);
            }
            Request::Submit(Submit {
                client_ref,
                receiver,
                amount_fen,
                priority,
                instrument,
            }) => {
                b.push(kind::SUBMIT);
                b.extend_from_slice(&client_ref.to_le_bytes());
                b.extend_from_slice(&receiver.to_le_bytes());
                b.extend_from_slice(&amount_fen.to_le_bytes());
                b.push(*priority);
                b.extend_from_slice(&instrument.to_le_bytes());
            }
            Request::Query { query_ref } => {
                b.push(kind::QUERY);
                b.extend_from_slice(&query_ref.to_le_bytes());
            }
            Request::Bye => b.push(kind::BYE),
        });
    }

    /// The first whole frame of `buf`: `Ok(None)` while it is incomplete,
    /// else the request and the bytes it took.
    pub fn decode(buf: &[u8]) -> Result<Option<(Request, usize)>, ProtocolError> {
        let Some((kind, mut fields, used)) = split_frame(buf)? else {
            return Ok(None);
        };
        let request = match kind {
            kind::HELLO => {
                let version = fields.u16()?;
                let participant = fields.string(MAX_ID_BYTES)?;
                let token = fields.bytes(MAX_TOKEN_BYTES)?.to_vec();
                Request::Hello {
                    version,
                    participant,
                    token,
                }
            }
            kind::SUBMIT => Request::Submit(Submit {
                client_ref: fields.u64()?,
                receiver: fields.u32()?,
                amount_fen: fields.i64()?,
                priority: fields.u8()?,
                instrument: fields.u16()?,
            }),
            kind::QUERY => Request::Query {
                query_ref: fields.u64()?,
            },
            kind::BYE => Request::Bye,
            other => return Err(ProtocolError::UnknownType(other)),
        };
        fields.end()?;
        Ok(Some((request, used)))
    }
}

impl Notice {
    pub fn encode(&self, out: &mut Vec<u8>) {
        frame(out, |b| match self {
            Notice::Accepted { client_ref, seq } => {
                b.push(kind::ACCEPTED);
                b.extend_from_slice(&client_ref.to_le_bytes());
                b.extend_from_slice(&seq.to_le_bytes());
            }
            Notice::Rejected { client_ref, reason } => {
                b.push(kind::REJECTED);
                b.extend_from_slice(&client_ref.to_le_bytes());
                b.extend_from_slice(&(*reason as u16).to_le_bytes());
            }
            Notice::Settled {
                client_ref,
                seq,
                at_ms,
            }
            | Notice::AcceptedSettled {
                client_ref,
                seq,
                at_ms,
            } => {
                b.push(match self {
                    Notice::Settled { .. } => kind::SETTLED,
                    _ => kind::ACCEPTED_SETTLED,
                });
                b.extend_from_slice(&client_ref.to_le_bytes());
                b.extend_from_slice(&seq.to_le_bytes());
                b.extend_from_slice(&at_ms.to_le_bytes());
            }
            Notice::Credit {
                seq,
                sender,
                amount_fen,
                at_ms,
            } => {
                b.push(kind::CREDIT);
                b.extend_from_slice(&seq.to_le_bytes());
                b.extend_from_slice(&sender.to_le_bytes());
                b.extend_from_slice(&amount_fen.to_le_bytes());
                b.extend_from_slice(&at_ms.to_le_bytes());
            }
            _ => self.encode_session(b),
        });
    }

    /// The notices about the connection rather than a payment.
    fn encode_session(&self, b: &mut Vec<u8>) {
        match self {
            Notice::Welcome {
                version,
                participant,
                participants,
                next_seq,
            } => {
                b.push(kind::WELCOME);
                b.extend_from_slice(&version.to_le_bytes());
                b.extend_from_slice(&participant.to_le_bytes());
                b.extend_from_slice(&participants.to_le_bytes());
                b.extend_from_slice(&next_seq.to_le_bytes());
            }
            Notice::Balance {
                query_ref,
                balance_fen,
                credit_limit_fen,
                queued,
                queued_fen,
            } => {
                b.push(kind::BALANCE);
                b.extend_from_slice(&query_ref.to_le_bytes());
                b.extend_from_slice(&balance_fen.to_le_bytes());
                b.extend_from_slice(&credit_limit_fen.to_le_bytes());
                b.extend_from_slice(&queued.to_le_bytes());
                b.extend_from_slice(&queued_fen.to_le_bytes());
            }
            Notice::Goodbye { accepted, rejected } => {
                b.push(kind::GOODBYE);
                b.extend_from_slice(&accepted.to_le_bytes());
                b.extend_from_slice(&rejected.to_le_bytes());
            }
            Notice::Error { code, message } => {
                b.push(kind::ERROR);
                b.extend_from_slice(&(*code as u16).to_le_bytes());
                put_str(b, message.as_bytes(), MAX_MESSAGE_BYTES);
            }
            Notice::Accepted { .. }
            | Notice::Rejected { .. }
            | Notice::Settled { .. }
            | Notice::AcceptedSettled { .. }
            | Notice::Credit { .. } => unreachable!("encoded by Notice::encode"),
        }
    }

    /// The first whole frame of `buf` (see [`Request::decode`]).
    pub fn decode(buf: &[u8]) -> Result<Option<(Notice, usize)>, ProtocolError> {
        let Some((kind, mut f, used)) = split_frame(buf)? else {
            return Ok(None);
        };
        let notice = match kind {
            kind::WELCOME => Notice::Welcome {
                version: f.u16()?,
                participant: f.u32()?,
                participants: f.u32()?,
                next_seq: f.u64()?,
            },
            kind::ACCEPTED => Notice::Accepted {
                client_ref: f.u64()?,
                seq: f.u64()?,
            },
            kind::REJECTED => Notice::Rejected {
                client_ref: f.u64()?,
                reason: Reason::from_u16(f.u16()?).ok_or(f.bad("unknown reason"))?,
            },
            kind::SETTLED => Notice::Settled {
                client_ref: f.u64()?,
                seq: f.u64()?,
                at_ms: f.u32()?,
            },
            kind::ACCEPTED_SETTLED => Notice::AcceptedSettled {
                client_ref: f.u64()?,
                seq: f.u64()?,
                at_ms: f.u32()?,
            },
            kind::CREDIT => Notice::Credit {
                seq: f.u64()?,
                sender: f.u32()?,
                amount_fen: f.i64()?,
                at_ms: f.u32()?,
            },
            kind::BALANCE => Notice::Balance {
                query_ref: f.u64()?,
                balance_fen: f.i64()?,
                credit_limit_fen: f.i64()?,
                queued: f.u32()?,
                queued_fen: f.i64()?,
            },
            kind::GOODBYE => Notice::Goodbye {
                accepted: f.u64()?,
                rejected: f.u64()?,
            },
            kind::ERROR => Notice::Error {
                code: ErrorCode::from_u16(f.u16()?).ok_or(f.bad("unknown error code"))?,
                message: f.string(MAX_MESSAGE_BYTES)?,
            },
            other => return Err(ProtocolError::UnknownType(other)),
        };
        f.end()?;
        Ok(Some((notice, used)))
    }
}

/// The first frame of `buf`: its type, a reader over its fields, and the
/// bytes it takes; `None` while incomplete. A length beyond the limit is
/// refused before its bytes arrive.
fn split_frame(buf: &[u8]) -> Result<Option<(u8, Fields<'_>, usize)>, ProtocolError> {
    let Some(header) = buf.get(..4) else {
        return Ok(None);
    };
    let length = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    if length > MAX_FRAME_BYTES {
        return Err(ProtocolError::TooLarge(length));
    }
    let Some(body) = buf.get(4..4 + length) else {
        return Ok(None);
    };
    let (&kind, fields) = body.split_first().ok_or(ProtocolError::Empty)?;
    Ok(Some((kind, Fields { kind, rest: fields }, 4 + length)))
}

/// Reads a frame's fields in order; every read is bounds-checked.
struct Fields<'a> {
    kind: u8,
    rest: &'a [u8],
}

impl<'a> Fields<'a> {
    fn bad(&self, what: &'static str) -> ProtocolError {
        ProtocolError::Malformed {
            kind: self.kind,
            what,
        }
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], ProtocolError> {
        let (head, rest) = self
            .rest
            .split_first_chunk::<N>()
            .ok_or(self.bad("shorter than its fields"))?;
        self.rest = rest;
        Ok(*head)
    }

    fn u8(&mut self) -> Result<u8, ProtocolError> {
        Ok(self.take::<1>()?[0])
    }
    fn u16(&mut self) -> Result<u16, ProtocolError> {
        Ok(u16::from_le_bytes(self.take()?))
    }
    fn u32(&mut self) -> Result<u32, ProtocolError> {
        Ok(u32::from_le_bytes(self.take()?))
    }
    fn u64(&mut self) -> Result<u64, ProtocolError> {
        Ok(u64::from_le_bytes(self.take()?))
    }
    fn i64(&mut self) -> Result<i64, ProtocolError> {
        Ok(i64::from_le_bytes(self.take()?))
    }

    /// A u8 length, then that many bytes (at most `max`).
    fn bytes(&mut self, max: usize) -> Result<&'a [u8], ProtocolError> {
        let length = usize::from(self.u8()?);
        if length > max {
            return Err(self.bad("string longer than its limit"));
        }
        if self.rest.len() < length {
            return Err(self.bad("string beyond the frame"));
        }
        let (text, rest) = self.rest.split_at(length);
        self.rest = rest;
        Ok(text)
    }

    fn string(&mut self, max: usize) -> Result<String, ProtocolError> {
        let bytes = self.bytes(max)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| self.bad("string not UTF-8"))
    }

    /// Every field read: nothing may follow.
    fn end(&self) -> Result<(), ProtocolError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(self.bad("bytes after its fields"))
        }
    }
}

/// Bytes received and not yet decoded, on either side: frames are decoded
/// in place (a read offset, not a copy per frame) and the rest moved to
/// the front only before the next read.
#[derive(Default)]
pub struct FrameBuf {
    buf: Vec<u8>,
    pos: usize,
}

/// Bytes asked of the socket per read.
const READ_BYTES: usize = 64 * 1024;

impl FrameBuf {
    /// The next whole frame already received, decoded by `decode`
    /// ([`Request::decode`] or [`Notice::decode`]), without waiting.
    pub fn next<T>(
        &mut self,
        decode: impl Fn(&[u8]) -> Result<Option<(T, usize)>, ProtocolError>,
    ) -> Result<Option<T>, ProtocolError> {
        let decoded = decode(&self.buf[self.pos..])?;
        Ok(decoded.map(|(frame, used)| {
            self.pos += used;
            frame
        }))
    }

    /// Reads what the socket has (waiting for at least a byte): the bytes
    /// read, 0 at the end of the stream. Cancel-safe (a `select!` may drop
    /// it): bytes land in spare capacity and count only once read.
    pub async fn fill<R: tokio::io::AsyncRead + Unpin>(
        &mut self,
        reader: &mut R,
    ) -> std::io::Result<usize> {
        use tokio::io::AsyncReadExt;
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.reserve(READ_BYTES);
        reader.read_buf(&mut self.buf).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_submit_is_its_documented_bytes() {
        let mut out = Vec::new();
        Request::Submit(Submit {
            client_ref: 7,
            receiver: 3,
            amount_fen: 12_345,
            priority: 1,
            instrument: 2,
        })
        .encode(&mut out);
        // length 24 = type 1 + ref 8 + receiver 4 + amount 8 + priority 1
        // + instrument 2.
        let mut expected = vec![24, 0, 0, 0, 0x02];
        expected.extend_from_slice(&7u64.to_le_bytes());
        expected.extend_from_slice(&3u32.to_le_bytes());
        expected.extend_from_slice(&12_345i64.to_le_bytes());
        expected.push(1);
        expected.extend_from_slice(&2u16.to_le_bytes());
        assert_eq!(out, expected);
        assert_eq!(Request::decode(&out[..10]), Ok(None));
        let (back, used) = Request::decode(&out).unwrap().unwrap();
        assert_eq!(used, out.len());
        assert!(matches!(
            back,
            Request::Submit(Submit {
                amount_fen: 12_345,
                ..
            })
        ));
    }

    #[test]
    fn bad_frames_are_errors_with_their_codes() {
        assert_eq!(
            Request::decode(&[200, 0, 0, 0]).unwrap_err().code(),
            ErrorCode::TooLarge
        );
        assert_eq!(Request::decode(&[0, 0, 0, 0]), Err(ProtocolError::Empty));
        assert_eq!(
            Request::decode(&[1, 0, 0, 0, 0x99]).unwrap_err().code(),
            ErrorCode::UnknownType
        );
        // A QUERY one byte short, and one with a byte too many.
        let short = [8, 0, 0, 0, 0x03, 1, 2, 3, 4, 5, 6, 7];
        assert_eq!(
            Request::decode(&short).unwrap_err().code(),
            ErrorCode::Malformed
        );
        let long = [10, 0, 0, 0, 0x03, 1, 2, 3, 4, 5, 6, 7, 8, 9];
        assert_eq!(
            Request::decode(&long).unwrap_err().code(),
            ErrorCode::Malformed
        );
        // A HELLO whose id runs past the frame.
        let hello = [5, 0, 0, 0, 0x01, 1, 0, 9, b'a'];
        assert_eq!(
            Request::decode(&hello).unwrap_err().code(),
            ErrorCode::Malformed
        );
    }

    proptest::proptest! {
        /// Any bytes: an error, a frame within them, or "incomplete" —
        /// never a panic, never more than was given.
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            if let Ok(Some((_, used))) = Request::decode(&bytes) {
                proptest::prop_assert!(used <= bytes.len());
            }
            if let Ok(Some((_, used))) = Notice::decode(&bytes) {
                proptest::prop_assert!(used <= bytes.len());
            }
        }

        /// Any SUBMIT round-trips exactly.
        #[test]
        fn submits_round_trip(client_ref: u64, receiver: u32, amount_fen: i64, priority: u8, instrument: u16) {
            let submit = Request::Submit(Submit { client_ref, receiver, amount_fen, priority, instrument });
            let mut out = Vec::new();
            submit.encode(&mut out);
            proptest::prop_assert_eq!(Request::decode(&out), Ok(Some((submit, out.len()))));
        }
    }

    #[test]
    fn every_notice_round_trips() {
        let notices = [
            Notice::Welcome {
                version: VERSION,
                participant: 4,
                participants: 46,
                next_seq: 99,
            },
            Notice::Accepted {
                client_ref: 1,
                seq: 2,
            },
            Notice::Rejected {
                client_ref: 1,
                reason: Reason::QueueFull,
            },
            Notice::Settled {
                client_ref: 1,
                seq: 2,
                at_ms: 3,
            },
            Notice::AcceptedSettled {
                client_ref: 1,
                seq: 2,
                at_ms: 3,
            },
            Notice::Credit {
                seq: 2,
                sender: 5,
                amount_fen: -1,
                at_ms: 9,
            },
            Notice::Balance {
                query_ref: 8,
                balance_fen: -5,
                credit_limit_fen: 10,
                queued: 2,
                queued_fen: 30,
            },
            Notice::Goodbye {
                accepted: 3,
                rejected: 1,
            },
            Notice::Error {
                code: ErrorCode::SlowReader,
                message: "é".repeat(100),
            },
        ];
        let mut out = Vec::new();
        for notice in &notices {
            notice.encode(&mut out);
        }
        let mut at = 0;
        for notice in &notices {
            let (back, used) = Notice::decode(&out[at..]).unwrap().unwrap();
            at += used;
            match (notice, &back) {
                // Cut at the limit, on a character boundary.
                (Notice::Error { .. }, Notice::Error { message, .. }) => {
                    assert_eq!(message.len(), 120);
                }
                _ => assert_eq!(&back, notice),
            }
        }
        assert_eq!(at, out.len());
    }
}
