//! The messages of the peer wire protocol: BEP 3 (ids 0 to 8), the DHT port
//! (9), the BEP 6 fast extension (13 to 17), BEP 10 extended messages (20),
//! and any other id kept as data.
//!
//! The fast messages are known by id only on a connection where both
//! handshakes set the fast bit ([`MessageId::known`]): on any other, ids 13
//! to 17 stay [`Message::Unknown`], of any length, as peer-wire-protocol
//! 0.7.1 reads them.

use bytes::{Buf, BufMut};

use super::error::{BodyLen, DecodeError};
use super::handshake::Extensions;

/// Length of the big-endian length prefix before every message body.
pub(crate) const LENGTH_PREFIX_LEN: usize = 4;
/// Longest header [`Message::encode_header`] writes (a request: 4 + 1 + 12).
pub const MAX_HEADER_LEN: usize = LENGTH_PREFIX_LEN + MessageId::Request.fixed_len();

/// The message ids this crate knows by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum MessageId {
    /// `choke`: the sender will not answer requests.
    Choke = 0,
    /// `unchoke`: the sender will answer requests.
    Unchoke = 1,
    /// `interested`: the sender wants blocks.
    Interested = 2,
    /// `not interested` (`uninterested` in the reference).
    NotInterested = 3,
    /// `have`: the sender has a piece.
    Have = 4,
    /// `bitfield`: the pieces the sender has.
    Bitfield = 5,
    /// `request`: a block asked for.
    Request = 6,
    /// `piece`: a block sent.
    Piece = 7,
    /// `cancel`: a request withdrawn.
    Cancel = 8,
    /// `port`: the sender's DHT port (BEP 5).
    Port = 9,
    /// `suggest` (BEP 6): the sender suggests a piece to request.
    Suggest = 13,
    /// `have all` (BEP 6): the sender has every piece (instead of a bitfield).
    HaveAll = 14,
    /// `have none` (BEP 6): the sender has no piece (instead of a bitfield).
    HaveNone = 15,
    /// `reject request` (BEP 6): a request the sender will not answer.
    Reject = 16,
    /// `allowed fast` (BEP 6): a piece the sender serves even while choking.
    AllowedFast = 17,
    /// `extended`: a BEP 10 extension message.
    Extended = 20,
}

impl MessageId {
    /// Every id this crate knows, in id order.
    pub const ALL: [MessageId; 16] = [
        Self::Choke,
        Self::Unchoke,
        Self::Interested,
        Self::NotInterested,
        Self::Have,
        Self::Bitfield,
        Self::Request,
        Self::Piece,
        Self::Cancel,
        Self::Port,
        Self::Suggest,
        Self::HaveAll,
        Self::HaveNone,
        Self::Reject,
        Self::AllowedFast,
        Self::Extended,
    ];

    /// The id `id` is among those this crate knows, if any, whoever sent
    /// it; a decoder reading a peer uses [`MessageId::known`].
    pub fn from_u8(id: u8) -> Option<Self> {
        Some(match id {
            0 => Self::Choke,
            1 => Self::Unchoke,
            2 => Self::Interested,
            3 => Self::NotInterested,
            4 => Self::Have,
            5 => Self::Bitfield,
            6 => Self::Request,
            7 => Self::Piece,
            8 => Self::Cancel,
            9 => Self::Port,
            13 => Self::Suggest,
            14 => Self::HaveAll,
            15 => Self::HaveNone,
            16 => Self::Reject,
            17 => Self::AllowedFast,
            20 => Self::Extended,
            _ => return None,
        })
    }

    /// The id `id` is, as read on a connection that `negotiated` these
    /// extensions (those both handshakes set, [`Extensions::both`]): the
    /// fast ids only if fast is among them, else they are unknown (the
    /// decoder's and the tokio codec's one rule for them).
    pub fn known(id: u8, negotiated: Extensions) -> Option<Self> {
        Self::from_u8(id).filter(|id| negotiated.fast || !id.is_fast())
    }

    /// Whether this is a BEP 6 fast extension message.
    pub const fn is_fast(self) -> bool {
        matches!(
            self,
            Self::Suggest | Self::HaveAll | Self::HaveNone | Self::Reject | Self::AllowedFast
        )
    }

