//! The `codegen` command. See spec/README.md.
//!
//! `codegen trim --upstream <DIR> [--spec spec] [--add GV/RESOURCE[:SUB,...]]...` derives the
//! OpenAPI documents of `spec/` from full upstream documents.
//!
//! `codegen protobuf [--spec spec] [--upstream <DIR>]` derives `spec/protobuf.json`, the protobuf
//! field table, from the source of the k8s-pb crate.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::{Args, Parser, Subcommand};
use k2d_codegen::trim::{self, AddRequest};

/// k2d's code generator.
#[derive(Parser)]
#[command(name = "codegen", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Trim upstream OpenAPI v3 documents down to the resources listed in <SPEC>/resources.yaml,
    /// writing <SPEC>/api/v1.json and <SPEC>/apis/<group>/<version>.json.
    Trim(TrimArgs),
    /// Derive <SPEC>/protobuf.json (the field table of every Kubernetes protobuf message) from the
    /// source of the k8s-pb crate, found with `cargo metadata --all-features`.
    Protobuf(ProtobufArgs),
}

#[derive(Args)]
struct ProtobufArgs {
    /// The spec directory: its documents name schemas and fields, and it receives protobuf.json.
    #[arg(long, value_name = "DIR", default_value = "spec")]
    spec: PathBuf,
    /// Also match names against these documents (laid out like /openapi/v3/), so that messages
    /// k2d does not serve yet get their Kubernetes names too.
    #[arg(long, value_name = "DIR")]
    upstream: Option<PathBuf>,
    /// k8s-pb's src/ directory, instead of asking cargo metadata.
    #[arg(long, value_name = "DIR")]
    source: Option<PathBuf>,
}

#[derive(Args)]
struct TrimArgs {
    /// Directory laid out like a server's /openapi/v3/ (api/v1.json, apis/<group>/<version>.json).
    #[arg(long, value_name = "DIR")]
    upstream: PathBuf,
    /// The spec directory: holds resources.yaml, receives the trimmed documents.
    #[arg(long, value_name = "DIR", default_value = "spec")]
    spec: PathBuf,
    /// Append a resource to resources.yaml first, e.g. `apps/v1/controllerrevisions`,
    /// `v1/podtemplates` or `apps/v1/deployments:scale,status`. Repeatable.
    #[arg(long, value_name = "GV/RESOURCE[:SUB,...]")]
    add: Vec<String>,
    /// Short name of the resource of the single --add. Repeatable.
    #[arg(long = "short-name", value_name = "NAME", requires = "add")]
    short_names: Vec<String>,
    /// Category of the resource of the single --add (e.g. `all`). Repeatable.
    #[arg(long = "category", value_name = "NAME", requires = "add")]
    categories: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Trim(args) => run_trim(args),
        Command::Protobuf(args) => run_protobuf(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("codegen: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_trim(args: TrimArgs) -> Result<()> {
    if args.add.len() > 1 && !(args.short_names.is_empty() && args.categories.is_empty()) {
        bail!("--short-name and --category apply to a single --add; give one --add per run");
    }
    let mut add = Vec::new();
    for spec in &args.add {
        let mut req = AddRequest::parse(spec)?;
        req.short_names = args.short_names.clone();
        req.categories = args.categories.clone();
        add.push(req);
    }
    let report = trim::run(&trim::Options {
        upstream: args.upstream,
        spec: args.spec.clone(),
        add,
    })?;
    for (label, missing) in &report.already_listed {
        if missing.is_empty() {
            println!("{label}: already listed in resources.yaml, left as it is");
        } else {
            println!(
                "{label}: already listed in resources.yaml, left as it is; not added: {} (edit resources.yaml)",
                missing.join(", ")
            );
        }
    }
    for label in &report.added {
        println!("{label}: added to resources.yaml");
    }
    for d in &report.documents {
        println!(
            "{}/{}: {} bytes, {} paths, {} schemas{}",
            args.spec.display(),
            d.path,
            d.bytes,
            d.paths,
            d.schemas,
            if d.changed {
                " (written)"
            } else {
                " (unchanged)"
            }
        );
    }
    for rel in &report.removed {
        println!(
            "{}/{rel}: removed (group-version no longer listed)",
            args.spec.display()
        );
    }
    Ok(())
}

fn run_protobuf(args: ProtobufArgs) -> Result<()> {
    let report = k2d_codegen::protobuf::run(&k2d_codegen::protobuf::Options {
        spec: args.spec.clone(),
        upstream: args.upstream,
        source: args.source,
    })?;
    for name in &report.unmatched_messages {
        println!(
            "no OpenAPI schema for {name}: named after k8s-pb's module path, field names guessed"
        );
    }
    for field in &report.guessed_fields {
        println!("no schema property for {field}: JSON name guessed from k8s-pb's field name");
    }
    for entry in &report.stale_pointers {
        println!(
            "pointer list entry {entry} names no scalar field: fix codegen/src/protobuf/pointers.rs"
        );
    }
    println!(
        "{}/{}: {} messages, {} fields from {}, names matched against {} OpenAPI documents{}",
        args.spec.display(),
        k2d_codegen::protobuf::FILE,
        report.messages,
        report.fields,
        report.source,
        report.documents,
        if report.changed {
            " (written)"
        } else {
            " (unchanged)"
        }
    );
    if !report.stale_pointers.is_empty() {
        bail!("stale pointer list entries");
    }
    Ok(())
}
