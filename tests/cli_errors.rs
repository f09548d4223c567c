//! The mistakes a new user makes with `k2d serve`, tried as they would make them: the k2d binary
//! is run, and each message must say what went wrong, where, and what to do; k2d must exit
//! non-zero instead of hanging.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// An unprivileged user (nobody) to drop to when the tests run as root.
const NOBODY: u32 = 65534;

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Runs `k2d serve ARGS` (optionally as nobody) and returns its output; fails the test if it is
/// still running after 30 s.
fn serve(args: &[&str], as_nobody: bool) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_k2d"));
    cmd.arg("serve")
        .args(args)
        .env_remove("DOCKER_HOST")
        .env_remove("K2D_ENGINE")
        .env_remove("K2D_DATA_DIR")
        .env_remove("K2D_PORT")
        .current_dir("/");
    if as_nobody {
        cmd.uid(NOBODY).gid(NOBODY);
    }
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("running k2d");
    let started = Instant::now();
    while child.try_wait().expect("waiting for k2d").is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("k2d serve {args:?} did not stop with an error");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("k2d output");
    assert!(!out.status.success(), "k2d serve {args:?} succeeded");
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn temp_dir() -> tempfile::TempDir {
    // In the build's own temporary directory: /tmp may be closed to other users (0700).
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temporary directory");
    // nobody must reach what is inside.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

#[test]
fn a_missing_engine_socket_names_it_and_the_fix() {
    let dir = temp_dir();
    let data = dir.path().join("data");
    let out = serve(
        &[
            "--data-dir",
            data.to_str().unwrap(),
            "--listen-address",
            "127.0.0.1",
            "--port",
            "0",
            "--engine",
            "unix:///nonexistent/docker.sock",
        ],
        false,
    );
    let e = stderr(&out);
    assert!(
        e.contains("no container engine socket at /nonexistent/docker.sock"),
        "{e}"
    );
    assert!(e.contains("start Docker") && e.contains("Podman"), "{e}");
    assert!(e.contains("--engine"), "{e}");
}

#[test]
fn a_taken_port_names_it_and_the_flag() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let dir = temp_dir();
    let data = dir.path().join("data");
    let out = serve(
        &[
            "--data-dir",
            data.to_str().unwrap(),
            "--listen-address",
            "127.0.0.1",
            "--port",
            &port,
            "--engine",
            "none",
        ],
        false,
    );
    let e = stderr(&out);
    assert!(
        e.contains(&format!("port {port} on 127.0.0.1 is already in use")),
        "{e}"
    );
    assert!(e.contains("--port"), "{e}");
}

#[test]
fn an_unwritable_data_directory_names_it_and_the_fix() {
    let dir = temp_dir();
    // As root: nobody may not create a directory in a root-owned one (a user running k2d
    // without sudo and the default /var/lib/k2d). Otherwise: a path under a file.
    let (data, as_nobody) = if is_root() {
        (dir.path().join("data"), true)
    } else {
        let file = dir.path().join("file");
        std::fs::write(&file, b"").unwrap();
        (file.join("data"), false)
    };
    let out = serve(
        &[
            "--data-dir",
            data.to_str().unwrap(),
            "--port",
            "0",
            "--engine",
            "none",
        ],
        as_nobody,
    );
    let e = stderr(&out);
    assert!(
        e.contains(&format!(
            "cannot write its data directory {}",
            data.display()
        )),
        "{e}"
    );
    assert!(e.contains("as root") && e.contains("--data-dir"), "{e}");
}

#[test]
fn a_forbidden_engine_socket_says_root_or_the_group() {
    if !is_root() {
        eprintln!("skipped: needs root to run k2d as another user");
        return;
    }
    let dir = temp_dir();
    // A socket only root may open, as Docker's is (root:docker, 0660) to a user not in the group.
    let socket = dir.path().join("engine.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600)).unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::os::unix::fs::chown(&data, Some(NOBODY), Some(NOBODY)).unwrap();
    let engine = format!("unix://{}", socket.display());
    let out = serve(
        &[
            "--data-dir",
            data.to_str().unwrap(),
            "--listen-address",
            "127.0.0.1",
            "--port",
            "0",
            "--engine",
            &engine,
        ],
        true,
    );
    let e = stderr(&out);
    assert!(
        e.contains(&format!(
            "permission denied on the container engine socket {}",
            socket.display()
        )),
        "{e}"
    );
    assert!(e.contains("as root") && e.contains("usermod -aG"), "{e}");
}
