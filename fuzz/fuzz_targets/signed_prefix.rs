//! Fuzz target: `peek_envelope_prefix` and `peek_key_announcement_prefix` on arbitrary bytes,
//! and on every prefix of them: any panic is a bug, and once a prefix is complete every
//! longer prefix must name the same sender.

#![no_main]

use comity_crypto::{PrefixPeek, peek_envelope_prefix, peek_key_announcement_prefix};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = peek_key_announcement_prefix(data);
    let mut first_complete = None;
    for end in 0..=data.len().min(512) {
        match peek_envelope_prefix(&data[..end]) {
            Ok(PrefixPeek::Complete(prefix)) => {
                let first = first_complete.get_or_insert_with(|| prefix.clone());
                assert_eq!(first.sender, prefix.sender);
                assert_eq!(first.sender_key_id, prefix.sender_key_id);
            }
            Ok(PrefixPeek::NeedMoreBytes) => assert!(first_complete.is_none()),
            Err(_) => {}
        }
    }
});
