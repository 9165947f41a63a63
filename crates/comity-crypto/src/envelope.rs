//! Sealed envelopes: a federation message body encrypted to the recipient with HPKE and signed
//! by the sender as a COSE_Sign1 whose protected header carries the routing header and a
//! salted commitment to the body. See `docs/protocol.md` for the byte-level format.

use ciborium::Value;
use hpke::{Deserializable as _, Serializable as _};
use rand::{CryptoRng, RngCore};
use sha2::{Digest as _, Sha256};
use zeroize::Zeroizing;

use crate::canonical_cbor;
use crate::cose_sign1::{self, Sign1Error};
use crate::keys::{HpkeKem, HpkePrivateKey, HpkePublicKey, NodeKeys, PublicKeys};

/// The only envelope version this crate writes and reads.
pub const ENVELOPE_VERSION: u8 = 1;
/// Largest envelope, in bytes, that [`seal`] writes and [`open`] or [`peek_header`] accept.
pub const MAX_ENVELOPE_BYTES: usize = 16 * 1024 * 1024;
/// Largest body [`seal`] accepts: the envelope limit less 64 KiB for the header and framing.
pub const MAX_BODY_BYTES: usize = MAX_ENVELOPE_BYTES - 64 * 1024;
/// Largest text header field (`sender`, `recipient`, `message_type`, `conversation_id`), in
/// UTF-8 bytes.
pub const MAX_HEADER_TEXT_BYTES: usize = 1024;

/// COSE content type (label 3) of an envelope.
pub const ENVELOPE_CONTENT_TYPE: &str = "application/comity-envelope";
/// COSE external AAD of the envelope signature (domain separation from receipts and key
/// announcements).
pub const ENVELOPE_EXTERNAL_AAD: &[u8] = b"comity/envelope/v1";
/// HPKE `info` string.
pub const ENVELOPE_HPKE_INFO: &[u8] = b"comity/envelope/v1/hpke";
/// Domain tag hashed before the salt and the body in the body commitment.
pub const BODY_COMMITMENT_TAG: &[u8] = b"comity/body-commitment/v1";
/// Length of the random salt that precedes the body inside the ciphertext.
pub const COMMITMENT_SALT_BYTES: usize = 32;

/// Private-use COSE header labels (RFC 9052 §3.1: less than -65536) of the envelope header.
pub mod header_labels {
    pub const VERSION: i64 = -65537;
    pub const MESSAGE_ID: i64 = -65538;
    pub const SENDER: i64 = -65539;
    pub const RECIPIENT: i64 = -65540;
    pub const MESSAGE_TYPE: i64 = -65541;
    pub const CONVERSATION_ID: i64 = -65542;
    pub const SEQUENCE: i64 = -65543;
    pub const SENT_AT_MS: i64 = -65544;
    pub const IN_REPLY_TO: i64 = -65545;
    pub const RECIPIENT_KEY_ID: i64 = -65546;
    pub const BODY_COMMITMENT: i64 = -65547;
}

/// A message id: 16 bytes, shown and parsed as a hyphenated lowercase UUID
/// (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`). On the wire it is a 16-byte CBOR byte string.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(pub [u8; 16]);

/// The routing header of an envelope. It travels in clear (signed, not encrypted) so the
/// receiver can find the sender's keys before opening, and is the HPKE associated data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopeHeader {
    /// Always [`ENVELOPE_VERSION`] for envelopes this crate writes.
    pub version: u8,
    pub message_id: MessageId,
    /// Sender node id.
    pub sender: String,
    /// Recipient node id.
    pub recipient: String,
    pub message_type: String,
    pub conversation_id: String,
    pub sequence: u64,
    pub sent_at_ms: i64,
    pub in_reply_to: Option<MessageId>,
}

/// What [`peek_envelope`] reads without any key: the header and the signed metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeekedEnvelope {
    pub header: EnvelopeHeader,
    /// Key id (`kid`) of the sender's signing key.
    pub sender_key_id: String,
    /// Key id of the recipient keys whose HPKE key the body was encrypted to.
    pub recipient_key_id: String,
    pub body_commitment: [u8; 32],
}

