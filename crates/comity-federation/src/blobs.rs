//! Blobs: content-addressed bytes referenced from messages and fetched in chunks with a
//! call (`docs/protocol.md`, section 10.2).
//!
//! [`BlobStore`] keeps blobs named by the SHA-256 of their bytes: on disk under the data
//! directory (`blobs/sha256/<hex>`, owner-only, written to a temporary file and renamed)
//! or in memory for nodes without one. [`fetch`] asks the node that sent a reference for
//! each chunk (`comity.blob.fetch.v1`), refuses a chunk of the wrong length at once,
//! checks the assembled bytes against the name and only then stores them.
//! [`answer_fetch`] serves a chunk only to a peer this node sent a message referencing
//! the blob.

use std::collections::HashMap;
use std::fmt;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::FederationState;
use crate::calls::{CallContext, CallError, CallRefusal};
use crate::locks::lock;

/// The call that fetches one chunk of a blob.
pub const TYPE_BLOB_FETCH: &str = "comity.blob.fetch.v1";
/// Its answer type.
pub const TYPE_BLOB_FETCH_ANSWER: &str = "comity.blob.fetch.answer.v1";
/// The size of a chunk, the same for every node: 8 MiB.
pub const CHUNK_BYTES: usize = 8 * 1024 * 1024;
/// How many outbox messages mentioning a blob are looked at to find one that references
/// it.
const MAX_REFERENCING_MESSAGES: i64 = 100;

/// A blob's name: the SHA-256 of its bytes, written `sha256:<64 lowercase hex digits>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlobName(pub [u8; 32]);

impl BlobName {
    /// The name of these bytes.
    pub fn of(bytes: &[u8]) -> BlobName {
        BlobName(Sha256::digest(bytes).into())
    }

    /// The 64 lowercase hex digits.
    pub fn hex(&self) -> String {
        self.0.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    /// Reads 64 lowercase hex digits (the form attachment references carry).
    pub fn from_hex(hex: &str) -> Result<BlobName, String> {
        let wrong = || format!("a blob hash is 64 lowercase hex digits, not {hex:?}");
        if hex.len() != 64
            || !hex
                .bytes()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
        {
            return Err(wrong());
        }
        let mut bytes = [0u8; 32];
        for (index, byte) in bytes.iter_mut().enumerate() {
            *byte = hex
                .get(index * 2..index * 2 + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(wrong)?;
        }
        Ok(BlobName(bytes))
    }
}

impl fmt::Display for BlobName {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "sha256:{}", self.hex())
    }
}

impl std::str::FromStr for BlobName {
    type Err = String;

    fn from_str(text: &str) -> Result<BlobName, String> {
        let hex = text
            .strip_prefix("sha256:")
            .ok_or_else(|| format!("a blob name is `sha256:<64 hex digits>`, not {text:?}"))?;
        BlobName::from_hex(hex)
    }
}

impl Serialize for BlobName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for BlobName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<BlobName, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A reference to a blob: its name and size, what a message carries (with a media type
/// and a file name, in the domain's attachment reference).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobRef {
    /// The SHA-256 of the bytes.
    pub name: BlobName,
    /// Their length.
    pub size: u64,
}

