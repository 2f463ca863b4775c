//! The wire: the state of one peer connection, as a sans-IO state machine.
//!
//! A [`Wire`] mirrors the `Wire` of peer-wire-protocol 0.7.1 without its
//! stream, timers or callbacks. The caller feeds the peer's bytes in with
//! [`Wire::receive`], takes one [`Event`] at a time with
//! [`Wire::poll_event`], calls the sending methods ([`Wire::request`],
//! [`Wire::unchoke`], …) and drains the bytes to send with
//! [`Wire::poll_transmit`]. The wire never reads a clock: request timeouts
//! and keep-alive intervals belong to the caller ([`Wire::handle_timeout`],
//! [`Wire::keep_alive`]).
//!
//! Each event's state transition is applied when [`Wire::poll_event`]
//! returns it, not when its bytes arrive, so whatever the caller does between
//! two calls is seen by the next message, as in the reference, which handles
//! messages one by one.

use std::collections::VecDeque;
use std::ops::Range;

use bytes::{Buf, Bytes, BytesMut};

use super::decoder::{Decoder, FrameKind, Origin};
use super::error::{DecodeError, UsageError};
use super::limits::Limits;
use super::message::{Extensions, Handshake, Message, Request};

/// What a message from the peer meant, reported after its state transition
/// has been applied. The names follow the reference's events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `'handshake'`. [`Wire::peer_extensions`] now holds `extensions`.
    Handshake {
        info_hash: [u8; 20],
        peer_id: [u8; 20],
        extensions: Extensions,
    },
    /// `'keep-alive'`.
    KeepAlive,
    /// `'choke'`: the peer chokes us. Every request of ours that was pending
    /// has been removed, oldest first, into `failed`; the caller fails them
    /// with "peer is choking" ([`crate::protocol::RequestError::PeerChoking`]).
    Choke { failed: Vec<Request> },
    /// `'unchoke'`: we may request blocks.
    Unchoke,
    /// `'interested'`.
    Interested,
    /// `'uninterested'`.
    Uninterested,
    /// `'have'`: the peer has this piece (see [`Wire::has_piece`]).
    Have(u32),
    /// `'bitfield'`: the peer's pieces, one bit each, most significant bit
    /// first. They replace the first `8 * len` entries of the peer's pieces.
    Bitfield(Bytes),
    /// `'request'`: the peer asks for a block while we do not choke it. The
    /// request is now in [`Wire::peer_requests`]; answer it with
    /// [`Wire::respond`] or drop it with [`Wire::reject`]. A request that
    /// arrives while we choke the peer is dropped without an event, as the
    /// reference drops it; so is one past the [`Limits`] (an empty block, a
    /// block over `max_block_len`, `max_peer_requests` already pending),
    /// which is counted in [`Wire::dropped_requests`].
    Request(Request),
    /// `'cancel'`: the peer no longer wants this block. The first equal
    /// request has been removed from [`Wire::peer_requests`], if there was
    /// one; the event comes either way.
    Cancel(Request),
    /// `'piece'`: a block. [`Wire::downloaded`] counts it. `matched` is the
    /// pending request of ours it answered (the first one with the same
    /// piece, offset and length), now removed from [`Wire::requests`];
    /// `None` when the block was not requested (or was cancelled).
    Piece {
        piece: u32,
        offset: u32,
        block: Bytes,
        matched: Option<Request>,
    },
    /// `'port'`: the peer's DHT port (BEP 5).
    Port(u16),
    /// `'extended'`: a BEP 10 message; `payload` is not decoded.
    Extended { id: u8, payload: Bytes },
    /// `'unknownmessage'`: a message id this crate does not know, and the
    /// body after it.
    Unknown { id: u8, payload: Bytes },
}

/// A decoded frame with its payload as a range inside the frame's body, so
/// that the decoder's borrow of the input ends before the payload is taken
/// out of it as [`Bytes`].
type Head = FrameKind<Range<usize>>;

fn head(kind: FrameKind<&[u8]>) -> Head {
    let at = match &kind {
        FrameKind::Message(m) => m.payload_offset(),
        FrameKind::Handshake(_) | FrameKind::PieceStart { .. } => 0,
    };
    kind.map(|payload| at..at + payload.len())
}

/// Where the first request equal to `wanted` is: the search of the
/// reference's `pull`, which matches piece, offset and length.
fn position_of<'a>(
    requests: impl IntoIterator<Item = &'a Request>,
    wanted: &Request,
) -> Option<usize> {
    requests.into_iter().position(|r| r == wanted)
}

/// One peer connection's protocol state, without I/O.
///
/// Memory: input given to [`Wire::receive`] is kept until
/// [`Wire::poll_event`] has decoded it, and output until
/// [`Wire::poll_transmit`] takes it; a caller bounds both by polling. A
/// single frame never holds more than [`Limits::max_frame_len`], and the
/// peer's pending requests never number more than
/// [`Limits::max_peer_requests`].
#[derive(Debug)]
pub struct Wire {
    limits: Limits,
    decoder: Decoder,
    /// Received bytes not yet decoded.
    pending: BytesMut,
    /// Encoded bytes not yet taken by [`Wire::poll_transmit`].
    outgoing: BytesMut,
    am_choking: bool,
    am_interested: bool,
    peer_choking: bool,
    peer_interested: bool,
    peer_extensions: Extensions,
    /// The peer's pieces, one bit each, most significant bit first.
    peer_pieces: Vec<u8>,
    /// The length the reference's `peerPieces` array would have.
    peer_pieces_len: usize,
    requests: VecDeque<Request>,
    peer_requests: Vec<Request>,
    /// Requests of the peer's dropped for breaking the limits.
    dropped_requests: u64,
    uploaded: u64,
    downloaded: u64,
    closed: bool,
}

impl Default for Wire {
    fn default() -> Self {
        Self::new()
    }
}

impl Wire {
    /// A wire in the reference's initial state: both sides choking, neither
    /// interested, expecting the peer's handshake, with the default
    /// [`Limits`].
    pub fn new() -> Self {
        Self::with_limits(Limits::default())
    }

    /// A wire in the initial state with these limits.
    pub fn with_limits(limits: Limits) -> Self {
        Wire {
            limits,
            decoder: Decoder::new(limits.max_frame_len),
            pending: BytesMut::new(),
            outgoing: BytesMut::new(),
            am_choking: true,
            am_interested: false,
            peer_choking: true,
            peer_interested: false,
            peer_extensions: Extensions::default(),
            peer_pieces: Vec::new(),
            peer_pieces_len: 0,
            requests: VecDeque::new(),
            peer_requests: Vec::new(),
            dropped_requests: 0,
            uploaded: 0,
            downloaded: 0,
            closed: false,
        }
    }

    // ---- state -------------------------------------------------------------

