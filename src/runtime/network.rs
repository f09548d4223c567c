//! The pod network: one user-defined bridge network named `k2d` that every sandbox joins
//! (hostNetwork pods use the host's), and the node's address.

use std::collections::HashMap;

use bollard::models::NetworkCreateRequest;

use crate::engine::{Engine, labels};

/// The name of the pod network.
pub const NAME: &str = "k2d";

/// Makes sure the pod network exists: reuses a `k2d` network that a k2d created (it carries
/// the instance label), creates it otherwise. A network of that name that no k2d created is
/// an error: k2d does not take over what it did not make.
///
/// Calls are serialised: Docker 20.10 accepts a second network of the same name (the API
/// version k2d speaks has no `CheckDuplicate`), so two pods starting together on a fresh
/// engine made two `k2d` networks, after which the name was ambiguous and no sandbox could
/// join it.
pub async fn ensure(engine: &Engine) -> Result<(), String> {
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _one = ONE_AT_A_TIME.lock().await;
    let docker = engine.docker();
    for _ in 0..2 {
        match docker
            .inspect_network(
                NAME,
                None::<bollard::query_parameters::InspectNetworkOptions>,
            )
            .await
        {
            Ok(n) => {
                let ours = n
                    .labels
                    .as_ref()
                    .is_some_and(|l| l.contains_key(labels::INSTANCE));
                return if ours {
                    Ok(())
                } else {
                    Err(format!(
                        "the engine has a network named {NAME:?} that k2d did not create; remove or rename it"
                    ))
                };
            }
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => {}
            Err(e) => return Err(format!("inspecting the pod network: {e}")),
        }
        let request = NetworkCreateRequest {
            name: NAME.into(),
            driver: Some("bridge".into()),
            labels: Some(HashMap::from([(
                labels::INSTANCE.to_string(),
                engine.instance.clone(),
            )])),
            ..Default::default()
        };
        match docker.create_network(request).await {
            Ok(_) => {
                tracing::info!("created the pod network {NAME}");
                return Ok(());
            }
            // Created meanwhile by another k2d: inspect it again.
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 409, ..
            }) => continue,
            Err(e) => return Err(format!("creating the pod network: {e}")),
        }
    }
    Err(format!("the pod network {NAME} could not be made"))
}

/// The node's address (see [`crate::controllers::node::host_ip`]).
pub use crate::controllers::node::host_ip;
