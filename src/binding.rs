//! The N-API layer: a newtype over the core's decoder and the encoder entry
//! points `index.js` calls. No protocol logic lives here.
//!
//! Incoming bytes cross once per chunk: `decoderReceive` decodes every frame of the
//! chunk it has room for and writes one fixed-size record per frame into a
//! `Uint32Array` the caller owns, so no JS object is made per message. A
//! payload that lies inside the chunk is described by its offset (JS takes a
//! zero-copy `subarray`); the one frame per chunk that may straddle chunks
//! comes back as a Buffer copied from the decoder's gathered bytes (measured:
//! a plain copy is several times cheaper than handing the Vec over as an
//! external Buffer, whose creation and finalizer dominate at 16 KiB). A
//! piece whose block runs past the chunk is split off (a `FLAG_SPLIT`
//! record): JS gathers the block itself, straight into the Buffer it hands
//! the application, and crosses again only after it.
//!
//! Outgoing small messages cross once per flush: `encodeOps` encodes a
//! queue of `[kind, a, b, c]` ops into one Buffer.

use bytes::BufMut;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::protocol::{
    DecodeError, Decoder, FrameKind, Handshake, Message, Origin, Request, DEFAULT_MAX_FRAME_LEN,
    HANDSHAKE_LEN,
};

// Record layout, exported so that index.js reads it from here rather than
// restating it: a header `[count, position]`, then `count` records of
// `[kind, a, b, c, d]`. Kinds are message ids 0 to 9 and 20, or these.
#[napi]
pub const RECORD_HEADER: u32 = 2;
#[napi]
pub const RECORD_STRIDE: u32 = 5;
#[napi]
pub const KIND_KEEP_ALIVE: u32 = 64;
#[napi]
pub const KIND_HANDSHAKE: u32 = 65;
#[napi]
pub const KIND_UNKNOWN: u32 = 66;
#[napi]
pub const KIND_ERROR: u32 = 67;
/// Set on `kind` when the record's offsets point into the returned Buffer
/// rather than into the chunk.
#[napi]
pub const FLAG_BUFFERED: u32 = 0x100;
/// Set on a piece record (`[kind, piece, offset, blockLength, at]`) whose
/// block starts at `at` in the chunk and runs past its end: the caller
/// takes the block's bytes and resumes decoding after them. Always the last
/// record of a call.
#[napi]
pub const FLAG_SPLIT: u32 = 0x200;
/// Words per op of `encodeOps`: `[kind, a, b, c]`.
#[napi]
pub const OP_WORDS: u32 = 4;
/// Set on an op's kind when its payload is passed to `encodeOps` and
/// copied in after its header.
#[napi]
pub const OP_INLINE: u32 = 0x1000;

// The core's frame limit, for index.js's options.
#[napi]
pub const DEFAULT_MAX_FRAME_LENGTH: u32 = crate::protocol::DEFAULT_MAX_FRAME_LEN;

const HEADER: usize = RECORD_HEADER as usize;
const STRIDE: usize = RECORD_STRIDE as usize;

/// A protocol violation, as index.js turns it into an `Error` with `code`.
#[napi(object)]
pub struct ProtocolError {
    pub code: String,
    pub message: String,
}

/// The one place core errors become JS errors.
fn protocol_error(err: &DecodeError) -> ProtocolError {
    ProtocolError {
        code: err.code().to_string(),
        message: err.to_string(),
    }
}

fn invalid_arg(message: impl Into<String>) -> Error {
    Error::new(Status::InvalidArg, message.into())
}

/// The decoder behind one wire.
pub struct NativeDecoder {
    inner: Decoder,
    error: Option<DecodeError>,
}

