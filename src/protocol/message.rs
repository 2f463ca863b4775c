//! The messages of the peer wire protocol: BEP 3 (ids 0 to 8), the DHT port
//! (9), the BEP 6 fast extension (13 to 17), BEP 10 extended messages (20),
//! and any other id kept as data.
//!
//! The fast messages are known by id only on a connection where both
//! handshakes set the fast bit ([`MessageId::known`]): on any other, ids 13
//! to 17 stay [`Message::Unknown`], of any length, as peer-wire-protocol
//! 0.7.1 reads them.

use bytes::{Buf, BufMut};

use super::error::DecodeError;
use super::handshake::Extensions;
use super::id::MessageId;

/// Length of the big-endian length prefix before every message body.
pub(crate) const LENGTH_PREFIX_LEN: usize = 4;
/// Longest header [`Message::encode_header`] writes (a request: 4 + 1 + 12).
pub const MAX_HEADER_LEN: usize = LENGTH_PREFIX_LEN + MessageId::Request.fixed_len();

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
    #[inline(always)]
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
        match body
            .first()
            .and_then(|&first| MessageId::known(first, negotiated))
        {
            Some(id) => check_len(id, body),
            None => Ok(()),
        }
    }

    /// [`Message::decode`] for a body read on a connection that
    /// `negotiated` these extensions: ids it did not enable
    /// ([`MessageId::known`]) are
    /// [`Message::Unknown`]. The decoder and the tokio codec read with this.
    #[inline(always)]
    pub fn decode_from(body: &'a [u8], negotiated: Extensions) -> Result<Self, DecodeError> {
        let Some(&first) = body.first() else {
            return Ok(Message::KeepAlive);
        };
        let Some(id) = MessageId::known(first, negotiated) else {
            return Ok(Message::Unknown {
                id: first,
                payload: &body[1..],
            });
        };
        check_len(id, body)?;
        Ok(Message::decode_known(id, body))
    }

    /// [`Message::decode_from`] for a body [`Message::validate_from`] has
    /// passed with the same `negotiated` (the decoder validates before it
    /// takes a frame, and decodes only what it took): not validated again.
    pub(crate) fn decode_validated(body: &'a [u8], negotiated: Extensions) -> Self {
        let Some(&first) = body.first() else {
            return Message::KeepAlive;
        };
        match MessageId::known(first, negotiated) {
            Some(id) => Message::decode_known(id, body),
            None => Message::Unknown {
                id: first,
                payload: &body[1..],
            },
        }
    }

    /// The body of a known id, its length checked ([`check_len`]).
    #[inline(always)]
    fn decode_known(id: MessageId, body: &'a [u8]) -> Self {
        // Checked: the body holds the fixed fields.
        let (mut fields, payload) = (&body[1..id.fixed_len()], &body[id.fixed_len()..]);
        match id {
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
        }
    }
}

/// Checks a body's length (id byte included) against its id's rule.
#[inline]
fn check_len(id: MessageId, body: &[u8]) -> Result<(), DecodeError> {
    // Frames are bounded by the decoder's maximum, far below u32::MAX.
    let received = u32::try_from(body.len()).unwrap_or(u32::MAX);
    let rule = id.body_len();
    if rule.admits(received) {
        return Ok(());
    }
    Err(DecodeError::BadLength {
        id: id as u8,
        name: id.name(),
        expected: rule,
        received,
    })
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
