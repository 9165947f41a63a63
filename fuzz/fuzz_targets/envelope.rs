//! Fuzz target: `peek_header`, `open`, `verify_receipt` and `KeyAnnouncement::verify` on
//! arbitrary bytes, with fixed keys. Any panic is a bug.

#![no_main]

use comity_crypto::{KeyAnnouncement, NodeKeys, open, peek_header, verify_receipt};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn recipient_keys() -> &'static NodeKeys {
    static RECIPIENT_KEYS: OnceLock<NodeKeys> = OnceLock::new();
    RECIPIENT_KEYS.get_or_init(|| {
        let mut secret_bytes = [0u8; 64];
        for (index, byte) in secret_bytes.iter_mut().enumerate() {
            *byte = index as u8;
        }
        NodeKeys::from_secret_bytes(&secret_bytes).expect("64 bytes are valid secret keys")
    })
}

fuzz_target!(|data: &[u8]| {
    let recipient = recipient_keys();
    let sender_signing_key = *recipient.public_identity().signing_key_bytes();
    let _ = peek_header(data);
    let _ = open(recipient, data, &sender_signing_key);
    let _ = verify_receipt(data, &sender_signing_key);
    let _ = KeyAnnouncement::verify(data, &sender_signing_key);
});