impl NativeDecoder {
    fn receive(&mut self, chunk: &[u8], from: u32, out: &mut [u8]) -> Result<Option<Vec<u8>>> {
        // Both checked once per chunk, so that nothing below can panic: the
        // header fits, and every offset a record holds (at most the chunk's
        // length) fits its 32-bit word.
        if out.len() < HEADER * 4 {
            return Err(invalid_arg("record buffer too small"));
        }
        if u32::try_from(chunk.len()).is_err() {
            return Err(invalid_arg("chunk of 4 GiB or more"));
        }
        let words = out.len() / 4;
        let capacity = words.saturating_sub(HEADER) / STRIDE;
        let mut pos = (from as usize).min(chunk.len());
        let mut count = 0;
        let mut gathered = None;
        while count < capacity {
            let at = HEADER + count * STRIDE;
            match self.inner.decode(chunk, &mut pos) {
                Ok(Some(frame)) => {
                    put(out, at, &record(&frame.kind, frame.origin, pos));
                    if let FrameKind::PieceStart { .. } = frame.kind {
                        // The rest of the chunk is the block's: JS takes it.
                        count += 1;
                        break;
                    }
                }
                Ok(None) => break,
                Err(err) => {
                    put(out, at, &[KIND_ERROR, 0, 0, 0, 0]);
                    self.error = Some(err);
                    count += 1;
                    break;
                }
            }
            if let Some(bytes) = self.inner.take_buffered() {
                gathered = Some(bytes);
            }
            count += 1;
        }
        put(out, 0, &[count as u32, pos as u32]);
        Ok(gathered)
    }
}

// The decoder crosses to JS as an `External` handle passed to free
// functions, not as a `#[napi]` class: a call costs about half as much
// (measured here on Node 20: 113 ns against 243 ns for a one-argument call),
// and `decoderReceive` is called once per incoming chunk.

/// A decoder for one wire, rejecting message bodies over `maxFrameLen`
/// bytes (default 1 MiB).
#[napi]
pub fn decoder_new(max_frame_len: Option<u32>) -> External<NativeDecoder> {
    let mut inner = Decoder::new(max_frame_len.unwrap_or(DEFAULT_MAX_FRAME_LEN));
    inner.set_split_pieces(true);
    External::new(NativeDecoder { inner, error: None })
}

/// Decodes `chunk[from..]` into records in `out` (the bytes of a
/// `Uint32Array`, as many records as fit), sets record word 0 to the record
/// count and word 1 to the position reached, and returns the gathered bytes
/// a `FLAG_BUFFERED` record points into.
#[napi(ts_return_type = "Buffer | null")]
pub fn decoder_receive<'env>(
    env: &'env Env,
    decoder: &mut External<NativeDecoder>,
    chunk: &[u8],
    from: u32,
    mut out: BufferSlice,
) -> Result<Option<BufferSlice<'env>>> {
    decoder
        .receive(chunk, from, &mut out)?
        .map(|bytes| BufferSlice::copy_from(env, bytes))
        .transpose()
}

/// The violation behind a `KIND_ERROR` record.
#[napi]
pub fn decoder_take_error(decoder: &mut External<NativeDecoder>) -> Option<ProtocolError> {
    decoder.error.take().as_ref().map(protocol_error)
}

/// Writes `words` at word index `at` of a `Uint32Array`'s bytes.
fn put(out: &mut [u8], at: usize, words: &[u32]) {
    for (i, word) in words.iter().enumerate() {
        out[(at + i) * 4..][..4].copy_from_slice(&word.to_ne_bytes());
    }
}

