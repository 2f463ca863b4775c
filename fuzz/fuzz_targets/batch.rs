//! The record/op format that crosses to JavaScript (`peer_wire_native::batch`),
//! fed any bytes and any ops.
//!
//! Input layout: byte 0's low 3 bits pick the record capacity of each call
//! (0 to 7 records, so that a chunk often needs several calls), bit 3 whether
//! a valid handshake opens the stream; byte 1's low 5 bits are the count `n`
//! of chunk sizes that follow (at most 16), bit 5 sets the fast bit in that
//! handshake and bit 6 tells the receiver ours set it too (so that fast
//! records are reached), then `n` chunk sizes; then, in one stream, the
//! peer's bytes. The same input is also read as ops: words of 4 bytes,
//! the last 64 bytes as inline payloads, into an output of a size the input
//! picks.
//!
//! Checked, receiving: no panic; the same receiver kept as the JavaScript
//! side keeps it (its packed word while it packs, itself while a call says
//! it holds something) gives the same records, gathered bytes and error, call by call; every record's offsets lie inside the
//! chunk or the gathered bytes it points into; the position moves forward
//! and stays in the chunk; a split piece, a handshake and an error are the
//! last record of a call; fast records come only when both handshakes set
//! fast; an error's violation can be taken once, and nothing is decoded
//! after it; a call with room for records either makes one or uses the
//! whole chunk. Encoding: no panic; `Ok(end)` lies inside the output; an
//! error leaves the output untouched.

#![no_main]

use libfuzzer_sys::fuzz_target;
use peer_wire_native::batch::{
    encode_ops_cut, Receiver, FLAG_BUFFERED, FLAG_SPLIT, KIND_ERROR, KIND_HANDSHAKE, KIND_MASK,
    RECEIVER_HELD, RECORD_HEADER, RECORD_STRIDE, REJECT_BODY_LEN,
};
use peer_wire_native::protocol::{Handshake, MessageId, DEFAULT_MAX_FRAME_LEN};

fn word(out: &[u8], i: usize) -> u32 {
    u32::from_ne_bytes(out[i * 4..i * 4 + 4].try_into().unwrap())
}

/// A receiver as the JavaScript side keeps it: its packed word while it
/// packs, the receiver itself while a call says it holds something.
enum Kept {
    Word(u32),
    Own(Receiver),
}

impl Kept {
    fn receive(&mut self, chunk: &[u8], from: u32, out: &mut [u8]) -> Option<Vec<u8>> {
        let gathered = match self {
            Kept::Own(rx) => rx.receive(chunk, from, out).unwrap(),
            Kept::Word(state) => {
                if let Some(rx) =
                    Receiver::receive_packed(*state, DEFAULT_MAX_FRAME_LEN, chunk, from, out)
                        .unwrap()
                {
                    *self = Kept::Own(rx);
                }
                None
            }
        };
        let state = word(out, 2);
        if state == RECEIVER_HELD {
            assert!(matches!(self, Kept::Own(_)), "held, so handed back");
        } else {
            *self = Kept::Word(state);
        }
        gathered
    }
}

