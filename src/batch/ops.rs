//! Bytes out: ops encoded into messages (see `batch`).

use bytes::BufMut;

use super::{
    BatchError, HANDSHAKE_DHT, HANDSHAKE_FAST, KIND_HANDSHAKE, KIND_KEEP_ALIVE, MAX_PAYLOAD_LEN,
    OP_INLINE, OP_WORDS,
};
use crate::protocol::{Handshake, Message, MessageId, Request, HANDSHAKE_LEN, ID_LEN};

/// The message an op stands for, with the length of the payload that
/// follows its header (0 for fixed-size ones).
#[inline(always)]
fn op_message(kind: u32, a: u32, b: u32, c: u32) -> Result<(Message<()>, usize), BatchError> {
    if kind == KIND_KEEP_ALIVE {
        return Ok((Message::KeepAlive, 0));
    }
    let id = u8::try_from(kind)
        .ok()
        .and_then(MessageId::from_u8)
        .ok_or(BatchError::BadKind(kind))?;
    let fixed = |m| Ok((m, 0));
    let payload = |m| {
        if c > MAX_PAYLOAD_LEN {
            return Err(BatchError::PayloadTooLarge);
        }
        Ok((m, c as usize))
    };
    match id {
        MessageId::Choke => fixed(Message::Choke),
        MessageId::Unchoke => fixed(Message::Unchoke),
        MessageId::Interested => fixed(Message::Interested),
        MessageId::NotInterested => fixed(Message::NotInterested),
        MessageId::Have => fixed(Message::Have(a)),
        MessageId::Request => fixed(Message::Request(Request::new(a, b, c))),
        MessageId::Cancel => fixed(Message::Cancel(Request::new(a, b, c))),
        MessageId::Port => fixed(Message::Port(
            u16::try_from(a).map_err(|_| BatchError::PortRange)?,
        )),
        MessageId::Suggest => fixed(Message::Suggest(a)),
        MessageId::HaveAll => fixed(Message::HaveAll),
        MessageId::HaveNone => fixed(Message::HaveNone),
        MessageId::Reject => fixed(Message::Reject(Request::new(a, b, c))),
        MessageId::AllowedFast => fixed(Message::AllowedFast(a)),
        MessageId::Bitfield => payload(Message::Bitfield(())),
        MessageId::Piece => payload(Message::Piece {
            piece: a,
            offset: b,
            block: (),
        }),
        MessageId::Extended => payload(Message::Extended {
            id: u8::try_from(a).map_err(|_| BatchError::ExtendedIdRange)?,
            payload: (),
        }),
    }
}

/// What one op stands for.
enum Encoded<'a> {
    /// A message header; the caller sends the payload of this length after it.
    Header(Message<()>, usize),
    /// A whole message, its payload copied in.
    Inline(Message<()>, &'a [u8]),
    /// A handshake: its op's flags, the info hash and the peer id (kept
    /// as references: an op resolved is a few words, not the 48-byte
    /// handshake, since every op is resolved twice).
    Handshake(u32, &'a [u8; ID_LEN], &'a [u8; ID_LEN]),
}

impl Encoded<'_> {
    /// A header whose payload the caller sends after it.
    #[inline(always)]
    fn is_cut(&self) -> bool {
        matches!(self, Encoded::Header(_, n) if *n > 0)
    }

    #[inline(always)]
    fn len(&self) -> usize {
        match self {
            Encoded::Header(m, _) => m.header_len(),
            Encoded::Inline(m, payload) => m.header_len() + payload.len(),
            Encoded::Handshake(..) => HANDSHAKE_LEN,
        }
    }

    #[inline(always)]
    fn encode(&self, dst: &mut &mut [u8]) {
        match self {
            Encoded::Header(m, payload_len) => m.encode_header_for(*payload_len, dst),
            Encoded::Inline(m, payload) => {
                m.encode_header_for(payload.len(), dst);
                dst.put_slice(payload);
            }
            &Encoded::Handshake(flags, info_hash, peer_id) => {
                Handshake::new(*info_hash, *peer_id, flags & HANDSHAKE_DHT != 0)
                    .with_fast(flags & HANDSHAKE_FAST != 0)
                    .encode(dst)
            }
        }
    }
}

