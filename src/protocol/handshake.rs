//! The handshake that opens a connection, and its layout.
//!
//! ```text
//! offset  0   pstrlen (19)
//!         1   pstr "BitTorrent protocol"
//!        20   reserved, 8 bytes (extension flags)
//!        28   info hash, 20 bytes
//!        48   peer id, 20 bytes
//!        68   end
//! ```

use bytes::BufMut;

use super::error::DecodeError;

/// The protocol string of the handshake.
pub const PROTOCOL: &[u8; 19] = b"BitTorrent protocol";
/// Length of an info hash, and of a peer id.
pub const ID_LEN: usize = 20;
/// Offset of the reserved (extension flag) bytes in a handshake.
pub const RESERVED_OFFSET: usize = 1 + PROTOCOL.len();
/// Offset of the info hash in a handshake.
pub const INFO_HASH_OFFSET: usize = RESERVED_OFFSET + RESERVED_LEN;
/// Offset of the peer id in a handshake.
pub const PEER_ID_OFFSET: usize = INFO_HASH_OFFSET + ID_LEN;
/// Length of a handshake: pstrlen, pstr, reserved, info hash, peer id.
pub const HANDSHAKE_LEN: usize = PEER_ID_OFFSET + ID_LEN;

const RESERVED_LEN: usize = 8;
/// BEP 10, the extension protocol: reserved byte 5, bit 0x10.
const EXTENDED_BIT: (usize, u8) = (5, 0x10);
/// BEP 5, the DHT: reserved byte 7, bit 0x01.
const DHT_BIT: (usize, u8) = (7, 0x01);
/// BEP 6, the fast extension: reserved byte 7, bit 0x04.
const FAST_BIT: (usize, u8) = (7, 0x04);

/// The flags of the handshake's reserved bytes this crate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Extensions {
    /// BEP 5: reserved byte 7, bit 0x01.
    pub dht: bool,
    /// BEP 10: reserved byte 5, bit 0x10.
    pub extended: bool,
    /// BEP 6, the fast extension: reserved byte 7, bit 0x04. When both
    /// handshakes set it, the fast messages (ids 13 to 17) may be sent; the
    /// [`Decoder`](super::Decoder) reads them as such only then.
    pub fast: bool,
}

impl Extensions {
    /// The extensions both `self` and `other` set: what a connection has
    /// negotiated when they are the two handshakes' (BEP 6: the fast
    /// extension "is enabled only if both ends of the connection set this
    /// bit").
    pub fn both(self, other: Extensions) -> Extensions {
        Extensions {
            dht: self.dht && other.dht,
            extended: self.extended && other.extended,
            fast: self.fast && other.fast,
        }
    }
}

/// The 68-byte handshake that opens a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handshake {
    /// The reserved bytes, where each side flags the extensions it speaks.
    pub reserved: [u8; RESERVED_LEN],
    /// The torrent this connection is about.
    pub info_hash: [u8; ID_LEN],
    /// The sender's peer id.
    pub peer_id: [u8; ID_LEN],
}

impl Handshake {
    /// A handshake as peer-wire-protocol 0.7.1 sends it: the extension
    /// protocol bit is always set, the DHT bit when asked.
    pub fn new(info_hash: [u8; ID_LEN], peer_id: [u8; ID_LEN], dht: bool) -> Self {
        let mut hs = Handshake {
            reserved: [0; RESERVED_LEN],
            info_hash,
            peer_id,
        };
        hs.set(EXTENDED_BIT);
        if dht {
            hs.set(DHT_BIT);
        }
        hs
    }

    /// The same handshake with the fast extension bit (BEP 6) set or
    /// cleared: `Handshake::new(info_hash, peer_id, dht).with_fast(true)`.
    /// [`Handshake::new`] leaves it clear, as 0.7.1 does.
    pub fn with_fast(mut self, fast: bool) -> Self {
        self.put(FAST_BIT, fast);
        self
    }

    /// The extension flags the sender set.
    pub fn extensions(&self) -> Extensions {
        Extensions {
            dht: self.has(DHT_BIT),
            extended: self.has(EXTENDED_BIT),
            fast: self.has(FAST_BIT),
        }
    }

    fn set(&mut self, flag: (usize, u8)) {
        self.put(flag, true);
    }

    fn put(&mut self, (byte, bit): (usize, u8), on: bool) {
        if on {
            self.reserved[byte] |= bit;
        } else {
            self.reserved[byte] &= !bit;
        }
    }

    fn has(&self, (byte, bit): (usize, u8)) -> bool {
        self.reserved[byte] & bit != 0
    }

    /// Checks as much of a handshake's start as `prefix` holds, so that a
    /// wrong protocol is rejected before the whole handshake has arrived.
    pub fn check_prefix(prefix: &[u8]) -> Result<(), DecodeError> {
        if let Some(&pstrlen) = prefix.first() {
            if pstrlen as usize != PROTOCOL.len() {
                return Err(DecodeError::ProtocolLength(pstrlen));
            }
        }
        let name = &prefix[prefix.len().min(1)..prefix.len().min(RESERVED_OFFSET)];
        if name != &PROTOCOL[..name.len()] {
            return Err(DecodeError::ProtocolName);
        }
        Ok(())
    }

