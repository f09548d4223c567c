//! Garbage collection by owner references: dependents of a deleted owner are deleted
//! (Background, Foreground) or released (Orphan), as Kubernetes' garbage collector does; and a
//! sweep at start-up that finishes what a crash interrupted.
//!
//! The work that follows a write (collecting dependents, releasing owners that wait for them,
//! deleting objects created for owners that are gone) is done by one [`Collector`] task, in
//! batches that share one read of the store: a burst of writes (a ReplicaSet creating a
//! hundred pods, a namespace deletion) costs a few scans instead of one per write, and the
//! memory of one scan at a time.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use serde::Deserialize;
use serde_json::Value;
use tokio::sync::mpsc;

use super::delete::{FOREGROUND_FINALIZER, delete_object};
use super::options::DeleteOptions;
use super::{ApiContext, blocking, key, retry_on_conflict, store_error};
use crate::api::meta;
use crate::api::model::ResourceInfo;
use crate::api::status::Status;
use crate::generated::RESOURCES;

/// What the collector reads of each stored object: who it is, whom it names as owners, and
/// whether it waits for its dependents. The store is scanned for this
/// projection ([`crate::store::Store::scan`]), not for whole objects: a scan then costs a
/// small, fixed amount per object whatever the objects hold (thousands of Events, large
/// ConfigMaps), and objects are read whole only when the collector writes them.
#[derive(Deserialize, Default)]
struct Stored {
    #[serde(default)]
    metadata: StoredMeta,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct StoredMeta {
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    uid: Option<String>,
    #[serde(default)]
    owner_references: Option<Vec<OwnerUid>>,
    #[serde(default)]
    finalizers: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct OwnerUid {
    #[serde(default)]
    uid: String,
}

/// One stored object as the collector sees it.
struct Entry {
    resource: &'static ResourceInfo,
    meta: StoredMeta,
}

impl Entry {
    fn uid(&self) -> Option<&str> {
        self.meta.uid.as_deref()
    }

    fn owners(&self) -> impl Iterator<Item = &str> {
        self.meta
            .owner_references
            .iter()
            .flatten()
            .map(|o| o.uid.as_str())
    }

    fn names_owner(&self, uid: &str) -> bool {
        self.owners().any(|o| o == uid)
    }

    fn waits_for_dependents(&self) -> bool {
        self.meta
            .finalizers
            .iter()
            .flatten()
            .any(|f| f == FOREGROUND_FINALIZER)
    }

    /// The object as stored now, if it still exists.
    fn read(&self, ctx: &ApiContext) -> Result<Option<Value>, Status> {
        let k = key(
            self.resource,
            self.meta.namespace.as_deref(),
            &self.meta.name,
        );
        blocking(|| ctx.store.get(&k)).map_err(|e| store_error(self.resource, &k.name, e))
    }
}

/// Every stored object of every resource, as the collector sees it.
fn all_objects(ctx: &ApiContext) -> Result<Vec<Entry>, Status> {
    let mut out = Vec::new();
    for r in RESOURCES {
        let items: Vec<Stored> =
            blocking(|| ctx.store.scan(r.group, r.name)).map_err(|e| store_error(r, "", e))?;
        out.extend(items.into_iter().map(|o| Entry {
            resource: r,
            meta: o.metadata,
        }));
    }
    Ok(out)
}

/// Runs `write` on the object `entry` names, read afresh, and again on a fresh read while it
/// meets a write conflict (another writer changed the object between the read and the write).
/// Nothing to do when the object is gone, or was deleted and made again under its name.
/// `write` decides from the fresh object whether there is still something to do.
fn with_fresh(
    ctx: &ApiContext,
    entry: &Entry,
    mut write: impl FnMut(&Value) -> Result<(), Status>,
) -> Result<(), Status> {
    let Some(obj) = entry.read(ctx)? else {
        return Ok(());
    };
    let same = |o: &Value| entry.uid().is_none() || meta::meta_str(o, "uid") == entry.uid();
    let written = retry_on_conflict(ctx, entry.resource, &obj, |fresh| {
        if same(fresh) { write(fresh) } else { Ok(()) }
    });
    match written {
        Err(e) if e.code == 404 => Ok(()),
        other => other.map(drop),
    }
}

fn owner_uids(obj: &Value) -> Vec<&str> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|r| r.get("uid").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default()
}

/// Removes the owner reference to `uid` from every dependent (Orphan propagation).
pub fn orphan(ctx: &ApiContext, uid: &str) -> Result<(), Status> {
    for entry in all_objects(ctx)?.iter().filter(|e| e.names_owner(uid)) {
        with_fresh(ctx, entry, |obj| {
            let mut obj = obj.clone();
            let rv = meta::resource_version(&obj);
            let m = meta::metadata(&mut obj);
            if let Some(refs) = m.get_mut("ownerReferences").and_then(Value::as_array_mut) {
                refs.retain(|o| o.get("uid").and_then(Value::as_str) != Some(uid));
                if refs.is_empty() {
                    m.remove("ownerReferences");
                }
            }
            let k = key(
                entry.resource,
                entry.meta.namespace.as_deref(),
                &entry.meta.name,
            );
            blocking(|| ctx.store.update(&k, obj, rv))
                .map(drop)
                .map_err(|e| store_error(entry.resource, &k.name, e))
        })?;
    }
    Ok(())
}

/// Work for the collector, queued by writes.
enum Job {
    /// The owner `uid` was deleted (or marked for foreground deletion): collect its dependents.
    Collect(String),
    /// An object naming these owners is gone: owners waiting for their dependents may be done.
    Release(Vec<String>),
    /// An object was created naming these owners: if none exists, it is garbage.
    CheckOwners(&'static ResourceInfo, Value, Vec<String>),
}

/// The garbage collector's task, started on its first job. Cloning is cheap.
#[derive(Clone, Default)]
pub struct Collector {
    queue: Arc<OnceLock<mpsc::UnboundedSender<Job>>>,
}

impl Collector {
    fn send(&self, ctx: &ApiContext, job: Job) {
        let tx = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(run(ctx.clone(), rx));
            tx
        });
        // The receiver lives as long as the process; a send fails only at shutdown.
        let _ = tx.send(job);
    }
}

