//! The sans-IO core: bytes to typed messages, and back.
//!
//! No N-API, no sockets, no clock: the caller feeds bytes in and takes
//! frames out, and owns the session (choke and interest state, requests,
//! limits on the peer's requests, timers).
//!
//! - [`Decoder`]: an incremental decoder for a stream cut anywhere, that
//!   borrows what it can ([`Frame`], [`Origin`]) and holds at most one frame.
//! - [`Handshake`] and [`Message`]: one type per structured message, each
//!   with `decode` and `encode`.
//! - [`DecodeError`]: what a peer can get wrong, each with a stable code.
//! - [`allowed_fast_set`]: BEP 6's allowed-fast set for a peer.
//! - [`mse`]: Message Stream Encryption, the handshake and RC4, below the
//!   framing.

mod decoder;
mod error;
mod fast;
mod handshake;
mod id;
mod message;
pub mod mse;

pub use decoder::{Boundary, Decoder, Frame, FrameKind, Origin, DEFAULT_MAX_FRAME_LEN};
pub use error::{BodyLen, DecodeError};
pub use fast::{allowed_fast_set, allowed_fast_set_from, FastSetError, MAX_ALLOWED_FAST_SET_LEN};
pub use handshake::{
    Extensions, Handshake, HANDSHAKE_LEN, ID_LEN, INFO_HASH_OFFSET, PEER_ID_OFFSET, PROTOCOL,
    RESERVED_OFFSET,
};
pub use id::MessageId;
pub use message::{Message, Request, MAX_HEADER_LEN};

// The rules the tokio codec shares with the decoder.
#[cfg(feature = "tokio")]
pub(crate) use decoder::{frame_len, RESERVE_AHEAD};
#[cfg(feature = "tokio")]
pub(crate) use message::LENGTH_PREFIX_LEN;

// One message of every kind, for the tests of the decoder and the codec.
#[cfg(all(test, feature = "tokio"))]
pub(crate) use message::tests::every_message;
