//! Ending one response from outside it. A handler whose response body the client stopped
//! reading is never polled again, so it cannot end itself; it takes the [`Abort`] of the scope
//! it runs in and fires it. The scope is the connection for HTTP/1.1 (closing the connection
//! is the only way to end a response there) and the stream for HTTP/2 (dropping the stream's
//! task resets that stream only; the connection's other streams go on).

use std::future::Future;
use std::sync::Arc;

use tokio::sync::Notify;

tokio::task_local! {
    static SCOPE: Abort;
}

/// Ends the connection (HTTP/1.1) or stream (HTTP/2) that serves the current request.
#[derive(Clone, Debug, Default)]
pub struct Abort(Arc<Notify>);

impl Abort {
    /// The handle of the scope the caller runs in; `None` outside the server (tests that call
    /// the router directly, the in-process client).
    pub fn current() -> Option<Abort> {
        SCOPE.try_with(Clone::clone).ok()
    }

    /// Ends the scope: its future is dropped at its next chance, whatever it waits for.
    pub fn abort(&self) {
        // A stored permit: the scope ends even if it is not waiting right now.
        self.0.notify_one();
    }
}

/// Runs `fut` as an abortable scope; `None` when it was aborted.
pub async fn abortable<F: Future>(fut: F) -> Option<F::Output> {
    let abort = Abort::default();
    let fired = abort.0.clone();
    SCOPE
        .scope(abort, async move {
            tokio::select! {
                out = fut => Some(out),
                _ = fired.notified() => None,
            }
        })
        .await
}

/// The executor hyper spawns HTTP/2 streams on: each stream is its own abortable scope.
#[derive(Clone, Copy, Debug, Default)]
pub struct Executor;

impl<F> hyper::rt::Executor<F> for Executor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, fut: F) {
        tokio::spawn(abortable(fut));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_abort_ends_its_own_scope_only() {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let aborted = tokio::spawn(abortable(async move {
            tx.send(Abort::current().expect("inside a scope")).unwrap();
            std::future::pending::<()>().await
        }));
        let other = tokio::spawn(abortable(async {
            tokio::task::yield_now().await;
            7
        }));
        rx.await.unwrap().abort();
        assert_eq!(aborted.await.unwrap(), None);
        assert_eq!(other.await.unwrap(), Some(7));
        assert!(Abort::current().is_none());
    }

    #[tokio::test]
    async fn an_abort_before_the_wait_still_counts() {
        let out = abortable(async {
            Abort::current().unwrap().abort();
            tokio::task::yield_now().await;
            std::future::pending::<u8>().await
        })
        .await;
        assert_eq!(out, None);
    }
}
