//! No N-API, no sockets, no clock: the caller feeds bytes in, takes events
//! and bytes out, and owns any timers.

pub mod decoder;
pub mod error;
pub mod message;

pub use decoder::{Decoder, Frame, FrameKind, Origin, DEFAULT_MAX_FRAME_LEN};
pub use error::{BodyLen, DecodeError, RequestError, UsageError};
pub use message::{Extensions, Handshake, Message, MessageId, Request, HANDSHAKE_LEN, PROTOCOL};
