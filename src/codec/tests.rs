//! The codec over a real loopback TCP connection (127.0.0.1 only), and on
//! buffers for what a socket cannot show.

use bytes::BufMut;
use futures_util::{SinkExt, StreamExt};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::{Decoder as _, Encoder as _, Framed};

use super::*;
use crate::protocol::every_message;

/// Both ends of a fresh loopback connection, with Nagle's algorithm off
/// (as BitTorrent clients set it), so that small writes go out at once.
async fn connected() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
    let (client, server) = (client.unwrap(), accepted.unwrap().0);
    client.set_nodelay(true).unwrap();
    server.set_nodelay(true).unwrap();
    (client, server)
}

/// A [`PeerCodec`] that counts the reads that ended inside a frame: the
/// calls that found bytes but not a whole frame.
#[derive(Default)]
struct CountSplits {
    inner: PeerCodec,
    splits: usize,
}

impl codec::Decoder for CountSplits {
    type Item = PeerFrame;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<PeerFrame>, CodecError> {
        let had_bytes = !src.is_empty();
        let frame = self.inner.decode(src)?;
        if frame.is_none() && had_bytes {
            self.splits += 1;
        }
        Ok(frame)
    }
}

impl<I> codec::Encoder<I> for CountSplits
where
    PeerCodec: codec::Encoder<I, Error = CodecError>,
{
    type Error = CodecError;

    fn encode(&mut self, item: I, dst: &mut BytesMut) -> Result<(), CodecError> {
        self.inner.encode(item, dst)
    }
}

async fn next_message<T>(end: &mut T) -> Message<Vec<u8>>
where
    T: futures_util::Stream<Item = Result<PeerFrame, CodecError>> + Unpin,
{
    match end.next().await {
        Some(Ok(PeerFrame::Message(m))) => m.map(|payload| payload.to_vec()),
        other => panic!("expected a message, got {other:?}"),
    }
}

#[tokio::test]
async fn a_whole_session_over_loopback_tcp() {
    let (client, server) = connected().await;
    let mut a = Framed::new(client, PeerCodec::default());
    let mut b = Framed::new(server, CountSplits::default());

    // Handshakes both ways.
    let ours = Handshake::new([0xaa; 20], *b"-PW0001-123456789012", true).with_fast(true);
    let theirs = Handshake::new([0xaa; 20], *b"-XX0001-abcdefghijkl", false).with_fast(true);
    a.send(ours).await.unwrap();
    assert_eq!(b.next().await.unwrap().unwrap(), PeerFrame::Handshake(ours));
    b.send(theirs).await.unwrap();
    assert_eq!(
        a.next().await.unwrap().unwrap(),
        PeerFrame::Handshake(theirs)
    );

    // Every kind of message, each way.
    for m in every_message() {
        a.send(m).await.unwrap();
        assert_eq!(next_message(&mut b).await, m.map(<[u8]>::to_vec));
        b.send(m).await.unwrap();
        assert_eq!(next_message(&mut a).await, m.map(<[u8]>::to_vec));
    }

    // A 16 KiB piece written in 100-byte pieces, each flushed and followed
    // by a yield, so that the other end reads it in parts.
    let block: Vec<u8> = (0..16384u32).map(|i| i as u8).collect();
    let piece = Message::Piece {
        piece: 7,
        offset: 16384,
        block: &block[..],
    };
    let mut bytes = Vec::new();
    piece.encode(&mut bytes);
    let splits_before = b.codec().splits;
    let write = async {
        let stream = a.get_mut();
        for part in bytes.chunks(100) {
            stream.write_all(part).await.unwrap();
            stream.flush().await.unwrap();
            tokio::task::yield_now().await;
        }
    };
    let (_, received) = tokio::join!(write, next_message(&mut b));
    assert_eq!(received, piece.map(<[u8]>::to_vec));
    let splits = b.codec().splits - splits_before;
    assert!(splits > 1, "the piece arrived in {} reads", splits + 1);

    // A length prefix over the limit: the frame is refused from it.
    a.get_mut().write_all(&[0xff; 4]).await.unwrap();
    match b.next().await {
        Some(Err(CodecError::Decode(err))) => assert_eq!(
            err,
            DecodeError::FrameTooLarge {
                length: u32::MAX,
                max: DEFAULT_MAX_FRAME_LEN
            }
        ),
        other => panic!("expected FrameTooLarge, got {other:?}"),
    }
}

/// `bytes` after a valid handshake, as a codec's read buffer.
fn after_handshake(bytes: &[u8]) -> BytesMut {
    let mut src = BytesMut::new();
    Handshake::new([1; 20], [2; 20], false).encode(&mut src);
    src.put_slice(bytes);
    src
}

