//! The MSE handshake: known answers, whole sessions cut anywhere, and every
//! hostile case of issue 13.

use proptest::prelude::*;

use super::dh::{KeyPair, KEY_LEN};
use super::keys::{hash, stream};
use super::*;
use crate::protocol::Handshake;

const IH: [u8; 20] = [0x5a; 20];
const OTHER_IH: [u8; 20] = [0x77; 20];

/// A deterministic generator (xorshift64) standing in for the CSPRNG.
fn rng(seed: u64) -> impl FnMut(&mut [u8]) {
    let mut x = seed | 1;
    move |buf: &mut [u8]| {
        for b in buf {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = (x >> 24) as u8;
        }
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn bt_handshake(ih: [u8; 20]) -> Vec<u8> {
    let mut out = Vec::new();
    Handshake::new(ih, [0xbb; 20], true).encode(&mut out);
    out
}

/// Everything one side saw, fed one way: for comparing cuts.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    sent: Vec<u8>,
    received: Vec<u8>,
    info_hash: Option<[u8; 20]>,
    /// The next 32 bytes of each stream, if RC4.
    keystreams: Option<(Vec<u8>, Vec<u8>)>,
    error: Option<MseError>,
}

/// Feeds `chunks` in turn (after the opening `feed(&[])`), stopping at an
/// error, and checks the buffer bound after every call.
fn drive(mut hs: MseHandshake, chunks: &[&[u8]]) -> Outcome {
    let mut out = Outcome {
        sent: Vec::new(),
        received: Vec::new(),
        info_hash: None,
        keystreams: None,
        error: None,
    };
    let mut all = vec![&[][..]];
    all.extend_from_slice(chunks);
    for (n, chunk) in all.iter().enumerate() {
        match hs.feed(chunk) {
            Ok(p) => {
                assert!(hs.buffered_len() <= MAX_BUFFERED);
                out.sent.extend(p.send);
                out.received.extend(p.received);
                if let Some(est) = p.established {
                    out.info_hash = est.info_hash;
                    // Later chunks are the stream: decrypted as the caller
                    // would, then both keystreams sampled.
                    let mut rest: Vec<u8> = all[n + 1..].concat();
                    if let Some(mut c) = est.cipher {
                        c.decrypt.apply(&mut rest);
                        let (mut a, mut b) = (vec![0u8; 32], vec![0u8; 32]);
                        c.decrypt.apply(&mut a);
                        c.encrypt.apply(&mut b);
                        out.keystreams = Some((a, b));
                    }
                    out.received.extend(rest);
                    return out;
                }
            }
            Err(err) => {
                assert_eq!(hs.feed(b"more").unwrap_err(), err, "errors are sticky");
                assert_eq!(hs.buffered_len(), 0);
                // What was sent before depends on the cut, and no longer
                // matters: the connection closes.
                out.sent.clear();
                out.error = Some(err);
                return out;
            }
        }
    }
    out
}

/// `drive` over every two-way cut of `stream`, and byte by byte: all the
/// same as the one-shot feed, which is returned.
fn drive_every_cut(make: impl Fn() -> MseHandshake, stream: &[u8]) -> Outcome {
    let whole = drive(make(), &[stream]);
    for cut in 0..=stream.len() {
        let (a, b) = stream.split_at(cut);
        assert_eq!(drive(make(), &[a, b]), whole, "cut at {cut}");
    }
    let bytes: Vec<&[u8]> = stream.chunks(1).collect();
    assert_eq!(drive(make(), &bytes), whole, "byte by byte");
    whole
}

/// A real pair talking in memory, each side's output delivered whole.
/// Returns what each sent and their outcomes.
struct Pair {
    init_stream: Vec<u8>,
    resp_stream: Vec<u8>,
    init: Established,
    resp: Established,
}

fn run_pair(
    init_policy: Policy,
    resp_policy: Policy,
    hashes: &[[u8; 20]],
) -> Result<Pair, MseError> {
    let mut i = MseHandshake::initiator(IH, init_policy, rng(1));
    let mut r = MseHandshake::responder(hashes, resp_policy, rng(2));
    let (mut init_stream, mut resp_stream) = (Vec::new(), Vec::new());
    let (mut init_est, mut resp_est) = (None, None);
    let mut to_resp = i.feed(&[])?.send;
    for _ in 0..4 {
        init_stream.extend_from_slice(&to_resp);
        let p = r.feed(&to_resp)?;
        resp_stream.extend_from_slice(&p.send);
        resp_est = resp_est.or(p.established);
        let q = i.feed(&p.send)?;
        init_est = init_est.or(q.established);
        to_resp = q.send;
        if init_est.is_some() && resp_est.is_some() {
            break;
        }
    }
    Ok(Pair {
        init_stream,
        resp_stream,
        init: init_est.expect("initiator done"),
        resp: resp_est.expect("responder done"),
    })
}

#[test]
fn key_derivation_known_answers() {
    // Fixed S = 00 01 .. 5f and SKEY = ab * 20; the expected hex computed
    // independently with Python's hashlib (and a pure-Python RC4 for the
    // keystreams past the 1024-byte discard) in a one-off script.
    let s: [u8; KEY_LEN] = std::array::from_fn(|n| n as u8);
    let skey = [0xab; 20];
    assert_eq!(
        hash(&[b"req1", &s])[..],
        hex("ed37476cccf63496894d66db14b9806c8c9efe3e")[..]
    );
    let req2 = hash(&[b"req2", &skey]);
    let req3 = hash(&[b"req3", &s]);
    let x: Vec<u8> = req2.iter().zip(req3).map(|(a, b)| a ^ b).collect();
    assert_eq!(x, hex("973a477bb0129c42dfbbf83c9e6b9e2bcd9bd8cd"));
    assert_eq!(
        hash(&[b"keyA", &s, &skey])[..],
        hex("bedeb2b074137761130c621bc2ab8b3e13aa10bb")[..]
    );
    assert_eq!(
        hash(&[b"keyB", &s, &skey])[..],
        hex("50ebd8ff1a7db37e3750a1be66fb8f0f68ad4a77")[..]
    );
    let mut ks = [0u8; 16];
    stream(b"keyA", &s, &skey).apply(&mut ks);
    assert_eq!(ks[..], hex("783b05c0e3d5f474fa8b653613a01ea8")[..]);
    let mut ks = [0u8; 16];
    stream(b"keyB", &s, &skey).apply(&mut ks);
    assert_eq!(ks[..], hex("186535a5d18b5b747fb6dcfee70b60eb")[..]);
}

#[test]
fn pair_negotiates_rc4_and_streams_match() {
    for (ip, rp) in [
        (Policy::Prefer, Policy::Prefer),
        (Policy::Prefer, Policy::Require),
        (Policy::Require, Policy::Prefer),
        (Policy::Require, Policy::Require),
    ] {
        let pair = run_pair(ip, rp, &[OTHER_IH, IH]).unwrap();
        assert_eq!(pair.init.info_hash, Some(IH));
        assert_eq!(pair.resp.info_hash, Some(IH));
        let mut ic = pair.init.cipher.expect("rc4");
        let mut rc = pair.resp.cipher.expect("rc4");
        let msg = bt_handshake(IH);
        let mut wire = msg.clone();
        ic.encrypt.apply(&mut wire);
        assert_ne!(wire, msg);
        rc.decrypt.apply(&mut wire);
        assert_eq!(wire, msg);
        let mut wire = msg.clone();
        rc.encrypt.apply(&mut wire);
        ic.decrypt.apply(&mut wire);
        assert_eq!(wire, msg);
    }
}

#[test]
fn pair_sizes_are_within_the_specification() {
    let pair = run_pair(Policy::Prefer, Policy::Prefer, &[IH]).unwrap();
    // Ya + PadA + req1 + req2^req3 + VC + provide + len(PadC) + PadC + len(IA)
    let n = pair.init_stream.len();
    assert!((96 + 20 + 20 + 16..=96 + 512 + 20 + 20 + 16 + 512).contains(&n));
    // Yb + PadB + VC + select + len(PadD) + PadD
    let n = pair.resp_stream.len();
    assert!((96 + 14..=96 + 512 + 14 + 512).contains(&n));
}

/// The whole encrypted session, from each side's point of view, cut at
/// every point and byte by byte.
#[test]
fn session_at_every_split_point() {
    let pair = run_pair(Policy::Prefer, Policy::Prefer, &[IH]).unwrap();
    let mut ic = pair.init.cipher.unwrap();
    let mut rc = pair.resp.cipher.unwrap();
    let (ic0, rc0) = (ic.clone(), rc.clone());
    let hs = bt_handshake(IH);

    // What the responder reads: the initiator's handshake, then its
    // encrypted BitTorrent handshake.
    let mut to_resp = pair.init_stream.clone();
    let mut enc = hs.clone();
    ic.encrypt.apply(&mut enc);
    to_resp.extend_from_slice(&enc);
    let resp = drive_every_cut(
        || MseHandshake::responder(&[IH], Policy::Prefer, rng(2)),
        &to_resp,
    );
    assert_eq!(resp.error, None);
    assert_eq!(resp.sent, pair.resp_stream);
    assert_eq!(resp.received, hs);
    assert_eq!(resp.info_hash, Some(IH));

    let mut to_init = pair.resp_stream.clone();
    let mut enc = hs.clone();
    rc.encrypt.apply(&mut enc);
    to_init.extend_from_slice(&enc);
    let init = drive_every_cut(
        || MseHandshake::initiator(IH, Policy::Prefer, rng(1)),
        &to_init,
    );
    assert_eq!(init.error, None);
    assert_eq!(init.sent, pair.init_stream);
    assert_eq!(init.received, hs);
    // The streams handed over are the pair's: each side's decrypt is
    // past the 68 bytes it read, its encrypt at the start.
    let sample = |rc4: &Rc4, skip: usize| {
        let mut rc4 = rc4.clone();
        rc4.skip(skip);
        let mut ks = vec![0u8; 32];
        rc4.apply(&mut ks);
        ks
    };
    let n = hs.len();
    assert_eq!(
        resp.keystreams.unwrap(),
        (sample(&ic0.encrypt, n), sample(&ic0.decrypt, 0))
    );
    assert_eq!(
        init.keystreams.unwrap(),
        (sample(&rc0.encrypt, n), sample(&rc0.decrypt, 0))
    );
}

/// The initiator's side, built by hand so that every field can be wrong.
struct Crafted {
    keys: KeyPair,
    pad_a: usize,
    skey: [u8; 20],
    vc: [u8; 8],
    provide: u32,
    pad_c: u16,
    ia: Vec<u8>,
}

impl Default for Crafted {
    fn default() -> Self {
        Crafted {
            keys: KeyPair::new(&[0x42; 20]),
            pad_a: 100,
            skey: IH,
            vc: [0; 8],
            provide: CRYPTO_RC4 | CRYPTO_PLAINTEXT,
            pad_c: 7,
            ia: Vec::new(),
        }
    }
}

impl Crafted {
    /// The initiator's whole stream to a responder made with `make` (whose
    /// Yb is learned by feeding a copy of it Ya), and the initiator's two
    /// streams.
    fn stream(&self, make: &dyn Fn() -> MseHandshake) -> (Vec<u8>, Rc4, Rc4) {
        let mut out = self.keys.public().to_vec();
        out.resize(out.len() + self.pad_a, 0xee);
        let yb: [u8; KEY_LEN] = make().feed(self.keys.public()).unwrap().send[..KEY_LEN]
            .try_into()
            .unwrap();
        let s = self.keys.shared(&yb).unwrap();
        out.extend_from_slice(&hash(&[b"req1", &s]));
        let (r2, r3) = (hash(&[b"req2", &self.skey]), hash(&[b"req3", &s]));
        out.extend(r2.iter().zip(r3).map(|(a, b)| a ^ b));
        let mut enc = stream(b"keyA", &s, &self.skey);
        let dec = stream(b"keyB", &s, &self.skey);
        let start = out.len();
        out.extend_from_slice(&self.vc);
        out.extend_from_slice(&self.provide.to_be_bytes());
        out.extend_from_slice(&self.pad_c.to_be_bytes());
        out.resize(out.len() + usize::from(self.pad_c).min(600), 0);
        out.extend_from_slice(&(self.ia.len() as u16).to_be_bytes());
        out.extend_from_slice(&self.ia);
        enc.apply(&mut out[start..]);
        (out, enc, dec)
    }
}

fn responder(policy: Policy) -> impl Fn() -> MseHandshake {
    move || MseHandshake::responder(&[OTHER_IH, IH], policy, rng(9))
}

#[test]
fn responder_takes_ia_and_the_stream_after_it_at_every_cut() {
    let hs = bt_handshake(IH);
    let c = Crafted {
        ia: hs.clone(),
        ..Crafted::default()
    };
    let make = responder(Policy::Require);
    let (mut bytes, mut enc, _) = c.stream(&make);
    let mut more = b"\0\0\0\x01\x02".to_vec(); // interested
    enc.apply(&mut more);
    bytes.extend_from_slice(&more);
    let out = drive_every_cut(&make, &bytes);
    assert_eq!(out.error, None);
    assert_eq!(out.info_hash, Some(IH));
    assert!(out.keystreams.is_some());
    let mut want = hs.clone();
    want.extend_from_slice(b"\0\0\0\x01\x02");
    assert_eq!(out.received, want);
}

#[test]
fn responder_selects_plaintext_when_only_plaintext_is_offered() {
    let hs = bt_handshake(IH);
    let c = Crafted {
        provide: CRYPTO_PLAINTEXT,
        ia: hs[..10].to_vec(),
        ..Crafted::default()
    };
    let make = responder(Policy::Prefer);
    let (mut bytes, _, mut dec) = c.stream(&make);
    // IA is encrypted; what follows it is plaintext.
    bytes.extend_from_slice(&hs[10..]);
    let out = drive_every_cut(&make, &bytes);
    assert_eq!(out.error, None);
    assert_eq!(out.keystreams, None);
    assert_eq!(out.received, hs);
    // The responder's step 4 says plaintext: VC, select 1, len(PadD), PadD.
    let mut step4 = out.sent[KEY_LEN..].to_vec();
    let at = step4.len() - {
        // PadB's length is unknown here: find VC by trial, as a peer does.
        (0..=MAX_PAD_LEN)
            .map(|pad_b| step4.len() - pad_b)
            .find(|&n| {
                let mut t = step4[step4.len() - n..].to_vec();
                dec.clone().apply(&mut t);
                n >= 14 && t[..8] == [0; 8] && t[8..12] == [0, 0, 0, 1]
            })
            .expect("step 4 found")
    };
    dec.apply(&mut step4[at..]);
    assert_eq!(step4[at + 8..at + 12], CRYPTO_PLAINTEXT.to_be_bytes());
}

#[test]
fn plain_bittorrent_handshake_reaches_a_prefer_responder() {
    let mut bytes = bt_handshake(IH);
    bytes.extend_from_slice(b"\0\0\0\x01\x02");
    let out = drive_every_cut(responder(Policy::Prefer), &bytes);
    assert_eq!(out.error, None);
    assert_eq!(out.sent, b"");
    assert_eq!(out.info_hash, None);
    assert_eq!(out.keystreams, None);
    assert_eq!(out.received, bytes);
    // Not a handshake after all: "BitTorrent protocol" cut short.
    let mut hs = MseHandshake::responder(&[IH], Policy::Prefer, rng(3));
    assert!(hs.feed(&bytes[..19]).unwrap().established.is_none());
}

#[test]
fn plain_bittorrent_handshake_is_refused_under_require() {
    let out = drive_every_cut(responder(Policy::Require), &bt_handshake(IH));
    assert_eq!(out.error, Some(MseError::PlaintextRefused));
    assert_eq!(
        out.error.unwrap().code(),
        "ERR_PEER_WIRE_MSE_PLAINTEXT_REFUSED"
    );
}

#[test]
fn plaintext_only_offer_is_refused_under_require() {
    let make = responder(Policy::Require);
    let c = Crafted {
        provide: CRYPTO_PLAINTEXT,
        ..Crafted::default()
    };
    let out = drive(make(), &[&c.stream(&make).0]);
    assert_eq!(out.error, Some(MseError::PlaintextRefused));
}

#[test]
fn offer_of_nothing_known_is_refused() {
    let make = responder(Policy::Prefer);
    let c = Crafted {
        provide: 0xf0,
        ..Crafted::default()
    };
    let err = drive(make(), &[&c.stream(&make).0]).error.unwrap();
    assert_eq!(err, MseError::CryptoProvide { provide: 0xf0 });
    assert_eq!(err.code(), "ERR_PEER_WIRE_MSE_CRYPTO_PROVIDE");
}

#[test]
fn unknown_torrent_is_refused() {
    let make = responder(Policy::Prefer);
    let c = Crafted {
        skey: [0x01; 20],
        ..Crafted::default()
    };
    let err = drive(make(), &[&c.stream(&make).0]).error.unwrap();
    assert_eq!(err, MseError::UnknownTorrent);
    assert_eq!(err.code(), "ERR_PEER_WIRE_MSE_UNKNOWN_TORRENT");
}

#[test]
fn bad_verification_constant_is_refused() {
    let make = responder(Policy::Prefer);
    let c = Crafted {
        vc: [0, 0, 0, 0, 0, 0, 0, 1],
        ..Crafted::default()
    };
    let err = drive(make(), &[&c.stream(&make).0]).error.unwrap();
    assert_eq!(err, MseError::BadVc);
    assert_eq!(err.code(), "ERR_PEER_WIRE_MSE_BAD_VC");
}

#[test]
fn pad_c_over_512_is_refused_and_512_is_not() {
    let make = responder(Policy::Prefer);
    let c = Crafted {
        pad_c: 513,
        ..Crafted::default()
    };
    let err = drive(make(), &[&c.stream(&make).0]).error.unwrap();
    assert_eq!(err, MseError::BadPad { len: 513 });
    assert_eq!(err.code(), "ERR_PEER_WIRE_MSE_BAD_PAD");
    let c = Crafted {
        pad_c: 512,
        pad_a: 512,
        ..Crafted::default()
    };
    let out = drive(make(), &[&c.stream(&make).0]);
    assert_eq!((out.error, out.info_hash), (None, Some(IH)));
}

#[test]
fn req1_sync_is_bounded_by_532_bytes() {
    let make = responder(Policy::Prefer);
    // PadA of 512 bytes: found at the last possible place.
    let c = Crafted {
        pad_a: 512,
        ..Crafted::default()
    };
    assert_eq!(drive(make(), &[&c.stream(&make).0]).error, None);
    // Ya, then 532 bytes without HASH('req1', S): need more until the
    // 532nd, then an error.
    let mut hs = make();
    hs.feed(KeyPair::new(&[0x42; 20]).public()).unwrap();
    assert!(hs.feed(&[0xee; REQ1_WINDOW - 1]).is_ok());
    assert!(hs.buffered_len() <= MAX_BUFFERED);
    let err = hs.feed(&[0xee]).unwrap_err();
    assert_eq!(
        err,
        MseError::Sync {
            what: "HASH('req1', S)",
            bound: 532
        }
    );
    assert_eq!(err.code(), "ERR_PEER_WIRE_MSE_SYNC");
    // A PadA of 513 bytes is the same error, however it arrives.
    let c = Crafted {
        pad_a: 513,
        ..Crafted::default()
    };
    let out = drive_every_cut(&make, &c.stream(&make).0);
    assert!(matches!(out.error, Some(MseError::Sync { .. })));
}

#[test]
fn degenerate_public_key_is_refused() {
    let mut hs = MseHandshake::responder(&[IH], Policy::Prefer, rng(5));
    assert_eq!(hs.feed(&[0u8; KEY_LEN]).unwrap_err(), MseError::BadKey);
    let mut hs = MseHandshake::initiator(IH, Policy::Prefer, rng(5));
    hs.feed(&[]).unwrap();
    let mut one = [0u8; KEY_LEN];
    one[KEY_LEN - 1] = 1;
    let err = hs.feed(&one).unwrap_err();
    assert_eq!(
        (err.clone(), err.code()),
        (MseError::BadKey, "ERR_PEER_WIRE_MSE_BAD_KEY")
    );
}

/// The responder's side, built by hand, for an initiator made with `rng(1)`.
fn crafted_responder_stream(
    init_policy: Policy,
    pad_b: usize,
    select: u32,
    pad_d: u16,
) -> (Vec<u8>, Rc4) {
    let keys = KeyPair::new(&[0x24; 20]);
    let mut init = MseHandshake::initiator(IH, init_policy, rng(1));
    let ya: [u8; KEY_LEN] = init.feed(&[]).unwrap().send[..KEY_LEN].try_into().unwrap();
    let s = keys.shared(&ya).unwrap();
    let mut out = keys.public().to_vec();
    out.resize(KEY_LEN + pad_b, 0xdd);
    let mut enc = stream(b"keyB", &s, &IH);
    let start = out.len();
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&select.to_be_bytes());
    out.extend_from_slice(&pad_d.to_be_bytes());
    out.resize(out.len() + usize::from(pad_d).min(600), 0);
    enc.apply(&mut out[start..]);
    (out, enc)
}

