//! Storage: PersistentVolumeClaims backed by Docker volumes. The default StorageClass `local`
//! (provisioner [`PROVISIONER`]) exists from the first start; a claim of a class with that
//! provisioner gets a Docker volume named [`volume_name`] (the name pods mount), a
//! PersistentVolume `pvc-<claim uid>` pointing at the volume's mount point, and is Bound, as a
//! cluster's persistent volume controller and a dynamic provisioner bind and provision. Claims of
//! other classes stay Pending with an event saying why.
//!
//! Deleting a claim: the `kubernetes.io/pvc-protection` finalizer (added on create by the
//! claims translator) keeps it Terminating while a pod that has not finished uses it; then the
//! volume is released by its reclaim policy: `Delete` removes the PersistentVolume and the Docker
//! volume (retried when pods go away while a container still holds the volume), `Retain` marks
//! the PersistentVolume Released and keeps the volume and its data.
//!
//! Woken by store watches on claims, volumes, classes and pods (only pods that use a claim);
//! each wake-up reconciles every claim and volume and writes only what changed.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::{Value, json};

use crate::api::status::Status;
use crate::client::{Client, path};
use crate::controllers::events::{EventType, Recorder};
use crate::controllers::watches::{Wake, Wakeups};
use crate::engine::Engine;
use crate::store::EventKind;

/// The provisioner of k2d's storage classes.
pub const PROVISIONER: &str = "k2d.io/docker-volume";
/// The default StorageClass.
pub const DEFAULT_CLASS: &str = "local";
/// The annotation marking the default StorageClass.
pub const DEFAULT_CLASS_ANNOTATION: &str = "storageclass.kubernetes.io/is-default-class";
/// The finalizer that keeps a claim while a pod uses it.
pub const PROTECTION_FINALIZER: &str = "kubernetes.io/pvc-protection";
/// The finalizer that keeps a PersistentVolume while its claim exists.
pub const PV_PROTECTION_FINALIZER: &str = "kubernetes.io/pv-protection";
/// The PersistentVolume annotation naming the Docker volume behind it.
pub const VOLUME_ANNOTATION: &str = "k2d.io/docker-volume";
/// Docker volume label: the claim's uid.
pub const LABEL_PVC_UID: &str = "io.k2d.pvc.uid";
/// Docker volume label: the claim's namespace.
pub const LABEL_PVC_NAMESPACE: &str = "io.k2d.pvc.namespace";
/// Docker volume label: the claim's name.
pub const LABEL_PVC_NAME: &str = "io.k2d.pvc.name";

const STORAGE: &str = "storage.k8s.io/v1";

/// The Docker volume of a claim: what pods mount.
pub fn volume_name(namespace: &str, claim: &str) -> String {
    format!("k2d-pvc-{namespace}-{claim}")
}

/// The name of the PersistentVolume provisioned for a claim.
pub fn pv_name(claim_uid: &str) -> String {
    format!("pvc-{claim_uid}")
}

/// The default StorageClass `local`.
pub fn default_class() -> Value {
    json!({
        "apiVersion": STORAGE,
        "kind": "StorageClass",
        "metadata": {
            "name": DEFAULT_CLASS,
            "annotations": {DEFAULT_CLASS_ANNOTATION: "true"},
        },
        "provisioner": PROVISIONER,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
        "allowVolumeExpansion": false,
    })
}

/// The name of the default class among `classes`, if one is marked default (the newest wins,
/// as the DefaultStorageClass admission plugin picks it).
pub fn default_class_name(classes: &[Value]) -> Option<String> {
    classes
        .iter()
        .filter(|c| {
            c.pointer("/metadata/annotations")
                .and_then(|a| a.get(DEFAULT_CLASS_ANNOTATION))
                .and_then(Value::as_str)
                == Some("true")
        })
        .max_by_key(|c| {
            c.pointer("/metadata/creationTimestamp")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        })
        .and_then(|c| c.pointer("/metadata/name").and_then(Value::as_str))
        .map(str::to_string)
}

