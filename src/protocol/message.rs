//! The messages of the peer wire protocol: BEP 3 (ids 0 to 8), the DHT port
//! (9), BEP 10 extended messages (20), and any other id kept as data.

use bytes::BufMut;

use super::error::{BodyLen, DecodeError};

/// The protocol string of the handshake.
pub const PROTOCOL: &[u8; 19] = b"BitTorrent protocol";
/// Length of a handshake: pstrlen, pstr, reserved, info hash, peer id.
pub const HANDSHAKE_LEN: usize = 68;
/// Longest header [`Message::encode_header`] writes (a request: 4 + 1 + 12).
pub const MAX_HEADER_LEN: usize = 17;

/// The message ids this crate knows by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum MessageId {
    Choke = 0,
    Unchoke = 1,
    Interested = 2,
    NotInterested = 3,
    Have = 4,
    Bitfield = 5,
    Request = 6,
    Piece = 7,
    Cancel = 8,
    Port = 9,
    Extended = 20,
}

impl MessageId {
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
            20 => Self::Extended,
            _ => return None,
        })
    }

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
            Self::Extended => "extended",
        }
    }

    /// The body length (id byte included) this id must have.
    pub fn body_len(self) -> BodyLen {
        match self {
            Self::Choke | Self::Unchoke | Self::Interested | Self::NotInterested => {
                BodyLen::Exactly(1)
            }
            Self::Have => BodyLen::Exactly(5),
            Self::Request | Self::Cancel => BodyLen::Exactly(13),
            Self::Port => BodyLen::Exactly(3),
            Self::Bitfield => BodyLen::AtLeast(1),
            Self::Piece => BodyLen::AtLeast(9),
            Self::Extended => BodyLen::AtLeast(2),
        }
    }
}

/// The flags of the handshake's reserved bytes this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Extensions {
    /// BEP 5: reserved byte 7, bit 0x01.
    pub dht: bool,
    /// BEP 10: reserved byte 5, bit 0x10.
    pub extended: bool,
}

/// The 68-byte handshake that opens a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handshake {
    pub reserved: [u8; 8],
    pub info_hash: [u8; 20],
    pub peer_id: [u8; 20],
}

impl Handshake {
    /// A handshake as peer-wire-protocol 0.7.1 sends it: the extension
    /// protocol bit is always set, the DHT bit when asked.
    pub fn new(info_hash: [u8; 20], peer_id: [u8; 20], dht: bool) -> Self {
        let mut reserved = [0u8; 8];
        reserved[5] |= 0x10;
        if dht {
            reserved[7] |= 0x01;
        }
        Handshake {
            reserved,
            info_hash,
            peer_id,
        }
    }

    pub fn extensions(&self) -> Extensions {
        Extensions {
            dht: self.reserved[7] & 0x01 != 0,
            extended: self.reserved[5] & 0x10 != 0,
        }
    }

    /// Checks as much of a handshake's start as `prefix` holds, so that a
    /// wrong protocol is rejected before the whole handshake has arrived.
    pub fn check_prefix(prefix: &[u8]) -> Result<(), DecodeError> {
        if let Some(&pstrlen) = prefix.first() {
            if pstrlen as usize != PROTOCOL.len() {
                return Err(DecodeError::ProtocolLength(pstrlen));
            }
        }
        let name = &prefix[prefix.len().min(1)..prefix.len().min(20)];
        if name != &PROTOCOL[..name.len()] {
            return Err(DecodeError::ProtocolName);
        }
        Ok(())
    }

    pub fn decode(frame: &[u8; HANDSHAKE_LEN]) -> Result<Self, DecodeError> {
        Self::check_prefix(frame)?;
        let mut hs = Handshake {
            reserved: [0; 8],
            info_hash: [0; 20],
            peer_id: [0; 20],
        };
        hs.reserved.copy_from_slice(&frame[20..28]);
        hs.info_hash.copy_from_slice(&frame[28..48]);
        hs.peer_id.copy_from_slice(&frame[48..68]);
        Ok(hs)
    }

    pub fn encode(&self, out: &mut impl BufMut) {
        out.put_u8(PROTOCOL.len() as u8);
        out.put_slice(PROTOCOL);
        out.put_slice(&self.reserved);
        out.put_slice(&self.info_hash);
        out.put_slice(&self.peer_id);
    }
}

/// A block request, as sent in `request` and `cancel` messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Request {
    pub piece: u32,
    pub offset: u32,
    pub length: u32,
}

impl Request {
    pub fn new(piece: u32, offset: u32, length: u32) -> Self {
        Request {
            piece,
            offset,
            length,
        }
    }
}

