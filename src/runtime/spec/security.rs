//! Security contexts, the container's over the pod's: user and groups, privileged,
//! capabilities, read-only root filesystem, no-new-privileges, seccomp and AppArmor profiles,
//! and the kubelet's runAsNonRoot check.

use bollard::models::{ContainerCreateBody, HostConfig};
use serde_json::Value;

use super::{ContainerInput, list_at, str_at};

/// Sets user, groups and the host config's security fields; `Err` when runAsNonRoot is
/// violated by an explicit runAsUser 0.
pub fn apply(
    body: &mut ContainerCreateBody,
    input: &ContainerInput<'_>,
    at: &str,
    warnings: &mut Vec<String>,
) -> Result<(), String> {
    let pod_ctx = input
        .pod
        .pointer("/spec/securityContext")
        .unwrap_or(&Value::Null);
    let ctx = input
        .container
        .get("securityContext")
        .unwrap_or(&Value::Null);
    // The container's setting, else the pod's.
    let either = |key: &str| ctx.get(key).or_else(|| pod_ctx.get(key));
    let uid = either("runAsUser").and_then(Value::as_i64);
    let gid = either("runAsGroup").and_then(Value::as_i64);
    match (uid, gid) {
        (Some(u), Some(g)) => body.user = Some(format!("{u}:{g}")),
        (Some(u), None) => body.user = Some(u.to_string()),
        (None, Some(_)) => warnings.push(format!(
            "{at}.securityContext.runAsGroup: without runAsUser the engine cannot change only the group of the image's user, ignored"
        )),
        (None, None) => {}
    }
    if either("runAsNonRoot").and_then(Value::as_bool) == Some(true) {
        match uid {
            Some(0) => {
                return Err(format!(
                    "container's runAsUser breaks non-root policy (pod: {:?}, container: {})",
                    pod_ref(input.pod),
                    input.name()
                ));
            }
            Some(_) => {}
            None => warnings.push(format!(
                "{at}.securityContext.runAsNonRoot: the image's user is checked only when the runtime inspects the image (check_image_user)"
            )),
        }
    }
    let host = body.host_config.get_or_insert_with(HostConfig::default);
    let mut groups: Vec<String> = list_at(pod_ctx, "supplementalGroups")
        .iter()
        .filter_map(Value::as_i64)
        .map(|g| g.to_string())
        .collect();
    if let Some(fs_group) = pod_ctx.get("fsGroup").and_then(Value::as_i64) {
        let g = fs_group.to_string();
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    if !groups.is_empty() {
        host.group_add = Some(groups);
    }
    let privileged = ctx.get("privileged").and_then(Value::as_bool) == Some(true);
    if privileged {
        host.privileged = Some(true);
    }
    if let Some(caps) = ctx.get("capabilities") {
        let names = |key| -> Vec<String> {
            list_at(caps, key)
                .iter()
                .filter_map(Value::as_str)
                .map(docker_capability)
                .collect()
        };
        let (add, drop) = (names("add"), names("drop"));
        if !add.is_empty() {
            host.cap_add = Some(add);
        }
        if !drop.is_empty() {
            host.cap_drop = Some(drop);
        }
    }
    if ctx.get("readOnlyRootFilesystem").and_then(Value::as_bool) == Some(true) {
        host.readonly_rootfs = Some(true);
    }
    let mut opts = Vec::new();
    if ctx.get("allowPrivilegeEscalation").and_then(Value::as_bool) == Some(false) {
        opts.push("no-new-privileges".to_string());
    }
    let seccomp_at = if ctx.get("seccompProfile").is_some() {
        format!("{at}.securityContext.seccompProfile")
    } else {
        "spec.securityContext.seccompProfile".to_string()
    };
    if let Some(profile) = either("seccompProfile") {
        match str_at(profile, "type") {
            Some("Unconfined") => opts.push("seccomp=unconfined".into()),
            Some("RuntimeDefault") | None => {}
            Some(other) => warnings.push(format!(
                "{seccomp_at}: {other} profiles are not supported by k2d on Docker, the engine's default profile applies"
            )),
        }
    }
    apparmor(input, ctx, pod_ctx, at, &mut opts, warnings);
    if !opts.is_empty() {
        host.security_opt = Some(opts);
    }
    if let Some(mount) = str_at(ctx, "procMount").filter(|m| *m != "Default") {
        warnings.push(format!(
            "{at}.securityContext.procMount: {mount} is not supported by k2d on Docker, ignored"
        ));
    }
    for key in ["seLinuxOptions", "windowsOptions"] {
        if ctx.get(key).is_some() {
            warnings.push(format!(
                "{at}.securityContext.{key}: not supported by k2d on Docker, ignored"
            ));
        }
        if pod_ctx.get(key).is_some() {
            warnings.push(format!(
                "spec.securityContext.{key}: not supported by k2d on Docker, ignored"
            ));
        }
    }
    if input
        .pod
        .pointer("/spec/hostUsers")
        .and_then(Value::as_bool)
        == Some(false)
    {
        warnings.push(
            "spec.hostUsers: user namespaces are not set up by k2d on Docker, ignored".into(),
        );
    }
    Ok(())
}

/// The AppArmor profile from `appArmorProfile` (container, then pod) or the beta annotation
/// `container.apparmor.security.beta.kubernetes.io/<container>`.
fn apparmor(
    input: &ContainerInput<'_>,
    ctx: &Value,
    pod_ctx: &Value,
    at: &str,
    opts: &mut Vec<String>,
    warnings: &mut Vec<String>,
) {
    let annotation = input
        .pod
        .pointer("/metadata/annotations")
        .and_then(|a| {
            a.get(format!(
                "container.apparmor.security.beta.kubernetes.io/{}",
                input.name()
            ))
        })
        .and_then(Value::as_str);
    let (kind, local) = if let Some(p) = ctx
        .get("appArmorProfile")
        .or_else(|| pod_ctx.get("appArmorProfile"))
    {
        (
            str_at(p, "type").unwrap_or("RuntimeDefault").to_string(),
            str_at(p, "localhostProfile").unwrap_or("").to_string(),
        )
    } else if let Some(a) = annotation {
        match a {
            "unconfined" => ("Unconfined".to_string(), String::new()),
            "runtime/default" => ("RuntimeDefault".to_string(), String::new()),
            other => match other.strip_prefix("localhost/") {
                Some(p) => ("Localhost".to_string(), p.to_string()),
                None => {
                    warnings.push(format!(
                        "metadata.annotations[container.apparmor.security.beta.kubernetes.io/{}]: unknown profile {other:?}, ignored",
                        input.name()
                    ));
                    return;
                }
            },
        }
    } else {
        return;
    };
    match kind.as_str() {
        "Unconfined" => opts.push("apparmor=unconfined".into()),
        "Localhost" if !local.is_empty() => opts.push(format!("apparmor={local}")),
        "RuntimeDefault" => {}
        other => warnings.push(format!(
            "{at}.securityContext.appArmorProfile: {other} without a profile name is not supported, ignored"
        )),
    }
}

/// A Kubernetes capability name (`NET_ADMIN`) as Docker names it (`CAP_NET_ADMIN`); `ALL`
/// stays.
pub fn docker_capability(name: &str) -> String {
    let upper = name.to_ascii_uppercase();
    if upper == "ALL" || upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    }
}