fn s<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p).and_then(Value::as_str).unwrap_or_default()
}

/// `true` when a pod that has not finished mounts the claim.
pub fn claim_in_use(namespace: &str, claim: &str, pods: &[Value]) -> bool {
    pods.iter().any(|p| {
        s(p, "/metadata/namespace") == namespace
            && !matches!(s(p, "/status/phase"), "Succeeded" | "Failed")
            && uses_claim(p, claim)
    })
}

fn uses_claim(pod: &Value, claim: &str) -> bool {
    pod.pointer("/spec/volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|v| {
            v.pointer("/persistentVolumeClaim/claimName")
                .and_then(Value::as_str)
                == Some(claim)
        })
}

fn mounts_any_claim(pod: &Value) -> bool {
    pod.pointer("/spec/volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|v| v.get("persistentVolumeClaim").is_some())
}

/// The PersistentVolume provisioned for `claim` of `class`, on the Docker volume `volume`
/// mounted at `mountpoint`.
pub fn persistent_volume(claim: &Value, class: &Value, volume: &str, mountpoint: &str) -> Value {
    let storage = claim
        .pointer("/spec/resources/requests/storage")
        .cloned()
        .unwrap_or_else(|| json!("0"));
    json!({
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": pv_name(s(claim, "/metadata/uid")),
            "annotations": {
                "pv.kubernetes.io/provisioned-by": PROVISIONER,
                VOLUME_ANNOTATION: volume,
            },
            "finalizers": [PV_PROTECTION_FINALIZER],
        },
        "spec": {
            "capacity": {"storage": storage},
            "accessModes": claim.pointer("/spec/accessModes").cloned().unwrap_or_else(|| json!(["ReadWriteOnce"])),
            "persistentVolumeReclaimPolicy": class.get("reclaimPolicy").and_then(Value::as_str).unwrap_or("Delete"),
            "storageClassName": s(class, "/metadata/name"),
            "volumeMode": claim.pointer("/spec/volumeMode").and_then(Value::as_str).unwrap_or("Filesystem"),
            "hostPath": {"path": mountpoint, "type": ""},
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": s(claim, "/metadata/namespace"),
                "name": s(claim, "/metadata/name"),
                "uid": s(claim, "/metadata/uid"),
                "resourceVersion": s(claim, "/metadata/resourceVersion"),
            },
        },
    })
}

/// The status of a claim bound to `pv`.
pub fn bound_status(pv: &Value) -> Value {
    json!({
        "phase": "Bound",
        "accessModes": pv.pointer("/spec/accessModes"),
        "capacity": pv.pointer("/spec/capacity"),
    })
}

/// What is known of everything storage touches, read once per wake-up.
struct World {
    classes: Vec<Value>,
    claims: Vec<Value>,
    volumes: Vec<Value>,
    pods: Vec<Value>,
}

struct Controller {
    client: Client,
    engine: Option<Arc<Engine>>,
    recorder: Recorder,
    /// Events already recorded: (object uid, reason). A reason is told once per object.
    told: HashSet<(String, String)>,
    /// The engine did not answer during the last reconcile: reconcile again once it does.
    engine_down: bool,
}

impl Controller {
    async fn tell(&mut self, obj: &Value, kind: EventType, reason: &str, message: &str) {
        let key = (s(obj, "/metadata/uid").to_string(), reason.to_string());
        if self.told.insert(key) {
            self.recorder.record(obj, None, kind, reason, message).await;
        }
    }

    async fn read(&self) -> Result<World, Status> {
        let c = &self.client;
        Ok(World {
            classes: c
                .list(&path(STORAGE, "storageclasses", None, None, None), None)
                .await?,
            claims: c
                .list(
                    &path("v1", "persistentvolumeclaims", None, None, None),
                    None,
                )
                .await?,
            volumes: c
                .list(&path("v1", "persistentvolumes", None, None, None), None)
                .await?,
            pods: c.list(&path("v1", "pods", None, None, None), None).await?,
        })
    }

