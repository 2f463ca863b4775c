//! A decoder between frames as a value: [`Boundary`], what a caller may
//! keep in place of the decoder itself while it holds nothing.

use super::{Decoder, ReadState};
use crate::protocol::handshake::Extensions;

/// A decoder's whole state between frames, with nothing held back: all a
/// caller needs to keep in place of the decoder while it is there (see
/// [`Decoder::boundary`]). A decoder in the middle of a frame, or failed,
/// has no boundary: it holds bytes or an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Boundary {
    /// The peer's handshake has been read: a length prefix comes next.
    pub handshaken: bool,
    /// What the peer's handshake set.
    pub peer: Extensions,
    /// Whether our handshake set the fast bit ([`Decoder::set_fast`]).
    pub fast: bool,
    /// Split mode ([`Decoder::set_split_pieces`]).
    pub split_pieces: bool,
}

impl Decoder {
    /// The decoder that [`boundary`](Self::boundary) described: the same
    /// decoding from here on as the decoder it came from.
    pub fn from_boundary(boundary: Boundary, max_frame_len: u32) -> Self {
        let mut decoder = Decoder::new(max_frame_len);
        if boundary.handshaken {
            decoder.state = ReadState::Length;
        }
        decoder.peer = boundary.peer;
        decoder.ours.fast = boundary.fast;
        decoder.split_pieces = boundary.split_pieces;
        decoder
    }

    /// The decoder's state when it is between frames (before the handshake,
    /// or before a length prefix) with no byte held back and no error: then
    /// [`from_boundary`](Self::from_boundary) makes it again. `None`
    /// elsewhere.
    pub fn boundary(&self) -> Option<Boundary> {
        let between = matches!(self.state, ReadState::Handshake | ReadState::Length);
        if !between || self.buffered_len() != 0 || self.failed.is_some() {
            return None;
        }
        Some(Boundary {
            handshaken: self.state == ReadState::Length,
            peer: self.peer,
            fast: self.ours.fast,
            split_pieces: self.split_pieces,
        })
    }
}
