//! ControllerRevisions: the pod-template history of StatefulSets and DaemonSets, as `apps/v1`
//! ControllerRevision objects (what `kubectl rollout history` and `kubectl rollout undo` read).
//! Each revision is named `<owner>-<hash>` (the template hash of [`super::template_hash`] with
//! the owner's `collisionCount`), is controlled by its owner, carries its template's labels
//! plus `controller-revision-hash`, and holds in `data` the patch that brings the owner
//! back to that template: `{"spec": {"template": {..., "$patch": "replace"}}}`. A template equal
//! to an older revision's reuses it with the next revision number, so an undo does not grow the
//! history.

use serde_json::{Value, json};

use super::ownership;
use super::template_hash::template_hash;
use crate::api::meta;
use crate::api::selector::LabelSelector;
use crate::api::status::Status;
use crate::client::{Client, object_path, path};

/// The label holding a pod's (or revision's) revision hash.
pub const REVISION_LABEL: &str = "controller-revision-hash";

/// How many old revisions are kept when `revisionHistoryLimit` is not set.
const DEFAULT_HISTORY_LIMIT: usize = 10;

/// The revisions of one owner: the one holding its current template and all of them.
pub struct History {
    /// The revision holding the owner's template now (the update revision).
    pub update: Value,
    /// Every revision the owner controls, the update revision included, oldest number first.
    pub all: Vec<Value>,
}

impl History {
    /// The revision named `name`, if the owner has it.
    pub fn named(&self, name: &str) -> Option<&Value> {
        self.all
            .iter()
            .find(|r| meta::meta_str(r, "name") == Some(name))
    }
}

/// The `data` of a revision holding `template`.
pub fn data_for(template: &Value) -> Value {
    let mut t = template.clone();
    if let Some(m) = t.as_object_mut() {
        m.insert("$patch".into(), json!("replace"));
    }
    json!({"spec": {"template": t}})
}

/// The pod template a revision holds.
pub fn template_of(revision: &Value) -> Option<Value> {
    let mut t = revision.pointer("/data/spec/template")?.clone();
    t.as_object_mut()?.remove("$patch");
    Some(t)
}

/// The revision number of a revision.
pub fn number(revision: &Value) -> i64 {
    revision
        .get("revision")
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

/// The hash part of a revision's name (its `controller-revision-hash` label).
pub fn hash_of(revision: &Value) -> &str {
    revision
        .pointer("/metadata/labels")
        .and_then(|l| l.get(REVISION_LABEL))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The owner's revisions, after making sure one holds its current template. `Err` with 409
/// when a revision of the hashed name holds another template: the caller bumps
/// `status.collisionCount` (see [`collided`]) and tries again.
pub async fn sync(
    client: &Client,
    owner: &Value,
    selector: &LabelSelector,
) -> Result<History, Status> {
    let ns = meta::meta_str(owner, "namespace").unwrap_or("default");
    let name = meta::meta_str(owner, "name").unwrap_or_default();
    let candidates = client
        .list(
            &path("apps/v1", "controllerrevisions", Some(ns), None, None),
            None,
        )
        .await?;
    let mut all =
        ownership::claim(client, "controllerrevisions", candidates, owner, selector).await?;
    all.sort_by_key(number);
    let template = owner
        .pointer("/spec/template")
        .cloned()
        .unwrap_or(json!({}));
    let data = data_for(&template);
    let latest = all.last().map(number).unwrap_or(0);
    if let Some(i) = all.iter().position(|r| r.get("data") == Some(&data)) {
        if number(&all[i]) < latest {
            // Back to an older template (an undo): it becomes the newest revision again.
            let patch = json!({"revision": latest + 1});
            all[i] = client
                .merge_patch(&object_path("controllerrevisions", &all[i], None), &patch)
                .await?;
            all.sort_by_key(number);
        }
        let update = all
            .iter()
            .find(|r| r.get("data") == Some(&data))
            .cloned()
            .expect("found above");
        return Ok(History { update, all });
    }
    let collisions = owner
        .pointer("/status/collisionCount")
        .and_then(Value::as_u64)
        .map(|c| c as u32);
    let hash = template_hash(&template, collisions);
    // The template's labels, which the owner's selector matches (as kubectl's history lookup
    // needs), however the selector is written.
    let mut labels = template
        .pointer("/metadata/labels")
        .cloned()
        .unwrap_or(json!({}));
    labels[REVISION_LABEL] = json!(hash);
    let revision = json!({
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {
            "name": format!("{name}-{hash}"),
            "namespace": ns,
            "labels": labels,
            "ownerReferences": [ownership::reference_to(owner)],
        },
        "data": data,
        "revision": latest + 1,
    });
    let created = client
        .create(
            &path("apps/v1", "controllerrevisions", Some(ns), None, None),
            &revision,
        )
        .await?;
    all.push(created.clone());
    Ok(History {
        update: created,
        all,
    })
}

/// `status.collisionCount` after a collision: one more.
pub fn collided(owner: &Value) -> u64 {
    owner
        .pointer("/status/collisionCount")
        .and_then(Value::as_u64)
        .unwrap_or(0)
        + 1
}

/// Deletes the oldest revisions beyond `spec.revisionHistoryLimit` (default 10) that are not
/// `live` (named by the owner's status or by a revision label of one of its pods).
pub async fn prune(
    client: &Client,
    owner: &Value,
    history: &History,
    live: &[&str],
) -> Result<(), Status> {
    let limit = owner
        .pointer("/spec/revisionHistoryLimit")
        .and_then(Value::as_u64)
        .map_or(DEFAULT_HISTORY_LIMIT, |l| l as usize);
    let old: Vec<&Value> = history
        .all
        .iter()
        .filter(|r| {
            let name = meta::meta_str(r, "name").unwrap_or_default();
            !live.contains(&name) && !live.contains(&hash_of(r))
        })
        .collect();
    for r in old.iter().take(old.len().saturating_sub(limit)) {
        let options = json!({"preconditions": {"uid": meta::meta_str(r, "uid")}});
        match client
            .delete(&object_path("controllerrevisions", r, None), &options)
            .await
        {
            Ok(_) => {}
            Err(e) if e.code == 404 || e.code == 409 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_round_trips_the_template() {
        let t = json!({"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "c", "image": "a"}]}});
        let d = data_for(&t);
        assert_eq!(d["spec"]["template"]["$patch"], "replace");
        let r = json!({"data": d, "revision": 3, "metadata": {"labels": {REVISION_LABEL: "abc"}}});
        assert_eq!(template_of(&r), Some(t));
        assert_eq!(number(&r), 3);
        assert_eq!(hash_of(&r), "abc");
        assert_eq!(collided(&json!({"status": {"collisionCount": 2}})), 3);
        assert_eq!(collided(&json!({})), 1);
    }
}
