//! COSE_Sign1 (RFC 9052 §4.2) with Ed25519: the one signature format every signed Comity
//! object uses. Signing builds a tagged COSE_Sign1 with `alg`, `content type` and `kid` in the
//! protected header; verification checks the structure, the algorithm and the signature.

use coset::{
    CborSerializable as _, CoseSign1, CoseSign1Builder, Header, HeaderBuilder,
    TaggedCborSerializable as _, iana,
};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

/// Errors from parsing and verifying a COSE_Sign1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Sign1Error {
    #[error("too large: {size} bytes, limit {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("malformed cbor")]
    MalformedCbor,
    #[error("not a cose_sign1 (wrong or missing cbor tag)")]
    WrongCborTag,
    #[error("detached payloads are not supported")]
    DetachedPayload,
    #[error("unsupported algorithm: only eddsa (ed25519) in the protected header")]
    UnsupportedAlgorithm,
    #[error("unexpected content type")]
    UnexpectedContentType,
    #[error("unexpected unprotected header parameters")]
    UnexpectedUnprotectedHeader,
    #[error("unexpected protected header parameter")]
    UnexpectedProtectedHeader,
    #[error("invalid signer public key")]
    InvalidSignerKey,
    #[error("bad signature")]
    BadSignature,
    #[error("key id mismatch: signed with kid {found}, expected {expected}")]
    KeyIdMismatch { expected: String, found: String },
}

/// Verifies a COSE_Sign1 signed with Ed25519, as found in public test vectors and other
/// implementations: tagged (18) or untagged, `alg` must be EdDSA (-8) in the protected
/// header, the unprotected header may hold anything. Returns the payload.
///
/// Comity's own objects are checked more strictly by [`crate::open`], [`crate::verify_receipt`]
/// and [`crate::KeyAnnouncement::verify`].
pub fn verify_cose_sign1_ed25519(
    sign1_bytes: &[u8],
    signer_public_key: &[u8; 32],
    external_aad: &[u8],
) -> Result<Vec<u8>, Sign1Error> {
    let sign1 = if sign1_bytes.first() == Some(&0xd2) {
        CoseSign1::from_tagged_slice(sign1_bytes)
    } else {
        CoseSign1::from_slice(sign1_bytes)
    }
    .map_err(|_| Sign1Error::MalformedCbor)?;
    verify_ed25519_signature(&sign1, signer_public_key, external_aad)?;
    sign1.payload.ok_or(Sign1Error::DetachedPayload)
}

/// A parsed, not yet verified, COSE_Sign1 in Comity's strict profile.
pub(crate) struct StrictSign1 {
    pub(crate) sign1: CoseSign1,
    pub(crate) payload: Vec<u8>,
}

/// Signs `payload` as a tagged COSE_Sign1 whose protected header holds `alg: EdDSA`,
/// `content type`, `kid` and then `extra_protected` (private-use labels, in the given order).
pub(crate) fn sign_strict(
    signing_key: &SigningKey,
    key_id: &str,
    content_type: &str,
    extra_protected: Vec<(i64, ciborium::Value)>,
    payload: Vec<u8>,
    external_aad: &[u8],
) -> Vec<u8> {
    let mut header_builder = HeaderBuilder::new()
        .algorithm(iana::Algorithm::EdDSA)
        .content_type(content_type.to_string())
        .key_id(key_id.as_bytes().to_vec());
    for (label, value) in extra_protected {
        header_builder = header_builder.value(label, value);
    }
    CoseSign1Builder::new()
        .protected(header_builder.build())
        .payload(payload)
        .create_signature(external_aad, |to_be_signed| {
            signing_key.sign(to_be_signed).to_bytes().to_vec()
        })
        .build()
        .to_tagged_vec()
        .expect("encoding a COSE_Sign1 built from distinct labels cannot fail")
}

