//! Framing: turns a byte stream cut anywhere into handshake and message frames.
//!
//! The decoder reads in three states (the handshake, a length prefix, a body
//! of known length). A frame that lies wholly inside the input is returned
//! borrowing the input; only a frame that straddles inputs is gathered in the
//! decoder's own buffer, whose size is bounded by the maximum frame length,
//! checked from the length prefix before any body byte is kept.
//!
//! With [`Decoder::set_split_pieces`], a piece message that does not lie
//! wholly inside the input is not gathered: the decoder reads its 13-byte
//! head and hands the block over to the caller ([`FrameKind::PieceStart`]),
//! which takes the block's bytes itself and resumes decoding after them. The
//! Node binding uses this so that a block trickling in is copied once, into
//! the buffer the application receives, without a native call per chunk.

use super::error::DecodeError;
use super::handshake::{Handshake, HANDSHAKE_LEN};
use super::message::{piece_head, Message, MessageId};

/// Largest message body accepted by default: 1 MiB, libtorrent's bound.
pub const DEFAULT_MAX_FRAME_LEN: u32 = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReadState {
    Handshake,
    Length,
    Body(u32),
    /// A piece message's id and fixed fields, in split mode: the body is this long.
    PieceHead(u32),
}

/// Most a unit (a frame, or the handshake) makes the decoder allocate ahead
/// of its bytes: the default maximum frame length.
const RESERVE_AHEAD: usize = DEFAULT_MAX_FRAME_LEN as usize;

/// A piece message's id byte and its index and offset fields.
const PIECE_HEAD_LEN: usize = MessageId::Piece.fixed_len();

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
    Handshake(Handshake),
    Message(Message<P>),
    /// Split mode only ([`Decoder::set_split_pieces`]): the head of a piece
    /// message whose block does not lie wholly inside the input. The block's
    /// `block_len` bytes are the next bytes of the stream, from the position
    /// `decode` returned on: the caller takes them and passes the input that
    /// follows them to the next `decode`.
    PieceStart {
        piece: u32,
        offset: u32,
        block_len: u32,
    },
}

impl<P> FrameKind<P> {
    /// The same frame with the message payload (if any) mapped by `f`.
    pub fn map<Q>(self, f: impl FnOnce(P) -> Q) -> FrameKind<Q> {
        match self {
            FrameKind::Handshake(hs) => FrameKind::Handshake(hs),
            FrameKind::Message(m) => FrameKind::Message(m.map(f)),
            FrameKind::PieceStart {
                piece,
                offset,
                block_len,
            } => FrameKind::PieceStart {
                piece,
                offset,
                block_len,
            },
        }
    }
}

/// One decoded frame and where its bytes (the handshake, or the message body
/// after the length prefix) lie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    pub kind: FrameKind<&'a [u8]>,
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
    /// Bytes written into `partial` (moves by reallocation included), for
    /// the tests that show gathering is linear.
    #[cfg(test)]
    copied: usize,
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
            #[cfg(test)]
            copied: 0,
        }
    }

    pub fn max_frame_len(&self) -> u32 {
        self.max_frame_len
    }

    /// Hands the block of a piece message that straddles inputs to the
    /// caller instead of gathering it (see [`FrameKind::PieceStart`]).
    pub fn set_split_pieces(&mut self, split: bool) {
        self.split_pieces = split;
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
            let available = input.len() - *pos;
            if let ReadState::Body(len) = self.state {
                if self.split_pieces
                    && len as usize >= PIECE_HEAD_LEN
                    && (available < len as usize || !self.partial.is_empty())
                {
                    match self.partial.first().or(input.get(*pos)) {
                        Some(&id) if id == MessageId::Piece as u8 => {
                            self.state = ReadState::PieceHead(len);
                        }
                        Some(_) => {}
                        None => return Ok(None),
                    }
                }
            }
            let need = match self.state {
                ReadState::Handshake => HANDSHAKE_LEN,
                ReadState::Length => 4,
                ReadState::Body(len) => len as usize,
                ReadState::PieceHead(_) => PIECE_HEAD_LEN,
            };
            let origin = if self.partial.is_empty() && available >= need {
                let start = *pos;
                *pos += need;
                Origin::Input(start)
            } else {
                let take = (need - self.partial.len()).min(available);
                self.make_room(need, take);
                #[cfg(test)]
                {
                    self.copied += take;
                }
                self.partial.extend_from_slice(&input[*pos..*pos + take]);
                *pos += take;
                if self.state == ReadState::Handshake {
                    if let Err(err) = Handshake::check_prefix(&self.partial) {
                        return Err(self.fail(err));
                    }
                }
                if self.partial.len() < need {
                    return Ok(None);
                }
                Origin::Buffered
            };
            match self.state {
                ReadState::Length => {
                    let len = match origin {
                        Origin::Input(at) => read_u32(&input[at..]),
                        Origin::Buffered => {
                            let len = read_u32(&self.partial);
                            self.partial.clear();
                            len
                        }
                    };
                    if len == 0 {
                        return Ok(Some(Frame {
                            kind: FrameKind::Message(Message::KeepAlive),
                            origin,
                        }));
                    }
                    if len > self.max_frame_len {
                        let max = self.max_frame_len;
                        return Err(self.fail(DecodeError::FrameTooLarge { length: len, max }));
                    }
                    self.state = ReadState::Body(len);
                }
                ReadState::Handshake => {
                    let bytes = self.unit(input, origin, need);
                    let hs = Handshake::decode(bytes.try_into().expect("68 bytes"));
                    let hs = match hs {
                        Ok(hs) => hs,
                        Err(err) => return Err(self.fail(err)),
                    };
                    self.finish_unit(origin);
                    return Ok(Some(Frame {
                        kind: FrameKind::Handshake(hs),
                        origin,
                    }));
                }
                ReadState::PieceHead(len) => {
                    let head = self.unit(input, origin, need);
                    let (piece, offset) = piece_head(head);
                    self.state = ReadState::Length;
                    self.partial.clear();
                    return Ok(Some(Frame {
                        kind: FrameKind::PieceStart {
                            piece,
                            offset,
                            block_len: len - PIECE_HEAD_LEN as u32,
                        },
                        origin,
                    }));
                }
                ReadState::Body(_) => {
                    // Validated first, so that the error path needs no
                    // borrow of the body returned on the success path.
                    if let Err(err) = Message::validate(self.unit(input, origin, need)) {
                        return Err(self.fail(err));
                    }
                    self.finish_unit(origin);
                    let body = match origin {
                        Origin::Input(at) => &input[at..at + need],
                        Origin::Buffered => &self.partial[..],
                    };
                    let message = Message::decode(body).expect("validated above");
                    return Ok(Some(Frame {
                        kind: FrameKind::Message(message),
                        origin,
                    }));
                }
            }
        }
    }

    fn unit<'s>(&'s self, input: &'s [u8], origin: Origin, need: usize) -> &'s [u8] {
        match origin {
            Origin::Input(at) => &input[at..at + need],
            Origin::Buffered => &self.partial,
        }
    }

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
        #[cfg(test)]
        {
            self.copied += len;
        }
        self.partial.reserve_exact(want - len);
    }

    fn fail(&mut self, err: DecodeError) -> DecodeError {
        self.failed = Some(err.clone());
        self.partial = Vec::new();
        err
    }
}

fn read_u32(bytes: &[u8]) -> u32 {
    u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

#[cfg(test)]
mod tests;
