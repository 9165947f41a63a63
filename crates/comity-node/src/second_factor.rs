//! The node's second-factor policy: the roles from `[second_factor]` and the key that
//! seals TOTP secrets at rest, kept in `keys/second_factor.key` in the data directory
//! (owner-only, made on first start). Without a data directory the key lives in memory
//! only, so enrolments do not survive a restart.

use std::path::Path;

use comity_app::second_factor::SecondFactorPolicy;
use comity_crypto::{SECRET_BOX_KEY_BYTES, SecretBox};
use comity_domain::Role;

use crate::NodeConfig;
use crate::identity::IdentityError;

/// The key file's name in the data directory.
pub const SECRET_BOX_KEY_FILE: &str = "keys/second_factor.key";

/// The policy `config` describes; a bad role code is named in the error.
pub fn policy(config: &NodeConfig) -> Result<SecondFactorPolicy, crate::NodeError> {
    let mut required_roles = Vec::new();
    for (index, code) in config.second_factor.required_roles.iter().enumerate() {
        let role: Role = code.parse().map_err(|error: comity_domain::UnknownCode| {
            crate::NodeError::Config(format!("second_factor.required_roles[{index}]: {error}"))
        })?;
        required_roles.push(role);
    }
    let secret_box = match &config.data_dir {
        Some(dir) => load_or_create_key(dir)?,
        None => SecretBox::generate(&mut rand::rngs::OsRng),
    };
    Ok(SecondFactorPolicy {
        required_roles,
        single_sign_on_exempt: config.second_factor.single_sign_on_exempt,
        issuer: config
            .second_factor
            .issuer
            .clone()
            .unwrap_or_else(|| format!("Comity {}", config.node_id)),
        secret_box,
    })
}

fn load_or_create_key(dir: &Path) -> Result<SecretBox, IdentityError> {
    let path = dir.join(SECRET_BOX_KEY_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => {
            let key: [u8; SECRET_BOX_KEY_BYTES] =
                bytes.try_into().map_err(|_| IdentityError::Invalid {
                    path: path.clone(),
                    message: format!("expected {SECRET_BOX_KEY_BYTES} bytes"),
                })?;
            Ok(SecretBox::from_bytes(key))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let secret_box = SecretBox::generate(&mut rand::rngs::OsRng);
            crate::identity::write_secret_file(&path, secret_box.key_bytes())?;
            Ok(secret_box)
        }
        Err(source) => Err(IdentityError::Io { path, source }),
    }
}
