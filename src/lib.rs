//! k2d serves the Kubernetes API for one Docker or Podman host.
//!
//! - [`generated`]: what `build.rs` derives from `spec/` (routes, translator traits, documents);
//! - [`api`]: the API machinery shared by every resource;
//! - [`translators`]: hand-written translators, one per resource;
//! - [`server`]: HTTPS, HTTP/1.1 and HTTP/2, authentication;
//! - [`security`]: CA, certificates, token, kubeconfig;
//! - [`store`]: the crash-safe object store and the watch hub;
//! - [`cli`]: the `k2d` command;
//! - [`status`]: `k2d status`;
//! - [`client`]: the in-process API client of the controllers;
//! - [`controllers`]: what acts on objects (the pod runtime, workload controllers, events);
//! - [`engine`]: the container engine client;
//! - [`runtime`]: the pod runtime (pods as containers);
//! - [`network`]: cluster DNS and Service addresses;
//! - [`fuzz_checks`]: the invariants the fuzz targets check on the request decoders.

#![warn(missing_docs)]

pub mod api;
pub mod cli;
pub mod client;
pub mod controllers;
pub mod engine;
pub mod fuzz_checks;
pub mod generated;
pub mod memory;
pub mod network;
pub mod runtime;
pub mod security;
pub mod server;
pub mod status;
pub mod store;
pub mod streaming;
pub mod translators;
