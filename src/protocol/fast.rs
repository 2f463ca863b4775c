//! The allowed-fast set of BEP 6: the pieces a peer may request from us even
//! while we choke it, derived from its address and the info hash so that
//! every client offers a peer the same pieces (and `k + 1` pieces are the
//! same `k` plus one).
//!
//! BEP 6's canonical algorithm, for an IPv4 peer: `x` is the peer's address
//! masked to its /24 (`0xFFFFFF00 & ip`, four bytes, big-endian) followed by
//! the 20-byte info hash; then, until the set has `k` indexes, `x =
//! SHA1(x)` and each of the digest's five big-endian 32-bit words `y`
//! gives the index `y % num_pieces`, skipped if already in the set. The
//! mask keeps a peer with several addresses in one network from getting
//! several sets.
//!
//! BEP 6 has "no provisions for IPv6". Here an IPv4-mapped IPv6 address
//! (`::ffff:a.b.c.d`, as a dual-stack socket reports an IPv4 peer) is that
//! IPv4 address; any other IPv6 address is masked to its /48 (the first six
//! bytes kept, the other ten zeroed: what one site is typically assigned,
//! the /24's role for IPv4) and its 16 bytes start `x` instead of 4.
//! libtorrent (2.0) hashes the peer's whole address, unmasked, IPv4 or IPv6,
//! so its sets differ from BEP 6's; a set is only ever computed by the peer
//! that offers it, so each choice is sound, and this one keeps BEP 6's
//! reason for the mask.

use std::net::IpAddr;

use super::handshake::ID_LEN;

/// Largest set [`allowed_fast_set`] computes: a hundred times BEP 6's 10,
/// and bounding its work (a set of `k` indexes costs about `k / 5` SHA-1
/// blocks, more as duplicates grow when `k` nears the piece count).
pub const MAX_ALLOWED_FAST_SET_LEN: usize = 1024;

/// Arguments an allowed-fast set cannot be computed from.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FastSetError {
    /// The address is not an IPv4 or IPv6 address.
    #[error("ip must be an IPv4 or IPv6 address, got {0:?}")]
    Address(String),
    /// The info hash is not 20 bytes long.
    #[error("infoHash must have length 20, got {0}")]
    InfoHashLength(usize),
    /// The piece count is not an integer from 0 to 2^32 - 1.
    #[error("numPieces must be an integer from 0 to 4294967295, got {0}")]
    NumPieces(f64),
    /// The set size is not an integer from 0 to [`MAX_ALLOWED_FAST_SET_LEN`].
    #[error("k must be an integer from 0 to {max}, got {k}", max = MAX_ALLOWED_FAST_SET_LEN)]
    SetLen {
        /// The size asked for.
        k: f64,
    },
}

impl FastSetError {
    /// The stable code a caller can branch on (`err.code` in JavaScript):
    /// Node's own for a bad argument value and for a number out of range.
    pub fn code(&self) -> &'static str {
        match self {
            FastSetError::Address(_) => "ERR_INVALID_ARG_VALUE",
            FastSetError::InfoHashLength(_)
            | FastSetError::NumPieces(_)
            | FastSetError::SetLen { .. } => "ERR_OUT_OF_RANGE",
        }
    }
}

/// The allowed-fast set of `k` pieces (fewer when the torrent has fewer)
/// that we offer the peer at `ip`, in BEP 6's order, for a torrent of
/// `num_pieces` pieces. Fails only for `k` over
/// [`MAX_ALLOWED_FAST_SET_LEN`].
pub fn allowed_fast_set(
    ip: IpAddr,
    info_hash: &[u8; ID_LEN],
    num_pieces: u32,
    k: usize,
) -> Result<Vec<u32>, FastSetError> {
    if k > MAX_ALLOWED_FAST_SET_LEN {
        return Err(FastSetError::SetLen { k: k as f64 });
    }
    let len = k.min(num_pieces as usize);
    let mut set = Vec::with_capacity(len);
    if len == 0 {
        return Ok(set);
    }
    let mut x = masked(ip);
    x.extend_from_slice(info_hash);
    let mut digest = sha1(&x);
    loop {
        for word in digest.chunks_exact(4) {
            let y = u32::from_be_bytes(word.try_into().expect("4 bytes"));
            let index = y % num_pieces;
            if !set.contains(&index) {
                set.push(index);
                if set.len() == len {
                    return Ok(set);
                }
            }
        }
        digest = sha1(&digest);
    }
}

