//! Services: a cluster IP from k2d's service range and node ports from 30000-32767, allocated
//! on create as the real server's Service storage allocates them (a given address or port is
//! checked to be in range and free). Creations are serialized so two at once never get the
//! same address.

use std::collections::HashSet;
use std::net::Ipv4Addr;

use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::api::objects::{self, blocking};
use crate::api::validation::{FieldError, invalid_status};
use crate::api::{ApiRequest, ApiResult, body};
use crate::controllers::template_hash::{FNV_OFFSET, fnv1a_32};
use crate::generated::core_v1::ServiceTranslator;

use crate::network::{SERVICE_NETWORK, in_service_network as in_network};
/// The node port range.
pub const NODE_PORTS: std::ops::RangeInclusive<u16> = 30000..=32767;

/// Held while a Service is allocated and stored.
static ALLOCATING: Mutex<()> = Mutex::const_new(());

/// The services translator.
pub struct Services;

/// What the stored Services already hold: cluster IPs and node ports.
#[derive(Clone, Default)]
struct Taken {
    ips: HashSet<String>,
    ports: HashSet<u16>,
}

fn taken(services: &[Value]) -> Taken {
    let mut t = Taken::default();
    for s in services {
        let spec = &s["spec"];
        for ip in spec["clusterIPs"].as_array().into_iter().flatten() {
            if let Some(ip) = ip.as_str() {
                t.ips.insert(ip.to_string());
            }
        }
        if let Some(ip) = spec["clusterIP"].as_str() {
            t.ips.insert(ip.to_string());
        }
        for p in spec["ports"].as_array().into_iter().flatten() {
            if let Some(n) = p["nodePort"].as_u64() {
                t.ports.insert(n as u16);
            }
        }
    }
    t
}

/// A free address of the service network, starting from a point derived from `seed` so the
/// same Service tends to get the same address; skips the network and first addresses (the
/// first ten are kept for the `kubernetes` Service and the cluster DNS).
fn free_ip(taken: &HashSet<String>, seed: &str) -> Option<Ipv4Addr> {
    let (base, bits) = SERVICE_NETWORK;
    let size = 1u32 << (32 - bits);
    let start = fnv1a_32(seed.as_bytes(), FNV_OFFSET);
    (0..size).find_map(|i| {
        let offset = (start.wrapping_add(i)) % size;
        if offset < 10 || offset == size - 1 {
            return None;
        }
        let ip = Ipv4Addr::from(u32::from(base) + offset);
        (!taken.contains(&ip.to_string())).then_some(ip)
    })
}

fn free_port(taken: &HashSet<u16>, seed: &str) -> Option<u16> {
    let span = (NODE_PORTS.end() - NODE_PORTS.start() + 1) as u32;
    let start = fnv1a_32(seed.as_bytes(), FNV_OFFSET);
    (0..span).find_map(|i| {
        let port = NODE_PORTS.start() + ((start.wrapping_add(i)) % span) as u16;
        (!taken.contains(&port)).then_some(port)
    })
}

