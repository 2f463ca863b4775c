//! Framing: turns a byte stream cut anywhere into handshake and message frames.
//!
//! The decoder reads in one of four states (`ReadState`: the handshake, a
//! length prefix, a body of known length, a piece's head), each read by one
//! small method that takes what it needs and says what it made of the input
//! (`Step`); [`Decoder::decode`] only dispatches. A frame that lies wholly
//! inside the input is returned borrowing the input; only a frame that
//! straddles inputs is gathered in the decoder's own buffer, whose size is
//! bounded by the maximum frame length, checked from the length prefix
//! before any body byte is kept.
//!
//! With [`Decoder::set_split_pieces`], a piece message that does not lie
//! wholly inside the input is not gathered: the decoder reads its 13-byte
//! head and hands the block over to the caller ([`FrameKind::PieceStart`]),
//! which takes the block's bytes itself and resumes decoding after them. The
//! Node binding uses this so that a block trickling in is copied once, into
//! the buffer the application receives, without a native call per chunk.
//!
//! Messages are read as the two handshakes allow ([`Message::decode_from`]):
//! the fast messages (ids 13 to 17) only when the peer's handshake and ours
//! ([`Decoder::set_fast`]) both set the fast bit; else they are unknown ids
//! of any length, as peer-wire-protocol 0.7.1 reads them; except that when
//! ours set the bit and the peer's did not, a fast message is an error
//! ([`DecodeError::FastNotNegotiated`]): the peer sends what it did not
//! announce.

use super::error::DecodeError;
use super::handshake::{Extensions, Handshake, HANDSHAKE_LEN};
use super::id::MessageId;
use super::message::{piece_head, Message, LENGTH_PREFIX_LEN};

mod boundary;
pub use boundary::Boundary;

/// Largest message body accepted by default: 1 MiB, libtorrent's bound.
pub const DEFAULT_MAX_FRAME_LEN: u32 = 1 << 20;

/// Most a unit (a frame, or the handshake) makes a decoder allocate ahead
/// of its bytes: the default maximum frame length.
pub(crate) const RESERVE_AHEAD: usize = DEFAULT_MAX_FRAME_LEN as usize;

/// A piece message's id byte and its index and offset fields.
const PIECE_HEAD_LEN: usize = MessageId::Piece.fixed_len();

/// The body length a length prefix announces, checked against the maximum
/// frame length before any body byte is kept. 0 is a keep-alive.
pub(crate) fn frame_len(prefix: [u8; LENGTH_PREFIX_LEN], max: u32) -> Result<u32, DecodeError> {
    let length = u32::from_be_bytes(prefix);
    if length > max {
        return Err(DecodeError::FrameTooLarge { length, max });
    }
    Ok(length)
}

/// What the decoder reads next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReadState {
    /// The 68-byte handshake.
    Handshake,
    /// A 4-byte length prefix.
    Length,
    /// A message body of this many bytes.
    Body(u32),
    /// In split mode, a piece message's id and fixed fields: the body is
    /// this long.
    PieceHead(u32),
}

/// What reading in one state made of the input.
enum Step {
    /// Every byte of the input is used; more are needed.
    NeedMore,
    /// The state moved on: read on.
    Continue,
    /// A frame that borrows nothing (a handshake, a keep-alive, a piece's
    /// head).
    Frame(FrameKind<&'static [u8]>, Origin),
    /// A message body of this many bytes, validated.
    Body(Origin, usize),
}

/// Where a frame's bytes lie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Inside the input passed to [`Decoder::decode`], from this offset on.
    Input(usize),
    /// Gathered across inputs in the decoder's buffer; see
    /// [`Decoder::take_buffered`].
    Buffered,
}

