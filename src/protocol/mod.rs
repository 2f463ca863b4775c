//! The sans-IO core: bytes to typed messages to wire state, and back.
//! No N-API, no sockets, no clock: the caller feeds bytes in, takes events
//! and bytes out, and owns any timers.

pub mod decoder;
pub mod error;
pub mod limits;
pub mod message;
pub mod wire;

pub use decoder::{Decoder, Frame, FrameKind, Origin};
pub use error::{BodyLen, DecodeError, RequestError, UsageError};
pub use limits::{Limits, DEFAULT_MAX_BLOCK_LEN, DEFAULT_MAX_FRAME_LEN, DEFAULT_MAX_PEER_REQUESTS};
pub use message::{
    Extensions, Handshake, Message, MessageId, Request, HANDSHAKE_LEN, ID_LEN, INFO_HASH_OFFSET,
    MAX_HEADER_LEN, PEER_ID_OFFSET, PROTOCOL,
};
pub use wire::{Event, Wire};
