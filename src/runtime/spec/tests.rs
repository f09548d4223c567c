//! `apply_container` as the runtime calls it: every piece together on realistic pods.

use std::path::Path;

use bollard::models::{ContainerCreateBody, HostConfig};
use serde_json::{Value, json};

use super::testutil::resolved;
use super::{ContainerInput, Resolved, apply_container};

fn input<'a>(pod: &'a Value, r: &'a Resolved, init: bool, index: usize) -> ContainerInput<'a> {
    let list = if init { "initContainers" } else { "containers" };
    ContainerInput {
        pod,
        container: &pod["spec"][list][index],
        init,
        sandbox_id: "sb-1",
        pod_ip: "10.0.0.9",
        node_name: "k2d",
        host_ip: "192.168.0.2",
        resolved: r,
        pod_dir: Path::new("/var/lib/k2d/pods/u-9"),
    }
}

fn body() -> ContainerCreateBody {
    ContainerCreateBody {
        image: Some("nginx:1.27".into()),
        host_config: Some(HostConfig {
            network_mode: Some("container:sb-1".into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn deployment_pod() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-5d4f7", "namespace": "prod", "uid": "u-9", "labels": {"app": "web"}},
        "spec": {
            "shareProcessNamespace": true,
            "securityContext": {"runAsUser": 101, "fsGroup": 101},
            "volumes": [{"name": "conf", "configMap": {"name": "files"}},
                        {"name": "data", "persistentVolumeClaim": {"claimName": "web-data"}}],
            "initContainers": [{"name": "migrate", "image": "busybox",
                "command": ["sh", "-c", "echo $(MODE)"],
                "env": [{"name": "MODE", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "mode"}}}]}],
            "containers": [
                {"name": "sidecar", "image": "busybox"},
                {"name": "web", "image": "nginx:1.27",
                    "args": ["--listen", "$(POD_IP):80"],
                    "workingDir": "/srv",
                    "env": [{"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}],
                    "envFrom": [{"secretRef": {"name": "db"}, "prefix": "DB_"}],
                    "resources": {"limits": {"cpu": "1", "memory": "512Mi"}, "requests": {"cpu": "100m", "memory": "256Mi"}},
                    "securityContext": {"allowPrivilegeEscalation": false, "seLinuxOptions": {"level": "s0:c1"}},
                    "volumeMounts": [{"name": "conf", "mountPath": "/etc/nginx/conf.d", "readOnly": true},
                                     {"name": "data", "mountPath": "/data"}],
                    "tty": true}
            ]
        }
    })
}

#[test]
fn a_deployment_container_end_to_end() {
    let pod = deployment_pod();
    let r = resolved();
    let mut b = body();
    let warnings = apply_container(&mut b, &input(&pod, &r, false, 1)).unwrap();
    assert_eq!(
        warnings,
        vec![
            "spec.containers[1].securityContext.seLinuxOptions: not supported by k2d on Docker, ignored"
        ]
    );
    assert_eq!(
        b.image.as_deref(),
        Some("nginx:1.27"),
        "what the runtime set stays"
    );
    assert_eq!(b.entrypoint, None);
    assert_eq!(b.cmd, Some(vec!["--listen".into(), "10.0.0.9:80".into()]));
    assert_eq!(b.working_dir.as_deref(), Some("/srv"));
    assert_eq!(
        b.env,
        Some(vec![
            "DB_password=s3cr3t".into(),
            "DB_user=admin".into(),
            "POD_IP=10.0.0.9".into()
        ])
    );
    assert_eq!(b.user.as_deref(), Some("101"));
    assert_eq!(b.tty, Some(true));
    let h = b.host_config.unwrap();
    assert_eq!(h.network_mode.as_deref(), Some("container:sb-1"));
    assert_eq!(h.pid_mode.as_deref(), Some("container:sb-1"));
    assert_eq!(h.group_add, Some(vec!["101".into()]));
    assert_eq!(h.security_opt, Some(vec!["no-new-privileges".into()]));
    assert_eq!(
        (h.memory, h.memory_reservation),
        (Some(512 << 20), Some(256 << 20))
    );
    assert_eq!(
        (h.cpu_quota, h.cpu_period, h.cpu_shares),
        (Some(100_000), Some(100_000), Some(102))
    );
    let m = h.mounts.unwrap();
    assert_eq!(
        m[0].source.as_deref(),
        Some("/var/lib/k2d/pods/u-9/volumes/configmap/conf")
    );
    assert_eq!(m[0].read_only, Some(true));
    assert_eq!(m[1].source.as_deref(), Some("k2d-pvc-prod-web-data"));
}

#[test]
fn service_variables_set_by_the_runtime_are_kept() {
    let pod = deployment_pod();
    let r = resolved();
    let mut b = body();
    b.env = Some(vec![
        "WEB_SERVICE_HOST=10.96.0.5".into(),
        "DB_password=old".into(),
    ]);
    apply_container(&mut b, &input(&pod, &r, false, 1)).unwrap();
    assert_eq!(
        b.env,
        Some(vec![
            "WEB_SERVICE_HOST=10.96.0.5".into(),
            "DB_password=s3cr3t".into(),
            "DB_user=admin".into(),
            "POD_IP=10.0.0.9".into()
        ])
    );
}

#[test]
fn init_containers_are_named_by_their_own_list() {
    let mut pod = deployment_pod();
    pod["spec"]["initContainers"][0]["securityContext"] = json!({"windowsOptions": {}});
    let r = resolved();
    let mut b = body();
    let w = apply_container(&mut b, &input(&pod, &r, true, 0)).unwrap();
    assert_eq!(
        w,
        vec![
            "spec.initContainers[0].securityContext.windowsOptions: not supported by k2d on Docker, ignored"
        ]
    );
    assert_eq!(
        b.entrypoint,
        Some(vec!["sh".into(), "-c".into(), "echo fast".into()])
    );
    assert_eq!(b.cmd, Some(vec![]));
}

#[test]
fn config_errors_stop_creation() {
    let mut pod = deployment_pod();
    let r = resolved();
    pod["spec"]["containers"][1]["envFrom"] = json!([{"secretRef": {"name": "missing"}}]);
    assert_eq!(
        apply_container(&mut body(), &input(&pod, &r, false, 1)).unwrap_err(),
        "secret \"missing\" not found"
    );
    let mut pod = deployment_pod();
    pod["spec"]["containers"][0]["securityContext"] = json!({"runAsNonRoot": true, "runAsUser": 0});
    assert!(
        apply_container(&mut body(), &input(&pod, &r, false, 0))
            .unwrap_err()
            .starts_with("container's runAsUser breaks non-root policy")
    );
}

#[test]
fn host_pid_wins_over_a_shared_namespace() {
    let mut pod = deployment_pod();
    pod["spec"]["hostPID"] = json!(true);
    let r = resolved();
    let mut b = body();
    apply_container(&mut b, &input(&pod, &r, false, 0)).unwrap();
    assert_eq!(b.host_config.unwrap().pid_mode.as_deref(), Some("host"));
    let mut pod = deployment_pod();
    pod["spec"]["shareProcessNamespace"] = json!(false);
    let mut b = body();
    apply_container(&mut b, &input(&pod, &r, false, 0)).unwrap();
    let h = b.host_config.unwrap();
    assert_eq!(h.pid_mode, None);
    assert_eq!(b.env, None, "a container without env gets none");
}