    /// The limits this wire was made with.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Whether we choke the peer (`amChoking`).
    pub fn am_choking(&self) -> bool {
        self.am_choking
    }

    /// Whether we told the peer we are interested (`amInterested`).
    pub fn am_interested(&self) -> bool {
        self.am_interested
    }

    /// Whether the peer chokes us (`peerChoking`).
    pub fn peer_choking(&self) -> bool {
        self.peer_choking
    }

    /// Whether the peer is interested (`peerInterested`).
    pub fn peer_interested(&self) -> bool {
        self.peer_interested
    }

    /// The flags of the peer's handshake; all off before it has arrived.
    pub fn peer_extensions(&self) -> Extensions {
        self.peer_extensions
    }

    /// Whether the peer has announced piece `index`, by `have` or `bitfield`.
    ///
    /// Unlike the reference, which keeps a sparse array, a `have` past the
    /// largest bitfield a message could carry (`8 * (max_frame_len - 1)`
    /// pieces) is reported but not recorded, so that a peer cannot make the
    /// wire allocate half a gigabyte with one 9-byte message.
    pub fn has_piece(&self, index: u32) -> bool {
        let index = index as usize;
        self.peer_pieces
            .get(index / 8)
            .is_some_and(|byte| byte & (0x80 >> (index % 8)) != 0)
    }

    /// The peer's pieces as a bitfield, most significant bit first; bytes
    /// past the end are all zero.
    pub fn peer_pieces(&self) -> &[u8] {
        &self.peer_pieces
    }

    /// The length the reference's `peerPieces` array would have: one past
    /// the highest index a `have` set, or `8 * len` of the longest bitfield.
    pub fn peer_pieces_len(&self) -> usize {
        self.peer_pieces_len
    }

    /// Our pending requests (`requests`), oldest first.
    pub fn requests(&self) -> &VecDeque<Request> {
        &self.requests
    }

    /// The peer's pending requests (`peerRequests`), oldest first.
    pub fn peer_requests(&self) -> &[Request] {
        &self.peer_requests
    }

    /// Requests of the peer's dropped, without an event, because they broke
    /// the [`Limits`] (`droppedRequests` in JavaScript). Requests that arrive
    /// while we choke the peer are not counted.
    pub fn dropped_requests(&self) -> u64 {
        self.dropped_requests
    }

    /// Block bytes sent with [`Wire::piece`] or [`Wire::respond`].
    pub fn uploaded(&self) -> u64 {
        self.uploaded
    }

    /// Block bytes received in `piece` messages, requested or not.
    pub fn downloaded(&self) -> u64 {
        self.downloaded
    }

    /// Whether the wire is closed, by [`Wire::close`] or a decode error.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    // ---- input -------------------------------------------------------------

    /// Buffers bytes from the peer, cut anywhere. Nothing is decoded until
    /// [`Wire::poll_event`]. Bytes received after the wire closed are
    /// dropped.
    pub fn receive(&mut self, bytes: &[u8]) {
        if !self.closed {
            self.pending.extend_from_slice(bytes);
        }
    }

    /// Decodes the next message from the received bytes, applies its state
    /// transition and reports it. `None` means the bytes received so far hold
    /// no further event (or the wire is closed).
    ///
    /// A request that arrives while we choke the peer, or that breaks the
    /// [`Limits`], is dropped without an event; polling goes on to the next
    /// message.
    ///
    /// After an error the stream cannot be resynchronised: the wire is
    /// closed, the peer's requests are cleared, and later calls return
    /// `None`. Call [`Wire::close`] to take our requests still pending.
    pub fn poll_event(&mut self) -> Option<Result<Event, DecodeError>> {
        while !self.closed && !self.pending.is_empty() {
            let mut used = 0;
            let (head, origin) = match self.decoder.decode(&self.pending, &mut used) {
                Ok(Some(frame)) => (head(frame.kind), frame.origin),
                // The decoder keeps the unfinished frame's bytes itself.
                Ok(None) => {
                    self.pending.clear();
                    break;
                }
                Err(err) => {
                    self.closed = true;
                    self.pending = BytesMut::new();
                    self.peer_requests.clear();
                    return Some(Err(err));
                }
            };
            let frame = self.take_frame(used, origin, head);
            if let Some(event) = self.apply(frame) {
                return Some(Ok(event));
            }
        }
        None
    }

    /// Consumes the first `used` received bytes and returns the frame with
    /// its payload as [`Bytes`] sharing the received buffer (no copy).
    fn take_frame(&mut self, used: usize, origin: Origin, head: Head) -> FrameKind<Bytes> {
        // Taken even when unused, so that the decoder lets it go now.
        let gathered = match origin {
            Origin::Input(_) => None,
            Origin::Buffered => self.decoder.take_buffered(),
        };
        let mut consumed = false;
        let pending = &mut self.pending;
        let frame = head.map(|range| match origin {
            Origin::Input(at) => {
                consumed = true;
                let taken = pending.split_to(used).freeze();
                taken.slice(at + range.start..at + range.end)
            }
            Origin::Buffered => gathered
                .map(|body| Bytes::from(body).slice(range))
                .unwrap_or_default(),
        });
        if !consumed {
            self.pending.advance(used);
        }
        frame
    }

    /// The reference's `_on*` handlers.
    fn apply(&mut self, frame: FrameKind<Bytes>) -> Option<Event> {
        let message = match frame {
            FrameKind::Handshake(hs) => {
                self.peer_extensions = hs.extensions();
                return Some(Event::Handshake {
                    info_hash: hs.info_hash,
                    peer_id: hs.peer_id,
                    extensions: self.peer_extensions,
                });
            }
            FrameKind::Message(message) => message,
            // Only in split mode, which this wire's decoder never uses.
            FrameKind::PieceStart { .. } => return None,
        };
        Some(match message {
            Message::KeepAlive => Event::KeepAlive,
            Message::Choke => {
                self.peer_choking = true;
                Event::Choke {
                    failed: self.requests.drain(..).collect(),
                }
            }
            Message::Unchoke => {
                self.peer_choking = false;
                Event::Unchoke
            }
            Message::Interested => {
                self.peer_interested = true;
                Event::Interested
            }
            Message::NotInterested => {
                self.peer_interested = false;
                Event::Uninterested
            }
            Message::Have(index) => {
                self.set_piece(index);
                Event::Have(index)
            }
            Message::Bitfield(data) => {
                if self.peer_pieces.len() < data.len() {
                    self.peer_pieces.resize(data.len(), 0);
                }
                self.peer_pieces[..data.len()].copy_from_slice(&data);
                self.peer_pieces_len = self.peer_pieces_len.max(8 * data.len());
                Event::Bitfield(data)
            }
            Message::Request(request) => {
                if self.am_choking {
                    return None;
                }
                if !self
                    .limits
                    .admits_request(self.peer_requests.len(), request.length)
                {
                    self.dropped_requests += 1;
                    return None;
                }
                self.peer_requests.push(request);
                Event::Request(request)
            }
            Message::Cancel(request) => {
                if let Some(i) = position_of(&self.peer_requests, &request) {
                    self.peer_requests.remove(i);
                }
                Event::Cancel(request)
            }
            Message::Piece {
                piece,
                offset,
                block: data,
            } => {
                // A block is shorter than the maximum frame length, a u32.
                let wanted = Request::new(piece, offset, data.len() as u32);
                let matched =
                    position_of(&self.requests, &wanted).and_then(|i| self.requests.remove(i));
                self.downloaded += data.len() as u64;
                Event::Piece {
                    piece,
                    offset,
                    block: data,
                    matched,
                }
            }
            Message::Port(port) => Event::Port(port),
            Message::Extended { id, payload } => Event::Extended { id, payload },
            Message::Unknown { id, payload } => Event::Unknown { id, payload },
        })
    }

