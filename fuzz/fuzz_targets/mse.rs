//! The MSE handshake (`peer_wire_native::protocol::mse`) fed any bytes, cut
//! anywhere, in either role.
//!
//! Input layout: byte 0: bit 7 picks the role (set: initiator, else
//! responder), bits 0-1 the policy (0 off, 1 prefer, 2 and 3 require),
//! bits 2-6 the count `n` of chunk sizes that follow (at most 31); bytes
//! 1-2 (big-endian) how many bytes of a valid peer stream open the input
//! (mod its length + 1), so that every state is reached without guessing
//! a hash; then `n` chunk sizes; then bytes appended to that prefix, with
//! the prefix's last byte XORed with the first of them.
//!
//! The valid streams are a real exchange between the two sides with fixed
//! random generators: the initiator's Ya + PadA and step 3 (which depends
//! on the responder's Yb, fixed by its generator), the responder's Yb +
//! PadB and step 4 (each recomputed against the same peers here).
//!
//! Checked: no panic; never more than `MAX_BUFFERED` bytes held; the
//! chunked feed gives the same outcome (bytes sent, bytes received, the
//! torrent, whether RC4 was selected, the error) as the one-shot feed,
//! where sends made before an error are not compared; an error is sticky
//! and leaves nothing buffered.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use peer_wire_native::protocol::mse::{MseError, MseHandshake, Policy, MAX_BUFFERED};

const IH: [u8; 20] = [0x5a; 20];

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

fn initiator(policy: Policy) -> MseHandshake {
    MseHandshake::initiator(IH, policy, rng(1))
}

fn responder(policy: Policy) -> MseHandshake {
    MseHandshake::responder(&[[0x77; 20], IH], policy, rng(2))
}

/// (what the initiator sends, what the responder sends) in a real
/// exchange under `Prefer`.
fn streams() -> &'static (Vec<u8>, Vec<u8>) {
    static STREAMS: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    STREAMS.get_or_init(|| {
        let (mut i, mut r) = (initiator(Policy::Prefer), responder(Policy::Prefer));
        let ya = i.feed(&[]).unwrap().send;
        let yb = r.feed(&ya).unwrap().send;
        let step3 = i.feed(&yb).unwrap().send;
        let step4 = r.feed(&step3).unwrap().send;
        ([ya, step3].concat(), [yb, step4].concat())
    })
}

#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    sent: Vec<u8>,
    received: Vec<u8>,
    info_hash: Option<[u8; 20]>,
    rc4: Option<bool>,
    error: Option<MseError>,
}

fn drive(mut hs: MseHandshake, chunks: &[&[u8]]) -> Outcome {
    let mut out = Outcome {
        sent: Vec::new(),
        received: Vec::new(),
        info_hash: None,
        rc4: None,
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
                    let mut rest = all[n + 1..].concat();
                    out.rc4 = Some(est.cipher.is_some());
                    if let Some(mut c) = est.cipher {
                        c.decrypt.apply(&mut rest);
                    }
                    out.received.extend(rest);
                    assert!(hs.feed(b"x").is_err());
                    return out;
                }
            }
            Err(err) => {
                assert_eq!(hs.feed(b"x").unwrap_err(), err);
                assert_eq!(hs.buffered_len(), 0);
                out.sent.clear();
                out.error = Some(err);
                return out;
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let [config, hi, lo, rest @ ..] = data else {
        return;
    };
    let initiator_role = config & 0x80 != 0;
    let policy = match config & 3 {
        0 => Policy::Off,
        1 => Policy::Prefer,
        _ => Policy::Require,
    };
    let n = usize::from((config >> 2) & 0x1f).min(rest.len());
    let (sizes, tail) = rest.split_at(n);
    let (to_initiator, to_responder) = {
        let (i, r) = streams();
        (r, i)
    };
    let valid = if initiator_role {
        to_initiator
    } else {
        to_responder
    };
    let prefix = usize::from(u16::from_be_bytes([*hi, *lo])) % (valid.len() + 1);
    let mut stream = valid[..prefix].to_vec();
    if let (Some(last), Some(first)) = (stream.last_mut(), tail.first()) {
        *last ^= first;
    }
    stream.extend_from_slice(tail);

    let mut chunks = Vec::new();
    let mut at = 0;
    for &size in sizes.iter().cycle() {
        if at >= stream.len() || chunks.len() > stream.len() + sizes.len() {
            break;
        }
        let end = (at + usize::from(size)).min(stream.len());
        chunks.push(&stream[at..end]);
        at = end;
    }
    chunks.push(&stream[at..]);

    let make = || {
        if initiator_role {
            initiator(policy)
        } else {
            responder(policy)
        }
    };
    let whole = drive(make(), &[&stream]);
    assert_eq!(drive(make(), &chunks), whole);
});
