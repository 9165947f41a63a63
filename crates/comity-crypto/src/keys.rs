//! Node identity: the Ed25519 signing key and the HPKE (X25519) key pair of one node,
//! their public half, and the byte and text forms they are stored and exchanged in.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64_STANDARD;
use ed25519_dalek::{SigningKey, VerifyingKey};
use hpke::{Deserializable as _, Kem as _, Serializable as _};
use rand::CryptoRng;
use rand::RngCore;
use sha2::{Digest as _, Sha256};
use zeroize::{Zeroize as _, Zeroizing};

/// The HPKE KEM used by every Comity node: DHKEM(X25519, HKDF-SHA256).
pub(crate) type HpkeKem = hpke::kem::X25519HkdfSha256;
pub(crate) type HpkePrivateKey = <HpkeKem as hpke::Kem>::PrivateKey;
pub(crate) type HpkePublicKey = <HpkeKem as hpke::Kem>::PublicKey;

/// Length in bytes of [`NodeKeys::to_secret_bytes`]: 32 bytes of Ed25519 seed, then 32 bytes of
/// X25519 private key.
pub const NODE_SECRET_KEY_BYTES: usize = 64;

/// First line of the secret key text form written by [`NodeKeys::to_secret_text`].
pub const NODE_SECRET_TEXT_FIRST_LINE: &str = "comity-node-secret-keys-v1";

/// Prefix of the one-line public key text form written by [`PublicKeys::to_text`].
pub const PUBLIC_KEYS_TEXT_PREFIX: &str = "comity-public-keys-v1";

/// The secret keys of one node: an Ed25519 signing key and an HPKE X25519 private key.
///
/// Both keys are wiped from memory on drop. `Debug` prints only the key id.
pub struct NodeKeys {
    signing_key: SigningKey,
    hpke_private_key: HpkePrivateKey,
    public_keys: PublicKeys,
}

/// The public half of [`NodeKeys`], as peers put it on their trust list.
///
/// Fields are private so that a value always holds a valid Ed25519 point and a `key_id` that
/// matches it; build one with [`PublicKeys::from_key_bytes`] or [`PublicKeys::from_text`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PublicKeys {
    key_id: String,
    signing_key_bytes: [u8; 32],
    hpke_key_bytes: [u8; 32],
}

/// Errors from importing keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("invalid ed25519 signing public key")]
    InvalidSigningPublicKey,
    #[error("invalid hpke x25519 public key")]
    InvalidHpkePublicKey,
    #[error("invalid secret key length: expected {expected} bytes, got {actual}")]
    InvalidSecretKeyLength { expected: usize, actual: usize },
    #[error("malformed key text: {0}")]
    MalformedKeyText(&'static str),
}

impl NodeKeys {
    /// Generates fresh keys from `rng`.
    pub fn generate(rng: &mut (impl CryptoRng + RngCore)) -> NodeKeys {
        let signing_key = SigningKey::generate(rng);
        let (hpke_private_key, _hpke_public_key) = HpkeKem::gen_keypair(rng);
        NodeKeys::from_parts(signing_key, hpke_private_key)
    }

    /// Rebuilds keys from the 64 bytes written by [`NodeKeys::to_secret_bytes`].
    pub fn from_secret_bytes(secret_bytes: &[u8]) -> Result<NodeKeys, KeyError> {
        if secret_bytes.len() != NODE_SECRET_KEY_BYTES {
            return Err(KeyError::InvalidSecretKeyLength {
                expected: NODE_SECRET_KEY_BYTES,
                actual: secret_bytes.len(),
            });
        }
        let mut signing_seed = Zeroizing::new([0u8; 32]);
        signing_seed.copy_from_slice(&secret_bytes[..32]);
        let signing_key = SigningKey::from_bytes(&signing_seed);
        let hpke_private_key = HpkePrivateKey::from_bytes(&secret_bytes[32..]).map_err(|_| {
            KeyError::InvalidSecretKeyLength {
                expected: NODE_SECRET_KEY_BYTES,
                actual: secret_bytes.len(),
            }
        })?;
        Ok(NodeKeys::from_parts(signing_key, hpke_private_key))
    }

    /// The 64 secret bytes: Ed25519 seed (32) followed by the X25519 private key (32).
    pub fn to_secret_bytes(&self) -> Zeroizing<[u8; NODE_SECRET_KEY_BYTES]> {
        let mut secret_bytes = Zeroizing::new([0u8; NODE_SECRET_KEY_BYTES]);
        secret_bytes[..32].copy_from_slice(self.signing_key.as_bytes());
        let mut hpke_bytes = self.hpke_private_key.to_bytes();
        secret_bytes[32..].copy_from_slice(&hpke_bytes);
        hpke_bytes.as_mut_slice().zeroize();
        secret_bytes
    }

