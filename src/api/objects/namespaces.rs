//! Namespaces as the rest of the API needs them: the four a cluster starts with, the check that a
//! namespace exists and is not terminating before anything is created in it, and the purge of a
//! deleted namespace's contents.

use serde_json::{Value, json};

use super::options::DeleteOptions;
use super::{ApiContext, blocking, delete, key, store_error};
use crate::api::meta;
use crate::api::model::ResourceInfo;
use crate::api::status::{Status, StatusCause, StatusDetails};
use crate::generated::RESOURCES;
use crate::store::StoreError;

/// The namespaces every cluster has from the start.
pub const DEFAULT_NAMESPACES: &[&str] =
    &["default", "kube-system", "kube-public", "kube-node-lease"];

/// The namespaces resource.
pub fn resource() -> &'static ResourceInfo {
    crate::generated::resource("", "namespaces").expect("spec/ serves namespaces")
}

/// A namespace object as the API server completes it: phase Active, the `kubernetes` finalizer,
/// the `kubernetes.io/metadata.name` label.
pub fn complete(ns: &mut Value) {
    let name = meta::meta_str(ns, "name").unwrap_or_default().to_string();
    let m = meta::metadata(ns);
    let labels = m.entry("labels").or_insert_with(|| json!({}));
    if let Some(l) = labels.as_object_mut() {
        l.insert("kubernetes.io/metadata.name".into(), json!(name));
    }
    ns["spec"] = json!({"finalizers": ["kubernetes"]});
    if ns.pointer("/status/phase").is_none() {
        ns["status"] = json!({"phase": "Active"});
    }
}

/// Creates the default namespaces that are missing.
pub fn ensure_defaults(ctx: &ApiContext) -> Result<(), Status> {
    let r = resource();
    for name in DEFAULT_NAMESPACES {
        let k = key(r, None, name);
        if blocking(|| ctx.store.get(&k))
            .map_err(|e| store_error(r, name, e))?
            .is_some()
        {
            continue;
        }
        let mut ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        meta::prepare_create(&mut ns, true, false);
        complete(&mut ns);
        match blocking(|| ctx.store.create(&k, ns)) {
            Ok(_) | Err(StoreError::AlreadyExists) => {}
            Err(e) => return Err(store_error(r, name, e)),
        }
    }
    Ok(())
}

/// Refuses to create `name` of `creating` in a namespace that does not exist or is being
/// deleted, as the real server's admission does.
pub fn check_open(
    ctx: &ApiContext,
    creating: &ResourceInfo,
    name: &str,
    namespace: &str,
) -> Result<(), Status> {
    let r = resource();
    let k = key(r, None, namespace);
    match blocking(|| ctx.store.get(&k)).map_err(|e| store_error(r, namespace, e))? {
        None => Err(Status::not_found("", "namespaces", namespace)),
        Some(ns) if meta::is_deleting(&ns) => {
            let why = format!(
                "unable to create new content in namespace {namespace} because it is being terminated"
            );
            Err(Status::new(
                403,
                "Forbidden",
                format!(
                    "{} \"{name}\" is forbidden: {why}",
                    creating.qualified_name()
                ),
            )
            .with_details(StatusDetails {
                name: name.into(),
                group: creating.group.into(),
                kind: creating.name.into(),
                causes: vec![StatusCause {
                    reason: "NamespaceTerminating".into(),
                    message: format!("namespace {namespace} is being terminated"),
                    field: "metadata.namespace".into(),
                }],
                ..Default::default()
            }))
        }
        Some(_) => Ok(()),
    }
}

/// Marks a namespace Terminating and removes everything in it in the background; the namespace
/// itself goes when it is empty.
pub fn delete(ctx: &ApiContext, ns: &Value) -> Result<Value, Status> {
    let r = resource();
    let name = meta::meta_str(ns, "name").unwrap_or_default().to_string();
    let mut marked = ns.clone();
    if !meta::is_deleting(ns) {
        let m = meta::metadata(&mut marked);
        m.insert("deletionTimestamp".into(), json!(meta::now()));
        m.insert("deletionGracePeriodSeconds".into(), json!(0));
        marked["status"] = json!({"phase": "Terminating"});
        let k = key(r, None, &name);
        marked = blocking(|| ctx.store.update(&k, marked, meta::resource_version(ns)))
            .map_err(|e| store_error(r, &name, e))?;
    }
    purge_in_background(ctx, name);
    Ok(marked)
}

/// Removes the contents of a terminating namespace, then the namespace once nothing is left.
/// Objects held by finalizers keep it Terminating; every change in the namespace re-checks.
pub fn purge_in_background(ctx: &ApiContext, namespace: String) {
    let ctx = ctx.clone();
    tokio::spawn(async move {
        if let Err(e) = purge(&ctx, &namespace).await {
            tracing::warn!("removing namespace {namespace} failed: {e}");
        }
    });
}

async fn purge(ctx: &ApiContext, namespace: &str) -> Result<(), Status> {
    let opts = DeleteOptions::background();
    loop {
        // Subscribe before looking, so that no change between the look and the wait is missed.
        let mut changes = Vec::new();
        for r in RESOURCES.iter().filter(|r| r.namespaced) {
            changes.push(
                ctx.store
                    .watch(r.group, r.name, Some(namespace), None)
                    .map_err(|e| store_error(r, "", e))?,
            );
        }
        let mut remaining = 0;
        for r in RESOURCES.iter().filter(|r| r.namespaced) {
            let (items, _) = blocking(|| ctx.store.list(r.group, r.name, Some(namespace)))
                .map_err(|e| store_error(r, "", e))?;
            for obj in items {
                remaining += 1;
                if !meta::is_deleting(&obj) {
                    match delete::delete_object(ctx, r, &obj, &opts) {
                        Ok(delete::Outcome::Deleted(_)) => remaining -= 1,
                        Ok(delete::Outcome::Marked(_)) => {}
                        Err(e) if e.code == 404 => remaining -= 1,
                        // Changed since the list (a controller wrote its status): that change
                        // is an event on `changes`, and the next look deletes it.
                        Err(e) if e.code == 409 => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        if remaining == 0 {
            let r = resource();
            let k = key(r, None, namespace);
            return match blocking(|| ctx.store.delete(&k, None)) {
                Ok(_) | Err(StoreError::NotFound) => Ok(()),
                Err(e) => Err(store_error(r, namespace, e)),
            };
        }
        // Something is held by a finalizer: wait for the next change before looking again.
        let next = futures_util::future::select_all(changes.iter_mut().map(|w| Box::pin(w.recv())));
        next.await;
    }
}

/// At start-up: resumes the purge of namespaces that were terminating when k2d stopped.
pub fn resume(ctx: &ApiContext) -> Result<(), Status> {
    let r = resource();
    let (items, _) =
        blocking(|| ctx.store.list(r.group, r.name, None)).map_err(|e| store_error(r, "", e))?;
    for ns in items.iter().filter(|ns| meta::is_deleting(ns)) {
        purge_in_background(
            ctx,
            meta::meta_str(ns, "name").unwrap_or_default().to_string(),
        );
    }
    Ok(())
}
