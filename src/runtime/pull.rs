//! Images of a pod's containers: an image on the host is used as it is (a pull is tried first
//! only for `imagePullPolicy: Always`), a missing one is pulled with the pod's credentials,
//! with ErrImagePull, ImagePullBackOff and ErrImageNeverPull as the container's waiting state.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::containers;
use super::reconcile::{Runs, Runtime, State, field_path, str_at};
use super::spec;
use super::status::Waiting;
use crate::controllers::events::EventType;

impl Runtime {
    /// Makes sure the image of a container is on the host: `Err` is the waiting state.
    pub(super) async fn image(
        &self,
        pod: &Value,
        init: bool,
        r: &Runs,
        st: &mut State,
    ) -> Result<(), Waiting> {
        let name = r.name();
        let image = str_at(&r.spec, "/image").to_string();
        let policy = str_at(&r.spec, "/imagePullPolicy");
        let fp = field_path(init, &name);
        let present = containers::image_present(&self.engine, &image).await;
        if present && policy != "Always" {
            self.recorder
                .record(
                    pod,
                    Some(&fp),
                    EventType::Normal,
                    "Pulled",
                    &format!("Container image \"{image}\" already present on machine"),
                )
                .await;
            return Ok(());
        }
        if !present && policy == "Never" {
            let message =
                format!("Container image \"{image}\" is not present with pull policy of Never");
            self.recorder
                .record(
                    pod,
                    Some(&fp),
                    EventType::Warning,
                    "ErrImageNeverPull",
                    &message,
                )
                .await;
            return Err(Waiting {
                reason: "ErrImageNeverPull".into(),
                message,
            });
        }
        let now = Instant::now();
        let b = st.pull.entry(name.clone()).or_default();
        if !present && b.waiting(now) {
            let message = format!("Back-off pulling image \"{image}\"");
            self.recorder
                .record(pod, Some(&fp), EventType::Normal, "BackOff", &message)
                .await;
            return Err(Waiting {
                reason: "ImagePullBackOff".into(),
                message,
            });
        }
        self.recorder
            .record(
                pod,
                Some(&fp),
                EventType::Normal,
                "Pulling",
                &format!("Pulling image \"{image}\""),
            )
            .await;
        let resolved = st.resolved.clone().unwrap_or_default();
        let credentials = spec::pull_credentials(pod, &resolved, &image);
        let started = Instant::now();
        match containers::pull(&self.engine, &image, credentials).await {
            Ok(()) => {
                st.pull.remove(&name);
                self.recorder
                    .record(
                        pod,
                        Some(&fp),
                        EventType::Normal,
                        "Pulled",
                        &format!(
                            "Successfully pulled image \"{image}\" in {}ms",
                            started.elapsed().as_millis()
                        ),
                    )
                    .await;
                Ok(())
            }
            Err(e) => {
                let message = format!("Failed to pull image \"{image}\": {e}");
                self.recorder
                    .record(pod, Some(&fp), EventType::Warning, "Failed", &message)
                    .await;
                if present {
                    // Always with the image on the host: devices run offline, so a failed
                    // pull runs the local image rather than nothing (the failure is recorded).
                    return Ok(());
                }
                self.recorder
                    .record(
                        pod,
                        Some(&fp),
                        EventType::Warning,
                        "Failed",
                        "Error: ErrImagePull",
                    )
                    .await;
                let b = st.pull.entry(name).or_default();
                b.exited(now, Duration::ZERO);
                b.restarted();
                b.exited(now, Duration::ZERO);
                Err(Waiting {
                    reason: "ErrImagePull".into(),
                    message,
                })
            }
        }
    }
}