/// Parses a tagged COSE_Sign1 in Comity's strict profile: tag 18, empty unprotected header,
/// attached payload, protected header with only `alg: EdDSA`, the expected content type, a
/// `kid`, and private-use labels (checked by the caller). Does not verify the signature.
pub(crate) fn parse_strict(
    sign1_bytes: &[u8],
    expected_content_type: &str,
) -> Result<StrictSign1, Sign1Error> {
    if sign1_bytes.first() != Some(&0xd2) {
        return Err(Sign1Error::WrongCborTag);
    }
    let mut sign1 =
        CoseSign1::from_tagged_slice(sign1_bytes).map_err(|_| Sign1Error::MalformedCbor)?;
    if !sign1.unprotected.is_empty() {
        return Err(Sign1Error::UnexpectedUnprotectedHeader);
    }
    let protected: &Header = &sign1.protected.header;
    if protected.alg != Some(coset::Algorithm::Assigned(iana::Algorithm::EdDSA)) {
        return Err(Sign1Error::UnsupportedAlgorithm);
    }
    if protected.content_type != Some(coset::ContentType::Text(expected_content_type.to_string())) {
        return Err(Sign1Error::UnexpectedContentType);
    }
    if !protected.crit.is_empty()
        || !protected.iv.is_empty()
        || !protected.partial_iv.is_empty()
        || !protected.counter_signatures.is_empty()
        || protected.key_id.is_empty()
    {
        return Err(Sign1Error::UnexpectedProtectedHeader);
    }
    let payload = sign1.payload.take().ok_or(Sign1Error::DetachedPayload)?;
    Ok(StrictSign1 { sign1, payload })
}

impl StrictSign1 {
    /// Verifies the Ed25519 signature (with `verify_strict`) over the Sig_structure, with the
    /// payload put back, then checks that `kid` names the key that verified.
    pub(crate) fn verify(
        &mut self,
        signer_public_key: &[u8; 32],
        external_aad: &[u8],
    ) -> Result<(), Sign1Error> {
        self.sign1.payload = Some(std::mem::take(&mut self.payload));
        let verified = verify_ed25519_signature(&self.sign1, signer_public_key, external_aad);
        self.payload = self.sign1.payload.take().unwrap_or_default();
        verified?;
        let expected = crate::keys::key_id_for_signing_key(signer_public_key);
        if self.sign1.protected.header.key_id != expected.as_bytes() {
            let found = String::from_utf8_lossy(&self.sign1.protected.header.key_id).into_owned();
            return Err(Sign1Error::KeyIdMismatch { expected, found });
        }
        Ok(())
    }

    /// The protected `kid`, as text (Comity key ids are ASCII hex).
    pub(crate) fn key_id(&self) -> String {
        String::from_utf8_lossy(&self.sign1.protected.header.key_id).into_owned()
    }

    /// The private-use (integer) labels of the protected header; text labels are refused.
    pub(crate) fn private_protected_values(
        &self,
    ) -> Result<Vec<(i64, &ciborium::Value)>, Sign1Error> {
        let mut values = Vec::with_capacity(self.sign1.protected.header.rest.len());
        for (label, value) in &self.sign1.protected.header.rest {
            match label {
                coset::Label::Int(label) if *label < -65536 => values.push((*label, value)),
                _ => return Err(Sign1Error::UnexpectedProtectedHeader),
            }
        }
        Ok(values)
    }
}

fn verify_ed25519_signature(
    sign1: &CoseSign1,
    signer_public_key: &[u8; 32],
    external_aad: &[u8],
) -> Result<(), Sign1Error> {
    if sign1.protected.header.alg != Some(coset::Algorithm::Assigned(iana::Algorithm::EdDSA)) {
        return Err(Sign1Error::UnsupportedAlgorithm);
    }
    if sign1.payload.is_none() {
        return Err(Sign1Error::DetachedPayload);
    }
    let verifying_key =
        VerifyingKey::from_bytes(signer_public_key).map_err(|_| Sign1Error::InvalidSignerKey)?;
    sign1.verify_signature(external_aad, |signature_bytes, to_be_signed| {
        let signature =
            Signature::from_slice(signature_bytes).map_err(|_| Sign1Error::BadSignature)?;
        verifying_key
            .verify_strict(to_be_signed, &signature)
            .map_err(|_| Sign1Error::BadSignature)
    })
}
