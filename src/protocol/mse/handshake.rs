//! The MSE handshake as a sans-IO state machine, for both roles.

use super::dh::{KeyPair, KEY_LEN, PRIVATE_KEY_LEN};
use super::error::MseError;
use super::rc4::Rc4;
use crate::protocol::{ID_LEN, PROTOCOL};

/// `crypto_provide`/`crypto_select` bit: plaintext after the handshake.
pub const CRYPTO_PLAINTEXT: u32 = 0x01;
/// `crypto_provide`/`crypto_select` bit: RC4 after the handshake.
pub const CRYPTO_RC4: u32 = 0x02;
/// The longest pad (PadA to PadD) a peer may send.
pub const MAX_PAD_LEN: usize = 512;
/// Keystream bytes discarded from each RC4 stream before use.
pub const RC4_DISCARD: usize = 1024;
/// The verification constant, eight zero bytes.
const VC: [u8; 8] = [0; 8];
/// The responder looks for HASH('req1', S) in this many bytes after Ya.
pub const REQ1_WINDOW: usize = MAX_PAD_LEN + 20;
/// The initiator looks for the encrypted VC in this many bytes after Yb.
pub const VC_WINDOW: usize = MAX_PAD_LEN + VC.len();
/// The most bytes a handshake ever holds between calls.
pub const MAX_BUFFERED: usize = REQ1_WINDOW;
/// The first 20 bytes of a plain BitTorrent handshake.
const BT_HEADER_LEN: usize = 20;

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

/// The random choices of one handshake, drawn when it is made.
struct Secrets {
    private: [u8; PRIVATE_KEY_LEN],
    /// PadA or PadB (sent in the clear: random bytes).
    clear_pad: Vec<u8>,
    /// Length of PadC or PadD (encrypted: zeros, random once encrypted).
    secret_pad_len: usize,
}

