//! Tests of the decoder: whole sessions cut at every point, the bounds on
//! what it holds and copies, and properties over any bytes cut anywhere.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;

use super::*;
use crate::protocol::handshake::tests::any_handshake;
use crate::protocol::message::tests::{any_message, every_message};
use crate::protocol::message::Request;

// ---- copies ----------------------------------------------------------------
//
// The decoder copies a byte when it gathers it from an input into its
// buffer, and again whenever growing the buffer moves it. Gathering takes
// each input byte at most once (`gather` copies from `input[*pos..]` and
// moves `*pos` past what it copied), so a decode's copies are at most its
// input's length plus the bytes its reallocations move, which this
// allocator counts, on the decoding thread, inside `decode` only.

/// The system allocator, counting the bytes `realloc` is handed to move
/// while this thread runs [`decode`].
struct CountMoves;

thread_local! {
    static DECODING: Cell<bool> = const { Cell::new(false) };
    static MOVED: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is passed on to `System` unchanged; the counting
// touches only const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for CountMoves {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if DECODING.try_with(Cell::get).unwrap_or(false) {
            let _ = MOVED.try_with(|moved| moved.set(moved.get() + layout.size().min(new_size)));
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountMoves = CountMoves;

thread_local! {
    /// [`decode`] tries [`Decoder::decode_whole`] first, as the batch
    /// receiver does.
    static WHOLE_FIRST: Cell<bool> = const { Cell::new(false) };
}

/// `dec.decode(input, pos)`, with the bytes it moves counted in [`moved`];
/// with [`WHOLE_FIRST`], after `dec.decode_whole(input, pos)`.
fn decode<'a>(
    dec: &'a mut Decoder,
    input: &'a [u8],
    pos: &mut usize,
) -> Result<Option<Frame<'a>>, DecodeError> {
    if WHOLE_FIRST.get() {
        if let Some((m, at)) = dec.decode_whole(input, pos) {
            let (kind, origin) = (FrameKind::Message(m), Origin::Input(at));
            return Ok(Some(Frame { kind, origin }));
        }
    }
    DECODING.set(true);
    let result = dec.decode(input, pos);
    DECODING.set(false);
    result
}

/// `decode_all` with [`WHOLE_FIRST`] set.
fn decode_all_whole_first(
    dec: &mut Decoder,
    chunks: &[&[u8]],
) -> (Vec<Owned>, Option<DecodeError>) {
    WHOLE_FIRST.set(true);
    let result = decode_all(dec, chunks);
    WHOLE_FIRST.set(false);
    result
}

/// Bytes the decoders' reallocations moved on this thread, over every
/// [`decode`] so far.
fn moved() -> usize {
    MOVED.get()
}

/// The most bytes a decode of `input_len` bytes that moved `moved` bytes
/// can have copied.
fn copies(input_len: usize, moved: usize) -> usize {
    input_len + moved
}

/// An owned copy of a frame, to compare decodes of differently cut inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Owned {
    Handshake(Handshake),
    Message(Vec<u8>),
}

fn owned(frame: &Frame<'_>) -> Owned {
    match frame.kind {
        FrameKind::Handshake(hs) => Owned::Handshake(hs),
        FrameKind::Message(m) => encoded(m),
        FrameKind::PieceStart { .. } => panic!("a piece start is completed by its caller"),
    }
}

fn encoded(m: Message<&[u8]>) -> Owned {
    let mut out = Vec::new();
    m.encode(&mut out);
    Owned::Message(out)
}

/// A piece whose block the caller is taking (split mode).
struct Owed {
    piece: u32,
    offset: u32,
    len: usize,
    block: Vec<u8>,
}

impl Owed {
    /// Takes what the block still lacks from `chunk[*pos..]`; the whole
    /// piece once it is complete.
    fn take(&mut self, chunk: &[u8], pos: &mut usize) -> Option<Owned> {
        let n = (self.len - self.block.len()).min(chunk.len() - *pos);
        self.block.extend_from_slice(&chunk[*pos..*pos + n]);
        *pos += n;
        (self.block.len() == self.len).then(|| {
            encoded(Message::Piece {
                piece: self.piece,
                offset: self.offset,
                block: &self.block,
            })
        })
    }
}

