//! The format that crosses between the core and the JavaScript wire: plain
//! Rust over byte slices, so that it is unit-tested without N-API. The
//! binding (`binding.rs`) only hands JavaScript's buffers to it.
//!
//! **Bytes in: records.** [`Receiver::receive`] decodes every frame of a
//! chunk it has room for and writes one fixed-size record per frame into a
//! caller-owned `Uint32Array` (its bytes), so no JavaScript object is made
//! per message. The array starts with a header `[count, position]`, then
//! `count` records of [`RECORD_STRIDE`] words `[kind, a, b, c, d]`:
//!
//! | kind | a | b | c | d |
//! |---|---|---|---|---|
//! | a message id without payload (choke … uninterested) | | | | |
//! | have | index | | | |
//! | request, cancel | index | offset | length | |
//! | port | port | | | |
//! | bitfield | | | payload at | payload length |
//! | piece | index | offset | block at | block length |
//! | extended | extended id | | payload at | payload length |
//! | suggest, allowed-fast | index | | body at | body length (5) |
//! | have-all, have-none | | | body at | body length (1) |
//! | reject | index | offset | length | body at ([`REJECT_BODY_LEN`] bytes) |
//! | [`KIND_UNKNOWN`] | | | body at | body length (id byte included) |
//! | [`KIND_HANDSHAKE`] | flags ([`HANDSHAKE_DHT`], [`HANDSHAKE_EXTENDED`], [`HANDSHAKE_FAST`]) | | info hash at | peer id at |
//! | [`KIND_KEEP_ALIVE`], [`KIND_ERROR`] | | | | |
//!
//! Offsets point into the chunk (a zero-copy `subarray` in JavaScript), or,
//! when the kind has [`FLAG_BUFFERED`], into the bytes `receive` returns:
//! the one frame per call that was gathered across chunks. A piece whose
//! block runs past the chunk is split off ([`FLAG_SPLIT`]: `[kind, index,
//! offset, block length, block at]`, always the last record of a call): the
//! caller gathers the block itself, straight into the buffer it hands the
//! application, and calls again after it. The violation behind a
//! [`KIND_ERROR`] record is taken with [`Receiver::take_error`].
//!
//! A call ends after a handshake record (the handshake is the last record
//! of its call), so that the caller has handled the peer's handshake
//! (answered it with its own, and so decided on fast) before any message
//! after it is decoded.
//!
//! The fast messages (BEP 6, ids 13 to 17) come as such only when both
//! handshakes set the fast bit: the peer's, as decoded, and ours, which the
//! caller tells with [`Receiver::set_fast`]; otherwise they are
//! [`KIND_UNKNOWN`] records, as peer-wire-protocol 0.7.1 reads them, of any
//! length. Their records also point at their body (id byte included, as a
//! [`KIND_UNKNOWN`] record's), so that a wire can still hand one on as an
//! unknown message.
//!
//! **Bytes out: ops.** [`encode_ops`] encodes a queue of [`OP_WORDS`]-word
//! ops `[kind, a, b, c]` into one output buffer: a fixed-size message, the
//! header of a message whose payload (`c` bytes) the caller sends after it,
//! or, with [`OP_INLINE`], a whole message whose payload is copied in from
//! the inline payloads. A [`KIND_HANDSHAKE`] op takes the info hash and peer
//! id from there too; its `a` is flags, [`HANDSHAKE_DHT`] and
//! [`HANDSHAKE_FAST`] (the extension protocol bit is always set, as 0.7.1
//! sets it; other bits are ignored). The fast messages are ops like the
//! others: suggest and allowed-fast `[id, index]`, have-all and have-none
//! `[id]`, reject `[id, index, offset, length]`; the core encodes them
//! whether or not the peer asked for fast (that is the session's rule).

use bytes::BufMut;

use crate::protocol::{
    DecodeError, Decoder, Extensions, FrameKind, Handshake, Message, MessageId, Origin, Request,
    HANDSHAKE_LEN, ID_LEN, INFO_HASH_OFFSET, MAX_HEADER_LEN, PEER_ID_OFFSET,
};

