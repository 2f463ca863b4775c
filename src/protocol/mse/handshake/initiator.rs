//! The side that dials: Ya and PadA, then its read states: Yb, the
//! encrypted VC after PadB, crypto_select and PadD.

use super::{MseHandshake, Role, State, Step};
use crate::protocol::mse::dh::KEY_LEN;
use crate::protocol::mse::error::MseError;
use crate::protocol::mse::field::{fill, pad_len, sync};
use crate::protocol::mse::keys::{hash, stream, xor20};
use crate::protocol::mse::types::{Policy, Progress, CRYPTO_PLAINTEXT, CRYPTO_RC4, VC, VC_WINDOW};
use crate::protocol::ID_LEN;

impl MseHandshake {
    /// The side that dials: it knows the torrent (`info_hash`, SKEY). Call
    /// [`feed`](Self::feed) once with no bytes to get Ya and PadA.
    ///
    /// `rng` fills buffers with random bytes ([`os_rng`](crate::protocol::mse::os_rng) in production; a
    /// fixed generator in tests): the private key and the pads are drawn
    /// here, once.
    pub fn initiator(
        info_hash: [u8; ID_LEN],
        policy: Policy,
        mut rng: impl FnMut(&mut [u8]),
    ) -> Self {
        let mut hs = Self::new(Role::Initiator, policy, &mut rng);
        hs.info_hash = Some(info_hash);
        hs.provide = match policy {
            Policy::Require => CRYPTO_RC4,
            _ => CRYPTO_RC4 | CRYPTO_PLAINTEXT,
        };
        hs
    }

    /// Yb: derive the keys, send step 3, then look for ENCRYPT(VC).
    pub(super) fn read_yb(
        &mut self,
        input: &mut &[u8],
        out: &mut Progress,
    ) -> Result<Step, MseError> {
        if !fill(&mut self.buf, input, KEY_LEN) {
            return Ok(Step::NeedMore);
        }
        let secret = self.shared()?;
        let skey = self.info_hash.expect("an initiator knows its torrent");
        self.encrypt = Some(stream(b"keyA", &secret, &skey));
        self.decrypt = Some(stream(b"keyB", &secret, &skey));
        self.send_req(out, &secret, &skey);
        let mut pattern = VC;
        self.dec().clone().apply(&mut pattern);
        self.buf.drain(..KEY_LEN);
        self.state = State::SyncVc { pattern, from: 0 };
        Ok(Step::Continue)
    }

    /// Step 3: HASH('req1', S), HASH('req2', SKEY) xor HASH('req3', S),
    /// then ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), with no
    /// IA.
    fn send_req(&mut self, out: &mut Progress, secret: &[u8; KEY_LEN], skey: &[u8; ID_LEN]) {
        out.send.extend_from_slice(&hash(&[b"req1", secret]));
        out.send
            .extend_from_slice(&xor20(&hash(&[b"req2", skey]), &hash(&[b"req3", secret])));
        let start = out.send.len();
        out.send.extend_from_slice(&VC);
        out.send.extend_from_slice(&self.provide.to_be_bytes());
        self.push_secret_pad(&mut out.send);
        out.send.extend_from_slice(&0u16.to_be_bytes()); // len(IA): none
        self.enc().apply(&mut out.send[start..]);
    }

    /// PadB: search for ENCRYPT(VC) within [`VC_WINDOW`] bytes.
    pub(super) fn sync_vc(
        &mut self,
        input: &mut &[u8],
        pattern: [u8; 8],
        mut from: usize,
    ) -> Result<Step, MseError> {
        let full = fill(&mut self.buf, input, VC_WINDOW);
        match sync(&self.buf, &mut from, &pattern) {
            Some(at) => {
                self.dec().skip(VC.len());
                self.buf.drain(..at + VC.len());
                self.state = State::ReadSelect;
                Ok(Step::Continue)
            }
            None if full => Err(MseError::Sync {
                what: "ENCRYPT(VC)",
                bound: VC_WINDOW,
            }),
            None => {
                self.state = State::SyncVc { pattern, from };
                Ok(Step::NeedMore)
            }
        }
    }

    /// crypto_select (one method, one we offered) and len(PadD).
    pub(super) fn read_select(&mut self, input: &mut &[u8]) -> Result<Step, MseError> {
        if !fill(&mut self.buf, input, 6) {
            return Ok(Step::NeedMore);
        }
        let mut field = [0u8; 6];
        field.copy_from_slice(&self.buf[..6]);
        self.dec().apply(&mut field);
        self.buf.drain(..6);
        let select = u32::from_be_bytes([field[0], field[1], field[2], field[3]]);
        if !(select == CRYPTO_RC4 || select == CRYPTO_PLAINTEXT) || select & self.provide == 0 {
            return Err(MseError::CryptoSelect {
                select,
                provide: self.provide,
            });
        }
        self.select = select;
        let remaining = pad_len(field[4], field[5])?;
        self.state = State::SkipPad { remaining };
        Ok(Step::Continue)
    }
}