/// Why a blob could not be stored, read or fetched.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// Reading or writing the blob directory failed.
    #[error("blob storage: {0}")]
    Io(#[from] std::io::Error),
    /// The holder did not answer a chunk.
    #[error("{0}")]
    Call(#[from] CallError),
    /// The holder answered with bytes that are not the blob: nothing was stored.
    #[error("corrupt blob {name}: {reason}")]
    Corrupt {
        /// The blob asked for.
        name: BlobName,
        /// What was wrong.
        reason: String,
    },
}

/// Where a node keeps blobs.
#[derive(Debug)]
enum Place {
    /// `<data dir>/blobs/sha256/<hex>`, temporary files in `<data dir>/blobs/tmp`.
    Disk(PathBuf),
    /// In memory, for nodes without a data directory.
    Memory(Mutex<HashMap<BlobName, std::sync::Arc<Vec<u8>>>>),
}

/// The node's blobs.
#[derive(Debug)]
pub struct BlobStore {
    place: Place,
    chunk_bytes: AtomicUsize,
}

impl BlobStore {
    /// Blobs under `data_dir` (created when the first blob is stored), or in memory
    /// without one.
    pub fn new(data_dir: Option<&Path>) -> BlobStore {
        let place = match data_dir {
            Some(dir) => Place::Disk(dir.join("blobs")),
            None => Place::Memory(Mutex::new(HashMap::new())),
        };
        BlobStore {
            place,
            chunk_bytes: AtomicUsize::new(CHUNK_BYTES),
        }
    }

    /// The chunk size this node serves and fetches with ([`CHUNK_BYTES`]).
    pub fn chunk_bytes(&self) -> usize {
        self.chunk_bytes.load(Ordering::Relaxed)
    }

    /// Changes the chunk size (from 1 byte to [`CHUNK_BYTES`]), so that tests can cut a
    /// small blob into several chunks. Both ends of a fetch must use the same size.
    pub fn set_chunk_bytes(&self, bytes: usize) {
        self.chunk_bytes
            .store(bytes.clamp(1, CHUNK_BYTES), Ordering::Relaxed);
    }

    /// The file holding a blob on disk.
    fn path(root: &Path, name: &BlobName) -> PathBuf {
        root.join("sha256").join(name.hex())
    }

    /// Stores `bytes` under their name; storing the same bytes again changes nothing. The
    /// file is written on the calling thread: a caller storing large blobs from async code
    /// does so on a blocking thread.
    pub async fn put(&self, bytes: &[u8]) -> Result<BlobRef, BlobError> {
        let mut partial = self.begin();
        partial.append(bytes)?;
        let name = BlobName::of(bytes);
        self.finish(partial, &name)?;
        Ok(BlobRef {
            name,
            size: bytes.len() as u64,
        })
    }

    /// The size of a blob this node holds, or `None`.
    pub fn size(&self, name: &BlobName) -> Result<Option<u64>, BlobError> {
        match &self.place {
            Place::Disk(root) => match std::fs::metadata(BlobStore::path(root, name)) {
                Ok(metadata) => Ok(Some(metadata.len())),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(error) => Err(error.into()),
            },
            Place::Memory(blobs) => Ok(lock(blobs).get(name).map(|bytes| bytes.len() as u64)),
        }
    }

    /// Whether this node holds a blob.
    pub fn contains(&self, name: &BlobName) -> Result<bool, BlobError> {
        Ok(self.size(name)?.is_some())
    }

    /// A blob's bytes, or `None` if this node does not hold it.
    pub fn get(&self, name: &BlobName) -> Result<Option<Vec<u8>>, BlobError> {
        match &self.place {
            Place::Disk(root) => match std::fs::read(BlobStore::path(root, name)) {
                Ok(bytes) => Ok(Some(bytes)),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(error) => Err(error.into()),
            },
            Place::Memory(blobs) => Ok(lock(blobs).get(name).map(|bytes| bytes.to_vec())),
        }
    }

    /// Bytes `[offset, offset + length)` of a blob (fewer at its end), or `None` if this
    /// node does not hold it.
    fn read_range(
        &self,
        name: &BlobName,
        offset: u64,
        length: usize,
    ) -> Result<Option<Vec<u8>>, BlobError> {
        match &self.place {
            Place::Disk(root) => {
                let mut file = match std::fs::File::open(BlobStore::path(root, name)) {
                    Ok(file) => file,
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                    Err(error) => return Err(error.into()),
                };
                file.seek(SeekFrom::Start(offset))?;
                let mut bytes = Vec::with_capacity(length);
                file.take(length as u64).read_to_end(&mut bytes)?;
                Ok(Some(bytes))
            }
            Place::Memory(blobs) => Ok(lock(blobs).get(name).map(|bytes| {
                let start = usize::try_from(offset)
                    .unwrap_or(usize::MAX)
                    .min(bytes.len());
                let end = start.saturating_add(length).min(bytes.len());
                bytes[start..end].to_vec()
            })),
        }
    }

    /// Starts writing a blob whose name is not known yet.
    fn begin(&self) -> PartialBlob {
        PartialBlob {
            hasher: Sha256::new(),
            target: match &self.place {
                Place::Disk(_) => PartialTarget::Unopened,
                Place::Memory(_) => PartialTarget::Memory(Vec::new()),
            },
            root: match &self.place {
                Place::Disk(root) => Some(root.clone()),
                Place::Memory(_) => None,
            },
        }
    }

    /// Stores a written blob under `name` if its bytes have that name; otherwise
    /// discards them.
    fn finish(&self, mut partial: PartialBlob, name: &BlobName) -> Result<(), BlobError> {
        // Opens the temporary file of an empty blob on disk.
        partial.append(&[])?;
        let actual = BlobName(partial.hasher.clone().finalize().into());
        if actual != *name {
            // Dropping the partial blob removes its temporary file.
            return Err(BlobError::Corrupt {
                name: *name,
                reason: format!("the bytes received are {actual}"),
            });
        }
        let target = std::mem::replace(&mut partial.target, PartialTarget::Unopened);
        match (target, &self.place) {
            (PartialTarget::Memory(bytes), Place::Memory(blobs)) => {
                lock(blobs)
                    .entry(*name)
                    .or_insert_with(|| std::sync::Arc::new(bytes));
                Ok(())
            }
            (PartialTarget::File(file, temporary), Place::Disk(root)) => {
                let stored = file.sync_all().and_then(|()| {
                    drop(file);
                    let destination = BlobStore::path(root, name);
                    if let Some(parent) = destination.parent() {
                        create_private_dir(parent)?;
                    }
                    std::fs::rename(&temporary, &destination)
                });
                if stored.is_err() {
                    let _ = std::fs::remove_file(&temporary);
                }
                Ok(stored?)
            }
            _ => Err(std::io::Error::other("a blob written for another store").into()),
        }
    }
}

/// Creates a directory (and its parents) readable by the node's owner only.
fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path)
}

