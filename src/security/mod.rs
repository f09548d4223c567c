//! Credentials: the CA and certificates, the admin token, the kubeconfig, and authenticating
//! requests with them.

pub mod auth;
pub mod files;
pub mod kubeconfig;
pub mod pki;
