//! The Rust `Wire` driven by a hostile peer and by any sequence of local
//! calls.
//!
//! The input is a derived `Input`: the wire's limits, whether both
//! handshakes come first, then calls. The peer's side is raw bytes, cut
//! anywhere, or well-formed requests and cancels (so that the request
//! limits are reached without guessing frames). Events are polled one call
//! at a time, so local calls land between messages already received.
//!
//! Checked: no panic; the peer's pending requests never number more than
//! `max_peer_requests` and each asks for 1 to `max_block_len` bytes; a
//! request is reported only when it was kept; the dropped count only grows;
//! a closed wire reports nothing and holds no peer request; and when both
//! handshakes came first, everything the wire sends decodes cleanly on a
//! second wire.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use peer_wire_native::protocol::{
    Event, Handshake, Limits, Message, Request, Wire, DEFAULT_MAX_FRAME_LEN,
};

#[derive(Debug, Arbitrary)]
struct Input {
    /// Bit 7: the default frame limit, else the low 6 bits.
    max_frame_len: u8,
    max_peer_requests: u8,
    max_block_len: u16,
    /// Both handshakes first: the peer's is received, ours is sent.
    handshakes: bool,
    ops: Vec<Op>,
}

#[derive(Debug, Arbitrary)]
enum Op {
    /// Bytes from the peer.
    Receive(Vec<u8>),
    /// A request from the peer.
    PeerRequest {
        piece: u8,
        offset: u8,
        length: u16,
    },
    /// A cancel from the peer.
    PeerCancel {
        piece: u8,
        offset: u8,
        length: u16,
    },
    /// Polls up to this many events.
    Poll(u8),
    Request {
        piece: u8,
        offset: u8,
        length: u16,
    },
    Cancel {
        piece: u8,
        offset: u8,
        length: u16,
    },
    Choke,
    Unchoke,
    Interested,
    Uninterested,
    Have(u32),
    Bitfield(Vec<u8>),
    Piece {
        piece: u8,
        offset: u8,
        block: Vec<u8>,
    },
    Extended {
        id: u8,
        payload: Vec<u8>,
    },
    Port(u16),
    KeepAlive,
    /// Answers the peer's pending request at this index (modulo), if any.
    Respond(u8),
    /// Declines the peer's pending request at this index (modulo), if any.
    Reject(u8),
    HandleTimeout,
    PollTransmit,
    Close,
}

fn request(piece: u8, offset: u8, length: u16) -> Request {
    Request::new(piece.into(), offset.into(), length.into())
}

