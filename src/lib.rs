//! peer-wire-native: the BitTorrent peer wire protocol (BEP 3, plus the port
//! and BEP 10 extended messages) as a sans-IO Rust core, and, with the `napi`
//! feature, the Node.js addon that backs `index.js`.

pub mod protocol;

// napi-derive registers exports only outside `cfg(test)`, so a test build
// sees the exported items as unused.
#[cfg(feature = "napi")]
#[cfg_attr(test, allow(dead_code))]
mod binding;