impl Secrets {
    fn draw(rng: &mut dyn FnMut(&mut [u8])) -> Self {
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Initiator,
    Responder,
}

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
    SkipPad {
        remaining: usize,
    },
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
    Ia {
        remaining: usize,
    },
    Done,
    Failed(MseError),
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

/// SHA-1 of the concatenation of `parts`.
pub(super) fn hash(parts: &[&[u8]]) -> [u8; 20] {
    let mut h = sha1_smol::Sha1::new();
    for p in parts {
        h.update(p);
    }
    h.digest().bytes()
}

fn xor20(a: &[u8; 20], b: &[u8]) -> [u8; 20] {
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

/// Where `needle` starts in `buf`, looking from `*from` on; when it is not
/// there, moves `*from` to the first offset where it could still start once
/// more bytes arrive, so that a trickled pad is scanned once, not once per
/// byte.
fn sync(buf: &[u8], from: &mut usize, needle: &[u8]) -> Option<usize> {
    let hit = buf[*from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|at| *from + at);
    if hit.is_none() {
        *from = (*from).max((buf.len() + 1).saturating_sub(needle.len()));
    }
    hit
}

/// Fills `buf` from `input` up to `want` bytes; true when it has them.
fn fill(buf: &mut Vec<u8>, input: &mut &[u8], want: usize) -> bool {
    if buf.len() < want {
        let n = (want - buf.len()).min(input.len());
        buf.extend_from_slice(&input[..n]);
        *input = &input[n..];
    }
    buf.len() >= want
}

/// The operating system's CSPRNG, for [`MseHandshake::initiator`] and
/// [`MseHandshake::responder`].
///
/// # Panics
/// If the operating system cannot provide random bytes (no fallback to
/// anything weaker).
pub fn os_rng(buf: &mut [u8]) {
    getrandom::fill(buf).expect("the operating system's random number generator failed");
}

impl MseHandshake {
    /// The side that dials: it knows the torrent (`info_hash`, SKEY). Call
    /// [`feed`](Self::feed) once with no bytes to get Ya and PadA.
    ///
    /// `rng` fills buffers with random bytes ([`os_rng`] in production; a
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
                Ok(true) if matches!(self.state, State::Done) => {
                    self.finish(input, &mut out);
                    return Ok(out);
                }
                Ok(true) => {}
                Ok(false) => {
                    debug_assert!(input.is_empty());
                    debug_assert!(self.buf.len() <= MAX_BUFFERED);
                    return Ok(out);
                }
                Err(err) => {
                    self.buf = Vec::new();
                    self.secret = None;
                    self.decrypt = None;
                    self.encrypt = None;
                    self.state = State::Failed(err.clone());
                    return Err(err);
                }
            }
        }
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
        self.buf = Vec::new();
        self.secret = None;
        self.decrypt = None;
        self.encrypt = None;
        out.established = Some(Established {
            info_hash: self.info_hash,
            cipher,
        });
    }

    /// One step of the current state: `Ok(true)` when it moved on,
    /// `Ok(false)` when it needs more bytes (and `input` is spent).
    fn step(&mut self, input: &mut &[u8], out: &mut Progress) -> Result<bool, MseError> {
        match self.state {
            State::Start => {
                if self.policy == Policy::Off {
                    self.select = CRYPTO_PLAINTEXT;
                    self.state = State::Done;
                } else if self.role == Role::Initiator {
                    out.send.extend_from_slice(self.public());
                    out.send.append(&mut self.secrets.clear_pad);
                    self.state = State::ReadYb;
                } else {
                    self.state = State::ReadYa;
                }
                Ok(true)
            }
            State::ReadYb => {
                if !fill(&mut self.buf, input, KEY_LEN) {
                    return Ok(false);
                }
                let secret = self.shared()?;
                let skey = self.info_hash.expect("an initiator knows its torrent");
                let mut encrypt = stream(b"keyA", &secret, &skey);
                let decrypt = stream(b"keyB", &secret, &skey);
                out.send.extend_from_slice(&hash(&[b"req1", &secret]));
                out.send.extend_from_slice(&xor20(
                    &hash(&[b"req2", &skey]),
                    &hash(&[b"req3", &secret]),
                ));
                let start = out.send.len();
                out.send.extend_from_slice(&VC);
                out.send.extend_from_slice(&self.provide.to_be_bytes());
                self.push_secret_pad(&mut out.send);
                out.send.extend_from_slice(&0u16.to_be_bytes()); // len(IA): none
                encrypt.apply(&mut out.send[start..]);
                let mut pattern = VC;
                decrypt.clone().apply(&mut pattern);
                self.encrypt = Some(encrypt);
                self.decrypt = Some(decrypt);
                self.buf.drain(..KEY_LEN);
                self.state = State::SyncVc { pattern, from: 0 };
                Ok(true)
            }
            State::SyncVc { pattern, mut from } => {
                let full = fill(&mut self.buf, input, VC_WINDOW);
                match sync(&self.buf, &mut from, &pattern) {
                    Some(at) => {
                        self.dec().skip(VC.len());
                        self.buf.drain(..at + VC.len());
                        self.state = State::ReadSelect;
                        Ok(true)
                    }
                    None if full => Err(MseError::Sync {
                        what: "ENCRYPT(VC)",
                        bound: VC_WINDOW,
                    }),
                    None => {
                        self.state = State::SyncVc { pattern, from };
                        Ok(false)
                    }
                }
            }
            State::ReadSelect => {
                if !fill(&mut self.buf, input, 6) {
                    return Ok(false);
                }
                let mut field = [0u8; 6];
                field.copy_from_slice(&self.buf[..6]);
                self.dec().apply(&mut field);
                self.buf.drain(..6);
                let select = u32::from_be_bytes([field[0], field[1], field[2], field[3]]);
                if !(select == CRYPTO_RC4 || select == CRYPTO_PLAINTEXT)
                    || select & self.provide == 0
                {
                    return Err(MseError::CryptoSelect {
                        select,
                        provide: self.provide,
                    });
                }
                self.select = select;
                let remaining = pad_len(field[4], field[5])?;
                self.state = State::SkipPad { remaining };
                Ok(true)
            }
            State::SkipPad { remaining } => {
                let n = if self.buf.is_empty() {
                    let n = remaining.min(input.len());
                    *input = &input[n..];
                    n
                } else {
                    let n = remaining.min(self.buf.len());
                    self.buf.drain(..n);
                    n
                };
                self.dec().skip(n);
                let remaining = remaining - n;
                self.state = match (remaining, self.role) {
                    (0, Role::Initiator) => State::Done,
                    (0, Role::Responder) => State::ReadIaLen,
                    _ if n == 0 => return Ok(false),
                    _ => State::SkipPad { remaining },
                };
                Ok(true)
            }
            State::ReadYa => {
                fill(&mut self.buf, input, KEY_LEN);
                let n = self.buf.len().min(BT_HEADER_LEN);
                if self.buf[..n] == bt_header()[..n] {
                    if n < BT_HEADER_LEN {
                        return Ok(false);
                    }
                    if self.policy == Policy::Require {
                        return Err(MseError::PlaintextRefused);
                    }
                    self.select = CRYPTO_PLAINTEXT;
                    self.state = State::Done;
                    return Ok(true);
                }
                if self.buf.len() < KEY_LEN {
                    return Ok(false);
                }
                let secret = self.shared()?;
                out.send.extend_from_slice(self.public());
                out.send.append(&mut self.secrets.clear_pad);
                let pattern = hash(&[b"req1", &secret]);
                self.secret = Some(secret);
                self.buf.drain(..KEY_LEN);
                self.state = State::SyncReq1 { pattern, from: 0 };
                Ok(true)
            }
            State::SyncReq1 { pattern, mut from } => {
                let full = fill(&mut self.buf, input, REQ1_WINDOW);
                match sync(&self.buf, &mut from, &pattern) {
                    Some(at) => {
                        self.buf.drain(..at + pattern.len());
                        self.state = State::ReadReq23;
                        Ok(true)
                    }
                    None if full => Err(MseError::Sync {
                        what: "HASH('req1', S)",
                        bound: REQ1_WINDOW,
                    }),
                    None => {
                        self.state = State::SyncReq1 { pattern, from };
                        Ok(false)
                    }
                }
            }
            State::ReadReq23 => {
                if !fill(&mut self.buf, input, 20) {
                    return Ok(false);
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
                Ok(true)
            }
            State::ReadProvide => {
                if !fill(&mut self.buf, input, 14) {
                    return Ok(false);
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
                self.select = if provide & CRYPTO_RC4 != 0 {
                    CRYPTO_RC4
                } else if provide & CRYPTO_PLAINTEXT == 0 {
                    return Err(MseError::CryptoProvide { provide });
                } else if self.policy == Policy::Require {
                    return Err(MseError::PlaintextRefused);
                } else {
                    CRYPTO_PLAINTEXT
                };
                self.state = State::SkipPad { remaining };
                Ok(true)
            }
            State::ReadIaLen => {
                if !fill(&mut self.buf, input, 2) {
                    return Ok(false);
                }
                let mut field = [self.buf[0], self.buf[1]];
                self.dec().apply(&mut field);
                self.buf.drain(..2);
                let start = out.send.len();
                out.send.extend_from_slice(&VC);
                out.send.extend_from_slice(&self.select.to_be_bytes());
                self.push_secret_pad(&mut out.send);
                self.enc().apply(&mut out.send[start..]);
                let remaining = usize::from(u16::from_be_bytes(field));
                self.state = if remaining == 0 {
                    State::Done
                } else {
                    State::Ia { remaining }
                };
                Ok(true)
            }
            State::Ia { remaining } => {
                let start = out.received.len();
                let n = if self.buf.is_empty() {
                    let n = remaining.min(input.len());
                    out.received.extend_from_slice(&input[..n]);
                    *input = &input[n..];
                    n
                } else {
                    let n = remaining.min(self.buf.len());
                    out.received.extend(self.buf.drain(..n));
                    n
                };
                self.decrypt
                    .as_mut()
                    .expect("keys are derived before IA")
                    .apply(&mut out.received[start..]);
                let remaining = remaining - n;
                self.state = match remaining {
                    0 => State::Done,
                    _ if n == 0 => return Ok(false),
                    _ => State::Ia { remaining },
                };
                Ok(true)
            }
            State::Done | State::Failed(_) => unreachable!("feed returns before these"),
        }
    }

    fn public(&self) -> &[u8; KEY_LEN] {
        self.keys.as_ref().expect("keys exist unless Off").public()
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

fn pad_len(hi: u8, lo: u8) -> Result<usize, MseError> {
    let len = u16::from_be_bytes([hi, lo]);
    if usize::from(len) > MAX_PAD_LEN {
        return Err(MseError::BadPad { len });
    }
    Ok(usize::from(len))
}

/// `19` then "BitTorrent protocol".
fn bt_header() -> [u8; BT_HEADER_LEN] {
    let mut h = [0u8; BT_HEADER_LEN];
    h[0] = PROTOCOL.len() as u8;
    h[1..].copy_from_slice(PROTOCOL);
    h
}