/// Checks what the decoder holds against its limit: never more than one
/// frame's bytes, buffered or allocated.
fn assert_bounded(dec: &Decoder) {
    let bound = dec.max_frame_len() as usize + HANDSHAKE_LEN;
    assert!(
        dec.buffered_len() <= bound,
        "{} buffered",
        dec.buffered_len()
    );
    assert!(
        dec.partial.capacity() <= bound,
        "{} allocated",
        dec.partial.capacity()
    );
}

/// Decodes `chunks` one after another, returning the frames or the error,
/// and checks the decoder's bounds after every call.
fn decode_all(dec: &mut Decoder, chunks: &[&[u8]]) -> (Vec<Owned>, Option<DecodeError>) {
    let mut frames = Vec::new();
    // In split mode: the piece whose block this caller is taking.
    let mut owed: Option<Owed> = None;
    for chunk in chunks {
        let mut pos = 0;
        loop {
            if let Some(piece) = owed.as_mut() {
                match piece.take(chunk, &mut pos) {
                    Some(frame) => {
                        frames.push(frame);
                        owed = None;
                    }
                    None => break,
                }
            }
            let result = decode(dec, chunk, &mut pos);
            assert!(pos <= chunk.len());
            match result {
                Ok(Some(frame)) => {
                    if let Origin::Input(at) = frame.origin {
                        assert!(at < chunk.len() || chunk.is_empty());
                    }
                    if let FrameKind::PieceStart {
                        piece,
                        offset,
                        block_len,
                    } = frame.kind
                    {
                        let len = block_len as usize;
                        let block = Vec::with_capacity(len);
                        owed = Some(Owed {
                            piece,
                            offset,
                            len,
                            block,
                        });
                    } else {
                        frames.push(owned(&frame));
                    }
                }
                Ok(None) => {
                    assert_eq!(pos, chunk.len());
                    assert_bounded(dec);
                    break;
                }
                Err(err) => {
                    assert_bounded(dec);
                    return (frames, Some(err));
                }
            }
            assert_bounded(dec);
        }
    }
    (frames, None)
}

/// A session with every kind of frame.
fn session() -> (Vec<u8>, Vec<Owned>) {
    let hs = Handshake::new([0xaa; 20], *b"-PW0001-123456789012", true).with_fast(true);
    let messages = every_message();
    let mut bytes = Vec::new();
    hs.encode(&mut bytes);
    let mut expected = vec![Owned::Handshake(hs)];
    for m in messages {
        let start = bytes.len();
        m.encode(&mut bytes);
        expected.push(Owned::Message(bytes[start..].to_vec()));
    }
    (bytes, expected)
}

/// A decoder in each mode: gathering straddling pieces, or splitting
/// them off to the caller.
/// Both with the fast extension negotiated when the peer's handshake sets
/// it (the session's does).
fn decoders() -> [Decoder; 2] {
    let mut split = Decoder::default();
    split.set_split_pieces(true);
    let mut gather = Decoder::default();
    for dec in [&mut gather, &mut split] {
        dec.set_fast(true);
    }
    [gather, split]
}

#[test]
fn whole_session_in_one_input() {
    let (bytes, expected) = session();
    for mut dec in decoders() {
        let (frames, err) = decode_all(&mut dec, &[&bytes]);
        assert_eq!(err, None);
        assert_eq!(frames, expected);
    }
}

#[test]
fn whole_session_split_at_every_point() {
    let (bytes, expected) = session();
    for split in [false, true] {
        for cut in 0..=bytes.len() {
            let (a, b) = bytes.split_at(cut);
            let mut dec = Decoder::default();
            dec.set_split_pieces(split);
            dec.set_fast(true);
            let (frames, err) = decode_all(&mut dec, &[a, b]);
            assert_eq!(err, None, "cut at {cut}, split {split}");
            assert_eq!(frames, expected, "cut at {cut}, split {split}");
        }
    }
}

