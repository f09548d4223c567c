//! Kubernetes resource quantities (`500m`, `128Mi`, `1.5G`, `1e3`), parsed exactly into
//! billionths of a unit. Hand-written: no maintained crate parses the quantity grammar of
//! `k8s.io/apimachinery/pkg/api/resource` without pulling in a whole Kubernetes client.

use serde_json::Value;

/// A quantity in billionths of its unit (nano-cores, nano-bytes), rounded up like Kubernetes
/// rounds a quantity finer than it can represent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quantity {
    nanos: i128,
}

const NANO: i128 = 1_000_000_000;

impl Quantity {
    /// Parses a quantity given as a string or a JSON number.
    pub fn from_json(v: &Value) -> Result<Quantity, String> {
        match v {
            Value::String(s) => Quantity::parse(s),
            Value::Number(n) => Quantity::parse(&n.to_string()),
            other => Err(format!(
                "quantities must be strings or numbers, not {other}"
            )),
        }
    }

    /// Parses `<sign><digits>[.<digits>]<suffix>` where the suffix is a binary SI one (Ki,
    /// Mi, Gi, Ti, Pi, Ei), a decimal SI one (n, u, m, k, M, G, T, P, E) or an exponent
    /// (`e3`, `E-2`).
    pub fn parse(s: &str) -> Result<Quantity, String> {
        let bad = || {
            format!(
                "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': {s:?}"
            )
        };
        let (negative, rest) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, suffix) = rest.split_at(end);
        let (int, frac) = number.split_once('.').unwrap_or((number, ""));
        if (int.is_empty() && frac.is_empty()) || frac.contains('.') {
            return Err(bad());
        }
        let mut mantissa: i128 = 0;
        for d in int.bytes().chain(frac.bytes()) {
            mantissa = mantissa
                .checked_mul(10)
                .and_then(|m| m.checked_add(i128::from(d - b'0')))
                .ok_or_else(|| format!("quantity too large: {s:?}"))?;
        }
        let mut exp10: i64 = -(frac.len() as i64);
        let mut factor: i128 = 1;
        match suffix {
            "" => {}
            "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => {
                let power = "KMGTPE".find(&suffix[..1]).unwrap_or(0) as u32 + 1;
                factor = 1i128 << (10 * power);
            }
            "n" => exp10 -= 9,
            "u" => exp10 -= 6,
            "m" => exp10 -= 3,
            "k" => exp10 += 3,
            "M" => exp10 += 6,
            "G" => exp10 += 9,
            "T" => exp10 += 12,
            "P" => exp10 += 15,
            "E" => exp10 += 18,
            _ if suffix.starts_with(['e', 'E']) => {
                let e: i64 = suffix[1..].parse().map_err(|_| bad())?;
                if e.abs() > 40 {
                    return Err(format!("quantity out of range: {s:?}"));
                }
                exp10 += e;
            }
            _ => return Err(bad()),
        }
        let too_large = || format!("quantity too large: {s:?}");
        let mut nanos = mantissa.checked_mul(factor).ok_or_else(too_large)?;
        let shift = exp10 + 9;
        if shift >= 0 {
            let p = 10i128.checked_pow(shift as u32).ok_or_else(too_large)?;
            nanos = nanos.checked_mul(p).ok_or_else(too_large)?;
        } else {
            let p = 10i128.checked_pow((-shift) as u32).unwrap_or(i128::MAX);
            nanos = ceil_div(nanos, p);
        }
        Ok(Quantity {
            nanos: if negative { -nanos } else { nanos },
        })
    }

    /// The quantity in thousandths, rounded up (`MilliValue`).
    pub fn milli(self) -> i128 {
        ceil_div(self.nanos, NANO / 1000)
    }

    /// The quantity in units, rounded up (`Value`).
    pub fn value(self) -> i128 {
        ceil_div(self.nanos, NANO)
    }

    /// The quantity in billionths of a unit.
    pub fn nanos(self) -> i128 {
        self.nanos
    }

    /// A quantity of `units`.
    pub fn from_units(units: i128) -> Quantity {
        Quantity {
            nanos: units * NANO,
        }
    }
}

/// `a / b` rounded towards positive infinity (`b > 0`).
pub fn ceil_div(a: i128, b: i128) -> i128 {
    let q = a / b;
    if a % b > 0 { q + 1 } else { q }
}

/// Clamps to what an engine field of type i64 holds.
pub fn to_i64(v: i128) -> i64 {
    v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn q(s: &str) -> Quantity {
        Quantity::parse(s).unwrap()
    }

    #[test]
    fn binary_suffixes_are_powers_of_1024() {
        assert_eq!(q("1Ki").value(), 1024);
        assert_eq!(q("128Mi").value(), 128 * 1024 * 1024);
        assert_eq!(q("1.5Gi").value(), 3 * 512 * 1024 * 1024);
        assert_eq!(q("2Ti").value(), 2 << 40);
        assert_eq!(q("1Ei").value(), 1 << 60);
    }

    #[test]
    fn decimal_suffixes_and_exponents() {
        assert_eq!(q("500m").milli(), 500);
        assert_eq!(q("0.5").milli(), 500);
        assert_eq!(q("2").milli(), 2000);
        assert_eq!(q("1k").value(), 1000);
        assert_eq!(q("64M").value(), 64_000_000);
        assert_eq!(q("1G").value(), 1_000_000_000);
        assert_eq!(q("1e3").value(), 1000);
        assert_eq!(q("1E6").value(), 1_000_000);
        assert_eq!(q("12e-3").milli(), 12);
        assert_eq!(q("100u").nanos(), 100_000);
        assert_eq!(q("5n").nanos(), 5);
        assert_eq!(q("+1").value(), 1);
        assert_eq!(q("-1").value(), -1);
        assert_eq!(q(".5").milli(), 500);
    }

    #[test]
    fn finer_than_representable_rounds_up() {
        assert_eq!(q("1.5").value(), 2);
        assert_eq!(q("100m").value(), 1);
        assert_eq!(q("0.0001").milli(), 1);
        assert_eq!(q("1e-12").nanos(), 1);
        assert_eq!(q("1.0001m").milli(), 2);
    }

    #[test]
    fn numbers_from_json() {
        assert_eq!(Quantity::from_json(&json!(2)).unwrap().milli(), 2000);
        assert_eq!(Quantity::from_json(&json!(0.25)).unwrap().milli(), 250);
        assert!(Quantity::from_json(&json!(true)).is_err());
    }

    #[test]
    fn rejects_what_kubernetes_rejects() {
        for bad in [
            "", "Mi", "1Z", "1.2.3", "abc", "1 Mi", "--1", "1e", "1ex", ".",
        ] {
            assert!(Quantity::parse(bad).is_err(), "{bad:?} must be rejected");
        }
        assert!(Quantity::parse("1e99").is_err());
        assert!(Quantity::parse("99999999999999999999999999999999999999999").is_err());
    }
}
