//! The node's identity on disk: its secret keys (owner-only), and its trust list of peer
//! nodes (TOML), with the peer entry it prints for other administrators.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use comity_crypto::{NodeKeys, PublicKeys, TrustedKey};
use comity_domain::{Authority, AuthorityKind};
use serde::{Deserialize, Serialize};

/// The key file inside the data directory.
pub const KEY_FILE: &str = "keys/node.key";
/// The trust list inside the data directory.
pub const TRUST_FILE: &str = "trust.toml";

/// Why the identity could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file holds something invalid.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> IdentityError + '_ {
    move |source| IdentityError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads the node's keys, creating them (owner-only: 0700 folder, 0600 file) if absent.
pub fn load_or_create_keys(data_dir: &Path) -> Result<NodeKeys, IdentityError> {
    let path = data_dir.join(KEY_FILE);
    if path.exists() {
        let text = std::fs::read_to_string(&path).map_err(io_error(&path))?;
        return NodeKeys::from_secret_text(&text).map_err(|error| IdentityError::Invalid {
            path: path.clone(),
            message: error.to_string(),
        });
    }
    let keys = NodeKeys::generate(&mut rand::rngs::OsRng);
    write_secret_file(&path, keys.to_secret_text().as_bytes())?;
    Ok(keys)
}

/// The folder of keys a node rotated away from.
pub const RETIRED_KEYS_DIR: &str = "keys/retired";
/// Since when the current key is in use (milliseconds, text).
pub const KEY_SINCE_FILE: &str = "keys/node.since";
/// The signed announcement of the last rotation, kept to send again to peers that
/// missed it, after a restart too.
pub const ANNOUNCEMENT_FILE: &str = "keys/announcement.cose";

/// Reads the node's keyring: the current keys (created if absent), since when, and the
/// retired ones.
pub fn load_keyring(data_dir: &Path) -> Result<Keyring, IdentityError> {
    let current = std::sync::Arc::new(load_or_create_keys(data_dir)?);
    let since_path = data_dir.join(KEY_SINCE_FILE);
    let since_ms = match std::fs::read_to_string(&since_path) {
        Ok(text) => text.trim().parse().map_err(|_| IdentityError::Invalid {
            path: since_path.clone(),
            message: "not a number of milliseconds".into(),
        })?,
        Err(_) => 0,
    };
    let mut previous = Vec::new();
    let retired = data_dir.join(RETIRED_KEYS_DIR);
    if retired.exists() {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&retired)
            .map_err(io_error(&retired))?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(io_error(&path))?;
            let keys =
                NodeKeys::from_secret_text(&text).map_err(|error| IdentityError::Invalid {
                    path: path.clone(),
                    message: error.to_string(),
                })?;
            previous.push(std::sync::Arc::new(keys));
        }
    }
    let announcement_path = data_dir.join(ANNOUNCEMENT_FILE);
    let announcement = match std::fs::read(&announcement_path) {
        Ok(bytes) => Some(bytes),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => return Err(io_error(&announcement_path)(error)),
    };
    Ok(Keyring {
        current,
        since_ms,
        previous,
        announcement,
    })
}

/// The node's key pairs: the current one, since when, and the ones it rotated away
/// from (kept to open envelopes peers sealed before they learned of the rotation).
#[derive(Debug)]
pub struct Keyring {
    /// Signs and receives from now on.
    pub current: std::sync::Arc<NodeKeys>,
    /// Since when, milliseconds since the epoch (0: since the node was made).
    pub since_ms: i64,
    /// Earlier keys.
    pub previous: Vec<std::sync::Arc<NodeKeys>>,
    /// The signed announcement of the last rotation, if there was one.
    pub announcement: Option<Vec<u8>>,
}

impl Keyring {
    /// A fresh keyring for a node without a data directory (tests, in-memory nodes).
    pub fn generate() -> Keyring {
        Keyring {
            current: std::sync::Arc::new(NodeKeys::generate(&mut rand::rngs::OsRng)),
            since_ms: 0,
            previous: Vec::new(),
            announcement: None,
        }
    }
}