/// A verified and decrypted envelope. Keeping the envelope bytes, `body` and
/// `commitment_salt` lets anyone check who sent what with [`verify_proof_of_origin`].
#[derive(Clone, PartialEq, Eq)]
pub struct OpenedEnvelope {
    pub header: EnvelopeHeader,
    pub body: Vec<u8>,
    pub body_commitment: [u8; 32],
    pub commitment_salt: [u8; 32],
    pub sender_key_id: String,
    /// SHA-256 of the envelope bytes, for receipts.
    pub envelope_hash: [u8; 32],
}

/// Errors from sealing, peeking and opening envelopes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("envelope too large: {size} bytes, limit {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("malformed cbor")]
    MalformedCbor,
    #[error("malformed envelope: {0}")]
    MalformedEnvelope(&'static str),
    #[error("unsupported envelope version {0}")]
    UnsupportedVersion(u64),
    #[error("unsupported algorithm")]
    UnsupportedAlgorithm,
    #[error("invalid header: {0}")]
    InvalidHeader(&'static str),
    #[error("invalid sender public key")]
    InvalidSenderKey,
    #[error("bad signature")]
    BadSignature,
    #[error("sender key id mismatch: envelope names {found}, expected {expected}")]
    SenderKeyIdMismatch { expected: String, found: String },
    #[error("invalid recipient public key")]
    InvalidRecipientKey,
    #[error("wrong recipient key: sealed to {found}, this node holds {expected}")]
    WrongRecipientKey { expected: String, found: String },
    #[error("encryption failed")]
    EncryptionFailed,
    #[error("decryption failed")]
    DecryptionFailed,
    #[error("commitment mismatch")]
    CommitmentMismatch,
}

/// Encrypts `body` to `recipient` and signs the result with `sender`.
pub fn seal(
    sender: &NodeKeys,
    recipient: &PublicKeys,
    header: &EnvelopeHeader,
    body: &[u8],
    rng: &mut (impl CryptoRng + RngCore),
) -> Result<Vec<u8>, EnvelopeError> {
    validate_header(header)?;
    if body.len() > MAX_BODY_BYTES {
        return Err(EnvelopeError::TooLarge {
            size: body.len(),
            limit: MAX_BODY_BYTES,
        });
    }
    let hpke_public_key = recipient
        .hpke_public_key()
        .map_err(|_| EnvelopeError::InvalidRecipientKey)?;

    let mut commitment_salt = [0u8; COMMITMENT_SALT_BYTES];
    rng.fill_bytes(&mut commitment_salt);
    let body_commitment = body_commitment(&commitment_salt, body);

    let mut plaintext = Zeroizing::new(Vec::with_capacity(COMMITMENT_SALT_BYTES + body.len()));
    plaintext.extend_from_slice(&commitment_salt);
    plaintext.extend_from_slice(body);

    let associated_data = canonical_header_bytes(header);
    let (encapsulated_key, ciphertext) = hpke_seal_base(
        &hpke_public_key,
        ENVELOPE_HPKE_INFO,
        &plaintext,
        &associated_data,
        rng,
    )?;

    let payload = canonical_cbor::encode(&Value::Array(vec![
        Value::Bytes(encapsulated_key.to_vec()),
        Value::Bytes(ciphertext),
    ]));
    let mut protected_values = header_values(header);
    protected_values.push((
        header_labels::RECIPIENT_KEY_ID,
        Value::Text(recipient.key_id().to_string()),
    ));
    protected_values.push((
        header_labels::BODY_COMMITMENT,
        Value::Bytes(body_commitment.to_vec()),
    ));

    let envelope_bytes = cose_sign1::sign_strict(
        sender.signing_key(),
        sender.key_id(),
        ENVELOPE_CONTENT_TYPE,
        protected_values,
        payload,
        ENVELOPE_EXTERNAL_AAD,
    );
    if envelope_bytes.len() > MAX_ENVELOPE_BYTES {
        return Err(EnvelopeError::TooLarge {
            size: envelope_bytes.len(),
            limit: MAX_ENVELOPE_BYTES,
        });
    }
    Ok(envelope_bytes)
}

/// Reads the header without verifying anything, so the receiver can look up the sender's keys.
/// Never trust it before [`open`] succeeds.
pub fn peek_header(envelope_bytes: &[u8]) -> Result<EnvelopeHeader, EnvelopeError> {
    Ok(peek_envelope(envelope_bytes)?.header)
}

/// Like [`peek_header`], with the key ids and the body commitment.
pub fn peek_envelope(envelope_bytes: &[u8]) -> Result<PeekedEnvelope, EnvelopeError> {
    check_envelope_size(envelope_bytes)?;
    let strict_sign1 = cose_sign1::parse_strict(envelope_bytes, ENVELOPE_CONTENT_TYPE)?;
    read_protected_header(&strict_sign1)
}

/// Verifies the sender's signature, then decrypts, then checks the body commitment.
pub fn open(
    recipient: &NodeKeys,
    envelope_bytes: &[u8],
    sender_signing_key: &[u8; 32],
) -> Result<OpenedEnvelope, EnvelopeError> {
    check_envelope_size(envelope_bytes)?;
    let mut strict_sign1 = cose_sign1::parse_strict(envelope_bytes, ENVELOPE_CONTENT_TYPE)?;
    strict_sign1.verify(sender_signing_key, ENVELOPE_EXTERNAL_AAD)?;
    let peeked = read_protected_header(&strict_sign1)?;
    if peeked.recipient_key_id != recipient.key_id() {
        return Err(EnvelopeError::WrongRecipientKey {
            expected: recipient.key_id().to_string(),
            found: peeked.recipient_key_id,
        });
    }

    let (encapsulated_key_bytes, ciphertext) = read_payload(&strict_sign1.payload)?;
    let associated_data = canonical_header_bytes(&peeked.header);
    let plaintext = hpke_open_base(
        recipient.hpke_private_key(),
        &encapsulated_key_bytes,
        ENVELOPE_HPKE_INFO,
        &ciphertext,
        &associated_data,
    )?;
    let Some((salt, body)) = plaintext.split_first_chunk::<COMMITMENT_SALT_BYTES>() else {
        return Err(EnvelopeError::MalformedEnvelope(
            "plaintext shorter than the salt",
        ));
    };
    if body_commitment(salt, body) != peeked.body_commitment {
        return Err(EnvelopeError::CommitmentMismatch);
    }
    Ok(OpenedEnvelope {
        header: peeked.header,
        body: body.to_vec(),
        body_commitment: peeked.body_commitment,
        commitment_salt: *salt,
        sender_key_id: peeked.sender_key_id,
        envelope_hash: Sha256::digest(envelope_bytes).into(),
    })
}

/// Non-repudiation of origin: checks, without any secret key, that `envelope_bytes` was signed
/// by `sender_signing_key` and commits to `body` under `commitment_salt` (both from
/// [`OpenedEnvelope`]). Returns the signed header.
pub fn verify_proof_of_origin(
    envelope_bytes: &[u8],
    sender_signing_key: &[u8; 32],
    body: &[u8],
    commitment_salt: &[u8; 32],
) -> Result<EnvelopeHeader, EnvelopeError> {
    check_envelope_size(envelope_bytes)?;
    let mut strict_sign1 = cose_sign1::parse_strict(envelope_bytes, ENVELOPE_CONTENT_TYPE)?;
    strict_sign1.verify(sender_signing_key, ENVELOPE_EXTERNAL_AAD)?;
    let peeked = read_protected_header(&strict_sign1)?;
    if body_commitment(commitment_salt, body) != peeked.body_commitment {
        return Err(EnvelopeError::CommitmentMismatch);
    }
    Ok(peeked.header)
}

/// SHA-256 over [`BODY_COMMITMENT_TAG`], the 32-byte salt, then the body.
pub fn body_commitment(commitment_salt: &[u8; 32], body: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(BODY_COMMITMENT_TAG);
    hasher.update(commitment_salt);
    hasher.update(body);
    hasher.finalize().into()
}

/// The deterministic CBOR map of the header (the HPKE associated data): the header labels
/// from [`header_labels::VERSION`] to [`header_labels::IN_REPLY_TO`], in that order, with
/// `in_reply_to` left out when absent.
pub fn canonical_header_bytes(header: &EnvelopeHeader) -> Vec<u8> {
    let entries = header_values(header)
        .into_iter()
        .map(|(label, value)| (Value::Integer(label.into()), value))
        .collect();
    canonical_cbor::encode(&Value::Map(entries))
}

impl MessageId {
    pub fn from_bytes(bytes: [u8; 16]) -> MessageId {
        MessageId(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// A random (version 4 layout) message id.
    pub fn random(rng: &mut (impl CryptoRng + RngCore)) -> MessageId {
        let mut bytes = [0u8; 16];
        rng.fill_bytes(&mut bytes);
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        MessageId(bytes)
    }
}

impl std::fmt::Display for MessageId {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hex = crate::keys::lowercase_hex(&self.0);
        write!(
            formatter,
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        )
    }
}

impl std::fmt::Debug for MessageId {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "MessageId({self})")
    }
}

