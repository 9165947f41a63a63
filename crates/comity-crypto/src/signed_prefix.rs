//! Reading who signed a COSE_Sign1 from the first bytes of it, before the rest has arrived.
//!
//! A receiver streaming an envelope or a key announcement off the network wants to refuse an
//! unknown sender before it holds megabytes from them. Comity's signed objects start with
//! tag 18, the array head of four items and the protected header as a byte string
//! (`docs/protocol.md`); the sender's node id (envelopes) and signing key id are in that
//! header. The readers here look only at that start: they answer "need more bytes" until the
//! protected header is complete, refuse a protected header longer than
//! [`MAX_PROTECTED_HEADER_BYTES`] as soon as its length is read, and refuse anything that
//! cannot start a Comity object of the expected kind.
//!
//! Nothing read here is verified. It serves only to refuse early; the full checks
//! ([`crate::peek_envelope`], [`crate::open`], [`crate::KeyAnnouncement::verify`]) still run on
//! the whole object.

use coset::{CborSerializable as _, Header, Label, iana};

use crate::envelope::{ENVELOPE_CONTENT_TYPE, MAX_HEADER_TEXT_BYTES, MessageId, header_labels};
use crate::rotation::KEY_ANNOUNCEMENT_CONTENT_TYPE;

/// Largest protected header the prefix readers accept, in bytes. An envelope's protected
/// header holds five text fields of at most [`MAX_HEADER_TEXT_BYTES`] each and a few short
/// fixed-size ones, so every envelope [`crate::seal`] writes fits.
pub const MAX_PROTECTED_HEADER_BYTES: usize = 8 * 1024;

/// The first byte of a tagged COSE_Sign1: major type 6, tag 18.
const COSE_SIGN1_TAG_BYTE: u8 = 0xd2;
const MAJOR_ARRAY: u8 = 4;
const MAJOR_BYTE_STRING: u8 = 2;

/// What a prefix reader learned from the bytes it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrefixPeek<T> {
    /// The protected header is not complete yet: read more and ask again.
    NeedMoreBytes,
    /// The protected header is complete; `T` is what it says.
    Complete(T),
}

/// The routing facts in an envelope's protected header, unverified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopePrefix {
    /// The sender's node id.
    pub sender: String,
    /// Key id (`kid`) of the signing key the sender claims.
    pub sender_key_id: String,
    /// The recipient's node id.
    pub recipient: String,
    /// The message id.
    pub message_id: MessageId,
    /// How many bytes of the envelope the tag, array head and protected header take.
    pub prefix_length: usize,
}

/// The signer named in a key announcement's protected header, unverified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyAnnouncementPrefix {
    /// Key id (`kid`) of the key that claims to have signed the announcement.
    pub signer_key_id: String,
    /// How many bytes of the announcement the tag, array head and protected header take.
    pub prefix_length: usize,
}

/// Why a prefix cannot start a Comity signed object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignedPrefixError {
    /// The protected header is longer than [`MAX_PROTECTED_HEADER_BYTES`].
    #[error("protected header too large: {size} bytes, limit {limit}")]
    TooLarge { size: u64, limit: usize },
    /// The bytes are not the start of a tagged COSE_Sign1 of the expected kind.
    #[error("malformed start of a signed object: {0}")]
    Malformed(&'static str),
}

/// Reads the sender, its key id, the recipient and the message id from the start of an
/// envelope. See the module documentation for what this does and does not promise.
pub fn peek_envelope_prefix(
    prefix: &[u8],
) -> Result<PrefixPeek<EnvelopePrefix>, SignedPrefixError> {
    let PrefixPeek::Complete((header, prefix_length)) =
        read_protected_header(prefix, ENVELOPE_CONTENT_TYPE)?
    else {
        return Ok(PrefixPeek::NeedMoreBytes);
    };
    let mut sender = None;
    let mut recipient = None;
    let mut message_id = None;
    for (label, value) in &header.rest {
        let Label::Int(label) = label else {
            return Err(SignedPrefixError::Malformed("text header label"));
        };
        match *label {
            header_labels::SENDER => sender = Some(header_text(value)?),
            header_labels::RECIPIENT => recipient = Some(header_text(value)?),
            header_labels::MESSAGE_ID => match value {
                ciborium::Value::Bytes(bytes) => {
                    let id = <[u8; 16]>::try_from(bytes.as_slice())
                        .map_err(|_| SignedPrefixError::Malformed("message id is not 16 bytes"))?;
                    message_id = Some(MessageId(id));
                }
                _ => return Err(SignedPrefixError::Malformed("message id is not bytes")),
            },
            // The other envelope labels are checked by the full reader.
            known if (header_labels::BODY_COMMITMENT..=header_labels::VERSION).contains(&known) => {
            }
            _ => return Err(SignedPrefixError::Malformed("unknown header label")),
        }
    }
    const MISSING: SignedPrefixError = SignedPrefixError::Malformed("missing header field");
    Ok(PrefixPeek::Complete(EnvelopePrefix {
        sender: sender.ok_or(MISSING)?,
        sender_key_id: key_id_text(&header.key_id)?,
        recipient: recipient.ok_or(MISSING)?,
        message_id: message_id.ok_or(MISSING)?,
        prefix_length,
    }))
}

