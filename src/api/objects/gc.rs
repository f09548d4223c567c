//! Garbage collection by owner references: dependents of a deleted owner are deleted
//! (Background, Foreground) or released (Orphan), as Kubernetes' garbage collector does; and a
//! sweep at start-up that finishes what a crash interrupted.

use std::collections::HashSet;

use serde_json::Value;

use super::delete::{FOREGROUND_FINALIZER, delete_object};
use super::options::DeleteOptions;
use super::{ApiContext, blocking, key, store_error};
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

/// Removes the owner reference to `uid` from every dependent (Orphan propagation).
pub fn orphan(ctx: &ApiContext, uid: &str) -> Result<(), Status> {
    for (r, mut obj) in dependents(ctx, uid)? {
        let rv = meta::resource_version(&obj);
        let m = meta::metadata(&mut obj);
        if let Some(refs) = m.get_mut("ownerReferences").and_then(Value::as_array_mut) {
            refs.retain(|o| o.get("uid").and_then(Value::as_str) != Some(uid));
            if refs.is_empty() {
                m.remove("ownerReferences");
            }
        }
        let k = key(
            r,
            meta::meta_str(&obj, "namespace"),
            meta::meta_str(&obj, "name").unwrap_or_default(),
        );
        match blocking(|| ctx.store.update(&k, obj, rv)) {
            Ok(_) | Err(crate::store::StoreError::NotFound) => {}
            Err(e) => return Err(store_error(r, k.name.as_str(), e)),
        }
    }
    Ok(())
}

/// Deletes the dependents of `uid` whose owners are all gone, then, if the owner waits for them
/// (Foreground), releases it. Runs after the response, so it takes its own handle on the store.
pub fn collect_in_background(ctx: &ApiContext, uid: String) {
    let ctx = ctx.clone();
    tokio::spawn(async move {
        if let Err(e) = collect(&ctx, &uid) {
            tracing::warn!("garbage collection of the dependents of {uid} failed: {e}");
        }
    });
}

fn collect(ctx: &ApiContext, uid: &str) -> Result<(), Status> {
    let all = all_objects(ctx)?;
    let present: HashSet<&str> = all
        .iter()
        .filter_map(|(_, o)| meta::meta_str(o, "uid"))
        .collect();
    let background = DeleteOptions::background();
    for (r, obj) in &all {
        let owners = owner_uids(obj);
        if !owners.contains(&uid) {
            continue;
        }
        // An owner being deleted in the foreground still counts as gone for its dependents.
        let live_owner = owners.iter().any(|o| *o != uid && present.contains(o));
        if !live_owner && !meta::is_deleting(obj) {
            match delete_object(ctx, r, obj, &background) {
                Ok(_) => {}
                Err(e) if e.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
    }
    release_foreground_owner(ctx, &all, uid)
}

/// When a dependent is gone, its owners waiting for their dependents (Foreground) may be done.
pub fn release_owners_in_background(ctx: &ApiContext, deleted: &Value) {
    let owners: Vec<String> = owner_uids(deleted)
        .into_iter()
        .map(str::to_string)
        .collect();
    if owners.is_empty() {
        return;
    }
    let ctx = ctx.clone();
    tokio::spawn(async move {
        let result = all_objects(&ctx).and_then(|all| {
            owners
                .iter()
                .try_for_each(|uid| release_foreground_owner(&ctx, &all, uid))
        });
        if let Err(e) = result {
            tracing::warn!("releasing owners waiting for their dependents failed: {e}");
        }
    });
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
        || !dependents(ctx, uid)?.is_empty()
    {
        return Ok(());
    }
    let mut released = owner.clone();
    let rest: Vec<String> = meta::finalizers(owner)
        .into_iter()
        .filter(|f| f != FOREGROUND_FINALIZER)
        .collect();
    meta::metadata(&mut released).insert("finalizers".into(), serde_json::json!(rest));
    let k = key(
        r,
        meta::meta_str(owner, "namespace"),
        meta::meta_str(owner, "name").unwrap_or_default(),
    );
    if rest.is_empty() {
        blocking(|| ctx.store.delete(&k, meta::resource_version(owner)))
            .map_err(|e| store_error(r, &k.name, e))?;
    } else {
        blocking(|| {
            ctx.store
                .update(&k, released, meta::resource_version(owner))
        })
        .map_err(|e| store_error(r, &k.name, e))?;
    }
    Ok(())
}

/// After a write that names owners: if none of them exists, the object is garbage, as the real
/// garbage collector decides for a dependent whose owners are all absent.
pub fn check_owners_in_background(ctx: &ApiContext, resource: &'static ResourceInfo, obj: &Value) {
    let owners: Vec<String> = owner_uids(obj).into_iter().map(str::to_string).collect();
    if owners.is_empty() {
        return;
    }
    let (ctx, obj) = (ctx.clone(), obj.clone());
    tokio::spawn(async move {
        let result = all_objects(&ctx).and_then(|all| {
            let present = all.iter().any(|(_, o)| {
                meta::meta_str(o, "uid").is_some_and(|u| owners.iter().any(|w| w == u))
            });
            if present {
                return Ok(());
            }
            let background = DeleteOptions::background();
            match delete_object(&ctx, resource, &obj, &background) {
                Err(e) if e.code != 404 && e.code != 409 => Err(e),
                _ => Ok(()),
            }
        });
        if let Err(e) = result {
            tracing::warn!("collecting an object whose owners are gone failed: {e}");
        }
    });
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
