//! Comity's cryptography: node keys, sealed federation envelopes, signed receipts and key
//! rotation, over audited crates (`ed25519-dalek`, `hpke`, `coset`). No network, file or clock
//! access: time comes in as milliseconds, randomness as an RNG argument.
//!
//! The main types:
//!
//! - [`NodeKeys`]: a node's secret keys (Ed25519 for signatures, X25519 for HPKE), with byte and
//!   text forms for the key file; [`PublicKeys`] is the public half peers trust, named by a key
//!   id (16 hex digits of SHA-256 over the Ed25519 key).
//! - [`EnvelopeHeader`] and the functions [`seal`], [`peek_header`], [`open`]: a message body
//!   encrypted to the recipient with HPKE (RFC 9180, base mode,
//!   DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / ChaCha20Poly1305) and signed by the sender as a
//!   COSE_Sign1 (RFC 9052, EdDSA) that also commits to the body, so the recipient can later
//!   prove who sent what ([`verify_proof_of_origin`]). [`OpenedEnvelope`] is what `open` returns.
//! - [`Receipt`], [`sign_receipt`], [`verify_receipt`]: the recipient's signed statement about an
//!   envelope it received.
//! - [`KeyAnnouncement`] and [`TrustedKey`]: key rotation, signed by the previous key, and the
//!   validity window of each trusted key.
//!
//! - [`peek_envelope_prefix`] and [`peek_key_announcement_prefix`]: who claims to have signed
//!   an envelope or announcement, read from its first bytes so that a receiver can refuse a
//!   stranger before reading the rest. Unverified; only for refusing early.
//!
//! - [`SecretBox`]: a node-local key that seals small secrets kept in the database (TOTP
//!   secrets), bound to the row they belong to.
//!
//! Every signed object is a tagged COSE_Sign1 with its own content type and external AAD, so a
//! signature made for one kind of object never verifies as another. `docs/protocol.md` at the
//! repository root specifies the bytes.

mod canonical_cbor;
mod cose_sign1;
mod envelope;
mod keys;
mod receipt;
mod rotation;
mod secret_box;
mod signed_prefix;

pub use cose_sign1::{Sign1Error, verify_cose_sign1_ed25519};
pub use envelope::{
    BODY_COMMITMENT_TAG, COMMITMENT_SALT_BYTES, ENVELOPE_CONTENT_TYPE, ENVELOPE_EXTERNAL_AAD,
    ENVELOPE_HPKE_INFO, ENVELOPE_VERSION, EnvelopeError, EnvelopeHeader, InvalidMessageId,
    MAX_BODY_BYTES, MAX_ENVELOPE_BYTES, MAX_HEADER_TEXT_BYTES, MessageId, OpenedEnvelope,
    PeekedEnvelope, body_commitment, canonical_header_bytes, header_labels, open, peek_envelope,
    peek_header, seal, verify_proof_of_origin,
};
pub use keys::{
    KeyError, NODE_SECRET_KEY_BYTES, NODE_SECRET_TEXT_FIRST_LINE, NodeKeys,
    PUBLIC_KEYS_TEXT_PREFIX, PublicKeys, key_id_for_signing_key,
};
pub use receipt::{
    MAX_RECEIPT_BYTES, MAX_RECEIPT_TEXT_BYTES, RECEIPT_CONTENT_TYPE, RECEIPT_EXTERNAL_AAD, Receipt,
    ReceiptError, ReceiptOutcome, sign_receipt, verify_receipt,
};
pub use rotation::{
    KEY_ANNOUNCEMENT_CONTENT_TYPE, KEY_ANNOUNCEMENT_EXTERNAL_AAD, KeyAnnouncement,
    KeyAnnouncementError, MAX_KEY_ANNOUNCEMENT_BYTES, MAX_NODE_ID_BYTES, TrustedKey,
};
pub use secret_box::{SECRET_BOX_KEY_BYTES, SecretBox, SecretBoxError};
pub use signed_prefix::{
    EnvelopePrefix, KeyAnnouncementPrefix, MAX_PROTECTED_HEADER_BYTES, PrefixPeek,
    SignedPrefixError, peek_envelope_prefix, peek_key_announcement_prefix,
};