#[test]
fn whole_session_byte_by_byte_and_at_every_pair_of_points() {
    let (bytes, expected) = session();
    for split in [false, true] {
        let single: Vec<&[u8]> = bytes.chunks(1).collect();
        let mut dec = Decoder::default();
        dec.set_split_pieces(split);
        assert_eq!(decode_all(&mut dec, &single).0, expected);
        for i in (0..bytes.len()).step_by(7) {
            for j in i..bytes.len() {
                let chunks = [&bytes[..i], &bytes[i..j], &bytes[j..]];
                let mut dec = Decoder::default();
                dec.set_split_pieces(split);
                let (frames, err) = decode_all(&mut dec, &chunks);
                assert_eq!(err, None);
                assert_eq!(frames, expected, "cuts at {i} and {j}, split {split}");
            }
        }
    }
}

/// The messages of `chunks` (after a handshake), owned.
fn messages_of(dec: &mut Decoder, chunks: &[&[u8]]) -> Result<Vec<Message<Vec<u8>>>, DecodeError> {
    let mut messages = Vec::new();
    for chunk in chunks {
        let mut pos = 0;
        while let Some(frame) = decode(dec, chunk, &mut pos)? {
            match frame.kind {
                FrameKind::Message(m) => messages.push(m.map(<[u8]>::to_vec)),
                FrameKind::Handshake(_) => {}
                FrameKind::PieceStart { .. } => panic!("no piece here"),
            }
        }
    }
    Ok(messages)
}

#[test]
fn fast_messages_are_read_as_such_only_when_both_handshakes_set_fast() {
    let fast: [Message<Vec<u8>>; 5] = [
        Message::Suggest(3),
        Message::HaveAll,
        Message::HaveNone,
        Message::Reject(Request::new(1, 16384, 16384)),
        Message::AllowedFast(u32::MAX),
    ];
    for (peer_fast, ours_fast) in [(false, false), (true, false), (true, true)] {
        let mut bytes = Vec::new();
        Handshake::new([1; 20], [2; 20], true)
            .with_fast(peer_fast)
            .encode(&mut bytes);
        let mut expected = Vec::new();
        for m in &fast {
            let start = bytes.len();
            m.encode(&mut bytes);
            expected.push(if peer_fast && ours_fast {
                m.clone()
            } else {
                // 0.7.1's reading: the id and the body after it, as data.
                Message::Unknown {
                    id: bytes[start + 4],
                    payload: bytes[start + 5..].to_vec(),
                }
            });
        }
        for split in [false, true] {
            for cut in 0..=bytes.len() {
                let mut dec = Decoder::default();
                dec.set_split_pieces(split);
                dec.set_fast(ours_fast);
                let (a, b) = bytes.split_at(cut);
                let got = messages_of(&mut dec, &[a, b]);
                let fast = (peer_fast, ours_fast);
                assert_eq!(got.as_ref(), Ok(&expected), "cut at {cut}, fast {fast:?}");
            }
        }
    }
}

/// Hostile: a fast message of the wrong length is a protocol error when
/// both handshakes set the fast bit, a fast message at all when only ours
/// did, and an unknown message when ours did not (so a peer cannot make a
/// decoder that did not ask for fast, 0.7.1's reading, fail with one).
#[test]
fn a_fast_message_of_the_wrong_length_fails_only_when_fast_is_negotiated() {
    let bad: [(&[u8], &str); 5] = [
        (&[0, 0, 0, 4, 13, 0, 0, 1], "suggest"),
        (&[0, 0, 0, 2, 14, 0], "have-all"),
        (&[0, 0, 0, 5, 15, 0, 0, 0, 0], "have-none"),
        (&[0, 0, 0, 1, 16], "reject"),
        (&[0, 0, 0, 6, 17, 0, 0, 0, 1, 2], "allowed-fast"),
    ];
    for (frame, name) in bad {
        for (peer_fast, ours_fast) in [(false, true), (true, false), (true, true)] {
            let mut bytes = Vec::new();
            Handshake::new([1; 20], [2; 20], false)
                .with_fast(peer_fast)
                .encode(&mut bytes);
            bytes.extend_from_slice(frame);
            bytes.extend_from_slice(&[0, 0, 0, 1, 2]); // interested
            for mut dec in decoders() {
                dec.set_fast(ours_fast);
                let got = messages_of(&mut dec, &[&bytes]);
                if peer_fast && ours_fast {
                    let err = got.unwrap_err();
                    assert_eq!(err.code(), "ERR_PEER_WIRE_BAD_LENGTH");
                    assert!(matches!(err, DecodeError::BadLength { name: n, .. } if n == name));
                } else if ours_fast {
                    let err = got.unwrap_err();
                    assert_eq!(err.code(), "ERR_PEER_WIRE_FAST_NOT_NEGOTIATED");
                    assert!(
                        matches!(err, DecodeError::FastNotNegotiated { name: n, .. } if n == name)
                    );
                } else {
                    let unknown = Message::Unknown {
                        id: frame[4],
                        payload: frame[5..].to_vec(),
                    };
                    assert_eq!(got, Ok(vec![unknown, Message::Interested]));
                }
            }
        }
    }
}