    fn set_piece(&mut self, index: u32) {
        let index = index as usize;
        let max_pieces = 8 * (self.decoder.max_frame_len() as usize).saturating_sub(1);
        if index >= max_pieces {
            return;
        }
        if self.peer_pieces.len() <= index / 8 {
            self.peer_pieces.resize(index / 8 + 1, 0);
        }
        self.peer_pieces[index / 8] |= 0x80 >> (index % 8);
        self.peer_pieces_len = self.peer_pieces_len.max(index + 1);
    }

    // ---- output ------------------------------------------------------------

    /// Takes the bytes to send to the peer, if there are any. Bytes queued
    /// before [`Wire::close`] can still be taken after it.
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        if self.outgoing.is_empty() {
            None
        } else {
            Some(self.outgoing.split().freeze())
        }
    }

    /// Queues a message, unless the wire is closed (the reference's `_push`).
    fn send(&mut self, message: Message<&[u8]>) {
        if !self.closed {
            message.encode(&mut self.outgoing);
        }
    }

    /// Sends our handshake. As in the reference the extension protocol bit
    /// (BEP 10) is always set, the DHT bit (BEP 5) when `dht` is true.
    pub fn handshake(&mut self, info_hash: [u8; 20], peer_id: [u8; 20], dht: bool) {
        if !self.closed {
            Handshake::new(info_hash, peer_id, dht).encode(&mut self.outgoing);
        }
    }

    /// Chokes the peer and forgets its pending requests. Does nothing if we
    /// already choke it.
    pub fn choke(&mut self) {
        if self.am_choking {
            return;
        }
        self.am_choking = true;
        self.peer_requests.clear();
        self.send(Message::Choke);
    }

    /// Unchokes the peer. Does nothing if we do not choke it.
    pub fn unchoke(&mut self) {
        if !self.am_choking {
            return;
        }
        self.am_choking = false;
        self.send(Message::Unchoke);
    }

    /// Tells the peer we are interested. Does nothing if we already are.
    pub fn interested(&mut self) {
        if self.am_interested {
            return;
        }
        self.am_interested = true;
        self.send(Message::Interested);
    }

    /// Tells the peer we are not interested. Does nothing if we already are
    /// not.
    pub fn uninterested(&mut self) {
        if !self.am_interested {
            return;
        }
        self.am_interested = false;
        self.send(Message::NotInterested);
    }

    /// Announces that we have piece `index`.
    pub fn have(&mut self, index: u32) {
        self.send(Message::Have(index));
    }

    /// Sends our pieces, one bit each, most significant bit first.
    pub fn bitfield(&mut self, bits: &[u8]) {
        self.send(Message::Bitfield(bits));
    }

    /// Requests a block and adds it to [`Wire::requests`]. The caller fails
    /// it when it leaves the queue other than through [`Event::Piece`]: by
    /// [`Event::Choke`], [`Wire::cancel`], [`Wire::handle_timeout`] or
    /// [`Wire::close`].
    ///
    /// # Errors
    ///
    /// [`UsageError::Closed`] once the wire is closed, else
    /// [`UsageError::PeerChoking`] while the peer chokes us; the request is
    /// then neither queued nor sent.
    pub fn request(&mut self, request: Request) -> Result<(), UsageError> {
        if self.closed {
            return Err(UsageError::Closed);
        }
        if self.peer_choking {
            return Err(UsageError::PeerChoking);
        }
        self.requests.push_back(request);
        self.send(Message::Request(request));
        Ok(())
    }

    /// Cancels a block: removes the first equal pending request of ours and
    /// returns it, for the caller to fail with "request was cancelled". The
    /// cancel message is sent whether or not a request was pending.
    pub fn cancel(&mut self, request: Request) -> Option<Request> {
        let removed = position_of(&self.requests, &request).and_then(|i| self.requests.remove(i));
        self.send(Message::Cancel(request));
        removed
    }

    /// The caller's request timer expired: removes the oldest pending
    /// request and returns it, for the caller to fail with "request has
    /// timed out" (the reference's `ontimeout`).
    pub fn handle_timeout(&mut self) -> Option<Request> {
        self.requests.pop_front()
    }

    /// Sends a block and counts it in [`Wire::uploaded`], whether or not the
    /// peer asked for it (the reference's `piece`; as there, the bytes are
    /// counted even when the wire is closed and nothing is sent).
    pub fn piece(&mut self, piece: u32, offset: u32, block: &[u8]) {
        self.uploaded += block.len() as u64;
        self.send(Message::Piece {
            piece,
            offset,
            block,
        });
    }

    /// Answers a request of the peer's: if an equal request is still in
    /// [`Wire::peer_requests`] (not cancelled, not cleared by [`Wire::choke`]
    /// or [`Wire::close`]) it is removed and `block` is sent as with
    /// [`Wire::piece`]; otherwise nothing happens. Returns whether the block
    /// was sent.
    ///
    /// The reference's `respond` callback matches its own request object;
    /// this matches by value, so of two equal requests the older one is
    /// answered first.
    pub fn respond(&mut self, request: Request, block: &[u8]) -> bool {
        let Some(i) = position_of(&self.peer_requests, &request) else {
            return false;
        };
        self.peer_requests.remove(i);
        self.piece(request.piece, request.offset, block);
        true
    }

    /// Declines a request of the peer's: removes the first equal one from
    /// [`Wire::peer_requests`] without sending anything (the reference's
    /// `respond(err)`). Returns whether there was one.
    pub fn reject(&mut self, request: Request) -> bool {
        let Some(i) = position_of(&self.peer_requests, &request) else {
            return false;
        };
        self.peer_requests.remove(i);
        true
    }

    /// Sends our DHT port (BEP 5).
    pub fn port(&mut self, port: u16) {
        self.send(Message::Port(port));
    }

    /// Sends a BEP 10 extended message; `payload` is sent as it is.
    pub fn extended(&mut self, id: u8, payload: &[u8]) {
        self.send(Message::Extended { id, payload });
    }

    /// Sends a keep-alive. The caller owns the interval (the reference's
    /// `setKeepAlive` sends one every 60 seconds).
    pub fn keep_alive(&mut self) {
        self.send(Message::KeepAlive);
    }

    /// Closes the wire: nothing more is decoded or encoded, the peer's
    /// requests are forgotten, and our pending requests are returned, oldest
    /// first, for the caller to fail with "wire is closed". Closing again
    /// returns what is left (nothing, unless requests were pending when a
    /// decode error closed the wire).
    pub fn close(&mut self) -> Vec<Request> {
        self.closed = true;
        self.pending = BytesMut::new();
        self.peer_requests.clear();
        self.requests.drain(..).collect()
    }
}

