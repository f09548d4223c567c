//! The object store: every object k2d keeps, and the resourceVersion counter, in one crash-safe embedded database; plus the watch hub that pushes changes to watchers.
//!
//! - [`Store`] keeps objects as JSON in `<data dir>/store.redb` (redb:
//!   copy-on-write B-trees, checksummed commits, one fsync per write). Each
//!   write is one transaction that bumps the global revision, stamps it into
//!   `metadata.resourceVersion` and stores the object; nothing is written
//!   while idle (no timers, no background threads, reads never write).
//! - The watch hub, inside the store, publishes exactly one [`Event`] per
//!   committed write, in revision order. [`Store::watch`] replays recent
//!   events from a bounded history, then follows live ones, through a
//!   bounded queue per watcher (in events and in bytes); a watcher that
//!   falls behind is dropped and told so ([`Watch::ended`]).
//!
//! # Using it from the API layer
//!
//! - Every method blocks (writes wait for an fsync, a few ms, more on an SD
//!   card): call them through `tokio::task::spawn_blocking`. [`Store`] is a
//!   cheap clone for that. [`Watch`] is async (a `Stream`, or
//!   [`Watch::recv`]).
//! - Watch `resourceVersion`: unset or `"0"` (and `sendInitialEvents=true`)
//!   mean "current state, then changes": [`Store::list_and_watch`], then send
//!   one ADDED per item (and the `k8s.io/initial-events-end` BOOKMARK at the
//!   returned revision for watch-list). `"N"` is [`Store::watch`] with
//!   `Some(N)`; [`StoreError::Gone`] is the 410 "too old resource version".
//! - Periodic BOOKMARKs: while a watch is open, [`Watch::bookmark_revision`].
//! - limit/continue: [`Store::list_from`] with the position from
//!   [`ListPage::next`]; carry the first page's revision in the token and
//!   report it on every page (each page is its own snapshot; a watch from
//!   the first page's revision replays whatever changed while paging). A
//!   token whose revision is below [`Store::oldest_watch_revision`] can be
//!   answered with 410 Expired, as Kubernetes does.
//! - [`StoreError::http_status`] gives the status code for each error; a full
//!   disk is 507 and leaves the store readable.

mod database;
mod error;
mod event;
mod file;
mod hub;
mod key;
mod options;
mod tables;
mod value;
mod watch;

#[cfg(test)]
mod tests;

pub use database::{ListPage, Store};
pub use error::StoreError;
pub use event::{Event, EventKind};
pub use file::STORE_FILE;
pub use key::ObjectKey;
pub use options::StoreOptions;
pub use watch::{Ended, Watch};
