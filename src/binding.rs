//! The N-API layer, and nothing else: the receiver handle and the calls on
//! it, the encoder entry point, the one place core errors become JavaScript
//! errors, and the constants `lib/` reads instead of restating numbers. The
//! format these calls exchange is `batch`'s; the rules, `protocol`'s.
//!
//! A receiver between frames crosses as its packed word (see `batch`), a
//! number the wire keeps: no handle, no allocation, no finalizer for a
//! connection that never splits a frame across chunks. Made with an
//! `External` handle in the native heap that napi-rs registers, and a
//! finalizer, a receiver cost about 0.6 µs and 420 bytes a wire, and a
//! registry lookup under a lock per call. While a receiver holds bytes (or
//! an error, or a cipher) it crosses as an `External` handle passed to
//! free functions, not as a `#[napi]` class: a call costs about half as
//! much (measured on Node 20: 113 ns against 243 ns for a one-argument
//! call), and `receiverReceive` is called once per incoming chunk. The
//! gathered bytes of a straddling frame come back copied into a new
//! Buffer: measured, several times cheaper at 16 KiB than handing the
//! `Vec` over as an external Buffer, whose creation and finalizer
//! dominate.

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::batch::{self, BatchError, Encryptor, MseSession, Receiver};
use crate::protocol::mse::MseError;
use crate::protocol::{self, DecodeError, FastSetError, MessageId};

// The record and op format (see `batch`).
#[napi]
pub const RECORD_HEADER: u32 = batch::RECORD_HEADER as u32;
#[napi]
pub const RECORD_STRIDE: u32 = batch::RECORD_STRIDE as u32;
#[napi]
pub const RECEIVER_FRESH: u32 = batch::RECEIVER_FRESH;
#[napi]
pub const RECEIVER_HELD: u32 = batch::RECEIVER_HELD;
#[napi]
pub const OP_WORDS: u32 = batch::OP_WORDS as u32;
#[napi]
pub const KIND_KEEP_ALIVE: u32 = batch::KIND_KEEP_ALIVE;
#[napi]
pub const KIND_HANDSHAKE: u32 = batch::KIND_HANDSHAKE;
#[napi]
pub const KIND_UNKNOWN: u32 = batch::KIND_UNKNOWN;
#[napi]
pub const KIND_ERROR: u32 = batch::KIND_ERROR;
#[napi]
pub const KIND_MASK: u32 = batch::KIND_MASK;
#[napi]
pub const FLAG_BUFFERED: u32 = batch::FLAG_BUFFERED;
#[napi]
pub const FLAG_SPLIT: u32 = batch::FLAG_SPLIT;
#[napi]
pub const OP_INLINE: u32 = batch::OP_INLINE;
#[napi]
pub const HANDSHAKE_DHT: u32 = batch::HANDSHAKE_DHT;
#[napi]
pub const HANDSHAKE_EXTENDED: u32 = batch::HANDSHAKE_EXTENDED;
#[napi]
pub const HANDSHAKE_FAST: u32 = batch::HANDSHAKE_FAST;
/// Length of a reject message's body (id byte included), at its record's `d`.
#[napi]
pub const REJECT_BODY_LENGTH: u32 = batch::REJECT_BODY_LEN;
#[napi]
pub const MAX_OP_LENGTH: u32 = batch::MAX_OP_LEN as u32;
#[napi]
pub const MAX_PAYLOAD_LENGTH: u32 = batch::MAX_PAYLOAD_LEN;

// The protocol's numbers.
#[napi]
pub const HANDSHAKE_LENGTH: u32 = protocol::HANDSHAKE_LEN as u32;
/// Length of an info hash and of a peer id.
#[napi]
pub const ID_LENGTH: u32 = protocol::ID_LEN as u32;
/// The largest DHT port a port message carries (16 bits).
#[napi]
pub const MAX_PORT: u32 = u16::MAX as u32;
/// The largest extended message id (8 bits).
#[napi]
pub const MAX_EXTENDED_ID: u32 = u8::MAX as u32;
#[napi]
pub const DEFAULT_MAX_FRAME_LENGTH: u32 = protocol::DEFAULT_MAX_FRAME_LEN;
#[napi]
pub const ID_CHOKE: u32 = MessageId::Choke as u32;
#[napi]
pub const ID_UNCHOKE: u32 = MessageId::Unchoke as u32;
#[napi]
pub const ID_INTERESTED: u32 = MessageId::Interested as u32;
#[napi]
pub const ID_NOT_INTERESTED: u32 = MessageId::NotInterested as u32;
#[napi]
pub const ID_HAVE: u32 = MessageId::Have as u32;
#[napi]
pub const ID_BITFIELD: u32 = MessageId::Bitfield as u32;
#[napi]
pub const ID_REQUEST: u32 = MessageId::Request as u32;
#[napi]
pub const ID_PIECE: u32 = MessageId::Piece as u32;
#[napi]
pub const ID_CANCEL: u32 = MessageId::Cancel as u32;
#[napi]
pub const ID_PORT: u32 = MessageId::Port as u32;
/// The largest allowed-fast set `allowedFastSet` computes.
#[napi]
pub const MAX_ALLOWED_FAST_SET_LENGTH: u32 = protocol::MAX_ALLOWED_FAST_SET_LEN as u32;
#[napi]
pub const ID_SUGGEST: u32 = MessageId::Suggest as u32;
#[napi]
pub const ID_HAVE_ALL: u32 = MessageId::HaveAll as u32;
#[napi]
pub const ID_HAVE_NONE: u32 = MessageId::HaveNone as u32;
#[napi]
pub const ID_REJECT: u32 = MessageId::Reject as u32;
#[napi]
pub const ID_ALLOWED_FAST: u32 = MessageId::AllowedFast as u32;
#[napi]
pub const ID_EXTENDED: u32 = MessageId::Extended as u32;