/// The record of a frame; `pos` is where decoding stopped, which for a split
/// piece is where its block starts. Offsets fit 32 bits: `receive` checked
/// the chunk's length.
fn record(kind: &FrameKind<&[u8]>, origin: Origin, pos: usize) -> [u32; STRIDE] {
    let (base, flag) = match origin {
        Origin::Input(at) => (at as u32, 0),
        Origin::Buffered => (0, FLAG_BUFFERED),
    };
    let mut fields: [u32; STRIDE] = match *kind {
        FrameKind::PieceStart {
            piece,
            offset,
            block_len,
        } => return [7 | FLAG_SPLIT, piece, offset, block_len, pos as u32],
        FrameKind::Handshake(hs) => {
            let ext = hs.extensions();
            // Offset of the info hash; the peer id follows it.
            [
                KIND_HANDSHAKE,
                ext.dht as u32,
                ext.extended as u32,
                base + 28,
                40,
            ]
        }
        FrameKind::Message(m) => {
            let payload_at = base + m.payload_offset() as u32;
            let payload_len = m.payload().len() as u32;
            match m {
                Message::KeepAlive => [KIND_KEEP_ALIVE, 0, 0, 0, 0],
                Message::Choke => [0, 0, 0, 0, 0],
                Message::Unchoke => [1, 0, 0, 0, 0],
                Message::Interested => [2, 0, 0, 0, 0],
                Message::NotInterested => [3, 0, 0, 0, 0],
                Message::Have(index) => [4, index, 0, 0, 0],
                Message::Bitfield(_) => [5, 0, 0, payload_at, payload_len],
                Message::Request(r) => [6, r.piece, r.offset, r.length, 0],
                Message::Piece { piece, offset, .. } => [7, piece, offset, payload_at, payload_len],
                Message::Cancel(r) => [8, r.piece, r.offset, r.length, 0],
                Message::Port(port) => [9, port as u32, 0, 0, 0],
                Message::Extended { id, .. } => [20, id as u32, 0, payload_at, payload_len],
                // The whole body, id byte included, as the reference emits it.
                Message::Unknown { .. } => [KIND_UNKNOWN, 0, 0, base, payload_len + 1],
            }
        }
    };
    if fields[0] != KIND_KEEP_ALIVE {
        fields[0] |= flag;
    }
    fields
}

fn write_at(
    out: &mut [u8],
    at: u32,
    len: usize,
    write: impl FnOnce(&mut &mut [u8]),
) -> Result<u32> {
    let at = at as usize;
    if at > out.len() || out.len() - at < len {
        return Err(invalid_arg("output buffer too small"));
    }
    let end = u32::try_from(at + len).map_err(|_| invalid_arg("output buffer too large"))?;
    let mut dst = &mut out[at..at + len];
    write(&mut dst);
    Ok(end)
}

/// The message an op `[kind, a, b, c]` of `encodeOps` stands for, with the
/// length of the payload the caller sends after it (0 for fixed-size ones).
fn op_message(op: &[u32]) -> Result<(Message<()>, usize)> {
    let &[kind, a, b, c] = op else {
        return Err(invalid_arg("an op is 4 words"));
    };
    let fixed = |m| Ok((m, 0));
    match kind {
        KIND_KEEP_ALIVE => fixed(Message::KeepAlive),
        0 => fixed(Message::Choke),
        1 => fixed(Message::Unchoke),
        2 => fixed(Message::Interested),
        3 => fixed(Message::NotInterested),
        4 => fixed(Message::Have(a)),
        6 => fixed(Message::Request(Request::new(a, b, c))),
        8 => fixed(Message::Cancel(Request::new(a, b, c))),
        9 => fixed(Message::Port(
            u16::try_from(a).map_err(|_| invalid_arg("port out of range"))?,
        )),
        _ if c > u32::MAX - 13 => Err(invalid_arg("payload too large")),
        5 => Ok((Message::Bitfield(()), c as usize)),
        7 => Ok((
            Message::Piece {
                piece: a,
                offset: b,
                block: (),
            },
            c as usize,
        )),
        20 => Ok((
            Message::Extended {
                id: u8::try_from(a).map_err(|_| invalid_arg("extended id out of range"))?,
                payload: (),
            },
            c as usize,
        )),
        _ => Err(invalid_arg(format!("not a message kind: {kind}"))),
    }
}

/// What one op stands for: a message header whose payload the caller sends
/// after it (none for fixed-size messages), a whole message with its
/// payload copied in (`OP_INLINE`), or a handshake.
enum Encoded<'a> {
    Header(Message<()>, usize),
    Inline(Message<()>, &'a [u8]),
    Handshake(Handshake),
}

