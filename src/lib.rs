//! peer-wire-native: the BitTorrent peer wire protocol (BEP 3, plus the port
//! and BEP 10 extended messages).
//!
//! For Rust users it is a codec: [`protocol`] turns bytes into handshake and
//! message frames and back, sans IO (no sockets, no clock, no session
//! state: choking, requests and timers are the user's). The `tokio` feature
//! adds `PeerCodec`, the same rules as a `tokio_util::codec` codec for
//! `Framed` streams.
//!
//! With the `napi` feature the crate is also the Node.js addon behind
//! `index.js`, a drop-in for the npm package peer-wire-protocol 0.7.1; the
//! session lives there, in JavaScript, and only bytes cross, in the format
//! of [`batch`].

#![warn(missing_docs)]

pub mod batch;
pub mod protocol;

#[cfg(feature = "tokio")]
mod codec;
#[cfg(feature = "tokio")]
pub use codec::{CodecError, PeerCodec, PeerFrame};

// napi-derive registers `#[napi]` items with the module only outside
// `cfg(test)`, so in a test build of the addon they have no user: allowed
// here, once, rather than item by item.
#[cfg(feature = "napi")]
#[cfg_attr(test, allow(dead_code))]
mod binding;
