//! The files of a pod's volumes in its directory on the host: emptyDir directories, checked
//! or created hostPath paths, and the contents of configMap, secret, downwardAPI and projected
//! volumes (with their items, modes and `optional`), written atomically. The pod directory is
//! private to root (0700); inside, files have exactly the modes the pod asks for.

use std::fs;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::Value;

use super::atomic::{self, Payload};
use super::env::secret_bytes;
use super::fieldref;
use super::{Resolved, flag, list_at, str_at};

/// The mode of volume files when the pod gives none (0644).
pub const DEFAULT_MODE: u32 = 0o644;

/// The kind of a volume: the name of its one source field (`configMap`, `emptyDir`, ...).
pub fn kind(volume: &Value) -> &str {
    volume
        .as_object()
        .and_then(|m| m.keys().find(|k| *k != "name"))
        .map(String::as_str)
        .unwrap_or("")
}

/// Where the files of volume `name` of kind `kind` live in the pod's directory.
pub fn dir(pod_dir: &Path, kind: &str, name: &str) -> PathBuf {
    let kind_dir = match kind {
        "emptyDir" => "empty-dir",
        "configMap" => "configmap",
        "secret" => "secret",
        "downwardAPI" => "downward-api",
        _ => "projected",
    };
    pod_dir.join("volumes").join(kind_dir).join(name)
}

/// `true` for the volume kinds whose files k2d writes (and mounts read-only).
pub fn is_written(kind: &str) -> bool {
    matches!(kind, "configMap" | "secret" | "downwardAPI" | "projected")
}

