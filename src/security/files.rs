//! Writing secrets to the data directory: private modes from the first byte, atomically (a crash
//! or power loss leaves the old file or the new one, never half of one).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::{Context, Result};

/// Creates the data directory (mode 0700) if needed and tightens its mode if it exists.
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        .with_context(|| format!("securing {}", dir.display()))?;
    Ok(())
}

/// Writes `contents` to `path` with mode 0600: to a temporary file, synced, then renamed over.
pub fn write_private(path: &Path, contents: &[u8]) -> Result<()> {
    let dir = path.parent().context("a file path has a parent")?;
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name().context("a file name")?.to_string_lossy()
    ));
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    f.set_permissions(fs::Permissions::from_mode(0o600))?;
    f.write_all(contents)?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))?;
    fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// [`write_private`], unless `path` already holds exactly `contents` (then nothing is
/// written: no wear on an SD card, and no failure on a full disk).
pub fn write_private_if_changed(path: &Path, contents: &[u8]) -> Result<()> {
    match fs::read(path) {
        Ok(old) if old == contents => Ok(()),
        _ => write_private(path, contents),
    }
}

/// Reads a file as UTF-8 if it exists.
pub fn read_optional(path: &Path) -> Result<Option<String>> {
    match fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_files_are_0600_and_replaced_whole() {
        let dir = std::env::temp_dir().join(format!("k2d-files-{}", std::process::id()));
        ensure_private_dir(&dir).unwrap();
        let p = dir.join("secret");
        write_private(&p, b"one").unwrap();
        write_private(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unchanged_contents_are_not_written_again() {
        use std::os::unix::fs::MetadataExt;
        let dir = std::env::temp_dir().join(format!("k2d-files-same-{}", std::process::id()));
        ensure_private_dir(&dir).unwrap();
        let p = dir.join("kubeconfig");
        write_private_if_changed(&p, b"one").unwrap();
        let first = fs::metadata(&p).unwrap().ino();
        write_private_if_changed(&p, b"one").unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().ino(),
            first,
            "rewritten though unchanged"
        );
        write_private_if_changed(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_ne!(
            fs::metadata(&p).unwrap().ino(),
            first,
            "a change is a new file renamed over"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
