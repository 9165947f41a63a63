//! [`SecretBox`]: seals small secrets the node must be able to read back (TOTP secrets)
//! with a node-local key (ChaCha20-Poly1305, random 96-bit nonce), bound by associated
//! data to the row they belong to, so a sealed value copied to another user's row does
//! not open. A database dump alone then reveals no secret.

use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::{CryptoRng, RngCore};
use zeroize::Zeroizing;

/// Length of a secret-box key.
pub const SECRET_BOX_KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 12;
const PREFIX: &str = "sb1:";

/// The key that seals secrets at rest.
#[derive(Clone)]
pub struct SecretBox {
    key: Zeroizing<[u8; SECRET_BOX_KEY_BYTES]>,
}

/// A sealed value that does not open.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretBoxError {
    /// Not the text form [`SecretBox::seal`] writes.
    #[error("not a sealed value")]
    Malformed,
    /// Wrong key, wrong associated data, or tampered.
    #[error("the sealed value does not open with this key for this owner")]
    Unopenable,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("SecretBox(<key>)")
    }
}

impl SecretBox {
    /// A box over these key bytes.
    pub fn from_bytes(key: [u8; SECRET_BOX_KEY_BYTES]) -> SecretBox {
        SecretBox {
            key: Zeroizing::new(key),
        }
    }

    /// A box with a fresh random key.
    pub fn generate(rng: &mut (impl RngCore + CryptoRng)) -> SecretBox {
        let mut key = [0u8; SECRET_BOX_KEY_BYTES];
        rng.fill_bytes(&mut key);
        SecretBox::from_bytes(key)
    }

    /// The key bytes, for the key file.
    pub fn key_bytes(&self) -> &[u8; SECRET_BOX_KEY_BYTES] {
        &self.key
    }

    /// Seals `plaintext` for `owner` (associated data) as `sb1:` + base64(nonce ‖ ciphertext).
    pub fn seal(
        &self,
        plaintext: &[u8],
        owner: &str,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> String {
        let cipher = ChaCha20Poly1305::new(Key::from_slice(self.key.as_slice()));
        let mut nonce = [0u8; NONCE_BYTES];
        rng.fill_bytes(&mut nonce);
        // Encryption with a valid key and nonce length cannot fail.
        let ciphertext = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: owner.as_bytes(),
                },
            )
            .unwrap_or_default();
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&ciphertext);
        format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes)
        )
    }

    /// Opens what [`SecretBox::seal`] wrote for the same `owner`.
    pub fn open(&self, sealed: &str, owner: &str) -> Result<Zeroizing<Vec<u8>>, SecretBoxError> {
        let text = sealed
            .strip_prefix(PREFIX)
            .ok_or(SecretBoxError::Malformed)?;
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(text)
            .map_err(|_| SecretBoxError::Malformed)?;
        if bytes.len() < NONCE_BYTES + 16 {
            return Err(SecretBoxError::Malformed);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let cipher = ChaCha20Poly1305::new(Key::from_slice(self.key.as_slice()));
        cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: owner.as_bytes(),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| SecretBoxError::Unopenable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_for_its_owner_and_key() {
        let mut rng = rand::rngs::OsRng;
        let sealed_box = SecretBox::generate(&mut rng);
        let sealed = sealed_box.seal(b"12345678901234567890", "user-1", &mut rng);
        assert!(!sealed.contains("12345678901234567890"));
        let opened = sealed_box.open(&sealed, "user-1").expect("opens");
        assert_eq!(opened.as_slice(), b"12345678901234567890");
        assert_eq!(
            sealed_box.open(&sealed, "user-2"),
            Err(SecretBoxError::Unopenable)
        );
        let other_key = SecretBox::generate(&mut rng);
        assert_eq!(
            other_key.open(&sealed, "user-1"),
            Err(SecretBoxError::Unopenable)
        );
        assert_eq!(
            sealed_box.open("plain", "user-1"),
            Err(SecretBoxError::Malformed)
        );
    }
}