/// [`allowed_fast_set`] from arguments as a JavaScript caller passes them:
/// the address as text, the info hash as bytes of any length, the counts
/// as numbers; each is checked.
pub fn allowed_fast_set_from(
    ip: &str,
    info_hash: &[u8],
    num_pieces: f64,
    k: f64,
) -> Result<Vec<u32>, FastSetError> {
    let ip: IpAddr = ip
        .parse()
        .map_err(|_| FastSetError::Address(ip.to_string()))?;
    let info_hash: &[u8; ID_LEN] = info_hash
        .try_into()
        .map_err(|_| FastSetError::InfoHashLength(info_hash.len()))?;
    let num_pieces =
        whole(num_pieces, u32::MAX.into()).ok_or(FastSetError::NumPieces(num_pieces))?;
    let max = MAX_ALLOWED_FAST_SET_LEN as f64;
    let k_len = whole(k, max).ok_or(FastSetError::SetLen { k })?;
    allowed_fast_set(ip, info_hash, num_pieces as u32, k_len as usize)
}

/// `n` if it is a whole number from 0 to `max`.
fn whole(n: f64, max: f64) -> Option<f64> {
    (n.fract() == 0.0 && (0.0..=max).contains(&n)).then_some(n)
}

/// The start of `x`: the address's network part, as the module explains.
fn masked(ip: IpAddr) -> Vec<u8> {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    match ip {
        IpAddr::V4(v4) => (u32::from(v4) & 0xFFFF_FF00).to_be_bytes().to_vec(),
        IpAddr::V6(v6) => {
            let mut bytes = v6.octets();
            bytes[6..].fill(0);
            bytes.to_vec()
        }
    }
}

