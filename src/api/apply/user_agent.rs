//! The manager name of a write that names none (`?fieldManager=` absent): what the User-Agent
//! says before its first `/`, printable characters only, at most 128 bytes — as the real server
//! derives it. `kubectl/v1.35.2 (linux/amd64) kubernetes/fdc9d74` → `kubectl`,
//! `Helm/3.17.2` → `Helm`.

/// The longest manager name Kubernetes accepts, in bytes.
pub const MAX_MANAGER_LEN: usize = 128;

/// The default field manager for a request with this User-Agent.
pub fn manager_from_user_agent(user_agent: &str) -> String {
    let first = user_agent.split('/').next().unwrap_or_default();
    let mut out = String::new();
    for c in first.chars().filter(|c| is_printable(*c)) {
        if out.len() + c.len_utf8() > MAX_MANAGER_LEN {
            break;
        }
        out.push(c);
    }
    out
}

/// Printable as Go's `unicode.IsPrint` sees it (close enough: no control or format characters,
/// and the only space allowed is U+0020).
pub fn is_printable(c: char) -> bool {
    !c.is_control()
        && (c == ' ' || !c.is_whitespace())
        && !matches!(c, '\u{200b}'..='\u{200f}' | '\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_product_name() {
        assert_eq!(
            manager_from_user_agent("kubectl/v1.35.2 (linux/amd64) kubernetes/fdc9d74"),
            "kubectl"
        );
        assert_eq!(
            manager_from_user_agent("kubectl.1.32/v1.32.5 (linux/amd64) kubernetes/9894294"),
            "kubectl.1.32"
        );
        assert_eq!(manager_from_user_agent("Helm/3.17.2"), "Helm");
        assert_eq!(manager_from_user_agent(""), "");
        assert_eq!(manager_from_user_agent("a\tb/1"), "ab");
        assert_eq!(manager_from_user_agent(&"x".repeat(300)).len(), 128);
    }
}