/// Error from parsing a [`MessageId`] from text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid message id: expected a hyphenated uuid")]
pub struct InvalidMessageId;

impl std::str::FromStr for MessageId {
    type Err = InvalidMessageId;

    fn from_str(text: &str) -> Result<MessageId, InvalidMessageId> {
        let bytes = text.as_bytes();
        if bytes.len() != 36 || [8, 13, 18, 23].iter().any(|&index| bytes[index] != b'-') {
            return Err(InvalidMessageId);
        }
        let hex_digits: Vec<u8> = bytes.iter().copied().filter(|&byte| byte != b'-').collect();
        if hex_digits.len() != 32 {
            return Err(InvalidMessageId);
        }
        let mut id = [0u8; 16];
        for (index, pair) in hex_digits.chunks_exact(2).enumerate() {
            let high = hex_value(pair[0]).ok_or(InvalidMessageId)?;
            let low = hex_value(pair[1]).ok_or(InvalidMessageId)?;
            id[index] = (high << 4) | low;
        }
        Ok(MessageId(id))
    }
}

impl std::fmt::Debug for OpenedEnvelope {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("OpenedEnvelope")
            .field("header", &self.header)
            .field("body_len", &self.body.len())
            .field("sender_key_id", &self.sender_key_id)
            .finish_non_exhaustive()
    }
}