#[test]
fn initiator_follows_a_plaintext_select() {
    let (mut bytes, _) = crafted_responder_stream(Policy::Prefer, 33, CRYPTO_PLAINTEXT, 5);
    let hs = bt_handshake(IH);
    bytes.extend_from_slice(&hs);
    let out = drive_every_cut(
        || MseHandshake::initiator(IH, Policy::Prefer, rng(1)),
        &bytes,
    );
    assert_eq!(out.error, None);
    assert_eq!(out.keystreams, None);
    assert_eq!(out.received, hs);
    assert_eq!(out.info_hash, Some(IH));
}

#[test]
fn select_not_offered_is_refused() {
    for (policy, select) in [
        (Policy::Require, CRYPTO_PLAINTEXT),
        (Policy::Prefer, CRYPTO_PLAINTEXT | CRYPTO_RC4),
        (Policy::Prefer, 0),
        (Policy::Prefer, 0x04),
    ] {
        let (bytes, _) = crafted_responder_stream(policy, 0, select, 0);
        let out = drive(MseHandshake::initiator(IH, policy, rng(1)), &[&bytes]);
        let err = out.error.unwrap();
        assert!(matches!(err, MseError::CryptoSelect { select: s, .. } if s == select));
        assert_eq!(err.code(), "ERR_PEER_WIRE_MSE_CRYPTO_SELECT");
    }
}

