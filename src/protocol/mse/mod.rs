//! Message Stream Encryption (MSE/PE), sans IO: the RC4 streams and the
//! 768-bit Diffie-Hellman of the MSE handshake (the handshake itself
//! follows).

#[allow(dead_code)] // its user, the handshake, comes next
pub(crate) mod dh;
mod rc4;

pub use dh::{KEY_LEN, PRIVATE_KEY_LEN};
pub use rc4::Rc4;
