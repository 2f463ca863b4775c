//! MSE's Diffie-Hellman: the 768-bit prime P of the MSE specification,
//! generator 2, a 160-bit private exponent.
//!
//! Fixed-size Montgomery arithmetic (`crypto_bigint::U768`), the Montgomery
//! parameters computed once per process, the exponentiation constant time
//! in the private exponent. No prime check per connection (the prime is a
//! constant, unlike `crypto.createDiffieHellman` in Node).

use std::sync::OnceLock;

use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
use crypto_bigint::{Odd, U768};

/// Length of a public key and of the shared secret: 768 bits, big-endian,
/// left-padded with zeros.
pub const KEY_LEN: usize = 96;

/// Length of a private exponent: 160 bits, the MSE specification's
/// suggestion (at least 128; more adds time, not strength, against a
/// 768-bit prime).
pub const PRIVATE_KEY_LEN: usize = 20;

/// The MSE prime, big-endian hex.
const PRIME_HEX: &str = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563";

fn params() -> &'static FixedMontyParams<{ U768::LIMBS }> {
    static PARAMS: OnceLock<FixedMontyParams<{ U768::LIMBS }>> = OnceLock::new();
    PARAMS.get_or_init(|| {
        let p = Odd::new(U768::from_be_hex(PRIME_HEX)).expect("the MSE prime is odd");
        FixedMontyParams::new_vartime(p)
    })
}

/// A private exponent and its public key.
#[derive(Clone)]
pub(crate) struct KeyPair {
    x: U768,
    public: [u8; KEY_LEN],
}

impl KeyPair {
    /// The key pair of a 160-bit private exponent (big-endian bytes).
    pub(crate) fn new(private: &[u8; PRIVATE_KEY_LEN]) -> Self {
        let mut x = [0u8; KEY_LEN];
        x[KEY_LEN - PRIVATE_KEY_LEN..].copy_from_slice(private);
        let x = U768::from_be_slice(&x);
        let g = FixedMontyForm::new(&U768::from_u8(2), params());
        let public = g
            .pow_bounded_exp(&x, 8 * PRIVATE_KEY_LEN as u32)
            .retrieve()
            .to_be_bytes();
        KeyPair {
            x,
            public: public.into(),
        }
    }

    /// Our public key, G^X mod P.
    pub(crate) fn public(&self) -> &[u8; KEY_LEN] {
        &self.public
    }

    /// The shared secret S = Y^X mod P of the peer's public key Y, or
    /// `None` for a degenerate Y (0, 1 or P - 1 once reduced mod P: S
    /// would be 0, 1 or ±1, known to anyone watching).
    pub(crate) fn shared(&self, peer: &[u8; KEY_LEN]) -> Option<[u8; KEY_LEN]> {
        let p = params();
        // Montgomery form accepts any 768-bit value (all are below 2P)
        // and reduces it.
        let y = FixedMontyForm::new(&U768::from_be_slice(peer), p);
        let reduced = y.retrieve();
        let p_minus_1 = p.modulus().get().wrapping_sub(&U768::ONE);
        if reduced == U768::ZERO || reduced == U768::ONE || reduced == p_minus_1 {
            return None;
        }
        let s = y
            .pow_bounded_exp(&self.x, 8 * PRIVATE_KEY_LEN as u32)
            .retrieve();
        Some(s.to_be_bytes().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Fixed private keys; the expected public keys and secret were
    /// computed independently with Python's `pow(2, x, P)` and
    /// `pow(ya, xb, P)` in a one-off script.
    #[test]
    fn fixed_keys_known_answers() {
        let a = KeyPair::new(&[0x11; 20]);
        let b = KeyPair::new(&[0x22; 20]);
        let s_a = a.shared(b.public()).unwrap();
        let s_b = b.shared(a.public()).unwrap();
        assert_eq!(s_a, s_b);
        assert_eq!(a.public()[..], hex(YA)[..]);
        assert_eq!(b.public()[..], hex(YB)[..]);
        assert_eq!(s_a[..], hex(S)[..]);
    }

    #[test]
    fn small_private_key_keeps_leading_zeros() {
        // x = 1: the public key is 2, left-padded to 96 bytes.
        let mut x = [0u8; 20];
        x[19] = 1;
        let k = KeyPair::new(&x);
        let mut want = [0u8; KEY_LEN];
        want[KEY_LEN - 1] = 2;
        assert_eq!(k.public(), &want);
    }

    #[test]
    fn degenerate_peer_keys_are_refused() {
        let k = KeyPair::new(&[0x33; 20]);
        let p = hex(PRIME_HEX_LOWER);
        let mut p_minus_1: [u8; KEY_LEN] = p.clone().try_into().unwrap();
        p_minus_1[KEY_LEN - 1] -= 1;
        let mut p_plus_1: [u8; KEY_LEN] = p.clone().try_into().unwrap();
        p_plus_1[KEY_LEN - 1] += 1;
        let mut one = [0u8; KEY_LEN];
        one[KEY_LEN - 1] = 1;
        for y in [
            [0u8; KEY_LEN],
            one,
            p.try_into().unwrap(),
            p_minus_1,
            p_plus_1,
        ] {
            assert_eq!(k.shared(&y), None);
        }
        // Above P but not degenerate: reduced, not refused.
        assert!(k.shared(&[0xff; KEY_LEN]).is_some());
    }

    const PRIME_HEX_LOWER: &str = "ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a08798e3404ddef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a63a36210000000000090563";
    const YA: &str = "3476dc8d123697fcc69e9121618a08514ffa536506df209ce956ad3cf819f76f3fcebc46f4e8be364ec8f1445b9dbf8a9528ca7bfbc89ad13f28137640a2cfd1055d55d5cc6676d18b410e086631309e95fa7b0dae2b8379186b17ad3472c755";
    const YB: &str = "0816092aa9b6a0bfdd7b86a6bac830dea6c71c4008a1fb53b69dc1c4acd99f8f3cf79d9d9ac411e18b59c0b58146912e51d0e508d20064b8633a85e20061823d9284b907b2dd0612884e61e9ebb8c9b462eda2f227491a6082bc58d6a1315c39";
    const S: &str = "ef037082d79ae7baeddb00b3ba4f24ec8a79c06c927258e89e01c46f8249187e672c919b9ff29abeb97fd230f6302fb121a5bad27c4c34e48722446a121d5e213b13e9eeb6dd23716be80c8a1cf31af29589c5245e74b3b8713d6b229ce05731";
}
