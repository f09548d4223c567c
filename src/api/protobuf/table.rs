//! The protobuf field table `build.rs` generates from `spec/protobuf.json` (itself derived from
//! the k8s-pb crate by `codegen protobuf`): for every message k2d may meet in a request body, its
//! fields by tag with their JSON names and wire kinds. Only messages reachable from the schemas of
//! `spec/` are generated, so the table grows with the API surface and no further.

/// How a message becomes JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// An object: one JSON member per field.
    Object,
    /// `meta/v1 Time` {seconds, nanos}: an RFC 3339 string with second precision.
    Time,
    /// `meta/v1 MicroTime` {seconds, nanos}: an RFC 3339 string with microseconds.
    MicroTime,
    /// `meta/v1 Duration` {duration (ns)}: a Go duration string (`1m30s`).
    Duration,
    /// `intstr.IntOrString` {type, intVal, strVal}: a number or a string.
    IntOrString,
    /// `resource.Quantity` {string}: the string.
    Quantity,
    /// `RawExtension`, `FieldsV1`, apiextensions `JSON` {raw}: the embedded JSON document.
    RawJson,
    /// A wrapper of a `[]string` (`ExtraValue`, `Verbs`) {items}: an array of strings.
    StringList,
}

/// The wire kind of a field (of a map's values, for maps).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `string`.
    String,
    /// `bytes`: base64 in JSON.
    Bytes,
    /// `bool`.
    Bool,
    /// `int32` (and `enum`).
    Int32,
    /// `int64`.
    Int64,
    /// `uint32`.
    Uint32,
    /// `uint64`.
    Uint64,
    /// `sint32` (zigzag).
    Sint32,
    /// `sint64` (zigzag).
    Sint64,
    /// `fixed32`.
    Fixed32,
    /// `fixed64`.
    Fixed64,
    /// `sfixed32`.
    Sfixed32,
    /// `sfixed64`.
    Sfixed64,
    /// `float`.
    Float,
    /// `double`.
    Double,
    /// A message: index into [`MESSAGES`].
    Message(u16),
}

/// The field is `repeated`: a JSON array.
pub const REPEATED: u8 = 1;
/// The field is a `map<string, kind>`: a JSON object.
pub const MAP: u8 = 2;
/// The field is an embedded Go struct (`json:",inline"`): its members are the parent's own.
pub const INLINE: u8 = 4;
/// A zero scalar is kept in JSON: a Go pointer whose zero value means something (the hand-kept
/// list of `codegen protobuf`), or a field Go always writes (no `omitempty`: its schema has a
/// zero `default`). Other zero scalars are dropped, as Go's `omitempty` drops them.
pub const KEEP_ZERO: u8 = 8;

/// A field of a message. No pointers (names are offsets into [`NAMES`]), so the table needs no
/// relocations in a position-independent binary.
#[derive(Debug)]
pub struct Field {
    /// Field number.
    pub tag: u16,
    name_at: u16,
    name_len: u8,
    /// [`REPEATED`], [`MAP`], [`INLINE`], [`KEEP_ZERO`].
    pub flags: u8,
    /// Wire kind (of the values, for maps).
    pub kind: Kind,
}

/// A [`Field`] (keeps the generated table one line per field).
pub const fn field(tag: u16, name_at: u16, name_len: u8, kind: Kind, flags: u8) -> Field {
    Field {
        tag,
        name_at,
        name_len,
        flags,
        kind,
    }
}

fn name(at: u16, len: u8) -> &'static str {
    let at = usize::from(at);
    &NAMES[at..at + usize::from(len)]
}

impl Field {
    /// JSON name (empty for [`INLINE`] fields).
    pub fn name(&self) -> &'static str {
        name(self.name_at, self.name_len)
    }

    /// `true` when `flag` is set.
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

/// A protobuf message.
#[derive(Debug)]
pub struct Message {
    name_at: u16,
    name_len: u8,
    /// How it becomes JSON.
    pub form: Form,
    first: u16,
    count: u8,
}

/// A [`Message`] (keeps the generated table one line per message).
pub const fn msg(name_at: u16, name_len: u8, form: Form, first: u16, count: u8) -> Message {
    Message {
        name_at,
        name_len,
        form,
        first,
        count,
    }
}

impl Message {
    /// Its fields, sorted by tag.
    pub fn fields(&self) -> &'static [Field] {
        let first = usize::from(self.first);
        &FIELDS[first..first + usize::from(self.count)]
    }

    /// The field with this tag.
    pub fn field(&self, tag: u32) -> Option<&'static Field> {
        let tag = u16::try_from(tag).ok()?;
        let fields = self.fields();
        fields
            .binary_search_by_key(&tag, |f| f.tag)
            .ok()
            .map(|i| &fields[i])
    }

    /// The last segment of its schema name (`Deployment`), as Go's error messages name a message.
    pub fn short_name(&self) -> &'static str {
        name(self.name_at, self.name_len)
    }
}

include!(concat!(env!("OUT_DIR"), "/k2d_protobuf.rs"));

fn at(i: u16) -> Option<&'static Message> {
    MESSAGES.get(usize::from(i))
}

/// The message of the schema at this index of `crate::generated::SCHEMAS`.
pub fn message_of_schema(schema: usize) -> Option<&'static Message> {
    SCHEMA_MESSAGES.get(schema).copied().and_then(at)
}

/// The message of the schema with this name (`io.k8s.api.apps.v1.Deployment`).
pub fn message(schema_name: &str) -> Option<&'static Message> {
    crate::generated::schema_index(schema_name).and_then(message_of_schema)
}

/// The message of `DeleteOptions`.
pub fn delete_options() -> Option<&'static Message> {
    at(DELETE_OPTIONS)
}
