//! Bytes in: chunks decoded into records (see the table in `batch`).

use super::{
    BatchError, FLAG_BUFFERED, FLAG_SPLIT, HANDSHAKE_DHT, HANDSHAKE_EXTENDED, HANDSHAKE_FAST,
    KIND_ERROR, KIND_HANDSHAKE, KIND_KEEP_ALIVE, KIND_UNKNOWN, RECEIVER_HELD, RECORD_HEADER,
    RECORD_STRIDE,
};
use crate::protocol::mse::Rc4;
use crate::protocol::{
    Boundary, DecodeError, Decoder, Extensions, FrameKind, Message, MessageId, Origin,
    INFO_HASH_OFFSET, PEER_ID_OFFSET,
};

// A packed receiver (see `Receiver::packed`): whether the peer's handshake
// was read, whether ours set fast, and above them the flags of the peer's
// handshake as its record carries them (`handshake_flags`).
const PACKED_HANDSHAKEN: u32 = 1;
const PACKED_FAST: u32 = 2;
const PACKED_PEER_SHIFT: u32 = 2;
const PACKED_ALL: u32 = PACKED_HANDSHAKEN
    | PACKED_FAST
    | (HANDSHAKE_DHT | HANDSHAKE_EXTENDED | HANDSHAKE_FAST) << PACKED_PEER_SHIFT;

/// Decodes chunks into records: the decoder behind one wire, in split mode,
/// and the violation it met, until taken; on an encrypted connection, the
/// RC4 stream that decrypts the peer's bytes.
#[derive(Debug)]
pub struct Receiver {
    decoder: Decoder,
    error: Option<DecodeError>,
    decrypt: Option<Box<Rc4>>, // boxed: 258 bytes a wire otherwise, encrypted or not
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
            decrypt: None,
        }
    }

    /// The receiver's whole state as one word, when it is between frames
    /// with nothing held back, no violation to tell and nothing to decrypt
    /// (see the module): [`unpack`](Self::unpack) makes the same receiver
    /// again. `None` elsewhere.
    pub fn packed(&self) -> Option<u32> {
        if self.error.is_some() || self.decrypt.is_some() {
            return None;
        }
        let b = self.decoder.boundary()?;
        let bit = |on: bool, bit: u32| if on { bit } else { 0 };
        Some(
            bit(b.handshaken, PACKED_HANDSHAKEN)
                | bit(b.fast, PACKED_FAST)
                | handshake_flags(b.peer) << PACKED_PEER_SHIFT,
        )
    }

    /// The receiver `packed` described, rejecting message bodies over
    /// `max_frame_len` bytes (the bound is the caller's to keep).
    pub fn unpack(word: u32, max_frame_len: u32) -> Result<Self, BatchError> {
        if word & !PACKED_ALL != 0 {
            return Err(BatchError::BadState(word));
        }
        let boundary = Boundary {
            handshaken: word & PACKED_HANDSHAKEN != 0,
            peer: handshake_extensions(word >> PACKED_PEER_SHIFT),
            fast: word & PACKED_FAST != 0,
            split_pieces: true,
        };
        Ok(Receiver {
            decoder: Decoder::from_boundary(boundary, max_frame_len),
            error: None,
            decrypt: None,
        })
    }

    /// [`receive`](Self::receive) on the receiver `word` packs (see
    /// [`packed`](Self::packed)). When it ends packable again, `None` (the
    /// header's `state` is its new word); else the receiver itself, to be
    /// kept while it holds something (`state` is [`RECEIVER_HELD`]). A
    /// receiver made from a word holds no bytes, so the call returns none:
    /// every frame it decodes lies in `chunk`.
    pub fn receive_packed(
        word: u32,
        max_frame_len: u32,
        chunk: &[u8],
        from: u32,
        out: &mut [u8],
    ) -> Result<Option<Receiver>, BatchError> {
        let mut receiver = Receiver::unpack(word, max_frame_len)?;
        let gathered = receiver.receive(chunk, from, out)?;
        debug_assert!(gathered.is_none(), "a frame gathered from one chunk");
        // `receive` wrote the state: the receiver's word, or that it holds something.
        let held = out[2 * 4..RECORD_HEADER * 4] == RECEIVER_HELD.to_ne_bytes();
        Ok(held.then_some(receiver))
    }

    /// From now on [`receive_new`](Self::receive_new) decrypts each new
    /// chunk with `rc4` (MSE's decrypt stream, past the handshake).
    pub fn set_decrypt(&mut self, rc4: Rc4) {
        self.decrypt = Some(Box::new(rc4));
    }

    /// Whether our handshake set the fast bit (see the module): off until
    /// told, so ids 13 to 17 are unknown messages.
    pub fn set_fast(&mut self, fast: bool) {
        self.decoder.set_fast(fast);
    }

    /// A chunk of the peer's bytes seen for the first time: on an encrypted
    /// connection it is decrypted in place, all of it (the bytes before
    /// `from` too: a block the caller takes), then decoded as by
    /// [`receive`](Self::receive). Every chunk goes through here exactly
    /// once, in the order received, and then only through `receive`: so each
    /// byte is decrypted once, in order, before anything reads it, and in
    /// the same call as the chunk's first decoding.
    pub fn receive_new(
        &mut self,
        chunk: &mut [u8],
        from: u32,
        out: &mut [u8],
    ) -> Result<Option<Vec<u8>>, BatchError> {
        // The caller's buffers are checked before any byte changes.
        check(chunk, out)?;
        if let Some(rc4) = self.decrypt.as_mut() {
            rc4.apply(chunk);
        }
        self.receive(chunk, from, out)
    }

    /// Decodes `chunk[from..]` into records in `out` (as many as fit; see
    /// the module's table), writes the header `[count, position reached,
    /// state]` (`state`: the receiver's word now, or [`RECEIVER_HELD`]),
    /// and returns the gathered bytes a [`FLAG_BUFFERED`] record points
    /// into. After a [`KIND_ERROR`] record nothing more is decoded.
    pub fn receive(
        &mut self,
        chunk: &[u8],
        from: u32,
        out: &mut [u8],
    ) -> Result<Option<Vec<u8>>, BatchError> {
        check(chunk, out)?;
        let (header, records) = out.split_at_mut(RECORD_HEADER * 4);
        let mut pos = (from as usize).min(chunk.len());
        let mut count = 0;
        let mut gathered = None;
        for slot in records.chunks_exact_mut(RECORD_STRIDE * 4) {
            // The common case first: a message inside the chunk.
            if let Some((message, at)) = self.decoder.decode_whole(chunk, &mut pos) {
                put(slot, message_record(message, at as u32));
                count += 1;
                continue;
            }
            count += 1;
            match self.decoder.decode(chunk, &mut pos) {
                Ok(Some(frame)) => {
                    put(slot, record(&frame.kind, frame.origin, pos));
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
                    put(slot, [KIND_ERROR, 0, 0, 0, 0]);
                    self.error = Some(err);
                    break;
                }
            }
            if let Some(bytes) = self.decoder.take_buffered() {
                gathered = Some(bytes);
            }
        }
        let state = self.packed().unwrap_or(RECEIVER_HELD);
        put(header, [count as u32, pos as u32, state]);
        Ok(gathered)
    }

    /// The violation behind the last [`KIND_ERROR`] record, once.
    pub fn take_error(&mut self) -> Option<DecodeError> {
        self.error.take()
    }
}

