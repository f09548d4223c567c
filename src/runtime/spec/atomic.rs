//! Writing a volume's files so that a running container sees an update all at once, the way
//! the kubelet's atomic writer lays them out: the files live in a timestamped directory
//! `..<time>`, the symlink `..data` points at it, and each top-level name of the volume is a
//! symlink through `..data`. An update writes a new directory and renames a new `..data` link
//! over the old one (one `rename`, atomic), then removes the old directory. Hand-written: no
//! crate implements this layout.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;

/// A volume's files: relative path → (contents, mode).
pub type Payload = BTreeMap<String, (Vec<u8>, u32)>;

/// The link that names the current version.
pub const DATA: &str = "..data";
const DATA_TMP: &str = "..data_tmp";

/// Makes `dir` hold exactly `payload`, owned by group `gid` when given (files then also get
/// group read, as the kubelet's fsGroup ownership does). Does nothing when `dir` already
/// holds it.
pub fn write(dir: &Path, payload: &Payload, gid: Option<u32>) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    set_dir_owner(dir, gid)?;
    let wanted: Payload = payload
        .iter()
        .map(|(p, (data, mode))| {
            let mode = if gid.is_some() { mode | 0o440 } else { *mode };
            (p.clone(), (data.clone(), mode))
        })
        .collect();
    let current = fs::read_link(dir.join(DATA)).ok();
    if let Some(cur) = &current
        && read_version(&dir.join(cur)).ok().as_ref() == Some(&wanted)
    {
        return Ok(());
    }
    let version = new_version(dir)?;
    let version_dir = dir.join(&version);
    set_dir_owner(&version_dir, gid)?;
    for (path, (data, mode)) in &wanted {
        let file = version_dir.join(path);
        if let Some(parent) = file.parent()
            && parent != version_dir
        {
            fs::create_dir_all(parent)?;
            let mut p = parent.to_path_buf();
            while p != version_dir {
                set_dir_owner(&p, gid)?;
                p.pop();
            }
        }
        fs::write(&file, data)?;
        fs::set_permissions(&file, fs::Permissions::from_mode(*mode))?;
        if let Some(g) = gid {
            std::os::unix::fs::chown(&file, None, Some(g))?;
        }
    }
    let tmp = dir.join(DATA_TMP);
    let _ = fs::remove_file(&tmp);
    symlink(&version, &tmp)?;
    fs::rename(&tmp, dir.join(DATA))?;
    let top: BTreeSet<String> = wanted
        .keys()
        .filter_map(|p| p.split('/').next().map(String::from))
        .collect();
    for name in &top {
        let link = dir.join(name);
        if fs::symlink_metadata(&link).is_err() {
            symlink(Path::new(DATA).join(name), &link)?;
        }
    }
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("..") {
            if name != DATA && name != version && entry.file_type()?.is_dir() {
                fs::remove_dir_all(entry.path())?;
            }
        } else if !top.contains(&name) {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// A fresh version directory's name, `..YYYY_MM_DD_HH_MM_SS.<nanoseconds>`, created.
fn new_version(dir: &Path) -> io::Result<String> {
    let now = time::OffsetDateTime::now_utc();
    for attempt in 0u32.. {
        let name = format!(
            "..{:04}_{:02}_{:02}_{:02}_{:02}_{:02}.{:09}{}",
            now.year(),
            u8::from(now.month()),
            now.day(),
            now.hour(),
            now.minute(),
            now.second(),
            now.nanosecond(),
            if attempt == 0 {
                String::new()
            } else {
                format!("-{attempt}")
            }
        );
        match fs::create_dir(dir.join(&name)) {
            Ok(()) => return Ok(name),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    unreachable!("u32 attempts")
}

/// A directory readable by the container's user: 0755, or group `gid` with setgid.
fn set_dir_owner(dir: &Path, gid: Option<u32>) -> io::Result<()> {
    match gid {
        Some(g) => {
            std::os::unix::fs::chown(dir, None, Some(g))?;
            fs::set_permissions(dir, fs::Permissions::from_mode(0o2755))
        }
        None => fs::set_permissions(dir, fs::Permissions::from_mode(0o755)),
    }
}

/// The files of a version directory.
fn read_version(dir: &Path) -> io::Result<Payload> {
    let mut out = Payload::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((d, prefix)) = stack.pop() {
        for entry in fs::read_dir(&d)? {
            let entry = entry?;
            let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
            let meta = entry.metadata()?;
            if meta.is_dir() {
                stack.push((entry.path(), format!("{name}/")));
            } else {
                let mode = meta.permissions().mode() & 0o7777;
                out.insert(name, (fs::read(entry.path())?, mode));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn payload(entries: &[(&str, &str, u32)]) -> Payload {
        entries
            .iter()
            .map(|(p, d, m)| (p.to_string(), (d.as_bytes().to_vec(), *m)))
            .collect()
    }

    #[test]
    fn layout_modes_and_updates() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("vol");
        write(
            &dir,
            &payload(&[("app.conf", "v1", 0o644), ("keys/tls.key", "KEY", 0o400)]),
            None,
        )
        .unwrap();
        let first = fs::read_link(dir.join(DATA)).unwrap();
        assert!(first.to_string_lossy().starts_with(".."));
        assert_eq!(
            fs::read_link(dir.join("app.conf")).unwrap(),
            Path::new("..data/app.conf")
        );
        assert_eq!(
            fs::read_link(dir.join("keys")).unwrap(),
            Path::new("..data/keys")
        );
        assert_eq!(fs::read_to_string(dir.join("app.conf")).unwrap(), "v1");
        assert_eq!(fs::read_to_string(dir.join("keys/tls.key")).unwrap(), "KEY");
        let mode = |p: &str| fs::metadata(dir.join(p)).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode("app.conf"), 0o644);
        assert_eq!(mode("keys/tls.key"), 0o400);
        assert_eq!(mode("."), 0o755);

        // The same payload again changes nothing.
        write(
            &dir,
            &payload(&[("app.conf", "v1", 0o644), ("keys/tls.key", "KEY", 0o400)]),
            None,
        )
        .unwrap();
        assert_eq!(fs::read_link(dir.join(DATA)).unwrap(), first);

        // An update swaps the version and drops what is gone.
        write(&dir, &payload(&[("app.conf", "v2", 0o600)]), None).unwrap();
        let second = fs::read_link(dir.join(DATA)).unwrap();
        assert_ne!(second, first);
        assert_eq!(fs::read_to_string(dir.join("app.conf")).unwrap(), "v2");
        assert_eq!(mode("app.conf"), 0o600);
        assert!(fs::symlink_metadata(dir.join("keys")).is_err());
        assert!(!dir.join(&first).exists(), "the old version is removed");
        let names: BTreeSet<String> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        let expected: BTreeSet<String> = [
            DATA.to_string(),
            "app.conf".into(),
            second.to_string_lossy().into_owned(),
        ]
        .into();
        assert_eq!(names, expected);
    }

    #[test]
    fn empty_payload_is_an_empty_volume() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("vol");
        write(&dir, &Payload::new(), None).unwrap();
        assert!(dir.join(DATA).exists());
    }

    #[test]
    fn group_ownership() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("vol");
        let gid = 4242;
        match write(&dir, &payload(&[("s", "x", 0o400)]), Some(gid)) {
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                eprintln!("not root: fsGroup ownership not tested");
            }
            other => {
                other.unwrap();
                let meta = fs::metadata(dir.join("s")).unwrap();
                assert_eq!(meta.gid(), gid);
                assert_eq!(meta.permissions().mode() & 0o7777, 0o440);
                assert_eq!(fs::metadata(&dir).unwrap().gid(), gid);
            }
        }
    }
}
