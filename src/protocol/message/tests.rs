//! Tests of the messages: round trips, the bytes the reference writes, the
//! length rule per id; strategies the decoder's tests share.

use proptest::collection::vec;
use proptest::prelude::*;

use super::*;
use crate::protocol::BodyLen;

pub(crate) fn any_request() -> impl Strategy<Value = Request> {
    any::<(u32, u32, u32)>().prop_map(|(piece, offset, length)| Request::new(piece, offset, length))
}

/// Any message of every variant, with payloads of up to `max_payload`
/// bytes; unknown ids are those this crate does not know.
pub(crate) fn any_message(max_payload: usize) -> impl Strategy<Value = Message<Vec<u8>>> {
    let payload = move || vec(any::<u8>(), 0..=max_payload);
    let unknown_id =
        any::<u8>().prop_filter("an unknown id", |&id| MessageId::from_u8(id).is_none());
    prop_oneof![
        Just(Message::KeepAlive),
        Just(Message::Choke),
        Just(Message::Unchoke),
        Just(Message::Interested),
        Just(Message::NotInterested),
        any::<u32>().prop_map(Message::Have),
        payload().prop_map(Message::Bitfield),
        any_request().prop_map(Message::Request),
        (any::<u32>(), any::<u32>(), payload()).prop_map(|(piece, offset, block)| {
            Message::Piece {
                piece,
                offset,
                block,
            }
        }),
        any_request().prop_map(Message::Cancel),
        any::<u16>().prop_map(Message::Port),
        any::<u32>().prop_map(Message::Suggest),
        Just(Message::HaveAll),
        Just(Message::HaveNone),
        any_request().prop_map(Message::Reject),
        any::<u32>().prop_map(Message::AllowedFast),
        (any::<u8>(), payload()).prop_map(|(id, payload)| Message::Extended { id, payload }),
        (unknown_id, payload()).prop_map(|(id, payload)| Message::Unknown { id, payload }),
    ]
}

proptest! {
    #[test]
    fn any_message_round_trips(m in any_message(1024)) {
        let mut out = Vec::new();
        m.encode(&mut out);
        prop_assert_eq!(out.len(), m.encoded_len());
        let mut header = Vec::new();
        m.encode_header(&mut header);
        prop_assert_eq!(header.len(), m.header_len());
        prop_assert!(header.len() <= MAX_HEADER_LEN);
        prop_assert_eq!(&out[..header.len()], &header[..]);
        let len = u32::from_be_bytes(out[..4].try_into().unwrap()) as usize;
        prop_assert_eq!(len, out.len() - 4);
        prop_assert_eq!(Message::validate(&out[4..]), Ok(()));
        let back = Message::decode(&out[4..]).unwrap();
        prop_assert_eq!(&out[out.len() - back.payload().len()..], back.payload());
        prop_assert_eq!(back.map(<[u8]>::to_vec), m);
    }

    /// On a connection that did not negotiate fast, a body decodes as it
    /// would if this crate did not know the fast ids: any fast id is an
    /// unknown message, whatever its length; on one that did, as `decode`
    /// reads it.
    #[test]
    fn only_a_connection_that_negotiated_fast_reads_fast_messages(
        id in 12u8..=18,
        rest in vec(any::<u8>(), 0..20),
        dht in any::<bool>(),
        extended in any::<bool>(),
    ) {
        let mut body = vec![id];
        body.extend_from_slice(&rest);
        let plain = Extensions { dht, extended, fast: false };
        let fast = Extensions { fast: true, ..plain };
        prop_assert_eq!(Message::decode_from(&body, fast), Message::decode(&body));
        prop_assert_eq!(Message::validate_from(&body, fast), Message::validate(&body));
        let from_plain = Message::decode_from(&body, plain);
        prop_assert_eq!(Message::validate_from(&body, plain).is_ok(), from_plain.is_ok());
        if MessageId::from_u8(id).is_some_and(MessageId::is_fast) {
            prop_assert_eq!(from_plain, Ok(Message::Unknown { id, payload: &body[1..] }));
        } else {
            prop_assert_eq!(from_plain, Message::decode(&body));
        }
    }

    #[test]
    fn any_body_decodes_or_fails_as_validate_says(body in vec(any::<u8>(), 0..40)) {
        let validated = Message::validate(&body);
        let decoded = Message::decode(&body);
        prop_assert_eq!(decoded.is_ok(), validated.is_ok());
        if let Ok(m) = decoded {
            // What decodes encodes back to the same body.
            let mut out = Vec::new();
            m.encode(&mut out);
            prop_assert_eq!(&out[4..], &body[..]);
        }
    }
}

