//! A container's volumeMounts as engine mounts: bind mounts of the pod's volume directories
//! and hostPaths (with subPath/subPathExpr, readOnly, mountPropagation), named volumes for
//! persistentVolumeClaims and generic ephemeral volumes, shared tmpfs volumes for emptyDir
//! with medium Memory, and devices for CharDevice/BlockDevice hostPaths (usable without
//! privileged). Volume kinds without meaning on one Docker host are named in warnings.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use bollard::models::{
    DeviceMapping, HostConfig, Mount, MountBindOptions, MountBindOptionsPropagationEnum, MountType,
    MountVolumeOptions, MountVolumeOptionsDriverConfig,
};
use serde_json::Value;

use super::expand::expand_with;
use super::quantity::Quantity;
use super::volumes::{self, checked_path};
use super::{ContainerInput, flag, list_at, str_at};
use crate::engine::labels;

/// The engine volume of a persistentVolumeClaim: `k2d-pvc-<namespace>-<claim>`.
pub fn claim_volume(namespace: &str, claim: &str) -> String {
    format!("k2d-pvc-{namespace}-{claim}")
}

/// The engine volume of an emptyDir with medium Memory: `k2d-emptydir-<pod uid>-<volume>`,
/// a tmpfs the pod's containers share; the runtime removes it with the pod (found by this
/// name: Docker labels it with the pod's uid, Podman 4.x drops the label).
pub fn memory_volume(pod_uid: &str, volume: &str) -> String {
    format!("k2d-emptydir-{pod_uid}-{volume}")
}