/// Makes the pod's directory and its volumes' files.
pub fn prepare(pod: &Value, resolved: &Resolved, pod_dir: &Path) -> Result<(), String> {
    let io = |what: &str, e: std::io::Error| format!("{what} {}: {e}", pod_dir.display());
    // `pods/` too is made (and, made by an older k2d, tightened to) 0700: nothing of the data
    // directory is open to other users.
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(pod_dir)
        .map_err(|e| io("cannot create", e))?;
    for dir in [pod_dir.parent(), Some(pod_dir)].into_iter().flatten() {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| io("cannot protect", e))?;
    }
    let spec = pod.get("spec").unwrap_or(&Value::Null);
    let gid = spec
        .pointer("/securityContext/fsGroup")
        .and_then(Value::as_u64)
        .and_then(|g| u32::try_from(g).ok());
    for volume in list_at(spec, "volumes") {
        let name = str_at(volume, "name").unwrap_or("");
        let kind = kind(volume);
        let source = &volume[kind];
        let failed = |msg: String| format!("MountVolume.SetUp failed for volume {name:?} : {msg}");
        match kind {
            "emptyDir" if str_at(source, "medium") != Some("Memory") => {
                empty_dir(&dir(pod_dir, kind, name), gid).map_err(|e| failed(e.to_string()))?;
            }
            "hostPath" => host_path(source).map_err(failed)?,
            k if is_written(k) => {
                let payload = payload(pod, resolved, kind, source).map_err(failed)?;
                let writable = fs::create_dir_all(pod_dir.join("volumes"))
                    .and_then(|()| atomic::write(&dir(pod_dir, kind, name), &payload, gid));
                writable.map_err(|e| failed(e.to_string()))?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// An emptyDir on disk: world-writable like the kubelet makes it, group-owned by fsGroup.
/// An existing one is left as the pod's containers left it.
fn empty_dir(dir: &Path, gid: Option<u32>) -> std::io::Result<()> {
    if dir.exists() {
        return Ok(());
    }
    fs::create_dir_all(dir)?;
    let mode = match gid {
        Some(g) => {
            std::os::unix::fs::chown(dir, None, Some(g))?;
            0o2777
        }
        None => 0o777,
    };
    fs::set_permissions(dir, fs::Permissions::from_mode(mode))
}

/// The kubelet's hostPath type check (creating the path for the `...OrCreate` types).
pub fn host_path(source: &Value) -> Result<(), String> {
    let path = str_at(source, "path").unwrap_or("");
    let kind = str_at(source, "type").unwrap_or("");
    let meta = fs::metadata(path);
    let is = |f: &dyn Fn(&fs::Metadata) -> bool| meta.as_ref().is_ok_and(f);
    let fail = |what: &str| Err(format!("hostPath type check failed: {path} is not {what}"));
    match kind {
        // No check; a missing path becomes a directory, as container runtimes make it.
        "" if meta.is_err() => fs::create_dir_all(path).map_err(|e| e.to_string()),
        "" => Ok(()),
        "DirectoryOrCreate" if meta.is_err() => {
            fs::create_dir_all(path).map_err(|e| e.to_string())?;
            fs::set_permissions(path, fs::Permissions::from_mode(0o755)).map_err(|e| e.to_string())
        }
        "DirectoryOrCreate" | "Directory" => {
            if is(&|m| m.is_dir()) {
                Ok(())
            } else {
                fail("a directory")
            }
        }
        "FileOrCreate" if meta.is_err() => fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map(|_| ())
            .and_then(|()| fs::set_permissions(path, fs::Permissions::from_mode(0o644)))
            .map_err(|e| e.to_string()),
        "FileOrCreate" | "File" => {
            if is(&|m| m.is_file()) {
                Ok(())
            } else {
                fail("a file")
            }
        }
        "Socket" => {
            if is(&|m| m.file_type().is_socket()) {
                Ok(())
            } else {
                fail("a socket file")
            }
        }
        "CharDevice" => {
            if is(&|m| m.file_type().is_char_device()) {
                Ok(())
            } else {
                fail("a character device")
            }
        }
        "BlockDevice" => {
            if is(&|m| m.file_type().is_block_device()) {
                Ok(())
            } else {
                fail("a block device")
            }
        }
        other => Err(format!("{other} is an invalid volume type")),
    }
}

/// The files of a configMap, secret, downwardAPI or projected volume.
pub fn payload(
    pod: &Value,
    resolved: &Resolved,
    kind: &str,
    source: &Value,
) -> Result<Payload, String> {
    let mut out = Payload::new();
    let default_mode = mode_of(source.get("defaultMode")).unwrap_or(DEFAULT_MODE);
    match kind {
        "projected" => {
            for s in list_at(source, "sources") {
                if let Some(cm) = s.get("configMap") {
                    keyed(resolved, "configMap", cm, default_mode, &mut out)?;
                } else if let Some(sec) = s.get("secret") {
                    keyed(resolved, "secret", sec, default_mode, &mut out)?;
                } else if let Some(d) = s.get("downwardAPI") {
                    downward(pod, d, default_mode, &mut out)?;
                } else if let Some(t) = s.get("serviceAccountToken") {
                    let aud = str_at(t, "audience").unwrap_or("").to_string();
                    let exp = t
                        .get("expirationSeconds")
                        .and_then(Value::as_i64)
                        .unwrap_or(3600);
                    let token = resolved.tokens.get(&(aud, exp)).ok_or_else(|| {
                        "failed to fetch token: the service account token could not be issued"
                            .to_string()
                    })?;
                    let path = checked_path(str_at(t, "path").unwrap_or("token"))?;
                    let mode = mode_of(source.get("defaultMode")).unwrap_or(DEFAULT_MODE);
                    out.insert(path, (token.clone().into_bytes(), mode));
                }
                // clusterTrustBundle and podCertificate: named in warnings by mounts.
            }
        }
        "downwardAPI" => downward(pod, source, default_mode, &mut out)?,
        _ => keyed(resolved, kind, source, default_mode, &mut out)?,
    }
    Ok(out)
}

/// A file mode given as a number (the API gives decimal numbers: 420 is 0644).
fn mode_of(v: Option<&Value>) -> Option<u32> {
    v.and_then(Value::as_u64)
        .and_then(|m| u32::try_from(m & 0o7777).ok())
}

/// ConfigMap or Secret keys as files.
fn keyed(
    resolved: &Resolved,
    kind: &str,
    source: &Value,
    default_mode: u32,
    out: &mut Payload,
) -> Result<(), String> {
    // A secret volume names its Secret `secretName`; everything else `name`.
    let name = str_at(source, "secretName")
        .or_else(|| str_at(source, "name"))
        .unwrap_or("");
    let optional = flag(source, "optional");
    let entries: Option<Vec<(String, Vec<u8>)>> = if kind == "configMap" {
        resolved.configmaps.get(name).map(configmap_bytes)
    } else {
        resolved.secrets.get(name).map(secret_bytes)
    };
    let Some(entries) = entries else {
        if optional {
            return Ok(());
        }
        return Err(format!("{} {name:?} not found", kind.to_lowercase()));
    };
    let items = list_at(source, "items");
    if items.is_empty() {
        for (key, data) in entries {
            out.insert(checked_path(&key)?, (data, default_mode));
        }
        return Ok(());
    }
    for item in items {
        let key = str_at(item, "key").unwrap_or("");
        let path = str_at(item, "path").unwrap_or(key);
        let mode = mode_of(item.get("mode")).unwrap_or(default_mode);
        match entries.iter().find(|(k, _)| k == key) {
            Some((_, data)) => {
                out.insert(checked_path(path)?, (data.clone(), mode));
            }
            None if optional => {}
            None if kind == "configMap" => {
                return Err(format!(
                    "configmap references non-existent config key: {key}"
                ));
            }
            None => return Err(format!("references non-existent secret key: {key}")),
        }
    }
    Ok(())
}

/// A ConfigMap's `data` and decoded `binaryData`.
fn configmap_bytes(cm: &Value) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    if let Some(m) = cm.get("data").and_then(Value::as_object) {
        for (k, v) in m {
            out.push((k.clone(), v.as_str().unwrap_or("").as_bytes().to_vec()));
        }
    }
    if let Some(m) = cm.get("binaryData").and_then(Value::as_object) {
        for (k, v) in m {
            let data = base64::engine::general_purpose::STANDARD
                .decode(v.as_str().unwrap_or(""))
                .unwrap_or_default();
            out.push((k.clone(), data));
        }
    }
    out
}

/// downwardAPI items as files.
fn downward(
    pod: &Value,
    source: &Value,
    default_mode: u32,
    out: &mut Payload,
) -> Result<(), String> {
    for item in list_at(source, "items") {
        let path = checked_path(str_at(item, "path").unwrap_or(""))?;
        let mode = mode_of(item.get("mode")).unwrap_or(default_mode);
        let text = if let Some(f) = item.get("fieldRef") {
            fieldref::volume_field(pod, str_at(f, "fieldPath").unwrap_or(""))?
        } else if let Some(r) = item.get("resourceFieldRef") {
            fieldref::resource(pod, "", r)?
        } else {
            continue;
        };
        out.insert(path, (text.into_bytes(), mode));
    }
    Ok(())
}

/// A volume file path as the kubelet accepts it: relative, without `..` elements, not
/// starting with `..`.
pub fn checked_path(path: &str) -> Result<String, String> {
    if path.is_empty()
        || path.starts_with('/')
        || path.starts_with("..")
        || path.split('/').any(|p| p == "..")
    {
        return Err(format!(
            "invalid path {path:?}: must be relative, without '..'"
        ));
    }
    Ok(path.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::spec::testutil::resolved;
    use serde_json::json;
    use std::os::unix::fs::MetadataExt;

    fn pod(volumes: Value) -> Value {
        json!({
            "metadata": {"name": "web", "namespace": "prod", "uid": "u-1",
                "labels": {"app": "web"}, "annotations": {"a": "1"}},
            "spec": {"containers": [{"name": "app",
                "resources": {"limits": {"memory": "64Mi"}}}], "volumes": volumes}
        })
    }

    fn read(p: &Path) -> String {
        fs::read_to_string(p).unwrap()
    }

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn configmap_secret_and_items() {
        let tmp = tempfile::tempdir().unwrap();
        let pod_dir = tmp.path().join("pods").join("uid");
        let p = pod(json!([
            {"name": "cfg", "configMap": {"name": "files"}},
            {"name": "picked", "configMap": {"name": "files", "defaultMode": 0o600,
                "items": [{"key": "app.conf", "path": "conf/main.conf"}, {"key": "nested.txt", "path": "n", "mode": 0o444}]}},
            {"name": "creds", "secret": {"secretName": "db", "defaultMode": 0o400}},
            {"name": "maybe", "secret": {"secretName": "absent", "optional": true}}
        ]));
        prepare(&p, &resolved(), &pod_dir).unwrap();
        assert_eq!(mode(&pod_dir), 0o700);
        assert_eq!(mode(&tmp.path().join("pods")), 0o700);
        let cfg = dir(&pod_dir, "configMap", "cfg");
        assert_eq!(read(&cfg.join("app.conf")), "listen 80\n");
        assert_eq!(fs::read(cfg.join("logo.bin")).unwrap(), vec![1, 2, 3]);
        assert_eq!(mode(&cfg.join("app.conf")), 0o644);
        let picked = dir(&pod_dir, "configMap", "picked");
        assert_eq!(read(&picked.join("conf/main.conf")), "listen 80\n");
        assert_eq!(mode(&picked.join("conf/main.conf")), 0o600);
        assert_eq!(mode(&picked.join("n")), 0o444);
        assert!(!picked.join("app.conf").exists());
        let creds = dir(&pod_dir, "secret", "creds");
        assert_eq!(read(&creds.join("password")), "s3cr3t");
        assert_eq!(mode(&creds.join("password")), 0o400);
        assert!(dir(&pod_dir, "secret", "maybe").join(atomic::DATA).exists());
    }

    #[test]
    fn missing_sources_fail_the_mount() {
        let tmp = tempfile::tempdir().unwrap();
        let err = |v: Value| prepare(&pod(json!([v])), &resolved(), tmp.path()).unwrap_err();
        assert_eq!(
            err(json!({"name": "v", "configMap": {"name": "gone"}})),
            "MountVolume.SetUp failed for volume \"v\" : configmap \"gone\" not found"
        );
        assert_eq!(
            err(json!({"name": "v", "secret": {"secretName": "gone"}})),
            "MountVolume.SetUp failed for volume \"v\" : secret \"gone\" not found"
        );
        assert_eq!(
            err(
                json!({"name": "v", "configMap": {"name": "files", "items": [{"key": "nope", "path": "x"}]}})
            ),
            "MountVolume.SetUp failed for volume \"v\" : configmap references non-existent config key: nope"
        );
        assert_eq!(
            err(
                json!({"name": "v", "secret": {"secretName": "db", "items": [{"key": "nope", "path": "x"}]}})
            ),
            "MountVolume.SetUp failed for volume \"v\" : references non-existent secret key: nope"
        );
        assert!(err(json!({"name": "v", "configMap": {"name": "files", "items": [{"key": "app.conf", "path": "../escape"}]}}))
            .contains("invalid path"));
        prepare(
            &pod(
                json!([{"name": "v", "configMap": {"name": "files", "optional": true,
                "items": [{"key": "nope", "path": "x"}]}}]),
            ),
            &resolved(),
            tmp.path(),
        )
        .unwrap();
    }

    #[test]
    fn downward_api_and_projected() {
        let tmp = tempfile::tempdir().unwrap();
        let p = pod(json!([
            {"name": "info", "downwardAPI": {"items": [
                {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}, "mode": 0o400},
                {"path": "mem", "resourceFieldRef": {"containerName": "app", "resource": "limits.memory", "divisor": "1Mi"}}
            ]}},
            {"name": "all", "projected": {"defaultMode": 0o440, "sources": [
                {"configMap": {"name": "settings", "items": [{"key": "mode", "path": "mode"}]}},
                {"secret": {"name": "tls"}},
                {"downwardAPI": {"items": [{"path": "ns", "fieldRef": {"fieldPath": "metadata.namespace"}}]}},
                {"serviceAccountToken": {"path": "token"}}
            ]}}
        ]));
        let missing = prepare(&p, &resolved(), tmp.path()).unwrap_err();
        assert!(missing.contains("failed to fetch token"), "{missing}");
        let mut with_token = resolved();
        with_token
            .tokens
            .insert((String::new(), 3600), "TOKEN".to_string());
        prepare(&p, &with_token, tmp.path()).unwrap();
        let info = dir(tmp.path(), "downwardAPI", "info");
        assert_eq!(read(&info.join("labels")), "app=\"web\"\n");
        assert_eq!(read(&info.join("name")), "web");
        assert_eq!(mode(&info.join("name")), 0o400);
        assert_eq!(read(&info.join("mem")), "64");
        let all = dir(tmp.path(), "projected", "all");
        assert_eq!(read(&all.join("mode")), "fast");
        assert_eq!(read(&all.join("tls.crt")), "CERT");
        assert_eq!(read(&all.join("ns")), "prod");
        assert_eq!(mode(&all.join("tls.key")), 0o440);
        assert_eq!(read(&all.join("token")), "TOKEN");
        assert_eq!(mode(&all.join("token")), 0o440);
    }

    #[test]
    fn updates_are_seen_through_the_same_paths() {
        let tmp = tempfile::tempdir().unwrap();
        let p = pod(json!([{"name": "cfg", "configMap": {"name": "settings"}}]));
        let mut r = resolved();
        prepare(&p, &r, tmp.path()).unwrap();
        let file = dir(tmp.path(), "configMap", "cfg").join("mode");
        assert_eq!(read(&file), "fast");
        r.configmaps.get_mut("settings").unwrap()["data"]["mode"] = json!("slow");
        prepare(&p, &r, tmp.path()).unwrap();
        assert_eq!(read(&file), "slow");
    }

    #[test]
    fn empty_dirs_and_fs_group() {
        let tmp = tempfile::tempdir().unwrap();
        let mut p = pod(json!([
            {"name": "scratch", "emptyDir": {}},
            {"name": "ram", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
            {"name": "cfg", "secret": {"secretName": "db", "defaultMode": 0o400}}
        ]));
        prepare(&p, &resolved(), tmp.path()).unwrap();
        let scratch = dir(tmp.path(), "emptyDir", "scratch");
        assert_eq!(mode(&scratch), 0o777);
        fs::write(scratch.join("kept"), "x").unwrap();
        fs::set_permissions(&scratch, fs::Permissions::from_mode(0o770)).unwrap();
        prepare(&p, &resolved(), tmp.path()).unwrap();
        assert_eq!(
            mode(&scratch),
            0o770,
            "a second run leaves the emptyDir alone"
        );
        assert!(scratch.join("kept").exists());
        fs::remove_dir_all(&scratch).unwrap();
        assert!(!dir(tmp.path(), "emptyDir", "ram").exists());
        p["spec"]["securityContext"] = json!({"fsGroup": 2000});
        match prepare(&p, &resolved(), tmp.path()) {
            Err(e) if e.contains("ermission") => eprintln!("not root: fsGroup not tested"),
            other => {
                other.unwrap();
                let scratch = dir(tmp.path(), "emptyDir", "scratch");
                assert_eq!(fs::metadata(&scratch).unwrap().gid(), 2000);
                assert_eq!(mode(&scratch), 0o2777);
                let secret = dir(tmp.path(), "secret", "cfg").join("password");
                assert_eq!(fs::metadata(&secret).unwrap().gid(), 2000);
                assert_eq!(mode(&secret), 0o440);
            }
        }
    }

    #[test]
    fn host_path_types() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path();
        let hp = |path: &Path, t: &str| host_path(&json!({"path": path, "type": t}));
        let newdir = base.join("made/deep");
        hp(&newdir, "DirectoryOrCreate").unwrap();
        assert!(newdir.is_dir());
        assert_eq!(mode(&newdir), 0o755);
        hp(&newdir, "Directory").unwrap();
        let newfile = base.join("made/file.log");
        hp(&newfile, "FileOrCreate").unwrap();
        assert!(newfile.is_file());
        hp(&newfile, "File").unwrap();
        let missing = base.join("missing");
        assert_eq!(
            hp(&missing, "Directory").unwrap_err(),
            format!(
                "hostPath type check failed: {} is not a directory",
                missing.display()
            )
        );
        assert_eq!(
            hp(&newfile, "DirectoryOrCreate").unwrap_err(),
            format!(
                "hostPath type check failed: {} is not a directory",
                newfile.display()
            )
        );
        assert_eq!(
            hp(&newdir, "File").unwrap_err(),
            format!(
                "hostPath type check failed: {} is not a file",
                newdir.display()
            )
        );
        assert!(
            hp(&newfile, "Socket")
                .unwrap_err()
                .ends_with("is not a socket file")
        );
        let sock = base.join("s.sock");
        let _listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
        hp(&sock, "Socket").unwrap();
        hp(Path::new("/dev/null"), "CharDevice").unwrap();
        assert!(
            hp(Path::new("/dev/null"), "BlockDevice")
                .unwrap_err()
                .ends_with("is not a block device")
        );
        assert!(
            hp(&newfile, "CharDevice")
                .unwrap_err()
                .ends_with("is not a character device")
        );
        hp(&missing, "").unwrap();
        assert!(
            missing.is_dir(),
            "an untyped missing hostPath becomes a directory"
        );
        let missing = base.join("missing-too");
        assert_eq!(
            hp(&missing, "Bogus").unwrap_err(),
            "Bogus is an invalid volume type"
        );
        let err = prepare(
            &pod(json!([{"name": "h", "hostPath": {"path": missing, "type": "File"}}])),
            &resolved(),
            &base.join("pod"),
        )
        .unwrap_err();
        assert!(
            err.starts_with(
                "MountVolume.SetUp failed for volume \"h\" : hostPath type check failed"
            )
        );
    }

    #[test]
    fn kinds_and_paths() {
        assert_eq!(kind(&json!({"name": "x", "emptyDir": {}})), "emptyDir");
        assert_eq!(checked_path("a/b").unwrap(), "a/b");
        assert!(checked_path("/abs").is_err());
        assert!(checked_path("a/../b").is_err());
        assert!(checked_path("..data").is_err());
        assert!(checked_path("").is_err());
    }
}