/// Keeps the signed announcement of a rotation (replacing the previous one).
pub fn store_announcement(data_dir: &Path, announcement: &[u8]) -> Result<(), IdentityError> {
    let path = data_dir.join(ANNOUNCEMENT_FILE);
    let staged = path.with_extension("cose.new");
    let _ = std::fs::remove_file(&staged);
    write_secret_file(&staged, announcement)?;
    std::fs::rename(&staged, &path).map_err(io_error(&path))
}

/// The recovery key's countersignature of the last announcement, when the rotation was
/// a recovery.
pub const RECOVERY_SIGNATURE_FILE: &str = "keys/announcement.recovery.cose";

/// Keeps (or, with `None`, removes) the recovery countersignature of the last
/// announcement.
pub fn store_recovery_signature(
    data_dir: &Path,
    signature: Option<&[u8]>,
) -> Result<(), IdentityError> {
    let path = data_dir.join(RECOVERY_SIGNATURE_FILE);
    match signature {
        Some(bytes) => write_file_atomically(&path, bytes),
        None => match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(io_error(&path)(error)),
        },
    }
}

/// Reads the recovery countersignature of the last announcement, if there is one.
pub fn load_recovery_signature(data_dir: &Path) -> Result<Option<Vec<u8>>, IdentityError> {
    let path = data_dir.join(RECOVERY_SIGNATURE_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(io_error(&path)(error)),
    }
}

/// Files a rotation: the old keys move to the retired folder, the new ones become the
/// node's keys, and the start time is recorded. Every file is owner-only.
pub fn store_rotated_keys(
    data_dir: &Path,
    old: &NodeKeys,
    new: &NodeKeys,
    since_ms: i64,
) -> Result<(), IdentityError> {
    let retired = data_dir
        .join(RETIRED_KEYS_DIR)
        .join(format!("{}.key", old.key_id()));
    if !retired.exists() {
        write_secret_file(&retired, old.to_secret_text().as_bytes())?;
    }
    let current = data_dir.join(KEY_FILE);
    let staged = current.with_extension("key.new");
    let _ = std::fs::remove_file(&staged);
    write_secret_file(&staged, new.to_secret_text().as_bytes())?;
    std::fs::rename(&staged, &current).map_err(io_error(&current))?;
    let since_path = data_dir.join(KEY_SINCE_FILE);
    std::fs::write(&since_path, since_ms.to_string()).map_err(io_error(&since_path))?;
    Ok(())
}

/// Writes a file only its owner can read, in a folder only its owner can enter.
pub fn write_secret_file(path: &Path, contents: &[u8]) -> Result<(), IdentityError> {
    #[cfg(unix)]
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    if let Some(parent) = path.parent() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        builder.mode(0o700);
        builder.create(parent).map_err(io_error(parent))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(path).map_err(io_error(path))?;
    file.write_all(contents).map_err(io_error(path))?;
    file.sync_all().map_err(io_error(path))?;
    Ok(())
}

/// The trust list: the peer nodes this node exchanges messages with.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustListFile {
    /// The peers.
    #[serde(default)]
    pub peers: Vec<PeerEntry>,
}

/// One peer node, as its administrator publishes it (`comity node show`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeerEntry {
    /// The peer's node id.
    pub node_id: String,
    /// Where it receives federation messages (its base URL).
    pub endpoint: String,
    /// The authorities it hosts.
    #[serde(default)]
    pub authorities: Vec<PeerAuthority>,
    /// Its public keys with validity periods.
    #[serde(default)]
    pub keys: Vec<PeerKey>,
    /// Its TLS certificate (PEM), pinned: the HTTPS connection must present it (or a
    /// certificate from a public authority when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_certificate: Option<String>,
    /// Its recovery public key (text form), made by `comity init` and kept offline by
    /// its operator: a key announcement it countersigns takes effect without
    /// confirmation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_key: Option<String>,
    /// The message types it accepts (`comity.request.action.v1`, ...). Absent: every type
    /// this version knows, as a peer of the same version accepts them all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepts: Option<Vec<String>>,
}