    /// The Status of an engine error, noting when the engine is unreachable.
    fn engine_error(&mut self, e: &bollard::errors::Error) -> Status {
        let status = crate::engine::status(e);
        if status.code == 503 {
            self.engine_down = true;
        }
        status
    }

    async fn reconcile(&mut self) {
        self.engine_down = false;
        let world = match self.read().await {
            Ok(w) => w,
            Err(e) => return tracing::warn!("storage: reading claims and volumes: {e}"),
        };
        for claim in &world.claims {
            if let Err(e) = self.claim(claim, &world).await {
                tracing::warn!(
                    "storage: claim {}/{}: {e}",
                    s(claim, "/metadata/namespace"),
                    s(claim, "/metadata/name")
                );
            }
        }
        for pv in &world.volumes {
            if let Err(e) = self.volume(pv, &world).await {
                tracing::warn!("storage: volume {}: {e}", s(pv, "/metadata/name"));
            }
        }
    }

    async fn claim(&mut self, claim: &Value, world: &World) -> Result<(), Status> {
        let ns = s(claim, "/metadata/namespace");
        let name = s(claim, "/metadata/name");
        let claim_path = path("v1", "persistentvolumeclaims", Some(ns), Some(name), None);
        if claim.pointer("/metadata/deletionTimestamp").is_some() {
            let finalizers: Vec<Value> = claim
                .pointer("/metadata/finalizers")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if finalizers.iter().any(|f| f == PROTECTION_FINALIZER)
                && !claim_in_use(ns, name, &world.pods)
            {
                let rest: Vec<Value> = finalizers
                    .into_iter()
                    .filter(|f| f != PROTECTION_FINALIZER)
                    .collect();
                self.client
                    .merge_patch(
                        &claim_path,
                        &json!({"metadata": {"finalizers": rest, "resourceVersion": s(claim, "/metadata/resourceVersion")}}),
                    )
                    .await?;
            }
            return Ok(());
        }
        // Claims created without the admission defaults (a server-side apply that created
        // one): the protection finalizer, as the pvc-protection controller adds it, and the
        // default class, as the binder assigns it retroactively.
        let mut completed = claim.clone();
        let default = default_class_name(&world.classes);
        crate::translators::persistentvolumeclaims::complete(&mut completed, default.as_deref());
        if completed["metadata"]["finalizers"] != claim["metadata"]["finalizers"]
            || completed["spec"]["storageClassName"] != claim["spec"]["storageClassName"]
        {
            let mut patch = json!({"metadata": {
                "finalizers": completed["metadata"]["finalizers"],
                "resourceVersion": s(claim, "/metadata/resourceVersion"),
            }});
            if !completed["spec"]["storageClassName"].is_null() {
                patch["spec"] = json!({"storageClassName": completed["spec"]["storageClassName"]});
            }
            self.client.merge_patch(&claim_path, &patch).await?;
            return Ok(()); // the write wakes the controller again
        }
        let bound_to = s(claim, "/spec/volumeName");
        if !bound_to.is_empty() {
            // Bound (or bound by hand to a volume): keep the status saying so; a Bound claim
            // whose volume was deleted is Lost, as the binder marks it.
            let status_path = format!("{claim_path}/status");
            let phase = s(claim, "/status/phase");
            match world
                .volumes
                .iter()
                .find(|v| s(v, "/metadata/name") == bound_to)
            {
                Some(pv) if phase != "Bound" => {
                    self.client
                        .merge_patch(&status_path, &json!({"status": bound_status(pv)}))
                        .await?;
                }
                None if phase == "Bound" => {
                    self.client
                        .merge_patch(&status_path, &json!({"status": {"phase": "Lost"}}))
                        .await?;
                    self.tell(
                        claim,
                        EventType::Warning,
                        "ClaimLost",
                        "Bound claim has lost its PersistentVolume. Data on the volume is lost!",
                    )
                    .await;
                }
                _ => {}
            }
            return Ok(());
        }
        let class_name = s(claim, "/spec/storageClassName");
        if class_name.is_empty() {
            return self
                .pending(
                    claim,
                    EventType::Normal,
                    "FailedBinding",
                    "no persistent volumes available for this claim and no storage class is set",
                )
                .await;
        }
        let Some(class) = world
            .classes
            .iter()
            .find(|c| s(c, "/metadata/name") == class_name)
        else {
            let message = format!("storageclass.storage.k8s.io \"{class_name}\" not found");
            return self
                .pending(claim, EventType::Warning, "ProvisioningFailed", &message)
                .await;
        };
        let provisioner = s(class, "/provisioner");
        if provisioner != PROVISIONER {
            let message = format!(
                "Waiting for a volume to be created either by the external provisioner '{provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered."
            );
            return self
                .pending(claim, EventType::Normal, "ExternalProvisioning", &message)
                .await;
        }
        let Some(engine) = self.engine.clone() else {
            return self
                .pending(
                    claim,
                    EventType::Warning,
                    "ProvisioningFailed",
                    "k2d runs without a container engine: no volume can be created",
                )
                .await;
        };
        self.provision(claim, class, &engine).await
    }

