//! The HTTPS server: credentials and kubeconfig on start, TLS, HTTP/1.1 (with upgrades) and
//! HTTP/2, authentication of every request, request logging, graceful shutdown.

pub mod abort;
pub mod first_bytes;
pub mod limits;
pub mod startup;
pub mod tls;

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::conn::auto;
use tokio_rustls::TlsAcceptor;

use crate::api::Reply;
use crate::api::Status;
use crate::api::objects::{ApiContext, gc, namespaces};
use crate::api::router::{DEFAULT_BODY_LIMIT, Router};
use crate::security::auth::{Authenticator, User};
use crate::security::{files, kubeconfig, pki};

/// How long a client has to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long open requests (watches, streams) get to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// What `k2d serve` needs to know.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Address to listen on.
    pub listen_address: IpAddr,
    /// Port to listen on.
    pub port: u16,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Extra names or addresses clients reach k2d at (SANs; the first one goes in the kubeconfig).
    pub advertise_addresses: Vec<String>,
    /// Container engine URL.
    pub engine: String,
    /// The sockets k2d looked for when it chose the engine itself (for the error when none is
    /// there); empty when the engine was given.
    pub engine_looked_for: Vec<String>,
    /// The namespace plain `docker run` containers are shown in as pods.
    pub foreign_namespace: String,
    /// The Pod Security level enforced where a namespace's label does not set one.
    pub pod_security: crate::security::pod_security::Level,
    /// How long an Event is kept after its last write.
    pub event_ttl: std::time::Duration,
}

struct State {
    router: Arc<Router>,
    auth: Authenticator,
}

impl State {
    async fn handle(
        &self,
        req: http::Request<hyper::body::Incoming>,
        cert_user: Option<&User>,
    ) -> http::Response<crate::api::reply::Body> {
        let started = Instant::now();
        crate::memory::activity();
        let method = req.method().clone();
        let uri = req.uri().clone();
        let agent = req
            .headers()
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let resp = match self.auth.authenticate(req.headers(), cert_user) {
            Some(user) => self.router.handle(req, user).await,
            None => Reply::from(Status::unauthorized()).into_response(),
        };
        tracing::debug!(
            method = %method,
            uri = %uri,
            status = resp.status().as_u16(),
            micros = started.elapsed().as_micros() as u64,
            agent = %agent,
            "request"
        );
        resp
    }
}

fn host_name() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|s| s.trim().to_string())
}

fn local_addresses() -> Vec<IpAddr> {
    if_addrs::get_if_addrs()
        .map(|ifs| ifs.into_iter().map(|i| i.ip()).collect())
        .unwrap_or_default()
}

/// The host clients are told to use: the first advertise address, else the listen address,
/// else loopback.
pub fn advertised_host(opts: &ServeOptions) -> String {
    match opts.advertise_addresses.first() {
        Some(a) => a.clone(),
        None if !opts.listen_address.is_unspecified() => opts.listen_address.to_string(),
        None => "127.0.0.1".to_string(),
    }
}

/// The id that tells this k2d's containers apart from another k2d's on the same engine: made
/// at first start, kept in the data directory.
fn instance_id(data_dir: &std::path::Path) -> Result<String> {
    let path = data_dir.join("instance-id");
    if let Some(id) = files::read_optional(&path)?.map(|s| s.trim().to_string())
        && !id.is_empty()
    {
        return Ok(id);
    }
    let id = crate::api::meta::new_uid();
    files::write_private(&path, id.as_bytes())?;
    Ok(id)
}

/// The engine client, or `None` when k2d runs without an engine (`--engine none`).
fn engine(opts: &ServeOptions) -> Result<Option<Arc<crate::engine::Engine>>> {
    if opts.engine == "none" {
        return Ok(None);
    }
    let id = instance_id(&opts.data_dir)?;
    let engine = crate::engine::Engine::new(&opts.engine, &id)
        .with_context(|| format!("container engine {}", opts.engine))?;
    Ok(Some(Arc::new(engine)))
}

/// Opens the object store, creates the default namespaces, and finishes what a crash
/// interrupted (garbage collection, namespace deletions).
fn open_store(
    data_dir: &std::path::Path,
    engine: Option<Arc<crate::engine::Engine>>,
) -> Result<ApiContext> {
    let store = crate::store::Store::open(data_dir).context("opening the object store")?;
    let tokens = crate::security::tokens::TokenIssuer::load_or_create(data_dir)
        .context("the service account token key")?;
    let ctx = ApiContext {
        store: Arc::new(store),
        engine,
        tokens: Arc::new(tokens),
        gc: Default::default(),
    };
    tokio::task::block_in_place(|| -> Result<()> {
        namespaces::ensure_defaults(&ctx)
            .map_err(|e| anyhow::anyhow!("creating the default namespaces: {e}"))?;
        gc::sweep(&ctx).map_err(|e| anyhow::anyhow!("garbage collection at start: {e}"))?;
        namespaces::resume(&ctx)
            .map_err(|e| anyhow::anyhow!("resuming namespace deletions: {e}"))?;
        Ok(())
    })?;
    Ok(ctx)
}