/// A decoder in split mode that has read a handshake.
fn split_after_handshake() -> Decoder {
    let mut dec = Decoder::default();
    dec.set_split_pieces(true);
    let mut hs = Vec::new();
    Handshake::new([1; 20], [2; 20], false).encode(&mut hs);
    assert!(dec.decode(&hs, &mut 0).unwrap().is_some());
    dec
}

#[test]
fn a_split_piece_leaves_its_block_to_the_caller() {
    let mut bytes = Vec::new();
    let block = [7u8; 100];
    Message::Piece {
        piece: 3,
        offset: 16384,
        block: &block[..],
    }
    .encode(&mut bytes);
    Message::<&[u8]>::Have(9).encode(&mut bytes);
    let mut dec = split_after_handshake();
    // the head arrives, then part of the block
    let mut pos = 0;
    let head = dec.decode(&bytes[..20], &mut pos).unwrap().map(|f| f.kind);
    let start = FrameKind::PieceStart {
        piece: 3,
        offset: 16384,
        block_len: 100,
    };
    assert_eq!(head, Some(start));
    assert_eq!(pos, 13);
    assert_eq!(dec.buffered_len(), 0);
    // the caller took the block: the rest decodes from after it
    let mut pos = 113;
    let have = dec.decode(&bytes, &mut pos).unwrap().map(|f| f.kind);
    assert_eq!(have, Some(FrameKind::Message(Message::Have(9))));
    // whole in the input, a piece is an ordinary borrowed frame
    let mut pos = 0;
    let frame = dec.decode(&bytes, &mut pos).unwrap().unwrap();
    assert_eq!(frame.origin, Origin::Input(4));
    assert!(
        matches!(frame.kind, FrameKind::Message(Message::Piece { block: b, .. }) if b == &block[..])
    );
}

#[test]
fn a_split_piece_still_has_its_length_checked() {
    let mut dec = split_after_handshake();
    // a piece body of 8 bytes is too short, even when it straddles
    assert_eq!(dec.decode(&[0, 0, 0, 8, 7, 0, 0], &mut 0), Ok(None));
    let err = dec.decode(&[0, 0, 0, 0, 0], &mut 0).unwrap_err();
    assert_eq!(err.code(), "ERR_PEER_WIRE_BAD_LENGTH");
}

#[test]
fn frames_inside_the_input_are_borrowed() {
    let (bytes, _) = session();
    let mut dec = Decoder::default();
    let mut pos = 0;
    let mut count = 0;
    while let Some(frame) = dec.decode(&bytes, &mut pos).unwrap() {
        assert!(matches!(frame.origin, Origin::Input(_)));
        if let FrameKind::Message(m) = frame.kind {
            let payload = m.payload();
            if !payload.is_empty() {
                let range = bytes.as_ptr_range();
                assert!(range.contains(&payload.as_ptr()));
            }
        }
        count += 1;
    }
    assert_eq!(count, 19);
    assert_eq!(dec.buffered_len(), 0);
}

