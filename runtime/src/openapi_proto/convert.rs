//! Swagger 2.0 JSON to gnostic's [`Document`], the way gnostic's
//! `openapi_v2.ParseDocument` reads it: objects with free keys become
//! `Named*` lists in key order, `x-` keys become vendor extensions whose
//! values are YAML text, `$ref`-only parameters and responses become JSON
//! references. A key this subset has no field for is an error, so nothing
//! is dropped without notice.

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value};

use super::messages::*;

/// Converts a whole swagger document.
pub fn document(json: Value) -> Result<Document> {
    let mut fields = Fields::of(json, "document")?;
    let doc = Document {
        swagger: fields.string("swagger")?,
        info: fields.take("info").map(info).transpose()?,
        host: fields.string("host")?,
        base_path: fields.string("basePath")?,
        schemes: fields.strings("schemes")?,
        consumes: fields.strings("consumes")?,
        produces: fields.strings("produces")?,
        paths: fields.take("paths").map(paths).transpose()?,
        definitions: fields
            .take("definitions")
            .map(|v| named(v, "definitions", schema))
            .transpose()?
            .map(|additional_properties| Definitions {
                additional_properties: additional_properties
                    .into_iter()
                    .map(|(name, value)| NamedSchema {
                        name,
                        value: Some(value),
                    })
                    .collect(),
            }),
        parameters: fields
            .take("parameters")
            .map(|v| named(v, "parameters", parameter))
            .transpose()?
            .map(|list| ParameterDefinitions {
                additional_properties: list
                    .into_iter()
                    .map(|(name, value)| NamedParameter {
                        name,
                        value: Some(value),
                    })
                    .collect(),
            }),
        security: match fields.take("security") {
            Some(list) => array(list, "security")?
                .into_iter()
                .map(security_requirement)
                .collect::<Result<_>>()?,
            None => Vec::new(),
        },
        security_definitions: fields
            .take("securityDefinitions")
            .map(|v| named(v, "securityDefinitions", security_scheme))
            .transpose()?
            .map(|list| SecurityDefinitions {
                additional_properties: list
                    .into_iter()
                    .map(|(name, value)| NamedSecurityDefinitionsItem {
                        name,
                        value: Some(value),
                    })
                    .collect(),
            }),
        vendor_extension: fields.extensions()?,
    };
    fields.done()?;
    Ok(doc)
}

fn info(json: Value) -> Result<Info> {
    let mut fields = Fields::of(json, "info")?;
    let info = Info {
        title: fields.string("title")?,
        version: fields.string("version")?,
        description: fields.string("description")?,
        terms_of_service: fields.string("termsOfService")?,
        vendor_extension: fields.extensions()?,
    };
    fields.done()?;
    Ok(info)
}

fn paths(json: Value) -> Result<Paths> {
    let mut fields = Fields::of(json, "paths")?;
    let vendor_extension = fields.extensions()?;
    let mut path = Vec::new();
    for (name, item) in std::mem::take(&mut fields.map) {
        if !name.starts_with('/') {
            bail!("paths: {name} is not a path");
        }
        let value = path_item(item).with_context(|| format!("path {name}"))?;
        path.push(NamedPathItem {
            name,
            value: Some(value),
        });
    }
    Ok(Paths {
        vendor_extension,
        path,
    })
}

fn path_item(json: Value) -> Result<PathItem> {
    let mut fields = Fields::of(json, "path item")?;
    let item = PathItem {
        get: fields.operation("get")?,
        put: fields.operation("put")?,
        post: fields.operation("post")?,
        delete: fields.operation("delete")?,
        options: fields.operation("options")?,
        head: fields.operation("head")?,
        patch: fields.operation("patch")?,
        r#ref: fields.string("$ref")?,
        parameters: fields.parameters_items()?,
        vendor_extension: fields.extensions()?,
    };
    fields.done()?;
    Ok(item)
}

fn operation(json: Value) -> Result<Operation> {
    let mut fields = Fields::of(json, "operation")?;
    let op = Operation {
        tags: fields.strings("tags")?,
        summary: fields.string("summary")?,
        description: fields.string("description")?,
        operation_id: fields.string("operationId")?,
        produces: fields.strings("produces")?,
        consumes: fields.strings("consumes")?,
        parameters: fields.parameters_items()?,
        responses: fields.take("responses").map(responses).transpose()?,
        schemes: fields.strings("schemes")?,
        deprecated: fields.bool("deprecated")?,
        vendor_extension: fields.extensions()?,
    };
    fields.done()?;
    Ok(op)
}