#[cfg(test)]
mod tests {
    use proptest::collection::vec;
    use proptest::prelude::*;
    use proptest::sample::Index;

    use super::*;
    use crate::protocol::decoder::tests::{cut, max_frame_len, opened, segment};
    use crate::protocol::message::HANDSHAKE_LEN;

    const INFO_HASH: [u8; 20] = [0xaa; 20];

    /// Two wires connected back to back, with the events each has seen.
    struct Pair {
        a: Wire,
        b: Wire,
        a_events: Vec<Event>,
        b_events: Vec<Event>,
    }

    impl Pair {
        fn new() -> Self {
            Pair {
                a: Wire::new(),
                b: Wire::new(),
                a_events: Vec::new(),
                b_events: Vec::new(),
            }
        }

        /// Both handshakes exchanged and their events cleared.
        fn connected() -> Self {
            let mut pair = Pair::new();
            pair.a.handshake(INFO_HASH, *b"-AA0001-aaaaaaaaaaaa", false);
            pair.b.handshake(INFO_HASH, *b"-BB0001-bbbbbbbbbbbb", true);
            pair.drive();
            pair.take();
            pair
        }

        /// Moves each wire's output into the other and polls every event,
        /// until no bytes are left to move.
        fn drive(&mut self) {
            loop {
                let mut moved = false;
                while let Some(bytes) = self.a.poll_transmit() {
                    self.b.receive(&bytes);
                    moved = true;
                }
                while let Some(bytes) = self.b.poll_transmit() {
                    self.a.receive(&bytes);
                    moved = true;
                }
                while let Some(event) = self.a.poll_event() {
                    self.a_events.push(event.expect("a decodes"));
                }
                while let Some(event) = self.b.poll_event() {
                    self.b_events.push(event.expect("b decodes"));
                }
                if !moved {
                    break;
                }
            }
        }

        /// The events seen since the last call: (a's, b's).
        fn take(&mut self) -> (Vec<Event>, Vec<Event>) {
            (
                std::mem::take(&mut self.a_events),
                std::mem::take(&mut self.b_events),
            )
        }

        /// a may request from b.
        fn unchoked() -> Self {
            let mut pair = Pair::connected();
            pair.b.unchoke();
            pair.a.interested();
            pair.drive();
            pair.take();
            pair
        }
    }