/// One message after the handshake, generic over its trailing bytes `P`:
/// decoding yields `Message<&[u8]>`, borrowing the bytes it was decoded from;
/// [`Message::map`] turns the payload into anything else (an owned buffer, a
/// range) without restating the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message<P> {
    KeepAlive,
    Choke,
    Unchoke,
    Interested,
    NotInterested,
    Have(u32),
    Bitfield(P),
    Request(Request),
    Piece {
        piece: u32,
        offset: u32,
        block: P,
    },
    Cancel(Request),
    Port(u16),
    Extended {
        id: u8,
        payload: P,
    },
    /// An id this crate does not know; `payload` is the body after the id.
    Unknown {
        id: u8,
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

    /// Length of [`Message::encode_header`]'s output.
    pub fn header_len(&self) -> usize {
        match self {
            Message::KeepAlive => 4,
            Message::Have(_) => 9,
            Message::Request(_) | Message::Cancel(_) => 17,
            Message::Port(_) => 7,
            Message::Piece { .. } => 13,
            Message::Extended { .. } => 6,
            _ => 5,
        }
    }

    /// Writes everything but the payload, for a payload of `payload_len`
    /// bytes: the length prefix (which counts it), the id and the fixed
    /// fields. Whatever `P` holds is not read: a sender can encode a header
    /// from a length alone and write the payload from where it lies.
    pub fn encode_header_for(&self, payload_len: usize, out: &mut impl BufMut) {
        let body_len = self.header_len() - 4 + payload_len;
        out.put_u32(body_len as u32);
        match *self {
            Message::KeepAlive => {}
            Message::Choke => out.put_u8(MessageId::Choke as u8),
            Message::Unchoke => out.put_u8(MessageId::Unchoke as u8),
            Message::Interested => out.put_u8(MessageId::Interested as u8),
            Message::NotInterested => out.put_u8(MessageId::NotInterested as u8),
            Message::Have(index) => {
                out.put_u8(MessageId::Have as u8);
                out.put_u32(index);
            }
            Message::Bitfield(_) => out.put_u8(MessageId::Bitfield as u8),
            Message::Request(r) | Message::Cancel(r) => {
                let id = if matches!(self, Message::Request(_)) {
                    MessageId::Request
                } else {
                    MessageId::Cancel
                };
                out.put_u8(id as u8);
                out.put_u32(r.piece);
                out.put_u32(r.offset);
                out.put_u32(r.length);
            }
            Message::Piece { piece, offset, .. } => {
                out.put_u8(MessageId::Piece as u8);
                out.put_u32(piece);
                out.put_u32(offset);
            }
            Message::Port(port) => {
                out.put_u8(MessageId::Port as u8);
                out.put_u16(port);
            }
            Message::Extended { id, .. } => {
                out.put_u8(MessageId::Extended as u8);
                out.put_u8(id);
            }
            Message::Unknown { id, .. } => out.put_u8(id),
        }
    }

    /// Where the payload starts inside the body (after the id byte and the
    /// fixed fields); 0 for messages without one.
    pub fn payload_offset(&self) -> usize {
        match self {
            Message::Bitfield(_) | Message::Unknown { .. } => 1,
            Message::Extended { .. } => 2,
            Message::Piece { .. } => 9,
            _ => 0,
        }
    }
}

fn u32_at(body: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([body[at], body[at + 1], body[at + 2], body[at + 3]])
}

fn request_at(body: &[u8]) -> Request {
    Request::new(u32_at(body, 1), u32_at(body, 5), u32_at(body, 9))
}

impl<'a> Message<&'a [u8]> {
    /// Checks a message body's length against its id's rule, without
    /// decoding it; [`Message::decode`] succeeds exactly when this does.
    pub fn validate(body: &[u8]) -> Result<(), DecodeError> {
        let Some(id) = body.first().and_then(|&first| MessageId::from_u8(first)) else {
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

    /// Decodes a message body (the bytes after the length prefix). An empty
    /// body is a keep-alive; an unknown id is data, not an error.
    pub fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        Message::validate(body)?;
        let Some(&first) = body.first() else {
            return Ok(Message::KeepAlive);
        };
        let Some(id) = MessageId::from_u8(first) else {
            return Ok(Message::Unknown {
                id: first,
                payload: &body[1..],
            });
        };
        Ok(match id {
            MessageId::Choke => Message::Choke,
            MessageId::Unchoke => Message::Unchoke,
            MessageId::Interested => Message::Interested,
            MessageId::NotInterested => Message::NotInterested,
            MessageId::Have => Message::Have(u32_at(body, 1)),
            MessageId::Bitfield => Message::Bitfield(&body[1..]),
            MessageId::Request => Message::Request(request_at(body)),
            MessageId::Piece => Message::Piece {
                piece: u32_at(body, 1),
                offset: u32_at(body, 5),
                block: &body[9..],
            },
            MessageId::Cancel => Message::Cancel(request_at(body)),
            MessageId::Port => Message::Port(u16::from_be_bytes([body[1], body[2]])),
            MessageId::Extended => Message::Extended {
                id: body[1],
                payload: &body[2..],
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
