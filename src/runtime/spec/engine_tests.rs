//! The translations checked against the real engine: containers created from what
//! `apply_sandbox`, `apply_container` and `prepare_volumes` produce, run, and inspected.
//! Skipped (with a note) when no engine answers on /var/run/docker.sock.

use bollard::models::{ContainerCreateBody, HostConfig};
use serde_json::{Value, json};

use super::testutil::{engine, output, remove, resolved, run, unique};
use super::{ContainerInput, apply_container, apply_sandbox, prepare_volumes};

const BUSYBOX: &str = "k2d-test/busybox:latest";

fn app_body(
    pod: &Value,
    pod_dir: &std::path::Path,
    sandbox: &str,
    r: &super::Resolved,
) -> (ContainerCreateBody, Vec<String>) {
    let mut body = ContainerCreateBody {
        image: Some(BUSYBOX.into()),
        host_config: Some(HostConfig::default()),
        ..Default::default()
    };
    if !sandbox.is_empty() {
        let h = body.host_config.as_mut().unwrap();
        h.network_mode = Some(format!("container:{sandbox}"));
        h.ipc_mode = Some(format!("container:{sandbox}"));
    }
    let input = ContainerInput {
        pod,
        container: &pod["spec"]["containers"][0],
        init: false,
        sandbox_id: sandbox,
        pod_ip: "10.0.0.7",
        node_name: "k2d",
        host_ip: "192.168.0.2",
        resolved: r,
        pod_dir,
    };
    let w = apply_container(&mut body, &input).expect("apply_container");
    (body, w)
}

