//! Whether a string decodes as Go's `base64.StdEncoding` decodes it, and if not, at which byte
//! it fails: Secret `data` and ConfigMap `binaryData` values are `[]byte` in Go, so kube-apiserver
//! answers a bad value with `illegal base64 data at input byte N`.
//!
//! The rules (standard alphabet, `=` padding required, `\r` and `\n` ignored anywhere) and the
//! offsets follow Go's decoder.

fn is_alphabet(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/'
}

fn is_newline(b: u8) -> bool {
    b == b'\n' || b == b'\r'
}

/// `Ok` when `src` is valid base64, else the offset Go reports.
pub(crate) fn check(src: &[u8]) -> Result<(), usize> {
    let mut si = 0;
    loop {
        // One quantum of four symbols.
        let mut j = 0;
        while j < 4 {
            if si == src.len() {
                if j == 0 {
                    return Ok(());
                }
                return Err(si - j);
            }
            let b = src[si];
            si += 1;
            if is_alphabet(b) {
                j += 1;
                continue;
            }
            if is_newline(b) {
                continue;
            }
            if b != b'=' || j < 2 {
                return Err(si - 1);
            }
            if j == 2 {
                // `==` expected: find the second `=`.
                while si < src.len() && is_newline(src[si]) {
                    si += 1;
                }
                if si == src.len() {
                    return Err(src.len());
                }
                if src[si] != b'=' {
                    return Err(si - 1);
                }
                si += 1;
            }
            while si < src.len() && is_newline(src[si]) {
                si += 1;
            }
            return if si < src.len() { Err(si) } else { Ok(()) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn valid() {
        for ok in [
            "",
            "aGVsbG8=",
            "aGk=",
            "aGVs",
            "aGVsbG8gd29ybGQ=",
            "aGVs\nbG8=",
            "YQ==",
        ] {
            assert_eq!(check(ok.as_bytes()), Ok(()), "{ok}");
        }
    }

    #[test]
    fn offsets_match_go() {
        assert_eq!(check(b"hello"), Err(4));
        assert_eq!(check(b"abc"), Err(0));
        assert_eq!(check(b"ab$d"), Err(2));
        assert_eq!(check(b"a==="), Err(1));
        assert_eq!(check(b"YQ="), Err(3));
        assert_eq!(check(b"YQ=x"), Err(2));
        assert_eq!(check(b"aGk=aGk="), Err(4));
        assert_eq!(check(b"not base64!"), Err(3));
    }
}