#[test]
fn pad_d_over_512_is_refused() {
    let (bytes, _) = crafted_responder_stream(Policy::Prefer, 0, CRYPTO_RC4, 513);
    let out = drive(
        MseHandshake::initiator(IH, Policy::Prefer, rng(1)),
        &[&bytes],
    );
    assert_eq!(out.error, Some(MseError::BadPad { len: 513 }));
}

#[test]
fn vc_sync_is_bounded_by_520_bytes() {
    let (ok, _) = crafted_responder_stream(Policy::Prefer, 512, CRYPTO_RC4, 0);
    let out = drive(MseHandshake::initiator(IH, Policy::Prefer, rng(1)), &[&ok]);
    assert_eq!((out.error, out.info_hash), (None, Some(IH)));
    let (bad, _) = crafted_responder_stream(Policy::Prefer, 513, CRYPTO_RC4, 0);
    let out = drive_every_cut(|| MseHandshake::initiator(IH, Policy::Prefer, rng(1)), &bad);
    assert_eq!(
        out.error,
        Some(MseError::Sync {
            what: "ENCRYPT(VC)",
            bound: 520
        })
    );
}

#[test]
fn off_passes_bytes_through() {
    let bytes = bt_handshake(IH);
    for hs in [
        MseHandshake::initiator(IH, Policy::Off, rng(1)),
        MseHandshake::responder(&[IH], Policy::Off, rng(1)),
    ] {
        let out = drive(hs, &[&bytes]);
        assert_eq!(out.sent, b"");
        assert_eq!(out.received, bytes);
        assert_eq!(out.keystreams, None);
    }
    let mut hs = MseHandshake::initiator(IH, Policy::Off, rng(1));
    let p = hs.feed(b"abc").unwrap();
    assert_eq!(p.received, b"abc");
    assert_eq!(p.established.unwrap().info_hash, Some(IH));
}