fn parameters_item(json: Value) -> Result<ParametersItem> {
    let oneof = if json.get("$ref").is_some() {
        ParametersItemOneof::JsonReference(json_reference(json)?)
    } else {
        ParametersItemOneof::Parameter(parameter(json)?)
    };
    Ok(ParametersItem { oneof: Some(oneof) })
}

fn json_reference(json: Value) -> Result<JsonReference> {
    let mut fields = Fields::of(json, "reference")?;
    let reference = JsonReference {
        r#ref: fields.string("$ref")?,
        description: fields.string("description")?,
    };
    fields.done()?;
    Ok(reference)
}

/// A parameter, by where it is sent (`in`).
fn parameter(json: Value) -> Result<Parameter> {
    let mut fields = Fields::of(json, "parameter")?;
    let location = fields.string("in")?;
    let name = fields.string("name")?;
    let oneof = if location == "body" {
        ParameterOneof::BodyParameter(BodyParameter {
            description: fields.string("description")?,
            required: fields.bool("required")?,
            schema: fields.take("schema").map(schema).transpose()?.map(Box::new),
            vendor_extension: fields.extensions()?,
            name,
            r#in: location,
        })
    } else {
        let required = fields.bool("required")?;
        let description = fields.string("description")?;
        let r#type = fields.string("type")?;
        let format = fields.string("format")?;
        let collection_format = fields.string("collectionFormat")?;
        let default = fields.any("default")?;
        let unique_items = fields.bool("uniqueItems")?;
        let r#enum = fields.anys("enum")?;
        let vendor_extension = fields.extensions()?;
        let kind = location.clone();
        let oneof = match kind.as_str() {
            "header" | "path" => {
                let header = location == "header";
                let sub = PathParameterSubSchema {
                    required,
                    r#in: location,
                    description,
                    name,
                    r#type,
                    format,
                    collection_format,
                    default,
                    unique_items,
                    r#enum,
                    vendor_extension,
                };
                if header {
                    NonBodyParameterOneof::Header(sub)
                } else {
                    NonBodyParameterOneof::Path(sub)
                }
            }
            "query" | "formData" => {
                let query = location == "query";
                let sub = QueryParameterSubSchema {
                    required,
                    r#in: location,
                    description,
                    name,
                    allow_empty_value: fields.bool("allowEmptyValue")?,
                    r#type,
                    format,
                    collection_format,
                    default,
                    unique_items,
                    r#enum,
                    vendor_extension,
                };
                if query {
                    NonBodyParameterOneof::Query(sub)
                } else {
                    NonBodyParameterOneof::FormData(sub)
                }
            }
            other => bail!("parameter {name}: unknown location {other:?}"),
        };
        ParameterOneof::NonBodyParameter(NonBodyParameter { oneof: Some(oneof) })
    };
    fields.done()?;
    Ok(Parameter { oneof: Some(oneof) })
}

fn responses(json: Value) -> Result<Responses> {
    let mut fields = Fields::of(json, "responses")?;
    let vendor_extension = fields.extensions()?;
    let mut response_code = Vec::new();
    for (name, value) in std::mem::take(&mut fields.map) {
        let is_code = name.len() == 3 && name.bytes().all(|b| b.is_ascii_digit());
        if !is_code && name != "default" {
            bail!("responses: {name} is neither a status code nor default");
        }
        let oneof = if value.get("$ref").is_some() {
            ResponseValueOneof::JsonReference(json_reference(value)?)
        } else {
            ResponseValueOneof::Response(response(value)?)
        };
        response_code.push(NamedResponseValue {
            name,
            value: Some(ResponseValue { oneof: Some(oneof) }),
        });
    }
    Ok(Responses {
        response_code,
        vendor_extension,
    })
}

fn response(json: Value) -> Result<Response> {
    let mut fields = Fields::of(json, "response")?;
    let response = Response {
        description: fields.string("description")?,
        schema: fields
            .take("schema")
            .map(|s| {
                schema(s).map(|schema| SchemaItem {
                    schema: Some(Box::new(schema)),
                })
            })
            .transpose()?,
        vendor_extension: fields.extensions()?,
    };
    fields.done()?;
    Ok(response)
}