/// Takes every job queued so far, reads the store once, and does them against that read.
/// Work that a job's own writes cause is queued again by those writes, so a read that is a
/// moment old only delays it to the next batch.
async fn run(ctx: ApiContext, mut rx: mpsc::UnboundedReceiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while let Ok(job) = rx.try_recv() {
            jobs.push(job);
        }
        let all = match all_objects(&ctx) {
            Ok(all) => all,
            Err(e) => {
                tracing::warn!("garbage collection could not read the store: {e}");
                continue;
            }
        };
        for job in jobs {
            let result = match &job {
                Job::Collect(uid) => collect_from(&ctx, &all, uid),
                Job::Release(owners) => owners
                    .iter()
                    .try_for_each(|uid| release_foreground_owner(&ctx, &all, uid)),
                Job::CheckOwners(resource, obj, owners) => {
                    delete_if_owners_gone(&ctx, &all, resource, obj, owners)
                }
            };
            if let Err(e) = result {
                tracing::warn!("garbage collection failed: {e}");
            }
        }
    }
}

/// Deletes the dependents of `uid` whose owners are all gone, then, if the owner waits for them
/// (Foreground), releases it. Runs after the response, in the collector's task.
pub fn collect_in_background(ctx: &ApiContext, uid: String) {
    ctx.gc.send(ctx, Job::Collect(uid));
}

fn collect(ctx: &ApiContext, uid: &str) -> Result<(), Status> {
    collect_from(ctx, &all_objects(ctx)?, uid)
}

