//! Who is asking: the admin bearer token or a client certificate signed by k2d's CA. Nothing is
//! anonymous.

use http::HeaderMap;
use ring::digest::{SHA256, digest};
use subtle::ConstantTimeEq;

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// User name.
    pub name: String,
    /// Groups.
    pub groups: Vec<String>,
}

/// The admin user's name.
pub const ADMIN_USER: &str = "k2d-admin";
/// The group that makes the admin an admin (the organization of its client certificate).
pub const ADMIN_GROUP: &str = "system:masters";
/// The group every authenticated user is in.
pub const AUTHENTICATED_GROUP: &str = "system:authenticated";

impl User {
    /// The administrator.
    pub fn admin() -> Self {
        User {
            name: ADMIN_USER.into(),
            groups: vec![ADMIN_GROUP.into(), AUTHENTICATED_GROUP.into()],
        }
    }
}

/// Checks bearer tokens.
///
/// The admin token is compared in constant time by construction, not by measurement: the
/// presented token is hashed (SHA-256, whose time depends only on the presented length, which
/// the caller already knows), and the two 32-byte digests are compared with `subtle`'s
/// `ConstantTimeEq`, which looks at every byte whatever the first difference. So neither where a
/// wrong token first differs nor the admin token's length shows in the answer's timing.
pub struct Authenticator {
    admin_token_digest: Vec<u8>,
    service_accounts: Option<(
        std::sync::Arc<super::tokens::TokenIssuer>,
        std::sync::Arc<crate::store::Store>,
    )>,
}

impl Authenticator {
    /// An authenticator that accepts this admin token.
    pub fn new(admin_token: &str) -> Self {
        Authenticator {
            admin_token_digest: digest(&SHA256, admin_token.as_bytes()).as_ref().to_vec(),
            service_accounts: None,
        }
    }

    /// Also accepts service account tokens signed by `issuer` whose service account (and pod,
    /// for bound tokens) still exist in `store` with the uids the token names.
    pub fn with_service_accounts(
        mut self,
        issuer: std::sync::Arc<super::tokens::TokenIssuer>,
        store: std::sync::Arc<crate::store::Store>,
    ) -> Self {
        self.service_accounts = Some((issuer, store));
        self
    }

    /// The service account of a token, if it is a valid one.
    fn service_account(&self, token: &str) -> Option<User> {
        let (issuer, store) = self.service_accounts.as_ref()?;
        let claims = issuer.verify(token, super::tokens::ISSUER)?;
        let k = &claims.kubernetes;
        let uid_of = |resource: &str, name: &str| {
            let key = crate::store::ObjectKey::new("", resource, &k.namespace, name);
            store
                .get(&key)
                .ok()
                .flatten()
                .and_then(|o| crate::api::meta::meta_str(&o, "uid").map(str::to_string))
        };
        if uid_of("serviceaccounts", &k.serviceaccount.name)? != k.serviceaccount.uid {
            return None;
        }
        if let Some(pod) = &k.pod
            && uid_of("pods", &pod.name)? != pod.uid
        {
            return None;
        }
        Some(User {
            name: claims.sub.clone(),
            groups: vec![
                super::authz::SERVICE_ACCOUNTS_GROUP.into(),
                format!("{}:{}", super::authz::SERVICE_ACCOUNTS_GROUP, k.namespace),
                AUTHENTICATED_GROUP.into(),
            ],
        })
    }

    /// The user of a request: the client certificate's (already verified during the TLS
    /// handshake) or the bearer token's. `None` means 401.
    pub fn authenticate(
        &self,
        headers: &HeaderMap,
        certificate_user: Option<&User>,
    ) -> Option<User> {
        if let Some(u) = certificate_user {
            return Some(u.clone());
        }
        let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let token = token.trim();
        if token.is_empty() {
            return None;
        }
        let presented = digest(&SHA256, token.as_bytes());
        if bool::from(presented.as_ref().ct_eq(self.admin_token_digest.as_slice())) {
            return Some(User::admin());
        }
        self.service_account(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_auth(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(http::header::AUTHORIZATION, v.parse().unwrap());
        h
    }

    #[test]
    fn only_the_right_token_or_a_certificate_gets_in() {
        let a = Authenticator::new("s3cret");
        assert_eq!(
            a.authenticate(&with_auth("Bearer s3cret"), None),
            Some(User::admin())
        );
        assert_eq!(
            a.authenticate(&with_auth("bearer s3cret"), None),
            Some(User::admin())
        );
        assert_eq!(a.authenticate(&with_auth("Bearer wrong"), None), None);
        assert_eq!(a.authenticate(&with_auth("Bearer "), None), None);
        assert_eq!(a.authenticate(&with_auth("Basic s3cret"), None), None);
        assert_eq!(a.authenticate(&HeaderMap::new(), None), None);
        let u = User {
            name: "x".into(),
            groups: vec![],
        };
        assert_eq!(a.authenticate(&HeaderMap::new(), Some(&u)), Some(u));
    }
}
