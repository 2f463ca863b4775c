//! peer-wire-native: the BitTorrent peer wire protocol (BEP 3, plus the port
//! and BEP 10 extended messages) as a sans-IO Rust core, and, with the `napi`
//! feature, the Node.js addon that backs `index.js`.

pub mod batch;
pub mod protocol;

// napi-derive registers `#[napi]` items with the module only outside
// `cfg(test)`, so in a test build of the addon they have no user: allowed
// here, once, rather than item by item.
#[cfg(feature = "napi")]
#[cfg_attr(test, allow(dead_code))]
mod binding;
