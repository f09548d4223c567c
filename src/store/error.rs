//! The errors of the store, precise enough for the API layer to pick the
//! HTTP status (404, 409, 410, 500, 507).

use std::fmt;
use std::io;

/// Why a store operation failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreError {
    /// The object does not exist (404).
    NotFound,
    /// An object with this key already exists (409, reason AlreadyExists).
    AlreadyExists,
    /// The expected resourceVersion is not the stored one (409, reason Conflict).
    Conflict {
        /// The resourceVersion the object has now.
        current: u64,
    },
    /// A watch asked to resume from a revision whose events are no longer
    /// kept in memory (410, "too old resource version").
    Gone {
        /// The revision the watch asked to start after.
        requested: u64,
        /// The oldest revision a watch can start after right now.
        oldest: u64,
    },
    /// The request cannot be stored as given: a key component with `/` or
    /// NUL, an object that is not a JSON object, a malformed list position
    /// (400/422).
    Invalid(String),
    /// The disk (or the file size limit) is full; nothing was written (507).
    StorageFull(String),
    /// Any other I/O or database failure; nothing was written (500).
    Storage(String),
}

impl StoreError {
    /// The HTTP status code the API layer should answer with.
    pub fn http_status(&self) -> u16 {
        match self {
            StoreError::NotFound => 404,
            StoreError::AlreadyExists | StoreError::Conflict { .. } => 409,
            StoreError::Gone { .. } => 410,
            StoreError::Invalid(_) => 422,
            StoreError::StorageFull(_) => 507,
            StoreError::Storage(_) => 500,
        }
    }

    /// Maps a database error, telling a full disk apart from other failures.
    pub(crate) fn from_redb(err: impl Into<redb::Error>) -> Self {
        let err: redb::Error = err.into();
        match &err {
            redb::Error::Io(io) if is_full(io) => StoreError::StorageFull(err.to_string()),
            _ => StoreError::Storage(err.to_string()),
        }
    }
}

/// Whether an I/O error means "no more space": a full disk, an exhausted
/// quota, or the process's file size limit.
fn is_full(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded | io::ErrorKind::FileTooLarge
    )
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::NotFound => f.write_str("not found"),
            StoreError::AlreadyExists => f.write_str("already exists"),
            StoreError::Conflict { current } => write!(
                f,
                "the object has been modified (resourceVersion is now {current}); \
                 please apply your changes to the latest version and try again"
            ),
            StoreError::Gone { requested, oldest } => {
                write!(f, "too old resource version: {requested} ({oldest})")
            }
            StoreError::Invalid(msg) => write!(f, "invalid: {msg}"),
            StoreError::StorageFull(msg) => write!(f, "insufficient storage: {msg}"),
            StoreError::Storage(msg) => write!(f, "storage error: {msg}"),
        }
    }
}

impl std::error::Error for StoreError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_disk_is_told_apart() {
        let full = redb::StorageError::Io(io::Error::from(io::ErrorKind::StorageFull));
        assert_eq!(StoreError::from_redb(full).http_status(), 507);
        let big = redb::StorageError::Io(io::Error::from(io::ErrorKind::FileTooLarge));
        assert_eq!(StoreError::from_redb(big).http_status(), 507);
        let other = redb::StorageError::Io(io::Error::from(io::ErrorKind::PermissionDenied));
        assert_eq!(StoreError::from_redb(other).http_status(), 500);
    }

    #[test]
    fn gone_reads_like_the_api_server() {
        let gone = StoreError::Gone {
            requested: 5,
            oldest: 20,
        };
        assert_eq!(gone.to_string(), "too old resource version: 5 (20)");
        assert_eq!(gone.http_status(), 410);
    }
}
