//! The handshake's randomness, drawn once, and the hashes and RC4 streams
//! derived from the shared secret.

use super::dh::{KEY_LEN, PRIVATE_KEY_LEN};
use super::rc4::Rc4;
use super::types::{MAX_PAD_LEN, RC4_DISCARD};
use crate::protocol::ID_LEN;

/// The operating system's CSPRNG, for [`MseHandshake::initiator`] and
/// [`MseHandshake::responder`].
///
/// # Panics
/// If the operating system cannot provide random bytes (no fallback to
/// anything weaker).
///
/// [`MseHandshake::initiator`]: super::MseHandshake::initiator
/// [`MseHandshake::responder`]: super::MseHandshake::responder
pub fn os_rng(buf: &mut [u8]) {
    getrandom::fill(buf).expect("the operating system's random number generator failed");
}

/// The random choices of one handshake, drawn when it is made.
pub(super) struct Secrets {
    pub(super) private: [u8; PRIVATE_KEY_LEN],
    /// PadA or PadB (sent in the clear: random bytes).
    pub(super) clear_pad: Vec<u8>,
    /// Length of PadC or PadD (encrypted: zeros, random once encrypted).
    pub(super) secret_pad_len: usize,
}

impl Secrets {
    pub(super) fn draw(rng: &mut dyn FnMut(&mut [u8])) -> Self {
        let mut private = [0u8; PRIVATE_KEY_LEN];
        rng(&mut private);
        let mut lens = [0u8; 4];
        rng(&mut lens);
        let pad_len = |b: [u8; 2]| usize::from(u16::from_be_bytes(b)) % (MAX_PAD_LEN + 1);
        let mut clear_pad = vec![0u8; pad_len([lens[0], lens[1]])];
        rng(&mut clear_pad);
        Secrets {
            private,
            clear_pad,
            secret_pad_len: pad_len([lens[2], lens[3]]),
        }
    }
}

/// SHA-1 of the concatenation of `parts`.
pub(super) fn hash(parts: &[&[u8]]) -> [u8; 20] {
    let mut h = sha1_smol::Sha1::new();
    for p in parts {
        h.update(p);
    }
    h.digest().bytes()
}

/// `a` xor the first 20 bytes of `b`.
pub(super) fn xor20(a: &[u8; 20], b: &[u8]) -> [u8; 20] {
    let mut out = *a;
    for (o, x) in out.iter_mut().zip(b) {
        *o ^= x;
    }
    out
}

/// An RC4 stream keyed with `HASH(name, S, SKEY)`, past the discard.
pub(super) fn stream(name: &[u8], secret: &[u8; KEY_LEN], skey: &[u8; ID_LEN]) -> Rc4 {
    let mut rc4 = Rc4::new(&hash(&[name, secret, skey]));
    rc4.skip(RC4_DISCARD);
    rc4
}