#[test]
fn a_straddling_frame_is_buffered_once_and_can_be_taken() {
    let mut bytes = Vec::new();
    Handshake::new([1; 20], [2; 20], false).encode(&mut bytes);
    let block = [7u8; 1000];
    Message::Piece {
        piece: 3,
        offset: 16,
        block: &block,
    }
    .encode(&mut bytes);
    let mut dec = Decoder::default();
    let mut pos = 0;
    let first = &bytes[..500];
    assert!(matches!(
        dec.decode(first, &mut pos).unwrap().unwrap().kind,
        FrameKind::Handshake(_)
    ));
    assert_eq!(dec.decode(first, &mut pos).unwrap(), None);
    let rest = &bytes[500..];
    let mut pos = 0;
    let frame = dec.decode(rest, &mut pos).unwrap().unwrap();
    assert_eq!(frame.origin, Origin::Buffered);
    assert_eq!(pos, rest.len());
    let body = dec.take_buffered().unwrap();
    assert_eq!(body.len(), 1009);
    assert_eq!(dec.take_buffered(), None);
    assert_eq!(&body[9..], &block[..]);
}

#[test]
fn oversized_frame_is_rejected_from_its_prefix() {
    let mut dec = Decoder::new(1024);
    let mut bytes = Vec::new();
    Handshake::new([1; 20], [2; 20], false).encode(&mut bytes);
    bytes.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]);
    let (frames, err) = decode_all(&mut dec, &[&bytes]);
    assert_eq!(frames.len(), 1);
    let err = err.unwrap();
    assert_eq!(
        err,
        DecodeError::FrameTooLarge {
            length: u32::MAX,
            max: 1024
        }
    );
    assert_eq!(err.code(), "ERR_PEER_WIRE_FRAME_TOO_LARGE");
    assert_eq!(dec.buffered_len(), 0);
    // Spent: the same error again.
    assert_eq!(dec.decode(&[0], &mut 0).unwrap_err(), err);
}

#[test]
fn wrong_protocol_is_rejected_on_its_first_byte() {
    let mut dec = Decoder::default();
    let err = dec.decode(b"GET / HTTP/1.1", &mut 0).unwrap_err();
    assert_eq!(err, DecodeError::ProtocolLength(b'G'));
    let mut dec = Decoder::default();
    assert_eq!(
        decode_all(&mut dec, &[b"\x13BitTorrent", b" protocoX"]).1,
        Some(DecodeError::ProtocolName)
    );
}

// ---- linearity -----------------------------------------------------------

/// A handshake, then one piece message with a block of `len` bytes.
fn one_piece(len: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    Handshake::new([1; 20], [2; 20], false).encode(&mut bytes);
    Message::Piece {
        piece: 1,
        offset: 0,
        block: &vec![0x5a; len][..],
    }
    .encode(&mut bytes);
    bytes
}

#[test]
fn a_large_frame_trickled_in_is_copied_once() {
    let max = 8 << 20;
    let block_len = 5 << 20;
    let bytes = one_piece(block_len);
    let chunks: Vec<&[u8]> = bytes.chunks(1400).collect();
    let mut dec = Decoder::new(max);
    let before = moved();
    let (frames, err) = decode_all(&mut dec, &chunks);
    let moved = moved() - before;
    let copied = copies(bytes.len(), moved);
    assert_eq!(err, None);
    assert_eq!(frames.len(), 2);
    // The moves are counted: the buffer grew from 1 MiB to 2, 4 and 5.
    assert!(moved >= 7 << 20, "{moved} moved");
    assert_eq!(frames[1], Owned::Message(bytes[HANDSHAKE_LEN..].to_vec()));
    // The piece was gathered in the decoder's buffer, not borrowed.
    assert!(dec.partial.capacity() >= block_len + 9);
    // Past 1 MiB the buffer grows with what arrives, by doubling: the moves
    // add at most twice the frame's length (1 + 2 + 4 MiB here).
    assert!(copied <= 3 * bytes.len(), "{copied} copied");
}

