//! Service account tokens: JWTs signed with k2d's own ES256 key (made at first start, kept in
//! the data directory), carrying the claims a cluster's token issuer writes (`sub`
//! `system:serviceaccount:<ns>:<name>`, the `kubernetes.io` claim with the namespace, the
//! service account and the pod the token is bound to). A token is valid while it has not
//! expired and the objects it names still exist with the same uids.

use std::path::Path;

use anyhow::{Context, Result};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde::{Deserialize, Serialize};

use super::files::{read_optional, write_private};

/// The issuer (and default audience) of k2d's tokens, as a cluster's API server names itself.
pub const ISSUER: &str = "https://kubernetes.default.svc.cluster.local";
/// How long a token the pod runtime asks for (3607 s, as a kubelet does) actually lives: a
/// cluster's API server extends such tokens to a year too, so workloads that never re-read
/// their token keep working.
pub const EXTENDED_SECONDS: i64 = 365 * 24 * 3600;
/// The expiration the pod runtime asks for.
pub const KUBELET_SECONDS: i64 = 3607;

/// An object a token names: name and uid.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Named {
    /// Name.
    pub name: String,
    /// Uid.
    pub uid: String,
}

/// The `kubernetes.io` claim.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KubernetesClaim {
    /// The namespace.
    pub namespace: String,
    /// The service account.
    pub serviceaccount: Named,
    /// The pod the token is bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod: Option<Named>,
    /// The node the pod runs on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<Named>,
}

/// The claims of a service account token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Audiences.
    pub aud: Vec<String>,
    /// Expiry (UNIX seconds).
    pub exp: i64,
    /// Issued at.
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Issuer.
    pub iss: String,
    /// Token id.
    pub jti: String,
    /// Subject: `system:serviceaccount:<namespace>:<name>`.
    pub sub: String,
    /// What the token names.
    #[serde(rename = "kubernetes.io")]
    pub kubernetes: KubernetesClaim,
}

/// Signs and verifies service account tokens.
pub struct TokenIssuer {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl TokenIssuer {
    /// The issuer whose key is `sa.key` in `dir`, made on first use.
    pub fn load_or_create(dir: &Path) -> Result<TokenIssuer> {
        let path = dir.join("sa.key");
        let der = match read_optional(&path)? {
            Some(text) => {
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, text.trim())
                    .context("sa.key is not base64")?
            }
            None => {
                let pkcs8 = EcdsaKeyPair::generate_pkcs8(
                    &ECDSA_P256_SHA256_FIXED_SIGNING,
                    &SystemRandom::new(),
                )
                .map_err(|_| anyhow::anyhow!("generating the token signing key failed"))?;
                let text = base64::Engine::encode(
                    &base64::engine::general_purpose::STANDARD,
                    pkcs8.as_ref(),
                );
                write_private(&path, text.as_bytes())?;
                pkcs8.as_ref().to_vec()
            }
        };
        Self::from_pkcs8(&der)
    }

    /// An issuer with this PKCS#8 P-256 key.
    pub fn from_pkcs8(der: &[u8]) -> Result<TokenIssuer> {
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der, &SystemRandom::new())
                .map_err(|e| anyhow::anyhow!("the token signing key is unusable: {e}"))?;
        Ok(TokenIssuer {
            encoding: EncodingKey::from_ec_der(der),
            decoding: DecodingKey::from_ec_der(pair.public_key().as_ref()),
        })
    }

    /// A signed token with these claims.
    pub fn sign(&self, claims: &Claims) -> Result<String> {
        jsonwebtoken::encode(&Header::new(Algorithm::ES256), claims, &self.encoding)
            .context("signing a service account token")
    }

    /// The claims of a token signed by this issuer, for `audience`, not expired; `None`
    /// otherwise. Whether the objects it names still exist is the caller's check.
    pub fn verify(&self, token: &str, audience: &str) -> Option<Claims> {
        let mut v = Validation::new(Algorithm::ES256);
        v.set_audience(&[audience]);
        v.set_issuer(&[ISSUER]);
        v.leeway = 0;
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &v)
            .ok()
            .map(|d| d.claims)
    }
}

/// The claims of a new token.
pub fn claims(
    kubernetes: KubernetesClaim,
    audiences: Vec<String>,
    now: i64,
    seconds: i64,
) -> Claims {
    Claims {
        aud: if audiences.is_empty() {
            vec![ISSUER.to_string()]
        } else {
            audiences
        },
        exp: now + seconds,
        iat: now,
        nbf: now,
        iss: ISSUER.to_string(),
        jti: crate::api::meta::new_uid(),
        sub: format!(
            "system:serviceaccount:{}:{}",
            kubernetes.namespace, kubernetes.serviceaccount.name
        ),
        kubernetes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer() -> TokenIssuer {
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .unwrap();
        TokenIssuer::from_pkcs8(pkcs8.as_ref()).unwrap()
    }

    fn claim() -> KubernetesClaim {
        KubernetesClaim {
            namespace: "ns".into(),
            serviceaccount: Named {
                name: "default".into(),
                uid: "u1".into(),
            },
            pod: None,
            node: None,
        }
    }

    #[test]
    fn signed_tokens_verify_for_their_audience_only() {
        let i = issuer();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let t = i.sign(&claims(claim(), vec![], now, 600)).unwrap();
        let c = i.verify(&t, ISSUER).expect("valid");
        assert_eq!(c.sub, "system:serviceaccount:ns:default");
        assert!(i.verify(&t, "vault").is_none());
        assert!(issuer().verify(&t, ISSUER).is_none(), "another key's token");
        let old = i.sign(&claims(claim(), vec![], now - 1000, 600)).unwrap();
        assert!(i.verify(&old, ISSUER).is_none(), "expired");
        let mut tampered = t.clone();
        tampered.insert(tampered.len() / 2, 'x');
        assert!(i.verify(&tampered, ISSUER).is_none());
    }

    #[test]
    fn the_key_is_kept() {
        let dir = std::env::temp_dir().join(format!("k2d-sa-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = TokenIssuer::load_or_create(&dir).unwrap();
        let b = TokenIssuer::load_or_create(&dir).unwrap();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let t = a.sign(&claims(claim(), vec![], now, 60)).unwrap();
        assert!(b.verify(&t, ISSUER).is_some());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
