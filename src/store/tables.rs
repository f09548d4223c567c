//! The database's tables, and the revision counter kept in them.

use redb::{Database, ReadableDatabase, TableDefinition, TableError};

use super::error::StoreError;

/// Encoded key (see [`super::key`]) to stored value (see [`super::value`]).
pub(crate) const OBJECTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("objects");
/// Store-wide counters; only [`REVISION`] so far.
pub(crate) const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// The last revision handed out.
pub(crate) const REVISION: &str = "revision";
/// The revision of a new, empty store, so that no real revision is ever 0
/// (which Kubernetes clients use to mean "any").
pub(crate) const FIRST_REVISION: u64 = 1;

/// The persisted revision; creates the tables on first use.
pub(crate) fn read_revision(db: &Database) -> Result<u64, StoreError> {
    let txn = db.begin_read().map_err(StoreError::from_redb)?;
    match txn.open_table(META) {
        Ok(meta) => {
            if let Some(revision) = meta.get(REVISION).map_err(StoreError::from_redb)? {
                return Ok(revision.value());
            }
        }
        Err(TableError::TableDoesNotExist(_)) => {}
        Err(e) => return Err(StoreError::from_redb(e)),
    }
    drop(txn);
    let txn = db.begin_write().map_err(StoreError::from_redb)?;
    {
        txn.open_table(OBJECTS).map_err(StoreError::from_redb)?;
        let mut meta = txn.open_table(META).map_err(StoreError::from_redb)?;
        meta.insert(REVISION, FIRST_REVISION)
            .map_err(StoreError::from_redb)?;
    }
    txn.commit().map_err(StoreError::from_redb)?;
    Ok(FIRST_REVISION)
}
