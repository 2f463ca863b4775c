//! The decoder fed any bytes cut anywhere.
//!
//! Input layout: byte 0 picks the maximum frame length (bit 7: the default;
//! else the low 6 bits, so that the limit is often hit) and whether a valid
//! handshake opens the stream (bit 6, so that message frames are reached
//! without guessing the protocol string); byte 1's low 5 bits are the count
//! `n` of the chunk sizes that follow (at most 16), bit 5 sets the fast bit
//! in that handshake and bit 6 in ours (`set_fast`), so that the fast
//! messages are reached when both are set; the next `n` bytes are chunk
//! sizes, used in turn (0 gives an empty input); the rest is the stream.
//!
//! Checked: no panic; the decoder never holds more than one frame (the
//! maximum frame length, or a handshake); positions stay inside the input;
//! the chunked decode, in gathering mode and in split mode (where this
//! target takes a straddling piece's block itself, as the Node binding
//! does), gives the same frames and error as the one-shot decode; after an
//! error the decoder stays spent.

#![no_main]

use libfuzzer_sys::fuzz_target;
use peer_wire_native::protocol::{
    DecodeError, Decoder, FrameKind, Handshake, Message, Origin, DEFAULT_MAX_FRAME_LEN,
    HANDSHAKE_LEN,
};

/// A frame owned, to compare decodes of differently cut inputs.
#[derive(Debug, PartialEq, Eq)]
enum Owned {
    Handshake(Handshake),
    Message(Vec<u8>),
}

fn decode_all(dec: &mut Decoder, chunks: &[&[u8]]) -> (Vec<Owned>, Option<DecodeError>) {
    let max = dec.max_frame_len() as usize;
    let bound = max + HANDSHAKE_LEN;
    let mut frames = Vec::new();
    // Split mode: a piece whose block this caller is taking (its head and
    // the bytes so far).
    let mut owed: Option<(u32, u32, usize, Vec<u8>)> = None;
    for chunk in chunks {
        let mut pos = 0;
        loop {
            if let Some((piece, offset, len, block)) = owed.as_mut() {
                let n = (*len - block.len()).min(chunk.len() - pos);
                block.extend_from_slice(&chunk[pos..pos + n]);
                pos += n;
                if block.len() < *len {
                    break;
                }
                let mut out = Vec::new();
                let m = Message::Piece {
                    piece: *piece,
                    offset: *offset,
                    block: &block[..],
                };
                m.encode(&mut out);
                frames.push(Owned::Message(out));
                owed = None;
            }
            let before = pos;
            let result = dec.decode(chunk, &mut pos);
            assert!(before <= pos && pos <= chunk.len());
            let frame = match result {
                Ok(Some(frame)) => frame,
                Ok(None) => {
                    assert_eq!(pos, chunk.len(), "need more only at the end");
                    assert!(dec.buffered_len() <= bound);
                    break;
                }
                Err(err) => {
                    assert_eq!(dec.buffered_len(), 0);
                    return (frames, Some(err));
                }
            };
            if let Origin::Input(at) = frame.origin {
                assert!(at >= before && at <= pos);
            }
            // Re-encoded, a frame is what was read: the handshake, a
            // keep-alive's length prefix, or a message's body.
            let mut out = Vec::new();
            let (owned, read) = match frame.kind {
                FrameKind::PieceStart {
                    piece,
                    offset,
                    block_len,
                } => {
                    assert!(dec.buffered_len() <= 9);
                    owed = Some((piece, offset, block_len as usize, Vec::new()));
                    continue;
                }
                FrameKind::Handshake(hs) => {
                    hs.encode(&mut out);
                    (Owned::Handshake(hs), &out[..])
                }
                FrameKind::Message(m) => {
                    m.encode(&mut out);
                    assert!(out.len() - 4 <= max);
                    let read = if m == Message::KeepAlive {
                        &out[..]
                    } else {
                        &out[4..]
                    };
                    (Owned::Message(out.clone()), read)
                }
            };
            let origin = frame.origin;
            match origin {
                Origin::Input(at) => assert_eq!(read, &chunk[at..pos]),
                // Gathered: what the decoder hands over is what was read
                // (nothing for a keep-alive, which has no body).
                Origin::Buffered => match dec.take_buffered() {
                    Some(body) => assert_eq!(read, &body[..]),
                    None => assert_eq!(read, [0, 0, 0, 0]),
                },
            }
            frames.push(owned);
            assert!(dec.buffered_len() <= bound);
        }
    }
    (frames, None)
}

fuzz_target!(|data: &[u8]| {
    let [config, n, rest @ ..] = data else {
        return;
    };
    let (peer_fast, ours_fast) = (n & 0x20 != 0, n & 0x40 != 0);
    let n = ((n & 0x1f) as usize % 17).min(rest.len());
    let (sizes, body) = rest.split_at(n);
    let max = if config & 0x80 != 0 {
        DEFAULT_MAX_FRAME_LEN
    } else {
        u32::from(config & 0x3f)
    };
    let mut stream = Vec::with_capacity(HANDSHAKE_LEN + body.len());
    if config & 0x40 != 0 {
        Handshake::new([0xaa; 20], [0xbb; 20], true)
            .with_fast(peer_fast)
            .encode(&mut stream);
    }
    stream.extend_from_slice(body);

    let mut chunks = Vec::new();
    let mut at = 0;
    for &size in sizes.iter().cycle() {
        // Zero sizes give empty inputs, but only so many.
        if at >= stream.len() || chunks.len() > stream.len() + sizes.len() {
            break;
        }
        let end = (at + size as usize).min(stream.len());
        chunks.push(&stream[at..end]);
        at = end;
    }
    chunks.push(&stream[at..]);

    let decoder = || {
        let mut dec = Decoder::new(max);
        dec.set_fast(ours_fast);
        dec
    };
    let whole = decode_all(&mut decoder(), &[&stream]);
    let mut split = decoder();
    split.set_split_pieces(true);
    assert_eq!(decode_all(&mut split, &chunks), whole);
    let mut dec = decoder();
    let chunked = decode_all(&mut dec, &chunks);
    assert_eq!(chunked, whole);
    if let Some(err) = whole.1 {
        assert_eq!(dec.decode(body, &mut 0), Err(err.clone()));
        assert_eq!(dec.decode(&[], &mut 0), Err(err));
        assert_eq!(dec.buffered_len(), 0);
    }
});