fn collect_from(ctx: &ApiContext, all: &[Entry], uid: &str) -> Result<(), Status> {
    let present: HashSet<&str> = all.iter().filter_map(Entry::uid).collect();
    let background = DeleteOptions::background();
    for entry in all.iter().filter(|e| e.names_owner(uid)) {
        with_fresh(ctx, entry, |obj| {
            // An owner being deleted in the foreground still counts as gone for its
            // dependents.
            let owners = owner_uids(obj);
            let live_owner = owners.iter().any(|o| *o != uid && present.contains(o));
            if !owners.contains(&uid) || live_owner || meta::is_deleting(obj) {
                return Ok(());
            }
            delete_object(ctx, entry.resource, obj, &background).map(drop)
        })?;
    }
    release_foreground_owner(ctx, all, uid)
}

/// When a dependent is gone, its owners waiting for their dependents (Foreground) may be done.
pub fn release_owners_in_background(ctx: &ApiContext, deleted: &Value) {
    let owners: Vec<String> = owner_uids(deleted)
        .into_iter()
        .map(str::to_string)
        .collect();
    if !owners.is_empty() {
        ctx.gc.send(ctx, Job::Release(owners));
    }
}

/// Removes the `foregroundDeletion` finalizer of the owner `uid` once none of its dependents
/// remain; the owner is then deleted.
fn release_foreground_owner(ctx: &ApiContext, all: &[Entry], uid: &str) -> Result<(), Status> {
    let Some(owner) = all.iter().find(|e| e.uid() == Some(uid)) else {
        return Ok(());
    };
    if !owner.waits_for_dependents() || all.iter().any(|e| e.names_owner(uid)) {
        return Ok(());
    }
    with_fresh(ctx, owner, |obj| {
        let rest: Vec<String> = meta::finalizers(obj)
            .into_iter()
            .filter(|f| f != FOREGROUND_FINALIZER)
            .collect();
        let k = key(
            owner.resource,
            owner.meta.namespace.as_deref(),
            &owner.meta.name,
        );
        let rv = meta::resource_version(obj);
        let written = if rest.is_empty() {
            blocking(|| ctx.store.delete(&k, rv)).map(drop)
        } else {
            let mut released = obj.clone();
            meta::metadata(&mut released).insert("finalizers".into(), serde_json::json!(rest));
            blocking(|| ctx.store.update(&k, released, rv)).map(drop)
        };
        written.map_err(|e| store_error(owner.resource, &k.name, e))
    })
}

/// After a write that names owners: if none of them exists, the object is garbage, as the real
/// garbage collector decides for a dependent whose owners are all absent.
pub fn check_owners_in_background(ctx: &ApiContext, resource: &'static ResourceInfo, obj: &Value) {
    let owners: Vec<String> = owner_uids(obj).into_iter().map(str::to_string).collect();
    if !owners.is_empty() {
        ctx.gc
            .send(ctx, Job::CheckOwners(resource, obj.clone(), owners));
    }
}

fn delete_if_owners_gone(
    ctx: &ApiContext,
    all: &[Entry],
    resource: &'static ResourceInfo,
    obj: &Value,
    owners: &[String],
) -> Result<(), Status> {
    if all
        .iter()
        .any(|e| e.uid().is_some_and(|u| owners.iter().any(|w| w == u)))
    {
        return Ok(());
    }
    let entry = Entry {
        resource,
        meta: StoredMeta {
            name: meta::meta_str(obj, "name").unwrap_or_default().to_string(),
            namespace: meta::meta_str(obj, "namespace").map(str::to_string),
            uid: meta::meta_str(obj, "uid").map(str::to_string),
            ..StoredMeta::default()
        },
    };
    // Read afresh: the object may have been written since its creation queued this check.
    with_fresh(ctx, &entry, |fresh| {
        let still_garbage = owner_uids(fresh)
            .iter()
            .all(|o| owners.iter().any(|w| w == o));
        if !still_garbage || meta::is_deleting(fresh) {
            return Ok(());
        }
        delete_object(ctx, resource, fresh, &DeleteOptions::background()).map(drop)
    })
}

