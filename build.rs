fn main() {
    // Only the addon build needs the N-API link arguments.
    if std::env::var_os("CARGO_FEATURE_NAPI").is_some() {
        napi_build::setup();
    }
}
