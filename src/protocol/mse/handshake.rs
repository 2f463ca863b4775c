//! The MSE handshake as a sans-IO state machine, for both roles: the
//! machine and the states both roles share here, each role's states in
//! [`initiator`] and [`responder`].
//!
//! Every read state has one method; [`MseHandshake::step`] dispatches to it
//! and [`MseHandshake::feed`] runs steps until the input is spent.

mod initiator;
mod responder;

use super::dh::{KeyPair, KEY_LEN};
use super::error::MseError;
use super::field::take;
use super::keys::Secrets;
use super::rc4::Rc4;
use super::types::{
    Cipher, Established, Policy, Progress, CRYPTO_PLAINTEXT, CRYPTO_RC4, MAX_BUFFERED,
};
use crate::protocol::ID_LEN;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Initiator,
    Responder,
}

/// The read state: what the handshake does with the next bytes.
#[derive(Debug)]
enum State {
    /// Nothing sent or reported yet.
    Start,
    /// Initiator: waiting for Yb.
    ReadYb,
    /// Initiator: looking for ENCRYPT(VC) after PadB.
    SyncVc {
        pattern: [u8; 8],
        /// The first offset in `buf` not yet ruled out.
        from: usize,
    },
    /// Initiator: crypto_select and len(PadD).
    ReadSelect,
    /// PadD (initiator) or PadC (responder), decrypted and dropped.
    SkipPad { remaining: usize },
    /// Responder: waiting for Ya (or a plain BitTorrent handshake).
    ReadYa,
    /// Responder: looking for HASH('req1', S) after PadA.
    SyncReq1 {
        pattern: [u8; 20],
        /// The first offset in `buf` not yet ruled out.
        from: usize,
    },
    /// Responder: HASH('req2', SKEY) xor HASH('req3', S).
    ReadReq23,
    /// Responder: VC, crypto_provide, len(PadC).
    ReadProvide,
    /// Responder: len(IA).
    ReadIaLen,
    /// Responder: IA, decrypted into `received` as it comes.
    Ia { remaining: usize },
    /// Established was reported.
    Done,
    /// An error was reported; every later call repeats it.
    Failed(MseError),
}

/// What one state method did.
enum Step {
    /// It moved on (to another state, or further in its own): run the
    /// state the handshake is in now.
    Continue,
    /// It needs more bytes, and `input` is spent.
    NeedMore,
}

/// One side of an MSE/PE handshake: feed it the peer's bytes, send what it
/// returns, until it reports [`Established`].
pub struct MseHandshake {
    role: Role,
    policy: Policy,
    state: State,
    secrets: Secrets,
    keys: Option<KeyPair>,
    /// Initiator: the torrent. Responder: the torrent found.
    info_hash: Option<[u8; ID_LEN]>,
    /// Responder: the torrents served, each with HASH('req2', info hash).
    known: Vec<([u8; ID_LEN], [u8; 20])>,
    /// The shared secret, from Y until the keys are derived.
    secret: Option<[u8; KEY_LEN]>,
    decrypt: Option<Rc4>,
    encrypt: Option<Rc4>,
    /// What we offered (initiator) or selected (responder).
    provide: u32,
    select: u32,
    /// The bytes of the field being read, at most [`MAX_BUFFERED`].
    buf: Vec<u8>,
}

impl std::fmt::Debug for MseHandshake {
    // Keys and secrets stay out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MseHandshake")
            .field("role", &self.role)
            .field("policy", &self.policy)
            .field("state", &self.state)
            .field("buffered", &self.buf.len())
            .finish_non_exhaustive()
    }
}

impl MseHandshake {
    fn new(role: Role, policy: Policy, rng: &mut dyn FnMut(&mut [u8])) -> Self {
        let secrets = Secrets::draw(rng);
        let keys = (policy != Policy::Off).then(|| KeyPair::new(&secrets.private));
        MseHandshake {
            role,
            policy,
            state: State::Start,
            secrets,
            keys,
            info_hash: None,
            known: Vec::new(),
            secret: None,
            decrypt: None,
            encrypt: None,
            provide: 0,
            select: 0,
            buf: Vec::new(),
        }
    }

    /// How many bytes the handshake holds (at most [`MAX_BUFFERED`]).
    pub fn buffered_len(&self) -> usize {
        self.buf.len()
    }

