//! Bounds on what a peer can make one wire hold or do. The JavaScript layer
//! enforces the same limits with the same defaults (`maxFrameLength`,
//! `maxPeerRequests`, `maxBlockLength`).

/// Largest message body accepted by default: 1 MiB, libtorrent's bound.
pub const DEFAULT_MAX_FRAME_LEN: u32 = 1 << 20;
/// Most pending requests of the peer's kept by default: libtorrent's
/// `max_allowed_in_request_queue`.
pub const DEFAULT_MAX_PEER_REQUESTS: usize = 2000;
/// Longest block the peer may request by default: 128 KiB.
pub const DEFAULT_MAX_BLOCK_LEN: u32 = 128 * 1024;

/// The limits of one [`crate::protocol::Wire`]. Build one from the defaults:
/// `Limits { max_peer_requests: 100, ..Limits::default() }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest message body (id byte included) accepted; a longer length
    /// prefix is a [`crate::protocol::DecodeError::FrameTooLarge`], and the
    /// wire closes. It also bounds the bytes the decoder gathers for one
    /// frame.
    pub max_frame_len: u32,
    /// Most requests of the peer's pending at once. A request past it is
    /// dropped and counted in [`crate::protocol::Wire::dropped_requests`].
    pub max_peer_requests: usize,
    /// Longest block the peer may request. A request for a longer block, or
    /// for an empty one, is dropped and counted in
    /// [`crate::protocol::Wire::dropped_requests`].
    pub max_block_len: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            max_peer_requests: DEFAULT_MAX_PEER_REQUESTS,
            max_block_len: DEFAULT_MAX_BLOCK_LEN,
        }
    }
}

impl Limits {
    /// Whether a request for `length` bytes may be kept while
    /// `pending` requests of the peer's are.
    pub(crate) fn admits_request(&self, pending: usize, length: u32) -> bool {
        length != 0 && length <= self.max_block_len && pending < self.max_peer_requests
    }
}