/// A handshake or a message; generic over the message payload like
/// [`Message`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind<P> {
    /// The handshake that opens the stream.
    Handshake(Handshake),
    /// A message after the handshake.
    Message(Message<P>),
    /// Split mode only ([`Decoder::set_split_pieces`]): the head of a piece
    /// message whose block does not lie wholly inside the input. The block's
    /// `block_len` bytes are the next bytes of the stream, from the position
    /// `decode` returned on: the caller takes them and passes the input that
    /// follows them to the next `decode`.
    PieceStart {
        /// The piece's index.
        piece: u32,
        /// The block's offset inside the piece.
        offset: u32,
        /// The block's length: the bytes the caller takes.
        block_len: u32,
    },
}

/// One decoded frame and where its bytes (the handshake, or the message body
/// after the length prefix) lie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// What was decoded; a payload borrows the input or the decoder's buffer.
    pub kind: FrameKind<&'a [u8]>,
    /// Where the frame's bytes lie.
    pub origin: Origin,
}

/// The incremental, sans-IO frame decoder.
#[derive(Debug)]
pub struct Decoder {
    state: ReadState,
    partial: Vec<u8>,
    /// The last frame returned was `partial`: drop it before reading on.
    partial_returned: bool,
    failed: Option<DecodeError>,
    max_frame_len: u32,
    split_pieces: bool,
    /// What the peer's handshake set.
    peer: Extensions,
    /// What our handshake set (only `fast` is read).
    ours: Extensions,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_FRAME_LEN)
    }
}

impl Decoder {
    /// A decoder that expects a handshake first and rejects message bodies
    /// longer than `max_frame_len`.
    pub fn new(max_frame_len: u32) -> Self {
        Decoder {
            state: ReadState::Handshake,
            partial: Vec::new(),
            partial_returned: false,
            failed: None,
            max_frame_len,
            split_pieces: false,
            peer: Extensions::default(),
            ours: Extensions::default(),
        }
    }

    /// The longest message body this decoder accepts.
    pub fn max_frame_len(&self) -> u32 {
        self.max_frame_len
    }

    /// Hands the block of a piece message that straddles inputs to the
    /// caller instead of gathering it (see [`FrameKind::PieceStart`]).
    pub fn set_split_pieces(&mut self, split: bool) {
        self.split_pieces = split;
    }

    /// Whether our side's handshake set the fast bit (BEP 6). The fast
    /// messages are read as such only when the peer's handshake set it too;
    /// off by default, so ids 13 to 17 are unknown messages. Set it before
    /// the peer's first message is decoded (an initiator, before decoding
    /// anything; a responder, when the peer's handshake has been returned).
    pub fn set_fast(&mut self, fast: bool) {
        self.ours.fast = fast;
    }

    /// What the connection has negotiated: the extensions both handshakes
    /// set (none before the peer's handshake).
    pub fn negotiated(&self) -> Extensions {
        self.peer.both(self.ours)
    }

    /// Bytes held back from earlier inputs (an unfinished frame).
    pub fn buffered_len(&self) -> usize {
        if self.partial_returned {
            0
        } else {
            self.partial.len()
        }
    }

    /// Takes the buffer behind the last frame returned, if that frame was
    /// gathered across inputs ([`Origin::Buffered`]) and has bytes (the
    /// handshake, or a message body), leaving the decoder a fresh buffer.
    pub fn take_buffered(&mut self) -> Option<Vec<u8>> {
        if !self.partial_returned {
            return None;
        }
        self.partial_returned = false;
        Some(std::mem::take(&mut self.partial))
    }

