//! The plaintext bodies peers send inside envelopes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(body) = serde_json::from_slice::<comity_wire::federation::FederationBody>(data)
        && let comity_wire::federation::FederationBody::RequestDispatched { content, .. } = body
    {
        let _ = content.to_domain(|_| None);
    }
});
