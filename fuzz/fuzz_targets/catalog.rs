//! A law catalog file as an administrator might edit it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = comity_law::Catalog::from_sources([("fuzz.toml".to_string(), text)]);
    }
});
