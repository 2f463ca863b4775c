//! What a peer can get wrong in the MSE handshake.

use super::types::MAX_PAD_LEN;

/// An MSE handshake that cannot go on. After one of these the handshake is
/// spent (every later [`feed`] returns it again): close the connection.
///
/// [`feed`]: super::MseHandshake::feed
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MseError {
    /// The initiator did not find the responder's encrypted verification
    /// constant within PadB's bound, or the responder did not find
    /// HASH('req1', S) within PadA's.
    #[error("MSE handshake: {what} not found within {bound} bytes")]
    Sync {
        /// The pattern looked for.
        what: &'static str,
        /// How many bytes were searched: the largest pad and the pattern.
        bound: usize,
    },
    /// The peer's public key is 0, 1 or P - 1 modulo P, which makes the
    /// shared secret public.
    #[error("MSE handshake: degenerate Diffie-Hellman public key")]
    BadKey,
    /// HASH('req2', SKEY) names none of the torrents we serve.
    #[error("MSE handshake: the peer asks for a torrent we do not serve")]
    UnknownTorrent,
    /// The verification constant decrypted to something other than zeros:
    /// the peer derived different keys.
    #[error("MSE handshake: bad verification constant")]
    BadVc,
    /// A pad length over 512.
    #[error("MSE handshake: pad of {len} bytes, at most {MAX_PAD_LEN} allowed")]
    BadPad {
        /// The length announced.
        len: u16,
    },
    /// The responder selected a method we did not offer, or not exactly one.
    #[error("MSE handshake: crypto_select {select:#x} is not one of the offered {provide:#x}")]
    CryptoSelect {
        /// What the responder selected.
        select: u32,
        /// What we offered.
        provide: u32,
    },
    /// The initiator offered neither RC4 nor plaintext.
    #[error("MSE handshake: crypto_provide {provide:#x} offers no method we know")]
    CryptoProvide {
        /// What the initiator offered.
        provide: u32,
    },
    /// Plaintext (a plain BitTorrent handshake, or an MSE initiator that
    /// offers only plaintext) while our policy requires encryption.
    #[error("MSE handshake: plaintext refused, encryption is required")]
    PlaintextRefused,
    /// `feed` was called after the handshake completed.
    #[error("MSE handshake already completed")]
    Finished,
}

impl MseError {
    /// The stable code a caller can branch on (`err.code` in JavaScript).
    pub fn code(&self) -> &'static str {
        match self {
            MseError::Sync { .. } => "ERR_PEER_WIRE_MSE_SYNC",
            MseError::BadKey => "ERR_PEER_WIRE_MSE_BAD_KEY",
            MseError::UnknownTorrent => "ERR_PEER_WIRE_MSE_UNKNOWN_TORRENT",
            MseError::BadVc => "ERR_PEER_WIRE_MSE_BAD_VC",
            MseError::BadPad { .. } => "ERR_PEER_WIRE_MSE_BAD_PAD",
            MseError::CryptoSelect { .. } => "ERR_PEER_WIRE_MSE_CRYPTO_SELECT",
            MseError::CryptoProvide { .. } => "ERR_PEER_WIRE_MSE_CRYPTO_PROVIDE",
            MseError::PlaintextRefused => "ERR_PEER_WIRE_MSE_PLAINTEXT_REFUSED",
            MseError::Finished => "ERR_PEER_WIRE_MSE_FINISHED",
        }
    }
}
