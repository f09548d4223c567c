//! The database file: created atomically, opened with a bounded cache.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use redb::{Database, DatabaseError};

use super::error::StoreError;
use super::options::StoreOptions;
use super::tables::read_revision;

/// The name of the database file inside the data directory.
pub const STORE_FILE: &str = "store.redb";

/// Opens the database file, creating it first if it does not exist and
/// `create` is set (a reopen after an error never creates: a vanished file
/// must not silently restart the revision counter).
///
/// A new file is built beside its final name, synced and renamed into
/// place, so a power cut during the very first start leaves either no store
/// (the next start creates it again) or a complete one, never a torn header
/// that would stop k2d from starting. An existing file that is not a redb
/// database is refused, never replaced.
pub(crate) fn open_database(
    path: &Path,
    options: &StoreOptions,
    create: bool,
) -> Result<Database, StoreError> {
    if create && !path.exists() {
        create_database(path, options)?;
    }
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| io_error("opening", path, e))?;
    builder(options).create_file(file).map_err(|e| match e {
        DatabaseError::DatabaseAlreadyOpen => StoreError::Storage(format!(
            "{} is already open (is another k2d running?)",
            path.display()
        )),
        e => StoreError::from_redb(e),
    })
}

/// A redb builder with the cache bounded as configured (redb's default is 1 GiB).
pub(crate) fn builder(options: &StoreOptions) -> redb::Builder {
    let mut builder = Database::builder();
    builder.set_cache_size(options.cache_bytes);
    builder
}

fn create_database(path: &Path, options: &StoreOptions) -> Result<(), StoreError> {
    let partial = path.with_extension("redb.partial");
    // Left over from a start that was cut short: it never held data.
    match std::fs::remove_file(&partial) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_error("removing", &partial, e)),
    }
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(0o600) // Secrets live here.
        .open(&partial)
        .map_err(|e| io_error("creating", &partial, e))?;
    let db = builder(options)
        .create_file(file)
        .map_err(StoreError::from_redb)?;
    read_revision(&db)?;
    drop(db);
    File::open(&partial)
        .and_then(|f| f.sync_all())
        .map_err(|e| io_error("syncing", &partial, e))?;
    std::fs::rename(&partial, path).map_err(|e| io_error("renaming", &partial, e))?;
    if let Some(dir) = path.parent() {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io_error("syncing", dir, e))?;
    }
    Ok(())
}

fn io_error(what: &str, path: &Path, err: std::io::Error) -> StoreError {
    let message = format!("{what} {}: {err}", path.display());
    match err.kind() {
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
            StoreError::StorageFull(message)
        }
        _ => StoreError::Storage(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use crate::store::tests::TempDir;

    #[test]
    fn a_partial_file_from_an_interrupted_first_start_is_discarded() {
        let dir = TempDir::new("file");
        std::fs::write(dir.path().join("store.redb.partial"), b"torn header").unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.current_revision(), 1);
        assert!(!dir.path().join("store.redb.partial").exists());
    }

    #[test]
    fn a_file_that_is_not_a_store_is_refused_not_replaced() {
        let dir = TempDir::new("file");
        let path = dir.path().join(STORE_FILE);
        std::fs::write(&path, b"something else entirely, longer than a header").unwrap();
        assert!(Store::open(dir.path()).is_err());
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"something else entirely, longer than a header"
        );
    }
}