#[tokio::test]
async fn volumes_devices_user_and_resources_in_a_real_container() {
    let Some(engine) = engine().await else { return };
    let docker = engine.docker();
    let tmp = tempfile::tempdir().unwrap();
    let pod_dir = tmp.path().join("pod");
    let uid = unique("uid");
    let pod = json!({
        "metadata": {"name": "e2e", "namespace": "prod", "uid": uid},
        "spec": {
            "securityContext": {"runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 4000},
            "volumes": [
                {"name": "cfg", "configMap": {"name": "files"}},
                {"name": "creds", "secret": {"secretName": "db", "defaultMode": 0o400}},
                {"name": "ram", "emptyDir": {"medium": "Memory", "sizeLimit": "16Mi"}},
                {"name": "scratch", "emptyDir": {}},
                {"name": "null", "hostPath": {"path": "/dev/null", "type": "CharDevice"}}
            ],
            "containers": [{
                "name": "app", "image": BUSYBOX,
                "command": ["sh", "-c"],
                "args": ["id -u; id -G; cat /etc/app/app.conf; cat /secrets/password; echo; ls -lnL /secrets/password; echo hi > /ram/f && cat /ram/f; df /ram | tail -1; echo x > /scratch/x && test -d /scratch/sub && echo scratch-ok; echo z > /dev/k2d-null && echo dev-ok; echo $(GREETING) $GREETING"],
                "env": [{"name": "GREETING", "value": "hello"}],
                "resources": {"limits": {"memory": "64Mi", "cpu": "500m"}, "requests": {"cpu": "250m"}},
                "volumeMounts": [
                    {"name": "cfg", "mountPath": "/etc/app"},
                    {"name": "creds", "mountPath": "/secrets"},
                    {"name": "ram", "mountPath": "/ram"},
                    {"name": "scratch", "mountPath": "/scratch"},
                    {"name": "scratch", "mountPath": "/scratch/sub", "subPath": "deep"},
                    {"name": "null", "mountPath": "/dev/k2d-null"}
                ]
            }]
        }
    });
    let r = resolved();
    prepare_volumes(&pod, &r, &pod_dir).unwrap();
    let (body, warnings) = app_body(&pod, &pod_dir, "", &r);
    assert!(warnings.is_empty(), "{warnings:?}");
    let name = unique("app");
    let id = run(&docker, &name, body)
        .await
        .expect("the engine accepts the configuration");
    let (code, out) = output(&docker, &id).await;
    let inspect = docker.inspect_container(&id, None).await.unwrap();
    remove(&docker, &id).await;
    let _ = docker
        .remove_volume(
            &super::mounts::memory_volume(&uid, "ram"),
            None::<bollard::query_parameters::RemoveVolumeOptions>,
        )
        .await;
    assert_eq!(code, 0, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "1000");
    assert!(
        lines[1].split(' ').any(|g| g == "4000"),
        "fsGroup joins the groups: {out}"
    );
    assert_eq!(lines[2], "listen 80");
    assert_eq!(lines[3], "s3cr3t");
    assert!(
        lines[4].starts_with("-r--r-----") && lines[4].contains(" 4000 "),
        "{out}"
    );
    assert_eq!(lines[5], "hi");
    assert!(
        lines[6].starts_with("tmpfs") && lines[6].contains("16384"),
        "{out}"
    );
    assert_eq!(lines[7], "scratch-ok");
    assert_eq!(lines[8], "dev-ok");
    assert_eq!(lines[9], "hello hello");
    assert!(pod_dir.join("volumes/empty-dir/scratch/x").exists());
    assert!(pod_dir.join("volumes/empty-dir/scratch/deep").is_dir());
    let h = inspect.host_config.unwrap();
    assert_eq!(h.memory, Some(64 * 1024 * 1024));
    assert_eq!(h.cpu_quota, Some(50_000));
    assert_eq!(h.cpu_shares, Some(256));
}

#[tokio::test]
async fn sandbox_network_settings_reach_joined_containers() {
    let Some(engine) = engine().await else { return };
    let docker = engine.docker();
    let tmp = tempfile::tempdir().unwrap();
    let pod = json!({
        "metadata": {"name": "db-7d9", "namespace": "prod", "uid": unique("uid")},
        "spec": {
            "hostname": "db-0", "subdomain": "db", "shareProcessNamespace": true,
            "hostAliases": [{"ip": "10.1.2.3", "hostnames": ["foo.local"]}],
            "dnsPolicy": "None",
            "dnsConfig": {"nameservers": ["1.1.1.1"], "searches": ["corp.example"], "options": [{"name": "ndots", "value": "2"}]},
            "securityContext": {"sysctls": [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}]},
            "containers": [{"name": "app", "image": BUSYBOX,
                "ports": [{"containerPort": 80}],
                "command": ["sh", "-c", "hostname; hostname -d; cat /etc/hosts; cat /etc/resolv.conf; cat /proc/sys/net/ipv4/ip_unprivileged_port_start; ps"]}]
        }
    });
    let mut sandbox = ContainerCreateBody {
        image: Some(BUSYBOX.into()),
        cmd: Some(vec!["sleep".into(), "60".into()]),
        ..Default::default()
    };
    let warnings = apply_sandbox(&mut sandbox, &pod);
    assert!(warnings.is_empty(), "{warnings:?}");
    let sb = run(&docker, &unique("sandbox"), sandbox)
        .await
        .expect("sandbox");
    let r = resolved();
    let (body, _) = app_body(&pod, tmp.path(), &sb, &r);
    let app = run(&docker, &unique("app"), body).await;
    let (code, out) = match &app {
        Ok(id) => output(&docker, id).await,
        Err(e) => (-1, e.to_string()),
    };
    if let Ok(id) = &app {
        remove(&docker, id).await;
    }
    remove(&docker, &sb).await;
    assert_eq!(code, 0, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "db-0");
    assert_eq!(lines[1], "db.prod.svc.cluster.local");
    assert!(out.contains("10.1.2.3\tfoo.local"), "{out}");
    assert!(out.contains("nameserver 1.1.1.1"), "{out}");
    assert!(out.contains("search corp.example"), "{out}");
    assert!(out.contains("options ndots:2"), "{out}");
    assert!(lines.contains(&"0"), "the sysctl applies: {out}");
    assert!(
        out.contains("sleep 60"),
        "the sandbox's processes are visible: {out}"
    );
}