    /// The text form for a key file (the caller writes it with mode 0600):
    ///
    /// ```text
    /// comity-node-secret-keys-v1
    /// key-id: <key id>
    /// signing-ed25519: <base64 of the 32-byte seed>
    /// hpke-x25519: <base64 of the 32-byte private key>
    /// ```
    pub fn to_secret_text(&self) -> Zeroizing<String> {
        let secret_bytes = self.to_secret_bytes();
        let signing_base64 = Zeroizing::new(BASE64_STANDARD.encode(&secret_bytes[..32]));
        let hpke_base64 = Zeroizing::new(BASE64_STANDARD.encode(&secret_bytes[32..]));
        Zeroizing::new(format!(
            "{NODE_SECRET_TEXT_FIRST_LINE}\nkey-id: {}\nsigning-ed25519: {}\nhpke-x25519: {}\n",
            self.public_keys.key_id(),
            signing_base64.as_str(),
            hpke_base64.as_str()
        ))
    }

    /// Parses the text written by [`NodeKeys::to_secret_text`]. The `key-id` line is optional;
    /// when present it must match the signing key.
    pub fn from_secret_text(secret_text: &str) -> Result<NodeKeys, KeyError> {
        let mut lines = secret_text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty());
        if lines.next() != Some(NODE_SECRET_TEXT_FIRST_LINE) {
            return Err(KeyError::MalformedKeyText("missing first line"));
        }
        let mut expected_key_id: Option<&str> = None;
        let mut signing_seed: Option<Zeroizing<Vec<u8>>> = None;
        let mut hpke_secret: Option<Zeroizing<Vec<u8>>> = None;
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                return Err(KeyError::MalformedKeyText("line without a colon"));
            };
            let value = value.trim();
            match name.trim() {
                "key-id" if expected_key_id.is_none() => expected_key_id = Some(value),
                "signing-ed25519" if signing_seed.is_none() => {
                    signing_seed = Some(decode_base64_32(value)?);
                }
                "hpke-x25519" if hpke_secret.is_none() => {
                    hpke_secret = Some(decode_base64_32(value)?)
                }
                _ => return Err(KeyError::MalformedKeyText("unknown or repeated line")),
            }
        }
        let (Some(signing_seed), Some(hpke_secret)) = (signing_seed, hpke_secret) else {
            return Err(KeyError::MalformedKeyText("missing key line"));
        };
        let mut secret_bytes = Zeroizing::new([0u8; NODE_SECRET_KEY_BYTES]);
        secret_bytes[..32].copy_from_slice(&signing_seed);
        secret_bytes[32..].copy_from_slice(&hpke_secret);
        let node_keys = NodeKeys::from_secret_bytes(secret_bytes.as_slice())?;
        if let Some(expected_key_id) = expected_key_id
            && expected_key_id != node_keys.public_keys.key_id()
        {
            return Err(KeyError::MalformedKeyText(
                "key-id does not match the signing key",
            ));
        }
        Ok(node_keys)
    }

    /// The public keys peers need to verify this node and encrypt to it.
    pub fn public_identity(&self) -> PublicKeys {
        self.public_keys.clone()
    }

    /// The key id of the signing key (see [`key_id_for_signing_key`]).
    pub fn key_id(&self) -> &str {
        self.public_keys.key_id()
    }

    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.signing_key
    }

    pub(crate) fn hpke_private_key(&self) -> &HpkePrivateKey {
        &self.hpke_private_key
    }

    fn from_parts(signing_key: SigningKey, hpke_private_key: HpkePrivateKey) -> NodeKeys {
        let signing_key_bytes = signing_key.verifying_key().to_bytes();
        let hpke_public_key = HpkeKem::sk_to_pk(&hpke_private_key);
        let mut hpke_key_bytes = [0u8; 32];
        hpke_key_bytes.copy_from_slice(&hpke_public_key.to_bytes());
        let public_keys = PublicKeys {
            key_id: key_id_for_signing_key(&signing_key_bytes),
            signing_key_bytes,
            hpke_key_bytes,
        };
        NodeKeys {
            signing_key,
            hpke_private_key,
            public_keys,
        }
    }
}

impl std::fmt::Debug for NodeKeys {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("NodeKeys")
            .field("key_id", &self.public_keys.key_id)
            .field("secret_keys", &"<redacted>")
            .finish()
    }
}

impl PublicKeys {
    /// Checks the two public keys and derives the key id. Rejects Ed25519 keys that are not
    /// valid points or are of small order, and the all-zero X25519 key.
    pub fn from_key_bytes(
        signing_key_bytes: [u8; 32],
        hpke_key_bytes: [u8; 32],
    ) -> Result<PublicKeys, KeyError> {
        let verifying_key = VerifyingKey::from_bytes(&signing_key_bytes)
            .map_err(|_| KeyError::InvalidSigningPublicKey)?;
        if verifying_key.is_weak() {
            return Err(KeyError::InvalidSigningPublicKey);
        }
        if hpke_key_bytes == [0u8; 32] {
            return Err(KeyError::InvalidHpkePublicKey);
        }
        Ok(PublicKeys {
            key_id: key_id_for_signing_key(&signing_key_bytes),
            signing_key_bytes,
            hpke_key_bytes,
        })
    }