/// The kubelet's name of a pod in messages: `name_namespace(uid)`.
fn pod_ref(pod: &Value) -> String {
    let m = |k| {
        pod.pointer(&format!("/metadata/{k}"))
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    format!("{}_{}({})", m("name"), m("namespace"), m("uid"))
}

/// The kubelet's runAsNonRoot check against the image's configured user (`Config.User` of
/// the image, `""` meaning root), for a container without runAsUser. The runtime calls it
/// after inspecting the image; `Err` is the kubelet's CreateContainerConfigError message.
pub fn check_image_user(input: &ContainerInput<'_>, image_user: &str) -> Result<(), String> {
    let pod_ctx = input
        .pod
        .pointer("/spec/securityContext")
        .unwrap_or(&Value::Null);
    let ctx = input
        .container
        .get("securityContext")
        .unwrap_or(&Value::Null);
    let either = |key: &str| ctx.get(key).or_else(|| pod_ctx.get(key));
    if either("runAsNonRoot").and_then(Value::as_bool) != Some(true)
        || either("runAsUser").and_then(Value::as_i64).is_some()
    {
        return Ok(());
    }
    let user = image_user.split(':').next().unwrap_or("");
    let who = format!(
        "(pod: {:?}, container: {})",
        pod_ref(input.pod),
        input.name()
    );
    match user.parse::<u64>() {
        Ok(0) => Err(format!(
            "container has runAsNonRoot and image will run as root {who}"
        )),
        Ok(_) => Ok(()),
        Err(_) if user.is_empty() || user == "root" => Err(format!(
            "container has runAsNonRoot and image will run as root {who}"
        )),
        Err(_) => Err(format!(
            "container has runAsNonRoot and image has non-numeric user ({user}), cannot verify user is non-root {who}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::spec::testutil::{input_for, resolved};
    use serde_json::json;

    fn pod(pod_ctx: Value, ctx: Value) -> Value {
        json!({
            "metadata": {"name": "api", "namespace": "prod", "uid": "u-1"},
            "spec": {"securityContext": pod_ctx,
                "containers": [{"name": "app", "image": "busybox", "securityContext": ctx}]}
        })
    }

    fn run(pod_ctx: Value, ctx: Value) -> (Result<ContainerCreateBody, String>, Vec<String>) {
        let p = pod(pod_ctx, ctx);
        let r = resolved();
        let mut body = ContainerCreateBody::default();
        let mut w = Vec::new();
        let out = apply(&mut body, &input_for(&p, &r), "spec.containers[0]", &mut w).map(|_| body);
        (out, w)
    }

    fn host(b: &ContainerCreateBody) -> &HostConfig {
        b.host_config.as_ref().unwrap()
    }

    #[test]
    fn container_overrides_pod() {
        let (b, w) = run(
            json!({"runAsUser": 1000, "runAsGroup": 3000, "supplementalGroups": [4000, 5000], "fsGroup": 2000}),
            json!({"runAsUser": 1001}),
        );
        let b = b.unwrap();
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(b.user.as_deref(), Some("1001:3000"));
        assert_eq!(
            host(&b).group_add,
            Some(vec!["4000".into(), "5000".into(), "2000".into()])
        );
    }

    #[test]
    fn privileges_and_capabilities() {
        let (b, _) = run(
            json!({}),
            json!({"privileged": true, "readOnlyRootFilesystem": true, "allowPrivilegeEscalation": false,
                "capabilities": {"add": ["NET_ADMIN", "sys_time"], "drop": ["ALL"]}}),
        );
        let b = b.unwrap();
        let h = host(&b);
        assert_eq!(h.privileged, Some(true));
        assert_eq!(h.readonly_rootfs, Some(true));
        assert_eq!(
            h.cap_add,
            Some(vec!["CAP_NET_ADMIN".into(), "CAP_SYS_TIME".into()])
        );
        assert_eq!(h.cap_drop, Some(vec!["ALL".into()]));
        assert_eq!(h.security_opt, Some(vec!["no-new-privileges".into()]));
    }

    #[test]
    fn seccomp_and_apparmor() {
        let (b, w) = run(
            json!({"seccompProfile": {"type": "Unconfined"}, "appArmorProfile": {"type": "Localhost", "localhostProfile": "k2d-deny"}}),
            json!({}),
        );
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(
            host(&b.unwrap()).security_opt,
            Some(vec![
                "seccomp=unconfined".into(),
                "apparmor=k2d-deny".into()
            ])
        );
        let (b, w) = run(
            json!({"seccompProfile": {"type": "Unconfined"}}),
            json!({"seccompProfile": {"type": "Localhost", "localhostProfile": "my.json"}, "appArmorProfile": {"type": "Unconfined"}}),
        );
        assert_eq!(
            host(&b.unwrap()).security_opt,
            Some(vec!["apparmor=unconfined".into()])
        );
        assert_eq!(
            w,
            vec![
                "spec.containers[0].securityContext.seccompProfile: Localhost profiles are not supported by k2d on Docker, the engine's default profile applies"
            ]
        );
        let (b, w) = run(
            json!({"seccompProfile": {"type": "RuntimeDefault"}}),
            json!({}),
        );
        assert!(w.is_empty());
        assert_eq!(host(&b.unwrap()).security_opt, None);
    }

    #[test]
    fn apparmor_annotation() {
        let mut p = pod(json!({}), json!({}));
        p["metadata"]["annotations"] =
            json!({"container.apparmor.security.beta.kubernetes.io/app": "localhost/k2d-profile"});
        let r = resolved();
        let mut body = ContainerCreateBody::default();
        let mut w = Vec::new();
        apply(&mut body, &input_for(&p, &r), "spec.containers[0]", &mut w).unwrap();
        assert_eq!(
            host(&body).security_opt,
            Some(vec!["apparmor=k2d-profile".into()])
        );
    }

    #[test]
    fn run_as_non_root() {
        let (b, _) = run(json!({"runAsNonRoot": true}), json!({"runAsUser": 0}));
        assert_eq!(
            b.unwrap_err(),
            "container's runAsUser breaks non-root policy (pod: \"api_prod(u-1)\", container: app)"
        );
        let (b, w) = run(json!({"runAsNonRoot": true, "runAsUser": 1000}), json!({}));
        assert_eq!(b.unwrap().user.as_deref(), Some("1000"));
        assert!(w.is_empty());
        let (b, w) = run(json!({}), json!({"runAsNonRoot": true}));
        assert!(b.is_ok());
        assert_eq!(w.len(), 1);
        assert!(w[0].starts_with("spec.containers[0].securityContext.runAsNonRoot:"));
    }

    #[test]
    fn image_user_check() {
        let p = pod(json!({"runAsNonRoot": true}), json!({}));
        let r = resolved();
        let i = input_for(&p, &r);
        assert_eq!(
            check_image_user(&i, "").unwrap_err(),
            "container has runAsNonRoot and image will run as root (pod: \"api_prod(u-1)\", container: app)"
        );
        assert!(check_image_user(&i, "0:0").is_err());
        assert!(check_image_user(&i, "1000").is_ok());
        assert!(check_image_user(&i, "1000:1000").is_ok());
        assert!(
            check_image_user(&i, "nginx")
                .unwrap_err()
                .contains("non-numeric user (nginx)")
        );
        let p = pod(json!({"runAsNonRoot": true}), json!({"runAsUser": 5}));
        assert!(check_image_user(&input_for(&p, &r), "").is_ok());
        let p = pod(json!({}), json!({}));
        assert!(check_image_user(&input_for(&p, &r), "").is_ok());
    }

    #[test]
    fn unsupported_fields_warn() {
        let mut p = pod(
            json!({"seLinuxOptions": {"level": "s0"}, "runAsGroup": 5}),
            json!({"procMount": "Unmasked", "windowsOptions": {"runAsUserName": "x"}, "seLinuxOptions": {}}),
        );
        p["spec"]["hostUsers"] = json!(false);
        let r = resolved();
        let mut body = ContainerCreateBody::default();
        let mut w = Vec::new();
        apply(&mut body, &input_for(&p, &r), "spec.containers[0]", &mut w).unwrap();
        assert_eq!(body.user, None);
        assert_eq!(
            w,
            vec![
                "spec.containers[0].securityContext.runAsGroup: without runAsUser the engine cannot change only the group of the image's user, ignored",
                "spec.containers[0].securityContext.procMount: Unmasked is not supported by k2d on Docker, ignored",
                "spec.containers[0].securityContext.seLinuxOptions: not supported by k2d on Docker, ignored",
                "spec.securityContext.seLinuxOptions: not supported by k2d on Docker, ignored",
                "spec.containers[0].securityContext.windowsOptions: not supported by k2d on Docker, ignored",
                "spec.hostUsers: user namespaces are not set up by k2d on Docker, ignored",
            ]
        );
    }

    #[test]
    fn capability_names() {
        assert_eq!(
            docker_capability("NET_BIND_SERVICE"),
            "CAP_NET_BIND_SERVICE"
        );
        assert_eq!(docker_capability("CAP_CHOWN"), "CAP_CHOWN");
        assert_eq!(docker_capability("all"), "ALL");
    }
}
