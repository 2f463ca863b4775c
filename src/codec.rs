//! The core's rules as a [`tokio_util::codec`] codec (the `tokio` feature).
//!
//! [`PeerCodec`] reads a handshake first, then messages, from the buffer a
//! `FramedRead`/`Framed` fills, and writes handshakes and messages into the
//! one it drains. It keeps no rule of its own: the handshake's checks, the
//! frame limit and each id's length are the ones [`crate::protocol`]'s
//! [`Decoder`](crate::protocol::Decoder) applies, called from here. A
//! payload is not copied: it is a [`Bytes`] slice of the read buffer. Like
//! the decoder, it reads the fast messages (ids 13 to 17) as such only when
//! both handshakes set the fast bit ([`Message::decode_from`]): the peer's,
//! as decoded, and ours, as encoded by this codec (or told with
//! [`PeerCodec::set_fast`]).

use std::io;

use bytes::{Buf, Bytes, BytesMut};
use tokio_util::codec;

use crate::protocol::{
    frame_len, DecodeError, Extensions, Handshake, Message, DEFAULT_MAX_FRAME_LEN, HANDSHAKE_LEN,
    LENGTH_PREFIX_LEN, RESERVE_AHEAD,
};

/// What a [`PeerCodec`] decodes: the handshake, then messages whose
/// payloads share the read buffer's memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerFrame {
    /// The handshake that opens the stream.
    Handshake(Handshake),
    /// A message after the handshake.
    Message(Message<Bytes>),
}

/// Why a [`PeerCodec`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// The peer broke the protocol. The codec is spent: it returns this
    /// error again for any later bytes.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The transport failed, or a message was too long to encode.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// A codec for one peer connection: a handshake, then length-prefixed
/// messages, with bodies longer than the maximum frame length rejected from
/// their length prefix.
#[derive(Debug, Clone)]
pub struct PeerCodec {
    max_frame_len: u32,
    /// What the peer's handshake set, once it has arrived.
    peer: Option<Extensions>,
    /// What our handshake set (only `fast` is read).
    ours: Extensions,
    failed: Option<DecodeError>,
}

impl Default for PeerCodec {
    /// A codec with the default maximum frame length (1 MiB).
    fn default() -> Self {
        Self::new(DEFAULT_MAX_FRAME_LEN)
    }
}

impl PeerCodec {
    /// A codec that expects a handshake first and rejects message bodies
    /// longer than `max_frame_len`.
    pub fn new(max_frame_len: u32) -> Self {
        PeerCodec {
            max_frame_len,
            peer: None,
            ours: Extensions::default(),
            failed: None,
        }
    }

    /// Whether our side's handshake set the fast bit, for a handshake not
    /// sent through this codec (one sent through it sets this itself).
    pub fn set_fast(&mut self, fast: bool) {
        self.ours.fast = fast;
    }

    fn read_handshake(&mut self, src: &mut BytesMut) -> Result<Option<PeerFrame>, DecodeError> {
        let Some(bytes) = src.get(..HANDSHAKE_LEN) else {
            // Rejected on its first wrong byte, not once 68 have arrived.
            Handshake::check_prefix(src)?;
            src.reserve(HANDSHAKE_LEN - src.len());
            return Ok(None);
        };
        let hs = Handshake::decode(bytes.try_into().expect("a whole handshake"))?;
        src.advance(HANDSHAKE_LEN);
        self.peer = Some(hs.extensions());
        Ok(Some(PeerFrame::Handshake(hs)))
    }

    fn read_message(
        &mut self,
        peer: Extensions,
        src: &mut BytesMut,
    ) -> Result<Option<PeerFrame>, DecodeError> {
        let Some(prefix) = src.get(..LENGTH_PREFIX_LEN) else {
            return Ok(None);
        };
        let prefix = prefix.try_into().expect("a whole prefix");
        let body_len = frame_len(prefix, self.max_frame_len)? as usize;
        let missing = (LENGTH_PREFIX_LEN + body_len).saturating_sub(src.len());
        if missing > 0 {
            // As the incremental decoder: a length prefix alone makes the
            // buffer grow by at most a mebibyte.
            src.reserve(missing.min(RESERVE_AHEAD));
            return Ok(None);
        }
        src.advance(LENGTH_PREFIX_LEN);
        Message::check_announced(&src[..body_len], peer, self.ours)?;
        let body = src.split_to(body_len).freeze();
        let message = Message::decode_from(&body, peer.both(self.ours))?
            .map(|payload| body.slice_ref(payload));
        Ok(Some(PeerFrame::Message(message)))
    }
}

impl codec::Decoder for PeerCodec {
    type Item = PeerFrame;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<PeerFrame>, CodecError> {
        if let Some(err) = &self.failed {
            return Err(err.clone().into());
        }
        let read = match self.peer {
            Some(peer) => self.read_message(peer, src),
            None => self.read_handshake(src),
        };
        read.map_err(|err| {
            self.failed = Some(err.clone());
            err.into()
        })
    }
}

impl codec::Encoder<Handshake> for PeerCodec {
    type Error = CodecError;

    fn encode(&mut self, hs: Handshake, dst: &mut BytesMut) -> Result<(), CodecError> {
        dst.reserve(HANDSHAKE_LEN);
        hs.encode(dst);
        self.ours = hs.extensions();
        Ok(())
    }
}

impl<P: AsRef<[u8]>> codec::Encoder<Message<P>> for PeerCodec {
    type Error = CodecError;

    fn encode(&mut self, message: Message<P>, dst: &mut BytesMut) -> Result<(), CodecError> {
        let len = message.encoded_len();
        if u32::try_from(len - LENGTH_PREFIX_LEN).is_err() {
            let err = io::Error::new(io::ErrorKind::InvalidInput, "message of 4 GiB or more");
            return Err(err.into());
        }
        dst.reserve(len);
        message.encode(dst);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