#[test]
fn a_frame_within_the_default_limit_is_never_moved() {
    let bytes = one_piece((1 << 20) - 9);
    let chunks: Vec<&[u8]> = bytes.chunks(1400).collect();
    let mut dec = Decoder::default();
    let before = moved();
    let (frames, err) = decode_all(&mut dec, &chunks);
    let copied = copies(bytes.len(), moved() - before);
    assert_eq!((frames.len(), err), (2, None));
    // reserved whole at once: each byte copied once, none moved
    assert!(copied <= bytes.len(), "{copied} copied");
}

#[test]
fn a_length_prefix_alone_allocates_at_most_a_mebibyte() {
    let mut dec = Decoder::new(u32::MAX);
    let mut hs = Vec::new();
    Handshake::new([1; 20], [2; 20], false).encode(&mut hs);
    assert!(dec.decode(&hs, &mut 0).unwrap().is_some());
    // a 4 GiB frame announced, and one byte of it sent
    assert_eq!(dec.decode(&[0xff, 0xff, 0xff, 0xf0, 7], &mut 0), Ok(None));
    assert!(dec.partial.capacity() <= RESERVE_AHEAD);
}

#[test]
fn a_million_keep_alives_in_small_inputs_are_copied_once() {
    const COUNT: usize = 1_000_000;
    let mut bytes = Vec::with_capacity(HANDSHAKE_LEN + 4 * COUNT);
    Handshake::new([1; 20], [2; 20], false).encode(&mut bytes);
    bytes.resize(HANDSHAKE_LEN + 4 * COUNT, 0);
    let mut dec = Decoder::default();
    let mut frames = 0;
    let before = moved();
    // 3-byte inputs: every length prefix straddles two of them.
    for chunk in bytes.chunks(3) {
        let mut pos = 0;
        while decode(&mut dec, chunk, &mut pos).unwrap().is_some() {
            assert!(dec.buffered_len() <= 4 || frames == 0);
            frames += 1;
        }
        assert!(dec.buffered_len() < HANDSHAKE_LEN);
    }
    assert_eq!(frames, COUNT + 1);
    let copied = copies(bytes.len(), moved() - before);
    assert!(copied <= bytes.len(), "{copied} copied");
    assert_bounded(&dec);
}

// ---- properties --------------------------------------------------------

/// A piece of a byte stream: noise, a valid message, or a plausible
/// length prefix followed by a body of any bytes and any length.
fn segment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 0..12),
        any_message(40).prop_map(|m| {
            let mut out = Vec::new();
            m.encode(&mut out);
            out
        }),
        (0u32..48, vec(any::<u8>(), 0..48)).prop_map(|(len, body)| {
            let mut out = len.to_be_bytes().to_vec();
            out.extend_from_slice(&body);
            out
        }),
    ]
}

/// A byte stream, most often opened by a valid handshake.
fn stream() -> impl Strategy<Value = Vec<u8>> {
    opened(vec(segment(), 0..24))
}

/// `segments` joined, most often after a valid handshake.
fn opened(segments: impl Strategy<Value = Vec<Vec<u8>>>) -> impl Strategy<Value = Vec<u8>> {
    (proptest::option::weighted(0.9, any_handshake()), segments).prop_map(|(hs, segments)| {
        let mut out = Vec::new();
        if let Some(hs) = hs {
            hs.encode(&mut out);
        }
        out.extend(segments.concat());
        out
    })
}

/// The decoder's limit: the default, or small enough to be hit.
fn max_frame_len() -> impl Strategy<Value = u32> {
    prop_oneof![Just(DEFAULT_MAX_FRAME_LEN), 0u32..64]
}

/// `bytes` cut at the given points (sorted, repeats making empty inputs).
fn cut<'a>(bytes: &'a [u8], cuts: &[Index]) -> Vec<&'a [u8]> {
    let mut at: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
    at.sort_unstable();
    let mut chunks = Vec::new();
    let mut start = 0;
    for end in at {
        chunks.push(&bytes[start..end]);
        start = end;
    }
    chunks.push(&bytes[start..]);
    chunks
}