/// An authority a peer hosts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeerAuthority {
    /// Authority id.
    pub id: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// Authority kind code.
    pub kind: String,
    /// Official name.
    pub name: String,
}

/// A public key of a peer and when it may be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeerKey {
    /// The public keys in text form (`comity node show`).
    pub public: String,
    /// Valid from, milliseconds since the epoch.
    #[serde(default)]
    pub valid_from_ms: i64,
    /// Valid until (exclusive), if the key is retired or scheduled to be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until_ms: Option<i64>,
}

/// A peer as the node uses it: parsed keys and authorities.
#[derive(Debug, Clone)]
pub struct Peer {
    /// Node id.
    pub node_id: String,
    /// Base URL.
    pub endpoint: String,
    /// Authorities.
    pub authorities: Vec<Authority>,
    /// Keys with validity.
    pub keys: Vec<TrustedKey>,
    /// Pinned TLS certificate, PEM.
    pub tls_certificate: Option<String>,
    /// The recovery public key, if the peer published one.
    pub recovery_key: Option<PublicKeys>,
    /// The message types it accepts; `None` for every type this version knows.
    pub accepts: Option<Vec<String>>,
}

impl Peer {
    /// The key with this id, if it is valid at `at_ms`.
    pub fn key_valid_at(&self, key_id: &str, at_ms: i64) -> Option<&PublicKeys> {
        self.keys
            .iter()
            .find(|key| key.keys.key_id() == key_id && key.is_valid_at(at_ms))
            .map(|key| &key.keys)
    }

    /// The newest key valid at `at_ms`, to encrypt to.
    pub fn current_key(&self, at_ms: i64) -> Option<&PublicKeys> {
        self.keys
            .iter()
            .filter(|key| key.is_valid_at(at_ms))
            .max_by_key(|key| key.valid_from_ms)
            .map(|key| &key.keys)
    }

    /// Whether the peer accepts messages of `message_type`: a peer whose entry lists no
    /// types accepts every type this version knows, and no other.
    pub fn accepts(&self, message_type: &str) -> bool {
        match &self.accepts {
            Some(listed) => listed.iter().any(|accepted| accepted == message_type),
            None => comity_wire::federation::is_known_message_type(message_type),
        }
    }
}

/// The most message types a peer entry may list.
const MAX_ACCEPTED_TYPES: usize = 256;
/// The longest message type (the envelope's limit for its text fields).
const MAX_MESSAGE_TYPE_BYTES: usize = 1024;

/// Checks the `accepts` list of a peer entry: printable ASCII names without spaces,
/// within the envelope's limit, and not too many of them.
fn check_accepted_types(accepts: &[String]) -> Result<(), String> {
    if accepts.len() > MAX_ACCEPTED_TYPES {
        return Err(format!(
            "accepts: {} message types, at most {MAX_ACCEPTED_TYPES}",
            accepts.len()
        ));
    }
    for (index, message_type) in accepts.iter().enumerate() {
        if message_type.is_empty() || message_type.len() > MAX_MESSAGE_TYPE_BYTES {
            return Err(format!(
                "accepts[{index}]: a message type has 1 to {MAX_MESSAGE_TYPE_BYTES} bytes"
            ));
        }
        if !message_type.bytes().all(|byte| byte.is_ascii_graphic()) {
            return Err(format!(
                "accepts[{index}]: a message type is printable ASCII without spaces"
            ));
        }
    }
    Ok(())
}