/// A new owner-only temporary file under `<root>/tmp`.
fn open_temporary(root: &Path) -> std::io::Result<(std::fs::File, PathBuf)> {
    let directory = root.join("tmp");
    create_private_dir(&directory)?;
    let path = directory.join(comity_crypto::MessageId::random(&mut rand::rngs::OsRng).to_string());
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    Ok((options.open(&path)?, path))
}

/// Where the bytes of a blob being written go.
enum PartialTarget {
    /// A disk store before the first bytes.
    Unopened,
    /// A temporary file on disk.
    File(std::fs::File, PathBuf),
    /// Memory.
    Memory(Vec<u8>),
}

/// A blob being written: its bytes so far and their running hash.
struct PartialBlob {
    hasher: Sha256,
    target: PartialTarget,
    root: Option<PathBuf>,
}

impl PartialBlob {
    fn append(&mut self, bytes: &[u8]) -> Result<(), BlobError> {
        self.hasher.update(bytes);
        if let PartialTarget::Unopened = self.target {
            let root = self
                .root
                .as_ref()
                .ok_or_else(|| std::io::Error::other("a disk blob without a directory"))?;
            let (file, path) = open_temporary(root)?;
            self.target = PartialTarget::File(file, path);
        }
        match &mut self.target {
            PartialTarget::File(file, _) => file.write_all(bytes)?,
            PartialTarget::Memory(buffer) => buffer.extend_from_slice(bytes),
            PartialTarget::Unopened => {}
        }
        Ok(())
    }
}

