//! The pull policy an image reference gets when none is given: `Always` when the reference names
//! the tag `latest`, or names neither a tag nor a digest (the runtime then pulls `latest`);
//! `IfNotPresent` otherwise, including references the Docker reference grammar rejects (the real
//! server defaults those as having no tag, and validation reports them).

/// `Always` or `IfNotPresent`, as kube-apiserver defaults `imagePullPolicy` for this image.
pub fn default_pull_policy(image: &str) -> &'static str {
    match tag_of(image) {
        Some(Tag::Latest) => "Always",
        _ => "IfNotPresent",
    }
}

/// What a reference says about its tag.
#[derive(Debug, PartialEq)]
enum Tag {
    /// The tag is `latest`, or there is neither a tag nor a digest.
    Latest,
    /// Another tag, or a digest without a tag.
    Other,
}

/// The tag of a reference as the Docker reference grammar reads it; `None` when the reference
/// does not parse.
fn tag_of(image: &str) -> Option<Tag> {
    let (named, digest) = match image.split_once('@') {
        Some((named, digest)) => (named, Some(digest)),
        None => (image, None),
    };
    if digest.is_some_and(|d| !valid_digest(d)) {
        return None;
    }
    // A tag follows the last `:` after the last `/`; an earlier `:` is a registry port.
    let last = named.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match named[last..].rfind(':') {
        Some(i) => (&named[..last + i], Some(&named[last + i + 1..])),
        None => (named, None),
    };
    if !valid_name(name) || tag.is_some_and(|t| !valid_tag(t)) {
        return None;
    }
    Some(match (tag, digest) {
        (Some("latest"), _) | (None, None) => Tag::Latest,
        _ => Tag::Other,
    })
}

/// A repository name: an optional registry host (a first component with a `.` or `:`, or
/// `localhost`, or with upper-case letters) then lower-case path components.
fn valid_name(name: &str) -> bool {
    if name.is_empty() {
        return false;
    }
    let path = match name.split_once('/') {
        Some((first, rest)) if is_domain(first) => {
            if !valid_domain(first) {
                return false;
            }
            rest
        }
        _ => name,
    };
    !path.is_empty() && path.split('/').all(valid_path_component)
}

fn is_domain(first: &str) -> bool {
    first.contains(['.', ':']) || first == "localhost" || first.chars().any(char::is_uppercase)
}

fn valid_domain(domain: &str) -> bool {
    let (host, port) = match domain.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') && !host.contains(':') => (host, Some(port)),
        _ => (domain, None),
    };
    let host_ok = if host.starts_with('[') {
        host.ends_with(']')
    } else {
        !host.is_empty()
            && host.split('.').all(|label| {
                !label.is_empty()
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            })
    };
    host_ok && port.is_none_or(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// `[a-z0-9]+` runs joined by `.`, `_`, `__` or runs of `-`.
fn valid_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    if bytes.is_empty() || !is_alnum(bytes[0]) || !is_alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if is_alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !is_alnum(bytes[i]) {
            i += 1;
        }
        match &component[start..i] {
            "." | "_" | "__" => {}
            sep if sep.bytes().all(|b| b == b'-') => {}
            _ => return false,
        }
    }
    true
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn valid_tag(tag: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut chars = tag.chars();
    chars.next().is_some_and(word)
        && tag.len() <= 128
        && chars.all(|c| word(c) || c == '.' || c == '-')
}

/// `algorithm:hex`, as in `sha256:…`.
fn valid_digest(digest: &str) -> bool {
    digest.split_once(':').is_some_and(|(alg, hex)| {
        !alg.is_empty()
            && alg
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+._-".contains(c))
            && hex.len() >= 32
            && hex.chars().all(|c| c.is_ascii_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn latest_or_no_tag_pulls_always() {
        for image in [
            "nginx",
            "nginx:latest",
            "busybox",
            "library/nginx",
            "docker.io/library/nginx",
            "registry.example.com:5000/team/app",
            "localhost/app:latest",
            "localhost:5000/app",
        ] {
            assert_eq!(default_pull_policy(image), "Always", "{image}");
        }
    }

    #[test]
    fn another_tag_or_a_digest_pulls_if_not_present() {
        let by_digest = format!("nginx@{DIGEST}");
        let both = format!("nginx:1.27@{DIGEST}");
        let latest_and_digest = format!("nginx:latest@{DIGEST}");
        for image in [
            "nginx:1.27",
            "nginx:1.16.0",
            "registry.example.com:5000/team/app:v2",
            "localhost:5000/app:dev",
            by_digest.as_str(),
            both.as_str(),
        ] {
            assert_eq!(default_pull_policy(image), "IfNotPresent", "{image}");
        }
        // The tag is what counts: `latest` with a digest still pulls.
        assert_eq!(default_pull_policy(&latest_and_digest), "Always");
    }

    #[test]
    fn references_that_do_not_parse_pull_if_not_present() {
        for image in [
            "",
            "Nginx",
            "nginx:",
            "nginx:-bad",
            "nginx@sha256:short",
            "a//b",
            "-a",
        ] {
            assert_eq!(default_pull_policy(image), "IfNotPresent", "{image:?}");
        }
    }

    #[test]
    fn upper_case_first_components_are_registries() {
        assert_eq!(default_pull_policy("MyRegistry/app"), "Always");
        assert_eq!(default_pull_policy("myregistry/App"), "IfNotPresent");
    }
}
