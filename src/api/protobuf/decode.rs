//! The decoder: the `k8s\0` envelope, then the object's bytes walked with prost's wire-format
//! primitives and the generated field table, producing the JSON a Go client would have sent.

use base64::Engine as _;
use prost::encoding::{WireType, decode_varint};
use serde_json::{Map, Number, Value};

use super::error::ProtobufError;
use super::forms;
use super::table::{self, Field, Form, INLINE, KEEP_ZERO, Kind, MAP, Message, REPEATED};

/// The four bytes every Kubernetes protobuf body starts with.
pub const MAGIC: &[u8; 4] = b"k8s\0";

/// Deeper than any Kubernetes object nests; stops a hostile body from exhausting the stack.
const MAX_DEPTH: u32 = 100;

/// A failure inside the wire format, worded as Go's generated unmarshallers word it.
pub(crate) type WireResult<T> = Result<T, String>;

pub(crate) const EOF: &str = "unexpected EOF";

/// Reads the wire format from a slice.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub(crate) fn varint(&mut self) -> WireResult<u64> {
        // prost reports a truncated varint and an overlong one alike; Go tells them apart.
        let ends = self.buf.iter().take(10).any(|b| b & 0x80 == 0);
        if !ends && self.buf.len() < 10 {
            return Err(EOF.to_string());
        }
        decode_varint(&mut self.buf).map_err(|_| "proto: integer overflow".to_string())
    }

    /// A field key: (tag, wire type).
    pub(crate) fn key(&mut self, message: &str) -> WireResult<(u32, WireType)> {
        let key = self.varint()?;
        let wire = (key & 7) as u32;
        let tag = key >> 3;
        if tag == 0 || tag > u64::from(prost::encoding::MAX_TAG) {
            return Err(format!(
                "proto: {message}: illegal tag {tag} (wire type {wire})"
            ));
        }
        let wire = WireType::try_from(key & 7)
            .map_err(|_| format!("proto: {message}: illegal tag {tag} (wire type {wire})"))?;
        if wire == WireType::EndGroup {
            return Err(format!(
                "proto: {message}: wiretype end group for non-group"
            ));
        }
        Ok((tag as u32, wire))
    }

    pub(crate) fn bytes(&mut self) -> WireResult<&'a [u8]> {
        let len = self.varint()?;
        if len > i64::MAX as u64 {
            return Err("proto: negative length found during unmarshaling".to_string());
        }
        let len = usize::try_from(len).map_err(|_| EOF.to_string())?;
        if len > self.buf.len() {
            return Err(EOF.to_string());
        }
        let (head, rest) = self.buf.split_at(len);
        self.buf = rest;
        Ok(head)
    }

    fn fixed<const N: usize>(&mut self) -> WireResult<[u8; N]> {
        if self.buf.len() < N {
            return Err(EOF.to_string());
        }
        let (head, rest) = self.buf.split_at(N);
        self.buf = rest;
        Ok(head.try_into().expect("N bytes"))
    }

    /// Skips the value of a field nobody asked for (Go skips unknown fields too).
    pub(crate) fn skip(&mut self, wire: WireType, tag: u32, depth: u32) -> WireResult<()> {
        match wire {
            WireType::Varint => self.varint().map(drop),
            WireType::SixtyFourBit => self.fixed::<8>().map(drop),
            WireType::ThirtyTwoBit => self.fixed::<4>().map(drop),
            WireType::LengthDelimited => self.bytes().map(drop),
            WireType::StartGroup => {
                if depth > MAX_DEPTH {
                    return Err("proto: exceeded maximum recursion depth".to_string());
                }
                loop {
                    if self.buf.is_empty() {
                        return Err(EOF.to_string());
                    }
                    let key = self.varint()?;
                    let inner = WireType::try_from(key & 7)
                        .map_err(|_| format!("proto: illegal wireType {}", key & 7))?;
                    let inner_tag = (key >> 3) as u32;
                    if inner == WireType::EndGroup {
                        if inner_tag != tag {
                            return Err("proto: unexpected end group".to_string());
                        }
                        return Ok(());
                    }
                    self.skip(inner, inner_tag, depth + 1)?;
                }
            }
            WireType::EndGroup => Err("proto: unexpected end group".to_string()),
        }
    }

    /// A scalar of `kind`, as JSON, and whether it is the zero value.
    fn scalar(&mut self, kind: Kind) -> WireResult<(Value, bool)> {
        Ok(match kind {
            Kind::String => {
                let b = self.bytes()?;
                (
                    Value::String(String::from_utf8_lossy(b).into_owned()),
                    b.is_empty(),
                )
            }
            Kind::Bytes => {
                let b = self.bytes()?;
                (
                    Value::String(base64::engine::general_purpose::STANDARD.encode(b)),
                    b.is_empty(),
                )
            }
            Kind::Bool => {
                let v = self.varint()? != 0;
                (Value::Bool(v), !v)
            }
            Kind::Int32 => int(i64::from(self.varint()? as i32)),
            Kind::Int64 => int(self.varint()? as i64),
            Kind::Uint32 => uint(u64::from(self.varint()? as u32)),
            Kind::Uint64 => uint(self.varint()?),
            Kind::Sint32 => {
                let v = self.varint()? as u32;
                int(i64::from((v >> 1) as i32 ^ -((v & 1) as i32)))
            }
            Kind::Sint64 => {
                let v = self.varint()?;
                int((v >> 1) as i64 ^ -((v & 1) as i64))
            }
            Kind::Fixed32 => uint(u64::from(u32::from_le_bytes(self.fixed()?))),
            Kind::Sfixed32 => int(i64::from(i32::from_le_bytes(self.fixed()?))),
            Kind::Fixed64 => uint(u64::from_le_bytes(self.fixed()?)),
            Kind::Sfixed64 => int(i64::from_le_bytes(self.fixed()?)),
            Kind::Float => float(f64::from(f32::from_le_bytes(self.fixed()?)))?,
            Kind::Double => float(f64::from_le_bytes(self.fixed()?))?,
            Kind::Message(_) => unreachable!("messages are not scalars"),
        })
    }
}

