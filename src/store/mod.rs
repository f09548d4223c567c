//! The object store: every object k2d keeps, and the resourceVersion counter, in one crash-safe embedded database; plus the watch hub that pushes changes to watchers.
