//! Credentials: the CA and certificates, the admin token, service account tokens, the
//! kubeconfig, authenticating requests with them, deciding what each caller may do, and the Pod
//! Security admission of pods.

pub mod auth;
pub mod authz;
pub mod files;
pub mod kubeconfig;
pub mod pki;
pub mod pod_security;
pub mod tokens;