/// The inline payloads, taken from the front.
struct Payloads<'a>(&'a [u8]);

impl<'a> Payloads<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], BatchError> {
        if self.0.len() < len {
            return Err(BatchError::FewerPayloadBytes);
        }
        let (payload, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(payload)
    }

    fn id(&mut self) -> Result<&'a [u8; ID_LEN], BatchError> {
        let bytes = self.take(ID_LEN)?;
        Ok(bytes.try_into().expect("taken ID_LEN bytes"))
    }
}

/// Resolves an op, taking its payload (if it has one inline) from `payloads`.
#[inline(always)]
fn resolve<'a>(op: &[u32], payloads: &mut Payloads<'a>) -> Result<Encoded<'a>, BatchError> {
    let &[kind, a, b, c] = op else {
        unreachable!("ops are taken OP_WORDS at a time")
    };
    if kind == KIND_HANDSHAKE {
        let info_hash = payloads.id()?;
        let peer_id = payloads.id()?;
        return Ok(Encoded::Handshake(a, info_hash, peer_id));
    }
    let (message, payload_len) = op_message(kind & !OP_INLINE, a, b, c)?;
    if kind & OP_INLINE == 0 {
        return Ok(Encoded::Header(message, payload_len));
    }
    Ok(Encoded::Inline(message, payloads.take(payload_len)?))
}

/// Encodes the first `count` ops of `ops` into `out` from byte `at` on, in
/// order, and returns the end offset. `out` needs at most [`super::MAX_OP_LEN`]
/// bytes an op, plus the inline payloads. Every op is checked before
/// anything is written: on an error `out` is untouched.
pub fn encode_ops(
    out: &mut [u8],
    at: u32,
    ops: &[u32],
    count: u32,
    payloads: &[u8],
) -> Result<u32, BatchError> {
    encode_ops_cut(out, at, ops, count, payloads, &mut [])
}

/// [`encode_ops`], for ops whose payloads the caller sends itself (a
/// header op, without [`OP_INLINE`], with a payload length), anywhere in
/// the queue: `ends[k]` gets the end offset of the `k`-th such header, where
/// the caller puts that payload in the stream. `ends` needs a word for each
/// but a last op's (checked before anything is written).
pub fn encode_ops_cut(
    out: &mut [u8],
    at: u32,
    ops: &[u32],
    count: u32,
    payloads: &[u8],
    ends: &mut [u32],
) -> Result<u32, BatchError> {
    let words = (count as usize)
        .checked_mul(OP_WORDS)
        .filter(|&n| n <= ops.len())
        .ok_or(BatchError::FewerOps)?;
    let ops = &ops[..words];
    let mut len = 0;
    let (mut cuts, mut last_cut) = (0, false);
    let mut taken = Payloads(payloads);
    for op in ops.chunks_exact(OP_WORDS) {
        let encoded = resolve(op, &mut taken)?;
        len += encoded.len();
        last_cut = encoded.is_cut();
        cuts += usize::from(last_cut);
    }
    let at = at as usize;
    if at > out.len() || out.len() - at < len {
        return Err(BatchError::OutputTooSmall);
    }
    let end = u32::try_from(at + len).map_err(|_| BatchError::OutputTooSmall)?;
    // A payload after the last op needs no end: it goes after everything.
    if ends.len() < cuts - usize::from(last_cut) {
        return Err(BatchError::FewerEnds);
    }
    let mut dst = &mut out[at..at + len];
    let mut taken = Payloads(payloads);
    let mut ends = ends.iter_mut();
    for op in ops.chunks_exact(OP_WORDS) {
        let encoded = resolve(op, &mut taken).expect("resolved above");
        encoded.encode(&mut dst);
        if encoded.is_cut() {
            if let Some(slot) = ends.next() {
                // `end` fits 32 bits, and so does every offset below it.
                *slot = (at + len - dst.len()) as u32;
            }
        }
    }
    Ok(end)
}