/// Words before the first record: `[count, position]`.
pub const RECORD_HEADER: usize = 2;
/// Words per record: `[kind, a, b, c, d]`.
pub const RECORD_STRIDE: usize = 5;
/// Words per op: `[kind, a, b, c]`.
pub const OP_WORDS: usize = 4;

/// Record and op kind of a keep-alive (message kinds are their ids).
pub const KIND_KEEP_ALIVE: u32 = 64;
/// Record and op kind of a handshake.
pub const KIND_HANDSHAKE: u32 = 65;
/// Record kind of a message whose id the core does not know.
pub const KIND_UNKNOWN: u32 = 66;
/// Record kind of a protocol violation; see [`Receiver::take_error`].
pub const KIND_ERROR: u32 = 67;
/// Handshake record and op flag: the DHT bit (BEP 5).
pub const HANDSHAKE_DHT: u32 = 1;
/// Handshake record flag: the extension protocol bit (BEP 10).
pub const HANDSHAKE_EXTENDED: u32 = 2;
/// Handshake record and op flag: the fast extension bit (BEP 6).
pub const HANDSHAKE_FAST: u32 = 4;
/// The bits of a record's or op's kind that name it; the rest are flags.
pub const KIND_MASK: u32 = 0xff;
/// Set on a record's kind when its offsets point into the bytes
/// [`Receiver::receive`] returned rather than into the chunk.
pub const FLAG_BUFFERED: u32 = 0x100;
/// Set on a piece record whose block runs past the chunk.
pub const FLAG_SPLIT: u32 = 0x200;
/// Set on an op's kind when its payload is copied in from the inline
/// payloads.
pub const OP_INLINE: u32 = 0x1000;
/// Most bytes one op without inline payload encodes to (a request).
pub const MAX_OP_LEN: usize = MAX_HEADER_LEN;
/// Length of a reject message's body (id byte included), which its record
/// does not carry: the rest of the record is the request it rejects.
pub const REJECT_BODY_LEN: u32 = MessageId::Reject.fixed_len() as u32;
/// Longest payload a message can carry: its 32-bit length prefix counts the
/// largest header's id byte and fixed fields too (a piece's 9).
pub const MAX_PAYLOAD_LEN: u32 = u32::MAX - 13;

/// What went wrong with the caller's buffers (a bug of the caller's, not the
/// peer's: the peer's errors are [`DecodeError`]s, as [`KIND_ERROR`]
/// records).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// The record buffer cannot hold the header.
    #[error("record buffer too small")]
    RecordsTooSmall,
    /// Record offsets are 32-bit.
    #[error("chunk of 4 GiB or more")]
    ChunkTooLarge,
    /// `count` names more ops than the op array holds.
    #[error("fewer ops than count")]
    FewerOps,
    /// An op's kind is no message kind.
    #[error("not a message kind: {0}")]
    BadKind(u32),
    /// A port op's port does not fit 16 bits.
    #[error("port out of range")]
    PortRange,
    /// An extended op's id does not fit 8 bits.
    #[error("extended id out of range")]
    ExtendedIdRange,
    /// An op's payload is longer than a message can carry.
    #[error("payload too large")]
    PayloadTooLarge,
    /// The inline payloads end before an op's payload does.
    #[error("fewer payload bytes than the inline ops need")]
    FewerPayloadBytes,
    /// The output buffer cannot hold the encoded ops from the given offset.
    #[error("output buffer too small")]
    OutputTooSmall,
}

/// Decodes chunks into records: the decoder behind one wire, in split mode,
/// and the violation it met, until taken.
#[derive(Debug)]
pub struct Receiver {
    decoder: Decoder,
    error: Option<DecodeError>,
}