/// Resolves when the process is asked to stop (SIGTERM or SIGINT).
async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// Runs the server until SIGTERM or SIGINT.
pub async fn run(opts: ServeOptions) -> Result<()> {
    startup::data_dir(&opts.data_dir)?;
    // Bound before anything else starts, so a taken port stops k2d before it touches the engine.
    let addr = SocketAddr::new(opts.listen_address, opts.port);
    let listener = startup::listen(addr).await?;
    if opts.engine != "none" {
        crate::engine::check_socket(&opts.engine, &opts.engine_looked_for)
            .map_err(anyhow::Error::msg)?;
    }
    let sans = pki::server_sans(host_name(), &local_addresses(), &opts.advertise_addresses);
    let creds = pki::ensure(&opts.data_dir, &sans)?;
    let host = advertised_host(&opts);
    let server_url = kubeconfig::server_url(&host, opts.port);
    let kubeconfig_path = opts.data_dir.join("kubeconfig");
    // Written only when it changed, and a failure is not fatal: on a full disk k2d must
    // still start and serve what it stores (the kubeconfig there is then the previous one).
    let rendered = kubeconfig::render(&server_url, &creds.ca_cert, &creds.admin_token);
    if let Err(e) = files::write_private_if_changed(&kubeconfig_path, rendered.as_bytes()) {
        tracing::error!("could not write {}: {e:#}", kubeconfig_path.display());
    }
    let acceptor = TlsAcceptor::from(tls::server_config(&creds)?);
    let ctx = Arc::new(open_store(&opts.data_dir, engine(&opts)?)?);

    let router = Arc::new(Router {
        translators: crate::translators::all(),
        body_limit: DEFAULT_BODY_LIMIT,
        server_address: server_url.trim_start_matches("https://").to_string(),
        ctx,
    });
    crate::runtime::set_foreign_namespace(&opts.foreign_namespace);
    crate::security::pod_security::set_cluster_level(opts.pod_security);
    tokio::spawn(crate::memory::trim_when_quiet());
    crate::memory::activity();
    crate::controllers::start(
        router.clone(),
        crate::controllers::ControllerOptions {
            data_dir: opts.data_dir.clone(),
            port: opts.port,
            event_ttl: opts.event_ttl,
        },
    );
    let auth = Authenticator::new(&creds.admin_token)
        .with_service_accounts(router.ctx.tokens.clone(), router.ctx.store.clone());
    let state = Arc::new(State { router, auth });
    tracing::info!(engine = %opts.engine, "k2d serving the Kubernetes API on https://{addr}");
    tracing::info!("kubeconfig: {}", kubeconfig_path.display());
    tracing::info!(
        "try: kubectl --kubeconfig {} get nodes",
        kubeconfig_path.display()
    );
    let serving = startup::Serving {
        pid: std::process::id(),
        listen: addr.to_string(),
        server: server_url.clone(),
        engine: opts.engine.clone(),
        version: env!("CARGO_PKG_VERSION").to_string(),
    };
    if let Err(e) = startup::record(&opts.data_dir, &serving) {
        tracing::warn!("writing {}: {e:#}", startup::SERVING_FILE);
    }

    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let builder = limits::configure(auto::Builder::new(abort::Executor));
    let max_connections = limits::connection_cap();
    tracing::debug!(max_connections, "connection bound");
    let connections = Arc::new(tokio::sync::Semaphore::new(max_connections));
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        // At the bound, stop accepting: new connections wait in the listen queue until one closes.
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => permit.expect("never closed"),
            _ = &mut shutdown => break,
        };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let state = state.clone();
        let builder = builder.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _permit = permit;
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, "TLS handshake failed: {e}");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            let cert_user: Option<User> = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .and_then(|leaf| pki::certificate_user(leaf));
            let cert_user = Arc::new(cert_user);
            let service = service_fn(move |req| {
                let state = state.clone();
                let cert_user = cert_user.clone();
                async move { Ok::<_, Infallible>(state.handle(req, cert_user.as_ref().as_ref()).await) }
            });
            let io = first_bytes::FirstBytesDeadline::new(
                tls,
                limits::PREFACE_LEN,
                limits::FIRST_BYTES_TIMEOUT,
            );
            let conn = builder
                .serve_connection_with_upgrades(TokioIo::new(io), service)
                .into_owned();
            match abort::abortable(watcher.watch(conn)).await {
                Some(Err(e)) => tracing::debug!(%peer, "connection ended: {e}"),
                None => tracing::debug!(%peer, "connection closed by a response"),
                Some(Ok(())) => {}
            }
        });
    }
    tracing::info!("shutting down");
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::info!("closing connections still open after {SHUTDOWN_GRACE:?}");
    }
    Ok(())
}