/// Receives one chunk, checking every call's records.
/// `owed` is what a split piece's block still lacks, taken here as the
/// JavaScript side takes it.
fn receive_chunk(
    rx: &mut Receiver,
    kept: &mut Kept,
    chunk: &[u8],
    capacity: usize,
    owed: &mut usize,
    failed: &mut bool,
    fast: bool,
) {
    let mut out = vec![0u8; (RECORD_HEADER + capacity * RECORD_STRIDE) * 4];
    let mut kept_out = out.clone();
    let mut from = 0usize;
    for _ in 0..=chunk.len() + 1 {
        let take = (*owed).min(chunk.len() - from);
        from += take;
        *owed -= take;
        if *owed > 0 || from == chunk.len() {
            return;
        }
        let gathered = rx.receive(chunk, from as u32, &mut out).unwrap();
        let count = word(&out, 0) as usize;
        let position = word(&out, 1) as usize;
        assert_eq!(kept.receive(chunk, from as u32, &mut kept_out), gathered);
        let records = RECORD_HEADER * 4..(RECORD_HEADER + count * RECORD_STRIDE) * 4;
        assert_eq!(&out[..8], &kept_out[..8], "the same count and position");
        assert_eq!(&out[records.clone()], &kept_out[records]);
        if let Kept::Word(state) = kept {
            assert_eq!(Some(*state), rx.packed(), "the word the receiver packs to");
        }
        assert!(count <= capacity);
        assert!(position >= from && position <= chunk.len());
        if *failed {
            // Spent: the same error again, nothing else.
            assert!(count <= 1);
        }
        for r in 0..count {
            let at = RECORD_HEADER + r * RECORD_STRIDE;
            let kind = word(&out, at);
            let last = r + 1 == count;
            if kind & FLAG_SPLIT != 0 {
                assert!(last, "a split piece is the last record");
                assert_eq!(word(&out, at + 4) as usize, position);
                *owed = word(&out, at + 3) as usize;
                continue;
            }
            if kind == KIND_ERROR {
                assert!(last, "an error is the last record");
                let Kept::Own(other) = kept else {
                    panic!("a violation hands the receiver back");
                };
                let err = rx.take_error();
                assert!(err.is_some());
                assert_eq!(other.take_error(), err);
                assert!(rx.take_error().is_none());
                *failed = true;
                continue;
            }
            let source_len = if kind & FLAG_BUFFERED != 0 {
                gathered
                    .as_ref()
                    .expect("buffered records come with bytes")
                    .len()
            } else {
                chunk.len()
            };
            let (c, d) = (word(&out, at + 3) as usize, word(&out, at + 4) as usize);
            let id = kind & KIND_MASK;
            if (13..=17).contains(&id) {
                assert!(fast, "fast records only when both handshakes set fast");
            }
            if id == KIND_HANDSHAKE {
                assert!(last, "a handshake is the last record of its call");
                assert!(c + 20 <= source_len && d + 20 <= source_len);
            } else if id == 16 {
                // A reject: its request, then where its body lies.
                assert!(
                    d + REJECT_BODY_LEN as usize <= source_len,
                    "body inside its source"
                );
            } else if id == MessageId::Request as u32 || id == MessageId::Cancel as u32 {
                // [piece, offset, length]: no payload to point at.
            } else {
                assert!(c + d <= source_len, "payload inside its source");
            }
        }
        if *failed {
            // As the JavaScript side: nothing more is fed after an error (a
            // spent receiver answers again without moving on).
            return;
        }
        if capacity > 0 && count == 0 {
            assert_eq!(
                position,
                chunk.len(),
                "no record means the chunk is used up"
            );
            return;
        }
        from = position;
    }
    panic!("the receiver made no progress");
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let capacity = (data[0] & 7) as usize;
    let handshake = data[0] & 8 != 0;
    let n = ((data[1] & 0x1f) as usize).min(16);
    let (peer_fast, ours_fast) = (data[1] & 0x20 != 0, data[1] & 0x40 != 0);
    let Some(sizes) = data.get(2..2 + n) else {
        return;
    };
    let body = &data[2 + n..];
    let mut stream = Vec::new();
    if handshake {
        Handshake::new([1; 20], [2; 20], true)
            .with_fast(peer_fast)
            .encode(&mut stream);
    }
    stream.extend_from_slice(body);

    let mut rx = Receiver::new(DEFAULT_MAX_FRAME_LEN);
    rx.set_fast(ours_fast);
    let mut kept = Kept::Word(rx.packed().expect("a new receiver packs"));
    let mut failed = false;
    let mut owed = 0;
    let mut rest = &stream[..];
    let mut i = 0;
    while !rest.is_empty() {
        let size = if sizes.is_empty() {
            rest.len()
        } else {
            (sizes[i % sizes.len()] as usize).min(rest.len())
        };
        i += 1;
        let (chunk, after) = rest.split_at(size);
        if capacity > 0 {
            // Without our handshake first, the input may bring its own.
            let fast = ours_fast && (peer_fast || !handshake);
            receive_chunk(
                &mut rx,
                &mut kept,
                chunk,
                capacity,
                &mut owed,
                &mut failed,
                fast,
            );
        }
        rest = after;
        if i > 4096 {
            break;
        }
    }

    // The same bytes as ops.
    let (words, payloads) = body.split_at(body.len().saturating_sub(64));
    let ops: Vec<u32> = words
        .chunks_exact(4)
        .map(|w| u32::from_le_bytes(w.try_into().unwrap()))
        .collect();
    let count = (ops.len() / 4) as u32;
    let size = data[1] as usize * 16;
    let mut out = vec![0xa5u8; size];
    let at = (data[0] >> 4) as u32;
    let mut ends = vec![0u32; usize::from(data[0] & 3)];
    match encode_ops_cut(&mut out, at, &ops, count, payloads, &mut ends) {
        Ok(end) => {
            assert!(end as usize <= out.len() && end >= at);
            // Where payloads go: in order, inside what was written.
            let cuts = ends.iter().filter(|&&e| e != 0);
            assert!(cuts.clone().all(|&e| e > at && e <= end));
            assert!(cuts.clone().zip(cuts.skip(1)).all(|(a, b)| a <= b));
        }
        Err(_) => assert!(
            out.iter().all(|&b| b == 0xa5),
            "nothing written on an error"
        ),
    }
});
