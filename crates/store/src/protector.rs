//! The key protector: whatever keeps the data key wrapped at rest (Android Keystore, iOS Keychain, or the
//! software protector below for tests and desktops).

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::seal::{DATA_KEY_LEN, Purpose, SealKey};

/// Why a key protector could not wrap or unwrap the data key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtectorError {
    /// The keystore is unavailable or refused to act for now (locked device, user not authenticated).
    #[error("key protector unavailable: {0}")]
    Unavailable(String),
    /// The wrapping key is permanently gone (Android `KeyPermanentlyInvalidatedException`: screen lock
    /// removed, biometrics re-enrolled). Unlike `Unavailable`, retrying cannot help: what it wrapped is lost.
    #[error("wrapping key permanently invalidated: {0}")]
    KeyInvalidated(String),
    /// The wrapped key is not one this protector produced (tampered, or wrapped under another key).
    #[error("wrapped data key rejected: {0}")]
    Rejected(String),
    /// The protector's own storage (e.g. the software key file) could not be read or written.
    #[error("key protector storage: {0}")]
    Io(String),
}

/// Wraps and unwraps the store's data key. Implementations keep their wrapping key out of the database
/// (ideally in hardware) and must be safe to call from any thread.
pub trait KeyProtector: Send + Sync {
    /// Wraps `data_key` (32 bytes) for storage in the database.
    fn wrap(&self, data_key: &[u8]) -> Result<Vec<u8>, ProtectorError>;
    /// Recovers the data key from what [`KeyProtector::wrap`] returned.
    fn unwrap(&self, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, ProtectorError>;
}

/// A protector that wraps the data key with AES-256-GCM under a 32-byte key kept in a file (mode 0600) or
/// given directly. It is only as strong as the file's protection: meant for tests and desktop use, not
/// for phones, which use their hardware keystore.
///
/// Wrapped format: the store's sealed-blob format (`version || nonce || ciphertext || tag`) with
/// associated data labelled `tandem-store/v1/software-protector-wrap`.
pub struct SoftwareKeyProtector {
    key: SealKey,
}

impl std::fmt::Debug for SoftwareKeyProtector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SoftwareKeyProtector(..)")
    }
}

/// Length of the software protector's wrapping key in bytes.
pub const SOFTWARE_KEY_LEN: usize = DATA_KEY_LEN;

impl SoftwareKeyProtector {
    /// A protector using `key` directly (tests, or a key the caller keeps elsewhere).
    pub fn from_key_bytes(key: &[u8; SOFTWARE_KEY_LEN]) -> Self {
        SoftwareKeyProtector {
            key: SealKey::from_array(key),
        }
    }

    /// Loads the wrapping key from `path`, creating it (32 random bytes, mode 0600, written atomically)
    /// if the file does not exist. On Unix an existing file readable or writable by group or others is
    /// refused, as is a file of the wrong length.
    pub fn load_or_create(path: &Path) -> Result<Self, ProtectorError> {
        match load_key_file(path) {
            Ok(key) => return Ok(Self::from_key_bytes(&key)),
            Err(LoadError::Missing) => {}
            Err(LoadError::Other(e)) => return Err(e),
        }
        create_key_file(path)?;
        match load_key_file(path) {
            Ok(key) => Ok(Self::from_key_bytes(&key)),
            Err(LoadError::Missing) => Err(ProtectorError::Io(format!(
                "{} vanished after creation",
                path.display()
            ))),
            Err(LoadError::Other(e)) => Err(e),
        }
    }
}

impl KeyProtector for SoftwareKeyProtector {
    fn wrap(&self, data_key: &[u8]) -> Result<Vec<u8>, ProtectorError> {
        self.key
            .seal(Purpose::SoftwareWrap, &[], data_key)
            .map_err(|e| ProtectorError::Unavailable(e.to_string()))
    }

    fn unwrap(&self, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, ProtectorError> {
        self.key
            .open(Purpose::SoftwareWrap, &[], wrapped)
            .map_err(|e| ProtectorError::Rejected(e.to_string()))
    }
}

enum LoadError {
    Missing,
    Other(ProtectorError),
}

fn load_key_file(path: &Path) -> Result<Zeroizing<[u8; SOFTWARE_KEY_LEN]>, LoadError> {
    let io = |e: std::io::Error| LoadError::Other(ProtectorError::Io(format!("{}: {e}", path.display())));
    let mut file = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return Err(LoadError::Missing),
        Err(e) => return Err(io(e)),
    };
    let meta = file.metadata().map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(LoadError::Other(ProtectorError::Io(format!(
                "{} is accessible by other users (mode {:o}); expected 0600",
                path.display(),
                mode & 0o777
            ))));
        }
    }
    if meta.len() != SOFTWARE_KEY_LEN as u64 {
        return Err(LoadError::Other(ProtectorError::Io(format!(
            "{} holds {} bytes, expected {SOFTWARE_KEY_LEN}",
            path.display(),
            meta.len()
        ))));
    }
    let mut key = Zeroizing::new([0u8; SOFTWARE_KEY_LEN]);
    file.read_exact(key.as_mut_slice()).map_err(io)?;
    Ok(key)
}

/// Writes a fresh key to a private temporary file, then hard-links it into place: the link fails if
/// another process created the key first, so a key file is never half-written or overwritten.
fn create_key_file(path: &Path) -> Result<(), ProtectorError> {
    let io = |what: &Path, e: std::io::Error| ProtectorError::Io(format!("{}: {e}", what.display()));
    let mut key = Zeroizing::new([0u8; SOFTWARE_KEY_LEN]);
    getrandom::fill(key.as_mut_slice())
        .map_err(|e| ProtectorError::Unavailable(format!("random number generator failed: {e}")))?;
    let tmp = temp_path(path)?;
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = (|| {
        let mut file = options.open(&tmp)?;
        file.write_all(key.as_slice())?;
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(io(&tmp, e));
    }
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => {}
        // Someone else won the race; their key is the one to use.
        Err(e) if e.kind() == ErrorKind::AlreadyExists => return Ok(()),
        Err(e) => return Err(io(path, e)),
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Make the new directory entry durable; failure here only weakens crash safety.
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

fn temp_path(path: &Path) -> Result<PathBuf, ProtectorError> {
    let name = path
        .file_name()
        .ok_or_else(|| ProtectorError::Io(format!("{} is not a file path", path.display())))?;
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce)
        .map_err(|e| ProtectorError::Unavailable(format!("random number generator failed: {e}")))?;
    let mut tmp_name = name.to_os_string();
    tmp_name.push(format!(
        ".tmp-{}-{:016x}",
        std::process::id(),
        u64::from_le_bytes(nonce)
    ));
    Ok(path.with_file_name(tmp_name))
}