/// At start-up: deletes objects all of whose owners are gone (a crash between an owner's
/// deletion and its dependents'), and resumes foreground deletions.
pub fn sweep(ctx: &ApiContext) -> Result<(), Status> {
    let all = all_objects(ctx)?;
    let present: HashSet<&str> = all.iter().filter_map(Entry::uid).collect();
    let mut orphaned_owners: HashSet<String> = HashSet::new();
    for entry in &all {
        let owners: Vec<&str> = entry.owners().collect();
        if !owners.is_empty() && owners.iter().all(|o| !present.contains(o)) {
            orphaned_owners.extend(owners.iter().map(|o| o.to_string()));
        }
        if entry.waits_for_dependents()
            && let Some(uid) = entry.uid()
        {
            orphaned_owners.insert(uid.to_string());
        }
    }
    for uid in orphaned_owners {
        collect(ctx, &uid)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;

    fn context(dir: &std::path::Path) -> ApiContext {
        ApiContext {
            store: Arc::new(crate::store::Store::open(dir).unwrap()),
            engine: None,
            tokens: Arc::new(crate::security::tokens::TokenIssuer::load_or_create(dir).unwrap()),
            gc: Default::default(),
        }
    }

    fn configmaps() -> &'static ResourceInfo {
        RESOURCES
            .iter()
            .find(|r| r.group.is_empty() && r.name == "configmaps")
            .unwrap()
    }

    fn store(ctx: &ApiContext, obj: Value) -> Value {
        let k = key(
            configmaps(),
            Some("default"),
            meta::meta_str(&obj, "name").unwrap(),
        );
        ctx.store.create(&k, obj).unwrap()
    }

    fn cm(name: &str, extra: Value) -> Value {
        let mut m = json!({"name": name, "namespace": "default", "uid": format!("u-{name}")});
        m.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": m})
    }

    /// Writes the object again (a label), as a controller writing its status would.
    fn touch(ctx: &ApiContext, name: &str) {
        let k = key(configmaps(), Some("default"), name);
        let mut obj = ctx.store.get(&k).unwrap().unwrap();
        obj["metadata"]["labels"] = json!({"touched": "yes"});
        let rv = meta::resource_version(&obj);
        ctx.store.update(&k, obj, rv).unwrap();
    }

    fn exists(ctx: &ApiContext, name: &str) -> bool {
        let k = key(configmaps(), Some("default"), name);
        ctx.store.get(&k).unwrap().is_some()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_dependent_written_after_the_read_is_still_collected() {
        let tmp = tempfile::tempdir().unwrap();
        let ctx = context(tmp.path());
        store(&ctx, cm("owner", json!({})));
        let owner_ref =
            json!([{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": "u-owner"}]);
        store(&ctx, cm("dep", json!({"ownerReferences": owner_ref})));
        let stale = all_objects(&ctx).unwrap();
        touch(&ctx, "dep");
        let k = key(configmaps(), Some("default"), "owner");
        ctx.store.delete(&k, None).unwrap();
        collect_from(&ctx, &stale, "u-owner").unwrap();
        assert!(!exists(&ctx, "dep"), "the dependent was left behind");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_foreground_owner_written_after_the_read_is_still_released() {
        let tmp = tempfile::tempdir().unwrap();
        let ctx = context(tmp.path());
        store(
            &ctx,
            cm(
                "owner",
                json!({"finalizers": [FOREGROUND_FINALIZER], "deletionTimestamp": "2026-01-01T00:00:00Z"}),
            ),
        );
        let stale = all_objects(&ctx).unwrap();
        touch(&ctx, "owner");
        release_foreground_owner(&ctx, &stale, "u-owner").unwrap();
        assert!(!exists(&ctx, "owner"), "the owner was not released");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn orphaning_removes_the_owner_reference() {
        let tmp = tempfile::tempdir().unwrap();
        let ctx = context(tmp.path());
        let owner_ref =
            json!([{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": "u-owner"}]);
        store(&ctx, cm("dep", json!({"ownerReferences": owner_ref})));
        orphan(&ctx, "u-owner").unwrap();
        let k = key(configmaps(), Some("default"), "dep");
        let dep = ctx.store.get(&k).unwrap().unwrap();
        assert!(dep.pointer("/metadata/ownerReferences").is_none());
    }
}