impl Receiver {
    /// A receiver expecting a handshake first and rejecting message bodies
    /// over `max_frame_len` bytes.
    pub fn new(max_frame_len: u32) -> Self {
        let mut decoder = Decoder::new(max_frame_len);
        decoder.set_split_pieces(true);
        Receiver {
            decoder,
            error: None,
        }
    }

    /// Whether our handshake set the fast bit (see the module): off until
    /// told, so ids 13 to 17 are unknown messages.
    pub fn set_fast(&mut self, fast: bool) {
        self.decoder.set_fast(fast);
    }

    /// Decodes `chunk[from..]` into records in `out` (as many as fit; see
    /// the module's table), writes the header `[count, position reached]`,
    /// and returns the gathered bytes a [`FLAG_BUFFERED`] record points
    /// into. After a [`KIND_ERROR`] record nothing more is decoded.
    pub fn receive(
        &mut self,
        chunk: &[u8],
        from: u32,
        out: &mut [u8],
    ) -> Result<Option<Vec<u8>>, BatchError> {
        // Checked once per chunk, so that nothing below can panic: the
        // header fits, and every offset (at most the chunk's length) fits
        // its 32-bit word.
        if out.len() < RECORD_HEADER * 4 {
            return Err(BatchError::RecordsTooSmall);
        }
        if u32::try_from(chunk.len()).is_err() {
            return Err(BatchError::ChunkTooLarge);
        }
        let capacity = (out.len() / 4 - RECORD_HEADER) / RECORD_STRIDE;
        let mut pos = (from as usize).min(chunk.len());
        let mut count = 0;
        let mut gathered = None;
        while count < capacity {
            let at = RECORD_HEADER + count * RECORD_STRIDE;
            count += 1;
            match self.decoder.decode(chunk, &mut pos) {
                Ok(Some(frame)) => {
                    put(out, at, &record(&frame.kind, frame.origin, pos));
                    match frame.kind {
                        // The rest of the chunk is the block's: the caller takes it.
                        FrameKind::PieceStart { .. } => break,
                        // The caller answers it before what follows is decoded.
                        FrameKind::Handshake(_) => {
                            if let Some(bytes) = self.decoder.take_buffered() {
                                gathered = Some(bytes);
                            }
                            break;
                        }
                        FrameKind::Message(_) => {}
                    }
                }
                Ok(None) => {
                    count -= 1;
                    break;
                }
                Err(err) => {
                    put(out, at, &[KIND_ERROR, 0, 0, 0, 0]);
                    self.error = Some(err);
                    break;
                }
            }
            if let Some(bytes) = self.decoder.take_buffered() {
                gathered = Some(bytes);
            }
        }
        put(out, 0, &[count as u32, pos as u32]);
        Ok(gathered)
    }

    /// The violation behind the last [`KIND_ERROR`] record, once.
    pub fn take_error(&mut self) -> Option<DecodeError> {
        self.error.take()
    }
}

/// Writes `words` at word index `at` of a `Uint32Array`'s bytes (native
/// byte order, as the array reads them).
fn put(out: &mut [u8], at: usize, words: &[u32]) {
    for (i, word) in words.iter().enumerate() {
        out[(at + i) * 4..][..4].copy_from_slice(&word.to_ne_bytes());
    }
}