/// Reads the signer's key id from the start of a key announcement.
pub fn peek_key_announcement_prefix(
    prefix: &[u8],
) -> Result<PrefixPeek<KeyAnnouncementPrefix>, SignedPrefixError> {
    let PrefixPeek::Complete((header, prefix_length)) =
        read_protected_header(prefix, KEY_ANNOUNCEMENT_CONTENT_TYPE)?
    else {
        return Ok(PrefixPeek::NeedMoreBytes);
    };
    if !header.rest.is_empty() {
        return Err(SignedPrefixError::Malformed(
            "unexpected protected header parameter",
        ));
    }
    Ok(PrefixPeek::Complete(KeyAnnouncementPrefix {
        signer_key_id: key_id_text(&header.key_id)?,
        prefix_length,
    }))
}

/// Parses tag 18, the array head and the protected header, and applies the checks of the
/// strict profile that need only the protected header. Returns the header and the number
/// of bytes it ends at.
fn read_protected_header(
    prefix: &[u8],
    expected_content_type: &str,
) -> Result<PrefixPeek<(Header, usize)>, SignedPrefixError> {
    let Some(&first) = prefix.first() else {
        return Ok(PrefixPeek::NeedMoreBytes);
    };
    if first != COSE_SIGN1_TAG_BYTE {
        return Err(SignedPrefixError::Malformed("not a tagged cose_sign1"));
    }
    let mut offset = 1;
    let Some((major, count, head_length)) = read_head(&prefix[offset..])? else {
        return Ok(PrefixPeek::NeedMoreBytes);
    };
    if major != MAJOR_ARRAY || count != 4 {
        return Err(SignedPrefixError::Malformed(
            "cose_sign1 is not an array of four items",
        ));
    }
    offset += head_length;
    let Some((major, length, head_length)) = read_head(&prefix[offset..])? else {
        return Ok(PrefixPeek::NeedMoreBytes);
    };
    if major != MAJOR_BYTE_STRING {
        return Err(SignedPrefixError::Malformed(
            "protected header is not a byte string",
        ));
    }
    if length > MAX_PROTECTED_HEADER_BYTES as u64 {
        return Err(SignedPrefixError::TooLarge {
            size: length,
            limit: MAX_PROTECTED_HEADER_BYTES,
        });
    }
    offset += head_length;
    // Bounded by MAX_PROTECTED_HEADER_BYTES just above.
    let end = offset + length as usize;
    let Some(header_bytes) = prefix.get(offset..end) else {
        return Ok(PrefixPeek::NeedMoreBytes);
    };
    let header = Header::from_slice(header_bytes)
        .map_err(|_| SignedPrefixError::Malformed("protected header is not a cose header"))?;
    if header.alg != Some(coset::Algorithm::Assigned(iana::Algorithm::EdDSA)) {
        return Err(SignedPrefixError::Malformed(
            "unsupported algorithm: only eddsa",
        ));
    }
    if header.content_type != Some(coset::ContentType::Text(expected_content_type.to_string())) {
        return Err(SignedPrefixError::Malformed("unexpected content type"));
    }
    if !header.crit.is_empty()
        || !header.iv.is_empty()
        || !header.partial_iv.is_empty()
        || !header.counter_signatures.is_empty()
        || header.key_id.is_empty()
    {
        return Err(SignedPrefixError::Malformed(
            "unexpected or missing protected header parameter",
        ));
    }
    Ok(PrefixPeek::Complete((header, end)))
}

