//! The object store: every object k2d keeps, and the resourceVersion counter, in one crash-safe embedded database; plus the watch hub that pushes changes to watchers.
//!
//! - [`Store`] keeps objects as JSON in `<data dir>/store.redb` (redb:
//!   copy-on-write B-trees, checksummed commits, one fsync per write). Each
//!   write is one transaction that bumps the global revision, stamps it into
//!   `metadata.resourceVersion` and stores the object; nothing is written
//!   while idle (no timers, no background threads).
//! - The watch hub, inside the store, publishes exactly one [`Event`] per
//!   committed write, in revision order. [`Store::watch`] replays recent
//!   events from a bounded history, then follows live ones, through a
//!   bounded queue per watcher; a watcher that falls behind is dropped.
//!
//! All calls block (writes wait for the disk): call them from
//! `tokio::task::spawn_blocking`. [`Watch`] is async.

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
pub use watch::Watch;