/// The record of a frame; `pos` is where decoding stopped, which for a split
/// piece is where its block starts. Offsets fit 32 bits: `receive` checked
/// the chunk's length.
fn record(kind: &FrameKind<&[u8]>, origin: Origin, pos: usize) -> [u32; RECORD_STRIDE] {
    let (base, flag) = match origin {
        Origin::Input(at) => (at as u32, 0),
        Origin::Buffered => (0, FLAG_BUFFERED),
    };
    let id = |id: MessageId| id as u32;
    let fields = match *kind {
        FrameKind::PieceStart {
            piece,
            offset,
            block_len,
        } => {
            return [
                id(MessageId::Piece) | FLAG_SPLIT,
                piece,
                offset,
                block_len,
                pos as u32,
            ]
        }
        FrameKind::Handshake(hs) => [
            KIND_HANDSHAKE,
            handshake_flags(hs.extensions()),
            0,
            base + INFO_HASH_OFFSET as u32,
            base + PEER_ID_OFFSET as u32,
        ],
        FrameKind::Message(Message::KeepAlive) => return [KIND_KEEP_ALIVE, 0, 0, 0, 0],
        FrameKind::Message(m) => {
            let at = base + m.payload_offset() as u32;
            let len = m.payload().len() as u32;
            match m {
                Message::KeepAlive => unreachable!("returned above"),
                Message::Choke => [id(MessageId::Choke), 0, 0, 0, 0],
                Message::Unchoke => [id(MessageId::Unchoke), 0, 0, 0, 0],
                Message::Interested => [id(MessageId::Interested), 0, 0, 0, 0],
                Message::NotInterested => [id(MessageId::NotInterested), 0, 0, 0, 0],
                Message::Have(index) => [id(MessageId::Have), index, 0, 0, 0],
                Message::Bitfield(_) => [id(MessageId::Bitfield), 0, 0, at, len],
                Message::Request(r) => [id(MessageId::Request), r.piece, r.offset, r.length, 0],
                Message::Piece { piece, offset, .. } => {
                    [id(MessageId::Piece), piece, offset, at, len]
                }
                Message::Cancel(r) => [id(MessageId::Cancel), r.piece, r.offset, r.length, 0],
                Message::Port(port) => [id(MessageId::Port), port as u32, 0, 0, 0],
                // The fast messages: their fields, and where their body lies.
                Message::Suggest(index) => {
                    let len = MessageId::Suggest.fixed_len() as u32;
                    [id(MessageId::Suggest), index, 0, base, len]
                }
                Message::HaveAll => [id(MessageId::HaveAll), 0, 0, base, 1],
                Message::HaveNone => [id(MessageId::HaveNone), 0, 0, base, 1],
                Message::Reject(r) => [id(MessageId::Reject), r.piece, r.offset, r.length, base],
                Message::AllowedFast(index) => {
                    let len = MessageId::AllowedFast.fixed_len() as u32;
                    [id(MessageId::AllowedFast), index, 0, base, len]
                }
                Message::Extended { id: ext, .. } => {
                    [id(MessageId::Extended), ext as u32, 0, at, len]
                }
                // The whole body, id byte included, as the reference emits it.
                Message::Unknown { .. } => [KIND_UNKNOWN, 0, 0, base, len + 1],
            }
        }
    };
    let [kind, a, b, c, d] = fields;
    [kind | flag, a, b, c, d]
}

/// A handshake record's flags.
fn handshake_flags(ext: Extensions) -> u32 {
    let flag = |on: bool, bit: u32| if on { bit } else { 0 };
    flag(ext.dht, HANDSHAKE_DHT)
        | flag(ext.extended, HANDSHAKE_EXTENDED)
        | flag(ext.fast, HANDSHAKE_FAST)
}

/// The message an op stands for, with the length of the payload that
/// follows its header (0 for fixed-size ones).
fn op_message(kind: u32, a: u32, b: u32, c: u32) -> Result<(Message<()>, usize), BatchError> {
    if kind == KIND_KEEP_ALIVE {
        return Ok((Message::KeepAlive, 0));
    }
    let id = u8::try_from(kind)
        .ok()
        .and_then(MessageId::from_u8)
        .ok_or(BatchError::BadKind(kind))?;
    let fixed = |m| Ok((m, 0));
    let payload = |m| {
        if c > MAX_PAYLOAD_LEN {
            return Err(BatchError::PayloadTooLarge);
        }
        Ok((m, c as usize))
    };
    match id {
        MessageId::Choke => fixed(Message::Choke),
        MessageId::Unchoke => fixed(Message::Unchoke),
        MessageId::Interested => fixed(Message::Interested),
        MessageId::NotInterested => fixed(Message::NotInterested),
        MessageId::Have => fixed(Message::Have(a)),
        MessageId::Request => fixed(Message::Request(Request::new(a, b, c))),
        MessageId::Cancel => fixed(Message::Cancel(Request::new(a, b, c))),
        MessageId::Port => fixed(Message::Port(
            u16::try_from(a).map_err(|_| BatchError::PortRange)?,
        )),
        MessageId::Suggest => fixed(Message::Suggest(a)),
        MessageId::HaveAll => fixed(Message::HaveAll),
        MessageId::HaveNone => fixed(Message::HaveNone),
        MessageId::Reject => fixed(Message::Reject(Request::new(a, b, c))),
        MessageId::AllowedFast => fixed(Message::AllowedFast(a)),
        MessageId::Bitfield => payload(Message::Bitfield(())),
        MessageId::Piece => payload(Message::Piece {
            piece: a,
            offset: b,
            block: (),
        }),
        MessageId::Extended => payload(Message::Extended {
            id: u8::try_from(a).map_err(|_| BatchError::ExtendedIdRange)?,
            payload: (),
        }),
    }
}

