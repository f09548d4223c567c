//! The `k2d` command line: `serve`, `kubeconfig`, `version`. Every `serve` flag can also come from
//! a `K2D_*` environment variable.

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

fn serve(args: ServeArgs) -> Result<()> {
    init_logging(&args.log_level)?;
    let engine = crate::engine::resolve(
        args.engine.as_deref(),
        std::env::var("DOCKER_HOST").ok().as_deref(),
        std::env::var("XDG_RUNTIME_DIR").ok().as_deref(),
    );
    let opts = ServeOptions {
        listen_address: args.listen_address,
        port: args.port,
        data_dir: args.data_dir,
        advertise_addresses: args.advertise_addresses,
        engine,
        foreign_namespace: args.foreign_namespace,
        pod_security: args.pod_security,
    };
    let workers = std::thread::available_parallelism()
        .map(|n| n.get().min(4))
        .unwrap_or(2);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .max_blocking_threads(8)
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(server::run(opts))
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
        Some(s) => kubeconfig::with_server(&text, &s)?,
        None => text,
    };
    print!("{text}");
    Ok(())
}

/// Runs the command line.
pub fn main() -> ExitCode {
    crate::memory::configure();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Kubeconfig { data_dir, server } => print_kubeconfig(data_dir, server),
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