impl PeerEntry {
    /// Parses the entry, naming the field at fault.
    pub fn parse(&self) -> Result<Peer, String> {
        if self.node_id.trim().is_empty() {
            return Err("node_id is empty".into());
        }
        let authorities = self
            .authorities
            .iter()
            .enumerate()
            .map(|(index, authority)| {
                Ok(Authority {
                    id: authority
                        .id
                        .parse()
                        .map_err(|error| format!("authorities[{index}].id: {error}"))?,
                    country: authority
                        .country
                        .parse()
                        .map_err(|error| format!("authorities[{index}].country: {error}"))?,
                    kind: authority
                        .kind
                        .parse::<AuthorityKind>()
                        .map_err(|error| format!("authorities[{index}].kind: {error}"))?,
                    name: authority.name.clone(),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let keys = self
            .keys
            .iter()
            .enumerate()
            .map(|(index, key)| {
                Ok(TrustedKey {
                    keys: PublicKeys::from_text(&key.public)
                        .map_err(|error| format!("keys[{index}].public: {error}"))?,
                    valid_from_ms: key.valid_from_ms,
                    valid_until_ms: key.valid_until_ms,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        if keys.is_empty() {
            return Err(format!("peer {} has no keys", self.node_id));
        }
        let recovery_key = self
            .recovery_key
            .as_deref()
            .map(PublicKeys::from_text)
            .transpose()
            .map_err(|error| format!("recovery_key: {error}"))?;
        if let Some(recovery) = &recovery_key
            && keys
                .iter()
                .any(|key| key.keys.key_id() == recovery.key_id())
        {
            return Err("recovery_key: the recovery key may not also be a node key".into());
        }
        if let Some(accepts) = &self.accepts {
            check_accepted_types(accepts)?;
        }
        Ok(Peer {
            node_id: self.node_id.clone(),
            endpoint: self.endpoint.trim_end_matches('/').to_string(),
            authorities,
            keys,
            tls_certificate: self.tls_certificate.clone(),
            recovery_key,
            accepts: self.accepts.clone(),
        })
    }
}

/// An authority that moves from one peer to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostChange {
    /// The authority.
    pub authority: String,
    /// The peer that hosted it.
    pub from_node: String,
    /// That peer's endpoint.
    pub from_endpoint: String,
    /// The peer that hosts it from now on.
    pub to_node: String,
    /// That peer's endpoint.
    pub to_endpoint: String,
}

impl std::fmt::Display for HostChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "authority {} moves from {} ({}) to {} ({})",
            self.authority, self.from_node, self.from_endpoint, self.to_node, self.to_endpoint
        )
    }
}

/// Refuses a peer entry that claims this node's identity or an authority this node
/// hosts: peer data never decides what is local.
pub fn check_claims(
    entry: &PeerEntry,
    own_node_id: &str,
    local_authorities: &[String],
) -> Result<(), String> {
    if entry.node_id == own_node_id {
        return Err(format!(
            "the entry is for node {own_node_id}, which is this node"
        ));
    }
    if let Some(claimed) = entry
        .authorities
        .iter()
        .find(|authority| local_authorities.contains(&authority.id))
    {
        return Err(format!(
            "peer {} claims authority {}, which this node hosts",
            entry.node_id, claimed.id
        ));
    }
    Ok(())
}

/// The trust list in memory, by node id, with the keys peers announced that wait for an
/// operator's confirmation.
#[derive(Debug, Clone, Default)]
pub struct TrustList {
    peers: BTreeMap<String, Peer>,
    entries: BTreeMap<String, PeerEntry>,
    pending: Vec<PendingKey>,
}

impl TrustList {
    /// Reads `trust.toml` from the data directory; an absent file is an empty list.
    pub fn load(data_dir: &Path) -> Result<TrustList, IdentityError> {
        let path = data_dir.join(TRUST_FILE);
        if !path.exists() {
            return Ok(TrustList::default());
        }
        let text = std::fs::read_to_string(&path).map_err(io_error(&path))?;
        let file: TrustListFile =
            toml::from_str(&text).map_err(|error| IdentityError::Invalid {
                path: path.clone(),
                message: error.to_string(),
            })?;
        let mut list = TrustList::default();
        for entry in file.peers {
            list.insert(entry)
                .map_err(|message| IdentityError::Invalid {
                    path: path.clone(),
                    message,
                })?;
        }
        list.pending = load_pending_keys(data_dir)?;
        // A key confirmed just before a crash may still be listed as pending.
        list.pending.retain(|pending| {
            list.peers.get(&pending.node_id).is_some_and(|peer| {
                !peer
                    .keys
                    .iter()
                    .any(|key| key.keys.key_id() == pending.key_id)
            })
        });
        Ok(list)
    }

    /// Removes a peer (and the keys it announced that wait for confirmation). Returns
    /// whether it was on the list.
    pub fn remove(&mut self, node_id: &str) -> bool {
        self.pending.retain(|pending| pending.node_id != node_id);
        self.peers.remove(node_id);
        self.entries.remove(node_id).is_some()
    }

    /// The keys peers announced that wait for an operator's confirmation, oldest first.
    pub fn pending_keys(&self) -> &[PendingKey] {
        &self.pending
    }

    /// Keeps an announced key until an operator confirms it, replacing an earlier
    /// announcement of the same key. A peer has at most [`MAX_PENDING_KEYS_PER_PEER`]
    /// waiting: the oldest gives way.
    pub fn add_pending_key(&mut self, pending: PendingKey) {
        self.pending
            .retain(|known| !(known.node_id == pending.node_id && known.key_id == pending.key_id));
        let of_peer = self
            .pending
            .iter()
            .filter(|known| known.node_id == pending.node_id)
            .count();
        if of_peer >= MAX_PENDING_KEYS_PER_PEER
            && let Some(oldest) = self
                .pending
                .iter()
                .position(|known| known.node_id == pending.node_id)
        {
            self.pending.remove(oldest);
        }
        self.pending.push(pending);
    }

    /// Drops every key of `node_id` that waits for confirmation (one took effect).
    pub fn clear_pending_keys(&mut self, node_id: &str) {
        self.pending.retain(|pending| pending.node_id != node_id);
    }

    /// Adds or replaces a peer. An authority that another peer hosts is refused: moving
    /// an authority between nodes is [`TrustList::insert_moving`], an explicit step.
    pub fn insert(&mut self, entry: PeerEntry) -> Result<&Peer, String> {
        let peer = entry.parse()?;
        if let Some(change) = self.host_changes(&peer).into_iter().next() {
            return Err(format!(
                "authority {} is hosted by peer {} ({}); moving it to {} needs `comity peer add --move-authorities`",
                change.authority, change.from_node, change.from_endpoint, change.to_node
            ));
        }
        self.replace(entry, peer)
    }

    /// Adds or replaces a peer, taking the authorities it lists from the peers that
    /// hosted them until now. Returns the moves, for the operator to see.
    pub fn insert_moving(&mut self, entry: PeerEntry) -> Result<Vec<HostChange>, String> {
        let peer = entry.parse()?;
        let changes = self.host_changes(&peer);
        for change in &changes {
            if let Some(old) = self.entries.get_mut(&change.from_node) {
                old.authorities
                    .retain(|authority| authority.id != change.authority);
                let reparsed = old.parse()?;
                self.peers.insert(change.from_node.clone(), reparsed);
            }
        }
        self.replace(entry, peer)?;
        Ok(changes)
    }

    /// The authorities `peer` lists that another peer hosts now.
    fn host_changes(&self, peer: &Peer) -> Vec<HostChange> {
        let mut changes = Vec::new();
        for authority in &peer.authorities {
            for other in self.peers.values() {
                if other.node_id != peer.node_id
                    && other.authorities.iter().any(|a| a.id == authority.id)
                {
                    changes.push(HostChange {
                        authority: authority.id.to_string(),
                        from_node: other.node_id.clone(),
                        from_endpoint: other.endpoint.clone(),
                        to_node: peer.node_id.clone(),
                        to_endpoint: peer.endpoint.clone(),
                    });
                }
            }
        }
        changes
    }

    fn replace(&mut self, entry: PeerEntry, peer: Peer) -> Result<&Peer, String> {
        let node_id = peer.node_id.clone();
        self.entries.insert(node_id.clone(), entry);
        self.peers.insert(node_id.clone(), peer);
        self.peers
            .get(&node_id)
            .ok_or_else(|| "peer vanished".to_string())
    }

    /// A copy of a peer's entry as written in the trust list.
    pub fn entry(&self, node_id: &str) -> Option<PeerEntry> {
        self.entries.get(node_id).cloned()
    }

    /// A peer by node id.
    pub fn peer(&self, node_id: &str) -> Option<&Peer> {
        self.peers.get(node_id)
    }

    /// Every peer.
    pub fn peers(&self) -> impl Iterator<Item = &Peer> {
        self.peers.values()
    }

    /// Writes the list to `trust.toml` and the keys waiting for confirmation to
    /// `trust-pending.toml` beside it, each replaced whole and owner-only.
    pub fn save(&self, data_dir: &Path) -> Result<(), IdentityError> {
        let path = data_dir.join(TRUST_FILE);
        let file = TrustListFile {
            peers: self.entries.values().cloned().collect(),
        };
        let text = toml::to_string_pretty(&file).map_err(|error| IdentityError::Invalid {
            path: path.clone(),
            message: error.to_string(),
        })?;
        write_file_atomically(&path, text.as_bytes())?;
        let pending_path = data_dir.join(PENDING_KEYS_FILE);
        let pending = PendingKeysFile {
            pending: self.pending.clone(),
        };
        let text = toml::to_string_pretty(&pending).map_err(|error| IdentityError::Invalid {
            path: pending_path.clone(),
            message: error.to_string(),
        })?;
        write_file_atomically(&pending_path, text.as_bytes())
    }
}

/// The keys peers announced that wait for confirmation, beside the trust list.
pub const PENDING_KEYS_FILE: &str = "trust-pending.toml";
/// How many announced keys of one peer wait at most (an announcement signed by a leaked
/// key must not fill the disk).
pub const MAX_PENDING_KEYS_PER_PEER: usize = 8;

/// A key a peer announced, kept until an operator of this node confirms its fingerprint
/// (received from the peer's operator out of band).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PendingKey {
    /// The peer.
    pub node_id: String,
    /// The announced key's id.
    pub key_id: String,
    /// The announced keys' fingerprint ([`key_fingerprint`]).
    pub fingerprint: String,
    /// The announced public keys, text form.
    pub public: String,
    /// From when the announcement says the key is valid, milliseconds.
    pub valid_from_ms: i64,
    /// Until when, if the announcement says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until_ms: Option<i64>,
    /// The key id of the peer's key that signed the announcement.
    pub signed_by: String,
    /// When this node received it, milliseconds.
    pub received_at_ms: i64,
    /// The signed announcement, base64: verified again when the key is confirmed.
    pub announcement: String,
}

/// The file of keys waiting for confirmation.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PendingKeysFile {
    /// The keys.
    #[serde(default)]
    pub pending: Vec<PendingKey>,
}

fn load_pending_keys(data_dir: &Path) -> Result<Vec<PendingKey>, IdentityError> {
    let path = data_dir.join(PENDING_KEYS_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(io_error(&path)(error)),
    };
    let file: PendingKeysFile = toml::from_str(&text).map_err(|error| IdentityError::Invalid {
        path: path.clone(),
        message: error.to_string(),
    })?;
    Ok(file.pending)
}

/// Replaces a file whole: written owner-only beside it, flushed, then renamed over it, so
/// a crash leaves either the old or the new contents.
pub fn write_file_atomically(path: &Path, contents: &[u8]) -> Result<(), IdentityError> {
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().to_string())
        .unwrap_or_default();
    let staged = path.with_file_name(format!(".{file_name}.tmp"));
    match std::fs::remove_file(&staged) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(io_error(&staged)(error)),
    }
    write_secret_file(&staged, contents)?;
    std::fs::rename(&staged, path).map_err(io_error(path))
}