/// What one op stands for.
enum Encoded<'a> {
    /// A message header; the caller sends the payload of this length after it.
    Header(Message<()>, usize),
    /// A whole message, its payload copied in.
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
    fn take(&mut self, len: usize) -> Result<&'a [u8], BatchError> {
        if self.0.len() < len {
            return Err(BatchError::FewerPayloadBytes);
        }
        let (payload, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(payload)
    }

    fn id(&mut self) -> Result<[u8; ID_LEN], BatchError> {
        let bytes = self.take(ID_LEN)?;
        Ok(bytes.try_into().expect("taken ID_LEN bytes"))
    }
}

/// Resolves an op, taking its payload (if it has one inline) from `payloads`.
fn resolve<'a>(op: &[u32], payloads: &mut Payloads<'a>) -> Result<Encoded<'a>, BatchError> {
    let &[kind, a, b, c] = op else {
        unreachable!("ops are taken OP_WORDS at a time")
    };
    if kind == KIND_HANDSHAKE {
        let info_hash = payloads.id()?;
        let peer_id = payloads.id()?;
        let hs = Handshake::new(info_hash, peer_id, a & HANDSHAKE_DHT != 0)
            .with_fast(a & HANDSHAKE_FAST != 0);
        return Ok(Encoded::Handshake(hs));
    }
    let (message, payload_len) = op_message(kind & !OP_INLINE, a, b, c)?;
    if kind & OP_INLINE == 0 {
        return Ok(Encoded::Header(message, payload_len));
    }
    Ok(Encoded::Inline(message, payloads.take(payload_len)?))
}

/// Encodes the first `count` ops of `ops` into `out` from byte `at` on, in
/// order, and returns the end offset. `out` needs at most [`MAX_OP_LEN`]
/// bytes an op, plus the inline payloads. Every op is checked before
/// anything is written: on an error `out` is untouched.
pub fn encode_ops(
    out: &mut [u8],
    at: u32,
    ops: &[u32],
    count: u32,
    payloads: &[u8],
) -> Result<u32, BatchError> {
    let words = (count as usize)
        .checked_mul(OP_WORDS)
        .filter(|&n| n <= ops.len())
        .ok_or(BatchError::FewerOps)?;
    let ops = &ops[..words];
    let mut len = 0;
    let mut taken = Payloads(payloads);
    for op in ops.chunks_exact(OP_WORDS) {
        len += resolve(op, &mut taken)?.len();
    }
    let at = at as usize;
    if at > out.len() || out.len() - at < len {
        return Err(BatchError::OutputTooSmall);
    }
    let end = u32::try_from(at + len).map_err(|_| BatchError::OutputTooSmall)?;
    let mut dst = &mut out[at..at + len];
    let mut taken = Payloads(payloads);
    for op in ops.chunks_exact(OP_WORDS) {
        resolve(op, &mut taken)
            .expect("resolved above")
            .encode(&mut dst);
    }
    Ok(end)
}

#[cfg(test)]
mod tests;