#[test]
fn a_payload_shares_the_read_buffer() {
    let mut src = after_handshake(&[]);
    Message::Bitfield(&[0xf0; 64][..]).encode(&mut src);
    let start = src.as_ptr() as usize;
    let end = start + src.len();
    let mut codec = PeerCodec::default();
    assert!(matches!(
        codec.decode(&mut src),
        Ok(Some(PeerFrame::Handshake(_)))
    ));
    let Ok(Some(PeerFrame::Message(Message::Bitfield(bits)))) = codec.decode(&mut src) else {
        panic!("expected a bitfield");
    };
    assert_eq!(bits, [0xf0; 64][..]);
    assert!((start..end).contains(&(bits.as_ptr() as usize)));
    assert!(src.is_empty());
}

#[test]
fn errors_are_the_decoders_and_stay() {
    let mut codec = PeerCodec::default();
    let mut src = BytesMut::from(&b"GET / HTTP/1.1"[..]);
    let err = codec.decode(&mut src).unwrap_err();
    assert!(matches!(
        err,
        CodecError::Decode(DecodeError::ProtocolLength(b'G'))
    ));
    let mut later = after_handshake(&[]);
    assert!(matches!(
        codec.decode(&mut later),
        Err(CodecError::Decode(DecodeError::ProtocolLength(b'G')))
    ));

    // A wrong protocol is refused before 68 bytes arrive.
    let mut src = BytesMut::from(&b"\x13BitTorrent protoX"[..]);
    let err = PeerCodec::default().decode(&mut src).unwrap_err();
    assert!(matches!(err, CodecError::Decode(DecodeError::ProtocolName)));

    // Each id's length rule: a have of 3 bytes.
    let mut src = after_handshake(&[0, 0, 0, 3, 4, 0, 0]);
    let mut codec = PeerCodec::default();
    codec.decode(&mut src).unwrap();
    let err = codec.decode(&mut src).unwrap_err();
    let CodecError::Decode(err) = err else {
        panic!("expected a decode error");
    };
    assert_eq!(err.code(), "ERR_PEER_WIRE_BAD_LENGTH");
}

#[test]
fn a_length_prefix_alone_reserves_at_most_a_mebibyte() {
    let mut src = after_handshake(&[0xff, 0xff, 0xff, 0xf0]);
    let mut codec = PeerCodec::new(u32::MAX);
    codec.decode(&mut src).unwrap();
    assert_eq!(codec.decode(&mut src).unwrap(), None);
    assert!(src.capacity() <= 4 + RESERVE_AHEAD, "{}", src.capacity());
}

/// The decoder's rule for the fast messages, followed: typed when both
/// handshakes set the fast bit (ours seen as the codec encodes it), an
/// error when only ours did, unknown ids of any length otherwise.
#[test]
fn fast_messages_follow_both_handshakes() {
    let frames: [&[u8]; 3] = [
        &[0, 0, 0, 5, 17, 0, 0, 0, 9],
        &[0, 0, 0, 1, 14],
        &[0, 0, 0, 3, 13, 0, 1],
    ];
    for (peer_fast, ours_fast) in [(false, true), (true, false), (true, true)] {
        let fast = peer_fast && ours_fast;
        let mut src = BytesMut::new();
        Handshake::new([1; 20], [2; 20], false)
            .with_fast(peer_fast)
            .encode(&mut src);
        for frame in frames {
            src.put_slice(frame);
        }
        let mut codec = PeerCodec::default();
        codec.decode(&mut src).unwrap();
        // Our answer, through the codec: it notes the fast bit.
        let ours = Handshake::new([1; 20], [3; 20], false).with_fast(ours_fast);
        codec.encode(ours, &mut BytesMut::new()).unwrap();
        let mut next = || match codec.decode(&mut src) {
            Ok(Some(PeerFrame::Message(m))) => Ok(m.map(|p| p.to_vec())),
            Ok(other) => panic!("expected a message, got {other:?}"),
            Err(CodecError::Decode(err)) => Err(err),
            Err(err) => panic!("{err}"),
        };
        if ours_fast && !peer_fast {
            let err = next().unwrap_err();
            assert_eq!(err.code(), "ERR_PEER_WIRE_FAST_NOT_NEGOTIATED");
        } else if fast {
            assert_eq!(next(), Ok(Message::AllowedFast(9)));
            assert_eq!(next(), Ok(Message::HaveAll));
            let err = next().unwrap_err();
            assert_eq!(err.code(), "ERR_PEER_WIRE_BAD_LENGTH");
            assert!(err.to_string().starts_with("suggest message (id 13)"));
        } else {
            let unknown = |id, payload: &[u8]| Message::Unknown {
                id,
                payload: payload.to_vec(),
            };
            assert_eq!(next(), Ok(unknown(17, &[0, 0, 0, 9])));
            assert_eq!(next(), Ok(unknown(14, &[])));
            assert_eq!(next(), Ok(unknown(13, &[0, 1])));
        }
    }
}
