//! Errors of the core. Every message names the rule and the value that broke it,
//! and every error has a stable code that the Node binding passes on as `err.code`.

use std::fmt;

/// How long a message body (id byte included) must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyLen {
    /// Exactly this many bytes (a fixed-size message).
    Exactly(u32),
    /// At least this many (the fixed fields, then a payload of any length).
    AtLeast(u32),
}

impl BodyLen {
    pub(crate) fn admits(self, len: u32) -> bool {
        match self {
            BodyLen::Exactly(n) => len == n,
            BodyLen::AtLeast(n) => len >= n,
        }
    }
}

impl fmt::Display for BodyLen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyLen::Exactly(n) => write!(f, "exactly {n}"),
            BodyLen::AtLeast(n) => write!(f, "at least {n}"),
        }
    }
}

/// Bytes from the peer that break the protocol. After one of these the
/// decoder is spent: the stream cannot be resynchronised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The handshake's first byte, the protocol string's length, is not 19.
    #[error("invalid handshake: protocol string length is {0}, expected 19")]
    ProtocolLength(u8),
    /// The handshake's protocol string is not "BitTorrent protocol".
    #[error("invalid handshake: protocol string is not \"BitTorrent protocol\"")]
    ProtocolName,
    /// A length prefix announces a body longer than the maximum frame length.
    #[error("message length {length} exceeds the maximum of {max} bytes")]
    FrameTooLarge {
        /// The length announced.
        length: u32,
        /// The maximum frame length.
        max: u32,
    },
    /// A message body's length breaks its id's rule ([`MessageId::body_len`]).
    ///
    /// [`MessageId::body_len`]: crate::protocol::MessageId::body_len
    #[error("{name} message (id {id}) has a body of {received} bytes, expected {expected}")]
    BadLength {
        /// The message id.
        id: u8,
        /// The message's name.
        name: &'static str,
        /// The rule for this id.
        expected: BodyLen,
        /// The body's length, id byte included.
        received: u32,
    },
    /// A fast message (BEP 6, ids 13 to 17) from a peer whose handshake did
    /// not set the fast bit, on a connection where ours did: the peer sends
    /// what it did not announce. (Where ours did not set it, these ids are
    /// unknown messages, as peer-wire-protocol 0.7.1 reads them.)
    #[error(
        "{name} message (id {id}) from a peer whose handshake did not set the fast extension bit"
    )]
    FastNotNegotiated {
        /// The message id.
        id: u8,
        /// The message's name.
        name: &'static str,
    },
}

impl DecodeError {
    /// The stable code a caller can branch on (`err.code` in JavaScript).
    pub fn code(&self) -> &'static str {
        match self {
            DecodeError::ProtocolLength(_) | DecodeError::ProtocolName => {
                "ERR_PEER_WIRE_BAD_HANDSHAKE"
            }
            DecodeError::FrameTooLarge { .. } => "ERR_PEER_WIRE_FRAME_TOO_LARGE",
            DecodeError::BadLength { .. } => "ERR_PEER_WIRE_BAD_LENGTH",
            DecodeError::FastNotNegotiated { .. } => "ERR_PEER_WIRE_FAST_NOT_NEGOTIATED",
        }
    }
}
