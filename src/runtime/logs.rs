//! `pods/log`: a container's output from the engine, with the options `kubectl logs` sends
//! (container, follow, tailLines, sinceSeconds, sinceTime, timestamps, limitBytes, previous).

use crate::api::{ApiRequest, ApiResult, Status};

/// Answers GET pods/{name}/log.
pub async fn serve(req: &ApiRequest) -> ApiResult {
    let _ = req;
    Err(Status::new(
        501,
        "NotImplemented",
        "pods/log is not served yet",
    ))
}
