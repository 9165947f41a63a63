//! Signed receipts: the recipient's COSE_Sign1 statement that it received an envelope, and
//! what it did with it (accepted, duplicate, rejected with a reason).

use ciborium::Value;

use crate::canonical_cbor::{self, OrderedMapReader};
use crate::cose_sign1::{self, Sign1Error};
use crate::envelope::MessageId;
use crate::keys::NodeKeys;

/// COSE content type of a receipt.
pub const RECEIPT_CONTENT_TYPE: &str = "application/comity-receipt";
/// COSE external AAD of the receipt signature.
pub const RECEIPT_EXTERNAL_AAD: &[u8] = b"comity/receipt/v1";
/// Largest receipt accepted, in bytes.
pub const MAX_RECEIPT_BYTES: usize = 16 * 1024;
/// Largest node id or rejection reason in a receipt, in UTF-8 bytes.
pub const MAX_RECEIPT_TEXT_BYTES: usize = 1024;

/// "Node `recipient` received envelope `envelope_hash` (message `message_id` from `sender`) at
/// `received_at_ms`, with this outcome", signed by the recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub message_id: MessageId,
    /// The node that received the envelope and signs the receipt.
    pub recipient: String,
    /// The node that sent the envelope.
    pub sender: String,
    /// The envelope's body commitment; `None` when the envelope could not be opened.
    pub body_commitment: Option<[u8; 32]>,
    /// SHA-256 of the envelope bytes as received.
    pub envelope_hash: [u8; 32],
    pub received_at_ms: i64,
    pub outcome: ReceiptOutcome,
}

/// What the recipient did with the envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiptOutcome {
    Accepted,
    /// Already received; the first receipt stands.
    Duplicate,
    /// Refused, with a reason for humans.
    Rejected(String),
}