/// The fingerprint operators compare out of band before trusting a peer's new key:
/// SHA-256 over `comity/key-fingerprint/v1`, the Ed25519 key and the X25519 key, as 64
/// lowercase hex digits in groups of four joined by `:`.
pub fn key_fingerprint(keys: &PublicKeys) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(b"comity/key-fingerprint/v1");
    hasher.update(keys.signing_key_bytes());
    hasher.update(keys.hpke_key_bytes());
    let digest = hasher.finalize();
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    hex.as_bytes()
        .chunks(4)
        .map(|group| String::from_utf8_lossy(group).to_string())
        .collect::<Vec<_>>()
        .join(":")
}

/// A fingerprint as typed by an operator, compared without its separators (`:`, spaces,
/// `-`) and case; `None` unless it is 64 hex digits.
pub fn normalize_fingerprint(typed: &str) -> Option<String> {
    let digits: String = typed
        .chars()
        .filter(|c| !matches!(c, ':' | ' ' | '-'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (digits.len() == 64 && digits.chars().all(|c| c.is_ascii_hexdigit())).then_some(digits)
}

/// The recovery public key inside the data directory (text form).
pub const RECOVERY_PUBLIC_FILE: &str = "keys/recovery.pub";

/// Makes the node's recovery key pair: the secret half is written once, owner-only, to
/// `secret_path` (for the operator to take offline); the public half is kept in the data
/// directory and published in the node's peer entry. Refuses to replace either.
pub fn create_recovery_key(
    data_dir: &Path,
    secret_path: &Path,
) -> Result<PublicKeys, IdentityError> {
    let public_path = data_dir.join(RECOVERY_PUBLIC_FILE);
    if public_path.exists() {
        return Err(IdentityError::Invalid {
            path: public_path,
            message: "this node already has a recovery key".into(),
        });
    }
    let keys = NodeKeys::generate(&mut rand::rngs::OsRng);
    write_secret_file(secret_path, keys.to_secret_text().as_bytes())?;
    let public = keys.public_identity();
    write_secret_file(&public_path, format!("{}\n", public.to_text()).as_bytes())?;
    Ok(public)
}

/// The node's recovery public key, if it has one.
pub fn load_recovery_public(data_dir: &Path) -> Result<Option<PublicKeys>, IdentityError> {
    let path = data_dir.join(RECOVERY_PUBLIC_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => PublicKeys::from_text(text.trim())
            .map(Some)
            .map_err(|error| IdentityError::Invalid {
                path: path.clone(),
                message: error.to_string(),
            }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(io_error(&path)(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::{
        MAX_PENDING_KEYS_PER_PEER, PendingKey, TrustList, key_fingerprint, normalize_fingerprint,
    };
    use comity_crypto::NodeKeys;

    #[test]
    fn fingerprints_cover_both_keys_and_are_read_without_separators_or_case() {
        let keys = NodeKeys::generate(&mut rand::rngs::OsRng).public_identity();
        let other = NodeKeys::generate(&mut rand::rngs::OsRng).public_identity();
        let shown = key_fingerprint(&keys);
        assert_eq!(shown.len(), 64 + 15, "{shown}");
        assert_ne!(shown, key_fingerprint(&other));
        let typed = shown.replace(':', " ").to_uppercase();
        assert_eq!(normalize_fingerprint(&typed), normalize_fingerprint(&shown));
        assert_eq!(normalize_fingerprint(&shown).map(|f| f.len()), Some(64));
        for refused in ["", "abc", &shown[..shown.len() - 1], &format!("{shown}0")] {
            assert_eq!(normalize_fingerprint(refused), None, "{refused}");
        }
        let not_hex = format!("{}g", &shown.replace(':', "")[..63]);
        assert_eq!(normalize_fingerprint(&not_hex), None);
    }

    #[test]
    fn a_peer_has_a_bounded_number_of_pending_keys_and_one_per_key() {
        let pending = |key_id: &str| PendingKey {
            node_id: "es-node".into(),
            key_id: key_id.into(),
            fingerprint: String::new(),
            public: String::new(),
            valid_from_ms: 0,
            valid_until_ms: None,
            signed_by: "k0".into(),
            received_at_ms: 0,
            announcement: String::new(),
        };
        let mut trust = TrustList::default();
        trust.add_pending_key(pending("k1"));
        trust.add_pending_key(pending("k1"));
        assert_eq!(trust.pending_keys().len(), 1);
        for index in 0..20 {
            trust.add_pending_key(pending(&format!("x{index}")));
        }
        assert_eq!(trust.pending_keys().len(), MAX_PENDING_KEYS_PER_PEER);
        assert_eq!(
            trust.pending_keys().last().map(|p| p.key_id.as_str()),
            Some("x19")
        );
        trust.clear_pending_keys("es-node");
        assert!(trust.pending_keys().is_empty());
    }

    use super::{MAX_ACCEPTED_TYPES, PeerEntry, PeerKey, TrustListFile};

    fn entry(accepts: Option<Vec<String>>) -> PeerEntry {
        let keys = comity_crypto::NodeKeys::generate(&mut rand::rngs::OsRng);
        PeerEntry {
            node_id: "ma-node".into(),
            endpoint: "https://ma.example/".into(),
            authorities: Vec::new(),
            keys: vec![PeerKey {
                public: keys.public_identity().to_text(),
                valid_from_ms: 0,
                valid_until_ms: None,
            }],
            tls_certificate: None,
            recovery_key: None,
            accepts,
        }
    }

    #[test]
    fn a_peer_without_a_list_accepts_every_known_type_and_no_other() {
        let peer = entry(None).parse().expect("peer");
        for known in comity_wire::federation::known_message_types() {
            assert!(peer.accepts(known), "{known}");
        }
        assert!(!peer.accepts("comity.alert.published.v1"));
    }

    #[test]
    fn a_peer_with_a_list_accepts_only_what_it_lists() {
        let peer = entry(Some(vec![
            "comity.request.dispatched.v1".into(),
            "comity.alert.published.v1".into(),
        ]))
        .parse()
        .expect("peer");
        assert!(peer.accepts("comity.request.dispatched.v1"));
        assert!(peer.accepts("comity.alert.published.v1"));
        assert!(!peer.accepts("comity.request.action.v1"));
    }

    #[test]
    fn an_accepts_list_with_bad_names_or_too_many_is_refused_naming_the_entry() {
        let error = entry(Some(vec![
            "comity.request.action.v1".into(),
            "bad type".into(),
        ]))
        .parse()
        .expect_err("space");
        assert!(error.starts_with("accepts[1]:"), "{error}");
        let error = entry(Some(vec![String::new()])).parse().expect_err("empty");
        assert!(error.starts_with("accepts[0]:"), "{error}");
        let many = (0..=MAX_ACCEPTED_TYPES)
            .map(|n| format!("comity.test.t{n}.v1"))
            .collect();
        let error = entry(Some(many)).parse().expect_err("too many");
        assert!(error.starts_with("accepts:"), "{error}");
    }

    #[test]
    fn an_entry_reads_back_as_written_with_or_without_accepts() {
        let text = toml::to_string(&entry(None)).expect("toml");
        assert!(!text.contains("accepts"), "{text}");
        let read: PeerEntry = toml::from_str(&text).expect("read back");
        assert_eq!(read.accepts, None);

        let listed = entry(Some(vec!["comity.request.action.v1".into()]));
        let file = TrustListFile {
            peers: vec![listed.clone()],
        };
        let text = toml::to_string_pretty(&file).expect("toml");
        let read: TrustListFile = toml::from_str(&text).expect("read back");
        assert_eq!(read.peers, vec![listed]);
    }
}