/// A protocol violation, as `lib/receiver.js` turns it into an `Error`
/// with `code`.
#[napi(object)]
pub struct ProtocolError {
    pub code: String,
    pub message: String,
}

/// The one place core errors become JavaScript errors: the peer's as a
/// value (`ProtocolError`: a `DecodeError` or an `MseError`), the caller's
/// as a thrown `InvalidArg` error.
fn protocol_error(err: impl PeerError) -> ProtocolError {
    ProtocolError {
        code: err.code().to_string(),
        message: err.to_string(),
    }
}

/// A peer's mistake, with its stable code.
trait PeerError: std::fmt::Display {
    fn code(&self) -> &'static str;
}

impl PeerError for DecodeError {
    fn code(&self) -> &'static str {
        DecodeError::code(self)
    }
}

impl PeerError for MseError {
    fn code(&self) -> &'static str {
        MseError::code(self)
    }
}

fn caller_error(err: BatchError) -> Error {
    Error::new(Status::InvalidArg, err.to_string())
}

/// A bad argument of a public function, thrown as Node throws its own: a
/// `TypeError` for a value of the wrong kind, a `RangeError` for one out of
/// range, each with Node's `code`.
fn argument_error(env: &Env, err: FastSetError) -> Error {
    let (message, code) = (err.to_string(), err.code());
    let thrown = match err {
        FastSetError::Address(_) => env.throw_type_error(&message, Some(code)),
        _ => env.throw_range_error(&message, Some(code)),
    };
    match thrown {
        // napi-rs leaves the pending exception as it is.
        Ok(()) => Error::new(Status::PendingException, message),
        Err(err) => err,
    }
}

/// Decodes `chunk[from..]` into records in `out` (the bytes of a
/// `Uint32Array`); returns the gathered bytes a `FLAG_BUFFERED` record
/// points into. `fresh`: the first call on this chunk, which on an
/// encrypted connection decrypts it in place first (all of it, once).
#[napi(ts_return_type = "Buffer | null")]
pub fn receiver_receive<'env>(
    env: &'env Env,
    receiver: &mut External<Receiver>,
    mut chunk: BufferSlice,
    from: u32,
    mut out: BufferSlice,
    fresh: bool,
) -> Result<Option<BufferSlice<'env>>> {
    let got = if fresh {
        receiver.receive_new(&mut chunk, from, &mut out)
    } else {
        receiver.receive(&chunk, from, &mut out)
    };
    got.map_err(caller_error)?
        .map(|bytes| BufferSlice::copy_from(env, bytes))
        .transpose()
}

/// `receiverReceive` on the receiver the packed word `state` describes,
/// rejecting message bodies over `maxFrameLen` bytes. Returns nothing when
/// the receiver still packs (its new word is the header's `state`), or the
/// receiver itself, to be kept while the header's `state` is
/// `RECEIVER_HELD`. Nothing is gathered: every record points into the
/// chunk.
#[napi]
pub fn receiver_receive_packed(
    state: u32,
    max_frame_len: u32,
    chunk: &[u8],
    from: u32,
    mut out: BufferSlice,
) -> Result<Option<External<Receiver>>> {
    Receiver::receive_packed(state, max_frame_len, chunk, from, &mut out)
        .map(|spilled| spilled.map(External::new))
        .map_err(caller_error)
}

/// The receiver a packed word describes, to be kept as itself (see
/// `receiverReceivePacked`): for a call that needs one.
#[napi]
pub fn receiver_unpack(state: u32, max_frame_len: u32) -> Result<External<Receiver>> {
    Receiver::unpack(state, max_frame_len)
        .map(External::new)
        .map_err(caller_error)
}

/// Tells the receiver whether our handshake set the fast bit (BEP 6): the
/// fast messages come as such only when the peer's did too.
#[napi]
pub fn receiver_set_fast(receiver: &mut External<Receiver>, fast: bool) {
    receiver.set_fast(fast);
}

/// The violation behind a `KIND_ERROR` record.
#[napi]
pub fn receiver_take_error(receiver: &mut External<Receiver>) -> Option<ProtocolError> {
    receiver.take_error().map(protocol_error)
}