/// Reads one definite-length CBOR head: major type, argument and the head's own length.
/// `None` when `bytes` ends inside the head.
fn read_head(bytes: &[u8]) -> Result<Option<(u8, u64, usize)>, SignedPrefixError> {
    let Some(&initial) = bytes.first() else {
        return Ok(None);
    };
    let major = initial >> 5;
    let additional = initial & 0x1f;
    let argument_length = match additional {
        0..=23 => return Ok(Some((major, u64::from(additional), 1))),
        24 => 1,
        25 => 2,
        26 => 4,
        27 => 8,
        31 => return Err(SignedPrefixError::Malformed("indefinite length")),
        _ => return Err(SignedPrefixError::Malformed("reserved cbor head")),
    };
    let Some(argument_bytes) = bytes.get(1..1 + argument_length) else {
        return Ok(None);
    };
    let argument = argument_bytes
        .iter()
        .fold(0u64, |value, &byte| (value << 8) | u64::from(byte));
    Ok(Some((major, argument, 1 + argument_length)))
}

fn header_text(value: &ciborium::Value) -> Result<String, SignedPrefixError> {
    match value {
        ciborium::Value::Text(text) if !text.is_empty() && text.len() <= MAX_HEADER_TEXT_BYTES => {
            Ok(text.clone())
        }
        _ => Err(SignedPrefixError::Malformed(
            "header text field empty, too long or not text",
        )),
    }
}

