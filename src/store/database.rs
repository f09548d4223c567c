//! The store itself: objects and the revision counter in one redb file,
//! with every committed write published to the watch hub.

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};

use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableError};
use serde_json::Value;

use super::error::StoreError;
use super::event::{Event, EventKind};
use super::file::{STORE_FILE, open_database};
use super::hub::{Hub, HubLimits};
use super::key::{self, ObjectKey};
use super::options::StoreOptions;
use super::tables::{FIRST_REVISION, META, OBJECTS, REVISION, read_revision};
use super::value;
use super::watch::Watch;

/// The crash-safe object store and its watch hub.
///
/// Cheap to clone (all clones share one database), `Send` and `Sync`. All
/// methods block: writes wait for an fsync, so call them from
/// `tokio::task::spawn_blocking`.
#[derive(Clone, Debug)]
pub struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    options: StoreOptions,
    /// `None` after a failed reopen; the next call tries again.
    db: RwLock<Option<Database>>,
    /// Serializes writes, and their publication in revision order.
    writer: Mutex<()>,
    /// Mirror of the persisted counter, updated after each commit.
    revision: AtomicU64,
    /// Set by an I/O error: redb then refuses every later operation until
    /// the database is reopened.
    needs_reopen: AtomicBool,
    /// How many times the database was reopened after a failure.
    reopens: AtomicU64,
    hub: Arc<Hub>,
}

/// One page of a list: whole objects, or what [`Store::scan`] decodes of each.
#[derive(Clone, Debug, PartialEq)]
pub struct ListPage<T = Value> {
    /// The objects, ordered by namespace then name.
    pub items: Vec<T>,
    /// The revision of the snapshot the page was read from.
    pub revision: u64,
    /// Whether more objects follow.
    pub more: bool,
    /// When `more`: the position of the last item, to pass as `start_after`.
    pub next: Option<String>,
}

enum Write {
    Create(Value),
    Update(Value, Option<u64>),
    Delete(Option<u64>),
}