fn all_messages() -> Vec<Message<&'static [u8]>> {
    vec![
        Message::KeepAlive,
        Message::Choke,
        Message::Unchoke,
        Message::Interested,
        Message::NotInterested,
        Message::Have(u32::MAX),
        Message::Bitfield(&[0b1010_0000, 0xff]),
        Message::Bitfield(&[]),
        Message::Request(Request::new(1, 16384, 16384)),
        Message::Piece {
            piece: 7,
            offset: 0,
            block: b"hello world",
        },
        Message::Piece {
            piece: 0,
            offset: 0,
            block: &[],
        },
        Message::Cancel(Request::new(u32::MAX, u32::MAX - 1, 3)),
        Message::Port(6881),
        Message::Suggest(3),
        Message::HaveAll,
        Message::HaveNone,
        Message::Reject(Request::new(2, 16384, 16384)),
        Message::AllowedFast(u32::MAX),
        Message::Extended {
            id: 0,
            payload: b"d1:md11:ut_metadatai1eee",
        },
        Message::Unknown {
            id: 42,
            payload: &[1, 2, 3],
        },
    ]
}

#[test]
fn every_message_round_trips() {
    for m in all_messages() {
        let mut out = Vec::new();
        m.encode(&mut out);
        assert_eq!(out.len(), m.encoded_len(), "{m:?}");
        let len = u32::from_be_bytes(out[..4].try_into().unwrap()) as usize;
        assert_eq!(len, out.len() - 4, "{m:?}");
        assert_eq!(Message::decode(&out[4..]).unwrap(), m);
    }
}

#[test]
fn bytes_match_the_reference() {
    // Frames as peer-wire-protocol 0.7.1 writes them.
    let mut out = Vec::new();
    Message::<&[u8]>::Have(3).encode(&mut out);
    assert_eq!(out, [0, 0, 0, 5, 4, 0, 0, 0, 3]);
    out.clear();
    Message::<&[u8]>::Port(0x1ae1).encode(&mut out);
    assert_eq!(out, [0, 0, 0, 3, 9, 0x1a, 0xe1]);
    out.clear();
    Message::<&[u8]>::Interested.encode(&mut out);
    assert_eq!(out, [0, 0, 0, 1, 2]);
    out.clear();
    Message::<&[u8]>::Request(Request::new(1, 2, 3)).encode(&mut out);
    assert_eq!(out, [0, 0, 0, 13, 6, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]);
}

#[test]
fn header_leaves_the_payload_out() {
    let m = Message::Piece {
        piece: 1,
        offset: 2,
        block: &[9; 100],
    };
    let mut out = Vec::new();
    m.encode_header(&mut out);
    assert_eq!(out, [0, 0, 0, 109, 7, 0, 0, 0, 1, 0, 0, 0, 2]);
    assert!(out.len() <= MAX_HEADER_LEN);
}

#[test]
fn wrong_lengths_are_rejected_per_id() {
    let err = Message::decode(&[4, 0, 0]).unwrap_err();
    assert_eq!(
        err,
        DecodeError::BadLength {
            id: 4,
            name: "have",
            expected: BodyLen::Exactly(5),
            received: 3
        }
    );
    assert_eq!(
        err.to_string(),
        "have message (id 4) has a body of 3 bytes, expected exactly 5"
    );
    assert!(Message::decode(&[0, 0]).is_err());
    assert!(Message::decode(&[7, 0, 0, 0, 0, 0, 0, 0]).is_err());
    assert!(Message::decode(&[20]).is_err());
    assert!(Message::decode(&[9, 1, 2, 3]).is_err());
}

#[test]
fn every_id_is_listed_once_with_bep_3s_length() {
    use BodyLen::{AtLeast, Exactly};
    let rules = [
        (0, Exactly(1)),
        (1, Exactly(1)),
        (2, Exactly(1)),
        (3, Exactly(1)),
        (4, Exactly(5)),
        (5, AtLeast(1)),
        (6, Exactly(13)),
        (7, AtLeast(9)),
        (8, Exactly(13)),
        (9, Exactly(3)),
        (13, Exactly(5)),
        (14, Exactly(1)),
        (15, Exactly(1)),
        (16, Exactly(13)),
        (17, Exactly(5)),
        (20, AtLeast(2)),
    ];
    assert_eq!(MessageId::ALL.map(|id| (id as u8, id.body_len())), rules);
    for byte in 0..=u8::MAX {
        let listed = MessageId::ALL.into_iter().find(|&id| id as u8 == byte);
        assert_eq!(MessageId::from_u8(byte), listed);
    }
    let longest = MessageId::ALL.map(|id| LENGTH_PREFIX_LEN + id.fixed_len());
    assert_eq!(longest.into_iter().max(), Some(MAX_HEADER_LEN));
    assert_eq!(MAX_HEADER_LEN, 17);
}

