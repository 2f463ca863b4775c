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

    /// [`encode_ops`], then encrypts the bytes it wrote, in place, in the
    /// same call: the encoded ops are the wire's own bytes.
    pub fn encode_ops(
        &mut self,
        out: &mut [u8],
        at: u32,
        ops: &[u32],
        count: u32,
        payloads: &[u8],
    ) -> Result<u32, BatchError> {
        let end = encode_ops(out, at, ops, count, payloads)?;
        self.0.apply(&mut out[at as usize..end as usize]);
        Ok(end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{Receiver, RECORD_HEADER, RECORD_STRIDE};
    use crate::protocol::MessageId;

    const IH: [u8; ID_LEN] = [7; ID_LEN];

    /// Runs two sessions against each other until both are done; returns
    /// their encryption and what each received past the handshake.
    fn pair(mut a: MseSession, mut b: MseSession) -> (Fed, Fed) {
        let (mut fa, mut fb) = (Fed::default(), Fed::default());
        let mut to_b = a.feed(&[]).unwrap().send;
        for _ in 0..8 {
            let got = b.feed(&to_b).unwrap();
            fb.received.extend(got.received);
            fb.encryption = fb.encryption.or(got.encryption);
            let got_a = a.feed(&got.send).unwrap();
            fa.received.extend(got_a.received);
            fa.encryption = fa.encryption.or(got_a.encryption);
            to_b = got_a.send;
            if fa.encryption.is_some() && fb.encryption.is_some() {
                break;
            }
        }
        (fa, fb)
    }

    #[test]
    fn established_ciphers_carry_a_session_both_ways() {
        let mut a = MseSession::initiator(&IH, true).unwrap();
        let mut b = MseSession::responder(&[[1; ID_LEN], IH].concat(), false).unwrap();
        let (mut fa, mut fb) = (Fed::default(), Fed::default());
        let hello = a.feed(&[]).unwrap().send;
        let answer = b.feed(&hello).unwrap();
        let last = a.feed(&answer.send).unwrap();
        let done = b.feed(&last.send).unwrap();
        fb.encryption = answer.encryption.or(done.encryption);
        fa.encryption = last.encryption;
        let reply = a.feed(&done.send).unwrap();
        fa.encryption = fa.encryption.or(reply.encryption);
        assert_eq!((fa.encryption, fb.encryption), (Some("rc4"), Some("rc4")));

        // A's encoder output, encrypted in the same call, decoded by B's receiver.
        let mut enc = a.take_encrypt().unwrap();
        assert!(a.take_encrypt().is_none(), "taken once");
        let mut receiver = Receiver::new(1 << 20);
        receiver.set_decrypt(b.take_decrypt().unwrap());
        let mut payloads = IH.to_vec();
        payloads.extend_from_slice(&[9; ID_LEN]);
        let ops = [
            crate::batch::KIND_HANDSHAKE,
            0,
            0,
            0,
            MessageId::Have as u32,
            5,
            0,
            0,
        ];
        let mut out = vec![0u8; 200];
        let end = enc.encode_ops(&mut out, 3, &ops, 2, &payloads).unwrap() as usize;
        let mut wire = out[3..end].to_vec();
        assert_ne!(&wire[1..20], b"BitTorrent protocol");
        receiver.decrypt(&mut wire);
        assert_eq!(&wire[1..20], b"BitTorrent protocol");
        let mut records = vec![0u8; (RECORD_HEADER + 4 * RECORD_STRIDE) * 4];
        receiver.receive(&wire, 0, &mut records).unwrap();
        let word = |r: &[u8], i: usize| u32::from_ne_bytes(r[i * 4..][..4].try_into().unwrap());
        assert_eq!(word(&records, 0), 1, "the handshake ends a call");
        let from = word(&records, 1);
        receiver.receive(&wire, from, &mut records).unwrap();
        let have = (
            word(&records, 0),
            word(&records, RECORD_HEADER),
            word(&records, RECORD_HEADER + 1),
        );
        assert_eq!(have, (1, MessageId::Have as u32, 5));
    }

    #[test]
    fn plaintext_has_no_cipher() {
        let mut a = MseSession::initiator(&IH, false).unwrap();
        // A plain BitTorrent handshake reaches a `prefer` responder.
        let mut b = MseSession::responder(&IH, false).unwrap();
        let _ = a.feed(&[]).unwrap();
        let mut plain = vec![19u8];
        plain.extend_from_slice(b"BitTorrent protocol");
        plain.extend_from_slice(&[0; 48]);
        let got = b.feed(&plain).unwrap();
        assert_eq!(got.encryption, Some("plaintext"));
        assert_eq!(got.received, plain);
        assert!(b.take_decrypt().is_none() && b.take_encrypt().is_none());
    }

    #[test]
    fn refusals_and_bad_arguments() {
        let mut b = MseSession::responder(&IH, true).unwrap();
        let mut plain = vec![19u8];
        plain.extend_from_slice(b"BitTorrent protocol");
        let err = b.feed(&plain).unwrap_err();
        assert_eq!(err.code(), "ERR_PEER_WIRE_MSE_PLAINTEXT_REFUSED");
        assert_eq!(
            MseSession::initiator(&IH[1..], true).unwrap_err(),
            BatchError::InfoHashLength
        );
        assert_eq!(
            MseSession::responder(&IH[1..], true).unwrap_err(),
            BatchError::InfoHashLength
        );
        let (fa, fb) = pair(
            MseSession::initiator(&IH, false).unwrap(),
            MseSession::responder(&IH, false).unwrap(),
        );
        assert_eq!((fa.encryption, fb.encryption), (Some("rc4"), Some("rc4")));
        assert!(fa.received.is_empty() && fb.received.is_empty());
    }
}
