//! The one integration test binary of comity-crypto: envelopes, receipts, key rotation, and
//! the public COSE test vectors.

mod cose_vectors;
mod envelopes;
mod receipts_and_rotation;

use comity_crypto::{EnvelopeHeader, MessageId, NodeKeys};
use rand::SeedableRng as _;
use rand::rngs::StdRng;

pub(crate) fn test_rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

pub(crate) fn node_keys(seed: u64) -> NodeKeys {
    NodeKeys::generate(&mut test_rng(seed))
}

pub(crate) fn sample_header(sequence: u64) -> EnvelopeHeader {
    EnvelopeHeader {
        version: 1,
        message_id: MessageId::from_bytes([sequence as u8; 16]),
        sender: "fr-pnf-central".to_string(),
        recipient: "de-bj-central".to_string(),
        message_type: "request.submitted".to_string(),
        conversation_id: "case-2025-0042".to_string(),
        sequence,
        sent_at_ms: 1_750_000_000_000,
        in_reply_to: None,
    }
}
