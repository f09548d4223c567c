//! Tunables of the store: memory bounds and durability.

/// How the store uses memory and disk. [`Default`] suits a 512 MB device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreOptions {
    /// Upper bound of redb's page cache, in bytes (default 2 MiB).
    ///
    /// redb fills it lazily and defaults to 1 GiB, so it must be bounded here.
    /// The kernel page cache keeps the file's hot pages anyway (outside the
    /// process's RSS), so a small cache costs little speed.
    pub cache_bytes: usize,
    /// Most events kept in memory for watches that resume from a revision
    /// (default 1024).
    pub history_events: usize,
    /// Most estimated bytes those events may hold (default 2 MiB). The
    /// estimate counts the in-memory size of the objects, not their JSON
    /// size: a small ConfigMap's event takes about 4 KiB, so 2 MiB keeps
    /// about 500 of those.
    pub history_bytes: usize,
    /// Events one watcher may have waiting before it is dropped (default 256).
    /// Kept below what the history holds so that a dropped watcher can
    /// usually resume from its last revision without a re-list.
    pub watch_queue: usize,
    /// Most estimated bytes one watcher's queue may pin before it is dropped
    /// (default 4 MiB). Events are shared with the history and the other
    /// watchers, so this only costs memory while a watcher has stopped
    /// reading; it caps that at a few MiB even for large objects (256 queued
    /// 1 MiB Secrets would otherwise pin 256 MiB).
    pub watch_queue_bytes: usize,
    /// Commit in two phases (two fsyncs per write instead of one). redb's
    /// default one-phase commit already survives power loss by checksumming
    /// the commit slot and every page; two phases only guard against a
    /// contrived checksum collision. Off by default to halve SD-card flushes.
    pub two_phase_commit: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            cache_bytes: 2 << 20,
            history_events: 1024,
            history_bytes: 2 << 20,
            watch_queue: 256,
            watch_queue_bytes: 4 << 20,
            two_phase_commit: false,
        }
    }
}
