//! Watches: `?watch=true` on a list path and the `/watch/` paths. Initial events (a snapshot as
//! ADDED events, then the `k8s.io/initial-events-end` bookmark for watch-list clients), then
//! every change the store publishes, filtered by the request's selectors, as JSON lines or
//! one-row Tables, until `timeoutSeconds` or until the client goes away.
//!
//! With `allowWatchBookmarks=true` a BOOKMARK carrying the revision the watch has caught up to
//! is sent every [`BOOKMARK_EVERY`] and 2 s before the deadline (as the apiserver does), when
//! it is newer than the last event sent, so a client whose selection changes rarely resumes
//! from a recent revision instead of one the history no longer holds (410, then a re-list).
//!
//! A client that stops reading: the store drops its watch once the queue holds
//! [`crate::store::StoreOptions::watch_queue`] events or `watch_queue_bytes` bytes (as the
//! apiserver drops a watcher whose buffer is full), so it holds up no writer and no other
//! watcher. The response then ends by itself if the client reads again; if it still does not
//! read [`DRAIN_GRACE`] later (or after its deadline), its connection (HTTP/1.1) or stream
//! (HTTP/2) is closed, so the client re-watches or re-lists and k2d frees what it held.

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http::StatusCode;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use serde_json::{Value, json};

use super::filter::Filter;
use super::{ApiContext, blocking, list_options, store_error};
use crate::api::model::ResourceInfo;
use crate::api::status::Status;
use crate::api::{ApiRequest, ApiResult, Reply, accept, meta, table};
use crate::store::{EventKind, Watch};

/// How long a watch without `timeoutSeconds` stays open (a real server picks 30 to 60 minutes).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1800);

/// How often a watch that allows bookmarks gets one (the apiserver's heartbeat is a minute).
pub const BOOKMARK_EVERY: Duration = Duration::from_secs(60);

/// How long before its deadline a watch that allows bookmarks gets its last one.
const BOOKMARK_BEFORE_END: Duration = Duration::from_secs(2);

/// How long a watch the store has ended (or whose deadline passed) may take to deliver what
/// was queued before its connection or stream is closed: enough for a slow link to drain a
/// full queue, short enough that a client that stopped reading does not keep it for long.
pub const DRAIN_GRACE: Duration = Duration::from_secs(10);

/// How each event's object is written.
enum Encoding {
    Json,
    Table {
        version: String,
        include: table::IncludeObject,
    },
}

struct State {
    resource: &'static ResourceInfo,
    pending: VecDeque<Bytes>,
    watch: Watch,
    filter: Filter,
    /// Keys of the objects the client has been shown (only kept when filtering), so that an
    /// object leaving the selection becomes DELETED and one entering it ADDED.
    shown: Option<HashSet<String>>,
    encoding: Encoding,
    columns_sent: bool,
    deadline: tokio::time::Instant,
    /// When the next BOOKMARK is due; `None` when the client did not allow them.
    next_bookmark: Option<tokio::time::Instant>,
    /// The revision of the last event or BOOKMARK sent.
    sent: u64,
    /// Dropped with the body: tells the [`guard`] the response is over.
    _alive: Option<tokio::sync::oneshot::Sender<()>>,
}

fn ident(obj: &Value) -> String {
    format!(
        "{}/{}",
        meta::meta_str(obj, "namespace").unwrap_or_default(),
        meta::meta_str(obj, "name").unwrap_or_default()
    )
}

impl State {
    fn line(&mut self, kind: &str, obj: &Value) -> Bytes {
        let object = match &self.encoding {
            Encoding::Json => obj.clone(),
            Encoding::Table { version, include } if kind != "BOOKMARK" => {
                let rv = meta::meta_str(obj, "resourceVersion")
                    .unwrap_or_default()
                    .to_string();
                let mut t = table::table(
                    version,
                    self.resource,
                    &rv,
                    vec![table::row(self.resource, obj, *include)],
                );
                if self.columns_sent {
                    t["columnDefinitions"] = json!([]);
                }
                self.columns_sent = true;
                t
            }
            Encoding::Table { .. } => obj.clone(),
        };
        let mut line = serde_json::to_vec(&json!({"type": kind, "object": object}))
            .expect("a JSON value serializes");
        line.push(b'\n');
        Bytes::from(line)
    }

