//! Message ids: the ones this crate knows by name, each with its exact
//! length (one table, [`MessageId::fixed_len`]), and which of them a
//! connection knows ([`MessageId::known`]).

use super::error::BodyLen;
use super::handshake::Extensions;

/// The message ids this crate knows by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum MessageId {
    /// `choke`: the sender will not answer requests.
    Choke = 0,
    /// `unchoke`: the sender will answer requests.
    Unchoke = 1,
    /// `interested`: the sender wants blocks.
    Interested = 2,
    /// `not interested` (`uninterested` in the reference).
    NotInterested = 3,
    /// `have`: the sender has a piece.
    Have = 4,
    /// `bitfield`: the pieces the sender has.
    Bitfield = 5,
    /// `request`: a block asked for.
    Request = 6,
    /// `piece`: a block sent.
    Piece = 7,
    /// `cancel`: a request withdrawn.
    Cancel = 8,
    /// `port`: the sender's DHT port (BEP 5).
    Port = 9,
    /// `suggest` (BEP 6): the sender suggests a piece to request.
    Suggest = 13,
    /// `have all` (BEP 6): the sender has every piece (instead of a bitfield).
    HaveAll = 14,
    /// `have none` (BEP 6): the sender has no piece (instead of a bitfield).
    HaveNone = 15,
    /// `reject request` (BEP 6): a request the sender will not answer.
    Reject = 16,
    /// `allowed fast` (BEP 6): a piece the sender serves even while choking.
    AllowedFast = 17,
    /// `extended`: a BEP 10 extension message.
    Extended = 20,
}

impl MessageId {
    /// Every id this crate knows, in id order.
    pub const ALL: [MessageId; 16] = [
        Self::Choke,
        Self::Unchoke,
        Self::Interested,
        Self::NotInterested,
        Self::Have,
        Self::Bitfield,
        Self::Request,
        Self::Piece,
        Self::Cancel,
        Self::Port,
        Self::Suggest,
        Self::HaveAll,
        Self::HaveNone,
        Self::Reject,
        Self::AllowedFast,
        Self::Extended,
    ];

    /// The id `id` is among those this crate knows, if any, whoever sent
    /// it; a decoder reading a peer uses [`MessageId::known`].
    pub fn from_u8(id: u8) -> Option<Self> {
        Some(match id {
            0 => Self::Choke,
            1 => Self::Unchoke,
            2 => Self::Interested,
            3 => Self::NotInterested,
            4 => Self::Have,
            5 => Self::Bitfield,
            6 => Self::Request,
            7 => Self::Piece,
            8 => Self::Cancel,
            9 => Self::Port,
            13 => Self::Suggest,
            14 => Self::HaveAll,
            15 => Self::HaveNone,
            16 => Self::Reject,
            17 => Self::AllowedFast,
            20 => Self::Extended,
            _ => return None,
        })
    }

    /// The id `id` is, as read on a connection that `negotiated` these
    /// extensions (those both handshakes set, [`Extensions::both`]): the
    /// fast ids only if fast is among them, else they are unknown (the
    /// decoder's and the tokio codec's one rule for them).
    pub fn known(id: u8, negotiated: Extensions) -> Option<Self> {
        Self::from_u8(id).filter(|id| negotiated.fast || !id.is_fast())
    }

    /// Whether this is a BEP 6 fast extension message.
    pub const fn is_fast(self) -> bool {
        matches!(
            self,
            Self::Suggest | Self::HaveAll | Self::HaveNone | Self::Reject | Self::AllowedFast
        )
    }

    /// The name peer-wire-protocol 0.7.1 gives the message (its event name;
    /// for the fast messages, which 0.7.1 does not know, bittorrent-protocol's).
    pub fn name(self) -> &'static str {
        match self {
            Self::Choke => "choke",
            Self::Unchoke => "unchoke",
            Self::Interested => "interested",
            Self::NotInterested => "uninterested",
            Self::Have => "have",
            Self::Bitfield => "bitfield",
            Self::Request => "request",
            Self::Piece => "piece",
            Self::Cancel => "cancel",
            Self::Port => "port",
            Self::Suggest => "suggest",
            Self::HaveAll => "have-all",
            Self::HaveNone => "have-none",
            Self::Reject => "reject",
            Self::AllowedFast => "allowed-fast",
            Self::Extended => "extended",
        }
    }

    /// Length of the id byte and the fixed fields after it: the whole body
    /// of a fixed-size message, the part before the payload of the others.
    pub const fn fixed_len(self) -> usize {
        match self {
            Self::Choke | Self::Unchoke | Self::Interested | Self::NotInterested => 1,
            Self::HaveAll | Self::HaveNone => 1,
            Self::Bitfield => 1,
            Self::Extended => 2,
            Self::Port => 3,
            Self::Have | Self::Suggest | Self::AllowedFast => 5,
            Self::Piece => 9,
            Self::Request | Self::Cancel | Self::Reject => 13,
        }
    }

    /// Whether a payload of any length follows the fixed fields.
    pub const fn has_payload(self) -> bool {
        matches!(self, Self::Bitfield | Self::Piece | Self::Extended)
    }

    /// The body length (id byte included) this id must have.
    pub fn body_len(self) -> BodyLen {
        let fixed = self.fixed_len() as u32;
        if self.has_payload() {
            BodyLen::AtLeast(fixed)
        } else {
            BodyLen::Exactly(fixed)
        }
    }
}