proptest! {
    #[test]
    fn any_bytes_decode_the_same_however_cut(
        bytes in stream(),
        cuts in vec(any::<Index>(), 0..10),
        max in max_frame_len(),
        after in vec(any::<u8>(), 0..8),
    ) {
        let whole = decode_all(&mut Decoder::new(max), &[&bytes]);
        let mut dec = Decoder::new(max);
        let before = moved();
        let chunked = decode_all(&mut dec, &cut(&bytes, &cuts));
        let copied = copies(bytes.len(), moved() - before);
        prop_assert_eq!(&chunked, &whole);
        let mut split = Decoder::new(max);
        split.set_split_pieces(true);
        prop_assert_eq!(&decode_all(&mut split, &cut(&bytes, &cuts)), &whole);
        prop_assert!(split.buffered_len() <= HANDSHAKE_LEN.max(max as usize));
        // The fast path for frames inside an input reads them the same.
        let mut whole_first = Decoder::new(max);
        whole_first.set_split_pieces(true);
        prop_assert_eq!(&decode_all_whole_first(&mut whole_first, &cut(&bytes, &cuts)), &whole);
        prop_assert!(copied <= bytes.len());
        if let Some(err) = whole.1 {
            // Spent: the same error for any later input, nothing held.
            prop_assert_eq!(dec.decode(&after, &mut 0), Err(err.clone()));
            prop_assert_eq!(dec.decode(&[], &mut 0), Err(err));
            prop_assert_eq!(dec.buffered_len(), 0);
            prop_assert_eq!(dec.partial.capacity(), 0);
        }
    }

    #[test]
    fn any_messages_decode_as_encoded_however_cut(
        hs in any_handshake(),
        messages in vec(any_message(300), 0..16),
        cuts in vec(any::<Index>(), 0..10),
    ) {
        let mut bytes = Vec::new();
        hs.encode(&mut bytes);
        let mut expected = vec![Owned::Handshake(hs)];
        for m in &messages {
            let start = bytes.len();
            m.encode(&mut bytes);
            expected.push(Owned::Message(bytes[start..].to_vec()));
        }
        for mut dec in decoders() {
            // Ours as the peer's: a fast message the peer did not announce
            // is an error (tested above), not a message decoded as encoded.
            dec.set_fast(hs.extensions().fast);
            let chunks = cut(&bytes, &cuts);
            let (frames, err) = decode_all(&mut dec, &chunks);
            prop_assert_eq!(err, None);
            prop_assert_eq!(&frames, &expected);
        }
        for mut dec in decoders() {
            dec.set_fast(hs.extensions().fast);
            let (frames, err) = decode_all_whole_first(&mut dec, &cut(&bytes, &cuts));
            prop_assert_eq!(err, None);
            prop_assert_eq!(&frames, &expected);
        }
    }
}

/// A peer whose handshake lacked the fast bit sends a well-formed fast
/// message to a decoder whose handshake set it: an error, at every split,
/// after the messages before it.
#[test]
fn a_fast_message_the_peer_did_not_announce_is_an_error() {
    let fast: [Message<Vec<u8>>; 5] = [
        Message::Suggest(3),
        Message::HaveAll,
        Message::HaveNone,
        Message::Reject(Request::new(1, 16384, 16384)),
        Message::AllowedFast(7),
    ];
    for m in &fast {
        let mut bytes = Vec::new();
        Handshake::new([1; 20], [2; 20], true).encode(&mut bytes);
        Message::<&[u8]>::Interested.encode(&mut bytes);
        m.encode(&mut bytes);
        for (split, whole_first) in [(false, false), (true, false), (true, true)] {
            for cut in 0..=bytes.len() {
                let mut dec = Decoder::default();
                dec.set_split_pieces(split);
                dec.set_fast(true);
                let (a, b) = bytes.split_at(cut);
                WHOLE_FIRST.set(whole_first);
                let err = messages_of(&mut dec, &[a, b]).unwrap_err();
                WHOLE_FIRST.set(false);
                assert_eq!(
                    err.code(),
                    "ERR_PEER_WIRE_FAST_NOT_NEGOTIATED",
                    "cut at {cut}"
                );
                assert!(err
                    .to_string()
                    .contains("did not set the fast extension bit"));
            }
        }
    }
}