/// Errors from signing and verifying receipts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    #[error("receipt too large: {size} bytes, limit {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("invalid receipt signature envelope: {0}")]
    Signature(#[from] Sign1Error),
    #[error("malformed receipt payload: {0}")]
    MalformedPayload(&'static str),
    #[error("invalid receipt: {0}")]
    Invalid(&'static str),
}

/// Signs `receipt` with the recipient's keys.
pub fn sign_receipt(recipient_keys: &NodeKeys, receipt: &Receipt) -> Result<Vec<u8>, ReceiptError> {
    validate_receipt(receipt)?;
    let mut entries = vec![
        (1, Value::Integer(1.into())),
        (2, Value::Bytes(receipt.message_id.as_bytes().to_vec())),
        (3, Value::Text(receipt.recipient.clone())),
        (4, Value::Text(receipt.sender.clone())),
    ];
    if let Some(body_commitment) = receipt.body_commitment {
        entries.push((5, Value::Bytes(body_commitment.to_vec())));
    }
    entries.push((6, Value::Bytes(receipt.envelope_hash.to_vec())));
    entries.push((7, Value::Integer(receipt.received_at_ms.into())));
    match &receipt.outcome {
        ReceiptOutcome::Accepted => entries.push((8, Value::Integer(0.into()))),
        ReceiptOutcome::Duplicate => entries.push((8, Value::Integer(1.into()))),
        ReceiptOutcome::Rejected(reason) => {
            entries.push((8, Value::Integer(2.into())));
            entries.push((9, Value::Text(reason.clone())));
        }
    }
    let payload = canonical_cbor::encode(&canonical_cbor::unsigned_keyed_map(entries));
    let receipt_bytes = cose_sign1::sign_strict(
        recipient_keys.signing_key(),
        recipient_keys.key_id(),
        RECEIPT_CONTENT_TYPE,
        Vec::new(),
        payload,
        RECEIPT_EXTERNAL_AAD,
    );
    if receipt_bytes.len() > MAX_RECEIPT_BYTES {
        return Err(ReceiptError::TooLarge {
            size: receipt_bytes.len(),
            limit: MAX_RECEIPT_BYTES,
        });
    }
    Ok(receipt_bytes)
}

/// Verifies a receipt against the signer's (the recipient node's) Ed25519 key.
pub fn verify_receipt(
    receipt_bytes: &[u8],
    signer_signing_key: &[u8; 32],
) -> Result<Receipt, ReceiptError> {
    if receipt_bytes.len() > MAX_RECEIPT_BYTES {
        return Err(ReceiptError::TooLarge {
            size: receipt_bytes.len(),
            limit: MAX_RECEIPT_BYTES,
        });
    }
    let mut strict_sign1 = cose_sign1::parse_strict(receipt_bytes, RECEIPT_CONTENT_TYPE)?;
    strict_sign1.verify(signer_signing_key, RECEIPT_EXTERNAL_AAD)?;
    if !strict_sign1.private_protected_values()?.is_empty() {
        return Err(Sign1Error::UnexpectedProtectedHeader.into());
    }
    let receipt = read_payload(&strict_sign1.payload)?;
    validate_receipt(&receipt)?;
    Ok(receipt)
}

fn validate_receipt(receipt: &Receipt) -> Result<(), ReceiptError> {
    let mut texts = vec![&receipt.recipient, &receipt.sender];
    if let ReceiptOutcome::Rejected(reason) = &receipt.outcome {
        texts.push(reason);
    }
    if texts.iter().any(|text| text.len() > MAX_RECEIPT_TEXT_BYTES) {
        return Err(ReceiptError::Invalid("text field too long"));
    }
    if receipt.recipient.is_empty() || receipt.sender.is_empty() {
        return Err(ReceiptError::Invalid("empty node id"));
    }
    Ok(())
}

fn read_payload(payload: &[u8]) -> Result<Receipt, ReceiptError> {
    use ReceiptError::MalformedPayload;
    let value = canonical_cbor::decode_deterministic(payload)
        .ok_or(MalformedPayload("not deterministic cbor"))?;
    let mut reader = OrderedMapReader::new(value)
        .ok_or(MalformedPayload("not a map with ascending integer keys"))?;
    let version = reader.optional(1).as_ref().and_then(canonical_cbor::as_u64);
    if version != Some(1) {
        return Err(MalformedPayload("unsupported version"));
    }
    let message_id = reader
        .optional(2)
        .as_ref()
        .and_then(canonical_cbor::as_fixed_bytes::<16>)
        .map(MessageId::from_bytes)
        .ok_or(MalformedPayload("message id"))?;
    let recipient = reader
        .optional(3)
        .and_then(|value| canonical_cbor::as_text(&value, MAX_RECEIPT_TEXT_BYTES))
        .ok_or(MalformedPayload("recipient"))?;
    let sender = reader
        .optional(4)
        .and_then(|value| canonical_cbor::as_text(&value, MAX_RECEIPT_TEXT_BYTES))
        .ok_or(MalformedPayload("sender"))?;
    let body_commitment = match reader.optional(5) {
        None => None,
        Some(value) => Some(
            canonical_cbor::as_fixed_bytes::<32>(&value)
                .ok_or(MalformedPayload("body commitment"))?,
        ),
    };
    let envelope_hash = reader
        .optional(6)
        .as_ref()
        .and_then(canonical_cbor::as_fixed_bytes::<32>)
        .ok_or(MalformedPayload("envelope hash"))?;
    let received_at_ms = reader
        .optional(7)
        .as_ref()
        .and_then(canonical_cbor::as_i64)
        .ok_or(MalformedPayload("received_at_ms"))?;
    let outcome_code = reader.optional(8).as_ref().and_then(canonical_cbor::as_u64);
    let reason = reader.optional(9);
    let outcome = match (outcome_code, reason) {
        (Some(0), None) => ReceiptOutcome::Accepted,
        (Some(1), None) => ReceiptOutcome::Duplicate,
        (Some(2), Some(reason)) => ReceiptOutcome::Rejected(
            canonical_cbor::as_text(&reason, MAX_RECEIPT_TEXT_BYTES)
                .ok_or(MalformedPayload("reason"))?,
        ),
        _ => return Err(MalformedPayload("outcome")),
    };
    if !reader.is_exhausted() {
        return Err(MalformedPayload("unknown key"));
    }
    Ok(Receipt {
        message_id,
        recipient,
        sender,
        body_commitment,
        envelope_hash,
        received_at_ms,
        outcome,
    })
}