/// Checked once per call, so that nothing in `receive` can panic: the
/// header fits, and every offset (at most the chunk's length) fits its
/// 32-bit word.
fn check(chunk: &[u8], out: &[u8]) -> Result<(), BatchError> {
    if out.len() < RECORD_HEADER * 4 {
        return Err(BatchError::RecordsTooSmall);
    }
    if u32::try_from(chunk.len()).is_err() {
        return Err(BatchError::ChunkTooLarge);
    }
    Ok(())
}

/// Writes `words` at the start of `out`, a slot of a `Uint32Array`'s bytes
/// (native byte order, as the array reads them).
fn put<const N: usize>(out: &mut [u8], words: [u32; N]) {
    for (bytes, word) in out.chunks_exact_mut(4).zip(words) {
        bytes.copy_from_slice(&word.to_ne_bytes());
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
        // No bytes to point at, wherever its prefix was gathered.
        FrameKind::Message(Message::KeepAlive) => return [KIND_KEEP_ALIVE, 0, 0, 0, 0],
        FrameKind::Message(m) => message_record(m, base),
    };
    let [kind, a, b, c, d] = fields;
    [kind | flag, a, b, c, d]
}

/// The record of a message whose body starts at `base`.
#[inline]
fn message_record(m: Message<&[u8]>, base: u32) -> [u32; RECORD_STRIDE] {
    let id = |id: MessageId| id as u32;
    // Where a payload starts: after the id byte and the fixed fields.
    let at = |id: MessageId| base + id.fixed_len() as u32;
    let len = |payload: &[u8]| payload.len() as u32;
    match m {
        Message::KeepAlive => [KIND_KEEP_ALIVE, 0, 0, 0, 0],
        Message::Choke => [id(MessageId::Choke), 0, 0, 0, 0],
        Message::Unchoke => [id(MessageId::Unchoke), 0, 0, 0, 0],
        Message::Interested => [id(MessageId::Interested), 0, 0, 0, 0],
        Message::NotInterested => [id(MessageId::NotInterested), 0, 0, 0, 0],
        Message::Have(index) => [id(MessageId::Have), index, 0, 0, 0],
        Message::Bitfield(bits) => [
            id(MessageId::Bitfield),
            0,
            0,
            at(MessageId::Bitfield),
            len(bits),
        ],
        Message::Request(r) => [id(MessageId::Request), r.piece, r.offset, r.length, 0],
        Message::Piece {
            piece,
            offset,
            block,
        } => [
            id(MessageId::Piece),
            piece,
            offset,
            at(MessageId::Piece),
            len(block),
        ],
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
        Message::Extended { id: ext, payload } => [
            id(MessageId::Extended),
            ext as u32,
            0,
            at(MessageId::Extended),
            len(payload),
        ],
        // The whole body, id byte included, as the reference emits it.
        Message::Unknown { payload, .. } => [KIND_UNKNOWN, 0, 0, base, len(payload) + 1],
    }
}

/// A handshake record's flags.
fn handshake_flags(ext: Extensions) -> u32 {
    let flag = |on: bool, bit: u32| if on { bit } else { 0 };
    flag(ext.dht, HANDSHAKE_DHT)
        | flag(ext.extended, HANDSHAKE_EXTENDED)
        | flag(ext.fast, HANDSHAKE_FAST)
}

/// The extensions `handshake_flags` made these flags of.
fn handshake_extensions(flags: u32) -> Extensions {
    Extensions {
        dht: flags & HANDSHAKE_DHT != 0,
        extended: flags & HANDSHAKE_EXTENDED != 0,
        fast: flags & HANDSHAKE_FAST != 0,
    }
}