/// A JSON schema, recursively.
fn schema(json: Value) -> Result<Schema> {
    let mut fields = Fields::of(json, "schema")?;
    let schema = Schema {
        r#ref: fields.string("$ref")?,
        format: fields.string("format")?,
        title: fields.string("title")?,
        description: fields.string("description")?,
        default: fields.any("default")?,
        multiple_of: fields.f64("multipleOf")?,
        maximum: fields.f64("maximum")?,
        exclusive_maximum: fields.bool("exclusiveMaximum")?,
        minimum: fields.f64("minimum")?,
        exclusive_minimum: fields.bool("exclusiveMinimum")?,
        max_length: fields.i64("maxLength")?,
        min_length: fields.i64("minLength")?,
        pattern: fields.string("pattern")?,
        max_items: fields.i64("maxItems")?,
        min_items: fields.i64("minItems")?,
        unique_items: fields.bool("uniqueItems")?,
        max_properties: fields.i64("maxProperties")?,
        min_properties: fields.i64("minProperties")?,
        required: fields.strings("required")?,
        r#enum: fields.anys("enum")?,
        additional_properties: match fields.take("additionalProperties") {
            None => None,
            Some(Value::Bool(allowed)) => Some(AdditionalPropertiesOneof::Boolean(allowed)),
            Some(nested) => Some(AdditionalPropertiesOneof::Schema(Box::new(schema(nested)?))),
        }
        .map(|oneof| AdditionalPropertiesItem { oneof: Some(oneof) }),
        r#type: match fields.take("type") {
            None => None,
            Some(Value::String(name)) => Some(TypeItem { value: vec![name] }),
            Some(names) => Some(TypeItem {
                value: strings(names, "type")?,
            }),
        },
        items: match fields.take("items") {
            None => None,
            Some(Value::Array(tuple)) => Some(ItemsItem {
                schema: tuple.into_iter().map(schema).collect::<Result<_>>()?,
            }),
            Some(one) => Some(ItemsItem {
                schema: vec![schema(one)?],
            }),
        },
        all_of: match fields.take("allOf") {
            Some(list) => array(list, "allOf")?
                .into_iter()
                .map(schema)
                .collect::<Result<_>>()?,
            None => Vec::new(),
        },
        properties: fields
            .take("properties")
            .map(|v| named(v, "properties", schema))
            .transpose()?
            .map(|list| Properties {
                additional_properties: list
                    .into_iter()
                    .map(|(name, value)| NamedSchema {
                        name,
                        value: Some(value),
                    })
                    .collect(),
            }),
        discriminator: fields.string("discriminator")?,
        read_only: fields.bool("readOnly")?,
        example: fields.any("example")?,
        vendor_extension: fields.extensions()?,
    };
    fields.done()?;
    Ok(schema)
}

fn security_requirement(json: Value) -> Result<SecurityRequirement> {
    let additional_properties = named(json, "security requirement", |scopes| {
        Ok(StringArray {
            value: strings(scopes, "scopes")?,
        })
    })?
    .into_iter()
    .map(|(name, value)| NamedStringArray {
        name,
        value: Some(value),
    })
    .collect();
    Ok(SecurityRequirement {
        additional_properties,
    })
}

fn security_scheme(json: Value) -> Result<SecurityDefinitionsItem> {
    let mut fields = Fields::of(json, "security scheme")?;
    let r#type = fields.string("type")?;
    let description = fields.string("description")?;
    let oneof = match r#type.as_str() {
        "basic" => SecurityDefinitionsOneof::BasicAuthentication(BasicAuthenticationSecurity {
            r#type,
            description,
            vendor_extension: fields.extensions()?,
        }),
        "apiKey" => SecurityDefinitionsOneof::ApiKey(ApiKeySecurity {
            r#type,
            name: fields.string("name")?,
            r#in: fields.string("in")?,
            description,
            vendor_extension: fields.extensions()?,
        }),
        other => bail!("security scheme type {other:?} is not supported"),
    };
    fields.done()?;
    Ok(SecurityDefinitionsItem { oneof: Some(oneof) })
}

