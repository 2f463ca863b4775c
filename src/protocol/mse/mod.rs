//! Message Stream Encryption (MSE/PE), sans IO: the handshake that
//! libtorrent, Transmission and bittorrent-protocol open encrypted
//! connections with, and the RC4 streams that follow it.
//!
//! # Design
//! - [`MseHandshake`] is a state machine like quinn-proto's connections: no
//!   sockets, no clock. The caller feeds it the peer's bytes as they arrive
//!   ([`MseHandshake::feed`], cut anywhere) and sends what each call returns
//!   ([`Progress::send`]); an initiator calls `feed(&[])` once to get its
//!   opening bytes. A peer that stops talking is the caller's timer's
//!   business.
//! - It reads one field at a time into a buffer of at most
//!   [`MAX_BUFFERED`] bytes (532: PadA's 512 bytes plus HASH('req1', S),
//!   the longest search). Both synchronisation searches stop at the
//!   specification's bounds, pads over 512 bytes are refused when their
//!   length is read, and the initiator's IA (up to 65535 bytes) is not
//!   buffered: it is decrypted into [`Progress::received`] as it comes.
//! - The randomness (a 160-bit private exponent, PadA/PadB's bytes, the
//!   pad lengths) is drawn once, when the handshake is made, from the
//!   caller's generator: [`os_rng`] in production, a fixed one in tests.
//!   PadC and PadD are zeros, which RC4 makes random on the wire.
//! - Diffie-Hellman is fixed-size, constant time in the exponent
//!   (`crypto-bigint`), with Montgomery parameters computed once per
//!   process; the key derivation is SHA-1 (`HASH('keyA', S, SKEY)`, …).
//!   The initiator encrypts with keyA and decrypts with keyB, the responder
//!   the reverse, each stream past its first 1024 bytes.
//! - An initiator sends no IA: the BitTorrent handshake follows the MSE
//!   handshake in the negotiated stream. A responder accepts IA.
//! - [`Established`] hands over the two [`Rc4`] streams (`None` for
//!   plaintext) and the torrent SKEY named; the caller runs every later
//!   byte through them, in place ([`Rc4::apply`]).
//! - Every peer mistake is an [`MseError`] with a stable code, and leaves
//!   the handshake spent; nothing a peer sends panics or blocks.
//!
//! [`Policy`] follows issue 13: `Prefer` offers RC4 and plaintext and takes
//! plain BitTorrent handshakes as a responder; `Require` accepts RC4 only;
//! `Off` passes bytes through untouched.

pub(crate) mod dh;
mod error;
mod field;
mod handshake;
mod keys;
mod rc4;
mod types;

pub use dh::{KEY_LEN, PRIVATE_KEY_LEN};
pub use error::MseError;
pub use handshake::MseHandshake;
pub use keys::os_rng;
pub use rc4::Rc4;
pub use types::{
    Cipher, Established, Policy, Progress, CRYPTO_PLAINTEXT, CRYPTO_RC4, MAX_BUFFERED, MAX_PAD_LEN,
    RC4_DISCARD, REQ1_WINDOW, VC_WINDOW,
};

#[cfg(test)]
mod tests;