fn sha1(bytes: &[u8]) -> [u8; 20] {
    sha1_smol::Sha1::from(bytes).digest().bytes()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const INFO_HASH: [u8; 20] = [0xaa; 20];

    fn set(ip: &str, num_pieces: u32, k: usize) -> Vec<u32> {
        allowed_fast_set(ip.parse().unwrap(), &INFO_HASH, num_pieces, k).unwrap()
    }

    /// BEP 6's own example results: 1313 pieces, info hash 0xaa x 20, peer
    /// 80.4.4.200.
    #[test]
    fn the_beps_example_sets() {
        assert_eq!(
            set("80.4.4.200", 1313, 7),
            [1059, 431, 808, 1217, 287, 376, 1188]
        );
        assert_eq!(
            set("80.4.4.200", 1313, 9),
            [1059, 431, 808, 1217, 287, 376, 1188, 353, 508]
        );
    }

    #[test]
    fn one_set_per_slash_24() {
        let bep = set("80.4.4.200", 1313, 9);
        assert_eq!(set("80.4.4.0", 1313, 9), bep);
        assert_eq!(set("80.4.4.255", 1313, 9), bep);
        assert_eq!(set("::ffff:80.4.4.200", 1313, 9), bep);
        assert_ne!(set("80.4.5.200", 1313, 9), bep);
    }

    #[test]
    fn one_set_per_ipv6_slash_48() {
        let a = set("2001:db8:1::1", 1313, 10);
        assert_eq!(a.len(), 10);
        assert_eq!(set("2001:db8:1:ffff::9", 1313, 10), a);
        assert_ne!(set("2001:db8:2::1", 1313, 10), a);
        // Not the IPv4 set of the same leading bytes.
        assert_ne!(set("5004:4c8::", 1313, 9), set("80.4.4.200", 1313, 9));
    }

    #[test]
    fn a_torrent_with_fewer_pieces_gives_them_all_once() {
        let mut all = set("80.4.4.200", 10, 20);
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert_eq!(set("80.4.4.200", 1, 10), [0]);
        assert_eq!(set("80.4.4.200", 0, 10), []);
        assert_eq!(set("80.4.4.200", 1313, 0), []);
        // The largest set, over as many pieces: every piece, in bounded work.
        let n = MAX_ALLOWED_FAST_SET_LEN;
        let mut all = set("10.0.0.1", n as u32, n);
        all.sort_unstable();
        assert_eq!(all, (0..n as u32).collect::<Vec<_>>());
    }

    #[test]
    fn arguments_are_checked() {
        let ok = allowed_fast_set_from("80.4.4.200", &INFO_HASH, 1313.0, 7.0);
        assert_eq!(ok, Ok(set("80.4.4.200", 1313, 7)));
        let cases = [
            (
                "80.4.4",
                &INFO_HASH[..],
                1313.0,
                7.0,
                "ERR_INVALID_ARG_VALUE",
            ),
            ("", &INFO_HASH[..], 1313.0, 7.0, "ERR_INVALID_ARG_VALUE"),
            (
                "80.4.4.200:6881",
                &INFO_HASH[..],
                1313.0,
                7.0,
                "ERR_INVALID_ARG_VALUE",
            ),
            (
                "80.4.4.200",
                &INFO_HASH[..19],
                1313.0,
                7.0,
                "ERR_OUT_OF_RANGE",
            ),
            ("80.4.4.200", &[0; 21][..], 1313.0, 7.0, "ERR_OUT_OF_RANGE"),
            ("80.4.4.200", &INFO_HASH[..], -1.0, 7.0, "ERR_OUT_OF_RANGE"),
            ("80.4.4.200", &INFO_HASH[..], 1.5, 7.0, "ERR_OUT_OF_RANGE"),
            (
                "80.4.4.200",
                &INFO_HASH[..],
                f64::NAN,
                7.0,
                "ERR_OUT_OF_RANGE",
            ),
            (
                "80.4.4.200",
                &INFO_HASH[..],
                4294967296.0,
                7.0,
                "ERR_OUT_OF_RANGE",
            ),
            (
                "80.4.4.200",
                &INFO_HASH[..],
                1313.0,
                -1.0,
                "ERR_OUT_OF_RANGE",
            ),
            (
                "80.4.4.200",
                &INFO_HASH[..],
                1313.0,
                0.5,
                "ERR_OUT_OF_RANGE",
            ),
            (
                "80.4.4.200",
                &INFO_HASH[..],
                1313.0,
                f64::INFINITY,
                "ERR_OUT_OF_RANGE",
            ),
            (
                "80.4.4.200",
                &INFO_HASH[..],
                1313.0,
                1025.0,
                "ERR_OUT_OF_RANGE",
            ),
        ];
        for (ip, info_hash, num_pieces, k, code) in cases {
            let err = allowed_fast_set_from(ip, info_hash, num_pieces, k).unwrap_err();
            assert_eq!(err.code(), code, "{err}");
        }
        assert_eq!(
            allowed_fast_set_from("80.4.4", &INFO_HASH, 1.0, 1.0)
                .unwrap_err()
                .to_string(),
            "ip must be an IPv4 or IPv6 address, got \"80.4.4\""
        );
        assert_eq!(
            allowed_fast_set(
                "80.4.4.200".parse().unwrap(),
                &INFO_HASH,
                u32::MAX,
                MAX_ALLOWED_FAST_SET_LEN + 1
            ),
            Err(FastSetError::SetLen { k: 1025.0 })
        );
        assert_eq!(
            allowed_fast_set_from("80.4.4.200", &INFO_HASH, 4294967295.0, 1024.0).map(|s| s.len()),
            Ok(1024)
        );
    }

    proptest! {
        /// Distinct indexes inside the torrent, `min(k, num_pieces)` of
        /// them, and `k + 1` pieces are the `k` plus one.
        #[test]
        fn a_set_is_distinct_pieces_and_grows_by_one(
            ip in any::<std::net::IpAddr>(),
            info_hash in any::<[u8; 20]>(),
            num_pieces in prop_oneof![1u32..40, any::<u32>()],
            k in 0usize..40,
        ) {
            let a = allowed_fast_set(ip, &info_hash, num_pieces, k).unwrap();
            let b = allowed_fast_set(ip, &info_hash, num_pieces, k + 1).unwrap();
            prop_assert_eq!(a.len(), k.min(num_pieces as usize));
            prop_assert!(a.iter().all(|&i| i < num_pieces));
            let mut sorted = a.clone();
            sorted.sort_unstable();
            sorted.dedup();
            prop_assert_eq!(sorted.len(), a.len());
            prop_assert_eq!(&b[..a.len()], &a[..]);
        }
    }
}