    /// Leaves a claim Pending, saying why once.
    async fn pending(
        &mut self,
        claim: &Value,
        kind: EventType,
        reason: &str,
        message: &str,
    ) -> Result<(), Status> {
        if s(claim, "/status/phase") != "Pending" {
            let p = path(
                "v1",
                "persistentvolumeclaims",
                Some(s(claim, "/metadata/namespace")),
                Some(s(claim, "/metadata/name")),
                Some("status"),
            );
            self.client
                .merge_patch(&p, &json!({"status": {"phase": "Pending"}}))
                .await?;
        }
        self.tell(claim, kind, reason, message).await;
        Ok(())
    }

    async fn provision(
        &mut self,
        claim: &Value,
        class: &Value,
        engine: &Engine,
    ) -> Result<(), Status> {
        let ns = s(claim, "/metadata/namespace");
        let name = s(claim, "/metadata/name");
        let uid = s(claim, "/metadata/uid");
        let volume = volume_name(ns, name);
        let labels = HashMap::from([
            (
                crate::engine::labels::INSTANCE.to_string(),
                engine.instance.clone(),
            ),
            (LABEL_PVC_UID.to_string(), uid.to_string()),
            (LABEL_PVC_NAMESPACE.to_string(), ns.to_string()),
            (LABEL_PVC_NAME.to_string(), name.to_string()),
        ]);
        // Creating a volume that exists returns it unchanged: provisioning again after a
        // restart (or for a claim re-created after a Retain) finds the same data.
        let created = engine
            .docker()
            .create_volume(bollard::models::VolumeCreateRequest {
                name: Some(volume.clone()),
                driver: Some("local".into()),
                labels: Some(labels),
                ..Default::default()
            })
            .await;
        let docker_volume = match created {
            Ok(v) => v,
            Err(e) => {
                let status = self.engine_error(&e);
                self.tell(
                    claim,
                    EventType::Warning,
                    "ProvisioningFailed",
                    &format!("creating the Docker volume {volume}: {}", status.message),
                )
                .await;
                return Err(status);
            }
        };
        // `k2d-pvc-a-b-c` is both claim `b-c` of namespace `a` and claim `c` of `a-b`: a volume
        // made for another claim is never handed over.
        let label = |k: &str| docker_volume.labels.get(k).map(String::as_str);
        if let (Some(owner_ns), Some(owner)) = (label(LABEL_PVC_NAMESPACE), label(LABEL_PVC_NAME))
            && (owner_ns, owner) != (ns, name)
        {
            let message = format!(
                "the Docker volume {volume} belongs to claim {owner_ns}/{owner}; rename this claim"
            );
            self.tell(claim, EventType::Warning, "ProvisioningFailed", &message)
                .await;
            return Ok(());
        }
        let pv = persistent_volume(claim, class, &volume, &docker_volume.mountpoint);
        let pv_name = pv_name(uid);
        let pv_path = path("v1", "persistentvolumes", None, Some(&pv_name), None);
        let stored_pv = match self.client.get(&pv_path).await? {
            Some(existing) => existing,
            None => {
                self.client
                    .create(&path("v1", "persistentvolumes", None, None, None), &pv)
                    .await?
            }
        };
        if s(&stored_pv, "/status/phase") != "Bound" {
            self.client
                .merge_patch(
                    &format!("{pv_path}/status"),
                    &json!({"status": {"phase": "Bound"}}),
                )
                .await?;
        }
        let claim_path = path("v1", "persistentvolumeclaims", Some(ns), Some(name), None);
        self.client
            .merge_patch(
                &claim_path,
                &json!({
                    "metadata": {"annotations": {
                        "pv.kubernetes.io/bind-completed": "yes",
                        "pv.kubernetes.io/bound-by-controller": "yes",
                        "volume.kubernetes.io/storage-provisioner": PROVISIONER,
                        "volume.beta.kubernetes.io/storage-provisioner": PROVISIONER,
                    }},
                    "spec": {"volumeName": pv_name},
                }),
            )
            .await?;
        self.client
            .merge_patch(
                &format!("{claim_path}/status"),
                &json!({"status": bound_status(&stored_pv)}),
            )
            .await?;
        self.tell(
            claim,
            EventType::Normal,
            "ProvisioningSucceeded",
            &format!("Successfully provisioned volume {pv_name} (Docker volume {volume})"),
        )
        .await;
        Ok(())
    }

