//! Key rotation: a node announces its next keys in a COSE_Sign1 signed by its current signing
//! key, and peers keep each key with the time window in which it is trusted.

use ciborium::Value;

use crate::canonical_cbor::{self, OrderedMapReader};
use crate::cose_sign1::{self, Sign1Error};
use crate::keys::{KeyError, NodeKeys, PublicKeys};

/// COSE content type of a key announcement.
pub const KEY_ANNOUNCEMENT_CONTENT_TYPE: &str = "application/comity-key-announcement";
/// COSE external AAD of the key announcement signature.
pub const KEY_ANNOUNCEMENT_EXTERNAL_AAD: &[u8] = b"comity/key-announcement/v1";
/// Largest key announcement accepted, in bytes.
pub const MAX_KEY_ANNOUNCEMENT_BYTES: usize = 8 * 1024;
/// Largest node id, in UTF-8 bytes.
pub const MAX_NODE_ID_BYTES: usize = 1024;

/// "Node `node_id` will use `new_keys` from `valid_from_ms` (until `valid_until_ms`)", signed
/// by the node's previous signing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyAnnouncement {
    pub node_id: String,
    pub new_keys: PublicKeys,
    pub valid_from_ms: i64,
    pub valid_until_ms: Option<i64>,
}

/// A peer key on a trust list, with the window in which it is valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    pub keys: PublicKeys,
    pub valid_from_ms: i64,
    /// Exclusive end; `None` means no end yet.
    pub valid_until_ms: Option<i64>,
}