fn int(v: i64) -> (Value, bool) {
    (Value::Number(v.into()), v == 0)
}

fn uint(v: u64) -> (Value, bool) {
    (Value::Number(v.into()), v == 0)
}

/// A float as Go's `encoding/json` writes it: integral values without a fraction.
fn float(v: f64) -> WireResult<(Value, bool)> {
    if !v.is_finite() {
        return Err(format!("json: unsupported value: {v}"));
    }
    let n = if v.fract() == 0.0 && v.abs() < 1e15 {
        Number::from(v as i64)
    } else {
        Number::from_f64(v).expect("finite")
    };
    Ok((Value::Number(n), v == 0.0))
}

/// The wire type a field of `kind` arrives with (unpacked).
fn wire_type(kind: Kind) -> WireType {
    match kind {
        Kind::String | Kind::Bytes | Kind::Message(_) => WireType::LengthDelimited,
        Kind::Fixed64 | Kind::Sfixed64 | Kind::Double => WireType::SixtyFourBit,
        Kind::Fixed32 | Kind::Sfixed32 | Kind::Float => WireType::ThirtyTwoBit,
        _ => WireType::Varint,
    }
}

fn wrong_wire(wire: WireType, field: &Field) -> String {
    let name = if field.name().is_empty() {
        "(inline)"
    } else {
        field.name()
    };
    format!("proto: wrong wireType = {} for field {name}", wire as u8)
}

