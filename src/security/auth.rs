//! Who is asking: the admin bearer token or a client certificate signed by k2d's CA. Nothing is
//! anonymous.

use http::HeaderMap;
use ring::digest::{SHA256, digest};

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

/// Checks bearer tokens. The token is kept only as a digest, compared digest to digest, so the
/// comparison's timing says nothing about the token.
pub struct Authenticator {
    admin_token_digest: Vec<u8>,
}

impl Authenticator {
    /// An authenticator that accepts this admin token.
    pub fn new(admin_token: &str) -> Self {
        Authenticator {
            admin_token_digest: digest(&SHA256, admin_token.as_bytes()).as_ref().to_vec(),
        }
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
        (!token.is_empty()
            && digest(&SHA256, token.as_bytes()).as_ref() == self.admin_token_digest.as_slice())
        .then(User::admin)
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