impl Store {
    /// Opens (creating if needed) `<dir>/store.redb` with default options.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Self::open_with(dir, StoreOptions::default())
    }

    /// Opens (creating if needed) `<dir>/store.redb`. After a crash redb
    /// repairs the file first, falling back to the last durable commit.
    pub fn open_with(dir: &Path, options: StoreOptions) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Storage(format!("creating {}: {e}", dir.display())))?;
        let path = dir.join(STORE_FILE);
        let db = open_database(&path, &options, true)?;
        Self::with_database(path, db, options)
    }

    /// A store over any redb storage backend (tests simulate power loss with
    /// one). Reopening after an I/O error is not possible there.
    #[cfg(test)]
    pub(crate) fn open_backend(
        backend: impl redb::StorageBackend,
        options: StoreOptions,
    ) -> Result<Store, StoreError> {
        let db = super::file::builder(&options)
            .create_with_backend(backend)
            .map_err(StoreError::from_redb)?;
        Self::with_database(PathBuf::new(), db, options)
    }

    fn with_database(
        path: PathBuf,
        db: Database,
        options: StoreOptions,
    ) -> Result<Store, StoreError> {
        let revision = read_revision(&db)?;
        let hub = Arc::new(Hub::new(
            revision,
            HubLimits {
                history_events: options.history_events,
                history_bytes: options.history_bytes,
                watch_queue: options.watch_queue,
                watch_queue_bytes: options.watch_queue_bytes,
            },
        ));
        Ok(Store {
            inner: Arc::new(Inner {
                path,
                options,
                db: RwLock::new(Some(db)),
                writer: Mutex::new(()),
                revision: AtomicU64::new(revision),
                needs_reopen: AtomicBool::new(false),
                reopens: AtomicU64::new(0),
                hub,
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The revision of the last committed write.
    pub fn current_revision(&self) -> u64 {
        self.inner.revision.load(Ordering::Acquire)
    }

    /// How many times the database had to be reopened after an I/O error
    /// (a full disk, a failing card) since [`Store::open`].
    pub fn recoveries(&self) -> u64 {
        self.inner.reopens.load(Ordering::Relaxed)
    }

    /// The oldest revision a watch can resume after; older ones are
    /// [`StoreError::Gone`]. Also tells whether a continue token that carries
    /// a revision has expired.
    pub fn oldest_watch_revision(&self) -> u64 {
        self.inner.hub.oldest()
    }

    /// The object stored under `key`.
    pub fn get(&self, key: &ObjectKey) -> Result<Option<Value>, StoreError> {
        let encoded = key.encode()?;
        self.read(|db| {
            let txn = db.begin_read().map_err(|e| self.fail(e))?;
            let table = match txn.open_table(OBJECTS) {
                Ok(table) => table,
                Err(TableError::TableDoesNotExist(_)) => return Ok(None),
                Err(e) => return Err(self.fail(e)),
            };
            let found = table.get(encoded.as_slice()).map_err(|e| self.fail(e))?;
            found
                .map(|guard| value::decode(guard.value()).map(|(_, obj)| obj))
                .transpose()
        })
    }

    /// Every object of `group`/`resource` (in `namespace` if given), from one
    /// consistent snapshot, with that snapshot's revision.
    pub fn list(
        &self,
        group: &str,
        resource: &str,
        namespace: Option<&str>,
    ) -> Result<(Vec<Value>, u64), StoreError> {
        let page = self.list_from(group, resource, namespace, None, 0)?;
        Ok((page.items, page.revision))
    }

    /// At most `limit` objects (0: no limit) of `group`/`resource` (in
    /// `namespace` if given) that come after position `start_after`
    /// (`namespace/name`, as in [`ListPage::next`] or
    /// [`ObjectKey::position`]), from one consistent snapshot.
    ///
    /// Each page is its own snapshot: for limit/continue, keep the first
    /// page's revision in the continue token and report it on every page; a
    /// watch from it then sees every change made while paging.
    pub fn list_from(
        &self,
        group: &str,
        resource: &str,
        namespace: Option<&str>,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<ListPage, StoreError> {
        self.page(group, resource, namespace, start_after, limit, |bytes| {
            value::decode(bytes).map(|(_, obj)| obj)
        })
    }

    /// Every object of `group`/`resource` in every namespace, decoded as `T`: a projection of
    /// the fields the caller needs (serde skips the rest without building it), for scans of the
    /// whole store that would cost many times the memory as whole objects.
    pub fn scan<T: serde::de::DeserializeOwned>(
        &self,
        group: &str,
        resource: &str,
    ) -> Result<Vec<T>, StoreError> {
        let page = self.page(group, resource, None, None, 0, value::decode_as::<T>)?;
        Ok(page.items)
    }

    /// A page of objects, each decoded from its stored bytes by `decode`.
    fn page<T>(
        &self,
        group: &str,
        resource: &str,
        namespace: Option<&str>,
        start_after: Option<&str>,
        limit: usize,
        decode: impl Fn(&[u8]) -> Result<T, StoreError>,
    ) -> Result<ListPage<T>, StoreError> {
        let prefix = key::prefix(group, resource, namespace)?;
        let end = key::prefix_end(&prefix);
        let start = match start_after {
            Some(position) => {
                let after = key::position_key(group, resource, position)?;
                if !after.starts_with(&prefix) {
                    return Err(StoreError::Invalid(format!(
                        "list position {position:?} is outside the listed namespace"
                    )));
                }
                Bound::Excluded(after)
            }
            None => Bound::Included(prefix.clone()),
        };
        let type_prefix_len = key::prefix(group, resource, None)?.len();
        self.read(|db| {
            let txn = db.begin_read().map_err(|e| self.fail(e))?;
            let revision = match txn.open_table(META) {
                Ok(meta) => meta
                    .get(REVISION)
                    .map_err(|e| self.fail(e))?
                    .map_or(FIRST_REVISION, |g| g.value()),
                Err(TableError::TableDoesNotExist(_)) => FIRST_REVISION,
                Err(e) => return Err(self.fail(e)),
            };
            let mut page = ListPage {
                items: Vec::new(),
                revision,
                more: false,
                next: None,
            };
            let table = match txn.open_table(OBJECTS) {
                Ok(table) => table,
                Err(TableError::TableDoesNotExist(_)) => return Ok(page),
                Err(e) => return Err(self.fail(e)),
            };
            let range = (
                start.as_ref().map(Vec::as_slice),
                Bound::Excluded(end.as_slice()),
            );
            let mut last_key = Vec::new();
            for entry in table.range::<&[u8]>(range).map_err(|e| self.fail(e))? {
                let (k, v) = entry.map_err(|e| self.fail(e))?;
                if limit != 0 && page.items.len() == limit {
                    page.more = true;
                    page.next = Some(key::position_of(&last_key[type_prefix_len..]));
                    break;
                }
                page.items.push(decode(v.value())?);
                last_key.clear();
                last_key.extend_from_slice(k.value());
            }
            Ok(page)
        })
    }

    /// Stores a new object; [`StoreError::AlreadyExists`] if `key` is taken.
    /// Returns the object as stored (with its new resourceVersion).
    pub fn create(&self, key: &ObjectKey, obj: Value) -> Result<Value, StoreError> {
        self.write(key, Write::Create(obj))
    }

    /// Replaces an object; [`StoreError::NotFound`] if absent,
    /// [`StoreError::Conflict`] if `expected_rv` is given and differs from
    /// the stored resourceVersion. Returns the object as stored.
    pub fn update(
        &self,
        key: &ObjectKey,
        obj: Value,
        expected_rv: Option<u64>,
    ) -> Result<Value, StoreError> {
        self.write(key, Write::Update(obj, expected_rv))
    }

    /// Removes an object; same preconditions as [`Store::update`]. Returns its
    /// last state, with the deletion's revision as resourceVersion.
    pub fn delete(&self, key: &ObjectKey, expected_rv: Option<u64>) -> Result<Value, StoreError> {
        self.write(key, Write::Delete(expected_rv))
    }

    /// Watches `group`/`resource` (in `namespace` if given) for events with
    /// a revision above `since`, replaying the ones still in memory first;
    /// `None` watches from now. [`StoreError::Gone`] when `since` is older
    /// than [`Store::oldest_watch_revision`]. A `since` above the current
    /// revision waits for revisions above it.
    ///
    /// Kubernetes' `resourceVersion=0` ("any") is not a revision here: use
    /// [`Store::list_and_watch`] for it and for `sendInitialEvents=true`.
    pub fn watch(
        &self,
        group: &str,
        resource: &str,
        namespace: Option<&str>,
        since: Option<u64>,
    ) -> Result<Watch, StoreError> {
        key::prefix(group, resource, namespace)?;
        self.inner.hub.subscribe(group, resource, namespace, since)
    }

    /// A consistent list and a watch that continues exactly after it: what
    /// a watch with `sendInitialEvents=true` or `resourceVersion=0` needs.
    pub fn list_and_watch(
        &self,
        group: &str,
        resource: &str,
        namespace: Option<&str>,
    ) -> Result<(Vec<Value>, u64, Watch), StoreError> {
        let mut tries = 0;
        loop {
            let (items, revision) = self.list(group, resource, namespace)?;
            // Only more writes than the history holds, between the list and
            // the subscription, make this Gone; then list again, a few times.
            match self.watch(group, resource, namespace, Some(revision)) {
                Ok(watch) => return Ok((items, revision, watch)),
                Err(StoreError::Gone { .. }) if tries < 4 => tries += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// Maps a database error, noting when redb needs reopening.
    fn fail(&self, err: impl Into<redb::Error>) -> StoreError {
        let err: redb::Error = err.into();
        if matches!(
            err,
            redb::Error::Io(_) | redb::Error::PreviousIo | redb::Error::DatabaseClosed
        ) {
            self.inner.needs_reopen.store(true, Ordering::Release);
        }
        StoreError::from_redb(err)
    }

    /// Runs a read against the open database, reopening it first if an
    /// earlier failure closed it, and afterwards if this read hit an I/O error.
    fn read<T>(&self, f: impl FnOnce(&Database) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let result = {
            let guard = self.database()?;
            match guard.as_ref() {
                Some(db) => f(db),
                None => Err(StoreError::Storage("the store is not open".into())),
            }
        };
        if result.is_err() && self.inner.needs_reopen.load(Ordering::Acquire) {
            let _writer = self.lock_writer();
            self.reopen_locked();
        }
        result
    }

    /// The database, reopened if a failure left it closed.
    fn database(&self) -> Result<RwLockReadGuard<'_, Option<Database>>, StoreError> {
        {
            let guard = self.inner.db.read().unwrap_or_else(|e| e.into_inner());
            if guard.is_some() {
                return Ok(guard);
            }
        }
        {
            let _writer = self.lock_writer();
            self.reopen_locked();
        }
        let guard = self.inner.db.read().unwrap_or_else(|e| e.into_inner());
        if guard.is_some() {
            Ok(guard)
        } else {
            Err(StoreError::Storage(format!(
                "cannot reopen {}",
                self.inner.path.display()
            )))
        }
    }

    fn lock_writer(&self) -> MutexGuard<'_, ()> {
        self.inner.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Closes and reopens the database (the caller holds the writer lock),
    /// so that redb recovers from an I/O error from its last durable commit.
    /// If that commit is not the last one published (a commit reported as
    /// failed did reach the disk), watchers are ended so they re-list.
    fn reopen_locked(&self) {
        let mut guard = self.inner.db.write().unwrap_or_else(|e| e.into_inner());
        let needed = self.inner.needs_reopen.swap(false, Ordering::AcqRel);
        if guard.is_some() && !needed {
            return;
        }
        // The old handle must be closed first: it holds the file lock.
        drop(guard.take());
        match open_database(&self.inner.path, &self.inner.options, false)
            .and_then(|db| read_revision(&db).map(|rev| (db, rev)))
        {
            Ok((db, revision)) => {
                *guard = Some(db);
                self.inner.reopens.fetch_add(1, Ordering::Relaxed);
                if revision != self.current_revision() {
                    tracing::warn!(
                        revision,
                        "the store's revision changed while reopening; ending every watch"
                    );
                    self.inner.revision.store(revision, Ordering::Release);
                    self.inner.hub.reset(revision);
                }
                tracing::info!(path = %self.inner.path.display(), "reopened the store");
            }
            Err(e) => {
                tracing::error!(path = %self.inner.path.display(), error = %e, "cannot reopen the store");
            }
        }
    }

    fn write(&self, key: &ObjectKey, op: Write) -> Result<Value, StoreError> {
        let encoded = key.encode()?;
        if let Write::Create(obj) | Write::Update(obj, _) = &op
            && !obj.is_object()
        {
            return Err(StoreError::Invalid(
                "an object must be a JSON object".into(),
            ));
        }
        let _writer = self.lock_writer();
        if self
            .inner
            .db
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .is_none()
        {
            self.reopen_locked();
        }
        let result = self.write_locked(key, &encoded, op);
        if result.is_err() && self.inner.needs_reopen.load(Ordering::Acquire) {
            self.reopen_locked();
        }
        result
    }

    /// One write transaction; the caller holds the writer lock.
    fn write_locked(
        &self,
        key: &ObjectKey,
        encoded: &[u8],
        op: Write,
    ) -> Result<Value, StoreError> {
        let guard = self.inner.db.read().unwrap_or_else(|e| e.into_inner());
        let Some(db) = guard.as_ref() else {
            return Err(StoreError::Storage("the store is not open".into()));
        };
        let mut txn = db.begin_write().map_err(|e| self.fail(e))?;
        txn.set_durability(Durability::Immediate)
            .map_err(|e| self.fail(e))?;
        txn.set_two_phase_commit(self.inner.options.two_phase_commit);
        let (kind, revision, stored) = {
            let mut objects = txn.open_table(OBJECTS).map_err(|e| self.fail(e))?;
            let mut meta = txn.open_table(META).map_err(|e| self.fail(e))?;
            let existing = objects
                .get(encoded)
                .map_err(|e| self.fail(e))?
                .map(|guard| guard.value().to_vec());
            let current_rv = existing.as_deref().map(value::revision).transpose()?;
            let revision = meta
                .get(REVISION)
                .map_err(|e| self.fail(e))?
                .map_or(FIRST_REVISION, |g| g.value())
                + 1;
            let (kind, mut obj) = match (op, current_rv) {
                (Write::Create(_), Some(_)) => return Err(StoreError::AlreadyExists),
                (Write::Create(obj), None) => (EventKind::Added, obj),
                (Write::Update(..) | Write::Delete(_), None) => return Err(StoreError::NotFound),
                (
                    Write::Update(_, Some(expected)) | Write::Delete(Some(expected)),
                    Some(current),
                ) if expected != current => {
                    return Err(StoreError::Conflict { current });
                }
                (Write::Update(obj, _), Some(_)) => (EventKind::Modified, obj),
                (Write::Delete(_), Some(_)) => {
                    let bytes = existing.as_deref().unwrap_or_default();
                    (EventKind::Deleted, value::decode(bytes)?.1)
                }
            };
            value::set_resource_version(&mut obj, revision)?;
            if kind == EventKind::Deleted {
                objects.remove(encoded).map_err(|e| self.fail(e))?;
            } else {
                let value = value::encode(revision, &obj)?;
                objects
                    .insert(encoded, value.as_slice())
                    .map_err(|e| self.fail(e))?;
            }
            meta.insert(REVISION, revision).map_err(|e| self.fail(e))?;
            (kind, revision, obj)
        };
        txn.commit().map_err(|e| self.fail(e))?;
        self.inner.revision.store(revision, Ordering::Release);
        self.inner.hub.publish(Event {
            kind,
            revision,
            key: Arc::new(key.clone()),
            object: Arc::new(stored.clone()),
        });
        Ok(stored)
    }

    /// The hub, for tests that look at its memory.
    #[cfg(test)]
    pub(crate) fn hub(&self) -> &Hub {
        &self.inner.hub
    }
}