    /// Decodes a whole handshake, checking its protocol string.
    pub fn decode(frame: &[u8; HANDSHAKE_LEN]) -> Result<Self, DecodeError> {
        Self::check_prefix(frame)?;
        Ok(Handshake {
            reserved: field(frame, RESERVED_OFFSET),
            info_hash: field(frame, INFO_HASH_OFFSET),
            peer_id: field(frame, PEER_ID_OFFSET),
        })
    }

    /// Writes the 68 bytes of the handshake.
    pub fn encode(&self, out: &mut impl BufMut) {
        out.put_u8(PROTOCOL.len() as u8);
        out.put_slice(PROTOCOL);
        out.put_slice(&self.reserved);
        out.put_slice(&self.info_hash);
        out.put_slice(&self.peer_id);
    }
}

/// The `N` bytes of `frame` from `at` on.
fn field<const N: usize>(frame: &[u8; HANDSHAKE_LEN], at: usize) -> [u8; N] {
    frame[at..at + N]
        .try_into()
        .expect("a field lies inside the handshake")
}

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Any handshake: arbitrary reserved bytes, info hash and peer id.
    pub(crate) fn any_handshake() -> impl Strategy<Value = Handshake> {
        any::<([u8; 8], [u8; 20], [u8; 20])>().prop_map(|(reserved, info_hash, peer_id)| {
            Handshake {
                reserved,
                info_hash,
                peer_id,
            }
        })
    }

    proptest! {
        #[test]
        fn any_handshake_round_trips(hs in any_handshake()) {
            let mut out = Vec::new();
            hs.encode(&mut out);
            prop_assert_eq!(out.len(), HANDSHAKE_LEN);
            let back = Handshake::decode(out.as_slice().try_into().unwrap());
            prop_assert_eq!(back, Ok(hs));
        }
    }

    #[test]
    fn the_layout_is_bep_3s() {
        assert_eq!(
            (
                RESERVED_OFFSET,
                INFO_HASH_OFFSET,
                PEER_ID_OFFSET,
                HANDSHAKE_LEN
            ),
            (20, 28, 48, 68)
        );
        let hs = Handshake::new([1; 20], [2; 20], false);
        let mut out = Vec::new();
        hs.encode(&mut out);
        assert_eq!(&out[INFO_HASH_OFFSET..][..ID_LEN], &[1; 20]);
        assert_eq!(&out[PEER_ID_OFFSET..][..ID_LEN], &[2; 20]);
    }

    #[test]
    fn handshake_round_trips_and_reads_flags() {
        let hs = Handshake::new([1; 20], [2; 20], true);
        let mut out = Vec::new();
        hs.encode(&mut out);
        assert_eq!(out.len(), HANDSHAKE_LEN);
        assert_eq!(out[0], 19);
        assert_eq!(&out[1..20], PROTOCOL);
        assert_eq!(&out[20..28], &[0, 0, 0, 0, 0, 0x10, 0, 1]);
        let back = Handshake::decode(out.as_slice().try_into().unwrap()).unwrap();
        assert_eq!(back, hs);
        assert_eq!(
            back.extensions(),
            Extensions {
                dht: true,
                extended: true,
                fast: false
            }
        );
        assert!(!Handshake::new([0; 20], [0; 20], false).extensions().dht);
    }

    #[test]
    fn the_fast_bit_is_bep_6s_and_set_only_when_asked() {
        let hs = Handshake::new([1; 20], [2; 20], true).with_fast(true);
        let mut out = Vec::new();
        hs.encode(&mut out);
        assert_eq!(&out[20..28], &[0, 0, 0, 0, 0, 0x10, 0, 0x05]);
        let back = Handshake::decode(out.as_slice().try_into().unwrap()).unwrap();
        assert_eq!(
            back.extensions(),
            Extensions {
                dht: true,
                extended: true,
                fast: true
            }
        );
        // Cleared again, the other bits are kept.
        let cleared = hs.with_fast(false);
        assert_eq!(cleared, Handshake::new([1; 20], [2; 20], true));
        assert!(!cleared.extensions().fast);
        // Read from any reserved bytes, alone.
        let mut raw = Handshake::new([0; 20], [0; 20], false);
        raw.reserved = [0, 0, 0, 0, 0, 0, 0, 0x04];
        assert_eq!(
            raw.extensions(),
            Extensions {
                fast: true,
                ..Extensions::default()
            }
        );
    }

    #[test]
    fn handshake_prefix_is_checked_early() {
        assert_eq!(
            Handshake::check_prefix(&[18]),
            Err(DecodeError::ProtocolLength(18))
        );
        assert_eq!(
            Handshake::check_prefix(b"\x13BitTorrent pr0"),
            Err(DecodeError::ProtocolName)
        );
        assert_eq!(Handshake::check_prefix(b"\x13BitTorrent pro"), Ok(()));
        assert_eq!(Handshake::check_prefix(&[]), Ok(()));
    }
}