/// An object with free keys as `(key, converted value)` pairs in key order.
fn named<T>(
    json: Value,
    what: &str,
    convert: impl Fn(Value) -> Result<T>,
) -> Result<Vec<(String, T)>> {
    let Value::Object(map) = json else {
        bail!("{what} is not an object");
    };
    map.into_iter()
        .map(|(name, value)| {
            let converted = convert(value).with_context(|| format!("{what} {name}"))?;
            Ok((name, converted))
        })
        .collect()
}

fn array(json: Value, what: &str) -> Result<Vec<Value>> {
    match json {
        Value::Array(items) => Ok(items),
        _ => bail!("{what} is not an array"),
    }
}

fn strings(json: Value, what: &str) -> Result<Vec<String>> {
    array(json, what)?
        .into_iter()
        .map(|item| match item {
            Value::String(s) => Ok(s),
            _ => Err(anyhow!("{what} has a member that is not a string")),
        })
        .collect()
}

/// A value gnostic keeps as YAML text, as its `Any` message does.
fn any(value: &Value) -> Result<Any> {
    Ok(Any {
        yaml: serde_yaml_ng::to_string(value)?,
    })
}

/// The fields of one JSON object, taken out one by one; whatever is left at
/// [`Fields::done`] has no place in the message and is an error.
struct Fields {
    map: Map<String, Value>,
    what: &'static str,
}

impl Fields {
    fn of(json: Value, what: &'static str) -> Result<Fields> {
        match json {
            Value::Object(map) => Ok(Fields { map, what }),
            _ => bail!("{what} is not an object"),
        }
    }

    fn take(&mut self, key: &str) -> Option<Value> {
        self.map.remove(key)
    }

    fn string(&mut self, key: &str) -> Result<String> {
        match self.take(key) {
            None => Ok(String::new()),
            Some(Value::String(s)) => Ok(s),
            Some(_) => bail!("{} {key} is not a string", self.what),
        }
    }

    fn strings(&mut self, key: &str) -> Result<Vec<String>> {
        self.take(key)
            .map_or(Ok(Vec::new()), |v| strings(v, self.what))
    }

    fn bool(&mut self, key: &str) -> Result<bool> {
        match self.take(key) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(b),
            Some(_) => bail!("{} {key} is not a boolean", self.what),
        }
    }

    fn f64(&mut self, key: &str) -> Result<f64> {
        match self.take(key) {
            None => Ok(0.0),
            Some(v) => v
                .as_f64()
                .with_context(|| format!("{} {key} is not a number", self.what)),
        }
    }

    fn i64(&mut self, key: &str) -> Result<i64> {
        match self.take(key) {
            None => Ok(0),
            Some(v) => v
                .as_i64()
                .with_context(|| format!("{} {key} is not an integer", self.what)),
        }
    }

    fn any(&mut self, key: &str) -> Result<Option<Any>> {
        self.take(key).map(|v| any(&v)).transpose()
    }

    fn anys(&mut self, key: &str) -> Result<Vec<Any>> {
        match self.take(key) {
            None => Ok(Vec::new()),
            Some(list) => array(list, key)?.iter().map(any).collect(),
        }
    }

    fn operation(&mut self, verb: &str) -> Result<Option<Operation>> {
        self.take(verb)
            .map(|op| operation(op).with_context(|| format!("{verb} operation")))
            .transpose()
    }

    fn parameters_items(&mut self) -> Result<Vec<ParametersItem>> {
        match self.take("parameters") {
            None => Ok(Vec::new()),
            Some(list) => array(list, "parameters")?
                .into_iter()
                .map(parameters_item)
                .collect(),
        }
    }

    /// Takes every `x-` key, in key order.
    fn extensions(&mut self) -> Result<Vec<NamedAny>> {
        let names: Vec<String> = self
            .map
            .keys()
            .filter(|k| k.starts_with("x-"))
            .cloned()
            .collect();
        names
            .into_iter()
            .map(|name| {
                let value = self.map.remove(&name).unwrap_or(Value::Null);
                Ok(NamedAny {
                    value: Some(any(&value)?),
                    name,
                })
            })
            .collect()
    }

    fn done(self) -> Result<()> {
        match self.map.keys().next() {
            None => Ok(()),
            Some(key) => bail!("{} has {key:?}, which is not converted", self.what),
        }
    }
}
