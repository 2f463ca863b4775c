use proptest::prelude::*;

use super::*;
use crate::protocol::{Handshake, Message, Request, DEFAULT_MAX_FRAME_LEN, HANDSHAKE_LEN, ID_LEN};

const INFO_HASH: [u8; 20] = [0xaa; 20];
const PEER_ID: [u8; 20] = *b"-PW0001-abcdefghijkl";

fn handshake() -> Vec<u8> {
    let mut out = Vec::new();
    Handshake::new(INFO_HASH, PEER_ID, true).encode(&mut out);
    out
}

fn message(m: Message<&[u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    m.encode(&mut out);
    out
}

fn id(id: MessageId) -> u32 {
    id as u32
}

/// Room for `n` records.
fn records_buffer(n: usize) -> Vec<u8> {
    vec![0xee; (RECORD_HEADER + n * RECORD_STRIDE) * 4]
}

fn word(out: &[u8], i: usize) -> u32 {
    u32::from_ne_bytes(out[i * 4..i * 4 + 4].try_into().unwrap())
}

/// The header `(count, position)` and the records of a `receive`.
fn read(out: &[u8]) -> (usize, usize, Vec<[u32; RECORD_STRIDE]>) {
    let count = word(out, 0) as usize;
    let records = (0..count)
        .map(|r| std::array::from_fn(|w| word(out, RECORD_HEADER + r * RECORD_STRIDE + w)))
        .collect();
    (count, word(out, 1) as usize, records)
}

/// The bytes a record's `[c, c + d)` range names, in the chunk or in the
/// gathered bytes.
fn bytes<'a>(record: &[u32; 5], chunk: &'a [u8], gathered: Option<&'a [u8]>) -> &'a [u8] {
    let source = if record[0] & FLAG_BUFFERED != 0 {
        gathered.expect("a buffered record comes with gathered bytes")
    } else {
        chunk
    };
    &source[record[3] as usize..(record[3] + record[4]) as usize]
}

/// The records of a chunk that lies whole inside it (no frame gathered, no
/// piece split off), over as many calls as it takes.
fn records_of(rx: &mut Receiver, chunk: &[u8], out: &mut [u8]) -> Vec<[u32; RECORD_STRIDE]> {
    let mut all = Vec::new();
    let mut from = 0;
    while from < chunk.len() {
        assert_eq!(rx.receive(chunk, from as u32, out).unwrap(), None);
        let (count, position, records) = read(out);
        all.extend(records);
        if count == 0 || all.last().is_some_and(|r| r[0] == KIND_ERROR) {
            break;
        }
        from = position;
    }
    all
}

#[test]
fn a_whole_session_in_one_chunk_is_one_record_per_frame() {
    let mut chunk = handshake();
    let parts: Vec<Vec<u8>> = vec![
        message(Message::KeepAlive),
        message(Message::Choke),
        message(Message::Unchoke),
        message(Message::Interested),
        message(Message::NotInterested),
        message(Message::Have(7)),
        message(Message::Bitfield(&[0xf0, 0x01])),
        message(Message::Request(Request::new(1, 16384, 16384))),
        message(Message::Piece {
            piece: 2,
            offset: 32768,
            block: b"block",
        }),
        message(Message::Cancel(Request::new(3, 0, 100))),
        message(Message::Port(6881)),
        message(Message::Extended {
            id: 3,
            payload: b"d1:ai1ee",
        }),
        message(Message::Unknown {
            id: 99,
            payload: b"xyz",
        }),
    ];
    for part in &parts {
        chunk.extend_from_slice(part);
    }
    let mut rx = Receiver::new(DEFAULT_MAX_FRAME_LEN);
    let mut out = records_buffer(64);
    let gathered = rx.receive(&chunk, 0, &mut out).unwrap();
    assert_eq!(gathered, None);
    // A call ends after the handshake: the caller answers it first.
    let (count, position, mut records) = read(&out);
    assert_eq!((count, position), (1, HANDSHAKE_LEN));
    rx.receive(&chunk, position as u32, &mut out).unwrap();
    let (count, position, rest) = read(&out);
    assert_eq!((count, position), (13, chunk.len()));
    records.extend(rest);

    let hs = records[0];
    assert_eq!(
        &hs[..3],
        &[KIND_HANDSHAKE, HANDSHAKE_DHT | HANDSHAKE_EXTENDED, 0]
    );
    assert_eq!(&chunk[hs[3] as usize..][..ID_LEN], &INFO_HASH);
    assert_eq!(&chunk[hs[4] as usize..][..ID_LEN], &PEER_ID);

    let kinds: Vec<u32> = records[1..].iter().map(|r| r[0]).collect();
    assert_eq!(
        kinds,
        [
            KIND_KEEP_ALIVE,
            id(MessageId::Choke),
            id(MessageId::Unchoke),
            id(MessageId::Interested),
            id(MessageId::NotInterested),
            id(MessageId::Have),
            id(MessageId::Bitfield),
            id(MessageId::Request),
            id(MessageId::Piece),
            id(MessageId::Cancel),
            id(MessageId::Port),
            id(MessageId::Extended),
            KIND_UNKNOWN,
        ]
    );
    assert_eq!(records[6][1], 7);
    assert_eq!(bytes(&records[7], &chunk, None), &[0xf0, 0x01]);
    assert_eq!(&records[8][1..4], &[1, 16384, 16384]);
    assert_eq!(&records[9][1..3], &[2, 32768]);
    assert_eq!(bytes(&records[9], &chunk, None), b"block");
    assert_eq!(&records[10][1..4], &[3, 0, 100]);
    assert_eq!(records[11][1], 6881);
    assert_eq!(records[12][1], 3);
    assert_eq!(bytes(&records[12], &chunk, None), b"d1:ai1ee");
    // An unknown message is its whole body, id byte included.
    assert_eq!(bytes(&records[13], &chunk, None), b"\x63xyz");
}

/// The body a fast message's record points at, in the chunk or in the
/// gathered bytes.
fn fast_body<'a>(record: &[u32; 5], chunk: &'a [u8], gathered: Option<&'a [u8]>) -> &'a [u8] {
    if record[0] & KIND_MASK != id(MessageId::Reject) {
        return bytes(record, chunk, gathered);
    }
    let source = if record[0] & FLAG_BUFFERED != 0 {
        gathered.expect("a buffered record comes with gathered bytes")
    } else {
        chunk
    };
    &source[record[4] as usize..][..REJECT_BODY_LEN as usize]
}

#[test]
fn fast_messages_are_records_only_when_both_handshakes_set_fast() {
    let fast: [Message<&[u8]>; 5] = [
        Message::Suggest(3),
        Message::HaveAll,
        Message::HaveNone,
        Message::Reject(Request::new(1, 16384, 16384)),
        Message::AllowedFast(7),
    ];
    for (peer_fast, ours_fast) in [(false, false), (false, true), (true, false), (true, true)] {
        let mut chunk = Vec::new();
        Handshake::new(INFO_HASH, PEER_ID, false)
            .with_fast(peer_fast)
            .encode(&mut chunk);
        let mut bodies = Vec::new();
        for m in fast {
            let frame = message(m);
            bodies.push(frame[4..].to_vec());
            chunk.extend_from_slice(&frame);
        }
        let mut rx = Receiver::new(DEFAULT_MAX_FRAME_LEN);
        let mut out = records_buffer(8);
        // As a responder: told after the peer's handshake, which ends a call.
        rx.receive(&chunk, 0, &mut out).unwrap();
        let (count, position, mut records) = read(&out);
        assert_eq!((count, position), (1, HANDSHAKE_LEN));
        rx.set_fast(ours_fast);
        rx.receive(&chunk, position as u32, &mut out).unwrap();
        if ours_fast && !peer_fast {
            // Fast messages the peer did not announce: a violation.
            assert_eq!(read(&out).2[0][0], KIND_ERROR);
            let err = rx.take_error().unwrap();
            assert_eq!(err.code(), "ERR_PEER_WIRE_FAST_NOT_NEGOTIATED");
            continue;
        }
        let (count, position, rest) = read(&out);
        assert_eq!((count, position), (5, chunk.len()));
        records.extend(rest);
        let flags = if peer_fast { HANDSHAKE_FAST } else { 0 };
        assert_eq!(records[0][1], HANDSHAKE_EXTENDED | flags);
        if !(peer_fast && ours_fast) {
            // 0.7.1's reading: unknown messages, their whole bodies.
            for (record, body) in records[1..].iter().zip(&bodies) {
                assert_eq!(record[0], KIND_UNKNOWN);
                assert_eq!(bytes(record, &chunk, None), &body[..]);
            }
            continue;
        }
        assert_eq!(
            records[1..]
                .iter()
                .map(|r| r[..4].to_vec())
                .collect::<Vec<_>>(),
            [
                vec![id(MessageId::Suggest), 3, 0, records[1][3]],
                vec![id(MessageId::HaveAll), 0, 0, records[2][3]],
                vec![id(MessageId::HaveNone), 0, 0, records[3][3]],
                vec![id(MessageId::Reject), 1, 16384, 16384],
                vec![id(MessageId::AllowedFast), 7, 0, records[5][3]],
            ]
        );
        // Each also points at its whole body, as an unknown message's record.
        for (record, body) in records[1..].iter().zip(&bodies) {
            assert_eq!(fast_body(record, &chunk, None), &body[..]);
        }
    }
}

#[test]
fn a_fast_message_gathered_across_chunks_points_into_the_returned_bytes() {
    let mut rx = Receiver::new(DEFAULT_MAX_FRAME_LEN);
    rx.set_fast(true);
    let mut out = records_buffer(8);
    let mut hs = Vec::new();
    Handshake::new(INFO_HASH, PEER_ID, true)
        .with_fast(true)
        .encode(&mut hs);
    rx.receive(&hs, 0, &mut out).unwrap();
    assert_eq!(
        read(&out).2[0][1],
        HANDSHAKE_DHT | HANDSHAKE_EXTENDED | HANDSHAKE_FAST
    );
    for m in [
        Message::Reject(Request::new(9, 0, 100)),
        Message::Suggest(4),
    ] {
        let frame = message(m);
        rx.receive(&frame[..8], 0, &mut out).unwrap();
        assert_eq!(read(&out).0, 0);
        let gathered = rx.receive(&frame[8..], 0, &mut out).unwrap();
        let (count, _, records) = read(&out);
        assert_eq!(count, 1);
        assert_ne!(records[0][0] & FLAG_BUFFERED, 0);
        let body = fast_body(&records[0], &frame[8..], gathered.as_deref());
        assert_eq!(body, &frame[4..]);
    }
}

/// Hostile: with fast negotiated, a fast message of the wrong length is a
/// violation, named; with only ours set, any fast message is; otherwise (a peer that set the bit talking to a wire
/// that did not, as 0.7.1's) the same bytes are an unknown message.
#[test]
fn a_fast_message_of_the_wrong_length_is_an_error_record_only_when_fast_is_negotiated() {
    for (peer_fast, ours_fast) in [(false, true), (true, false), (true, true)] {
        let mut chunk = Vec::new();
        Handshake::new(INFO_HASH, PEER_ID, false)
            .with_fast(peer_fast)
            .encode(&mut chunk);
        chunk.extend_from_slice(&[0, 0, 0, 2, 15, 0]); // a have-none of 2 bytes
        let mut rx = Receiver::new(DEFAULT_MAX_FRAME_LEN);
        rx.set_fast(ours_fast);
        let mut out = records_buffer(8);
        let records = records_of(&mut rx, &chunk, &mut out);
        if ours_fast && !peer_fast {
            assert_eq!(records[1][0], KIND_ERROR);
            let err = rx.take_error().unwrap();
            assert_eq!(err.code(), "ERR_PEER_WIRE_FAST_NOT_NEGOTIATED");
        } else if peer_fast && ours_fast {
            assert_eq!(records[1][0], KIND_ERROR);
            let err = rx.take_error().unwrap();
            assert_eq!(err.code(), "ERR_PEER_WIRE_BAD_LENGTH");
            assert_eq!(
                err.to_string(),
                "have-none message (id 15) has a body of 2 bytes, expected exactly 1"
            );
        } else {
            assert_eq!(records[1][0], KIND_UNKNOWN);
            assert_eq!(bytes(&records[1], &chunk, None), &[15, 0]);
            assert_eq!(rx.take_error(), None);
        }
    }
}

#[test]
fn a_frame_gathered_across_chunks_points_into_the_returned_bytes() {
    let hs = handshake();
    let have = message(Message::Extended {
        id: 1,
        payload: b"hello",
    });
    let mut rx = Receiver::new(DEFAULT_MAX_FRAME_LEN);
    let mut out = records_buffer(8);

    // The handshake cut in two.
    assert_eq!(rx.receive(&hs[..30], 0, &mut out).unwrap(), None);
    assert_eq!(read(&out).0, 0);
    let gathered = rx.receive(&hs[30..], 0, &mut out).unwrap();
    let (count, position, records) = read(&out);
    assert_eq!((count, position), (1, hs.len() - 30));
    assert_eq!(records[0][0], KIND_HANDSHAKE | FLAG_BUFFERED);
    let gathered = gathered.expect("the handshake was gathered");
    assert_eq!(&gathered[records[0][3] as usize..][..ID_LEN], &INFO_HASH);
    assert_eq!(&gathered[records[0][4] as usize..][..ID_LEN], &PEER_ID);

    // A message cut after its length prefix, then a whole one behind it.
    assert_eq!(rx.receive(&have[..7], 0, &mut out).unwrap(), None);
    let mut rest = have[7..].to_vec();
    rest.extend_from_slice(&message(Message::Have(5)));
    let gathered = rx.receive(&rest, 0, &mut out).unwrap();
    let (count, position, records) = read(&out);
    assert_eq!((count, position), (2, rest.len()));
    assert_eq!(records[0][0], id(MessageId::Extended) | FLAG_BUFFERED);
    assert_eq!(bytes(&records[0], &rest, gathered.as_deref()), b"hello");
    assert_eq!(&records[1][..2], &[id(MessageId::Have), 5]);
}

#[test]
fn a_piece_running_past_the_chunk_is_split_off_last() {
    let mut chunk = handshake();
    chunk.extend_from_slice(&message(Message::Have(1)));
    let block = vec![7u8; 16384];
    let piece = message(Message::Piece {
        piece: 4,
        offset: 16384,
        block: &block,
    });
    let cut = chunk.len() + 13 + 100;
    chunk.extend_from_slice(&piece);
    chunk.extend_from_slice(&message(Message::Choke));

    let mut rx = Receiver::new(DEFAULT_MAX_FRAME_LEN);
    let mut out = records_buffer(8);
    rx.receive(&chunk[..cut], 0, &mut out).unwrap();
    assert_eq!(read(&out).0, 1, "the handshake ends its call");
    rx.receive(&chunk[..cut], HANDSHAKE_LEN as u32, &mut out)
        .unwrap();
    let (count, position, records) = read(&out);
    assert_eq!(count, 2);
    assert_eq!(
        records[1],
        [
            id(MessageId::Piece) | FLAG_SPLIT,
            4,
            16384,
            16384,
            (cut - 100) as u32
        ]
    );
    assert_eq!(position, cut - 100, "decoding stops where the block starts");
    // The caller took the block; decoding resumes after it.
    let after = cut - 100 + block.len();
    rx.receive(&chunk, after as u32, &mut out).unwrap();
    let (count, position, records) = read(&out);
    assert_eq!((count, position), (1, chunk.len()));
    assert_eq!(records[0][0], id(MessageId::Choke));
}

#[test]
fn records_stop_at_the_buffer_capacity_and_resume_from_the_position() {
    let mut chunk = handshake();
    for i in 0..5 {
        chunk.extend_from_slice(&message(Message::Have(i)));
    }
    let mut rx = Receiver::new(DEFAULT_MAX_FRAME_LEN);
    let mut out = records_buffer(2);
    let mut from = 0;
    let mut haves = Vec::new();
    let mut calls = 0;
    while from < chunk.len() {
        rx.receive(&chunk, from as u32, &mut out).unwrap();
        let (count, position, records) = read(&out);
        assert!(count <= 2);
        haves.extend(records.iter().filter(|r| r[0] == 4).map(|r| r[1]));
        from = position;
        calls += 1;
    }
    assert_eq!(haves, [0, 1, 2, 3, 4]);
    // The handshake alone, then two haves a call.
    assert_eq!(calls, 4);
}

#[test]
fn a_violation_is_an_error_record_and_its_error_taken_once() {
    let mut chunk = handshake();
    chunk.extend_from_slice(&message(Message::Have(1)));
    chunk.extend_from_slice(&[0, 0, 0, 2, 4, 0]); // a have of 2 bytes
    chunk.extend_from_slice(&message(Message::Choke));
    let mut rx = Receiver::new(DEFAULT_MAX_FRAME_LEN);
    let mut out = records_buffer(8);
    let records = records_of(&mut rx, &chunk, &mut out);
    assert_eq!(records.len(), 3);
    assert_eq!(records[2][0], KIND_ERROR);
    let err = rx.take_error().expect("the violation");
    assert_eq!(err.code(), "ERR_PEER_WIRE_BAD_LENGTH");
    assert_eq!(
        err.to_string(),
        "have message (id 4) has a body of 2 bytes, expected exactly 5"
    );
    assert_eq!(rx.take_error(), None);

    // A frame over the limit, from its prefix alone.
    let mut rx = Receiver::new(100);
    let mut chunk = handshake();
    chunk.extend_from_slice(&101u32.to_be_bytes());
    assert_eq!(records_of(&mut rx, &chunk, &mut out)[1][0], KIND_ERROR);
    assert_eq!(
        rx.take_error().map(|e| e.code()),
        Some("ERR_PEER_WIRE_FRAME_TOO_LARGE")
    );
}

#[test]
fn bad_record_buffers_are_errors_not_panics() {
    let mut rx = Receiver::new(DEFAULT_MAX_FRAME_LEN);
    let mut out = [0u8; 7];
    assert_eq!(
        rx.receive(&handshake(), 0, &mut out),
        Err(BatchError::RecordsTooSmall)
    );
    // Room for the header alone: nothing decoded, nothing lost.
    let mut out = records_buffer(0);
    rx.receive(&handshake(), 0, &mut out).unwrap();
    assert_eq!((read(&out).0, read(&out).1), (0, 0));
    // A start past the chunk is its end.
    let mut out = records_buffer(1);
    rx.receive(&handshake(), 1000, &mut out).unwrap();
    assert_eq!((read(&out).0, read(&out).1), (0, HANDSHAKE_LEN));
}

fn encode(ops: &[[u32; OP_WORDS]], payloads: &[u8]) -> Result<Vec<u8>, BatchError> {
    let flat: Vec<u32> = ops.iter().flatten().copied().collect();
    let mut out = vec![0u8; ops.len() * MAX_OP_LEN + payloads.len() + HANDSHAKE_LEN];
    let end = encode_ops(&mut out, 3, &flat, ops.len() as u32, payloads)?;
    assert_eq!(&out[..3], &[0, 0, 0], "nothing is written before `at`");
    out.truncate(end as usize);
    Ok(out.split_off(3))
}

#[test]
fn every_op_encodes_as_the_core_encodes_its_message() {
    let ext = id(MessageId::Extended);
    let ops = [
        [KIND_HANDSHAKE, 1, 0, 0],
        [KIND_KEEP_ALIVE, 0, 0, 0],
        [id(MessageId::Choke), 0, 0, 0],
        [id(MessageId::Unchoke), 0, 0, 0],
        [id(MessageId::Interested), 0, 0, 0],
        [id(MessageId::NotInterested), 0, 0, 0],
        [id(MessageId::Have), 9, 0, 0],
        [id(MessageId::Request), 1, 2, 3],
        [id(MessageId::Cancel), 4, 5, 6],
        [id(MessageId::Port), 6881, 0, 0],
        [id(MessageId::Bitfield) | OP_INLINE, 0, 0, 2],
        [ext | OP_INLINE, 3, 0, 4],
        [id(MessageId::Suggest), 10, 0, 0],
        [id(MessageId::HaveAll), 0, 0, 0],
        [id(MessageId::HaveNone), 0, 0, 0],
        [id(MessageId::Reject), 11, 12, 13],
        [id(MessageId::AllowedFast), 14, 0, 0],
        [KIND_HANDSHAKE, HANDSHAKE_FAST, 0, 0],
        [id(MessageId::Piece), 7, 8, 16384],
    ];
    let mut payloads = INFO_HASH.to_vec();
    payloads.extend_from_slice(&PEER_ID);
    payloads.extend_from_slice(&[0xff, 0x80]);
    payloads.extend_from_slice(b"d1:e");
    payloads.extend_from_slice(&PEER_ID);
    payloads.extend_from_slice(&INFO_HASH);
    let out = encode(&ops, &payloads).unwrap();

    let mut expected = handshake();
    for m in [
        Message::KeepAlive,
        Message::Choke,
        Message::Unchoke,
        Message::Interested,
        Message::NotInterested,
        Message::Have(9),
        Message::Request(Request::new(1, 2, 3)),
        Message::Cancel(Request::new(4, 5, 6)),
        Message::Port(6881),
        Message::Bitfield(&[0xff, 0x80][..]),
        Message::Extended {
            id: 3,
            payload: &b"d1:e"[..],
        },
        Message::Suggest(10),
        Message::HaveAll,
        Message::HaveNone,
        Message::Reject(Request::new(11, 12, 13)),
        Message::AllowedFast(14),
    ] {
        expected.extend_from_slice(&message(m));
    }
    // The flags: fast, no DHT (the extension bit always).
    Handshake::new(PEER_ID, INFO_HASH, false)
        .with_fast(true)
        .encode(&mut expected);
    // The piece's header only: its block goes after it, from the caller.
    Message::Piece {
        piece: 7,
        offset: 8,
        block: (),
    }
    .encode_header_for(16384, &mut expected);
    assert_eq!(out, expected);
}

#[test]
fn bad_ops_are_errors_and_write_nothing() {
    type Case<'a> = (&'a [[u32; OP_WORDS]], &'a [u8], BatchError);
    let cases: [Case; 7] = [
        (&[[12, 0, 0, 0]], &[], BatchError::BadKind(12)),
        (
            &[[KIND_UNKNOWN, 0, 0, 0]],
            &[],
            BatchError::BadKind(KIND_UNKNOWN),
        ),
        (&[[9, 65536, 0, 0]], &[], BatchError::PortRange),
        (&[[20, 256, 0, 0]], &[], BatchError::ExtendedIdRange),
        (
            &[[7, 0, 0, MAX_PAYLOAD_LEN + 1]],
            &[],
            BatchError::PayloadTooLarge,
        ),
        (
            &[[5 | OP_INLINE, 0, 0, 3]],
            &[1, 2],
            BatchError::FewerPayloadBytes,
        ),
        (
            &[[KIND_HANDSHAKE, 0, 0, 0]],
            &[0; 39],
            BatchError::FewerPayloadBytes,
        ),
    ];
    for (ops, payloads, err) in cases {
        // A good op first: it is not written either.
        let mut all = vec![[id(MessageId::Have), 1, 0, 0]];
        all.extend_from_slice(ops);
        let flat: Vec<u32> = all.iter().flatten().copied().collect();
        let mut out = vec![0u8; 256];
        assert_eq!(
            encode_ops(&mut out, 0, &flat, all.len() as u32, payloads),
            Err(err)
        );
        assert!(out.iter().all(|&b| b == 0));
    }
    let have = [id(MessageId::Have), 1, 0, 0];
    assert_eq!(
        encode_ops(&mut [0; 64], 0, &have, 2, &[]),
        Err(BatchError::FewerOps)
    );
    assert_eq!(
        encode_ops(&mut [0; 9], 1, &have, 1, &[]),
        Err(BatchError::OutputTooSmall)
    );
    assert_eq!(
        encode_ops(&mut [0; 9], 10, &have, 1, &[]),
        Err(BatchError::OutputTooSmall)
    );
    assert_eq!(encode_ops(&mut [0; 9], 0, &have, 1, &[]), Ok(9));
}

/// Headers whose payloads the caller sends, anywhere in the queue: each
/// one's end is reported, so that the payload can go right after it; the
/// stream put together that way decodes to the messages in order.
#[test]
fn encode_ops_cut_reports_where_each_payload_goes() {
    let piece = |i| [id(MessageId::Piece), i, 0, 4];
    let have = [id(MessageId::Have), 9, 0, 0];
    let ops: Vec<u32> = [piece(0), have, piece(1), piece(2), have]
        .iter()
        .flatten()
        .copied()
        .collect();
    let mut out = vec![0u8; 128];
    let mut ends = [0u32; 3];
    let end = encode_ops_cut(&mut out, 5, &ops, 5, &[], &mut ends).unwrap();
    assert_eq!(ends, [5 + 13, 5 + 13 + 9 + 13, 5 + 13 + 9 + 13 + 13]);
    assert_eq!(end, 5 + 13 + 9 + 13 + 13 + 9);

    let mut stream = Vec::new();
    let mut at = 5;
    for (k, &cut) in ends.iter().enumerate() {
        stream.extend_from_slice(&out[at..cut as usize]);
        stream.extend_from_slice(&[k as u8; 4]);
        at = cut as usize;
    }
    stream.extend_from_slice(&out[at..end as usize]);
    let block = |i: u8| {
        message(Message::Piece {
            piece: u32::from(i),
            offset: 0,
            block: &[i; 4][..],
        })
    };
    let have = message(Message::Have(9));
    assert_eq!(
        stream,
        [block(0), have.clone(), block(1), block(2), have].concat()
    );

    // Too few ends: nothing written. A payload after the last op needs none.
    let mut out = vec![0u8; 128];
    assert_eq!(
        encode_ops_cut(&mut out, 0, &ops, 5, &[], &mut [0; 2]),
        Err(BatchError::FewerEnds)
    );
    assert!(out.iter().all(|&b| b == 0));
    assert_eq!(encode_ops(&mut out, 0, &ops[..OP_WORDS], 1, &[]), Ok(13));
    assert_eq!(
        encode_ops(&mut out, 0, &ops[..2 * OP_WORDS], 2, &[]),
        Err(BatchError::FewerEnds)
    );
}

/// Any op with the payload it takes inline (if any).
fn any_op() -> impl Strategy<Value = Op> {
    let fixed = prop_oneof![
        Just(KIND_KEEP_ALIVE),
        0u32..=4,
        Just(id(MessageId::Request)),
        Just(id(MessageId::Cancel)),
        13u32..=17,
    ];
    let payload = proptest::collection::vec(any::<u8>(), 0..64);
    prop_oneof![
        (fixed, any::<u32>(), any::<u32>(), any::<u32>())
            .prop_map(|(kind, a, b, c)| ([kind, a, b, c], vec![])),
        any::<u16>().prop_map(|port| ([id(MessageId::Port), port as u32, 0, 0], vec![])),
        (
            prop_oneof![Just(5u32), Just(7u32), Just(20u32)],
            any::<u8>(),
            any::<u32>(),
            payload
        )
            .prop_map(|(kind, a, b, bytes)| {
                let b = if kind == 7 { b } else { 0 };
                ([kind | OP_INLINE, a as u32, b, bytes.len() as u32], bytes)
            }),
    ]
}

/// An op and the payload it takes inline (if any).
type Op = ([u32; OP_WORDS], Vec<u8>);

/// A handshake op with `hs_flags`, then `ops`: all the ops, and the stream
/// they encode to.
fn session(hs_flags: u32, ops: &[Op]) -> (Vec<[u32; OP_WORDS]>, Vec<u8>) {
    let mut all = vec![[KIND_HANDSHAKE, hs_flags, 0, 0]];
    let mut payloads = INFO_HASH.to_vec();
    payloads.extend_from_slice(&PEER_ID);
    for (op, bytes) in ops {
        all.push(*op);
        payloads.extend_from_slice(bytes);
    }
    let stream = encode(&all, &payloads).unwrap();
    (all, stream)
}

proptest! {
    /// What the ops encode, received in any two chunks, comes back as the
    /// records of the same messages: the two halves of the format agree.
    #[test]
    fn ops_come_back_as_their_records(
        ops in proptest::collection::vec(any_op(), 0..40),
        cut in any::<prop::sample::Index>(),
        hs_flags in 0u32..8,
        ours_fast in any::<bool>(),
    ) {
        // Ours only with the peer's: a fast message the peer did not
        // announce is an error record (tested above), not one decoded back.
        let ours_fast = ours_fast && hs_flags & HANDSHAKE_FAST != 0;
        let fast = ours_fast;
        let (all, stream) = session(hs_flags, &ops);
        let cut = cut.index(stream.len() + 1);
        let mut rx = Receiver::new(DEFAULT_MAX_FRAME_LEN);
        rx.set_fast(ours_fast);
        let mut out = records_buffer(64);
        let mut got = Vec::new();
        // A piece split off: its index, offset, length and the block so far.
        let mut owed: Option<(u32, u32, usize, Vec<u8>)> = None;
        for chunk in [&stream[..cut], &stream[cut..]] {
            let mut from = 0;
            loop {
                if let Some((piece, offset, len, block)) = owed.as_mut() {
                    let n = (*len - block.len()).min(chunk.len() - from);
                    block.extend_from_slice(&chunk[from..from + n]);
                    from += n;
                    if block.len() < *len {
                        break;
                    }
                    got.push((7, *piece, *offset, 0, std::mem::take(block)));
                    owed = None;
                }
                let gathered = rx.receive(chunk, from as u32, &mut out).unwrap();
                let (count, position, records) = read(&out);
                for r in &records {
                    let kind = r[0] & KIND_MASK;
                    if r[0] & FLAG_SPLIT != 0 {
                        prop_assert_eq!(r[4] as usize, position);
                        owed = Some((r[1], r[2], r[3] as usize, vec![]));
                        continue;
                    }
                    let (c, payload) = match kind {
                        6 | 8 => (r[3], vec![]),
                        5 | 7 | 20 | KIND_UNKNOWN => {
                            (0, bytes(r, chunk, gathered.as_deref()).to_vec())
                        }
                        // A fast message: its fields, and the body it points at.
                        13..=17 => {
                            let body = fast_body(r, chunk, gathered.as_deref()).to_vec();
                            (if kind == 16 { r[3] } else { 0 }, body)
                        }
                        _ => (0, vec![]),
                    };
                    got.push((kind, r[1], r[2], c, payload));
                }
                from = position;
                if count == 0 {
                    break;
                }
            }
        }
        prop_assert!(owed.is_none());
        let want: Vec<_> = all
            .iter()
            .zip(std::iter::once(vec![]).chain(ops.iter().map(|(_, b)| b.clone())))
            .map(|(op, payload)| {
                let kind = op[0] & KIND_MASK;
                // A fast message's whole body, as the op encodes it.
                let body = || encode(&[*op], &[]).unwrap()[4..].to_vec();
                match kind {
                    // Handshakes always set the extension bit.
                    KIND_HANDSHAKE => {
                        let flags = op[1] & (HANDSHAKE_DHT | HANDSHAKE_FAST) | HANDSHAKE_EXTENDED;
                        (kind, flags, 0, 0, payload)
                    }
                    13..=17 if !fast => (KIND_UNKNOWN, 0, 0, 0, body()),
                    16 => (kind, op[1], op[2], op[3], body()),
                    13 | 17 => (kind, op[1], 0, 0, body()),
                    14 | 15 => (kind, 0, 0, 0, body()),
                    6 | 8 => (kind, op[1], op[2], op[3], payload),
                    7 => (kind, op[1], op[2], 0, payload),
                    4 | 9 | 20 => (kind, op[1], 0, 0, payload),
                    _ => (kind, 0, 0, 0, payload),
                }
            })
            .collect();
        prop_assert_eq!(got, want);
    }
}

#[test]
fn a_receiver_packs_only_between_frames_with_nothing_held() {
    const MAX: u32 = DEFAULT_MAX_FRAME_LEN;
    let mut rx = Receiver::new(MAX);
    assert_eq!(rx.packed(), Some(RECEIVER_FRESH));
    assert_eq!(
        Receiver::unpack(32, MAX).err(),
        Some(BatchError::BadState(32))
    );
    let mut out = records_buffer(8);

    // Part of the handshake held back: no word says it.
    let hs = handshake();
    rx.receive(&hs[..10], 0, &mut out).unwrap();
    assert_eq!(rx.packed(), None);
    rx.receive(&hs[10..], 0, &mut out).unwrap();
    let packed = rx.packed().expect("between frames again");

    // From the word, a chunk that ends inside a frame hands the receiver
    // back; one that ends between frames, the next word.
    let have = message(Message::Have(9));
    let spilled = Receiver::receive_packed(packed, MAX, &have[..6], 0, &mut out).unwrap();
    let mut spilled = spilled.expect("bytes held back");
    assert_eq!(read(&out).0, 0);
    assert_eq!(word(&out, 2), RECEIVER_HELD);
    spilled.receive(&have[6..], 0, &mut out).unwrap();
    assert_eq!(
        read(&out).2[0][..2],
        [id(MessageId::Have) | FLAG_BUFFERED, 9]
    );
    assert_eq!(word(&out, 2), packed, "nothing held: its word again");
    assert!(Receiver::receive_packed(packed, MAX, &have, 0, &mut out)
        .unwrap()
        .is_none());
    assert_eq!(word(&out, 2), packed);

    // A violation hands the receiver back, with its error.
    let bad = [0, 0, 0, 2, 4, 0];
    let mut spilled = Receiver::receive_packed(packed, MAX, &bad, 0, &mut out)
        .unwrap()
        .expect("an error to tell");
    assert_eq!(read(&out).2[0][0], KIND_ERROR);
    assert_eq!(word(&out, 2), RECEIVER_HELD);
    assert_eq!(
        spilled.take_error().map(|e| e.code()),
        Some("ERR_PEER_WIRE_BAD_LENGTH")
    );
}

proptest! {
    /// A receiver kept as lib/receiver.js keeps it (its packed word while
    /// it packs, itself while a call says it holds something) decodes any
    /// stream cut anywhere exactly as a receiver kept whole: the same
    /// records, gathered bytes and error; and the word it is kept as is the
    /// one the whole one packs to.
    #[test]
    fn a_packed_receiver_decodes_as_a_kept_one(
        ops in proptest::collection::vec(any_op(), 0..30),
        garbage in proptest::option::of(proptest::collection::vec(any::<u8>(), 1..12)),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
        hs_flags in 0u32..8,
        ours_fast in any::<bool>(),
    ) {
        const MAX: u32 = DEFAULT_MAX_FRAME_LEN;
        let (_, mut stream) = session(hs_flags, &ops);
        if let Some(garbage) = garbage {
            stream.extend_from_slice(&garbage);
        }
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(stream.len() + 1)).collect();
        cuts.extend([0, stream.len()]);
        cuts.sort_unstable();
        cuts.dedup();

        let mut kept = Receiver::new(MAX);
        kept.set_fast(ours_fast);
        let mut state = kept.packed().expect("a new receiver packs");
        let mut own: Option<Receiver> = None;
        // Room for few records, so that calls resume mid-chunk.
        let (mut out_a, mut out_b) = (records_buffer(3), records_buffer(3));
        let mut block_left = 0;
        for w in cuts.windows(2) {
            let chunk = &stream[w[0]..w[1]];
            let mut from = 0;
            loop {
                let n = block_left.min(chunk.len() - from);
                from += n;
                block_left -= n;
                if block_left > 0 {
                    break;
                }
                let got_a = kept.receive(chunk, from as u32, &mut out_a).unwrap();
                let got_b = match own.as_mut() {
                    Some(rx) => rx.receive(chunk, from as u32, &mut out_b).unwrap(),
                    None => {
                        own = Receiver::receive_packed(state, MAX, chunk, from as u32, &mut out_b)
                            .unwrap();
                        None
                    }
                };
                // Back to the word once nothing is held.
                let now = word(&out_b, 2);
                prop_assert_eq!(now == RECEIVER_HELD, kept.packed().is_none());
                if now == RECEIVER_HELD {
                    prop_assert!(own.is_some());
                } else {
                    state = now;
                    own = None;
                    prop_assert_eq!(Some(state), kept.packed());
                }
                prop_assert_eq!(&got_a, &got_b);
                let (count, position, records) = read(&out_a);
                prop_assert_eq!(&(count, position, records.clone()), &read(&out_b));
                if let Some(r) = records.last() {
                    if r[0] & FLAG_SPLIT != 0 {
                        block_left = r[3] as usize;
                    }
                }
                from = position;
                if count == 0 || records.last().is_some_and(|r| r[0] == KIND_ERROR) {
                    break;
                }
            }
        }
        let own_error = own.as_mut().and_then(|rx| rx.take_error());
        prop_assert_eq!(kept.take_error(), own_error);
    }
}