    /// The name peer-wire-protocol 0.7.1 gives the message (its event name;
    /// for the fast messages, which 0.7.1 does not know, bittorrent-protocol's).
    pub fn name(self) -> &'static str {
        match self {
            Self::Choke => "choke",
            Self::Unchoke => "unchoke",
            Self::Interested => "interested",
            Self::NotInterested => "uninterested",
            Self::Have => "have",
            Self::Bitfield => "bitfield",
            Self::Request => "request",
            Self::Piece => "piece",
            Self::Cancel => "cancel",
            Self::Port => "port",
            Self::Suggest => "suggest",
            Self::HaveAll => "have-all",
            Self::HaveNone => "have-none",
            Self::Reject => "reject",
            Self::AllowedFast => "allowed-fast",
            Self::Extended => "extended",
        }
    }

    /// Length of the id byte and the fixed fields after it: the whole body
    /// of a fixed-size message, the part before the payload of the others.
    pub const fn fixed_len(self) -> usize {
        match self {
            Self::Choke | Self::Unchoke | Self::Interested | Self::NotInterested => 1,
            Self::HaveAll | Self::HaveNone => 1,
            Self::Bitfield => 1,
            Self::Extended => 2,
            Self::Port => 3,
            Self::Have | Self::Suggest | Self::AllowedFast => 5,
            Self::Piece => 9,
            Self::Request | Self::Cancel | Self::Reject => 13,
        }
    }

    /// Whether a payload of any length follows the fixed fields.
    pub const fn has_payload(self) -> bool {
        matches!(self, Self::Bitfield | Self::Piece | Self::Extended)
    }

    /// The body length (id byte included) this id must have.
    pub fn body_len(self) -> BodyLen {
        let fixed = self.fixed_len() as u32;
        if self.has_payload() {
            BodyLen::AtLeast(fixed)
        } else {
            BodyLen::Exactly(fixed)
        }
    }
}

/// A block request, as sent in `request` and `cancel` messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Request {
    /// The piece's index.
    pub piece: u32,
    /// The block's offset inside the piece.
    pub offset: u32,
    /// The block's length.
    pub length: u32,
}

impl Request {
    /// The request for `length` bytes at `offset` in piece `piece`.
    pub fn new(piece: u32, offset: u32, length: u32) -> Self {
        Request {
            piece,
            offset,
            length,
        }
    }

    fn read(fields: &mut &[u8]) -> Self {
        Request::new(fields.get_u32(), fields.get_u32(), fields.get_u32())
    }
}

/// One message after the handshake, generic over its trailing bytes `P`:
/// decoding yields `Message<&[u8]>`, borrowing the bytes it was decoded from;
/// [`Message::map`] turns the payload into anything else (an owned buffer, a
/// range) without restating the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message<P> {
    /// A length prefix of 0, no body.
    KeepAlive,
    /// The sender will not answer requests.
    Choke,
    /// The sender will answer requests.
    Unchoke,
    /// The sender wants blocks.
    Interested,
    /// The sender wants no blocks.
    NotInterested,
    /// The sender has the piece of this index.
    Have(u32),
    /// The pieces the sender has, one bit each, high bit first.
    Bitfield(P),
    /// A block asked for.
    Request(Request),
    /// A block sent.
    Piece {
        /// The piece's index.
        piece: u32,
        /// The block's offset inside the piece.
        offset: u32,
        /// The block's bytes.
        block: P,
    },
    /// A request withdrawn.
    Cancel(Request),
    /// The sender's DHT port (BEP 5).
    Port(u16),
    /// BEP 6: the sender suggests the piece of this index.
    Suggest(u32),
    /// BEP 6: the sender has every piece.
    HaveAll,
    /// BEP 6: the sender has no piece.
    HaveNone,
    /// BEP 6: a request the sender will not answer.
    Reject(Request),
    /// BEP 6: the sender serves the piece of this index even while choking.
    AllowedFast(u32),
    /// A BEP 10 extension message.
    Extended {
        /// The extension's id (0: the extended handshake).
        id: u8,
        /// The extension's bytes (bencoded, for most).
        payload: P,
    },
    /// An id this crate does not know, kept as data.
    Unknown {
        /// The id byte.
        id: u8,
        /// The body after the id byte.
        payload: P,
    },
}

impl<P> Message<P> {
    /// The same message with its payload (if it has one) mapped by `f`.
    pub fn map<Q>(self, f: impl FnOnce(P) -> Q) -> Message<Q> {
        match self {
            Message::KeepAlive => Message::KeepAlive,
            Message::Choke => Message::Choke,
            Message::Unchoke => Message::Unchoke,
            Message::Interested => Message::Interested,
            Message::NotInterested => Message::NotInterested,
            Message::Have(index) => Message::Have(index),
            Message::Bitfield(bits) => Message::Bitfield(f(bits)),
            Message::Request(r) => Message::Request(r),
            Message::Piece {
                piece,
                offset,
                block,
            } => Message::Piece {
                piece,
                offset,
                block: f(block),
            },
            Message::Cancel(r) => Message::Cancel(r),
            Message::Port(port) => Message::Port(port),
            Message::Suggest(index) => Message::Suggest(index),
            Message::HaveAll => Message::HaveAll,
            Message::HaveNone => Message::HaveNone,
            Message::Reject(r) => Message::Reject(r),
            Message::AllowedFast(index) => Message::AllowedFast(index),
            Message::Extended { id, payload } => Message::Extended {
                id,
                payload: f(payload),
            },
            Message::Unknown { id, payload } => Message::Unknown {
                id,
                payload: f(payload),
            },
        }
    }

