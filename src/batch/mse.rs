//! MSE across the crossing: a handshake session whose RC4 streams, once
//! established, are handed to the two directions of a wire (the decrypt
//! stream to the [`Receiver`](super::Receiver), the encrypt stream to an
//! [`Encryptor`] the sender holds), each of which then runs every byte
//! through it in place.

use crate::protocol::mse::{os_rng, MseError, MseHandshake, Policy, Rc4};
use crate::protocol::ID_LEN;

use super::{encode_ops, BatchError};

/// One wire's MSE handshake, and, once it is established with RC4, its two
/// streams until they are taken.
#[derive(Debug)]
pub struct MseSession {
    handshake: MseHandshake,
    decrypt: Option<Rc4>,
    encrypt: Option<Rc4>,
}

/// What one [`MseSession::feed`] produced, for JavaScript.
#[derive(Debug, Default)]
pub struct Fed {
    /// Bytes to send to the peer before anything else.
    pub send: Vec<u8>,
    /// Peer wire bytes received, in plaintext: hand them to the receiver.
    pub received: Vec<u8>,
    /// `Some("rc4")` or `Some("plaintext")` once the handshake is done.
    pub encryption: Option<&'static str>,
}

fn policy(require: bool) -> Policy {
    if require {
        Policy::Require
    } else {
        Policy::Prefer
    }
}

impl MseSession {
    /// The side that dials, for the torrent `info_hash` (20 bytes); `require`:
    /// RC4 only, else RC4 or plaintext (the peer picks).
    pub fn initiator(info_hash: &[u8], require: bool) -> Result<Self, BatchError> {
        let ih: [u8; ID_LEN] = info_hash
            .try_into()
            .map_err(|_| BatchError::InfoHashLength)?;
        Ok(Self::from(MseHandshake::initiator(
            ih,
            policy(require),
            os_rng,
        )))
    }

    /// The side that accepts, serving the torrents whose info hashes
    /// `info_hashes` holds one after another; `require`: RC4 only, else
    /// also plaintext, and plain BitTorrent handshakes.
    pub fn responder(info_hashes: &[u8], require: bool) -> Result<Self, BatchError> {
        if !info_hashes.len().is_multiple_of(ID_LEN) {
            return Err(BatchError::InfoHashLength);
        }
        let known: Vec<[u8; ID_LEN]> = info_hashes
            .chunks_exact(ID_LEN)
            .map(|ih| ih.try_into().expect("chunks of ID_LEN"))
            .collect();
        Ok(Self::from(MseHandshake::responder(
            &known,
            policy(require),
            os_rng,
        )))
    }

    /// Feeds the peer's next bytes (an initiator starts with none); see
    /// [`MseHandshake::feed`].
    pub fn feed(&mut self, input: &[u8]) -> Result<Fed, MseError> {
        let progress = self.handshake.feed(input)?;
        let encryption = progress.established.as_ref().map(|e| {
            if e.cipher.is_some() {
                "rc4"
            } else {
                "plaintext"
            }
        });
        if let Some(cipher) = progress.established.and_then(|e| e.cipher) {
            self.decrypt = Some(cipher.decrypt);
            self.encrypt = Some(cipher.encrypt);
        }
        Ok(Fed {
            send: progress.send,
            received: progress.received,
            encryption,
        })
    }

    /// The stream that decrypts the peer's bytes, once: `None` before the
    /// handshake is established, in plaintext, or when taken already.
    pub fn take_decrypt(&mut self) -> Option<Rc4> {
        self.decrypt.take()
    }

    /// The stream that encrypts our bytes, once (as [`take_decrypt`](Self::take_decrypt)).
    pub fn take_encrypt(&mut self) -> Option<Encryptor> {
        self.encrypt.take().map(Encryptor)
    }
}

impl From<MseHandshake> for MseSession {
    fn from(handshake: MseHandshake) -> Self {
        MseSession {
            handshake,
            decrypt: None,
            encrypt: None,
        }
    }
}

/// The encrypt stream of an established connection, held by the sender:
/// every byte the wire sends goes through it, in order.
#[derive(Debug, Clone)]
pub struct Encryptor(pub Rc4);

impl Encryptor {
    /// Encrypts `data` in place.
    pub fn apply(&mut self, data: &mut [u8]) {
        self.0.apply(data);
    }

    /// [`encode_ops`], then `tail` (a block the caller owns, left as it
    /// is) copied right after what it wrote; then encrypts all of it, in
    /// place, in the same call: the encoded ops are the wire's own bytes,
    /// and the copy of the block is what the wire sends with its header, as
    /// one chunk. Returns the end offset. Nothing is encrypted (and the
    /// stream does not move) when it does not fit.
    pub fn encode_ops(
        &mut self,
        out: &mut [u8],
        at: u32,
        ops: &[u32],
        count: u32,
        payloads: &[u8],
        tail: &[u8],
    ) -> Result<u32, BatchError> {
        let end = encode_ops(out, at, ops, count, payloads)? as usize;
        let tail_end = end + tail.len();
        if tail_end > out.len() || u32::try_from(tail_end).is_err() {
            return Err(BatchError::OutputTooSmall);
        }
        out[end..tail_end].copy_from_slice(tail);
        self.0.apply(&mut out[at as usize..tail_end]);
        Ok(tail_end as u32)
    }
}

#[cfg(test)]
mod tests;
