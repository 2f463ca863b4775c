//! The sans-IO core: bytes to typed messages, and back.
//! No N-API, no sockets, no clock: the caller feeds bytes in and takes
//! frames out, and owns the session (state, requests, limits, timers).

pub mod decoder;
pub mod error;
pub mod handshake;
pub mod message;

pub use decoder::{Decoder, Frame, FrameKind, Origin, DEFAULT_MAX_FRAME_LEN};
pub use error::{BodyLen, DecodeError};
pub use handshake::{
    Extensions, Handshake, HANDSHAKE_LEN, ID_LEN, INFO_HASH_OFFSET, PEER_ID_OFFSET, PROTOCOL,
    RESERVED_OFFSET,
};
pub use message::{Message, MessageId, Request, MAX_HEADER_LEN};
