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

use serde_json::Value;
use tokio::sync::mpsc;

use super::delete::{FOREGROUND_FINALIZER, delete_object};
use super::options::DeleteOptions;
use super::{ApiContext, blocking, key, retry_on_conflict, store_error};
use crate::api::meta;
use crate::api::model::ResourceInfo;
use crate::api::status::Status;
use crate::generated::RESOURCES;

/// Every stored object of every resource.
fn all_objects(ctx: &ApiContext) -> Result<Vec<(&'static ResourceInfo, Value)>, Status> {
    let mut out = Vec::new();
    for r in RESOURCES {
        let (items, _) = blocking(|| ctx.store.list(r.group, r.name, None))
            .map_err(|e| store_error(r, "", e))?;
        out.extend(items.into_iter().map(|o| (r, o)));
    }
    Ok(out)
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

/// The objects that name `uid` among their owners.
pub fn dependents(
    ctx: &ApiContext,
    uid: &str,
) -> Result<Vec<(&'static ResourceInfo, Value)>, Status> {
    Ok(all_objects(ctx)?
        .into_iter()
        .filter(|(_, o)| owner_uids(o).contains(&uid))
        .collect())
}

/// Removes the owner reference to `uid` from every dependent (Orphan propagation), on a fresh
/// read when a controller wrote the dependent meanwhile.
pub fn orphan(ctx: &ApiContext, uid: &str) -> Result<(), Status> {
    for (r, obj) in dependents(ctx, uid)? {
        retry_on_conflict(ctx, r, &obj, |current| {
            let rv = meta::resource_version(current);
            let mut obj = current.clone();
            let m = meta::metadata(&mut obj);
            let Some(refs) = m.get_mut("ownerReferences").and_then(Value::as_array_mut) else {
                return Ok(());
            };
            let before = refs.len();
            refs.retain(|o| o.get("uid").and_then(Value::as_str) != Some(uid));
            if refs.len() == before {
                return Ok(());
            }
            if refs.is_empty() {
                m.remove("ownerReferences");
            }
            let k = key(
                r,
                meta::meta_str(&obj, "namespace"),
                meta::meta_str(&obj, "name").unwrap_or_default(),
            );
            match blocking(|| ctx.store.update(&k, obj, rv)) {
                Ok(_) | Err(crate::store::StoreError::NotFound) => Ok(()),
                Err(e) => Err(store_error(r, k.name.as_str(), e)),
            }
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

fn collect_from(
    ctx: &ApiContext,
    all: &[(&'static ResourceInfo, Value)],
    uid: &str,
) -> Result<(), Status> {
    let present: HashSet<&str> = all
        .iter()
        .filter_map(|(_, o)| meta::meta_str(o, "uid"))
        .collect();
    let background = DeleteOptions::background();
    for (r, obj) in all {
        if !owner_uids(obj).contains(&uid) {
            continue;
        }
        // The batch's read may be a moment old: a controller that wrote the dependent since
        // (a ReplicaSet's status) makes the delete conflict; it is decided again on a fresh read.
        let deleted = retry_on_conflict(ctx, r, obj, |current| {
            let owners = owner_uids(current);
            // An owner being deleted in the foreground still counts as gone for its dependents.
            let live_owner = owners.iter().any(|o| *o != uid && present.contains(o));
            if !owners.contains(&uid) || live_owner || meta::is_deleting(current) {
                return Ok(());
            }
            delete_object(ctx, r, current, &background).map(drop)
        });
        match deleted {
            Err(e) if e.code != 404 => return Err(e),
            _ => {}
        }
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
fn release_foreground_owner(
    ctx: &ApiContext,
    all: &[(&'static ResourceInfo, Value)],
    uid: &str,
) -> Result<(), Status> {
    let Some((r, owner)) = all
        .iter()
        .find(|(_, o)| meta::meta_str(o, "uid") == Some(uid))
    else {
        return Ok(());
    };
    if !meta::finalizers(owner)
        .iter()
        .any(|f| f == FOREGROUND_FINALIZER)
        || all.iter().any(|(_, o)| owner_uids(o).contains(&uid))
    {
        return Ok(());
    }
    let k = key(
        r,
        meta::meta_str(owner, "namespace"),
        meta::meta_str(owner, "name").unwrap_or_default(),
    );
    // A controller may write the owner meanwhile (its status): then again on a fresh read.
    retry_on_conflict(ctx, r, owner, |current| {
        let finalizers = meta::finalizers(current);
        if !finalizers.iter().any(|f| f == FOREGROUND_FINALIZER) {
            return Ok(());
        }
        let rest: Vec<String> = finalizers
            .into_iter()
            .filter(|f| f != FOREGROUND_FINALIZER)
            .collect();
        let rv = meta::resource_version(current);
        let result = if rest.is_empty() {
            blocking(|| ctx.store.delete(&k, rv)).map(drop)
        } else {
            let mut released = current.clone();
            meta::metadata(&mut released).insert("finalizers".into(), serde_json::json!(rest));
            blocking(|| ctx.store.update(&k, released, rv)).map(drop)
        };
        result.map_err(|e| store_error(r, &k.name, e))
    })?;
    Ok(())
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
    all: &[(&'static ResourceInfo, Value)],
    resource: &'static ResourceInfo,
    obj: &Value,
    owners: &[String],
) -> Result<(), Status> {
    let present = all
        .iter()
        .any(|(_, o)| meta::meta_str(o, "uid").is_some_and(|u| owners.iter().any(|w| w == u)));
    if present {
        return Ok(());
    }
    // Written again since (a controller adopting it, or its status): decided on a fresh read.
    let deleted = retry_on_conflict(ctx, resource, obj, |current| {
        let named = owner_uids(current);
        let still_owned = !named.is_empty() && named.iter().all(|o| owners.iter().any(|w| w == o));
        if !still_owned || meta::is_deleting(current) {
            return Ok(());
        }
        delete_object(ctx, resource, current, &DeleteOptions::background()).map(drop)
    });
    match deleted {
        Err(e) if e.code != 404 => Err(e),
        _ => Ok(()),
    }
}

/// At start-up: deletes objects all of whose owners are gone (a crash between an owner's
/// deletion and its dependents'), and resumes foreground deletions.
pub fn sweep(ctx: &ApiContext) -> Result<(), Status> {
    let all = all_objects(ctx)?;
    let present: HashSet<&str> = all
        .iter()
        .filter_map(|(_, o)| meta::meta_str(o, "uid"))
        .collect();
    let mut orphaned_owners: HashSet<String> = HashSet::new();
    for (_, obj) in &all {
        let owners = owner_uids(obj);
        if !owners.is_empty() && owners.iter().all(|o| !present.contains(o)) {
            orphaned_owners.extend(owners.iter().map(|o| o.to_string()));
        }
        if meta::finalizers(obj)
            .iter()
            .any(|f| f == FOREGROUND_FINALIZER)
            && let Some(uid) = meta::meta_str(obj, "uid")
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