fn frame(message: Message<&[u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    message.encode(&mut out);
    out
}

struct Harness {
    wire: Wire,
    /// Decodes what `wire` sends, when it began with a handshake.
    mirror: Option<Wire>,
    dropped: u64,
}

impl Harness {
    fn check(&mut self) {
        let limits = self.wire.limits();
        let pending = self.wire.peer_requests();
        assert!(pending.len() <= limits.max_peer_requests);
        assert!(pending
            .iter()
            .all(|r| r.length != 0 && r.length <= limits.max_block_len));
        assert!(self.wire.dropped_requests() >= self.dropped);
        self.dropped = self.wire.dropped_requests();
        if self.wire.is_closed() {
            assert!(pending.is_empty());
        }
    }

    fn poll(&mut self, count: usize) {
        for _ in 0..count {
            let Some(event) = self.wire.poll_event() else {
                break;
            };
            assert!(!self.wire.is_closed() || event.is_err());
            if let Ok(Event::Request(r)) = event {
                assert!(!self.wire.am_choking());
                assert_eq!(self.wire.peer_requests().last(), Some(&r));
            }
            self.check();
        }
        if self.wire.is_closed() {
            assert!(self.wire.poll_event().is_none());
        }
    }

    fn transmit(&mut self) {
        while let Some(bytes) = self.wire.poll_transmit() {
            if let Some(mirror) = &mut self.mirror {
                mirror.receive(&bytes);
                while let Some(event) = mirror.poll_event() {
                    assert!(
                        event.is_ok(),
                        "the wire sent what it cannot read: {event:?}"
                    );
                }
            }
        }
    }
}

fuzz_target!(|input: Input| {
    let limits = Limits {
        max_frame_len: if input.max_frame_len & 0x80 != 0 {
            DEFAULT_MAX_FRAME_LEN
        } else {
            u32::from(input.max_frame_len & 0x3f)
        },
        max_peer_requests: input.max_peer_requests.into(),
        max_block_len: input.max_block_len.into(),
    };
    let mut h = Harness {
        wire: Wire::with_limits(limits),
        mirror: None,
        dropped: 0,
    };
    if input.handshakes {
        let mut hs = Vec::new();
        Handshake::new([0xaa; 20], [0xbb; 20], true).encode(&mut hs);
        h.wire.receive(&hs);
        h.wire.handshake([0xaa; 20], [0xcc; 20], false);
        h.mirror = Some(Wire::new());
    }
    for op in input.ops {
        match op {
            Op::Receive(bytes) => h.wire.receive(&bytes),
            Op::PeerRequest {
                piece,
                offset,
                length,
            } => h
                .wire
                .receive(&frame(Message::Request(request(piece, offset, length)))),
            Op::PeerCancel {
                piece,
                offset,
                length,
            } => h
                .wire
                .receive(&frame(Message::Cancel(request(piece, offset, length)))),
            Op::Poll(count) => h.poll(count.into()),
            Op::Request {
                piece,
                offset,
                length,
            } => {
                let before = h.wire.requests().len();
                let sent = h.wire.request(request(piece, offset, length)).is_ok();
                assert_eq!(sent, !h.wire.is_closed() && !h.wire.peer_choking());
                assert_eq!(h.wire.requests().len(), before + usize::from(sent));
            }
            Op::Cancel {
                piece,
                offset,
                length,
            } => {
                let r = request(piece, offset, length);
                let had = h.wire.requests().contains(&r);
                assert_eq!(h.wire.cancel(r), had.then_some(r));
            }
            Op::Choke => {
                h.wire.choke();
                assert!(h.wire.peer_requests().is_empty());
            }
            Op::Unchoke => h.wire.unchoke(),
            Op::Interested => h.wire.interested(),
            Op::Uninterested => h.wire.uninterested(),
            Op::Have(index) => h.wire.have(index),
            Op::Bitfield(bits) => h.wire.bitfield(&bits),
            Op::Piece {
                piece,
                offset,
                block,
            } => h.wire.piece(piece.into(), offset.into(), &block),
            Op::Extended { id, payload } => h.wire.extended(id, &payload),
            Op::Port(port) => h.wire.port(port),
            Op::KeepAlive => h.wire.keep_alive(),
            Op::Respond(i) => {
                let pending = h.wire.peer_requests();
                if !pending.is_empty() {
                    let r = pending[usize::from(i) % pending.len()];
                    let uploaded = h.wire.uploaded();
                    let block = vec![0x5a; r.length as usize];
                    assert!(h.wire.respond(r, &block));
                    assert_eq!(h.wire.uploaded(), uploaded + u64::from(r.length));
                }
            }
            Op::Reject(i) => {
                let pending = h.wire.peer_requests();
                if !pending.is_empty() {
                    let r = pending[usize::from(i) % pending.len()];
                    let before = pending.len();
                    assert!(h.wire.reject(r));
                    assert_eq!(h.wire.peer_requests().len(), before - 1);
                }
            }
            Op::HandleTimeout => {
                let oldest = h.wire.requests().front().copied();
                assert_eq!(h.wire.handle_timeout(), oldest);
            }
            Op::PollTransmit => h.transmit(),
            Op::Close => {
                let pending: Vec<Request> = h.wire.requests().iter().copied().collect();
                assert_eq!(h.wire.close(), pending);
                assert!(h.wire.is_closed() && h.wire.requests().is_empty());
            }
        }
        h.check();
    }
    h.poll(usize::MAX);
    h.transmit();
    h.check();
});
