//! The MSE crossing's tests: sessions against each other, and the
//! receiver's decryption of new chunks.

use super::*;
use crate::batch::{
    Receiver, FLAG_BUFFERED, FLAG_SPLIT, KIND_ERROR, KIND_HANDSHAKE, KIND_MASK, RECORD_HEADER,
    RECORD_STRIDE,
};
use crate::protocol::{Handshake, Message, MessageId, Request, DEFAULT_MAX_FRAME_LEN};

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
    let end = enc
        .encode_ops(&mut out, 3, &ops, 2, &payloads, &[])
        .unwrap() as usize;
    let mut wire = out[3..end].to_vec();
    assert_ne!(&wire[1..20], b"BitTorrent protocol");
    let mut records = vec![0u8; (RECORD_HEADER + 4 * RECORD_STRIDE) * 4];
    receiver.receive_new(&mut wire, 0, &mut records).unwrap();
    assert_eq!(&wire[1..20], b"BitTorrent protocol", "decrypted in place");
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

/// A session in plaintext: a handshake, many small messages (more than a
/// call's records), pieces with blocks of several sizes, a gathered
/// extended message.
fn plaintext_session() -> Vec<u8> {
    let mut out = Vec::new();
    Handshake::new(IH, [9; ID_LEN], true).encode(&mut out);
    for i in 0..12 {
        Message::<&[u8]>::Have(i).encode(&mut out);
    }
    let block: Vec<u8> = (0..300u32).map(|n| (n * 7) as u8).collect();
    for (i, len) in [0usize, 1, 40, 300].into_iter().enumerate() {
        Message::Piece {
            piece: i as u32,
            offset: 16,
            block: &block[..len],
        }
        .encode(&mut out);
        Message::<&[u8]>::Request(Request::new(i as u32, 0, 9)).encode(&mut out);
    }
    Message::Extended {
        id: 1,
        payload: &b"d1:ai1ee"[..],
    }
    .encode(&mut out);
    Message::<&[u8]>::Choke.encode(&mut out);
    out
}

/// What a receiver hands on for `chunks`, as `lib/receiver.js` drives it:
/// the first call on each chunk is `receive_new`, the rest `receive` (from
/// where the last stopped, `capacity` records a call); a block split off
/// is taken by the caller, and a new chunk that starts inside one is
/// decoded from the block's end first (the call that decrypts it), the
/// block taken after. Each message comes as `(kind, a, b, bytes)`.
fn handed_on(
    rx: &mut Receiver,
    chunks: &mut [Vec<u8>],
    capacity: usize,
) -> Vec<(u32, u32, u32, Vec<u8>)> {
    let mut got = Vec::new();
    let mut out = vec![0u8; (RECORD_HEADER + capacity * RECORD_STRIDE) * 4];
    let word = |r: &[u8], i: usize| u32::from_ne_bytes(r[i * 4..][..4].try_into().unwrap());
    // A block split off: its piece, offset, length, and its bytes so far.
    let mut owed: Option<(u32, u32, usize, Vec<u8>)> = None;
    for chunk in chunks.iter_mut() {
        let (mut from, mut fresh) = (0, true);
        while from < chunk.len() || fresh {
            let block_at = from;
            if let Some((_, _, len, block)) = &owed {
                from = (from + len - block.len()).min(chunk.len());
            }
            let mut count = 0;
            let mut gathered = None;
            if from < chunk.len() || fresh {
                gathered = if fresh {
                    rx.receive_new(chunk, from as u32, &mut out)
                } else {
                    rx.receive(chunk, from as u32, &mut out)
                }
                .unwrap();
                fresh = false;
                (count, from) = (word(&out, 0) as usize, word(&out, 1) as usize);
            }
            if let Some((piece, offset, len, mut block)) = owed.take() {
                block.extend_from_slice(
                    &chunk[block_at..(block_at + len - block.len()).min(chunk.len())],
                );
                match block.len() == len {
                    true => got.push((MessageId::Piece as u32, piece, offset, block)),
                    false => owed = Some((piece, offset, len, block)),
                }
            }
            for r in 0..count {
                let w = |i| word(&out, RECORD_HEADER + r * RECORD_STRIDE + i);
                let (kind, a, b, c, d) = (w(0), w(1), w(2), w(3) as usize, w(4) as usize);
                if kind & FLAG_SPLIT != 0 {
                    owed = Some((a, b, c, Vec::new()));
                    continue;
                }
                let source = match kind & FLAG_BUFFERED {
                    0 => &chunk[..],
                    _ => gathered.as_deref().unwrap(),
                };
                let bytes = match kind & KIND_MASK {
                    KIND_HANDSHAKE => source[c..d + ID_LEN].to_vec(),
                    7 | 20 => source[c..c + d].to_vec(),
                    _ => Vec::new(),
                };
                got.push((kind & KIND_MASK, a, b, bytes));
                if kind == KIND_ERROR {
                    return got; // nothing is decoded after it
                }
            }
        }
    }
    assert!(owed.is_none(), "every block whole");
    got
}