/// Decodes `buf`, the bytes of a `msg`, into JSON members of `out` (merging, as protobuf does
/// when a message field repeats).
pub(crate) fn decode_object(
    msg: &'static Message,
    buf: &[u8],
    out: &mut Map<String, Value>,
    depth: u32,
) -> WireResult<()> {
    if depth > MAX_DEPTH {
        return Err("proto: exceeded maximum recursion depth".to_string());
    }
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key(msg.short_name())?;
        let Some(field) = msg.field(tag) else {
            r.skip(wire, tag, depth)?;
            continue;
        };
        if field.has(MAP) {
            if wire != WireType::LengthDelimited {
                return Err(wrong_wire(wire, field));
            }
            let (key, value) = map_entry(field, r.bytes()?, depth)?;
            let entry = out
                .entry(field.name())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(m) = entry {
                m.insert(key, value);
            }
            continue;
        }
        if let Kind::Message(i) = field.kind {
            if wire != WireType::LengthDelimited {
                return Err(wrong_wire(wire, field));
            }
            let target = &table::MESSAGES[usize::from(i)];
            let bytes = r.bytes()?;
            if field.has(INLINE) {
                decode_object(target, bytes, out, depth + 1)?;
            } else if field.has(REPEATED) {
                let v = message_value(target, bytes, depth + 1)?.unwrap_or(Value::Null);
                push(out, field.name(), v);
            } else if target.form == Form::Object {
                let entry = out
                    .entry(field.name())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !entry.is_object() {
                    *entry = Value::Object(Map::new());
                }
                let Value::Object(m) = entry else {
                    unreachable!("made an object above")
                };
                decode_object(target, bytes, m, depth + 1)?;
            } else {
                match message_value(target, bytes, depth + 1)? {
                    Some(v) => out.insert(field.name().to_string(), v),
                    None => out.remove(field.name()),
                };
            }
            continue;
        }
        if field.has(REPEATED) {
            if wire == WireType::LengthDelimited && wire_type(field.kind) != wire {
                // Packed scalars.
                let mut packed = Reader::new(r.bytes()?);
                while !packed.is_empty() {
                    let (v, _) = packed.scalar(field.kind)?;
                    push(out, field.name(), v);
                }
            } else if wire == wire_type(field.kind) {
                let (v, _) = r.scalar(field.kind)?;
                push(out, field.name(), v);
            } else {
                return Err(wrong_wire(wire, field));
            }
            continue;
        }
        if wire != wire_type(field.kind) {
            return Err(wrong_wire(wire, field));
        }
        let (v, zero) = r.scalar(field.kind)?;
        if zero && !field.has(KEEP_ZERO) {
            // Go's omitempty: a zero non-pointer scalar is not in the JSON.
            out.remove(field.name());
        } else {
            out.insert(field.name().to_string(), v);
        }
    }
    Ok(())
}

fn push(out: &mut Map<String, Value>, name: &str, v: Value) {
    let entry = out.entry(name).or_insert_with(|| Value::Array(Vec::new()));
    if !entry.is_array() {
        *entry = Value::Array(Vec::new());
    }
    if let Value::Array(a) = entry {
        a.push(v);
    }
}

/// A map entry message {1: key, 2: value}. Missing parts are their zero values, as in Go.
fn map_entry(field: &Field, buf: &[u8], depth: u32) -> WireResult<(String, Value)> {
    let mut r = Reader::new(buf);
    let mut key = String::new();
    let mut value = None;
    while !r.is_empty() {
        let (tag, wire) = r.key("MapEntry")?;
        match tag {
            1 if wire == WireType::LengthDelimited => {
                key = String::from_utf8_lossy(r.bytes()?).into_owned();
            }
            2 if wire == wire_type(field.kind) => {
                value = Some(match field.kind {
                    Kind::Message(i) => {
                        message_value(&table::MESSAGES[usize::from(i)], r.bytes()?, depth + 1)?
                            .unwrap_or(Value::Null)
                    }
                    kind => r.scalar(kind)?.0,
                });
            }
            1 | 2 => return Err(wrong_wire(wire, field)),
            _ => r.skip(wire, tag, depth)?,
        }
    }
    let value = match value {
        Some(v) => v,
        None => match field.kind {
            Kind::Message(i) => message_value(&table::MESSAGES[usize::from(i)], &[], depth + 1)?
                .unwrap_or(Value::Null),
            Kind::String | Kind::Bytes => Value::String(String::new()),
            Kind::Bool => Value::Bool(false),
            _ => Value::Number(0.into()),
        },
    };
    Ok((key, value))
}

/// The JSON of one message value; `None` where Go writes `null` (a zero `Time`, an empty
/// `RawExtension`), which k2d leaves out.
pub(crate) fn message_value(
    msg: &'static Message,
    buf: &[u8],
    depth: u32,
) -> WireResult<Option<Value>> {
    if depth > MAX_DEPTH {
        return Err("proto: exceeded maximum recursion depth".to_string());
    }
    match msg.form {
        Form::Object => {
            let mut m = Map::new();
            decode_object(msg, buf, &mut m, depth)?;
            Ok(Some(Value::Object(m)))
        }
        Form::Time | Form::MicroTime => forms::time(msg, buf),
        Form::Duration => forms::duration(msg, buf).map(Some),
        Form::IntOrString => forms::int_or_string(msg, buf).map(Some),
        Form::Quantity => forms::quantity(msg, buf).map(Some),
        Form::RawJson => forms::raw_json(msg, buf, depth),
        Form::StringList => forms::string_list(msg, buf).map(Some),
    }
}