fn key_id_text(key_id: &[u8]) -> Result<String, SignedPrefixError> {
    // Comity key ids are ASCII hex; anything else is not a key this node could trust.
    std::str::from_utf8(key_id)
        .map(str::to_string)
        .map_err(|_| SignedPrefixError::Malformed("key id is not text"))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::{ENVELOPE_VERSION, EnvelopeHeader, KeyAnnouncement, NodeKeys, peek_envelope, seal};

    fn keys(seed: u8) -> NodeKeys {
        NodeKeys::from_secret_bytes(&[seed; 64]).expect("64 secret bytes")
    }

    fn header(sender: &str, recipient: &str, text_length: usize) -> EnvelopeHeader {
        EnvelopeHeader {
            version: ENVELOPE_VERSION,
            message_id: MessageId([7; 16]),
            sender: sender.into(),
            recipient: recipient.into(),
            message_type: "t".repeat(text_length.max(1)),
            conversation_id: "c".repeat(text_length.max(1)),
            sequence: 3,
            sent_at_ms: 1_700_000_000_000,
            in_reply_to: Some(MessageId([9; 16])),
        }
    }

    fn sealed(header: &EnvelopeHeader, body: &[u8]) -> Vec<u8> {
        seal(
            &keys(1),
            &keys(2).public_identity(),
            header,
            body,
            &mut rand::rngs::OsRng,
        )
        .expect("seal")
    }

    #[test]
    fn a_sealed_envelope_names_its_sender_once_the_protected_header_is_in() {
        let envelope = sealed(&header("es-node", "ma-node", 10), b"{\"a\":1}");
        let peeked = peek_envelope(&envelope).expect("peek");
        let PrefixPeek::Complete(prefix) = peek_envelope_prefix(&envelope).expect("prefix") else {
            panic!("the whole envelope holds the protected header");
        };
        assert_eq!(prefix.sender, "es-node");
        assert_eq!(prefix.recipient, "ma-node");
        assert_eq!(prefix.sender_key_id, peeked.sender_key_id);
        assert_eq!(prefix.message_id, peeked.header.message_id);
        // Exactly the protected header is needed: one byte less is not enough.
        let exact = &envelope[..prefix.prefix_length];
        assert!(matches!(
            peek_envelope_prefix(exact),
            Ok(PrefixPeek::Complete(_))
        ));
        assert_eq!(
            peek_envelope_prefix(&exact[..exact.len() - 1]),
            Ok(PrefixPeek::NeedMoreBytes)
        );
        assert!(prefix.prefix_length < 512, "{}", prefix.prefix_length);
    }

    #[test]
    fn the_largest_header_seal_accepts_fits_the_limit() {
        let long = "n".repeat(MAX_HEADER_TEXT_BYTES);
        let envelope = sealed(&header(&long, &long, MAX_HEADER_TEXT_BYTES), b"{}");
        let PrefixPeek::Complete(prefix) = peek_envelope_prefix(&envelope).expect("prefix") else {
            panic!("complete");
        };
        assert_eq!(prefix.sender, long);
        assert!(prefix.prefix_length <= MAX_PROTECTED_HEADER_BYTES + 8);
    }

    #[test]
    fn a_large_protected_header_is_refused_from_its_length_alone() {
        // Tag, array(4), then a byte string announcing 1 MiB.
        let prefix = [0xd2, 0x84, 0x5a, 0x00, 0x10, 0x00, 0x00];
        assert_eq!(
            peek_envelope_prefix(&prefix),
            Err(SignedPrefixError::TooLarge {
                size: 1 << 20,
                limit: MAX_PROTECTED_HEADER_BYTES
            })
        );
    }

    #[test]
    fn malformed_starts_are_refused_at_once() {
        for (bytes, why) in [
            (&b"not an envelope"[..], "no tag"),
            (&[0x84, 0x40][..], "untagged"),
            (&[0xd2, 0x83, 0x40][..], "three items"),
            (&[0xd2, 0x9f][..], "indefinite array"),
            (&[0xd2, 0x84, 0x60][..], "text protected header"),
            (&[0xd2, 0x84, 0x5f][..], "indefinite byte string"),
            (&[0xd2, 0x84, 0x41, 0xa0][..], "empty map: no alg"),
            (&[0xd2, 0x84, 0x40][..], "empty protected header"),
        ] {
            assert!(
                matches!(
                    peek_envelope_prefix(bytes),
                    Err(SignedPrefixError::Malformed(_))
                ),
                "{why}"
            );
        }
        assert_eq!(peek_envelope_prefix(&[]), Ok(PrefixPeek::NeedMoreBytes));
        assert_eq!(
            peek_envelope_prefix(&[0xd2, 0x84, 0x59, 0x01]),
            Ok(PrefixPeek::NeedMoreBytes)
        );
    }

    #[test]
    fn a_key_announcement_is_not_an_envelope_and_names_its_signer() {
        let old = keys(3);
        let announcement = KeyAnnouncement {
            node_id: "es-node".into(),
            new_keys: keys(4).public_identity(),
            valid_from_ms: 1,
            valid_until_ms: None,
        }
        .sign(&old)
        .expect("sign");
        let PrefixPeek::Complete(prefix) =
            peek_key_announcement_prefix(&announcement).expect("prefix")
        else {
            panic!("complete");
        };
        assert_eq!(prefix.signer_key_id, old.key_id());
        assert!(matches!(
            peek_envelope_prefix(&announcement),
            Err(SignedPrefixError::Malformed(_))
        ));
        let envelope = sealed(&header("es-node", "ma-node", 1), b"{}");
        assert!(matches!(
            peek_key_announcement_prefix(&envelope),
            Err(SignedPrefixError::Malformed(_))
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn every_prefix_of_a_sealed_envelope_needs_more_or_agrees_with_peek(
            sender in "[a-z0-9.-]{1,40}",
            text_length in 1usize..300,
            body in proptest::collection::vec(any::<u8>(), 0..512),
        ) {
            let envelope = sealed(&header(&sender, "ma-node", text_length), &body);
            let peeked = peek_envelope(&envelope).expect("peek");
            let mut complete_from = None;
            for end in 0..=envelope.len() {
                match peek_envelope_prefix(&envelope[..end]) {
                    Ok(PrefixPeek::NeedMoreBytes) => {
                        prop_assert!(complete_from.is_none(), "needs more after complete at {end}");
                    }
                    Ok(PrefixPeek::Complete(prefix)) => {
                        prop_assert_eq!(&prefix.sender, &peeked.header.sender);
                        prop_assert_eq!(&prefix.sender_key_id, &peeked.sender_key_id);
                        prop_assert_eq!(&prefix.recipient, &peeked.header.recipient);
                        prop_assert_eq!(prefix.message_id, peeked.header.message_id);
                        complete_from.get_or_insert(end);
                    }
                    Err(error) => prop_assert!(false, "prefix of {end} bytes refused: {error}"),
                }
            }
            prop_assert!(complete_from.is_some());
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = peek_envelope_prefix(&bytes);
            let _ = peek_key_announcement_prefix(&bytes);
        }

        #[test]
        fn a_tagged_start_with_random_bytes_never_panics(
            bytes in proptest::collection::vec(any::<u8>(), 0..512),
        ) {
            let mut prefix = vec![0xd2, 0x84];
            prefix.extend_from_slice(&bytes);
            let _ = peek_envelope_prefix(&prefix);
            let _ = peek_key_announcement_prefix(&prefix);
        }
    }
}
