//! What wakes a controller: store watches on several resources, merged. A controller waits for
//! the next change, takes every change already waiting with it (a burst of writes costs one
//! reconcile), and reconciles. When a watch ends (its queue overflowed or the store reopened)
//! it is opened again and the controller is told to reconcile everything.

use std::sync::Arc;

use futures_util::stream::SelectAll;
use futures_util::{FutureExt, StreamExt};

use crate::store::{Event, Store, Watch};

/// What a controller should look at after waking.
pub enum Wake {
    /// These changes happened (in order, per resource).
    Changes(Vec<Event>),
    /// A watch was lost and reopened: changes may have been missed; reconcile everything.
    Resync,
}

/// Merged watches on `(group, resource)` pairs in all namespaces.
pub struct Wakeups {
    store: Arc<Store>,
    resources: Vec<(&'static str, &'static str)>,
    watches: SelectAll<Tagged>,
}

/// A watch that says which resource it is when it ends.
struct Tagged {
    index: usize,
    watch: Watch,
}

enum Item {
    Event(Event),
    Ended(usize),
}

impl futures_util::Stream for Tagged {
    type Item = Item;
    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Item>> {
        let index = self.index;
        match std::pin::Pin::new(&mut self.watch).poll_next(cx) {
            std::task::Poll::Ready(Some(e)) => std::task::Poll::Ready(Some(Item::Event(e))),
            // Report the end once; SelectAll then drops this stream.
            std::task::Poll::Ready(None) if index != usize::MAX => {
                self.index = usize::MAX;
                std::task::Poll::Ready(Some(Item::Ended(index)))
            }
            std::task::Poll::Ready(None) => std::task::Poll::Ready(None),
            std::task::Poll::Pending => std::task::Poll::Pending,
        }
    }
}

impl Wakeups {
    /// Watches each of `resources` (`(group, resource)`, `""` for the core group) from now.
    /// Open these before the first full reconcile so no change between the two is missed.
    pub fn open(
        store: Arc<Store>,
        resources: &[(&'static str, &'static str)],
    ) -> Result<Wakeups, crate::store::StoreError> {
        let mut w = Wakeups {
            store,
            resources: resources.to_vec(),
            watches: SelectAll::new(),
        };
        for i in 0..resources.len() {
            w.subscribe(i)?;
        }
        Ok(w)
    }

    fn subscribe(&mut self, index: usize) -> Result<(), crate::store::StoreError> {
        let (group, resource) = self.resources[index];
        let watch = self.store.watch(group, resource, None, None)?;
        self.watches.push(Tagged { index, watch });
        Ok(())
    }

    /// Waits for the next change and returns it with every change already waiting. `None`
    /// when a lost watch cannot be reopened (the store is gone).
    pub async fn next(&mut self) -> Option<Wake> {
        let first = self.watches.next().await?;
        let mut events = Vec::new();
        let mut ended = Vec::new();
        let mut take = |item: Item| match item {
            Item::Event(e) => events.push(e),
            Item::Ended(i) => ended.push(i),
        };
        take(first);
        while let Some(Some(item)) = self.watches.next().now_or_never() {
            take(item);
        }
        if ended.is_empty() {
            return Some(Wake::Changes(events));
        }
        for i in ended {
            if let Err(e) = self.subscribe(i) {
                tracing::warn!("reopening a controller's watch: {e}");
                return None;
            }
        }
        Some(Wake::Resync)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ObjectKey;
    use serde_json::json;

    #[tokio::test]
    async fn changes_of_every_watched_resource_wake_once_together() {
        let dir = std::env::temp_dir().join(format!("k2d-wakeups-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let store = Arc::new(Store::open(&dir).unwrap());
        let mut w = Wakeups::open(store.clone(), &[("", "services"), ("", "pods")]).unwrap();
        let obj = |name: &str| json!({"metadata": {"name": name, "namespace": "ns"}});
        store
            .create(&ObjectKey::new("", "services", "ns", "a"), obj("a"))
            .unwrap();
        store
            .create(&ObjectKey::new("", "pods", "ns", "p"), obj("p"))
            .unwrap();
        store
            .create(&ObjectKey::new("", "configmaps", "ns", "c"), obj("c"))
            .unwrap();
        // Both writes are waiting: one wake-up carries them, in any order across resources.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let Some(Wake::Changes(events)) = w.next().await else {
            panic!("expected changes");
        };
        let mut names: Vec<&str> = events.iter().map(|e| e.key.name.as_str()).collect();
        names.sort();
        assert_eq!(names, ["a", "p"]);
        let pending = futures_util::FutureExt::now_or_never(w.next());
        assert!(pending.is_none(), "the configmap is not watched");
        drop(w);
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
