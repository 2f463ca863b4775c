//! The format that crosses between the core and the JavaScript wire: plain
//! Rust over byte slices, so that it is unit-tested without N-API. The
//! binding (`binding.rs`) only hands JavaScript's buffers to it.
//!
//! **Bytes in: records.** [`Receiver::receive`] decodes every frame of a
//! chunk it has room for and writes one fixed-size record per frame into a
//! caller-owned `Uint32Array` (its bytes), so no JavaScript object is made
//! per message. The array starts with a header `[count, position, state]`
//! (`state`: see below), then `count` records of [`RECORD_STRIDE`] words
//! `[kind, a, b, c, d]`:
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
//! **A receiver between frames is one word.** Most of the time a wire's
//! receiver is between frames, with nothing held back: its whole state is
//! then a few flags, [`Receiver::packed`]. The caller keeps that word, not
//! a receiver, and decodes with [`Receiver::receive_packed`], which makes
//! the receiver from it for the call; only when a chunk ends inside a
//! frame (the bytes held back), or on a violation, does it hand back the
//! receiver itself, for the caller to keep while it holds something. Every
//! call writes the word the receiver ends with into the header's `state`,
//! or [`RECEIVER_HELD`] when it holds bytes, an error or a cipher: a caller
//! that keeps a receiver may go back to its word then. A connection keeps
//! native memory only while a frame is cut across its chunks.
//! [`RECEIVER_FRESH`] is the word of a new receiver.
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
//!
//! **Encryption (MSE/PE).** An [`MseSession`] runs a wire's MSE handshake
//! before any of the above (its [`Fed`] bytes: what to send, and the
//! plaintext to hand to the receiver). Once it is established with RC4, its
//! two streams go to the two directions: the decrypt stream to the
//! [`Receiver`] ([`Receiver::set_decrypt`]; [`Receiver::receive_new`], the
//! first call on each chunk, then decrypts it in place before decoding it,
//! in the same call), the encrypt stream to an [`Encryptor`], whose
//! [`Encryptor::encode_ops`] encrypts what it encodes in place, in the same
//! call.

use crate::protocol::{MessageId, MAX_HEADER_LEN};

mod mse;
mod ops;
mod records;

pub use mse::{Encryptor, Fed, MseSession};
pub use ops::{encode_ops, encode_ops_cut};
pub use records::Receiver;

/// Words before the first record: `[count, position, state]`.
pub const RECORD_HEADER: usize = 3;
/// The packed state of a new receiver (see [`Receiver::packed`]).
pub const RECEIVER_FRESH: u32 = 0;
/// The header's `state` after a call that leaves the receiver holding
/// something (bytes, an error, a cipher): it has no word.
pub const RECEIVER_HELD: u32 = u32::MAX;
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
/// peer's: the peer's errors are [`crate::protocol::DecodeError`]s, as [`KIND_ERROR`]
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
    /// Fewer `ends` words than header ops whose payload the caller sends
    /// (see [`encode_ops_cut`]).
    #[error("fewer ends than headers whose payload follows")]
    FewerEnds,
    /// The output buffer cannot hold the encoded ops from the given offset.
    #[error("output buffer too small")]
    OutputTooSmall,
    /// An info hash (or a list of them) that is not 20 bytes each.
    #[error("an info hash is 20 bytes")]
    InfoHashLength,
    /// A cipher asked of an MSE session that has none (not established,
    /// plaintext, or taken already).
    #[error("no RC4 stream: the MSE handshake is not established with RC4, or it was taken")]
    NoCipher,
    /// A word that is no receiver's packed state.
    #[error("not a receiver state: {0}")]
    BadState(u32),
}

#[cfg(test)]
mod tests;