/// Encodes the first `count` ops into `out` from byte `at` on; returns the
/// end offset.
#[napi]
pub fn encode_ops(
    mut out: BufferSlice,
    at: u32,
    ops: &[u32],
    count: u32,
    payloads: Option<&[u8]>,
) -> Result<u32> {
    batch::encode_ops(&mut out, at, ops, count, payloads.unwrap_or_default()).map_err(caller_error)
}

/// `encodeOps` for a queue with headers whose payloads the caller pushes
/// after them: `ends` (the bytes of a `Uint32Array`, as the receiver's
/// records) gets the end offset of each such header.
#[napi]
pub fn encode_ops_cut(
    mut out: BufferSlice,
    at: u32,
    ops: &[u32],
    count: u32,
    payloads: Option<&[u8]>,
    mut ends: BufferSlice,
) -> Result<u32> {
    let mut words = vec![0u32; ends.len() / 4];
    let end = batch::encode_ops_cut(
        &mut out,
        at,
        ops,
        count,
        payloads.unwrap_or_default(),
        &mut words,
    )
    .map_err(caller_error)?;
    for (bytes, word) in ends.chunks_exact_mut(4).zip(words) {
        bytes.copy_from_slice(&word.to_ne_bytes());
    }
    Ok(end)
}

/// BEP 6's allowed-fast set of `k` pieces (fewer if the torrent has fewer)
/// to offer the peer at `ip` (IPv4 or IPv6 text), for the torrent of
/// `infoHash` (20 bytes) and `numPieces` pieces.
#[napi]
pub fn allowed_fast_set(
    env: &Env,
    ip: String,
    info_hash: &[u8],
    num_pieces: f64,
    k: f64,
) -> Result<Vec<u32>> {
    protocol::allowed_fast_set_from(&ip, info_hash, num_pieces, k)
        .map_err(|err| argument_error(env, err))
}

// MSE/PE (see `batch::MseSession`): the handshake as an `External` handle
// like the receiver's; once established, its decrypt stream goes to the
// receiver and its encrypt stream to an `Encryptor` the sender holds.

/// What `mseFeed` produced: bytes to send, plaintext peer wire bytes for
/// the receiver, and, once, the encryption agreed (`'rc4'` or
/// `'plaintext'`); or the peer's mistake.
#[napi(object)]
pub struct MseProgress {
    pub send: Buffer,
    pub received: Buffer,
    pub encryption: Option<String>,
    pub error: Option<ProtocolError>,
}

/// The MSE handshake of a wire that dials, for the torrent `infoHash`.
#[napi]
pub fn mse_initiator(info_hash: &[u8], require: bool) -> Result<External<MseSession>> {
    MseSession::initiator(info_hash, require)
        .map(External::new)
        .map_err(caller_error)
}

/// The MSE handshake of a wire that accepts, for the torrents whose info
/// hashes `infoHashes` holds one after another.
#[napi]
pub fn mse_responder(info_hashes: &[u8], require: bool) -> Result<External<MseSession>> {
    MseSession::responder(info_hashes, require)
        .map(External::new)
        .map_err(caller_error)
}

/// Feeds the peer's next bytes to the handshake (none, to start an initiator).
#[napi]
pub fn mse_feed(session: &mut External<MseSession>, chunk: &[u8]) -> MseProgress {
    match session.feed(chunk) {
        Ok(fed) => MseProgress {
            send: fed.send.into(),
            received: fed.received.into(),
            encryption: fed.encryption.map(str::to_string),
            error: None,
        },
        Err(err) => MseProgress {
            send: Vec::new().into(),
            received: Vec::new().into(),
            encryption: None,
            error: Some(protocol_error(err)),
        },
    }
}

/// Moves the established handshake's decrypt stream into the receiver.
#[napi]
pub fn receiver_set_decrypt(
    receiver: &mut External<Receiver>,
    session: &mut External<MseSession>,
) -> Result<()> {
    let rc4 = session
        .take_decrypt()
        .ok_or(BatchError::NoCipher)
        .map_err(caller_error)?;
    receiver.set_decrypt(rc4);
    Ok(())
}

/// The established handshake's encrypt stream, for the sender.
#[napi]
pub fn encryptor_new(session: &mut External<MseSession>) -> Result<External<Encryptor>> {
    session
        .take_encrypt()
        .map(External::new)
        .ok_or(BatchError::NoCipher)
        .map_err(caller_error)
}

/// Encrypts `data` in place.
#[napi]
pub fn encryptor_apply(encryptor: &mut External<Encryptor>, mut data: BufferSlice) {
    encryptor.apply(&mut data);
}

/// `encodeOps`, then `tail` (a block, not modified) copied after the ops;
/// all of it encrypted in place in the same call. Returns the end offset.
#[napi]
pub fn encode_ops_encrypted(
    encryptor: &mut External<Encryptor>,
    mut out: BufferSlice,
    at: u32,
    ops: &[u32],
    count: u32,
    payloads: Option<&[u8]>,
    tail: Option<&[u8]>,
) -> Result<u32> {
    let (payloads, tail) = (payloads.unwrap_or_default(), tail.unwrap_or_default());
    encryptor
        .encode_ops(&mut out, at, ops, count, payloads, tail)
        .map_err(caller_error)
}
