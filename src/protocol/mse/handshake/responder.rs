//! The side that accepts: its read states: Ya (or a plain BitTorrent
//! handshake), HASH('req1', S) after PadA, the torrent, crypto_provide and
//! PadC, len(IA) (answered with step 4), then IA.

use super::{MseHandshake, Role, State, Step};
use crate::protocol::mse::dh::KEY_LEN;
use crate::protocol::mse::error::MseError;
use crate::protocol::mse::field::{bt_header, fill, pad_len, sync, take, BT_HEADER_LEN};
use crate::protocol::mse::keys::{hash, stream, xor20};
use crate::protocol::mse::types::{
    Policy, Progress, CRYPTO_PLAINTEXT, CRYPTO_RC4, REQ1_WINDOW, VC,
};
use crate::protocol::ID_LEN;

impl MseHandshake {
    /// The side that accepts: it serves `info_hashes` and learns from the
    /// initiator which one it wants.
    pub fn responder(
        info_hashes: &[[u8; ID_LEN]],
        policy: Policy,
        mut rng: impl FnMut(&mut [u8]),
    ) -> Self {
        let mut hs = Self::new(Role::Responder, policy, &mut rng);
        hs.known = info_hashes
            .iter()
            .map(|ih| (*ih, hash(&[b"req2", ih])))
            .collect();
        hs
    }

    /// Ya: send Yb and PadB, then look for HASH('req1', S). Bytes that open
    /// a plain BitTorrent handshake go to [`accept_plain`](Self::accept_plain).
    pub(super) fn read_ya(
        &mut self,
        input: &mut &[u8],
        out: &mut Progress,
    ) -> Result<Step, MseError> {
        fill(&mut self.buf, input, KEY_LEN);
        let seen = self.buf.len().min(BT_HEADER_LEN);
        if self.buf[..seen] == bt_header()[..seen] {
            return self.accept_plain(seen);
        }
        if self.buf.len() < KEY_LEN {
            return Ok(Step::NeedMore);
        }
        let secret = self.shared()?;
        self.send_public(out);
        let pattern = hash(&[b"req1", &secret]);
        self.secret = Some(secret);
        self.buf.drain(..KEY_LEN);
        self.state = State::SyncReq1 { pattern, from: 0 };
        Ok(Step::Continue)
    }

    /// A plain BitTorrent handshake, `seen` bytes of its header so far:
    /// done, in plaintext, once the header is whole, unless RC4 is
    /// required.
    fn accept_plain(&mut self, seen: usize) -> Result<Step, MseError> {
        if seen < BT_HEADER_LEN {
            return Ok(Step::NeedMore);
        }
        if self.policy == Policy::Require {
            return Err(MseError::PlaintextRefused);
        }
        self.select = CRYPTO_PLAINTEXT;
        self.state = State::Done;
        Ok(Step::Continue)
    }

    /// PadA: search for HASH('req1', S) within [`REQ1_WINDOW`] bytes.
    pub(super) fn sync_req1(
        &mut self,
        input: &mut &[u8],
        pattern: [u8; 20],
        mut from: usize,
    ) -> Result<Step, MseError> {
        let full = fill(&mut self.buf, input, REQ1_WINDOW);
        match sync(&self.buf, &mut from, &pattern) {
            Some(at) => {
                self.buf.drain(..at + pattern.len());
                self.state = State::ReadReq23;
                Ok(Step::Continue)
            }
            None if full => Err(MseError::Sync {
                what: "HASH('req1', S)",
                bound: REQ1_WINDOW,
            }),
            None => {
                self.state = State::SyncReq1 { pattern, from };
                Ok(Step::NeedMore)
            }
        }
    }

    /// HASH('req2', SKEY) xor HASH('req3', S): the torrent, one of ours;
    /// derive the keys.
    pub(super) fn read_req23(&mut self, input: &mut &[u8]) -> Result<Step, MseError> {
        if !fill(&mut self.buf, input, 20) {
            return Ok(Step::NeedMore);
        }
        let secret = self.secret.take().expect("S is known after Ya");
        let req2 = xor20(&hash(&[b"req3", &secret]), &self.buf[..20]);
        self.buf.drain(..20);
        let skey = self
            .known
            .iter()
            .find(|(_, h)| *h == req2)
            .map(|(ih, _)| *ih)
            .ok_or(MseError::UnknownTorrent)?;
        self.info_hash = Some(skey);
        self.decrypt = Some(stream(b"keyA", &secret, &skey));
        self.encrypt = Some(stream(b"keyB", &secret, &skey));
        self.state = State::ReadProvide;
        Ok(Step::Continue)
    }

    /// VC, crypto_provide and len(PadC): choose the method.
    pub(super) fn read_provide(&mut self, input: &mut &[u8]) -> Result<Step, MseError> {
        if !fill(&mut self.buf, input, 14) {
            return Ok(Step::NeedMore);
        }
        let mut field = [0u8; 14];
        field.copy_from_slice(&self.buf[..14]);
        self.dec().apply(&mut field);
        self.buf.drain(..14);
        if field[..8] != VC {
            return Err(MseError::BadVc);
        }
        let provide = u32::from_be_bytes([field[8], field[9], field[10], field[11]]);
        let remaining = pad_len(field[12], field[13])?;
        self.select = self.choose(provide)?;
        self.state = State::SkipPad { remaining };
        Ok(Step::Continue)
    }

    /// crypto_select for `provide`: RC4 when offered, else plaintext
    /// unless RC4 is required.
    fn choose(&self, provide: u32) -> Result<u32, MseError> {
        if provide & CRYPTO_RC4 != 0 {
            Ok(CRYPTO_RC4)
        } else if provide & CRYPTO_PLAINTEXT == 0 {
            Err(MseError::CryptoProvide { provide })
        } else if self.policy == Policy::Require {
            Err(MseError::PlaintextRefused)
        } else {
            Ok(CRYPTO_PLAINTEXT)
        }
    }

    /// len(IA): send step 4, then read IA if there is one.
    pub(super) fn read_ia_len(&mut self, input: &mut &[u8], out: &mut Progress) -> Step {
        if !fill(&mut self.buf, input, 2) {
            return Step::NeedMore;
        }
        let mut field = [self.buf[0], self.buf[1]];
        self.dec().apply(&mut field);
        self.buf.drain(..2);
        self.send_select(out);
        let remaining = usize::from(u16::from_be_bytes(field));
        self.state = if remaining == 0 {
            State::Done
        } else {
            State::Ia { remaining }
        };
        Step::Continue
    }

    /// Step 4: ENCRYPT(VC, crypto_select, len(PadD), PadD).
    fn send_select(&mut self, out: &mut Progress) {
        let start = out.send.len();
        out.send.extend_from_slice(&VC);
        out.send.extend_from_slice(&self.select.to_be_bytes());
        self.push_secret_pad(&mut out.send);
        self.enc().apply(&mut out.send[start..]);
    }

    /// IA: decrypted into `received` as it comes, never buffered whole.
    pub(super) fn read_ia(
        &mut self,
        input: &mut &[u8],
        out: &mut Progress,
        remaining: usize,
    ) -> Step {
        let start = out.received.len();
        let n = take(&mut self.buf, input, remaining, |bytes| {
            out.received.extend_from_slice(bytes)
        });
        self.decrypt
            .as_mut()
            .expect("keys are derived before IA")
            .apply(&mut out.received[start..]);
        let remaining = remaining - n;
        self.state = match remaining {
            0 => State::Done,
            _ if n == 0 => return Step::NeedMore,
            _ => State::Ia { remaining },
        };
        Step::Continue
    }
}