/// Fills in (or checks) the cluster IP and node ports of a new Service. `Err` lists the fields
/// at fault.
fn allocate(svc: &mut Value, taken: &mut Taken, seed: &str) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    let kind = svc["spec"]["type"]
        .as_str()
        .unwrap_or("ClusterIP")
        .to_string();
    let spec = &mut svc["spec"];
    if kind != "ExternalName" {
        let given = spec["clusterIP"].as_str().unwrap_or("").to_string();
        match given.as_str() {
            "None" => {}
            "" => match free_ip(&taken.ips, seed) {
                Some(ip) => {
                    spec["clusterIP"] = json!(ip.to_string());
                    spec["clusterIPs"] = json!([ip.to_string()]);
                    taken.ips.insert(ip.to_string());
                }
                None => errors.push(FieldError::invalid(
                    "spec.clusterIPs",
                    json!([]),
                    "failed to allocate IP: range is full",
                )),
            },
            ip => match ip.parse::<Ipv4Addr>() {
                Ok(addr) if !in_network(addr) => errors.push(FieldError::invalid(
                    "spec.clusterIPs",
                    json!([ip]),
                    format!(
                        "failed to allocate IP {ip}: the provided IP ({ip}) is not in the valid range. The range of valid IPs is {}/{}",
                        SERVICE_NETWORK.0, SERVICE_NETWORK.1
                    ),
                )),
                Ok(_) if taken.ips.contains(ip) => errors.push(FieldError::invalid(
                    "spec.clusterIPs",
                    json!([ip]),
                    format!("failed to allocate IP {ip}: provided IP is already allocated"),
                )),
                Ok(_) => {
                    taken.ips.insert(ip.to_string());
                }
                Err(_) => {} // the field validation reports malformed addresses
            },
        }
    }
    if matches!(kind.as_str(), "NodePort" | "LoadBalancer") {
        let ports = spec["ports"].as_array_mut();
        for (i, p) in ports.into_iter().flatten().enumerate() {
            match p["nodePort"].as_u64() {
                None | Some(0) => match free_port(&taken.ports, &format!("{seed}/{i}")) {
                    Some(n) => {
                        p["nodePort"] = json!(n);
                        taken.ports.insert(n);
                    }
                    None => errors.push(FieldError::invalid(
                        format!("spec.ports[{i}].nodePort"),
                        json!(0),
                        "failed to allocate a nodePort: range is full",
                    )),
                },
                Some(n) if n > u16::MAX as u64 || !NODE_PORTS.contains(&(n as u16)) => {
                    errors.push(FieldError::invalid(
                        format!("spec.ports[{i}].nodePort"),
                        json!(n),
                        format!(
                            "provided port is not in the valid range. The range of valid ports is {}-{}",
                            NODE_PORTS.start(),
                            NODE_PORTS.end()
                        ),
                    ))
                }
                Some(n) if taken.ports.contains(&(n as u16)) => errors.push(FieldError::invalid(
                    format!("spec.ports[{i}].nodePort"),
                    json!(n),
                    "provided port is already allocated",
                )),
                Some(n) => {
                    taken.ports.insert(n as u16);
                }
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[async_trait::async_trait]
impl ServiceTranslator for Services {
    async fn create(&self, req: ApiRequest) -> ApiResult {
        let _held = ALLOCATING.lock().await;
        let (all, _) = blocking(|| req.ctx.store.list("", "services", None))
            .map_err(|e| objects::store_error(req.resource, "", e))?;
        let mut taken = taken(&all);
        // Check what the client asked for before anything is stored; the allocation itself
        // happens on the completed object.
        let (probe, _) = body::decode_object(&req)?;
        let name = probe
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let seed = format!(
            "{}/{}",
            req.namespace.as_deref().unwrap_or_default(),
            if name.is_empty() {
                crate::api::meta::new_uid()
            } else {
                name.clone()
            }
        );
        let mut checked = probe.clone();
        if checked["spec"].is_object()
            && let Err(errors) = allocate(&mut checked, &mut taken.clone(), &seed)
        {
            return Err(invalid_status("Service", "", &name, &errors));
        }
        objects::create::create_with(&req.ctx, &req, |svc| {
            if allocate(svc, &mut taken, &seed).is_err() {
                tracing::warn!("service allocation changed between check and create");
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_ip_allocated_in_range_and_unique() {
        let mut taken = Taken::default();
        let mut a = json!({"spec": {"type": "ClusterIP", "ports": [{"port": 80}]}});
        let mut b = a.clone();
        allocate(&mut a, &mut taken, "ns/a").unwrap();
        allocate(&mut b, &mut taken, "ns/a").unwrap();
        let ia: Ipv4Addr = a["spec"]["clusterIP"].as_str().unwrap().parse().unwrap();
        let ib: Ipv4Addr = b["spec"]["clusterIP"].as_str().unwrap().parse().unwrap();
        assert!(in_network(ia) && in_network(ib));
        assert_ne!(ia, ib);
        assert_eq!(a["spec"]["clusterIPs"], json!([ia.to_string()]));
        assert!(a["spec"]["ports"][0].get("nodePort").is_none());
    }

    #[test]
    fn headless_and_external_name_get_no_address() {
        let mut taken = Taken::default();
        let mut h = json!({"spec": {"clusterIP": "None"}});
        allocate(&mut h, &mut taken, "x").unwrap();
        assert_eq!(h["spec"]["clusterIP"], "None");
        let mut e = json!({"spec": {"type": "ExternalName", "externalName": "example.com"}});
        allocate(&mut e, &mut taken, "y").unwrap();
        assert!(e["spec"].get("clusterIP").is_none());
    }

    #[test]
    fn node_ports_allocated_and_checked() {
        let mut taken = Taken::default();
        let mut a = json!({"spec": {"type": "NodePort", "ports": [{"port": 80}, {"port": 81, "nodePort": 30080}]}});
        allocate(&mut a, &mut taken, "a").unwrap();
        let n = a["spec"]["ports"][0]["nodePort"].as_u64().unwrap() as u16;
        assert!(NODE_PORTS.contains(&n));
        assert_eq!(a["spec"]["ports"][1]["nodePort"], 30080);
        let mut again =
            json!({"spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]}});
        let errs = allocate(&mut again, &mut taken, "b").unwrap_err();
        assert_eq!(errs[0].field, "spec.ports[0].nodePort");
        let mut out =
            json!({"spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 80}]}});
        assert!(allocate(&mut out, &mut taken, "c").is_err());
    }

    #[test]
    fn given_cluster_ip_checked() {
        let mut taken = Taken::default();
        let mut a = json!({"spec": {"clusterIP": "10.96.5.5"}});
        allocate(&mut a, &mut taken, "a").unwrap();
        let mut dup = json!({"spec": {"clusterIP": "10.96.5.5"}});
        assert!(allocate(&mut dup, &mut taken, "b").is_err());
        let mut outside = json!({"spec": {"clusterIP": "192.168.1.1"}});
        assert!(allocate(&mut outside, &mut taken, "c").is_err());
    }
}