/// `plain` encrypted as a peer would send it, and a receiver that decrypts it.
fn encrypted(plain: &[u8]) -> (Vec<u8>, Receiver) {
    let mut wire = plain.to_vec();
    Rc4::new(b"a key of the peer's").apply(&mut wire);
    let mut rx = Receiver::new(DEFAULT_MAX_FRAME_LEN);
    rx.set_decrypt(Rc4::new(b"a key of the peer's"));
    (wire, rx)
}

#[test]
fn a_new_chunk_is_decrypted_once_however_many_calls_decode_it() {
    let plain = plaintext_session();
    let want = handed_on(
        &mut Receiver::new(DEFAULT_MAX_FRAME_LEN),
        &mut [plain.clone()],
        256,
    );
    assert_eq!(want.len(), 1 + 12 + 8 + 2);
    assert_eq!(want[0].3[..ID_LEN], IH, "the handshake's info hash");
    // One record a call: decoding the chunk resumes in it 20 times and more.
    for capacity in [1, 2, 256] {
        let (wire, mut rx) = encrypted(&plain);
        let mut chunks = [wire];
        assert_eq!(handed_on(&mut rx, &mut chunks, capacity), want);
        assert_eq!(chunks[0], plain, "decrypted in place, once");
    }
    // Nothing decoded: the chunk is still decrypted, in order.
    let (wire, mut rx) = encrypted(&plain);
    let mut first = wire[..30].to_vec();
    let mut out = vec![0u8; RECORD_HEADER * 4];
    rx.receive_new(&mut first, 0, &mut out).unwrap();
    assert_eq!(first, plain[..30]);
    let mut rest = wire[30..].to_vec();
    rx.receive_new(&mut rest, 0, &mut out).unwrap();
    assert_eq!(rest, plain[30..]);
}

#[test]
fn an_encrypted_session_cut_at_every_point_hands_on_the_same() {
    let plain = plaintext_session();
    let want = handed_on(
        &mut Receiver::new(DEFAULT_MAX_FRAME_LEN),
        &mut [plain.clone()],
        256,
    );
    for cut in 0..=plain.len() {
        let (wire, mut rx) = encrypted(&plain);
        let mut chunks = [wire[..cut].to_vec(), wire[cut..].to_vec()];
        assert_eq!(handed_on(&mut rx, &mut chunks, 4), want, "cut at {cut}");
        assert_eq!(chunks.concat(), plain);
    }
    // And byte by byte.
    let (wire, mut rx) = encrypted(&plain);
    let mut chunks: Vec<Vec<u8>> = wire.iter().map(|&b| vec![b]).collect();
    assert_eq!(handed_on(&mut rx, &mut chunks, 4), want);
}

#[test]
fn a_bad_record_buffer_leaves_the_chunk_and_the_stream_as_they_were() {
    let plain = plaintext_session();
    let (wire, mut rx) = encrypted(&plain);
    let mut chunk = wire.clone();
    assert_eq!(
        rx.receive_new(&mut chunk, 0, &mut [0u8; 7]),
        Err(BatchError::RecordsTooSmall)
    );
    assert_eq!(chunk, wire, "not decrypted");
    let mut chunks = [chunk];
    let want = handed_on(&mut Receiver::new(DEFAULT_MAX_FRAME_LEN), &mut [plain], 8);
    assert_eq!(handed_on(&mut rx, &mut chunks, 8), want);
}

#[test]
fn a_block_goes_encrypted_right_after_its_header_and_is_left_as_it_is() {
    let key = b"our key";
    let block: Vec<u8> = (0..1000u32).map(|n| n as u8).collect();
    let piece = [MessageId::Piece as u32, 3, 16, block.len() as u32];
    let have = [MessageId::Have as u32, 9, 0, 0];
    let ops: Vec<u32> = have.iter().chain(&piece).copied().collect();
    let mut enc = Encryptor(Rc4::new(key));
    let mut out = vec![0u8; 1100];
    let end = enc.encode_ops(&mut out, 5, &ops, 2, &[], &block).unwrap() as usize;
    assert_eq!(end, 5 + 9 + 13 + block.len());
    assert_eq!(block, (0..1000u32).map(|n| n as u8).collect::<Vec<_>>());
    let mut plain = Vec::new();
    Message::<&[u8]>::Have(9).encode(&mut plain);
    Message::Piece {
        piece: 3,
        offset: 16,
        block: &block[..],
    }
    .encode(&mut plain);
    let mut sent = out[5..end].to_vec();
    Rc4::new(key).apply(&mut sent);
    assert_eq!(sent, plain);
    // The stream goes on from there.
    let mut next = vec![0u8; 20];
    let at = enc.encode_ops(&mut next, 0, &have, 1, &[], &[]).unwrap() as usize;
    let mut both = Rc4::new(key);
    both.apply(&mut vec![0u8; plain.len()]);
    both.apply(&mut next[..at]);
    assert_eq!(next[..at], plain[..9]);

    // No room for the block: an error, and the stream has not moved.
    let mut small = vec![0u8; 100];
    assert_eq!(
        enc.encode_ops(&mut small, 0, &ops, 2, &[], &block),
        Err(BatchError::OutputTooSmall)
    );
    let mut after = vec![0u8; 20];
    let at = enc.encode_ops(&mut after, 0, &have, 1, &[], &[]).unwrap() as usize;
    both.apply(&mut after[..at]);
    assert_eq!(after[..at], plain[..9]);
}