    /// Releases a volume whose claim is gone, by its reclaim policy.
    async fn volume(&mut self, pv: &Value, world: &World) -> Result<(), Status> {
        let Some(claim_ref) = pv.pointer("/spec/claimRef") else {
            return Ok(());
        };
        let claim_exists = world.claims.iter().any(|c| {
            s(c, "/metadata/namespace") == s(claim_ref, "/namespace")
                && s(c, "/metadata/name") == s(claim_ref, "/name")
                && s(c, "/metadata/uid") == s(claim_ref, "/uid")
        });
        // A volume whose claim exists stays, even when deleted (Terminating until the claim
        // goes, as the pv-protection finalizer keeps it).
        if claim_exists {
            return Ok(());
        }
        let deleting = pv.pointer("/metadata/deletionTimestamp").is_some();
        let name = s(pv, "/metadata/name");
        let pv_path = path("v1", "persistentvolumes", None, Some(name), None);
        match s(pv, "/spec/persistentVolumeReclaimPolicy") {
            "Delete"
                if s(pv, "/metadata/annotations/pv.kubernetes.io~1provisioned-by")
                    == PROVISIONER =>
            {
                let volume = s(pv, "/metadata/annotations/k2d.io~1docker-volume");
                // A claim of the same name made since then mounts the same Docker volume: the
                // data is its now, only the old PersistentVolume goes.
                let reused = world.claims.iter().any(|c| {
                    volume_name(s(c, "/metadata/namespace"), s(c, "/metadata/name")) == volume
                });
                if !volume.is_empty() && !reused && !self.remove_docker_volume(pv, volume).await? {
                    return Ok(());
                }
                if deleting {
                    self.release_finalizer(pv, &pv_path).await?;
                } else {
                    self.client.delete(&pv_path, &json!({})).await?;
                }
            }
            _ if deleting => self.release_finalizer(pv, &pv_path).await?,
            _ => {
                if s(pv, "/status/phase") != "Released" {
                    self.client
                        .merge_patch(
                            &format!("{pv_path}/status"),
                            &json!({"status": {"phase": "Released"}}),
                        )
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Lets a deleted PersistentVolume go: removes the pv-protection finalizer.
    async fn release_finalizer(&self, pv: &Value, pv_path: &str) -> Result<(), Status> {
        let finalizers: Vec<Value> = pv
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if !finalizers.iter().any(|f| f == PV_PROTECTION_FINALIZER) {
            return Ok(());
        }
        let rest: Vec<Value> = finalizers
            .into_iter()
            .filter(|f| f != PV_PROTECTION_FINALIZER)
            .collect();
        self.client
            .merge_patch(
                pv_path,
                &json!({"metadata": {"finalizers": rest, "resourceVersion": s(pv, "/metadata/resourceVersion")}}),
            )
            .await?;
        Ok(())
    }

    /// Removes the Docker volume of a released PersistentVolume if k2d made it for a claim:
    /// `false` while a container still holds it (the volume is marked Failed and tried again
    /// when pods change).
    async fn remove_docker_volume(&mut self, pv: &Value, volume: &str) -> Result<bool, Status> {
        let Some(engine) = self.engine.clone() else {
            return Ok(true);
        };
        let docker = engine.docker();
        match docker.inspect_volume(volume).await {
            Ok(v) if v.labels.contains_key(LABEL_PVC_UID) => {}
            Ok(_) => return Ok(true), // not made by k2d: left alone
            Err(e) if crate::engine::status(&e).code == 404 => return Ok(true),
            Err(e) => return Err(self.engine_error(&e)),
        }
        match docker
            .remove_volume(
                volume,
                None::<bollard::query_parameters::RemoveVolumeOptions>,
            )
            .await
        {
            Ok(()) => Ok(true),
            Err(e) => {
                let status = self.engine_error(&e);
                if status.code == 404 {
                    return Ok(true);
                }
                if status.code != 409 {
                    return Err(status);
                }
                let message = format!(
                    "the Docker volume {volume} is still used by a container; it is removed once that container is gone"
                );
                if s(pv, "/status/phase") != "Failed" {
                    let pv_path = path(
                        "v1",
                        "persistentvolumes",
                        None,
                        Some(s(pv, "/metadata/name")),
                        Some("status"),
                    );
                    self.client
                        .merge_patch(
                            &pv_path,
                            &json!({"status": {"phase": "Failed", "message": message}}),
                        )
                        .await?;
                }
                self.tell(pv, EventType::Warning, "VolumeFailedDelete", &message)
                    .await;
                Ok(false)
            }
        }
    }
}

/// Creates the default StorageClass if no class named `local` exists.
pub async fn ensure_default_class(client: &Client) -> Result<(), Status> {
    let p = path(STORAGE, "storageclasses", None, Some(DEFAULT_CLASS), None);
    if client.get(&p).await?.is_none() {
        match client
            .create(
                &path(STORAGE, "storageclasses", None, None, None),
                &default_class(),
            )
            .await
        {
            Ok(_) => {}
            Err(e) if e.code == 409 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Starts storage: the default class, then the claims controller.
pub fn start(client: Client) {
    tokio::spawn(async move {
        let ctx = client.ctx().clone();
        let wakeups = Wakeups::open(
            ctx.store.clone(),
            &[
                ("", "persistentvolumeclaims"),
                ("", "persistentvolumes"),
                ("storage.k8s.io", "storageclasses"),
                ("", "pods"),
            ],
        );
        let mut wakeups = match wakeups {
            Ok(w) => w,
            Err(e) => return tracing::warn!("the storage controller cannot watch: {e}"),
        };
        if let Err(e) = ensure_default_class(&client).await {
            tracing::warn!("creating the default StorageClass: {e}");
        }
        if let Some(engine) = &ctx.engine {
            engine.wait_ready(std::time::Duration::from_secs(5)).await;
        }
        let host = crate::controllers::node::node_name();
        let mut controller = Controller {
            recorder: Recorder::new(client.clone(), "persistentvolume-controller", &host),
            client,
            engine: ctx.engine.clone(),
            told: HashSet::new(),
            engine_down: false,
        };
        controller.reconcile().await;
        loop {
            // While the engine is away, its return is a wake-up too (claims waiting for a
            // volume, volumes waiting for removal).
            let engine = controller.engine.clone().filter(|_| controller.engine_down);
            let wake = match engine {
                Some(engine) => tokio::select! {
                    wake = wakeups.next() => wake,
                    () = engine.wait_ready(std::time::Duration::from_secs(30)) => Some(Wake::Resync),
                },
                None => wakeups.next().await,
            };
            let Some(wake) = wake else { break };
            let relevant = match &wake {
                Wake::Resync => true,
                Wake::Changes(events) => events.iter().any(|e| {
                    e.key.resource != "pods"
                        || mounts_any_claim(&e.object)
                            && (e.kind == EventKind::Deleted
                                || e.object.pointer("/metadata/deletionTimestamp").is_some()
                                || matches!(s(&e.object, "/status/phase"), "Succeeded" | "Failed"))
                }),
            };
            if relevant {
                controller.reconcile().await;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim() -> Value {
        json!({
            "metadata": {"name": "data", "namespace": "ns", "uid": "u1", "resourceVersion": "7"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
        })
    }

    #[test]
    fn names_follow_the_claim() {
        assert_eq!(volume_name("ns", "data"), "k2d-pvc-ns-data");
        assert_eq!(pv_name("u1"), "pvc-u1");
    }

    #[test]
    fn provisioned_volume_mirrors_claim_and_class() {
        let mut class = default_class();
        class["reclaimPolicy"] = json!("Retain");
        let pv = persistent_volume(
            &claim(),
            &class,
            "k2d-pvc-ns-data",
            "/var/lib/docker/volumes/x/_data",
        );
        assert_eq!(pv["metadata"]["name"], "pvc-u1");
        assert_eq!(pv["spec"]["capacity"]["storage"], "1Gi");
        assert_eq!(pv["spec"]["accessModes"], json!(["ReadWriteOnce"]));
        assert_eq!(pv["spec"]["persistentVolumeReclaimPolicy"], "Retain");
        assert_eq!(pv["spec"]["storageClassName"], "local");
        assert_eq!(pv["spec"]["claimRef"]["uid"], "u1");
        assert_eq!(
            pv["spec"]["hostPath"]["path"],
            "/var/lib/docker/volumes/x/_data"
        );
        assert_eq!(
            pv["metadata"]["annotations"][VOLUME_ANNOTATION],
            "k2d-pvc-ns-data"
        );
        let st = bound_status(&pv);
        assert_eq!(st["phase"], "Bound");
        assert_eq!(st["capacity"]["storage"], "1Gi");
    }

    #[test]
    fn only_unfinished_pods_of_the_namespace_hold_a_claim() {
        let pod = |ns: &str, phase: &str, claim: &str| {
            json!({
                "metadata": {"namespace": ns},
                "spec": {"volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": claim}}]},
                "status": {"phase": phase},
            })
        };
        assert!(claim_in_use("ns", "data", &[pod("ns", "Running", "data")]));
        assert!(claim_in_use("ns", "data", &[pod("ns", "Pending", "data")]));
        assert!(!claim_in_use(
            "ns",
            "data",
            &[pod("ns", "Succeeded", "data")]
        ));
        assert!(!claim_in_use(
            "ns",
            "data",
            &[pod("other", "Running", "data")]
        ));
        assert!(!claim_in_use("ns", "data", &[pod("ns", "Running", "logs")]));
    }

    #[test]
    fn the_newest_default_class_is_the_default() {
        let mut a = default_class();
        a["metadata"]["creationTimestamp"] = json!("2026-01-01T00:00:00Z");
        let mut b = default_class();
        b["metadata"]["name"] = json!("fast");
        b["metadata"]["creationTimestamp"] = json!("2026-02-01T00:00:00Z");
        let mut c = default_class();
        c["metadata"]["name"] = json!("plain");
        c["metadata"]["annotations"] = json!({});
        assert_eq!(
            default_class_name(&[a.clone(), b, c.clone()]).as_deref(),
            Some("fast")
        );
        assert_eq!(default_class_name(&[c]), None);
        assert_eq!(default_class_name(&[a]).as_deref(), Some("local"));
    }
}