#[test]
fn fast_messages_are_bep_6s_bytes() {
    let cases: [(Message<&[u8]>, &[u8]); 5] = [
        (Message::Suggest(3), &[0, 0, 0, 5, 13, 0, 0, 0, 3]),
        (Message::HaveAll, &[0, 0, 0, 1, 14]),
        (Message::HaveNone, &[0, 0, 0, 1, 15]),
        (
            Message::Reject(Request::new(1, 2, 3)),
            &[0, 0, 0, 13, 16, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3],
        ),
        (
            Message::AllowedFast(0x0102_0304),
            &[0, 0, 0, 5, 17, 1, 2, 3, 4],
        ),
    ];
    let fast = Extensions {
        fast: true,
        ..Extensions::default()
    };
    for (m, bytes) in cases {
        let mut out = Vec::new();
        m.encode(&mut out);
        assert_eq!(out, bytes, "{m:?}");
        assert_eq!(Message::decode_from(&out[4..], fast), Ok(m));
        // From a peer without the fast bit: the same bytes, unknown.
        assert_eq!(
            Message::decode_from(&out[4..], Extensions::default()),
            Ok(Message::Unknown {
                id: out[4],
                payload: &out[5..]
            })
        );
    }
}

/// Hostile: each fast id with a wrong length, with fast negotiated, breaks
/// the length rule under the name bittorrent-protocol gives its event;
/// without, it is an unknown message.
#[test]
fn a_fast_message_of_the_wrong_length_is_bad_only_when_fast_is_negotiated() {
    use BodyLen::Exactly;
    let fast = Extensions {
        fast: true,
        ..Extensions::default()
    };
    let cases: [(&[u8], &str, u32); 10] = [
        (&[13, 0, 0, 0], "suggest", 5),
        (&[13, 0, 0, 0, 1, 0], "suggest", 5),
        (&[14, 0], "have-all", 1),
        (&[14, 1, 2, 3, 4], "have-all", 1),
        (&[15, 0], "have-none", 1),
        (&[16, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0], "reject", 13),
        (&[16; 14], "reject", 13),
        (&[16], "reject", 13),
        (&[17, 0, 0, 0], "allowed-fast", 5),
        (&[17, 0, 0, 0, 0, 0, 0, 0, 0], "allowed-fast", 5),
    ];
    for (body, name, expected) in cases {
        let err = DecodeError::BadLength {
            id: body[0],
            name,
            expected: Exactly(expected),
            received: body.len() as u32,
        };
        assert_eq!(Message::decode_from(body, fast), Err(err.clone()));
        assert_eq!(Message::validate_from(body, fast), Err(err.clone()));
        assert_eq!(err.code(), "ERR_PEER_WIRE_BAD_LENGTH");
        assert!(err
            .to_string()
            .starts_with(&format!("{name} message (id {})", body[0])));
        assert_eq!(
            Message::decode_from(body, Extensions::default()),
            Ok(Message::Unknown {
                id: body[0],
                payload: &body[1..]
            })
        );
    }
}

/// One message of every kind (the decoder's and the codec's sessions).
pub(crate) fn every_message() -> Vec<Message<&'static [u8]>> {
    vec![
        Message::Bitfield(&[0xff, 0x0f, 0x80]),
        Message::Interested,
        Message::Unchoke,
        Message::KeepAlive,
        Message::Have(12),
        Message::Request(Request::new(0, 0, 16384)),
        Message::Piece {
            piece: 0,
            offset: 0,
            block: &[0x5a; 300],
        },
        Message::Cancel(Request::new(1, 16384, 16384)),
        Message::Port(6881),
        Message::Extended {
            id: 0,
            payload: b"d1:md6:ut_pexi1eee",
        },
        Message::Unknown {
            id: 99,
            payload: &[1, 2],
        },
        Message::NotInterested,
        Message::Choke,
        Message::Suggest(3),
        Message::HaveAll,
        Message::HaveNone,
        Message::Reject(Request::new(0, 0, 16384)),
        Message::AllowedFast(5),
    ]
}
