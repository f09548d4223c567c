//! `$(VAR)` references in command, args, env values and subPathExpr, with the rules of the
//! Kubernetes API: `$(VAR)` is replaced by the variable's value, `$$` is an escaped `$`
//! (so `$$(VAR)` stays `$(VAR)`), and a reference to an unknown variable, an unclosed `$(`
//! or a lone `$` stays as written.

/// Expands the `$(VAR)` references of `input` with `lookup`.
pub fn expand(input: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let bytes = input.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' || i + 1 == bytes.len() {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        match bytes[i + 1] {
            b'$' => {
                out.push(b'$');
                i += 2;
            }
            b'(' => match bytes[i + 2..].iter().position(|&b| b == b')') {
                Some(len) => {
                    let name = &input[i + 2..i + 2 + len];
                    match lookup(name) {
                        Some(v) => out.extend_from_slice(v.as_bytes()),
                        None => out.extend_from_slice(format!("$({name})").as_bytes()),
                    }
                    i += 2 + len + 1;
                }
                None => {
                    out.extend_from_slice(b"$(");
                    i += 2;
                }
            },
            _ => {
                out.push(b'$');
                i += 1;
            }
        }
    }
    // Only whole UTF-8 sequences were copied, and `$`, `(` and `)` are ASCII.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Expands with the variables of an env list (the last entry of a name wins).
pub fn expand_with(input: &str, env: &[(String, String)]) -> String {
    expand(input, |name| {
        env.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Vec<(String, String)> {
        vec![
            ("GREETING".into(), "hello".into()),
            ("NAME".into(), "k2d".into()),
            ("EMPTY".into(), String::new()),
        ]
    }

    fn x(s: &str) -> String {
        expand_with(s, &env())
    }

    #[test]
    fn references_are_replaced() {
        assert_eq!(x("$(GREETING) $(NAME)!"), "hello k2d!");
        assert_eq!(x("$(GREETING)$(NAME)"), "hellok2d");
        assert_eq!(x("[$(EMPTY)]"), "[]");
        assert_eq!(x("no references"), "no references");
    }

    #[test]
    fn escapes_and_unknowns_stay_literal() {
        assert_eq!(x("$$(NAME)"), "$(NAME)");
        assert_eq!(x("$$$(NAME)"), "$k2d");
        assert_eq!(x("$$$$"), "$$");
        assert_eq!(x("$(UNKNOWN)"), "$(UNKNOWN)");
        assert_eq!(x("$(NAME"), "$(NAME");
        assert_eq!(x("$NAME"), "$NAME");
        assert_eq!(x("cost: 5$"), "cost: 5$");
        assert_eq!(x("$"), "$");
        assert_eq!(x("$()"), "$()");
        assert_eq!(x("ünï$(NAME)cødé"), "ünïk2dcødé");
        assert_eq!(x("$é"), "$é");
    }

    #[test]
    fn a_value_is_not_expanded_again() {
        let env = vec![("A".into(), "$(B)".into()), ("B".into(), "b".into())];
        assert_eq!(expand_with("$(A)", &env), "$(B)");
    }
}