impl From<Sign1Error> for EnvelopeError {
    fn from(error: Sign1Error) -> EnvelopeError {
        match error {
            Sign1Error::TooLarge { size, limit } => EnvelopeError::TooLarge { size, limit },
            Sign1Error::MalformedCbor => EnvelopeError::MalformedCbor,
            Sign1Error::WrongCborTag => EnvelopeError::MalformedEnvelope("not a tagged cose_sign1"),
            Sign1Error::DetachedPayload => EnvelopeError::MalformedEnvelope("detached payload"),
            Sign1Error::UnsupportedAlgorithm => EnvelopeError::UnsupportedAlgorithm,
            Sign1Error::UnexpectedContentType => {
                EnvelopeError::MalformedEnvelope("unexpected content type")
            }
            Sign1Error::UnexpectedUnprotectedHeader => {
                EnvelopeError::MalformedEnvelope("unexpected unprotected header parameters")
            }
            Sign1Error::UnexpectedProtectedHeader => {
                EnvelopeError::MalformedEnvelope("unexpected protected header parameter")
            }
            Sign1Error::InvalidSignerKey => EnvelopeError::InvalidSenderKey,
            Sign1Error::BadSignature => EnvelopeError::BadSignature,
            Sign1Error::KeyIdMismatch { expected, found } => {
                EnvelopeError::SenderKeyIdMismatch { expected, found }
            }
        }
    }
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

fn check_envelope_size(envelope_bytes: &[u8]) -> Result<(), EnvelopeError> {
    if envelope_bytes.len() > MAX_ENVELOPE_BYTES {
        return Err(EnvelopeError::TooLarge {
            size: envelope_bytes.len(),
            limit: MAX_ENVELOPE_BYTES,
        });
    }
    Ok(())
}

fn validate_header(header: &EnvelopeHeader) -> Result<(), EnvelopeError> {
    if header.version != ENVELOPE_VERSION {
        return Err(EnvelopeError::UnsupportedVersion(u64::from(header.version)));
    }
    for text in [
        &header.sender,
        &header.recipient,
        &header.message_type,
        &header.conversation_id,
    ] {
        if text.is_empty() {
            return Err(EnvelopeError::InvalidHeader("empty text field"));
        }
        if text.len() > MAX_HEADER_TEXT_BYTES {
            return Err(EnvelopeError::InvalidHeader("text field too long"));
        }
    }
    Ok(())
}

fn header_values(header: &EnvelopeHeader) -> Vec<(i64, Value)> {
    let mut values = vec![
        (
            header_labels::VERSION,
            Value::Integer(header.version.into()),
        ),
        (
            header_labels::MESSAGE_ID,
            Value::Bytes(header.message_id.0.to_vec()),
        ),
        (header_labels::SENDER, Value::Text(header.sender.clone())),
        (
            header_labels::RECIPIENT,
            Value::Text(header.recipient.clone()),
        ),
        (
            header_labels::MESSAGE_TYPE,
            Value::Text(header.message_type.clone()),
        ),
        (
            header_labels::CONVERSATION_ID,
            Value::Text(header.conversation_id.clone()),
        ),
        (
            header_labels::SEQUENCE,
            Value::Integer(header.sequence.into()),
        ),
        (
            header_labels::SENT_AT_MS,
            Value::Integer(header.sent_at_ms.into()),
        ),
    ];
    if let Some(in_reply_to) = header.in_reply_to {
        values.push((
            header_labels::IN_REPLY_TO,
            Value::Bytes(in_reply_to.0.to_vec()),
        ));
    }
    values
}

fn read_protected_header(
    strict_sign1: &cose_sign1::StrictSign1,
) -> Result<PeekedEnvelope, EnvelopeError> {
    const MISSING: EnvelopeError = EnvelopeError::MalformedEnvelope("missing header field");
    let mut version = None;
    let mut message_id = None;
    let mut sender = None;
    let mut recipient = None;
    let mut message_type = None;
    let mut conversation_id = None;
    let mut sequence = None;
    let mut sent_at_ms = None;
    let mut in_reply_to = None;
    let mut recipient_key_id = None;
    let mut body_commitment = None;
    for (label, value) in strict_sign1.private_protected_values()? {
        let text = || {
            canonical_cbor::as_text(value, MAX_HEADER_TEXT_BYTES).filter(|text| !text.is_empty())
        };
        let parsed = match label {
            header_labels::VERSION => {
                canonical_cbor::as_u64(value).map(|parsed| version = Some(parsed))
            }
            header_labels::MESSAGE_ID => canonical_cbor::as_fixed_bytes::<16>(value)
                .map(|parsed| message_id = Some(MessageId(parsed))),
            header_labels::SENDER => text().map(|parsed| sender = Some(parsed)),
            header_labels::RECIPIENT => text().map(|parsed| recipient = Some(parsed)),
            header_labels::MESSAGE_TYPE => text().map(|parsed| message_type = Some(parsed)),
            header_labels::CONVERSATION_ID => text().map(|parsed| conversation_id = Some(parsed)),
            header_labels::SEQUENCE => {
                canonical_cbor::as_u64(value).map(|parsed| sequence = Some(parsed))
            }
            header_labels::SENT_AT_MS => {
                canonical_cbor::as_i64(value).map(|parsed| sent_at_ms = Some(parsed))
            }
            header_labels::IN_REPLY_TO => canonical_cbor::as_fixed_bytes::<16>(value)
                .map(|parsed| in_reply_to = Some(MessageId(parsed))),
            header_labels::RECIPIENT_KEY_ID => text().map(|parsed| recipient_key_id = Some(parsed)),
            header_labels::BODY_COMMITMENT => canonical_cbor::as_fixed_bytes::<32>(value)
                .map(|parsed| body_commitment = Some(parsed)),
            _ => return Err(EnvelopeError::MalformedEnvelope("unknown header label")),
        };
        if parsed.is_none() {
            return Err(EnvelopeError::MalformedEnvelope(
                "header field has the wrong type or size",
            ));
        }
    }
    let version = version.ok_or(MISSING)?;
    if version != u64::from(ENVELOPE_VERSION) {
        return Err(EnvelopeError::UnsupportedVersion(version));
    }
    let header = EnvelopeHeader {
        version: ENVELOPE_VERSION,
        message_id: message_id.ok_or(MISSING)?,
        sender: sender.ok_or(MISSING)?,
        recipient: recipient.ok_or(MISSING)?,
        message_type: message_type.ok_or(MISSING)?,
        conversation_id: conversation_id.ok_or(MISSING)?,
        sequence: sequence.ok_or(MISSING)?,
        sent_at_ms: sent_at_ms.ok_or(MISSING)?,
        in_reply_to,
    };
    Ok(PeekedEnvelope {
        header,
        sender_key_id: strict_sign1.key_id(),
        recipient_key_id: recipient_key_id.ok_or(MISSING)?,
        body_commitment: body_commitment.ok_or(MISSING)?,
    })
}

fn read_payload(payload: &[u8]) -> Result<(Vec<u8>, Vec<u8>), EnvelopeError> {
    const MALFORMED: EnvelopeError =
        EnvelopeError::MalformedEnvelope("payload is not [encapsulated key, ciphertext]");
    let value = canonical_cbor::decode_deterministic(payload).ok_or(MALFORMED)?;
    let Value::Array(items) = value else {
        return Err(MALFORMED);
    };
    let Ok([Value::Bytes(encapsulated_key), Value::Bytes(ciphertext)]) =
        <[Value; 2]>::try_from(items)
    else {
        return Err(MALFORMED);
    };
    if encapsulated_key.len() != 32 {
        return Err(MALFORMED);
    }
    Ok((encapsulated_key, ciphertext))
}
/// HPKE base mode, DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / ChaCha20Poly1305, single shot
/// (sequence number 0). Returns the encapsulated key and the ciphertext.
fn hpke_seal_base(
    recipient_public_key: &HpkePublicKey,
    info: &[u8],
    plaintext: &[u8],
    associated_data: &[u8],
    rng: &mut (impl CryptoRng + RngCore),
) -> Result<([u8; 32], Vec<u8>), EnvelopeError> {
    let (encapsulated_key, ciphertext) =
        hpke::single_shot_seal::<hpke::aead::ChaCha20Poly1305, hpke::kdf::HkdfSha256, HpkeKem, _>(
            &hpke::OpModeS::Base,
            recipient_public_key,
            info,
            plaintext,
            associated_data,
            rng,
        )
        .map_err(|_| EnvelopeError::EncryptionFailed)?;
    let mut encapsulated_key_bytes = [0u8; 32];
    encapsulated_key_bytes.copy_from_slice(&encapsulated_key.to_bytes());
    Ok((encapsulated_key_bytes, ciphertext))
}

/// The receiving side of [`hpke_seal_base`].
fn hpke_open_base(
    recipient_private_key: &HpkePrivateKey,
    encapsulated_key_bytes: &[u8],
    info: &[u8],
    ciphertext: &[u8],
    associated_data: &[u8],
) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
    let encapsulated_key = <HpkeKem as hpke::Kem>::EncappedKey::from_bytes(encapsulated_key_bytes)
        .map_err(|_| EnvelopeError::MalformedEnvelope("bad encapsulated key"))?;
    let plaintext =
        hpke::single_shot_open::<hpke::aead::ChaCha20Poly1305, hpke::kdf::HkdfSha256, HpkeKem>(
            &hpke::OpModeR::Base,
            recipient_private_key,
            &encapsulated_key,
            info,
            ciphertext,
            associated_data,
        )
        .map_err(|_| EnvelopeError::DecryptionFailed)?;
    Ok(Zeroizing::new(plaintext))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex_bytes(hex: &str) -> Vec<u8> {
        hex.as_bytes()
            .chunks_exact(2)
            .map(|pair| {
                let high = hex_value(pair[0]).expect("test hex");
                let low = hex_value(pair[1]).expect("test hex");
                (high << 4) | low
            })
            .collect()
    }