    /// Decodes the next frame from `input[*pos..]`, advancing `*pos` past
    /// the bytes it used. `Ok(None)` means every byte of the input has been
    /// used and more are needed. After an error the decoder is spent and
    /// returns the same error again.
    pub fn decode<'a>(
        &'a mut self,
        input: &'a [u8],
        pos: &mut usize,
    ) -> Result<Option<Frame<'a>>, DecodeError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        if self.partial_returned {
            self.partial.clear();
            self.partial_returned = false;
        }
        loop {
            let step = match self.state {
                ReadState::Handshake => self.read_handshake(input, pos),
                ReadState::Length => self.read_length(input, pos),
                ReadState::Body(len) => self.read_body(len, input, pos),
                ReadState::PieceHead(len) => self.read_piece_head(len, input, pos),
            };
            let (kind, origin) = match step {
                Err(err) => return Err(self.fail(err)),
                Ok(Step::NeedMore) => return Ok(None),
                Ok(Step::Continue) => continue,
                Ok(Step::Frame(kind, origin)) => (kind, origin),
                Ok(Step::Body(origin, len)) => {
                    let negotiated = self.negotiated();
                    let body = self.unit(input, origin, len);
                    let message = Message::decode_validated(body, negotiated);
                    (FrameKind::Message(message), origin)
                }
            };
            return Ok(Some(Frame { kind, origin }));
        }
    }

    /// The next message, when it lies whole in `input[*pos..]` (its length
    /// prefix and body) and the decoder is between frames with nothing held
    /// back: the common case, read without stepping through the read states,
    /// by the same rules. Returns the message and where its body starts, and
    /// advances `*pos` past it. `None` changes nothing and leaves the input
    /// to [`Decoder::decode`]: a frame that straddles inputs, the handshake,
    /// a keep-alive, a frame that breaks a rule (`decode` reports it), a
    /// failed decoder.
    #[inline]
    pub fn decode_whole<'a>(
        &self,
        input: &'a [u8],
        pos: &mut usize,
    ) -> Option<(Message<&'a [u8]>, usize)> {
        if self.state != ReadState::Length || !self.partial.is_empty() || self.failed.is_some() {
            return None;
        }
        let (prefix, rest) = input
            .get(*pos..)?
            .split_first_chunk::<LENGTH_PREFIX_LEN>()?;
        let len = u32::from_be_bytes(*prefix);
        // A keep-alive has no body to start anywhere: `decode` reads it.
        if len == 0 || len > self.max_frame_len {
            return None;
        }
        let body = rest.get(..len as usize)?;
        // Inside the input, so never split off (see `read_body`).
        Message::check_announced(body, self.peer, self.ours).ok()?;
        let message = Message::decode_from(body, self.negotiated()).ok()?;
        let at = *pos + LENGTH_PREFIX_LEN;
        *pos = at + body.len();
        Some((message, at))
    }

    fn read_handshake(&mut self, input: &[u8], pos: &mut usize) -> Result<Step, DecodeError> {
        let Some(origin) = self.gather(HANDSHAKE_LEN, input, pos) else {
            // Rejected on its first wrong byte, not once 68 have arrived.
            Handshake::check_prefix(&self.partial)?;
            return Ok(Step::NeedMore);
        };
        let bytes = self.unit(input, origin, HANDSHAKE_LEN);
        let hs = Handshake::decode(bytes.try_into().expect("a whole handshake"))?;
        self.peer = hs.extensions();
        self.finish_unit(origin);
        Ok(Step::Frame(FrameKind::Handshake(hs), origin))
    }

    fn read_length(&mut self, input: &[u8], pos: &mut usize) -> Result<Step, DecodeError> {
        let Some(origin) = self.gather(LENGTH_PREFIX_LEN, input, pos) else {
            return Ok(Step::NeedMore);
        };
        let prefix = self.unit(input, origin, LENGTH_PREFIX_LEN);
        let len = frame_len(
            prefix.try_into().expect("a whole prefix"),
            self.max_frame_len,
        )?;
        self.partial.clear();
        if len == 0 {
            return Ok(Step::Frame(FrameKind::Message(Message::KeepAlive), origin));
        }
        self.state = ReadState::Body(len);
        Ok(Step::Continue)
    }

    fn read_body(&mut self, len: u32, input: &[u8], pos: &mut usize) -> Result<Step, DecodeError> {
        let need = len as usize;
        if self.split_pieces
            && need >= PIECE_HEAD_LEN
            && (input.len() - *pos < need || !self.partial.is_empty())
        {
            // A body that straddles inputs: if a piece, split its block off.
            match self.partial.first().or(input.get(*pos)) {
                Some(&id) if id == MessageId::Piece as u8 => {
                    self.state = ReadState::PieceHead(len);
                    return Ok(Step::Continue);
                }
                Some(_) => {}
                None => return Ok(Step::NeedMore),
            }
        }
        let Some(origin) = self.gather(need, input, pos) else {
            return Ok(Step::NeedMore);
        };
        let body = self.unit(input, origin, need);
        Message::check_announced(body, self.peer, self.ours)?;
        Message::validate_from(body, self.peer.both(self.ours))?;
        self.finish_unit(origin);
        Ok(Step::Body(origin, need))
    }

    fn read_piece_head(
        &mut self,
        len: u32,
        input: &[u8],
        pos: &mut usize,
    ) -> Result<Step, DecodeError> {
        let Some(origin) = self.gather(PIECE_HEAD_LEN, input, pos) else {
            return Ok(Step::NeedMore);
        };
        let (piece, offset) = piece_head(self.unit(input, origin, PIECE_HEAD_LEN));
        self.state = ReadState::Length;
        self.partial.clear();
        let block_len = len - PIECE_HEAD_LEN as u32;
        let start = FrameKind::PieceStart {
            piece,
            offset,
            block_len,
        };
        Ok(Step::Frame(start, origin))
    }

    /// Takes a unit of `need` bytes from `input[*pos..]`: where it lies, or
    /// `None` when the input ran out first. Borrowed from the input when it
    /// lies there whole; else gathered in `partial` across inputs.
    fn gather(&mut self, need: usize, input: &[u8], pos: &mut usize) -> Option<Origin> {
        let available = input.len() - *pos;
        if self.partial.is_empty() && available >= need {
            let start = *pos;
            *pos += need;
            return Some(Origin::Input(start));
        }
        let take = (need - self.partial.len()).min(available);
        self.make_room(need, take);
        self.partial.extend_from_slice(&input[*pos..*pos + take]);
        *pos += take;
        (self.partial.len() == need).then_some(Origin::Buffered)
    }

    /// The bytes of a unit `gather` found at `origin`.
    fn unit<'s>(&'s self, input: &'s [u8], origin: Origin, need: usize) -> &'s [u8] {
        match origin {
            Origin::Input(at) => &input[at..at + need],
            Origin::Buffered => &self.partial,
        }
    }

    /// After a frame returned whole: back to reading a length prefix, and
    /// `partial` kept for [`Decoder::take_buffered`] if it held the frame.
    fn finish_unit(&mut self, origin: Origin) {
        self.state = ReadState::Length;
        self.partial_returned = origin == Origin::Buffered;
    }

    /// Makes room in `partial` for `take` more bytes of a `need`-byte unit.
    /// Up to `RESERVE_AHEAD` the whole unit is reserved at once (gathered
    /// bytes are never moved); past it the buffer grows with what arrives,
    /// doubling (moves stay linear), so that a length prefix alone never
    /// makes the decoder allocate more than `RESERVE_AHEAD`.
    fn make_room(&mut self, need: usize, take: usize) {
        let (len, capacity) = (self.partial.len(), self.partial.capacity());
        let want = if len == 0 {
            need.min(RESERVE_AHEAD).max(take)
        } else if capacity - len >= take {
            return;
        } else {
            (2 * capacity).max(len + take).min(need)
        };
        if want <= capacity {
            return;
        }
        if len == 0 {
            // Nothing to keep: a fresh buffer, not a reallocation that
            // would move the stale bytes of an earlier unit.
            self.partial = Vec::with_capacity(want);
        } else {
            self.partial.reserve_exact(want - len);
        }
    }

    fn fail(&mut self, err: DecodeError) -> DecodeError {
        self.failed = Some(err.clone());
        self.partial = Vec::new();
        err
    }
}

#[cfg(test)]
mod tests;