    fn all_bytes(wire: &mut Wire) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(bytes) = wire.poll_transmit() {
            out.extend_from_slice(&bytes);
        }
        out
    }

    #[test]
    fn handshakes_both_ways_with_flags() {
        let mut pair = Pair::new();
        assert!(pair.a.poll_transmit().is_none());
        pair.a.handshake(INFO_HASH, *b"-AA0001-aaaaaaaaaaaa", false);
        pair.b.handshake(INFO_HASH, *b"-BB0001-bbbbbbbbbbbb", true);
        pair.drive();
        let (a_events, b_events) = pair.take();
        assert_eq!(
            a_events,
            [Event::Handshake {
                info_hash: INFO_HASH,
                peer_id: *b"-BB0001-bbbbbbbbbbbb",
                extensions: Extensions {
                    dht: true,
                    extended: true
                },
            }]
        );
        assert_eq!(
            b_events,
            [Event::Handshake {
                info_hash: INFO_HASH,
                peer_id: *b"-AA0001-aaaaaaaaaaaa",
                extensions: Extensions {
                    dht: false,
                    extended: true
                },
            }]
        );
        assert!(pair.a.peer_extensions().dht);
        assert!(!pair.b.peer_extensions().dht);
        assert!(pair.b.peer_extensions().extended);
    }

    #[test]
    fn initial_state_is_the_references() {
        let wire = Wire::new();
        assert!(wire.am_choking() && wire.peer_choking());
        assert!(!wire.am_interested() && !wire.peer_interested());
        assert_eq!(wire.peer_extensions(), Extensions::default());
        assert!(wire.requests().is_empty() && wire.peer_requests().is_empty());
        assert_eq!((wire.uploaded(), wire.downloaded()), (0, 0));
        assert!(!wire.is_closed());
    }

    #[test]
    fn choke_and_interest_transitions_are_idempotent() {
        let mut pair = Pair::connected();
        // Already in these states: nothing is sent.
        pair.a.choke();
        pair.a.uninterested();
        assert!(pair.a.poll_transmit().is_none());

        pair.a.unchoke();
        pair.a.unchoke();
        pair.a.interested();
        pair.a.interested();
        assert_eq!(all_bytes(&mut pair.a), [0, 0, 0, 1, 1, 0, 0, 0, 1, 2]);
        assert!(!pair.a.am_choking() && pair.a.am_interested());

        pair.a.unchoke();
        pair.a.interested();
        pair.a.choke();
        pair.a.choke();
        pair.a.uninterested();
        pair.a.uninterested();
        assert_eq!(all_bytes(&mut pair.a), [0, 0, 0, 1, 0, 0, 0, 0, 1, 3]);
        assert!(pair.a.am_choking() && !pair.a.am_interested());

        pair.a.unchoke();
        pair.a.interested();
        pair.drive();
        assert!(!pair.b.peer_choking() && pair.b.peer_interested());
        assert_eq!(pair.take().1, [Event::Unchoke, Event::Interested]);

        pair.a.choke();
        pair.a.uninterested();
        pair.drive();
        assert!(pair.b.peer_choking() && !pair.b.peer_interested());
        assert_eq!(
            pair.take().1,
            [Event::Choke { failed: vec![] }, Event::Uninterested]
        );
    }

    #[test]
    fn have_and_bitfield_set_pieces() {
        let mut pair = Pair::connected();
        pair.a.bitfield(&[0b1010_0000, 0b0000_0001]);
        pair.a.have(3);
        pair.a.have(20);
        pair.drive();
        assert_eq!(
            pair.take().1,
            [
                Event::Bitfield(Bytes::from_static(&[0b1010_0000, 0b0000_0001])),
                Event::Have(3),
                Event::Have(20),
            ]
        );
        let set: Vec<u32> = (0..40).filter(|&i| pair.b.has_piece(i)).collect();
        assert_eq!(set, [0, 2, 3, 15, 20]);
        assert_eq!(pair.b.peer_pieces_len(), 21);
        assert!(!pair.b.has_piece(u32::MAX));

        // A shorter bitfield replaces only the pieces it covers.
        pair.a.bitfield(&[0b0100_0000]);
        pair.drive();
        let set: Vec<u32> = (0..40).filter(|&i| pair.b.has_piece(i)).collect();
        assert_eq!(set, [1, 15, 20]);
        assert_eq!(
            pair.b.peer_pieces(),
            [0b0100_0000, 0b0000_0001, 0b0000_1000]
        );
    }

    #[test]
    fn a_have_past_any_bitfield_is_reported_but_not_stored() {
        let mut pair = Pair::connected();
        pair.a.have(u32::MAX);
        pair.drive();
        assert_eq!(pair.take().1, [Event::Have(u32::MAX)]);
        assert!(pair.b.peer_pieces().is_empty());
        assert!(!pair.b.has_piece(u32::MAX));
    }

    #[test]
    fn request_respond_and_piece() {
        let mut pair = Pair::unchoked();
        let req = Request::new(1, 16384, 5);
        assert_eq!(pair.a.request(req), Ok(()));
        assert_eq!(pair.a.requests().iter().copied().collect::<Vec<_>>(), [req]);
        pair.drive();
        assert_eq!(pair.take().1, [Event::Request(req)]);
        assert_eq!(pair.b.peer_requests(), [req]);

        assert!(pair.b.respond(req, b"hello"));
        assert!(pair.b.peer_requests().is_empty());
        // Answered already: not sent twice.
        assert!(!pair.b.respond(req, b"hello"));
        pair.drive();
        assert_eq!(
            pair.take().0,
            [Event::Piece {
                piece: 1,
                offset: 16384,
                block: Bytes::from_static(b"hello"),
                matched: Some(req),
            }]
        );
        assert!(pair.a.requests().is_empty());
        assert_eq!((pair.a.downloaded(), pair.a.uploaded()), (5, 0));
        assert_eq!((pair.b.downloaded(), pair.b.uploaded()), (0, 5));

        // An unrequested block is counted and reported without a match.
        pair.b.piece(9, 0, b"xyz");
        pair.drive();
        assert!(matches!(
            &pair.take().0[..],
            [Event::Piece {
                piece: 9,
                matched: None,
                ..
            }]
        ));
        assert_eq!((pair.a.downloaded(), pair.b.uploaded()), (8, 8));
    }

    #[test]
    fn a_block_of_another_length_does_not_match() {
        let mut pair = Pair::unchoked();
        let req = Request::new(0, 0, 4);
        pair.a.request(req).unwrap();
        pair.drive();
        pair.b.piece(0, 0, b"abc");
        pair.drive();
        assert!(matches!(
            &pair.take().0[..],
            [Event::Piece { matched: None, .. }]
        ));
        assert_eq!(pair.a.requests().len(), 1);
    }

    #[test]
    fn rejecting_a_request_sends_nothing() {
        let mut pair = Pair::unchoked();
        let req = Request::new(2, 0, 16384);
        pair.a.request(req).unwrap();
        pair.drive();
        assert!(pair.b.reject(req));
        assert!(!pair.b.reject(req));
        assert!(pair.b.peer_requests().is_empty());
        assert!(pair.b.poll_transmit().is_none());
        assert!(!pair.b.respond(req, &[0; 16384]));
    }

    #[test]
    fn requesting_while_the_peer_chokes_fails() {
        let mut pair = Pair::connected();
        assert_eq!(
            pair.a.request(Request::new(0, 0, 1)),
            Err(UsageError::PeerChoking)
        );
        assert!(pair.a.requests().is_empty());
        assert!(pair.a.poll_transmit().is_none());
    }

    #[test]
    fn a_request_while_we_choke_is_dropped() {
        let mut pair = Pair::connected();
        // b looks unchoked to a, but b itself still chokes.
        let mut unchoke = Vec::new();
        Message::<&[u8]>::Unchoke.encode(&mut unchoke);
        pair.a.receive(&unchoke);
        assert_eq!(pair.a.poll_event(), Some(Ok(Event::Unchoke)));
        pair.a.request(Request::new(0, 0, 1)).unwrap();
        pair.a.have(7);
        pair.drive();
        assert_eq!(pair.take().1, [Event::Have(7)]);
        assert!(pair.b.peer_requests().is_empty());
    }

    #[test]
    fn each_message_sees_the_state_left_by_the_previous_event() {
        let mut pair = Pair::unchoked();
        let (first, second) = (Request::new(0, 0, 1), Request::new(0, 1, 1));
        pair.a.request(first).unwrap();
        pair.a.request(second).unwrap();
        pair.b.receive(&pair.a.poll_transmit().unwrap());
        assert_eq!(pair.b.poll_event(), Some(Ok(Event::Request(first))));
        // Choking now drops the second request, already received but not
        // yet polled.
        pair.b.choke();
        assert_eq!(pair.b.poll_event(), None);
        assert!(pair.b.peer_requests().is_empty());
    }

    #[test]
    fn a_choke_fails_pending_requests() {
        let mut pair = Pair::unchoked();
        let reqs = [Request::new(0, 0, 10), Request::new(0, 10, 10)];
        for r in reqs {
            pair.a.request(r).unwrap();
        }
        pair.drive();
        assert_eq!(pair.b.peer_requests(), reqs);
        pair.b.choke();
        assert!(pair.b.peer_requests().is_empty());
        pair.drive();
        assert_eq!(
            pair.take().0,
            [Event::Choke {
                failed: reqs.to_vec()
            }]
        );
        assert!(pair.a.requests().is_empty() && pair.a.peer_choking());
        // The answers come too late to be sent.
        assert!(!pair.b.respond(reqs[0], &[0; 10]));
    }

    #[test]
    fn cancel_removes_the_request_on_both_sides() {
        let mut pair = Pair::unchoked();
        let (keep, drop) = (Request::new(3, 0, 16384), Request::new(3, 16384, 16384));
        pair.a.request(keep).unwrap();
        pair.a.request(drop).unwrap();
        pair.drive();
        pair.take();
        assert_eq!(pair.a.cancel(drop), Some(drop));
        assert_eq!(
            pair.a.requests().iter().copied().collect::<Vec<_>>(),
            [keep]
        );
        // Not pending any more: still sent, nothing removed.
        assert_eq!(pair.a.cancel(drop), None);
        pair.drive();
        assert_eq!(pair.take().1, [Event::Cancel(drop), Event::Cancel(drop)]);
        assert_eq!(pair.b.peer_requests(), [keep]);
        assert!(!pair.b.respond(drop, &[0; 16384]));
    }

    #[test]
    fn a_timeout_removes_the_oldest_request() {
        let mut pair = Pair::unchoked();
        let reqs = [Request::new(0, 0, 1), Request::new(1, 0, 1)];
        for r in reqs {
            pair.a.request(r).unwrap();
        }
        assert_eq!(pair.a.handle_timeout(), Some(reqs[0]));
        assert_eq!(
            pair.a.requests().iter().copied().collect::<Vec<_>>(),
            [reqs[1]]
        );
    }

    /// Everything a peer can send, as one byte string.
    fn session() -> Vec<u8> {
        let mut a = Wire::new();
        a.handshake(INFO_HASH, *b"-AA0001-aaaaaaaaaaaa", true);
        a.bitfield(&[0xff, 0x0f, 0x80]);
        a.unchoke();
        a.interested();
        a.keep_alive();
        a.have(30);
        a.port(6881);
        a.extended(0, b"d1:md6:ut_pexi1eee");
        // Before the request below: unmatched.
        a.piece(0, 0, b"early");
        // b requests (0, 16384, 300) when it sees the unchoke.
        a.piece(0, 16384, &[0x5a; 300]);
        a.uninterested();
        a.choke();
        a.unchoke();
        let mut bytes = all_bytes(&mut a);
        Message::<&[u8]>::Request(Request::new(1, 0, 16384)).encode(&mut bytes);
        Message::<&[u8]>::Cancel(Request::new(1, 0, 16384)).encode(&mut bytes);
        Message::Unknown {
            id: 99,
            payload: &[1, 2],
        }
        .encode(&mut bytes);
        bytes
    }

    /// Feeds `chunks` to a fresh unchoking wire, polling after each, and
    /// requests a block when first unchoked.
    fn run(chunks: &[&[u8]]) -> (Vec<Event>, Wire) {
        let mut b = Wire::new();
        b.unchoke();
        let mut events = Vec::new();
        for chunk in chunks {
            b.receive(chunk);
            while let Some(event) = b.poll_event() {
                let event = event.expect("decodes");
                if event == Event::Unchoke && !events.contains(&Event::Unchoke) {
                    b.request(Request::new(0, 16384, 300)).unwrap();
                }
                events.push(event);
            }
        }
        (events, b)
    }

    #[test]
    fn a_session_gives_the_same_events_however_it_is_cut() {
        let bytes = session();
        let (whole, b) = run(&[&bytes]);
        assert_eq!(whole.len(), 16);
        assert!(matches!(whole[0], Event::Handshake { .. }));
        assert!(whole.contains(&Event::Piece {
            piece: 0,
            offset: 16384,
            block: Bytes::from(vec![0x5a; 300]),
            matched: Some(Request::new(0, 16384, 300)),
        }));
        assert!(whole.contains(&Event::Unknown {
            id: 99,
            payload: Bytes::from_static(&[1, 2])
        }));
        assert_eq!(b.downloaded(), 305);
        assert!(b.requests().is_empty() && b.peer_requests().is_empty());
        assert!(b.has_piece(30) && b.has_piece(16) && !b.has_piece(17));

        let single: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(run(&single).0, whole);
        for cut in 0..=bytes.len() {
            let (x, y) = bytes.split_at(cut);
            assert_eq!(run(&[x, y]).0, whole, "cut at {cut}");
        }
    }

    #[test]
    fn a_block_inside_one_input_is_not_copied() {
        let mut b = Wire::new();
        let mut bytes = Vec::new();
        Handshake::new(INFO_HASH, [1; 20], false).encode(&mut bytes);
        Message::Piece {
            piece: 0,
            offset: 0,
            block: &[7; 100],
        }
        .encode(&mut bytes);
        b.receive(&bytes);
        assert!(matches!(b.poll_event(), Some(Ok(Event::Handshake { .. }))));
        let pending = b.pending.as_ptr_range();
        let Some(Ok(Event::Piece { block, .. })) = b.poll_event() else {
            panic!("a piece");
        };
        assert!(pending.contains(&block.as_ptr()));
        assert_eq!(block.len(), 100);
    }

    #[test]
    fn close_returns_pending_requests_and_stops_output() {
        let mut pair = Pair::unchoked();
        let reqs = [Request::new(0, 0, 1), Request::new(0, 1, 1)];
        for r in reqs {
            pair.a.request(r).unwrap();
        }
        // a's peer has a request pending too.
        pair.a.unchoke();
        pair.drive();
        pair.b.request(Request::new(5, 0, 1)).unwrap();
        pair.drive();
        assert_eq!(pair.a.peer_requests().len(), 1);
        pair.a.have(1);
        assert_eq!(pair.a.close(), reqs);
        assert!(pair.a.is_closed());
        assert!(pair.a.requests().is_empty() && pair.a.peer_requests().is_empty());
        assert_eq!(pair.a.close(), []);

        // Bytes queued before the close can still be taken; none after.
        let queued = all_bytes(&mut pair.a);
        assert_eq!(queued, [0, 0, 0, 5, 4, 0, 0, 0, 1]);
        pair.a.have(2);
        pair.a.keep_alive();
        pair.a.piece(0, 0, b"x");
        pair.a.cancel(reqs[0]);
        pair.a.handshake(INFO_HASH, [0; 20], false);
        assert!(pair.a.poll_transmit().is_none());
        assert_eq!(pair.a.request(reqs[0]), Err(UsageError::Closed));

        // Input is ignored.
        pair.take();
        pair.b.have(4);
        pair.drive();
        assert!(pair.take().0.is_empty());
        assert!(!pair.a.has_piece(4));
    }

    #[test]
    fn a_decode_error_closes_the_wire() {
        let mut pair = Pair::unchoked();
        let req = Request::new(0, 0, 1);
        pair.a.request(req).unwrap();
        pair.a.unchoke();
        pair.drive();
        pair.b.request(Request::new(1, 0, 1)).unwrap();
        pair.drive();
        assert_eq!(pair.a.peer_requests().len(), 1);
        // A have with a 2-byte index, then a valid message that must not be
        // reached.
        pair.a.receive(&[0, 0, 0, 3, 4, 0, 0, 0, 0, 0, 1, 2]);
        let err = pair.a.poll_event().unwrap().unwrap_err();
        assert_eq!(err.code(), "ERR_PEER_WIRE_BAD_LENGTH");
        assert!(pair.a.is_closed());
        assert!(pair.a.peer_requests().is_empty());
        assert_eq!(pair.a.poll_event(), None);
        pair.a.receive(&[0, 0, 0, 1, 2]);
        assert_eq!(pair.a.poll_event(), None);
        assert!(!pair.a.peer_interested());
        assert_eq!(pair.a.request(req), Err(UsageError::Closed));
        pair.a.keep_alive();
        assert!(pair.a.poll_transmit().is_none());
        // The requests still pending are handed over by close.
        assert_eq!(pair.a.close(), [req]);
    }

    #[test]
    fn a_bad_handshake_is_an_error_from_its_first_byte() {
        let mut wire = Wire::new();
        wire.receive(b"GET / HTTP/1.1\r\n");
        assert_eq!(
            wire.poll_event(),
            Some(Err(DecodeError::ProtocolLength(b'G')))
        );
        assert!(wire.is_closed());
        let mut wire = Wire::new();
        let mut hs = Vec::new();
        Handshake::new(INFO_HASH, [0; 20], false).encode(&mut hs);
        wire.receive(&hs[..HANDSHAKE_LEN - 1]);
        assert_eq!(wire.poll_event(), None);
        assert!(!wire.is_closed());
    }

    // ---- limits ------------------------------------------------------------

    /// A wire with `limits` that has seen the peer's handshake and unchokes
    /// it, with nothing left to send.
    fn serving(limits: Limits) -> Wire {
        let mut wire = Wire::with_limits(limits);
        let mut hs = Vec::new();
        Handshake::new(INFO_HASH, [3; 20], false).encode(&mut hs);
        wire.receive(&hs);
        assert!(matches!(
            wire.poll_event(),
            Some(Ok(Event::Handshake { .. }))
        ));
        wire.unchoke();
        all_bytes(&mut wire);
        wire
    }

    fn encoded(messages: &[Message<&[u8]>]) -> Vec<u8> {
        let mut bytes = Vec::new();
        for m in messages {
            m.encode(&mut bytes);
        }
        bytes
    }

    fn events(wire: &mut Wire) -> Vec<Event> {
        std::iter::from_fn(|| wire.poll_event())
            .map(|event| event.expect("decodes"))
            .collect()
    }

    #[test]
    fn default_limits_are_the_js_layers() {
        let limits = Limits::default();
        assert_eq!(limits.max_frame_len, 1 << 20);
        assert_eq!(limits.max_peer_requests, 2000);
        assert_eq!(limits.max_block_len, 131_072);
        assert_eq!(Wire::new().limits(), limits);
    }

    #[test]
    fn a_flood_of_requests_is_capped_and_the_rest_still_served() {
        let mut wire = serving(Limits::default());
        let mut messages: Vec<Message<&[u8]>> = (0..3000)
            .map(|i| Message::Request(Request::new(i, 0, 16384)))
            .collect();
        messages.push(Message::Have(5));
        wire.receive(&encoded(&messages));
        let events = events(&mut wire);
        let requests: Vec<&Event> = events
            .iter()
            .filter(|e| matches!(e, Event::Request(_)))
            .collect();
        assert_eq!(requests.len(), 2000);
        // The first 2000 were kept, the last 1000 dropped.
        assert_eq!(
            requests[1999],
            &Event::Request(Request::new(1999, 0, 16384))
        );
        assert_eq!(events.last(), Some(&Event::Have(5)));
        assert_eq!(events.len(), 2001);
        assert_eq!(wire.peer_requests().len(), 2000);
        assert_eq!(wire.dropped_requests(), 1000);
        assert!(!wire.is_closed());
    }

    #[test]
    fn a_request_is_accepted_again_once_room_is_freed() {
        let limits = Limits {
            max_peer_requests: 3,
            ..Limits::default()
        };
        let mut wire = serving(limits);
        let reqs: Vec<Request> = (0..3).map(|i| Request::new(i, 0, 100)).collect();
        let extra = |i: u32| Message::Request(Request::new(10 + i, 0, 100));
        let mut messages: Vec<Message<&[u8]>> = reqs.iter().map(|&r| Message::Request(r)).collect();
        messages.push(extra(0));
        wire.receive(&encoded(&messages));
        assert_eq!(events(&mut wire).len(), 3);
        assert_eq!(wire.dropped_requests(), 1);

        // Answered: room for one more.
        assert!(wire.respond(reqs[0], &[0; 100]));
        wire.receive(&encoded(&[extra(1), extra(2)]));
        assert_eq!(
            events(&mut wire),
            [Event::Request(Request::new(11, 0, 100))]
        );
        assert_eq!(wire.dropped_requests(), 2);

        // Cancelled by the peer: room for one more.
        wire.receive(&encoded(&[Message::Cancel(reqs[1]), extra(3), extra(4)]));
        assert_eq!(
            events(&mut wire),
            [
                Event::Cancel(reqs[1]),
                Event::Request(Request::new(13, 0, 100))
            ]
        );
        assert_eq!(wire.dropped_requests(), 3);

        // Rejected by us: room for one more.
        assert!(wire.reject(reqs[2]));
        wire.receive(&encoded(&[extra(5)]));
        assert_eq!(
            events(&mut wire),
            [Event::Request(Request::new(15, 0, 100))]
        );
        assert_eq!(wire.peer_requests().len(), 3);
        assert_eq!(wire.dropped_requests(), 3);
    }

    #[test]
    fn a_request_for_an_empty_or_too_long_block_is_dropped() {
        let mut wire = serving(Limits::default());
        let max = Limits::default().max_block_len;
        let [empty, over, exact] = [0, max + 1, max].map(|len| Request::new(1, 0, len));
        wire.receive(&encoded(&[
            Message::Request(empty),
            Message::Request(over),
            Message::Request(Request::new(1, 0, u32::MAX)),
            Message::Request(exact),
        ]));
        assert_eq!(events(&mut wire), [Event::Request(exact)]);
        assert_eq!(wire.peer_requests(), [exact]);
        assert_eq!(wire.dropped_requests(), 3);

        let mut small = serving(Limits {
            max_block_len: 10,
            ..Limits::default()
        });
        small.receive(&encoded(&[
            Message::Request(Request::new(0, 0, 11)),
            Message::Request(Request::new(0, 0, 10)),
        ]));
        assert_eq!(events(&mut small), [Event::Request(Request::new(0, 0, 10))]);
        assert_eq!(small.dropped_requests(), 1);
    }

    #[test]
    fn requests_while_we_choke_are_ignored_not_counted() {
        let mut wire = serving(Limits::default());
        wire.choke();
        let bad = Request::new(0, 0, 0);
        let good = Request::new(0, 0, 1);
        wire.receive(&encoded(&[Message::Request(bad), Message::Request(good)]));
        assert_eq!(events(&mut wire), []);
        assert_eq!(wire.dropped_requests(), 0);
        assert!(wire.peer_requests().is_empty());
    }

    #[test]
    fn no_peer_requests_at_all_with_a_limit_of_zero() {
        let mut wire = serving(Limits {
            max_peer_requests: 0,
            ..Limits::default()
        });
        wire.receive(&encoded(&[
            Message::Request(Request::new(0, 0, 1)),
            Message::Interested,
        ]));
        assert_eq!(events(&mut wire), [Event::Interested]);
        assert_eq!(wire.dropped_requests(), 1);
    }

    #[test]
    fn the_frame_limit_closes_the_wire() {
        let mut wire = serving(Limits {
            max_frame_len: 100,
            ..Limits::default()
        });
        wire.receive(&encoded(&[Message::Bitfield(&[0xff; 99])]));
        assert!(matches!(wire.poll_event(), Some(Ok(Event::Bitfield(_)))));
        wire.receive(&encoded(&[Message::Bitfield(&[0xff; 100])]));
        assert_eq!(
            wire.poll_event(),
            Some(Err(DecodeError::FrameTooLarge {
                length: 101,
                max: 100
            }))
        );
        assert!(wire.is_closed());
        assert_eq!(wire.peer_pieces().len(), 99);
    }

    #[test]
    fn a_large_block_trickled_in_is_gathered_once_and_not_kept() {
        let mut wire = serving(Limits {
            max_frame_len: 8 << 20,
            ..Limits::default()
        });
        let block = vec![0xa5; 5 << 20];
        let bytes = encoded(&[Message::Piece {
            piece: 2,
            offset: 0,
            block: &block[..],
        }]);
        let mut got = Vec::new();
        for chunk in bytes.chunks(1400) {
            wire.receive(chunk);
            got.extend(events(&mut wire));
            // Nothing is held twice: the decoder keeps what it gathers,
            // the wire lets its copy go.
            assert!(wire.pending.is_empty());
            assert!(wire.decoder.buffered_len() <= 8 << 20);
        }
        // past 1 MiB the buffer doubles as bytes arrive: moves stay linear
        assert!(wire.decoder.copied() <= 3 * bytes.len());
        assert_eq!(
            got,
            [Event::Piece {
                piece: 2,
                offset: 0,
                block: Bytes::from(block),
                matched: None
            }]
        );
    }

    // ---- properties --------------------------------------------------------

    /// Requests and cancels small enough to be kept, and some not.
    fn small_request() -> impl Strategy<Value = Vec<u8>> {
        (any::<bool>(), 0u32..4, 0u32..4, 0u32..80).prop_map(|(cancel, piece, offset, length)| {
            let r = Request::new(piece, offset, length);
            encoded(&[if cancel {
                Message::Cancel(r)
            } else {
                Message::Request(r)
            }])
        })
    }

    /// What a peer may send: most often a handshake, then anything.
    fn peer_bytes() -> impl Strategy<Value = Vec<u8>> {
        opened(vec(prop_oneof![segment(), small_request()], 0..40))
    }

    fn any_limits() -> impl Strategy<Value = Limits> {
        (max_frame_len(), 0usize..6, 1u32..64).prop_map(
            |(max_frame_len, max_peer_requests, max_block_len)| Limits {
                max_frame_len,
                max_peer_requests,
                max_block_len,
            },
        )
    }

    fn assert_within_limits(wire: &Wire) {
        assert!(wire.peer_requests().len() <= wire.limits().max_peer_requests);
        assert!(wire
            .peer_requests()
            .iter()
            .all(|r| r.length != 0 && r.length <= wire.limits().max_block_len));
        if wire.is_closed() {
            assert!(wire.pending.is_empty() && wire.peer_requests().is_empty());
        }
    }

    /// Feeds `chunks` to an unchoking wire, polling after each.
    fn feed(limits: Limits, chunks: &[&[u8]]) -> (Vec<Result<Event, DecodeError>>, Wire) {
        let mut wire = Wire::with_limits(limits);
        wire.unchoke();
        let mut events = Vec::new();
        for chunk in chunks {
            wire.receive(chunk);
            while let Some(event) = wire.poll_event() {
                events.push(event);
                assert_within_limits(&wire);
            }
            assert_within_limits(&wire);
        }
        (events, wire)
    }

    /// A local call between inputs.
    #[derive(Debug, Clone)]
    enum Op {
        Receive(Vec<u8>),
        Choke,
        Unchoke,
        RespondOldest,
        RejectNewest,
        Request(u32),
        Cancel(u32),
        Timeout,
        Transmit,
        Close,
    }

    fn any_op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => peer_bytes().prop_map(Op::Receive),
            1 => Just(Op::Choke),
            2 => Just(Op::Unchoke),
            2 => Just(Op::RespondOldest),
            1 => Just(Op::RejectNewest),
            1 => (0u32..8).prop_map(Op::Request),
            1 => (0u32..8).prop_map(Op::Cancel),
            1 => Just(Op::Timeout),
            1 => Just(Op::Transmit),
            1 => Just(Op::Close),
        ]
    }

    proptest! {
        #[test]
        fn any_bytes_give_the_same_events_however_cut(
            limits in any_limits(),
            bytes in peer_bytes(),
            cuts in vec(any::<Index>(), 0..10),
        ) {
            let (whole, one) = feed(limits, &[&bytes]);
            let (chunked, other) = feed(limits, &cut(&bytes, &cuts));
            prop_assert_eq!(chunked, whole);
            prop_assert_eq!(other.dropped_requests(), one.dropped_requests());
            prop_assert_eq!(other.peer_requests(), one.peer_requests());
            prop_assert_eq!(other.is_closed(), one.is_closed());
        }

        #[test]
        fn any_bytes_and_calls_keep_the_wire_within_its_limits(
            limits in any_limits(),
            ops in vec(any_op(), 0..24),
        ) {
            let mut wire = Wire::with_limits(limits);
            let mut dropped = 0;
            for op in ops {
                match op {
                    Op::Receive(bytes) => {
                        wire.receive(&bytes);
                        while wire.poll_event().is_some() {
                            assert_within_limits(&wire);
                        }
                    }
                    Op::Choke => wire.choke(),
                    Op::Unchoke => wire.unchoke(),
                    Op::RespondOldest => {
                        if let Some(&r) = wire.peer_requests().first() {
                            let sent = wire.respond(r, &vec![0; r.length as usize]);
                            prop_assert!(sent);
                        }
                    }
                    Op::RejectNewest => {
                        if let Some(&r) = wire.peer_requests().last() {
                            prop_assert!(wire.reject(r));
                        }
                    }
                    Op::Request(i) => {
                        let _ = wire.request(Request::new(i, 0, 16));
                    }
                    Op::Cancel(i) => {
                        wire.cancel(Request::new(i, 0, 16));
                    }
                    Op::Timeout => {
                        wire.handle_timeout();
                    }
                    Op::Transmit => {
                        while wire.poll_transmit().is_some() {}
                    }
                    Op::Close => {
                        wire.close();
                        prop_assert!(wire.requests().is_empty());
                    }
                }
                assert_within_limits(&wire);
                prop_assert!(wire.dropped_requests() >= dropped);
                dropped = wire.dropped_requests();
            }
        }
    }
}
