//! What the MSE handshake's users see: the policy, the constants of the
//! specification, and what a [`feed`] returns.
//!
//! [`feed`]: super::MseHandshake::feed

use super::rc4::Rc4;
use crate::protocol::ID_LEN;

/// `crypto_provide`/`crypto_select` bit: plaintext after the handshake.
pub const CRYPTO_PLAINTEXT: u32 = 0x01;
/// `crypto_provide`/`crypto_select` bit: RC4 after the handshake.
pub const CRYPTO_RC4: u32 = 0x02;
/// The longest pad (PadA to PadD) a peer may send.
pub const MAX_PAD_LEN: usize = 512;
/// Keystream bytes discarded from each RC4 stream before use.
pub const RC4_DISCARD: usize = 1024;
/// The verification constant, eight zero bytes.
pub(super) const VC: [u8; 8] = [0; 8];
/// The responder looks for HASH('req1', S) in this many bytes after Ya.
pub const REQ1_WINDOW: usize = MAX_PAD_LEN + 20;
/// The initiator looks for the encrypted VC in this many bytes after Yb.
pub const VC_WINDOW: usize = MAX_PAD_LEN + VC.len();
/// The most bytes a handshake ever holds between calls.
pub const MAX_BUFFERED: usize = REQ1_WINDOW;

/// What a side accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// No MSE: the handshake completes at once, in plaintext, and passes
    /// every byte through (the BitTorrent decoder judges them).
    Off,
    /// Initiator: offer RC4 and plaintext (the responder picks). Responder:
    /// select RC4 when offered, else plaintext; also accept a plain
    /// BitTorrent handshake.
    Prefer,
    /// RC4 only, both ways.
    Require,
}

/// The two RC4 streams of an encrypted connection, each past the bytes the
/// handshake used.
#[derive(Debug, Clone)]
pub struct Cipher {
    /// Decrypts what the peer sends.
    pub decrypt: Rc4,
    /// Encrypts what we send.
    pub encrypt: Rc4,
}

/// A completed handshake.
#[derive(Debug, Clone)]
pub struct Established {
    /// The torrent the MSE handshake named (SKEY), or `None` when there was
    /// none: a plain BitTorrent handshake reached a `Prefer` responder, or
    /// the policy is `Off` on a responder.
    pub info_hash: Option<[u8; ID_LEN]>,
    /// `Some` when RC4 was selected: every later byte goes through it.
    /// `None`: plaintext from here on.
    pub cipher: Option<Cipher>,
}

/// What one [`MseHandshake::feed`] produced.
///
/// [`MseHandshake::feed`]: super::MseHandshake::feed
#[derive(Debug, Default)]
pub struct Progress {
    /// Bytes to send to the peer, in order, before anything else.
    pub send: Vec<u8>,
    /// Bytes of the peer wire stream received, decrypted where RC4 applies:
    /// the initiator's IA, then whatever follows the handshake. Hand them
    /// to the BitTorrent decoder.
    pub received: Vec<u8>,
    /// `Some` once, when the handshake completes.
    pub established: Option<Established>,
}