    /// Replays fixed bytes as "randomness", so HPKE's ephemeral key is the RFC's `ikmE`.
    struct ReplayRng(Vec<u8>);

    impl RngCore for ReplayRng {
        fn next_u32(&mut self) -> u32 {
            unimplemented!("hpke only calls fill_bytes")
        }
        fn next_u64(&mut self) -> u64 {
            unimplemented!("hpke only calls fill_bytes")
        }
        fn fill_bytes(&mut self, destination: &mut [u8]) {
            assert!(destination.len() <= self.0.len(), "replay rng exhausted");
            let rest = self.0.split_off(destination.len());
            destination.copy_from_slice(&self.0);
            self.0 = rest;
        }
        fn try_fill_bytes(&mut self, destination: &mut [u8]) -> Result<(), rand::Error> {
            self.fill_bytes(destination);
            Ok(())
        }
    }

    impl CryptoRng for ReplayRng {}

    /// RFC 9180 Appendix A.2.1: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305,
    /// base mode, first encryption (sequence number 0), both directions.
    #[test]
    fn hpke_matches_rfc_9180_a_2_1_known_answer() {
        let info = hex_bytes("4f6465206f6e2061204772656369616e2055726e");
        let ikm_ephemeral =
            hex_bytes("909a9b35d3dc4713a5e72a4da274b55d3d3821a37e5d099e74a647db583a904b");
        let recipient_secret =
            hex_bytes("8057991eef8f1f1af18f4a9491d16a1ce333f695d4db8e38da75975c4478e0fb");
        let recipient_public =
            hex_bytes("4310ee97d88cc1f088a5576c77ab0cf5c3ac797f3d95139c6c84b5429c59662a");
        let encapsulated_key =
            hex_bytes("1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a");
        let associated_data = hex_bytes("436f756e742d30");
        let plaintext = hex_bytes("4265617574792069732074727574682c20747275746820626561757479");
        let ciphertext = hex_bytes(
            "1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db21993c62ce81883d2dd1b51a28",
        );

        let mut secret_bytes = vec![0u8; 32];
        secret_bytes.extend_from_slice(&recipient_secret);
        let recipient = NodeKeys::from_secret_bytes(&secret_bytes).expect("64 secret bytes");
        assert_eq!(
            recipient.public_identity().hpke_key_bytes().as_slice(),
            recipient_public.as_slice()
        );

        let opened = hpke_open_base(
            recipient.hpke_private_key(),
            &encapsulated_key,
            &info,
            &ciphertext,
            &associated_data,
        )
        .expect("rfc vector opens");
        assert_eq!(opened.as_slice(), plaintext.as_slice());

        let recipient_public_key = recipient
            .public_identity()
            .hpke_public_key()
            .expect("valid hpke public key");
        let (sealed_encapsulated_key, sealed_ciphertext) = hpke_seal_base(
            &recipient_public_key,
            &info,
            &plaintext,
            &associated_data,
            &mut ReplayRng(ikm_ephemeral),
        )
        .expect("seal");
        assert_eq!(
            sealed_encapsulated_key.as_slice(),
            encapsulated_key.as_slice()
        );
        assert_eq!(sealed_ciphertext, ciphertext);
    }

    #[test]
    fn message_id_text_roundtrip() {
        let message_id = MessageId([0x12; 16]);
        let text = message_id.to_string();
        assert_eq!(text, "12121212-1212-1212-1212-121212121212");
        assert_eq!(text.parse::<MessageId>(), Ok(message_id));
        assert_eq!("not-a-uuid".parse::<MessageId>(), Err(InvalidMessageId));
    }

    #[test]
    fn canonical_header_bytes_are_deterministic_cbor() {
        let header = EnvelopeHeader {
            version: 1,
            message_id: MessageId([0; 16]),
            sender: "a".into(),
            recipient: "b".into(),
            message_type: "t".into(),
            conversation_id: "c".into(),
            sequence: 0,
            sent_at_ms: 0,
            in_reply_to: None,
        };
        let bytes = canonical_header_bytes(&header);
        // map(8), key -65537 = 0x3a 0x00010000, value 1.
        assert_eq!(&bytes[..7], &[0xa8, 0x3a, 0x00, 0x01, 0x00, 0x00, 0x01]);
        assert!(canonical_cbor::decode_deterministic(&bytes).is_some());
    }
}
