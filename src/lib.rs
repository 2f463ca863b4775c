//! peer-wire-native: the BitTorrent peer wire protocol (BEP 3, plus the port
//! and BEP 10 extended messages) as a sans-IO Rust core, and, with the `napi`
//! feature, the Node.js addon that backs `index.js`.

pub mod protocol;

#[cfg(feature = "napi")]
mod binding;