impl Encoded<'_> {
    fn len(&self) -> usize {
        match self {
            Encoded::Header(m, _) => m.header_len(),
            Encoded::Inline(m, payload) => m.header_len() + payload.len(),
            Encoded::Handshake(_) => HANDSHAKE_LEN,
        }
    }

    fn encode(&self, dst: &mut &mut [u8]) {
        match self {
            Encoded::Header(m, payload_len) => m.encode_header_for(*payload_len, dst),
            Encoded::Inline(m, payload) => {
                m.encode_header_for(payload.len(), dst);
                dst.put_slice(payload);
            }
            Encoded::Handshake(hs) => hs.encode(dst),
        }
    }
}

/// The inline payloads, taken from the front.
struct Payloads<'a>(&'a [u8]);

impl<'a> Payloads<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8]> {
        if self.0.len() < len {
            return Err(invalid_arg("fewer payload bytes than the inline ops need"));
        }
        let (payload, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(payload)
    }
}

/// Resolves an op, taking its payload (if it has one inline) from `payloads`.
fn resolve<'a>(op: &[u32], payloads: &mut Payloads<'a>) -> Result<Encoded<'a>> {
    let &[kind, a, b, c] = op else {
        return Err(invalid_arg("an op is 4 words"));
    };
    if kind == KIND_HANDSHAKE {
        let ids = payloads.take(40)?;
        let (Some(info_hash), Some(peer_id)) = (
            ids.get(..20).and_then(|s| s.try_into().ok()),
            ids.get(20..).and_then(|s| s.try_into().ok()),
        ) else {
            return Err(invalid_arg(
                "a handshake op's payload is the info hash and the peer id, 40 bytes",
            ));
        };
        return Ok(Encoded::Handshake(Handshake::new(
            info_hash,
            peer_id,
            a != 0,
        )));
    }
    let (message, payload_len) = op_message(&[kind & !OP_INLINE, a, b, c])?;
    if kind & OP_INLINE == 0 {
        return Ok(Encoded::Header(message, payload_len));
    }
    Ok(Encoded::Inline(message, payloads.take(payload_len)?))
}

/// Encodes the first `count` ops of `ops` (each `[kind, a, b, c]`: a
/// fixed-size message, or the header of a bitfield, piece or extended
/// message whose payload of `c` bytes the caller sends after it) into `out`
/// from `at` on, in order; returns the end offset. `out` needs at most 17
/// bytes an op, plus the inline payloads. An op whose kind has `OP_INLINE`
/// set takes its payload (`c` bytes) from `payloads`, the inline payloads
/// one after another, and is encoded whole; a `KIND_HANDSHAKE` op (`a`: the
/// DHT bit) takes the 40 bytes of info hash and peer id from there too.
#[napi]
pub fn encode_ops(
    mut out: BufferSlice,
    at: u32,
    ops: &[u32],
    count: u32,
    payloads: Option<&[u8]>,
) -> Result<u32> {
    let words = (count as usize)
        .checked_mul(OP_WORDS as usize)
        .filter(|&n| n <= ops.len())
        .ok_or_else(|| invalid_arg("fewer ops than count"))?;
    let ops = &ops[..words];
    let payloads = payloads.unwrap_or_default();
    // Checked and measured first, then encoded: nothing is written when an
    // op is bad or `out` too short.
    let mut len = 0;
    let mut taken = Payloads(payloads);
    for op in ops.chunks_exact(OP_WORDS as usize) {
        len += resolve(op, &mut taken)?.len();
    }
    write_at(&mut out[..], at, len, |dst| {
        let mut taken = Payloads(payloads);
        for op in ops.chunks_exact(OP_WORDS as usize) {
            if let Ok(encoded) = resolve(op, &mut taken) {
                encoded.encode(dst);
            }
        }
    })
}
