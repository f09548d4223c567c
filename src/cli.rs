//! The `k2d` command line: `serve`, `kubeconfig`, `status`, `version`. Every `serve` flag can also
//! come from a `K2D_*` environment variable.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use crate::security::{files, kubeconfig};
use crate::server::{self, ServeOptions};

/// Default data directory.
pub const DEFAULT_DATA_DIR: &str = "/var/lib/k2d";

/// k2d: the Kubernetes API for a single Docker or Podman host.
#[derive(Parser, Debug)]
#[command(name = "k2d", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the Kubernetes API.
    Serve(ServeArgs),
    /// Print the admin kubeconfig.
    Kubeconfig {
        /// Data directory k2d keeps its state and credentials in.
        #[arg(long, env = "K2D_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
        /// Server URL to put in the kubeconfig instead of the one k2d wrote.
        #[arg(long)]
        server: Option<String>,
    },
    /// Show the engine, the data directory, whether k2d runs and where, and object counts.
    Status {
        /// Data directory k2d keeps its state and credentials in.
        #[arg(long, env = "K2D_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
        /// Container engine URL (default: as `serve` chooses it).
        #[arg(long, env = "K2D_ENGINE")]
        engine: Option<String>,
    },
    /// Print k2d's version.
    Version,
}

#[derive(clap::Args, Debug)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "K2D_LISTEN_ADDRESS", default_value = "0.0.0.0")]
    listen_address: IpAddr,
    /// Port to listen on.
    #[arg(long, env = "K2D_PORT", default_value_t = 6443)]
    port: u16,
    /// Data directory k2d keeps its state and credentials in.
    #[arg(long, env = "K2D_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
    /// A name or address clients reach k2d at (repeatable); the first goes in the kubeconfig.
    #[arg(
        long = "advertise-address",
        env = "K2D_ADVERTISE_ADDRESS",
        value_delimiter = ','
    )]
    advertise_addresses: Vec<String>,
    /// Container engine URL (default: DOCKER_HOST, then the Docker socket, then Podman's);
    /// `none` serves the API without running anything.
    #[arg(long, env = "K2D_ENGINE")]
    engine: Option<String>,
    /// The namespace containers made with plain `docker run` are shown in as pods.
    #[arg(long, env = "K2D_FOREIGN_NAMESPACE", default_value = crate::runtime::DEFAULT_FOREIGN_NAMESPACE)]
    foreign_namespace: String,
    /// The Pod Security Standard enforced on pods: `privileged` (no check), `baseline` (no
    /// hostPath volumes, privileged containers, host namespaces, host ports or added
    /// capabilities...) or `restricted`. A namespace's `pod-security.kubernetes.io/enforce`
    /// label overrides it there. Use `baseline` where manifests come from less trusted sources.
    #[arg(
        long,
        env = "K2D_POD_SECURITY",
        value_enum,
        default_value = "privileged"
    )]
    pod_security: crate::security::pod_security::Level,
    /// How long an Event is kept after its last write (as kube-apiserver's `--event-ttl`): a
    /// duration such as `1h`, `30m` or `1h30m`.
    #[arg(long, env = "K2D_EVENT_TTL", default_value = "1h", value_parser = crate::controllers::event_expiry::parse_ttl)]
    event_ttl: std::time::Duration,
    /// Log level or tracing filter (error, warn, info, debug, trace).
    #[arg(long, env = "K2D_LOG_LEVEL", default_value = "info")]
    log_level: String,
}

fn init_logging(level: &str) -> Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .with_context(|| format!("log level {level:?}"))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
    Ok(())
}

/// The engine URL `serve` and `status` use, and the sockets looked for when none was given.
fn engine_url(explicit: Option<&str>) -> (String, Vec<String>) {
    let docker_host = std::env::var("DOCKER_HOST").ok();
    let runtime_dir = std::env::var("XDG_RUNTIME_DIR").ok();
    let url = crate::engine::resolve(explicit, docker_host.as_deref(), runtime_dir.as_deref());
    let given = explicit.is_some_and(|e| !e.is_empty())
        || docker_host.as_deref().is_some_and(|h| !h.is_empty());
    let looked_for = if given {
        Vec::new()
    } else {
        crate::engine::address::candidates(runtime_dir.as_deref())
    };
    (url, looked_for)
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get().min(4))
        .unwrap_or(2);
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .max_blocking_threads(8)
        .enable_all()
        .build()
        .context("starting the runtime")
}

fn serve(args: ServeArgs) -> Result<()> {
    init_logging(&args.log_level)?;
    let (engine, engine_looked_for) = engine_url(args.engine.as_deref());
    let opts = ServeOptions {
        listen_address: args.listen_address,
        port: args.port,
        data_dir: args.data_dir,
        advertise_addresses: args.advertise_addresses,
        engine,
        engine_looked_for,
        foreign_namespace: args.foreign_namespace,
        pod_security: args.pod_security,
        event_ttl: args.event_ttl,
    };
    runtime()?.block_on(server::run(opts))
}

fn status(data_dir: PathBuf, engine: Option<String>) -> Result<ExitCode> {
    let (url, _) = engine_url(engine.as_deref());
    let healthy = runtime()?.block_on(crate::status::run(&data_dir, &url))?;
    Ok(if healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_kubeconfig(data_dir: PathBuf, server: Option<String>) -> Result<()> {
    let path = data_dir.join("kubeconfig");
    let text = files::read_optional(&path)?.with_context(|| {
        format!(
            "{} does not exist yet: start `k2d serve --data-dir {}` once",
            path.display(),
            data_dir.display()
        )
    })?;
    let text = match server {
        Some(s) => {
            warn_unless_certified(&data_dir, &s);
            kubeconfig::with_server(&text, &s)?
        }
        None => text,
    };
    print!("{text}");
    Ok(())
}

/// Warns (on stderr) when the host of `server` is not a name of k2d's serving certificate: a
/// client given that kubeconfig could not verify the server.
fn warn_unless_certified(data_dir: &std::path::Path, server: &str) {
    let Ok(url) = server.parse::<http::Uri>() else {
        eprintln!("k2d: warning: {server:?} is not a URL like https://HOST:6443");
        return;
    };
    let Some(host) = url.host().map(|h| h.trim_matches(['[', ']']).to_string()) else {
        return;
    };
    let Ok(Some(cert)) = files::read_optional(&data_dir.join("server.crt")) else {
        return;
    };
    if !crate::security::pki::certificate_names(&cert, std::slice::from_ref(&host)) {
        eprintln!(
            "k2d: warning: {host} is not a name of k2d's serving certificate, so clients using \
             this kubeconfig cannot verify the server. Restart k2d with --advertise-address {host} \
             (or K2D_ADVERTISE_ADDRESS={host}): it adds {host} to the certificate"
        );
    }
}

/// Runs the command line.
pub fn main() -> ExitCode {
    crate::memory::configure();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Kubeconfig { data_dir, server } => print_kubeconfig(data_dir, server),
        Command::Status { data_dir, engine } => match status(data_dir, engine) {
            Ok(code) => return code,
            Err(e) => Err(e),
        },
        Command::Version => {
            println!(
                "k2d {} (Kubernetes API v{}.{})",
                env!("CARGO_PKG_VERSION"),
                crate::api::version::KUBERNETES_MAJOR,
                crate::api::version::KUBERNETES_MINOR
            );
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("k2d: {e:#}");
            ExitCode::FAILURE
        }
    }
}