#[tokio::test]
async fn run_as_non_root_and_read_only_root() {
    let Some(engine) = engine().await else { return };
    let docker = engine.docker();
    let tmp = tempfile::tempdir().unwrap();
    let pod = json!({
        "metadata": {"name": "ro", "namespace": "prod", "uid": "u-ro"},
        "spec": {"containers": [{"name": "app", "image": BUSYBOX,
            "command": ["sh", "-c", "id -u; touch /x 2>/dev/null && echo writable || echo read-only; grep CapEff /proc/self/status"],
            "securityContext": {"runAsUser": 1234, "runAsNonRoot": true, "readOnlyRootFilesystem": true,
                "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}]}
    });
    let r = resolved();
    let (body, w) = app_body(&pod, tmp.path(), "", &r);
    assert!(w.is_empty(), "{w:?}");
    let id = run(&docker, &unique("ro"), body).await.expect("create");
    let (code, out) = output(&docker, &id).await;
    let config = docker
        .inspect_container(&id, None)
        .await
        .unwrap()
        .config
        .unwrap();
    remove(&docker, &id).await;
    assert!(
        config.cmd.unwrap_or_default().is_empty(),
        "a command without args drops the image's CMD"
    );
    assert_eq!(code, 0, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "1234");
    assert_eq!(lines[1], "read-only");
    assert!(lines[2].ends_with("0000000000000000"), "{out}");
}

/// Runs `cmd` in a running container and returns its stdout.
async fn exec_out(docker: &bollard::Docker, id: &str, cmd: &[&str]) -> String {
    use futures_util::StreamExt;
    let config = bollard::models::ExecConfig {
        cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        ..Default::default()
    };
    let exec = docker.create_exec(id, config).await.unwrap();
    let mut text = String::new();
    if let bollard::exec::StartExecResults::Attached { mut output, .. } =
        docker.start_exec(&exec.id, None).await.unwrap()
    {
        while let Some(Ok(chunk)) = output.next().await {
            text.push_str(&chunk.to_string());
        }
    }
    text
}

#[tokio::test]
async fn a_running_container_sees_configmap_updates() {
    let Some(engine) = engine().await else { return };
    let docker = engine.docker();
    let tmp = tempfile::tempdir().unwrap();
    let pod_dir = tmp.path().join("pod");
    let pod = json!({
        "metadata": {"name": "live", "namespace": "prod", "uid": "u-live"},
        "spec": {
            "volumes": [{"name": "cfg", "configMap": {"name": "settings"}}],
            "containers": [{"name": "app", "image": BUSYBOX, "command": ["sleep", "60"],
                "volumeMounts": [
                    {"name": "cfg", "mountPath": "/etc/cfg"},
                    {"name": "cfg", "mountPath": "/etc/mode", "subPath": "mode"}
                ]}]
        }
    });
    let mut r = resolved();
    prepare_volumes(&pod, &r, &pod_dir).unwrap();
    let (body, _) = app_body(&pod, &pod_dir, "", &r);
    let id = run(&docker, &unique("live"), body).await.expect("create");
    let before = exec_out(&docker, &id, &["cat", "/etc/cfg/mode", "/etc/mode"]).await;
    r.configmaps.get_mut("settings").unwrap()["data"]["mode"] = json!("slow");
    prepare_volumes(&pod, &r, &pod_dir).unwrap();
    let after = exec_out(&docker, &id, &["cat", "/etc/cfg/mode", "/etc/mode"]).await;
    let listing = exec_out(&docker, &id, &["ls", "-a", "/etc/cfg"]).await;
    remove(&docker, &id).await;
    assert_eq!(before, "fastfast");
    // Like the kubelet: the volume updates, a subPath mount keeps the file it was given.
    assert_eq!(after, "slowfast");
    assert!(listing.contains("..data"), "{listing}");
}

#[tokio::test]
async fn host_ports_are_published() {
    let Some(engine) = engine().await else { return };
    let docker = engine.docker();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let pod = json!({
        "metadata": {"name": "published", "namespace": "prod", "uid": "u-pub"},
        "spec": {"containers": [{"name": "web", "image": "k2d-test/httpd:latest",
            "ports": [{"containerPort": 80, "hostPort": port, "hostIP": "127.0.0.1"}]}]}
    });
    let mut sandbox = ContainerCreateBody {
        image: Some("k2d-test/httpd:latest".into()),
        ..Default::default()
    };
    assert!(apply_sandbox(&mut sandbox, &pod).is_empty());
    let id = run(&docker, &unique("published"), sandbox)
        .await
        .expect("create");
    let mut answer = String::new();
    for _ in 0..20 {
        if let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let _ = s
                .write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
                .await;
            let _ = s.read_to_string(&mut answer).await;
            if !answer.is_empty() {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    remove(&docker, &id).await;
    assert!(
        answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"),
        "{answer}"
    );
}