impl Drop for PartialBlob {
    fn drop(&mut self) {
        // A blob abandoned half-way (a failed fetch) leaves no temporary file behind.
        if let PartialTarget::File(_, path) = &self.target {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The body of a `comity.blob.fetch.v1` question.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchQuestion {
    /// The blob.
    pub blob: BlobName,
    /// The chunk's index, from 0.
    pub chunk: u64,
}

/// The body of a `comity.blob.fetch.answer.v1` answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchAnswer {
    /// The blob.
    pub blob: BlobName,
    /// The chunk's index.
    pub chunk: u64,
    /// The chunk's bytes, base64 (standard alphabet, padded).
    pub bytes: String,
}

/// How many chunks a blob of `size` bytes has (at least one: an empty blob is one empty
/// chunk).
fn chunk_count(size: u64, chunk_bytes: usize) -> u64 {
    size.div_ceil(chunk_bytes as u64).max(1)
}

/// The length of chunk `index` of a blob of `size` bytes, or `None` past its end.
fn chunk_length(size: u64, chunk_bytes: usize, index: u64) -> Option<usize> {
    if index >= chunk_count(size, chunk_bytes) {
        return None;
    }
    let start = index.checked_mul(chunk_bytes as u64)?;
    let end = start.saturating_add(chunk_bytes as u64).min(size);
    usize::try_from(end.saturating_sub(start)).ok()
}

/// Whether this node sent (or queued for) `peer` a message whose body names the blob,
/// by its hex digits or its `sha256:` name, as a JSON string.
async fn referenced_to(
    state: &FederationState,
    peer: &str,
    name: &BlobName,
) -> Result<bool, String> {
    let hex = name.hex();
    let full = name.to_string();
    let mut tx = state
        .app
        .store()
        .begin()
        .await
        .map_err(|error| error.to_string())?;
    let bodies = tx
        .outbox_bodies_mentioning(peer, &hex, MAX_REFERENCING_MESSAGES)
        .await
        .map_err(|error| error.to_string())?;
    drop(tx);
    Ok(bodies.iter().any(|body| {
        serde_json::from_str::<serde_json::Value>(body)
            .is_ok_and(|value| names_string(&value, &hex, &full))
    }))
}

/// Whether a JSON value holds, at any depth, a string equal to `hex` or `full`.
fn names_string(value: &serde_json::Value, hex: &str, full: &str) -> bool {
    match value {
        serde_json::Value::String(text) => text == hex || text == full,
        serde_json::Value::Array(items) => items.iter().any(|item| names_string(item, hex, full)),
        serde_json::Value::Object(fields) => {
            fields.values().any(|item| names_string(item, hex, full))
        }
        _ => false,
    }
}

/// Answers `comity.blob.fetch.v1`: one chunk of a blob, only to a peer this node sent a
/// message referencing it.
pub async fn answer_fetch(
    context: CallContext,
    body: serde_json::Value,
) -> Result<serde_json::Value, CallRefusal> {
    let question: FetchQuestion = serde_json::from_value(body).map_err(|error| {
        CallRefusal::Refused(format!("malformed {TYPE_BLOB_FETCH} body: {error}"))
    })?;
    let state = &context.state;
    let shared = referenced_to(state, &context.caller, &question.blob)
        .await
        .map_err(CallRefusal::Failed)?;
    if !shared {
        return Err(CallRefusal::Refused(format!(
            "blob {} was not sent to {}",
            question.blob, context.caller
        )));
    }
    let blobs = &state.blobs;
    let chunk_bytes = blobs.chunk_bytes();
    let size = blobs
        .size(&question.blob)
        .map_err(|error| CallRefusal::Failed(error.to_string()))?
        .ok_or_else(|| CallRefusal::Refused(format!("blob {} is not held here", question.blob)))?;
    let length = chunk_length(size, chunk_bytes, question.chunk).ok_or_else(|| {
        CallRefusal::Refused(format!(
            "blob {} has {} chunks; there is no chunk {}",
            question.blob,
            chunk_count(size, chunk_bytes),
            question.chunk
        ))
    })?;
    let offset = question.chunk.saturating_mul(chunk_bytes as u64);
    // Up to a chunk read from disk: off the async workers.
    let reader = blobs.clone();
    let blob = question.blob;
    let bytes = tokio::task::spawn_blocking(move || reader.read_range(&blob, offset, length))
        .await
        .map_err(|error| CallRefusal::Failed(error.to_string()))?
        .map_err(|error| CallRefusal::Failed(error.to_string()))?
        .ok_or_else(|| CallRefusal::Refused(format!("blob {} is not held here", question.blob)))?;
    serde_json::to_value(FetchAnswer {
        blob: question.blob,
        chunk: question.chunk,
        bytes: base64::engine::general_purpose::STANDARD.encode(bytes),
    })
    .map_err(|error| CallRefusal::Failed(error.to_string()))
}

/// Fetches a blob from `holder` (the node that sent the message referencing it), chunk
/// by chunk, and stores it once its bytes have its name. A blob already held is not
/// fetched again.
pub async fn fetch(
    state: &FederationState,
    holder: &str,
    reference: &BlobRef,
) -> Result<(), BlobError> {
    let blobs = &state.blobs;
    let name = reference.name;
    if blobs.contains(&name)? {
        return Ok(());
    }
    let chunk_bytes = blobs.chunk_bytes();
    let mut partial = blobs.begin();
    for index in 0..chunk_count(reference.size, chunk_bytes) {
        let expected = chunk_length(reference.size, chunk_bytes, index).unwrap_or(0);
        let question = serde_json::to_value(FetchQuestion {
            blob: name,
            chunk: index,
        })
        .map_err(|error| std::io::Error::other(error.to_string()))?;
        let answer = crate::calls::call(state, holder, TYPE_BLOB_FETCH, &question).await?;
        let corrupt = |reason: String| BlobError::Corrupt { name, reason };
        let answer: FetchAnswer = serde_json::from_value(answer)
            .map_err(|error| corrupt(format!("malformed chunk {index}: {error}")))?;
        if answer.blob != name || answer.chunk != index {
            return Err(corrupt(format!(
                "asked for chunk {index}, got chunk {} of {}",
                answer.chunk, answer.blob
            )));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(answer.bytes.as_bytes())
            .map_err(|error| corrupt(format!("chunk {index} is not base64: {error}")))?;
        if bytes.len() != expected {
            return Err(corrupt(format!(
                "chunk {index} has {} bytes, not {expected}",
                bytes.len()
            )));
        }
        partial = tokio::task::spawn_blocking(move || {
            partial.append(&bytes)?;
            Ok::<_, BlobError>(partial)
        })
        .await
        .map_err(|error| std::io::Error::other(error.to_string()))??;
    }
    let store = blobs.clone();
    tokio::task::spawn_blocking(move || store.finish(partial, &name))
        .await
        .map_err(|error| std::io::Error::other(error.to_string()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_blob_exactly() {
        assert_eq!(chunk_count(0, 4), 1);
        assert_eq!(chunk_length(0, 4, 0), Some(0));
        assert_eq!(chunk_count(8, 4), 2);
        assert_eq!(chunk_count(9, 4), 3);
        assert_eq!(chunk_length(9, 4, 2), Some(1));
        assert_eq!(chunk_length(9, 4, 3), None);
        assert_eq!(chunk_length(u64::MAX, 4, u64::MAX), None);
    }

    #[test]
    fn names_read_back_and_refuse_other_forms() {
        let name = BlobName::of(b"evidence");
        assert_eq!(name.to_string().parse::<BlobName>(), Ok(name));
        assert_eq!(BlobName::from_hex(&name.hex()), Ok(name));
        for wrong in [
            "sha256:AB",
            "md5:00",
            &name.hex(),
            &name.to_string().to_uppercase(),
        ] {
            assert!(wrong.parse::<BlobName>().is_err(), "{wrong}");
        }
    }

    #[tokio::test]
    async fn blobs_are_stored_owner_only_and_verified() {
        let directory = tempfile::tempdir().expect("dir");
        for store in [BlobStore::new(Some(directory.path())), BlobStore::new(None)] {
            let reference = store.put(b"some evidence").await.expect("put");
            assert_eq!(reference.name, BlobName::of(b"some evidence"));
            assert_eq!(
                store.get(&reference.name).expect("get").as_deref(),
                Some(&b"some evidence"[..])
            );
            assert_eq!(
                store
                    .read_range(&reference.name, 5, 3)
                    .expect("range")
                    .as_deref(),
                Some(&b"evi"[..])
            );
            let mut partial = store.begin();
            partial.append(b"other bytes").expect("append");
            let wrong = BlobName::of(b"not these");
            assert!(matches!(
                store.finish(partial, &wrong),
                Err(BlobError::Corrupt { .. })
            ));
            assert!(!store.contains(&wrong).expect("contains"));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let file = directory
                .path()
                .join("blobs/sha256")
                .join(BlobName::of(b"some evidence").hex());
            let mode = std::fs::metadata(file).expect("file").permissions().mode();
            assert_eq!(mode & 0o077, 0, "owner-only");
        }
        let leftovers = std::fs::read_dir(directory.path().join("blobs/tmp"))
            .expect("tmp")
            .count();
        assert_eq!(leftovers, 0, "no temporary file left behind");
    }
}