/// `runtime.Unknown`: {1: typeMeta {1: apiVersion, 2: kind}, 2: raw, 3: contentEncoding,
/// 4: contentType}.
pub(crate) struct Envelope<'a> {
    pub(crate) api_version: String,
    pub(crate) kind: String,
    pub(crate) raw: &'a [u8],
    pub(crate) content_encoding: String,
    pub(crate) content_type: String,
}

fn string(r: &mut Reader<'_>, wire: WireType) -> WireResult<String> {
    if wire != WireType::LengthDelimited {
        return Err(format!(
            "proto: wrong wireType = {} for field of type string",
            wire as u8
        ));
    }
    Ok(String::from_utf8_lossy(r.bytes()?).into_owned())
}

pub(crate) fn envelope(buf: &[u8]) -> WireResult<Envelope<'_>> {
    let mut env = Envelope {
        api_version: String::new(),
        kind: String::new(),
        raw: &[],
        content_encoding: String::new(),
        content_type: String::new(),
    };
    let mut r = Reader::new(buf);
    while !r.is_empty() {
        let (tag, wire) = r.key("Unknown")?;
        match tag {
            1 => {
                if wire != WireType::LengthDelimited {
                    return Err(format!(
                        "proto: wrong wireType = {} for field TypeMeta",
                        wire as u8
                    ));
                }
                let mut t = Reader::new(r.bytes()?);
                while !t.is_empty() {
                    let (tag, wire) = t.key("TypeMeta")?;
                    match tag {
                        1 => env.api_version = string(&mut t, wire)?,
                        2 => env.kind = string(&mut t, wire)?,
                        _ => t.skip(wire, tag, 0)?,
                    }
                }
            }
            2 => {
                if wire != WireType::LengthDelimited {
                    return Err(format!(
                        "proto: wrong wireType = {} for field Raw",
                        wire as u8
                    ));
                }
                env.raw = r.bytes()?;
            }
            3 => env.content_encoding = string(&mut r, wire)?,
            4 => env.content_type = string(&mut r, wire)?,
            _ => r.skip(wire, tag, 0)?,
        }
    }
    Ok(env)
}

/// The message of the object kind `api_version`/`kind`, through the kinds of the spec's schemas.
fn message_for(api_version: &str, kind: &str) -> Result<&'static Message, ProtobufError> {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let found = if kind == "DeleteOptions" {
        // Registered in every group-version (and as meta.k8s.io/v1), whatever the spec lists.
        Some(table::delete_options())
    } else {
        crate::generated::SCHEMAS
            .iter()
            .position(|s| {
                s.gvks
                    .iter()
                    .any(|&(g, v, k)| g == group && v == version && k == kind)
            })
            .map(table::message_of_schema)
    };
    let Some(found) = found else {
        return Err(ProtobufError::UnknownKind {
            api_version: api_version.to_string(),
            kind: kind.to_string(),
        });
    };
    found.ok_or_else(|| ProtobufError::NoMessage {
        api_version: api_version.to_string(),
        kind: kind.to_string(),
    })
}

pub(crate) fn decode_at(body: &[u8], depth: u32) -> Result<Value, ProtobufError> {
    let payload = body
        .strip_prefix(MAGIC.as_slice())
        .ok_or(ProtobufError::NotProtobuf)?;
    let env = envelope(payload).map_err(ProtobufError::Envelope)?;
    if env.kind.is_empty() {
        return Err(ProtobufError::MissingKind {
            api_version: env.api_version,
        });
    }
    if !env.content_encoding.is_empty() {
        return Err(ProtobufError::Encoding(format!(
            "contentEncoding {}",
            env.content_encoding
        )));
    }
    if !(env.content_type.is_empty() || env.content_type == super::MEDIA_TYPE) {
        return Err(ProtobufError::Encoding(format!(
            "contentType {}",
            env.content_type
        )));
    }
    let msg = message_for(&env.api_version, &env.kind)?;
    let mut out = Map::new();
    out.insert("apiVersion".into(), Value::String(env.api_version.clone()));
    out.insert("kind".into(), Value::String(env.kind.clone()));
    decode_object(msg, env.raw, &mut out, depth).map_err(|reason| ProtobufError::Object {
        api_version: env.api_version,
        kind: env.kind,
        reason,
    })?;
    Ok(Value::Object(out))
}
