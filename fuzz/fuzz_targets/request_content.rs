//! Request content as the API and peers send it: JSON, then parsing into the domain.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(content) = serde_json::from_slice::<comity_wire::RequestContentDto>(data) {
        let _ = content.to_domain(|_| None);
    }
});