/// Errors from signing and verifying key announcements.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyAnnouncementError {
    #[error("key announcement too large: {size} bytes, limit {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("invalid key announcement signature envelope: {0}")]
    Signature(#[from] Sign1Error),
    #[error("malformed key announcement payload: {0}")]
    MalformedPayload(&'static str),
    #[error("invalid announced keys: {0}")]
    InvalidKeys(#[from] KeyError),
    #[error("invalid key announcement: {0}")]
    Invalid(&'static str),
}

impl KeyAnnouncement {
    /// Signs the announcement with `current_keys` (the keys being replaced).
    pub fn sign(&self, current_keys: &NodeKeys) -> Result<Vec<u8>, KeyAnnouncementError> {
        self.validate()?;
        let mut entries = vec![
            (1, Value::Integer(1.into())),
            (2, Value::Text(self.node_id.clone())),
            (3, Value::Text(self.new_keys.key_id().to_string())),
            (4, Value::Bytes(self.new_keys.signing_key_bytes().to_vec())),
            (5, Value::Bytes(self.new_keys.hpke_key_bytes().to_vec())),
            (6, Value::Integer(self.valid_from_ms.into())),
        ];
        if let Some(valid_until_ms) = self.valid_until_ms {
            entries.push((7, Value::Integer(valid_until_ms.into())));
        }
        let payload = canonical_cbor::encode(&canonical_cbor::unsigned_keyed_map(entries));
        Ok(cose_sign1::sign_strict(
            current_keys.signing_key(),
            current_keys.key_id(),
            KEY_ANNOUNCEMENT_CONTENT_TYPE,
            Vec::new(),
            payload,
            KEY_ANNOUNCEMENT_EXTERNAL_AAD,
        ))
    }

    /// Verifies an announcement against the previous signing key and returns it.
    pub fn verify(
        announcement_bytes: &[u8],
        previous_signing_key: &[u8; 32],
    ) -> Result<KeyAnnouncement, KeyAnnouncementError> {
        if announcement_bytes.len() > MAX_KEY_ANNOUNCEMENT_BYTES {
            return Err(KeyAnnouncementError::TooLarge {
                size: announcement_bytes.len(),
                limit: MAX_KEY_ANNOUNCEMENT_BYTES,
            });
        }
        let mut strict_sign1 =
            cose_sign1::parse_strict(announcement_bytes, KEY_ANNOUNCEMENT_CONTENT_TYPE)?;
        strict_sign1.verify(previous_signing_key, KEY_ANNOUNCEMENT_EXTERNAL_AAD)?;
        if !strict_sign1.private_protected_values()?.is_empty() {
            return Err(Sign1Error::UnexpectedProtectedHeader.into());
        }
        let announcement = read_payload(&strict_sign1.payload)?;
        announcement.validate()?;
        Ok(announcement)
    }

    /// The trust list entry the announcement asks for.
    pub fn trusted_key(&self) -> TrustedKey {
        TrustedKey {
            keys: self.new_keys.clone(),
            valid_from_ms: self.valid_from_ms,
            valid_until_ms: self.valid_until_ms,
        }
    }

    fn validate(&self) -> Result<(), KeyAnnouncementError> {
        if self.node_id.is_empty() || self.node_id.len() > MAX_NODE_ID_BYTES {
            return Err(KeyAnnouncementError::Invalid("node id empty or too long"));
        }
        if self
            .valid_until_ms
            .is_some_and(|valid_until_ms| valid_until_ms <= self.valid_from_ms)
        {
            return Err(KeyAnnouncementError::Invalid(
                "valid_until_ms must be after valid_from_ms",
            ));
        }
        Ok(())
    }
}

impl TrustedKey {
    /// True when `at_ms` is in `[valid_from_ms, valid_until_ms)`.
    pub fn is_valid_at(&self, at_ms: i64) -> bool {
        at_ms >= self.valid_from_ms
            && self
                .valid_until_ms
                .is_none_or(|valid_until_ms| at_ms < valid_until_ms)
    }
}

fn read_payload(payload: &[u8]) -> Result<KeyAnnouncement, KeyAnnouncementError> {
    use KeyAnnouncementError::MalformedPayload;
    let value = canonical_cbor::decode_deterministic(payload)
        .ok_or(MalformedPayload("not deterministic cbor"))?;
    let mut reader = OrderedMapReader::new(value)
        .ok_or(MalformedPayload("not a map with ascending integer keys"))?;
    let version = reader.optional(1).as_ref().and_then(canonical_cbor::as_u64);
    if version != Some(1) {
        return Err(MalformedPayload("unsupported version"));
    }
    let node_id = reader
        .optional(2)
        .and_then(|value| canonical_cbor::as_text(&value, MAX_NODE_ID_BYTES))
        .ok_or(MalformedPayload("node id"))?;
    let key_id = reader
        .optional(3)
        .and_then(|value| canonical_cbor::as_text(&value, 64))
        .ok_or(MalformedPayload("key id"))?;
    let signing_key_bytes = reader
        .optional(4)
        .as_ref()
        .and_then(canonical_cbor::as_fixed_bytes::<32>)
        .ok_or(MalformedPayload("signing key"))?;
    let hpke_key_bytes = reader
        .optional(5)
        .as_ref()
        .and_then(canonical_cbor::as_fixed_bytes::<32>)
        .ok_or(MalformedPayload("hpke key"))?;
    let valid_from_ms = reader
        .optional(6)
        .as_ref()
        .and_then(canonical_cbor::as_i64)
        .ok_or(MalformedPayload("valid_from_ms"))?;
    let valid_until_ms = match reader.optional(7) {
        None => None,
        Some(value) => {
            Some(canonical_cbor::as_i64(&value).ok_or(MalformedPayload("valid_until_ms"))?)
        }
    };
    if !reader.is_exhausted() {
        return Err(MalformedPayload("unknown key"));
    }
    let new_keys = PublicKeys::from_key_bytes(signing_key_bytes, hpke_key_bytes)?;
    if new_keys.key_id() != key_id {
        return Err(MalformedPayload("key id does not match the signing key"));
    }
    Ok(KeyAnnouncement {
        node_id,
        new_keys,
        valid_from_ms,
        valid_until_ms,
    })
}