    /// The event type to show for a change, or `None` when the client does not see it.
    fn visible(&mut self, kind: EventKind, obj: &Value) -> Option<&'static str> {
        let matches = self.filter.matches(obj);
        let Some(shown) = &mut self.shown else {
            return matches.then_some(match kind {
                EventKind::Added => "ADDED",
                EventKind::Modified => "MODIFIED",
                EventKind::Deleted => "DELETED",
            });
        };
        let id = ident(obj);
        let was = shown.contains(&id);
        match (kind, matches, was) {
            // A deletion the client may not have seen the object for (it was listed before the
            // watch began) still counts when the object's last state is selected.
            (EventKind::Deleted, _, _) if was || matches => {
                shown.remove(&id);
                Some("DELETED")
            }
            (EventKind::Deleted, _, _) => None,
            // A creation is new to the client even when it is in the selection the resume was
            // computed from (that list is taken after the watch's resourceVersion).
            (EventKind::Added, true, _) => {
                shown.insert(id);
                Some("ADDED")
            }
            (_, true, true) => Some("MODIFIED"),
            (_, true, false) => {
                shown.insert(id);
                Some("ADDED")
            }
            (_, false, true) => {
                shown.remove(&id);
                Some("DELETED")
            }
            (_, false, false) => None,
        }
    }

    /// When the BOOKMARK after one at `now` is due: a heartbeat, or the one just before the end.
    fn bookmark_after(&self, now: tokio::time::Instant) -> tokio::time::Instant {
        let heartbeat = now + BOOKMARK_EVERY;
        match self.deadline.checked_sub(BOOKMARK_BEFORE_END) {
            Some(last) if last > now && last < heartbeat => last,
            _ => heartbeat,
        }
    }

    fn bookmark(&mut self, revision: u64) -> Bytes {
        self.sent = revision;
        let obj = json!({
            "kind": self.resource.kind,
            "apiVersion": self.resource.api_version(),
            "metadata": {"resourceVersion": revision.to_string()},
        });
        self.line("BOOKMARK", &obj)
    }

    async fn next(&mut self) -> Option<Bytes> {
        if let Some(b) = self.pending.pop_front() {
            return Some(b);
        }
        loop {
            let due = self.next_bookmark;
            let event = tokio::select! {
                e = self.watch.recv() => e?,
                _ = tokio::time::sleep_until(self.deadline) => return None,
                _ = async { tokio::time::sleep_until(due.unwrap_or(self.deadline)).await }, if due.is_some() => {
                    let now = tokio::time::Instant::now();
                    self.next_bookmark = Some(self.bookmark_after(now));
                    match self.watch.bookmark_revision() {
                        Some(revision) if revision > self.sent => return Some(self.bookmark(revision)),
                        _ => continue,
                    }
                }
            };
            if let Some(kind) = self.visible(event.kind, &event.object) {
                self.sent = event.revision;
                return Some(self.line(kind, &event.object));
            }
        }
    }
}

/// Closes the response's connection or stream when the store ended the watch (or its
/// deadline passed) and the body is still there [`DRAIN_GRACE`] later: the client stopped
/// reading, so the body is never polled and could not end by itself.
fn guard(
    ended: crate::store::Ended,
    deadline: tokio::time::Instant,
    abort: crate::server::abort::Abort,
) -> tokio::sync::oneshot::Sender<()> {
    let (alive, mut gone) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        tokio::select! {
            _ = &mut gone => return,
            _ = ended.wait() => {}
            _ = tokio::time::sleep_until(deadline) => {}
        }
        tokio::select! {
            _ = &mut gone => {}
            _ = tokio::time::sleep(DRAIN_GRACE) => {
                tracing::debug!("closing a watch whose client stopped reading");
                abort.abort();
            }
        }
    });
    alive
}

/// A watch stream of one ERROR event with `status`, then the end.
fn expired(status: Status) -> Reply {
    let mut line = serde_json::to_vec(&json!({"type": "ERROR", "object": status.to_json()}))
        .expect("a JSON value serializes");
    line.push(b'\n');
    Reply::bytes(StatusCode::OK, "application/json", line)
}

fn invalid(message: &str) -> Status {
    Status::new(422, "Invalid", message.to_string())
}