    /// The known id of this message: none for a keep-alive (which has no
    /// body) and for an unknown id.
    fn known_id(&self) -> Option<MessageId> {
        Some(match self {
            Message::KeepAlive | Message::Unknown { .. } => return None,
            Message::Choke => MessageId::Choke,
            Message::Unchoke => MessageId::Unchoke,
            Message::Interested => MessageId::Interested,
            Message::NotInterested => MessageId::NotInterested,
            Message::Have(_) => MessageId::Have,
            Message::Bitfield(_) => MessageId::Bitfield,
            Message::Request(_) => MessageId::Request,
            Message::Piece { .. } => MessageId::Piece,
            Message::Cancel(_) => MessageId::Cancel,
            Message::Port(_) => MessageId::Port,
            Message::Suggest(_) => MessageId::Suggest,
            Message::HaveAll => MessageId::HaveAll,
            Message::HaveNone => MessageId::HaveNone,
            Message::Reject(_) => MessageId::Reject,
            Message::AllowedFast(_) => MessageId::AllowedFast,
            Message::Extended { .. } => MessageId::Extended,
        })
    }

    /// Length of the id byte and the fixed fields: the body before the
    /// payload.
    fn fixed_len(&self) -> usize {
        match (self.known_id(), self) {
            (Some(id), _) => id.fixed_len(),
            (None, Message::Unknown { .. }) => 1,
            (None, _) => 0,
        }
    }

    /// Length of [`Message::encode_header`]'s output.
    pub fn header_len(&self) -> usize {
        LENGTH_PREFIX_LEN + self.fixed_len()
    }

    /// Writes everything but the payload, for a payload of `payload_len`
    /// bytes: the length prefix (which counts it), the id and the fixed
    /// fields. Whatever `P` holds is not read: a sender can encode a header
    /// from a length alone and write the payload from where it lies.
    pub fn encode_header_for(&self, payload_len: usize, out: &mut impl BufMut) {
        out.put_u32((self.fixed_len() + payload_len) as u32);
        match (self.known_id(), self) {
            (Some(id), _) => out.put_u8(id as u8),
            (None, Message::Unknown { id, .. }) => out.put_u8(*id),
            (None, _) => {}
        }
        match *self {
            Message::Have(index) | Message::Suggest(index) | Message::AllowedFast(index) => {
                out.put_u32(index)
            }
            Message::Request(r) | Message::Cancel(r) | Message::Reject(r) => {
                out.put_u32(r.piece);
                out.put_u32(r.offset);
                out.put_u32(r.length);
            }
            Message::Piece { piece, offset, .. } => {
                out.put_u32(piece);
                out.put_u32(offset);
            }
            Message::Port(port) => out.put_u16(port),
            Message::Extended { id, .. } => out.put_u8(id),
            _ => {}
        }
    }

    /// Where the payload starts inside the body (after the id byte and the
    /// fixed fields); 0 for messages without one.
    pub fn payload_offset(&self) -> usize {
        if self.known_id().is_none_or(MessageId::has_payload) {
            self.fixed_len()
        } else {
            0
        }
    }
}

/// The index and offset of a piece message, from its body or the body's
/// first [`MessageId::fixed_len`] bytes.
pub(crate) fn piece_head(body: &[u8]) -> (u32, u32) {
    let mut fields = &body[1..MessageId::Piece.fixed_len()];
    (fields.get_u32(), fields.get_u32())
}

/// What [`Message::validate`] and [`Message::decode`] read: every id this
/// crate knows, the fast ones included.
const EVERY_EXTENSION: Extensions = Extensions {
    dht: true,
    extended: true,
    fast: true,
};

impl<'a> Message<&'a [u8]> {
    /// Checks a message body's length against its id's rule, without
    /// decoding it; [`Message::decode`] succeeds exactly when this does.
    /// Every id this crate knows is checked, the fast ones included.
    pub fn validate(body: &[u8]) -> Result<(), DecodeError> {
        Self::validate_from(body, EVERY_EXTENSION)
    }

