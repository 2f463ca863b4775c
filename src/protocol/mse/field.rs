//! Reading the peer's fields out of bytes cut anywhere: fixed-size fields
//! gathered in a buffer, the two synchronisation searches, pads.

use super::error::MseError;
use super::types::MAX_PAD_LEN;
use crate::protocol::PROTOCOL;

/// The first 20 bytes of a plain BitTorrent handshake.
pub(super) const BT_HEADER_LEN: usize = 20;

/// Fills `buf` from `input` up to `want` bytes; true when it has them.
pub(super) fn fill(buf: &mut Vec<u8>, input: &mut &[u8], want: usize) -> bool {
    if buf.len() < want {
        let n = (want - buf.len()).min(input.len());
        buf.extend_from_slice(&input[..n]);
        *input = &input[n..];
    }
    buf.len() >= want
}

/// Takes up to `max` bytes of a field that is not buffered (a pad, IA):
/// from `buf` while it holds any, else from `input`. Hands them to `sink`
/// and returns how many there were.
pub(super) fn take(
    buf: &mut Vec<u8>,
    input: &mut &[u8],
    max: usize,
    sink: impl FnOnce(&[u8]),
) -> usize {
    if buf.is_empty() {
        let n = max.min(input.len());
        sink(&input[..n]);
        *input = &input[n..];
        n
    } else {
        let n = max.min(buf.len());
        sink(&buf[..n]);
        buf.drain(..n);
        n
    }
}

/// Where `needle` starts in `buf`, looking from `*from` on; when it is not
/// there, moves `*from` to the first offset where it could still start once
/// more bytes arrive, so that a trickled pad is scanned once, not once per
/// byte.
pub(super) fn sync(buf: &[u8], from: &mut usize, needle: &[u8]) -> Option<usize> {
    let hit = buf[*from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|at| *from + at);
    if hit.is_none() {
        *from = (*from).max((buf.len() + 1).saturating_sub(needle.len()));
    }
    hit
}

/// A pad length field, refused over [`MAX_PAD_LEN`].
pub(super) fn pad_len(hi: u8, lo: u8) -> Result<usize, MseError> {
    let len = u16::from_be_bytes([hi, lo]);
    if usize::from(len) > MAX_PAD_LEN {
        return Err(MseError::BadPad { len });
    }
    Ok(usize::from(len))
}

/// `19` then "BitTorrent protocol".
pub(super) fn bt_header() -> [u8; BT_HEADER_LEN] {
    let mut h = [0u8; BT_HEADER_LEN];
    h[0] = PROTOCOL.len() as u8;
    h[1..].copy_from_slice(PROTOCOL);
    h
}