/// Serves a watch.
pub async fn watch(ctx: &ApiContext, req: &ApiRequest) -> ApiResult {
    let r = req.resource;
    let filter = Filter::from_request(req)?;
    let ns = if r.namespaced {
        req.namespace.as_deref()
    } else {
        None
    };
    list_options::validate(&req.query, true)?;
    let send_initial = list_options::bool_param(&req.query, "sendInitialEvents");
    let bookmarks = req.query.flag("allowWatchBookmarks");
    if send_initial == Some(true) && !bookmarks {
        return Err(invalid(
            "allowWatchBookmarks: Forbidden: allowWatchBookmarks must be set to true when sendInitialEvents is set",
        ));
    }
    let since = list_options::resource_version(&req.query)?;
    // Without a resourceVersion (or with "0") a watch starts with the current state; with one it
    // resumes after it, unless the client asked for initial events.
    let initial = send_initial.unwrap_or(since.is_none());
    let mut pending = VecDeque::new();
    // As the real server: none or 0 is its default, a negative one ends the watch at once.
    let timeout = match list_options::int64(&req.query, "timeoutSeconds")? {
        None | Some(0) => DEFAULT_TIMEOUT,
        Some(n) => Duration::from_secs(n.max(0) as u64),
    };
    let ranges = accept::parse(&req.headers);
    let encoding = match table::wanted(&ranges) {
        Some(version) => Encoding::Table {
            version,
            include: table::IncludeObject::parse(req.query.get("includeObject"))?,
        },
        None => Encoding::Json,
    };
    let (watch, snapshot, revision) = if initial {
        let (items, revision, watch) = blocking(|| ctx.store.list_and_watch(r.group, r.name, ns))
            .map_err(|e| store_error(r, "", e))?;
        (watch, items, revision)
    } else {
        match ctx.store.watch(r.group, r.name, ns, since) {
            Ok(watch) => (watch, Vec::new(), 0),
            // A real server answers a too-old resourceVersion with one ERROR event carrying the
            // 410 Status; clients then list again.
            Err(e @ crate::store::StoreError::Gone { .. }) => {
                return Ok(expired(store_error(r, "", e)));
            }
            Err(e) => return Err(store_error(r, "", e)),
        }
    };
    // Resuming with a filter: the client knows the selected objects, so that the first change
    // of one is MODIFIED (not ADDED) and its deletion DELETED. The store's events carry only the
    // new state, so the selection is taken from the objects as they are now.
    let shown = if filter.is_empty() {
        None
    } else if initial {
        Some(HashSet::new())
    } else {
        let (items, _) =
            blocking(|| ctx.store.list(r.group, r.name, ns)).map_err(|e| store_error(r, "", e))?;
        Some(
            items
                .iter()
                .filter(|o| filter.matches(o))
                .map(ident)
                .collect(),
        )
    };
    // An absurd timeoutSeconds means "no deadline" rather than an overflow.
    let now = tokio::time::Instant::now();
    let deadline = now
        .checked_add(timeout)
        .unwrap_or(now + Duration::from_secs(1 << 32));
    let alive = crate::server::abort::Abort::current().map(|a| guard(watch.ended(), deadline, a));
    let mut state = State {
        resource: r,
        pending: VecDeque::new(),
        watch,
        shown,
        filter,
        encoding,
        columns_sent: false,
        deadline,
        next_bookmark: None,
        sent: revision.max(since.unwrap_or(0)),
        _alive: alive,
    };
    if bookmarks {
        state.next_bookmark = Some(state.bookmark_after(now));
    }
    for obj in &snapshot {
        if let Some(kind) = state.visible(EventKind::Added, obj) {
            pending.push_back(state.line(kind, obj));
        }
    }
    if initial && send_initial == Some(true) {
        let bookmark = json!({
            "kind": r.kind,
            "apiVersion": r.api_version(),
            "metadata": {"resourceVersion": revision.to_string(), "annotations": {"k8s.io/initial-events-end": "true"}},
        });
        pending.push_back(state.line("BOOKMARK", &bookmark));
    }
    state.pending = pending;
    let stream =
        futures_util::stream::unfold(state, |mut s| async move { s.next().await.map(|b| (b, s)) });
    let body =
        StreamBody::new(stream.map(|b| Ok::<_, std::io::Error>(Frame::data(b)))).boxed_unsync();
    let ct = match table::wanted(&ranges) {
        Some(v) => table::content_type(&v),
        None => http::HeaderValue::from_static("application/json"),
    };
    Ok(Reply::body(StatusCode::OK, ct, body))
}