    /// Decodes a message body (the bytes after the length prefix). An empty
    /// body is a keep-alive; an unknown id is data, not an error. Every id
    /// this crate knows is decoded, the fast ones included.
    pub fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        Self::decode_from(body, EVERY_EXTENSION)
    }

    /// Checks a body against what the two handshakes set: `peer`'s and
    /// `ours`. When ours set the fast bit and the peer's did not, a fast
    /// message (ids 13 to 17) is [`DecodeError::FastNotNegotiated`]; any
    /// other body passes (read it with [`Message::decode_from`] and
    /// `peer.both(ours)`).
    pub fn check_announced(
        body: &[u8],
        peer: Extensions,
        ours: Extensions,
    ) -> Result<(), DecodeError> {
        if !ours.fast || peer.fast {
            return Ok(());
        }
        match body.first().and_then(|&first| MessageId::from_u8(first)) {
            Some(id) if id.is_fast() => Err(DecodeError::FastNotNegotiated {
                id: id as u8,
                name: id.name(),
            }),
            _ => Ok(()),
        }
    }

    /// [`Message::validate`] for a body read on a connection that
    /// `negotiated` these extensions: ids it did not enable
    /// ([`MessageId::known`]) are unknown, and any length is theirs.
    pub fn validate_from(body: &[u8], negotiated: Extensions) -> Result<(), DecodeError> {
        let Some(id) = body
            .first()
            .and_then(|&first| MessageId::known(first, negotiated))
        else {
            return Ok(());
        };
        let rule = id.body_len();
        // Frames are bounded by the decoder's maximum, far below u32::MAX.
        let received = u32::try_from(body.len()).unwrap_or(u32::MAX);
        if rule.admits(received) {
            Ok(())
        } else {
            Err(DecodeError::BadLength {
                id: id as u8,
                name: id.name(),
                expected: rule,
                received,
            })
        }
    }

    /// [`Message::decode`] for a body read on a connection that
    /// `negotiated` these extensions: ids it did not enable
    /// ([`MessageId::known`]) are
    /// [`Message::Unknown`]. The decoder and the tokio codec read with this.
    pub fn decode_from(body: &'a [u8], negotiated: Extensions) -> Result<Self, DecodeError> {
        Message::validate_from(body, negotiated)?;
        let Some(&first) = body.first() else {
            return Ok(Message::KeepAlive);
        };
        let Some(id) = MessageId::known(first, negotiated) else {
            return Ok(Message::Unknown {
                id: first,
                payload: &body[1..],
            });
        };
        // Validated: the body holds the fixed fields.
        let (mut fields, payload) = (&body[1..id.fixed_len()], &body[id.fixed_len()..]);
        Ok(match id {
            MessageId::Choke => Message::Choke,
            MessageId::Unchoke => Message::Unchoke,
            MessageId::Interested => Message::Interested,
            MessageId::NotInterested => Message::NotInterested,
            MessageId::Have => Message::Have(fields.get_u32()),
            MessageId::Bitfield => Message::Bitfield(payload),
            MessageId::Request => Message::Request(Request::read(&mut fields)),
            MessageId::Piece => {
                let (piece, offset) = piece_head(body);
                Message::Piece {
                    piece,
                    offset,
                    block: payload,
                }
            }
            MessageId::Cancel => Message::Cancel(Request::read(&mut fields)),
            MessageId::Port => Message::Port(fields.get_u16()),
            MessageId::Suggest => Message::Suggest(fields.get_u32()),
            MessageId::HaveAll => Message::HaveAll,
            MessageId::HaveNone => Message::HaveNone,
            MessageId::Reject => Message::Reject(Request::read(&mut fields)),
            MessageId::AllowedFast => Message::AllowedFast(fields.get_u32()),
            MessageId::Extended => Message::Extended {
                id: fields.get_u8(),
                payload,
            },
        })
    }
}

impl<P: AsRef<[u8]>> Message<P> {
    /// The trailing variable-length part (empty for fixed-size messages).
    pub fn payload(&self) -> &[u8] {
        match self {
            Message::Bitfield(p)
            | Message::Piece { block: p, .. }
            | Message::Extended { payload: p, .. }
            | Message::Unknown { payload: p, .. } => p.as_ref(),
            _ => &[],
        }
    }

    /// Length of the encoded frame, length prefix included.
    pub fn encoded_len(&self) -> usize {
        self.header_len() + self.payload().len()
    }

    /// Writes everything but the payload: the length prefix (which counts
    /// the payload), the id and the fixed fields. A sender can then write
    /// the payload from where it already lies, without copying it here.
    pub fn encode_header(&self, out: &mut impl BufMut) {
        self.encode_header_for(self.payload().len(), out);
    }

    /// Writes the whole frame.
    pub fn encode(&self, out: &mut impl BufMut) {
        self.encode_header(out);
        out.put_slice(self.payload());
    }
}

#[cfg(test)]
pub(crate) mod tests;
