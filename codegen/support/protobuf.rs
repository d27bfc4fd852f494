//! Descriptor types of the protobuf table (`crate::protobuf::MESSAGES`):
//! for every upstream `generated.proto` message a served kind can reach,
//! which JSON property each field number carries and how its value is
//! written on each side.
//!
//! Kubernetes objects are JSON documents to this server, but Go clients
//! send and accept `application/vnd.kubernetes.protobuf`. The table is what
//! a codec needs to translate one into the other without any generated
//! struct: field numbers, JSON names, and the few Go types whose protobuf
//! form differs from their JSON form (times, quantities, int-or-string,
//! raw JSON, the JSON-schema unions).

/// Index of a message in [`MessageTable::messages`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(pub u32);

/// How a field's value is written: its proto type and the JSON it stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `string` <-> JSON string.
    String,
    /// `int32` (varint, negative values sign-extended) <-> JSON integer.
    Int32,
    /// `int64` <-> JSON integer.
    Int64,
    /// `bool` <-> JSON boolean.
    Bool,
    /// `double` (fixed 64 bits) <-> JSON number.
    Double,
    /// `bytes` <-> base64 JSON string (Go's `[]byte`).
    Bytes,
    /// A nested message <-> JSON object.
    Message(MessageId),
    /// A Go struct embedded without a JSON name: protobuf nests it as a
    /// message, JSON flattens its properties into the enclosing object.
    Embedded(MessageId),
    /// `metav1.Time` {seconds = 1, nanos = 2} <-> RFC 3339 with whole seconds.
    Time,
    /// `metav1.MicroTime` {seconds = 1, nanos = 2} <-> RFC 3339 with six
    /// fractional digits.
    MicroTime,
    /// `resource.Quantity` {string = 1} <-> JSON string.
    Quantity,
    /// `intstr.IntOrString` {type = 1, intVal = 2, strVal = 3} <-> JSON
    /// integer or string.
    IntOrString,
    /// A message whose field 1 holds raw JSON bytes (`runtime.RawExtension`,
    /// `metav1.FieldsV1`, apiextensions `JSON`) <-> that JSON value.
    RawJson,
    /// A Go named `[]string` that protobuf wraps as {repeated string items = 1}
    /// (`ExtraValue`, `Verbs`) <-> JSON array of strings.
    StringList,
    /// `JSONSchemaPropsOrArray` {schema = 1, jSONSchemas = 2} <-> a schema
    /// object or an array of them; the id is that version's `JSONSchemaProps`.
    SchemaOrArray(MessageId),
    /// `JSONSchemaPropsOrBool` {allows = 1, schema = 2} <-> a schema object or
    /// a boolean.
    SchemaOrBool(MessageId),
    /// `JSONSchemaPropsOrStringArray` {schema = 1, property = 2} <-> a schema
    /// object or an array of strings.
    SchemaOrStringArray(MessageId),
}

/// How many values a field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// `optional`: one value, or none.
    Single,
    /// `repeated`: a JSON array.
    Repeated,
    /// `map<string, V>`: a JSON object; on the wire repeated entry messages
    /// with the key as field 1 and the value as field 2.
    Map,
}

/// One field of a message.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    /// The field number (tag) in the upstream `generated.proto`.
    pub number: u32,
    /// The JSON property; "" for [`Kind::Embedded`] fields, whose own
    /// fields carry the names.
    pub json: &'static str,
    /// How one value is written.
    pub kind: Kind,
    /// One value, a list or a map of them.
    pub shape: Shape,
}

/// One message of an upstream `generated.proto`.
#[derive(Clone, Copy, Debug)]
pub struct Message {
    /// Full proto name, such as `api.apps.v1.Deployment`.
    pub name: &'static str,
    /// The OpenAPI definition it is the wire form of; "" for messages of
    /// embedded Go structs that swagger.json never names (`VolumeSource`).
    pub definition: &'static str,
    /// The fields JSON can carry, sorted by number.
    pub fields: &'static [Field],
}

impl Message {
    /// The field numbered `number`, if JSON carries it.
    pub fn field(&self, number: u32) -> Option<&'static Field> {
        self.fields
            .binary_search_by_key(&number, |f| f.number)
            .ok()
            .map(|i| &self.fields[i])
    }
}

/// The whole table and its indexes.
#[derive(Clone, Copy, Debug)]
pub struct MessageTable {
    /// Sorted by proto name; a [`MessageId`] indexes it.
    pub messages: &'static [Message],
    /// Definition name -> message, sorted by definition name.
    pub definitions: &'static [(&'static str, MessageId)],
    /// (apiVersion, kind) -> message, sorted: every kind a client may send
    /// or receive as a top-level protobuf object.
    pub kinds: &'static [(&'static str, &'static str, MessageId)],
}

impl MessageTable {
    /// The message `id` names. Ids come from this table, so this only
    /// fails for an id made up by hand.
    pub fn get(&self, id: MessageId) -> Option<&'static Message> {
        self.messages.get(id.0 as usize)
    }

    /// The message of an OpenAPI definition (`io.k8s.api.core.v1.Pod`).
    pub fn by_definition(&self, definition: &str) -> Option<&'static Message> {
        let i = self
            .definitions
            .binary_search_by(|(name, _)| (*name).cmp(definition))
            .ok()?;
        self.get(self.definitions[i].1)
    }

    /// The message of a top-level kind (`apps/v1`, `Deployment`).
    pub fn by_kind(&self, api_version: &str, kind: &str) -> Option<&'static Message> {
        let i = self
            .kinds
            .binary_search_by(|(v, k, _)| (*v, *k).cmp(&(api_version, kind)))
            .ok()?;
        self.get(self.kinds[i].2)
    }
}
