//! The messages whose JSON is not an object: Time, MicroTime, Duration, IntOrString, Quantity,
//! RawExtension / FieldsV1 / JSON, and string-list wrappers. Their wire layouts are checked by
//! `codegen protobuf` when it marks them, so the tags are fixed here.

use prost::encoding::WireType;
use serde_json::Value;

use super::decode::{Reader, WireResult};
use super::table::{Form, Message};

/// Reads the fields of a small message, handing each (tag, wire type) to `f`, which consumes the
/// value or returns `false` to have it skipped.
fn fields<'a>(
    msg: &Message,
    buf: &'a [u8],
    mut f: impl FnMut(&mut Reader<'a>, u32, WireType) -> WireResult<bool>,
) -> WireResult<()> {
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key(msg.short_name())?;
        if !f(&mut r, tag, wire)? {
            r.skip(wire, tag, 0)?;
        }
    }
    Ok(())
}

fn expect(wire: WireType, expected: WireType, msg: &Message, tag: u32) -> WireResult<()> {
    if wire == expected {
        Ok(())
    } else {
        Err(format!(
            "proto: wrong wireType = {} for field {tag} of {}",
            wire as u8,
            msg.short_name()
        ))
    }
}

/// `Time` and `MicroTime` {1: seconds, 2: nanos}. Go writes a zero time as an empty message and
/// its JSON as `null` (left out here); anything else is a time, even 1970-01-01. `Time` keeps
/// seconds only (Go drops the nanoseconds on decode), `MicroTime` keeps microseconds.
pub(crate) fn time(msg: &Message, buf: &[u8]) -> WireResult<Option<Value>> {
    if buf.is_empty() {
        return Ok(None);
    }
    let (mut seconds, mut nanos) = (0i64, 0i64);
    fields(msg, buf, |r, tag, wire| {
        match tag {
            1 => {
                expect(wire, WireType::Varint, msg, tag)?;
                seconds = r.varint()? as i64;
            }
            2 => {
                expect(wire, WireType::Varint, msg, tag)?;
                nanos = i64::from(r.varint()? as i32);
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    let micro = msg.form == Form::MicroTime;
    if !micro {
        nanos = 0;
    }
    rfc3339(seconds, nanos, micro).map(|s| Some(Value::String(s)))
}

/// `2006-01-02T15:04:05Z` (or `...05.000000Z` with `micro`), in UTC, as Go's `time.Unix` would
/// normalise `seconds` and `nanos`.
pub(crate) fn rfc3339(seconds: i64, nanos: i64, micro: bool) -> WireResult<String> {
    let seconds = seconds
        .checked_add(nanos.div_euclid(1_000_000_000))
        .ok_or("Time.MarshalJSON: year outside of range [0,9999]")?;
    let nanos = nanos.rem_euclid(1_000_000_000);
    let days = seconds.div_euclid(86_400);
    let secs = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        return Err("Time.MarshalJSON: year outside of range [0,9999]".to_string());
    }
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    Ok(if micro {
        format!(
            "{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{:06}Z",
            nanos / 1000
        )
    } else {
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z")
    })
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (the well-known "days to civil"
/// conversion on 400-year eras).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `Duration` {1: duration in nanoseconds}: Go's `time.Duration` string (`1m30s`, `1h0m0s`,
/// `1.5s`, `300ms`, `0s`).
pub(crate) fn duration(msg: &Message, buf: &[u8]) -> WireResult<Value> {
    let mut ns = 0i64;
    fields(msg, buf, |r, tag, wire| {
        if tag != 1 {
            return Ok(false);
        }
        expect(wire, WireType::Varint, msg, tag)?;
        ns = r.varint()? as i64;
        Ok(true)
    })?;
    Ok(Value::String(go_duration(ns)))
}

/// `v / unit` with its decimal fraction, trailing zeros trimmed: (1500, 1000) is `1.5`.
fn decimal(v: u64, unit: u64) -> String {
    let (whole, frac) = (v / unit, v % unit);
    if frac == 0 {
        return whole.to_string();
    }
    let width = unit.ilog10() as usize;
    let digits = format!("{frac:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// Go's `time.Duration.String()`.
pub(crate) fn go_duration(ns: i64) -> String {
    if ns == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    if ns < 0 {
        out.push('-');
    }
    let u = ns.unsigned_abs();
    const SECOND: u64 = 1_000_000_000;
    if u < SECOND {
        let (unit, name) = if u < 1_000 {
            (1, "ns")
        } else if u < 1_000_000 {
            (1_000, "µs")
        } else {
            (1_000_000, "ms")
        };
        out.push_str(&decimal(u, unit));
        out.push_str(name);
        return out;
    }
    let hours = u / (3600 * SECOND);
    let minutes = u / (60 * SECOND) % 60;
    let rest = u % (60 * SECOND);
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if hours > 0 || minutes > 0 {
        out.push_str(&format!("{minutes}m"));
    }
    out.push_str(&decimal(rest, SECOND));
    out.push('s');
    out
}

/// `IntOrString` {1: type (0 int, 1 string), 2: intVal, 3: strVal}: a number or a string.
pub(crate) fn int_or_string(msg: &Message, buf: &[u8]) -> WireResult<Value> {
    let (mut ty, mut int, mut string) = (0u64, 0i32, String::new());
    fields(msg, buf, |r, tag, wire| {
        match tag {
            1 => {
                expect(wire, WireType::Varint, msg, tag)?;
                ty = r.varint()?;
            }
            2 => {
                expect(wire, WireType::Varint, msg, tag)?;
                int = r.varint()? as i32;
            }
            3 => {
                expect(wire, WireType::LengthDelimited, msg, tag)?;
                string = String::from_utf8_lossy(r.bytes()?).into_owned();
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(if ty == 1 {
        Value::String(string)
    } else {
        Value::Number(int.into())
    })
}

/// `Quantity` {1: string}: the string (already canonical: Go writes `Quantity.String()`); `"0"`
/// when absent, as Go's zero Quantity marshals.
pub(crate) fn quantity(msg: &Message, buf: &[u8]) -> WireResult<Value> {
    let mut s = String::new();
    fields(msg, buf, |r, tag, wire| {
        if tag != 1 {
            return Ok(false);
        }
        expect(wire, WireType::LengthDelimited, msg, tag)?;
        s = String::from_utf8_lossy(r.bytes()?).into_owned();
        Ok(true)
    })?;
    if s.is_empty() {
        s.push('0');
    }
    Ok(Value::String(s))
}

/// `RawExtension`, `FieldsV1`, apiextensions `JSON` {1: raw}: the embedded document. Go writes
/// `null` for an empty one (left out here). A nested object a Go client encoded with the
/// protobuf serializer (`k8s\0...`) is decoded in turn.
pub(crate) fn raw_json(msg: &Message, buf: &[u8], depth: u32) -> WireResult<Option<Value>> {
    let mut raw: &[u8] = &[];
    fields(msg, buf, |r, tag, wire| {
        if tag != 1 {
            return Ok(false);
        }
        expect(wire, WireType::LengthDelimited, msg, tag)?;
        raw = r.bytes()?;
        Ok(true)
    })?;
    if raw.is_empty() {
        return Ok(None);
    }
    if raw.starts_with(super::decode::MAGIC) {
        return super::decode::decode_at(raw, depth + 1)
            .map(Some)
            .map_err(|e| format!("{}: {e}", msg.short_name()));
    }
    serde_json::from_slice(raw)
        .map(Some)
        .map_err(|e| format!("{}: the embedded data is not JSON: {e}", msg.short_name()))
}

/// A `[]string` wrapper {1: repeated items}: an array of strings.
pub(crate) fn string_list(msg: &Message, buf: &[u8]) -> WireResult<Value> {
    let mut items = Vec::new();
    fields(msg, buf, |r, tag, wire| {
        if tag != 1 {
            return Ok(false);
        }
        expect(wire, WireType::LengthDelimited, msg, tag)?;
        items.push(Value::String(
            String::from_utf8_lossy(r.bytes()?).into_owned(),
        ));
        Ok(true)
    })?;
    Ok(Value::Array(items))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_go_writes_them() {
        for (ns, s) in [
            (0, "0s"),
            (1, "1ns"),
            (1_500, "1.5µs"),
            (300_000_000, "300ms"),
            (1_500_000_000, "1.5s"),
            (90_000_000_000, "1m30s"),
            (3_600_000_000_000, "1h0m0s"),
            (3_723_000_000_000, "1h2m3s"),
            (61_000_000_001, "1m1.000000001s"),
            (-90_000_000_000, "-1m30s"),
        ] {
            assert_eq!(go_duration(ns), s, "{ns}");
        }
    }

    #[test]
    fn times_are_rfc3339_in_utc() {
        assert_eq!(rfc3339(0, 0, false).unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(1_795_236_479, 0, false).unwrap(),
            "2026-11-21T04:47:59Z"
        );
        assert_eq!(
            rfc3339(951_782_400, 123_456_789, true).unwrap(),
            "2000-02-29T00:00:00.123456Z"
        );
        assert_eq!(rfc3339(-1, 0, false).unwrap(), "1969-12-31T23:59:59Z");
        assert_eq!(
            rfc3339(-62_135_596_800, 0, false).unwrap(),
            "0001-01-01T00:00:00Z"
        );
        assert!(rfc3339(253_402_300_800, 0, false).is_err());
    }
}