/// Adds the container's mounts and devices.
pub fn apply(
    host: &mut HostConfig,
    input: &ContainerInput<'_>,
    env: &[(String, String)],
    at: &str,
    warnings: &mut Vec<String>,
) -> Result<(), String> {
    let spec = input.pod.get("spec").unwrap_or(&Value::Null);
    let meta = |k: &str| {
        input
            .pod
            .pointer(&format!("/metadata/{k}"))
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    let (ns, pod_name, uid) = (meta("namespace"), meta("name"), meta("uid"));
    let vols: HashMap<&str, (usize, &Value)> = list_at(spec, "volumes")
        .iter()
        .enumerate()
        .filter_map(|(i, v)| Some((str_at(v, "name")?, (i, v))))
        .collect();
    let fs_group = spec
        .pointer("/securityContext/fsGroup")
        .and_then(Value::as_i64);
    let mut mounts = Vec::new();
    let mut devices = Vec::new();
    for (mi, vm) in list_at(input.container, "volumeMounts").iter().enumerate() {
        let vm_at = format!("{at}.volumeMounts[{mi}]");
        let name = str_at(vm, "name").unwrap_or("");
        let target = str_at(vm, "mountPath").unwrap_or("").to_string();
        let Some(&(vi, volume)) = vols.get(name) else {
            return Err(format!(
                "cannot find volume {name:?} to mount into container {:?}",
                input.name()
            ));
        };
        let sub = match (str_at(vm, "subPath"), str_at(vm, "subPathExpr")) {
            (Some(s), _) if !s.is_empty() => Some(s.to_string()),
            (_, Some(e)) if !e.is_empty() => Some(expand_with(e, env)),
            _ => None,
        };
        let sub = sub.map(|s| checked_path(&s)).transpose().map_err(|e| {
            format!(
                "failed to prepare subPath for volumeMount {name:?} of container {:?}: {e}",
                input.name()
            )
        })?;
        let read_only = flag(vm, "readOnly");
        let propagation = match str_at(vm, "mountPropagation") {
            Some("HostToContainer") => Some(MountBindOptionsPropagationEnum::RSLAVE),
            Some("Bidirectional") => Some(MountBindOptionsPropagationEnum::RSHARED),
            _ => None,
        };
        if str_at(vm, "recursiveReadOnly") == Some("Enabled") {
            warnings.push(format!(
                "{vm_at}.recursiveReadOnly: not supported by k2d on Docker 20.10, the mount is read-only but not recursively"
            ));
        }
        let kind = volumes::kind(volume);
        let source = &volume[kind];
        let v_at = format!("spec.volumes[{vi}].{kind}");
        let bind = |src: &Path, read_only: bool| Mount {
            target: Some(target.clone()),
            source: Some(src.to_string_lossy().into_owned()),
            typ: Some(MountType::BIND),
            read_only: Some(read_only),
            bind_options: propagation.map(|p| MountBindOptions {
                propagation: Some(p),
                ..Default::default()
            }),
            ..Default::default()
        };
        let named = |volume_name: String, read_only: bool, options: MountVolumeOptions| Mount {
            target: Some(target.clone()),
            source: Some(volume_name),
            typ: Some(MountType::VOLUME),
            read_only: Some(read_only),
            volume_options: Some(options),
            ..Default::default()
        };
        let volume_sub = |warnings: &mut Vec<String>| {
            if sub.is_some() {
                warnings.push(format!(
                    "{vm_at}.subPath: a subPath of an engine volume needs Docker Engine API 1.45; older engines mount the whole volume"
                ));
            }
            sub.clone()
        };
        match kind {
            "emptyDir" if str_at(source, "medium") == Some("Memory") => {
                let mut o = vec!["mode=0777".to_string()];
                let size = match source.get("sizeLimit") {
                    Some(limit) => Some(
                        Quantity::from_json(limit)
                            .map_err(|e| format!("{v_at}.sizeLimit: {e}"))?
                            .value(),
                    ),
                    None => pod_memory_limit(spec),
                };
                if let Some(size) = size {
                    o.insert(0, format!("size={size}"));
                }
                if let Some(g) = fs_group {
                    o.push(format!("gid={g}"));
                }
                let options = MountVolumeOptions {
                    labels: Some(HashMap::from([(labels::POD_UID.to_string(), uid.to_string())])),
                    driver_config: Some(MountVolumeOptionsDriverConfig {
                        name: Some("local".into()),
                        options: Some(HashMap::from([
                            ("type".to_string(), "tmpfs".to_string()),
                            ("device".to_string(), "tmpfs".to_string()),
                            ("o".to_string(), o.join(",")),
                        ])),
                    }),
                    subpath: volume_sub(warnings),
                    ..Default::default()
                };
                mounts.push(named(memory_volume(uid, name), read_only, options));
            }
            "emptyDir" => {
                if source.get("sizeLimit").is_some() {
                    warnings.push(format!(
                        "{v_at}.sizeLimit: not enforced by k2d on Docker for a disk-backed emptyDir"
                    ));
                }
                let base = volumes::dir(input.pod_dir, kind, name);
                let src = sub_dir(&base, sub.as_deref(), true)?;
                mounts.push(bind(&src, read_only));
            }
            "hostPath" => {
                let base = Path::new(str_at(source, "path").unwrap_or(""));
                match str_at(source, "type") {
                    Some("CharDevice" | "BlockDevice") => {
                        let src = match &sub {
                            Some(s) => base.join(s),
                            None => base.to_path_buf(),
                        };
                        devices.push(DeviceMapping {
                            path_on_host: Some(src.to_string_lossy().into_owned()),
                            path_in_container: Some(target.clone()),
                            cgroup_permissions: Some(if read_only { "r" } else { "rwm" }.into()),
                        });
                    }
                    _ => {
                        let src = sub_dir(base, sub.as_deref(), true)?;
                        mounts.push(bind(&src, read_only));
                    }
                }
            }
            k if volumes::is_written(k) => {
                if k == "projected" {
                    for (si, s) in list_at(source, "sources").iter().enumerate() {
                        for unsupported in ["clusterTrustBundle", "podCertificate"] {
                            if s.get(unsupported).is_some() {
                                warnings.push(format!(
                                    "{v_at}.sources[{si}].{unsupported}: not supported by k2d on Docker yet, not written"
                                ));
                            }
                        }
                    }
                }
                let base = volumes::dir(input.pod_dir, kind, name);
                let src = sub_dir(&base, sub.as_deref(), false)?;
                // The kubelet mounts these read-only whatever the mount says.
                mounts.push(bind(&src, true));
            }
            "persistentVolumeClaim" => {
                let claim = str_at(source, "claimName").unwrap_or("");
                let options = MountVolumeOptions {
                    subpath: volume_sub(warnings),
                    ..Default::default()
                };
                mounts.push(named(
                    claim_volume(ns, claim),
                    read_only || flag(source, "readOnly"),
                    options,
                ));
            }
            "ephemeral" => {
                // The claim Kubernetes makes for a generic ephemeral volume is `<pod>-<volume>`.
                let options = MountVolumeOptions {
                    subpath: volume_sub(warnings),
                    ..Default::default()
                };
                let claim = format!("{pod_name}-{name}");
                mounts.push(named(claim_volume(ns, &claim), read_only, options));
            }
            other => warnings.push(format!(
                "spec.volumes[{vi}].{other}: not supported by k2d on Docker, not mounted at {target}"
            )),
        }
    }
    for (di, d) in list_at(input.container, "volumeDevices").iter().enumerate() {
        let path = str_at(d, "devicePath").unwrap_or("");
        warnings.push(format!(
            "{at}.volumeDevices[{di}]: raw block volumes are not supported by k2d on Docker, {path} not created"
        ));
    }
    if !mounts.is_empty() {
        host.mounts = Some(mounts);
    }
    if !devices.is_empty() {
        host.devices = Some(devices);
    }
    Ok(())
}

/// The memory all of a pod's app containers may use, when each has a limit: the size of a
/// memory-backed emptyDir without sizeLimit, as the kubelet sizes it (else the engine's
/// tmpfs default applies).
fn pod_memory_limit(spec: &Value) -> Option<i128> {
    let containers = list_at(spec, "containers");
    if containers.is_empty() {
        return None;
    }
    let mut total = 0;
    for c in containers {
        let limit = c.pointer("/resources/limits/memory")?;
        total += Quantity::from_json(limit).ok()?.value();
    }
    Some(total)
}

/// `base` joined with a subPath, made a directory when missing and `create` (as the kubelet
/// does for writable volumes).
fn sub_dir(base: &Path, sub: Option<&str>, create: bool) -> Result<std::path::PathBuf, String> {
    let Some(sub) = sub else {
        return Ok(base.to_path_buf());
    };
    // The API refuses these (validation::pod_paths); a pod stored by an older k2d must not
    // reach outside its volume either.
    let escapes = Path::new(sub).components().any(|c| {
        !matches!(
            c,
            std::path::Component::Normal(_) | std::path::Component::CurDir
        )
    });
    if escapes {
        return Err(format!(
            "subPath {sub:?} must be a relative path without '..'"
        ));
    }
    let path = base.join(sub);
    if create && fs::symlink_metadata(&path).is_err() {
        fs::create_dir_all(&path)
            .map_err(|e| format!("cannot create subPath {}: {e}", path.display()))?;
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::spec::testutil::{input_at, resolved};
    use serde_json::json;

    fn pod(volumes: Value, mounts: Value) -> Value {
        json!({
            "metadata": {"name": "web", "namespace": "prod", "uid": "u-1"},
            "spec": {"volumes": volumes, "securityContext": {"fsGroup": 3000},
                "containers": [{"name": "app", "volumeMounts": mounts}]}
        })
    }

    fn run(p: &Value, pod_dir: &Path) -> (Result<HostConfig, String>, Vec<String>) {
        let r = resolved();
        let env = vec![("POD_NAME".to_string(), "web".to_string())];
        let mut host = HostConfig::default();
        let mut w = Vec::new();
        let out = apply(
            &mut host,
            &input_at(p, &r, 0, pod_dir),
            &env,
            "spec.containers[0]",
            &mut w,
        )
        .map(|()| host);
        (out, w)
    }

    #[test]
    fn bind_mounts_of_pod_volumes() {
        let tmp = tempfile::tempdir().unwrap();
        let p = pod(
            json!([
                {"name": "scratch", "emptyDir": {}},
                {"name": "cfg", "configMap": {"name": "files"}},
                {"name": "logs", "hostPath": {"path": tmp.path().join("logs"), "type": "DirectoryOrCreate"}}
            ]),
            json!([
                {"name": "scratch", "mountPath": "/scratch"},
                {"name": "scratch", "mountPath": "/per-pod", "subPathExpr": "pods/$(POD_NAME)"},
                {"name": "cfg", "mountPath": "/etc/app"},
                {"name": "cfg", "mountPath": "/etc/app.conf", "subPath": "app.conf"},
                {"name": "logs", "mountPath": "/var/log/app", "readOnly": true, "mountPropagation": "HostToContainer"}
            ]),
        );
        let (h, w) = run(&p, tmp.path());
        let h = h.unwrap();
        assert!(w.is_empty(), "{w:?}");
        let m = h.mounts.unwrap();
        let scratch = volumes::dir(tmp.path(), "emptyDir", "scratch");
        let cfg = volumes::dir(tmp.path(), "configMap", "cfg");
        let src = |i: usize| m[i].source.clone().unwrap();
        assert_eq!(src(0), scratch.to_string_lossy());
        assert_eq!(m[0].typ, Some(MountType::BIND));
        assert_eq!(m[0].read_only, Some(false));
        assert_eq!(src(1), scratch.join("pods/web").to_string_lossy());
        assert!(
            scratch.join("pods/web").is_dir(),
            "subPath directories are made"
        );
        assert_eq!(src(2), cfg.to_string_lossy());
        assert_eq!(m[2].read_only, Some(true));
        assert_eq!(src(3), cfg.join("app.conf").to_string_lossy());
        assert_eq!(m[3].target.as_deref(), Some("/etc/app.conf"));
        assert_eq!(m[4].read_only, Some(true));
        assert_eq!(
            m[4].bind_options.as_ref().unwrap().propagation,
            Some(MountBindOptionsPropagationEnum::RSLAVE)
        );
    }

    #[test]
    fn claims_memory_and_devices() {
        let tmp = tempfile::tempdir().unwrap();
        let p = pod(
            json!([
                {"name": "data", "persistentVolumeClaim": {"claimName": "pg-data", "readOnly": true}},
                {"name": "cache", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}},
                {"name": "ram", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
                {"name": "tty", "hostPath": {"path": "/dev/ttyUSB0", "type": "CharDevice"}},
                {"name": "nfs", "nfs": {"server": "nas", "path": "/export"}}
            ]),
            json!([
                {"name": "data", "mountPath": "/var/lib/pg", "subPath": "pgdata"},
                {"name": "cache", "mountPath": "/cache"},
                {"name": "ram", "mountPath": "/dev/shm"},
                {"name": "tty", "mountPath": "/dev/ttyUSB0"},
                {"name": "nfs", "mountPath": "/nfs"}
            ]),
        );
        let (h, w) = run(&p, tmp.path());
        let h = h.unwrap();
        assert_eq!(
            w,
            vec![
                "spec.containers[0].volumeMounts[0].subPath: a subPath of an engine volume needs Docker Engine API 1.45; older engines mount the whole volume",
                "spec.volumes[4].nfs: not supported by k2d on Docker, not mounted at /nfs",
            ]
        );
        let m = h.mounts.unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].source.as_deref(), Some("k2d-pvc-prod-pg-data"));
        assert_eq!(m[0].typ, Some(MountType::VOLUME));
        assert_eq!(m[0].read_only, Some(true));
        assert_eq!(
            m[0].volume_options.as_ref().unwrap().subpath.as_deref(),
            Some("pgdata")
        );
        assert_eq!(m[1].source.as_deref(), Some("k2d-pvc-prod-web-cache"));
        assert_eq!(m[2].source.as_deref(), Some("k2d-emptydir-u-1-ram"));
        let opts = m[2].volume_options.as_ref().unwrap();
        let driver = opts
            .driver_config
            .as_ref()
            .unwrap()
            .options
            .as_ref()
            .unwrap();
        assert_eq!(driver["type"], "tmpfs");
        assert_eq!(driver["o"], "size=67108864,mode=0777,gid=3000");
        assert_eq!(opts.labels.as_ref().unwrap()[labels::POD_UID], "u-1");
        let d = h.devices.unwrap();
        assert_eq!(d[0].path_on_host.as_deref(), Some("/dev/ttyUSB0"));
        assert_eq!(d[0].path_in_container.as_deref(), Some("/dev/ttyUSB0"));
        assert_eq!(d[0].cgroup_permissions.as_deref(), Some("rwm"));
    }

    #[test]
    fn memory_volumes_default_to_the_pods_memory_limit() {
        let tmp = tempfile::tempdir().unwrap();
        let mut p = pod(
            json!([{"name": "ram", "emptyDir": {"medium": "Memory"}}]),
            json!([{"name": "ram", "mountPath": "/ram"}]),
        );
        p["spec"]["securityContext"] = json!({});
        let o = |p: &Value| {
            let (h, _) = run(p, tmp.path());
            let m = h.unwrap().mounts.unwrap();
            let opts = m[0]
                .volume_options
                .clone()
                .unwrap()
                .driver_config
                .unwrap()
                .options
                .unwrap();
            opts["o"].clone()
        };
        assert_eq!(
            o(&p),
            "mode=0777",
            "without limits the engine's default applies"
        );
        p["spec"]["containers"][0]["resources"] = json!({"limits": {"memory": "64Mi"}});
        p["spec"]["containers"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "side", "resources": {"limits": {"memory": "32Mi"}}}));
        assert_eq!(o(&p), "size=100663296,mode=0777");
    }

    #[test]
    fn bad_mounts_are_config_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let p = pod(json!([]), json!([{"name": "ghost", "mountPath": "/x"}]));
        assert_eq!(
            run(&p, tmp.path()).0.unwrap_err(),
            "cannot find volume \"ghost\" to mount into container \"app\""
        );
        let p = pod(
            json!([{"name": "s", "emptyDir": {}}]),
            json!([{"name": "s", "mountPath": "/x", "subPathExpr": "../$(POD_NAME)"}]),
        );
        assert!(
            run(&p, tmp.path())
                .0
                .unwrap_err()
                .starts_with("failed to prepare subPath for volumeMount \"s\"")
        );
    }

    #[test]
    fn raw_block_devices_warn() {
        let tmp = tempfile::tempdir().unwrap();
        let mut p = pod(
            json!([{"name": "blk", "persistentVolumeClaim": {"claimName": "raw"}}]),
            json!([]),
        );
        p["spec"]["containers"][0]["volumeDevices"] =
            json!([{"name": "blk", "devicePath": "/dev/xvda"}]);
        let (h, w) = run(&p, tmp.path());
        assert_eq!(h.unwrap().mounts, None);
        assert_eq!(
            w,
            vec![
                "spec.containers[0].volumeDevices[0]: raw block volumes are not supported by k2d on Docker, /dev/xvda not created"
            ]
        );
    }

    #[test]
    fn projected_token_is_mounted_without_warning() {
        let tmp = tempfile::tempdir().unwrap();
        let p = pod(
            json!([{"name": "api", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}}]),
            json!([{"name": "api", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}]),
        );
        let (h, w) = run(&p, tmp.path());
        assert_eq!(h.unwrap().mounts.unwrap().len(), 1);
        assert!(w.is_empty(), "{w:?}");
    }
}