    /// Consumes all of `input` (the peer's next bytes, cut anywhere) and
    /// returns what to send, the stream bytes received past the handshake,
    /// and, once, [`Established`]. "Need more" is an `Ok` with no
    /// `established`. An error drops whatever the call would have sent:
    /// close the connection. After an error, or after `Established`, every
    /// call fails.
    pub fn feed(&mut self, mut input: &[u8]) -> Result<Progress, MseError> {
        match &self.state {
            State::Failed(err) => return Err(err.clone()),
            State::Done => return Err(MseError::Finished),
            _ => {}
        }
        let mut out = Progress::default();
        loop {
            match self.step(&mut input, &mut out) {
                Ok(Step::Continue) if matches!(self.state, State::Done) => {
                    self.finish(input, &mut out);
                    return Ok(out);
                }
                Ok(Step::Continue) => {}
                Ok(Step::NeedMore) => {
                    debug_assert!(input.is_empty());
                    debug_assert!(self.buf.len() <= MAX_BUFFERED);
                    return Ok(out);
                }
                Err(err) => {
                    self.wipe();
                    self.state = State::Failed(err.clone());
                    return Err(err);
                }
            }
        }
    }

    /// Runs the current state's method.
    fn step(&mut self, input: &mut &[u8], out: &mut Progress) -> Result<Step, MseError> {
        match self.state {
            State::Start => Ok(self.start(out)),
            State::ReadYb => self.read_yb(input, out),
            State::SyncVc { pattern, from } => self.sync_vc(input, pattern, from),
            State::ReadSelect => self.read_select(input),
            State::SkipPad { remaining } => Ok(self.skip_pad(input, remaining)),
            State::ReadYa => self.read_ya(input, out),
            State::SyncReq1 { pattern, from } => self.sync_req1(input, pattern, from),
            State::ReadReq23 => self.read_req23(input),
            State::ReadProvide => self.read_provide(input),
            State::ReadIaLen => Ok(self.read_ia_len(input, out)),
            State::Ia { remaining } => Ok(self.read_ia(input, out, remaining)),
            State::Done | State::Failed(_) => unreachable!("feed returns before these"),
        }
    }

    /// `Off` is done at once; an initiator opens with Ya, a responder waits
    /// for it.
    fn start(&mut self, out: &mut Progress) -> Step {
        if self.policy == Policy::Off {
            self.select = CRYPTO_PLAINTEXT;
            self.state = State::Done;
        } else if self.role == Role::Initiator {
            self.send_public(out);
            self.state = State::ReadYb;
        } else {
            self.state = State::ReadYa;
        }
        Step::Continue
    }

    /// PadD (initiator) or PadC (responder): decrypted and dropped.
    fn skip_pad(&mut self, input: &mut &[u8], remaining: usize) -> Step {
        let n = take(&mut self.buf, input, remaining, |_| {});
        self.dec().skip(n);
        let remaining = remaining - n;
        self.state = match (remaining, self.role) {
            (0, Role::Initiator) => State::Done,
            (0, Role::Responder) => State::ReadIaLen,
            _ if n == 0 => return Step::NeedMore,
            _ => State::SkipPad { remaining },
        };
        Step::Continue
    }

    /// The handshake is over: the bytes left are stream bytes.
    fn finish(&mut self, input: &[u8], out: &mut Progress) {
        let cipher = if self.select == CRYPTO_RC4 {
            self.decrypt.take().zip(self.encrypt.take())
        } else {
            None
        };
        let start = out.received.len();
        out.received.append(&mut self.buf);
        out.received.extend_from_slice(input);
        let mut cipher = cipher.map(|(decrypt, encrypt)| Cipher { decrypt, encrypt });
        if let Some(c) = cipher.as_mut() {
            c.decrypt.apply(&mut out.received[start..]);
        }
        self.wipe();
        out.established = Some(Established {
            info_hash: self.info_hash,
            cipher,
        });
    }

    /// Drops the buffer, the shared secret and the streams.
    fn wipe(&mut self) {
        self.buf = Vec::new();
        self.secret = None;
        self.decrypt = None;
        self.encrypt = None;
    }

    /// Ya or Yb, then PadA or PadB.
    fn send_public(&mut self, out: &mut Progress) {
        let public = self.keys.as_ref().expect("keys exist unless Off").public();
        out.send.extend_from_slice(public);
        out.send.append(&mut self.secrets.clear_pad);
    }

    /// S from the peer's public key at the front of `buf`.
    fn shared(&self) -> Result<[u8; KEY_LEN], MseError> {
        let mut y = [0u8; KEY_LEN];
        y.copy_from_slice(&self.buf[..KEY_LEN]);
        self.keys
            .as_ref()
            .expect("keys exist unless Off")
            .shared(&y)
            .ok_or(MseError::BadKey)
    }

    fn dec(&mut self) -> &mut Rc4 {
        self.decrypt.as_mut().expect("keys are derived")
    }

    fn enc(&mut self) -> &mut Rc4 {
        self.encrypt.as_mut().expect("keys are derived")
    }

    /// len(PadC or PadD) and that many zeros (encrypted by the caller).
    fn push_secret_pad(&self, out: &mut Vec<u8>) {
        let len = self.secrets.secret_pad_len;
        out.extend_from_slice(&(len as u16).to_be_bytes());
        out.resize(out.len() + len, 0);
    }
}