#[test]
fn feed_after_established_is_an_error() {
    let mut hs = MseHandshake::responder(&[IH], Policy::Prefer, rng(1));
    assert!(hs.feed(&bt_handshake(IH)).unwrap().established.is_some());
    let err = hs.feed(b"x").unwrap_err();
    assert_eq!(
        (err.clone(), err.code()),
        (MseError::Finished, "ERR_PEER_WIRE_MSE_FINISHED")
    );
}

#[test]
fn randomness_shapes_the_bytes_and_os_rng_works() {
    let a = run_pair(Policy::Prefer, Policy::Prefer, &[IH]).unwrap();
    let mut i = MseHandshake::initiator(IH, Policy::Prefer, os_rng);
    let first = i.feed(&[]).unwrap().send;
    assert!(first.len() >= KEY_LEN && first.len() <= KEY_LEN + MAX_PAD_LEN);
    assert_ne!(first[..KEY_LEN], a.init_stream[..KEY_LEN]);
}

/// A valid initiator stream with IA, for the property test to cut short
/// and spoil anywhere (so that every state is reached).
fn valid_stream() -> Vec<u8> {
    let c = Crafted {
        ia: bt_handshake(IH),
        pad_c: 40,
        ..Crafted::default()
    };
    c.stream(&responder(Policy::Prefer)).0
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any bytes, cut anywhere, after any prefix of a valid handshake:
    /// an error or need-more, within the buffer bound, never a panic; and
    /// the same outcome however they are cut.
    #[test]
    fn responder_survives_any_bytes(
        prefix in 0usize..1000,
        junk in proptest::collection::vec(any::<u8>(), 0..1200),
        flip in any::<Option<(u16, u8)>>(),
        cuts in proptest::collection::vec(1usize..300, 0..8),
        policy in prop_oneof![Just(Policy::Prefer), Just(Policy::Require), Just(Policy::Off)],
    ) {
        let valid = valid_stream();
        let mut bytes = valid[..prefix.min(valid.len())].to_vec();
        bytes.extend_from_slice(&junk);
        if let Some((at, x)) = flip {
            if !bytes.is_empty() {
                let at = usize::from(at) % bytes.len();
                bytes[at] ^= x;
            }
        }
        let make = || MseHandshake::responder(&[IH], policy, rng(9));
        let whole = drive(make(), &[&bytes]);
        let mut chunks = Vec::new();
        let mut rest = &bytes[..];
        for c in cuts.iter().cycle().take(if cuts.is_empty() { 0 } else { 64 }) {
            let n = (*c).min(rest.len());
            let (a, b) = rest.split_at(n);
            chunks.push(a);
            rest = b;
        }
        chunks.push(rest);
        prop_assert_eq!(drive(make(), &chunks), whole);
    }
}