    /// The key id: the first 16 lowercase hex digits of SHA-256 over the Ed25519 public key.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The Ed25519 public key.
    pub fn signing_key_bytes(&self) -> &[u8; 32] {
        &self.signing_key_bytes
    }

    /// The HPKE X25519 public key.
    pub fn hpke_key_bytes(&self) -> &[u8; 32] {
        &self.hpke_key_bytes
    }

    /// One line: `comity-public-keys-v1:<key id>:<base64 signing key>:<base64 hpke key>`
    /// (standard base64 with padding).
    pub fn to_text(&self) -> String {
        format!(
            "{PUBLIC_KEYS_TEXT_PREFIX}:{}:{}:{}",
            self.key_id,
            BASE64_STANDARD.encode(self.signing_key_bytes),
            BASE64_STANDARD.encode(self.hpke_key_bytes)
        )
    }

    /// Parses [`PublicKeys::to_text`]; surrounding whitespace is ignored and the key id must
    /// match the signing key.
    pub fn from_text(text: &str) -> Result<PublicKeys, KeyError> {
        let mut parts = text.trim().split(':');
        if parts.next() != Some(PUBLIC_KEYS_TEXT_PREFIX) {
            return Err(KeyError::MalformedKeyText(
                "missing comity-public-keys-v1 prefix",
            ));
        }
        let (Some(key_id), Some(signing_base64), Some(hpke_base64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(KeyError::MalformedKeyText(
                "expected four colon-separated parts",
            ));
        };
        let mut signing_key_bytes = [0u8; 32];
        signing_key_bytes.copy_from_slice(&decode_base64_32(signing_base64)?);
        let mut hpke_key_bytes = [0u8; 32];
        hpke_key_bytes.copy_from_slice(&decode_base64_32(hpke_base64)?);
        let public_keys = PublicKeys::from_key_bytes(signing_key_bytes, hpke_key_bytes)?;
        if public_keys.key_id != key_id {
            return Err(KeyError::MalformedKeyText(
                "key id does not match the signing key",
            ));
        }
        Ok(public_keys)
    }

    pub(crate) fn hpke_public_key(&self) -> Result<HpkePublicKey, KeyError> {
        HpkePublicKey::from_bytes(&self.hpke_key_bytes).map_err(|_| KeyError::InvalidHpkePublicKey)
    }
}

/// The key id of an Ed25519 public key: the first 8 bytes of its SHA-256, as 16 lowercase hex
/// digits. It names a key in COSE `kid` headers and in trust lists.
pub fn key_id_for_signing_key(signing_key_bytes: &[u8; 32]) -> String {
    let digest = Sha256::digest(signing_key_bytes);
    lowercase_hex(&digest[..8])
}

/// Lowercase hex of `bytes`.
pub(crate) fn lowercase_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

fn decode_base64_32(text: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let decoded = Zeroizing::new(
        BASE64_STANDARD
            .decode(text.trim())
            .map_err(|_| KeyError::MalformedKeyText("invalid base64"))?,
    );
    if decoded.len() != 32 {
        return Err(KeyError::MalformedKeyText("a key must be 32 bytes"));
    }
    Ok(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng as _;

    #[test]
    fn secret_bytes_and_text_roundtrip_and_debug_hides_secrets() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let node_keys = NodeKeys::generate(&mut rng);
        let from_bytes = NodeKeys::from_secret_bytes(node_keys.to_secret_bytes().as_slice())
            .expect("valid secret bytes");
        assert_eq!(from_bytes.public_identity(), node_keys.public_identity());
        let text = node_keys.to_secret_text();
        let from_text = NodeKeys::from_secret_text(&text).expect("valid secret text");
        assert_eq!(from_text.public_identity(), node_keys.public_identity());

        let debug = format!("{node_keys:?}");
        let signing_base64 = BASE64_STANDARD.encode(&node_keys.to_secret_bytes()[..32]);
        assert!(!debug.contains(&signing_base64));
        assert!(debug.contains(node_keys.key_id()));
    }

    #[test]
    fn key_id_is_sixteen_hex_digits_of_sha256() {
        let key_id = key_id_for_signing_key(&[0u8; 32]);
        // SHA-256 of 32 zero bytes starts with 66687aadf862bd77.
        assert_eq!(key_id, "66687aadf862bd77");
    }

    #[test]
    fn public_text_rejects_wrong_key_id() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(8);
        let public_keys = NodeKeys::generate(&mut rng).public_identity();
        let text = public_keys.to_text();
        assert_eq!(PublicKeys::from_text(&text), Ok(public_keys.clone()));
        let tampered = text.replacen(public_keys.key_id(), "0000000000000000", 1);
        assert!(PublicKeys::from_text(&tampered).is_err());
    }
}
