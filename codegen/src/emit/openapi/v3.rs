//! `/openapi/v3/<path>`: kube-apiserver publishes one OpenAPI 3.0 document
//! per web service (each group/version, each group's discovery root, `api`,
//! `apis`, `version`, ...), holding that service's paths and only the
//! schemas they reference, transitively. Upstream builds v2 and v3 from the
//! same route and schema definitions; here the v3 documents are derived
//! from the v2 one the way they differ:
//!
//! - `components/schemas` instead of `definitions`, a `$ref` with sibling
//!   keys wrapped in a one-entry `allOf`;
//! - the zero-value `default`s upstream's v2 document prunes ([`Defaults`]);
//! - `oneOf` for the types whose Go code declares it (IntOrString, Quantity);
//! - parameters inlined, their type in a `schema`; the body parameter as a
//!   `requestBody` with one entry per consumed content type; responses with
//!   one `content` entry per produced type; no `consumes`, `produces`,
//!   `schemes` or top-level `security`;
//! - `securitySchemes` in every document.
//!
//! Documents are built as [`openapiv3::OpenAPI`] values; every schema is
//! checked to survive those types unchanged.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result, bail};
use openapiv3::{
    Components, HeaderStyle, Info, MediaType, OpenAPI, Operation, Parameter, ParameterData,
    ParameterSchemaOrContent, PathItem, PathStyle, Paths, QueryStyle, ReferenceOr, RequestBody,
    Response, Responses, Schema, SecurityScheme, StatusCode,
};
use serde_json::{Map, Value, json};

use super::v2::resolve;

/// Upstream types whose Go code declares `OpenAPIV3OneOfTypes`: their v3
/// schema is a `oneOf` of these types where v2 says `type: string`.
const ONE_OF: &[(&str, &[&str])] = &[
    (
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
        &["integer", "string"],
    ),
    (
        "io.k8s.apimachinery.pkg.api.resource.Quantity",
        &["string", "number"],
    ),
];

/// Object-typed upstream definitions whose Go types declare their own
/// schema (`OpenAPISchemaType`); like the string-typed ones (Time,
/// Quantity, ...) their fields get no zero-value default.
const CUSTOM_OBJECTS: &[&str] = &[
    "io.k8s.apimachinery.pkg.runtime.RawExtension",
    "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
];

const SCHEMAS: &str = "#/components/schemas/";

/// Every v3 document by its path under `/openapi/v3/`, as the JSON served.
/// `own` holds our own definitions in the v3 dialect, written from the
/// model; the rest are upstream's, converted from `v2`.
pub fn documents(v2: &Value, own: &Map<String, Value>) -> Result<BTreeMap<String, Value>> {
    let definitions = section(v2, "definitions")?;
    let defaults = Defaults { definitions };
    let mut schemas = BTreeMap::new();
    for (name, json) in definitions {
        let value = match own.get(name) {
            Some(own) => own.clone(),
            None => upstream_definition(name, json, &defaults)
                .with_context(|| format!("definition {name}"))?,
        };
        let mut refs = BTreeSet::new();
        collect_refs(&value, &mut refs);
        let schema = typed(&value).with_context(|| format!("definition {name}"))?;
        schemas.insert(name.as_str(), (schema, refs));
    }

    // Every document carries the security schemes; v2's apiKey scheme has
    // v3's fields and spelling.
    let mut shared_components = Components::default();
    for (name, scheme) in section(v2, "securityDefinitions")? {
        let scheme: SecurityScheme = serde_json::from_value(scheme.clone())
            .with_context(|| format!("security scheme {name}"))?;
        shared_components
            .security_schemes
            .insert(name.clone(), ReferenceOr::Item(scheme));
    }
    let info: Info = serde_json::from_value(v2.get("info").cloned().unwrap_or_default())
        .context("the v2 document's info")?;

    let mut services: BTreeMap<String, Vec<(&String, &Value)>> = BTreeMap::new();
    for (path, item) in section(v2, "paths")? {
        services
            .entry(service_of(path))
            .or_default()
            .push((path, item));
    }

    let mut documents = BTreeMap::new();
    for (service, items) in services {
        let mut converter = Converter {
            shared: section(v2, "parameters")?,
            refs: BTreeSet::new(),
        };
        let mut paths = Paths::default();
        for (path, item) in items {
            let item = converter
                .path_item(item)
                .with_context(|| format!("path {path}"))?;
            paths.paths.insert(path.clone(), ReferenceOr::Item(item));
        }
        // The schemas the paths reference, and theirs, transitively.
        let mut referenced = BTreeMap::new();
        let mut pending: Vec<String> = converter.refs.into_iter().collect();
        while let Some(name) = pending.pop() {
            let (schema, refs) = schemas
                .get(name.as_str())
                .with_context(|| format!("{service} refers to unknown schema {name}"))?;
            pending.extend(
                refs.iter()
                    .filter(|r| !referenced.contains_key(*r))
                    .cloned(),
            );
            referenced.insert(name, schema.clone());
        }
        let document = OpenAPI {
            openapi: "3.0.0".into(),
            info: info.clone(),
            paths,
            components: Some(Components {
                schemas: referenced.into_iter().collect(),
                ..shared_components.clone()
            }),
            ..OpenAPI::default()
        };
        let mut value = serde_json::to_value(&document).context("encoding a v3 document")?;
        drop_default_styles(&mut value);
        documents.insert(service, value);
    }
    Ok(documents)
}

/// A top-level object of the v2 document.
fn section<'a>(doc: &'a Value, key: &str) -> Result<&'a Map<String, Value>> {
    doc.get(key)
        .and_then(Value::as_object)
        .with_context(|| format!("the v2 document has no {key}"))
}

/// The web service serving `path`, which names its v3 document:
/// `api/v1`, `apis/apps/v1`, `apis/apps` (group discovery), `apis`,
/// `version`, `logs`, `.well-known/openid-configuration`, ...
fn service_of(path: &str) -> String {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let depth = match segments.first() {
        Some(&"api") => 2,
        Some(&"apis") => 3,
        _ => segments
            .iter()
            .position(|s| s.starts_with('{'))
            .unwrap_or(segments.len()),
    };
    segments[..depth.min(segments.len())].join("/")
}

/// Upstream's v2 definition as its v3 documents carry it.
fn upstream_definition(name: &str, v2: &Value, defaults: &Defaults) -> Result<Value> {
    let mut value = convert(v2, None, Some(defaults))?;
    if let Some((_, types)) = ONE_OF.iter().find(|(n, _)| *n == name)
        && let Value::Object(obj) = &mut value
    {
        obj.remove("type");
        let one_of = types.iter().map(|t| json!({ "type": t })).collect();
        obj.insert("oneOf".into(), Value::Array(one_of));
    }
    Ok(value)
}

/// A v2 schema in the v3 dialect: references point into
/// `#/components/schemas/` and are wrapped in `allOf` when they have
/// siblings; `default` is added to this node when given and, with
/// `defaults`, to its children by [`Defaults`].
fn convert(v2: &Value, default: Option<Value>, defaults: Option<&Defaults>) -> Result<Value> {
    let obj = v2.as_object().context("a schema is not an object")?;
    let required: BTreeSet<&str> = obj
        .get("required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut out = Map::new();
    for (key, value) in obj {
        let converted = match key.as_str() {
            "$ref" => {
                let reference = value.as_str().context("$ref is not a string")?;
                let name = reference
                    .strip_prefix("#/definitions/")
                    .with_context(|| format!("$ref {reference} is not to a definition"))?;
                json!(format!("{SCHEMAS}{name}"))
            }
            "properties" => {
                let mut properties = Map::new();
                for (name, property) in value.as_object().context("properties")? {
                    let default = defaults.and_then(|d| {
                        d.for_property(name, property, required.contains(name.as_str()))
                    });
                    let converted = convert(property, default, defaults)
                        .with_context(|| format!("property {name}"))?;
                    properties.insert(name.clone(), converted);
                }
                Value::Object(properties)
            }
            // Elements of slices and maps are values: they get zero defaults.
            "items" | "additionalProperties" if value.is_object() => {
                let default = defaults.and_then(|d| d.zero(value));
                convert(value, default, defaults).with_context(|| key.clone())?
            }
            "not" => convert(value, None, defaults)?,
            "allOf" | "oneOf" | "anyOf" => Value::Array(
                value
                    .as_array()
                    .with_context(|| format!("{key} is not a list"))?
                    .iter()
                    .map(|s| convert(s, None, defaults))
                    .collect::<Result<_>>()?,
            ),
            _ => value.clone(),
        };
        out.insert(key.clone(), converted);
    }
    if let Some(default) = default {
        out.entry("default").or_insert(default);
    }
    if out.len() > 1
        && let Some(reference) = out.remove("$ref")
    {
        out.insert("allOf".into(), json!([{ "$ref": reference }]));
    }
    Ok(Value::Object(out))
}

/// The `default`s upstream's v3 documents carry and its v2 document prunes
/// (kube-openapi `PruneDefaults`). Upstream's generator gives a field of a
/// Go value type its zero value: `""`, `0`, `false`, `{}` for a struct;
/// pointers, slices, maps and types with a hand-written schema get none.
/// swagger.json does not say which fields are pointers, so this infers:
///
/// - elements of arrays and maps are values;
/// - required fields are values (upstream requires exactly the fields
///   without `omitempty` or `+optional`);
/// - `metadata`, `spec` and `status` objects are values (API conventions).
///
/// Optional struct fields that are values in Go anyway (say APIGroup's
/// `preferredVersion`) get no `{}` here though upstream gives them one.
struct Defaults<'a> {
    definitions: &'a Map<String, Value>,
}

impl Defaults<'_> {
    /// The zero value of a value-typed field with this schema.
    fn zero(&self, schema: &Value) -> Option<Value> {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let name = reference.strip_prefix("#/definitions/")?;
            let definition = self.definitions.get(name)?;
            let is_struct = definition.get("type").and_then(Value::as_str) == Some("object")
                && !CUSTOM_OBJECTS.contains(&name);
            return is_struct.then(|| json!({}));
        }
        let field = |key: &str| schema.get(key).and_then(Value::as_str);
        match (field("type")?, field("format")) {
            // `[]byte` is a slice.
            ("string", Some("byte")) => None,
            ("string", _) => Some(json!("")),
            ("integer" | "number", _) => Some(json!(0)),
            ("boolean", _) => Some(json!(false)),
            _ => None,
        }
    }

    fn for_property(&self, name: &str, schema: &Value, required: bool) -> Option<Value> {
        let conventional =
            matches!(name, "metadata" | "spec" | "status") && schema.get("$ref").is_some();
        if required || conventional {
            self.zero(schema)
        } else {
            None
        }
    }
}

/// Every `#/components/schemas/` name referenced in `value`.
fn collect_refs(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(obj) => {
            for (key, child) in obj {
                match child {
                    Value::String(s) if key == "$ref" => {
                        if let Some(name) = s.strip_prefix(SCHEMAS) {
                            out.insert(name.to_owned());
                        }
                    }
                    _ => collect_refs(child, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_refs(i, out)),
        _ => {}
    }
}

/// The openapiv3 form of a schema, refusing one those types would not
/// write back as given (a silently dropped keyword would change what
/// clients validate).
fn typed(value: &Value) -> Result<ReferenceOr<Schema>> {
    let schema: ReferenceOr<Schema> =
        serde_json::from_value(value.clone()).context("not an OpenAPI v3 schema")?;
    let written = serde_json::to_value(&schema)?;
    if !same_json(value, &written) {
        let mut shown = value.to_string();
        shown.truncate(400);
        bail!("the openapiv3 types would change this schema: {shown}");
    }
    Ok(schema)
}

/// Equal JSON, numbers compared by value (`1` and `1.0` are the same).
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// openapiv3 writes each parameter's `style` even when it is its
/// location's default (unless built with `skip_serializing_defaults`);
/// upstream writes none, so the defaults are dropped from the output.
fn drop_default_styles(document: &mut Value) {
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut().filter_map(Value::as_object_mut) {
        for (key, value) in item.iter_mut() {
            let parameters = if key == "parameters" {
                Some(value)
            } else {
                value.get_mut("parameters")
            };
            let Some(parameters) = parameters.and_then(Value::as_array_mut) else {
                continue;
            };
            for parameter in parameters.iter_mut().filter_map(Value::as_object_mut) {
                let default = match parameter.get("in").and_then(Value::as_str) {
                    Some("query" | "cookie") => "form",
                    _ => "simple",
                };
                if parameter.get("style").and_then(Value::as_str) == Some(default) {
                    parameter.remove("style");
                }
            }
        }
    }
}

/// Converts v2 path items, noting the schemas they reference.
struct Converter<'a> {
    shared: &'a Map<String, Value>,
    refs: BTreeSet<String>,
}

impl<'a> Converter<'a> {
    fn path_item(&mut self, item: &'a Value) -> Result<PathItem> {
        let mut out = PathItem::default();
        for (key, value) in item.as_object().context("not an object")? {
            let slot = match key.as_str() {
                "parameters" => {
                    let (parameters, body) = self.parameters(value)?;
                    if body.is_some() {
                        bail!("a body parameter for every method");
                    }
                    out.parameters = parameters;
                    continue;
                }
                "get" => &mut out.get,
                "put" => &mut out.put,
                "post" => &mut out.post,
                "delete" => &mut out.delete,
                "options" => &mut out.options,
                "head" => &mut out.head,
                "patch" => &mut out.patch,
                other => bail!("unexpected key {other:?}"),
            };
            *slot = Some(self.operation(value).with_context(|| key.clone())?);
        }
        Ok(out)
    }

    fn operation(&mut self, op: &'a Value) -> Result<Operation> {
        let op = op.as_object().context("not an object")?;
        let strings = |key: &str| -> Vec<String> {
            op.get(key)
                .and_then(Value::as_array)
                .map(|v| {
                    v.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let text = |value: &Value| value.as_str().map(str::to_owned);
        let (consumes, produces) = (strings("consumes"), strings("produces"));
        let mut out = Operation::default();
        for (key, value) in op {
            match key.as_str() {
                // v3 says these per request body and response; `schemes`
                // would be `servers`, which upstream leaves out.
                "consumes" | "produces" | "schemes" => {}
                "description" => out.description = text(value),
                "operationId" => out.operation_id = text(value),
                "tags" => out.tags = strings("tags"),
                "parameters" => {
                    let (parameters, body) = self.parameters(value)?;
                    out.parameters = parameters;
                    if let Some(body) = body {
                        let body = self.request_body(body, &consumes)?;
                        out.request_body = Some(ReferenceOr::Item(body));
                    }
                }
                "responses" => out.responses = self.responses(value, &produces)?,
                k if k.starts_with("x-") => {
                    out.extensions.insert(k.to_owned(), value.clone());
                }
                other => bail!("operation key {other:?} has no v3 translation"),
            }
        }
        Ok(out)
    }

    /// The non-body parameters, and the body parameter if there is one.
    fn parameters(
        &mut self,
        list: &'a Value,
    ) -> Result<(Vec<ReferenceOr<Parameter>>, Option<&'a Value>)> {
        let mut parameters = Vec::new();
        let mut body = None;
        for parameter in list.as_array().context("parameters are not a list")? {
            let parameter = resolve(self.shared, parameter)?;
            if parameter.get("in").and_then(Value::as_str) == Some("body") {
                body = Some(parameter);
            } else {
                parameters.push(ReferenceOr::Item(self.parameter(parameter)?));
            }
        }
        Ok((parameters, body))
    }

    /// A v2 parameter: `name`, `in`, `description`, `required` stay; every
    /// other key (`type`, `uniqueItems`, ...) describes the value and moves
    /// into its `schema`.
    fn parameter(&mut self, parameter: &Value) -> Result<Parameter> {
        let obj = parameter
            .as_object()
            .context("a parameter is not an object")?;
        let text = |key: &str| obj.get(key).and_then(Value::as_str).map(str::to_owned);
        let schema: Map<String, Value> = obj
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "name" | "in" | "description" | "required"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let data = ParameterData {
            name: text("name").context("a parameter without a name")?,
            description: text("description"),
            required: obj
                .get("required")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            deprecated: None,
            format: ParameterSchemaOrContent::Schema(self.schema(&Value::Object(schema))?),
            example: None,
            examples: Default::default(),
            explode: None,
            extensions: Default::default(),
        };
        Ok(match text("in").as_deref() {
            Some("query") => Parameter::Query {
                parameter_data: data,
                allow_reserved: false,
                style: QueryStyle::Form,
                allow_empty_value: None,
            },
            Some("path") => Parameter::Path {
                parameter_data: data,
                style: PathStyle::Simple,
            },
            Some("header") => Parameter::Header {
                parameter_data: data,
                style: HeaderStyle::Simple,
            },
            other => bail!("parameter {} in {other:?}", data.name),
        })
    }

    fn request_body(&mut self, body: &Value, consumes: &[String]) -> Result<RequestBody> {
        let schema = self.schema(body.get("schema").context("a body without a schema")?)?;
        Ok(RequestBody {
            description: body
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_owned),
            content: media(consumes, &schema),
            required: body
                .get("required")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            extensions: Default::default(),
        })
    }

    fn responses(&mut self, responses: &Value, produces: &[String]) -> Result<Responses> {
        let mut out = Responses::default();
        for (code, response) in responses.as_object().context("responses")? {
            let content = match response.get("schema") {
                Some(schema) => media(produces, &self.schema(schema)?),
                None => Default::default(),
            };
            let response = ReferenceOr::Item(Response {
                description: response
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                content,
                ..Response::default()
            });
            if code == "default" {
                out.default = Some(response);
            } else {
                let code = code
                    .parse()
                    .with_context(|| format!("response code {code}"))?;
                out.responses.insert(StatusCode::Code(code), response);
            }
        }
        Ok(out)
    }

    fn schema(&mut self, v2: &Value) -> Result<ReferenceOr<Schema>> {
        let value = convert(v2, None, None)?;
        collect_refs(&value, &mut self.refs);
        typed(&value)
    }
}

/// One media type entry per content type, all with `schema`.
fn media(types: &[String], schema: &ReferenceOr<Schema>) -> openapiv3::Content {
    types
        .iter()
        .map(|t| {
            let media = MediaType {
                schema: Some(schema.clone()),
                ..MediaType::default()
            };
            (t.clone(), media)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upstream_documents() -> &'static BTreeMap<String, Value> {
        static DOCUMENTS: std::sync::OnceLock<BTreeMap<String, Value>> = std::sync::OnceLock::new();
        DOCUMENTS.get_or_init(|| {
            let model = super::super::tests::model();
            documents(&model.upstream_openapi, &Map::new()).expect("documents convert")
        })
    }

    /// Upstream's `apis/batch` document (api/openapi-spec/v3 at the 1.36
    /// development cycle), but for the one default [`Defaults`] cannot infer.
    #[test]
    fn group_document_is_upstreams() {
        let api_version = "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources";
        let kind = "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";
        let cidrs = "a map of client CIDR to server address that is serving this group. This is to help clients reach servers in the most network-efficient way possible. Clients can use the appropriate server address as per the CIDR that they match. In case of multiple matches, clients should use the longest matching CIDR. The server returns only those CIDRs that it thinks that the client can match. For example: the master will return an internal IP CIDR only, if the client reaches the server using an internal IP. Server looks at X-Forwarded-For header or X-Real-Ip header or request.RemoteAddr (in that order) to get the client IP.";
        let meta = "io.k8s.apimachinery.pkg.apis.meta.v1";
        let group = json!({"$ref": format!("#/components/schemas/{meta}.APIGroup")});
        let expected = json!({
            "components": {
                "schemas": {
                    format!("{meta}.APIGroup"): {
                        "description": "APIGroup contains the name, the supported versions, and the preferred version of a group.",
                        "properties": {
                            "apiVersion": {"description": api_version, "type": "string"},
                            "kind": {"description": kind, "type": "string"},
                            "name": {"default": "", "description": "name is the name of the group.", "type": "string"},
                            "preferredVersion": {
                                "allOf": [{"$ref": format!("#/components/schemas/{meta}.GroupVersionForDiscovery")}],
                                // Upstream: "default": {} (a value field that is optional).
                                "description": "preferredVersion is the version preferred by the API server, which probably is the storage version."
                            },
                            "serverAddressByClientCIDRs": {
                                "description": cidrs,
                                "items": {
                                    "allOf": [{"$ref": format!("#/components/schemas/{meta}.ServerAddressByClientCIDR")}],
                                    "default": {}
                                },
                                "type": "array",
                                "x-kubernetes-list-type": "atomic"
                            },
                            "versions": {
                                "description": "versions are the versions supported in this group.",
                                "items": {
                                    "allOf": [{"$ref": format!("#/components/schemas/{meta}.GroupVersionForDiscovery")}],
                                    "default": {}
                                },
                                "type": "array",
                                "x-kubernetes-list-type": "atomic"
                            }
                        },
                        "required": ["name", "versions"],
                        "type": "object",
                        "x-kubernetes-group-version-kind": [{"group": "", "kind": "APIGroup", "version": "v1"}]
                    },
                    format!("{meta}.GroupVersionForDiscovery"): {
                        "description": "GroupVersion contains the \"group/version\" and \"version\" string of a version. It is made a struct to keep extensibility.",
                        "properties": {
                            "groupVersion": {"default": "", "description": "groupVersion specifies the API group and version in the form \"group/version\"", "type": "string"},
                            "version": {"default": "", "description": "version specifies the version in the form of \"version\". This is to save the clients the trouble of splitting the GroupVersion.", "type": "string"}
                        },
                        "required": ["groupVersion", "version"],
                        "type": "object"
                    },
                    format!("{meta}.ServerAddressByClientCIDR"): {
                        "description": "ServerAddressByClientCIDR helps the client to determine the server address that they should use, depending on the clientCIDR that they match.",
                        "properties": {
                            "clientCIDR": {"default": "", "description": "The CIDR with which clients can match their IP to figure out the server address that they should use.", "type": "string"},
                            "serverAddress": {"default": "", "description": "Address of this server, suitable for a client that matches the above CIDR. This can be a hostname, hostname:port, IP or IP:port.", "type": "string"}
                        },
                        "required": ["clientCIDR", "serverAddress"],
                        "type": "object"
                    }
                },
                "securitySchemes": {
                    "BearerToken": {"description": "Bearer Token authentication", "in": "header", "name": "authorization", "type": "apiKey"}
                }
            },
            "info": {"title": "Kubernetes", "version": "unversioned"},
            "openapi": "3.0.0",
            "paths": {
                "/apis/batch/": {
                    "get": {
                        "description": "get information of a group",
                        "operationId": "getBatchAPIGroup",
                        "responses": {
                            "200": {
                                "content": {
                                    "application/json": {"schema": group},
                                    "application/vnd.kubernetes.protobuf": {"schema": group},
                                    "application/yaml": {"schema": group}
                                },
                                "description": "OK"
                            },
                            "401": {"description": "Unauthorized"}
                        },
                        "tags": ["batch"]
                    }
                }
            }
        });
        assert_eq!(upstream_documents()["apis/batch"], expected);
    }

    #[test]
    fn operations_take_upstreams_v3_shape() {
        let doc = &upstream_documents()["apis/batch/v1"];
        let item = &doc["paths"]["/apis/batch/v1/namespaces/{namespace}/cronjobs"];
        assert_eq!(
            item["parameters"][0],
            json!({
                "description": "object name and auth scope, such as for teams and projects",
                "in": "path", "name": "namespace", "required": true,
                "schema": {"type": "string", "uniqueItems": true}
            })
        );
        let post = item["post"].as_object().unwrap();
        let keys: Vec<&str> = post.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "description",
                "operationId",
                "parameters",
                "requestBody",
                "responses",
                "tags",
                "x-kubernetes-action",
                "x-kubernetes-group-version-kind"
            ]
        );
        let cronjob = json!({"$ref": "#/components/schemas/io.k8s.api.batch.v1.CronJob"});
        assert_eq!(
            post["requestBody"],
            json!({"content": {"*/*": {"schema": cronjob}}, "required": true})
        );
        assert_eq!(
            post["responses"]["201"]["content"]["application/json"]["schema"],
            cronjob
        );
        assert_eq!(post["parameters"][0]["name"], "dryRun");
        // The delete-collection body (DeleteOptions) is optional.
        assert_eq!(item["delete"]["requestBody"].get("required"), None);
        let list = &item["get"]["responses"]["200"]["content"];
        assert!(list.get("application/json;stream=watch").is_some());
        assert!(!doc.to_string().contains("\"style\""));
        assert!(doc.get("security").is_none());
    }

    #[test]
    fn schemas_take_upstreams_v3_shape() {
        let schemas = &upstream_documents()["apis/batch/v1"]["components"]["schemas"];
        let spec = &schemas["io.k8s.api.batch.v1.CronJobSpec"]["properties"];
        assert_eq!(spec["schedule"]["default"], "");
        assert_eq!(spec["jobTemplate"]["default"], json!({}));
        assert_eq!(
            spec["jobTemplate"]["allOf"],
            json!([{"$ref": "#/components/schemas/io.k8s.api.batch.v1.JobTemplateSpec"}])
        );
        assert_eq!(spec["suspend"].get("default"), None);
        let status = &schemas["io.k8s.api.batch.v1.CronJobStatus"]["properties"];
        assert_eq!(status["lastScheduleTime"].get("default"), None);
        assert_eq!(status["active"]["items"]["default"], json!({}));
        let job = &schemas["io.k8s.api.batch.v1.CronJob"]["properties"];
        for field in ["metadata", "spec", "status"] {
            assert_eq!(job[field]["default"], json!({}), "{field}");
        }
        let watch = &schemas["io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent"]["properties"];
        assert_eq!(watch["object"].get("default"), None);
        assert_eq!(watch["type"]["default"], "");
        let int_or_string = &schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"];
        assert_eq!(
            int_or_string["oneOf"],
            json!([{"type": "integer"}, {"type": "string"}])
        );
        assert_eq!(int_or_string["format"], "int-or-string");
        assert_eq!(int_or_string.get("type"), None);

        let node = &upstream_documents()["apis/node.k8s.io/v1"]["components"]["schemas"];
        let overhead = &node["io.k8s.api.node.v1.Overhead"]["properties"]["podFixed"];
        assert_eq!(overhead["additionalProperties"].get("default"), None);
        let scheduling = &node["io.k8s.api.node.v1.Scheduling"]["properties"];
        assert_eq!(
            scheduling["nodeSelector"]["additionalProperties"]["default"],
            ""
        );
        let runtime_class = &node["io.k8s.api.node.v1.RuntimeClass"]["properties"];
        assert_eq!(runtime_class["handler"]["default"], "");
        assert_eq!(runtime_class["overhead"].get("default"), None);
        let resource = &node["io.k8s.apimachinery.pkg.apis.meta.v1.APIResource"]["properties"];
        assert_eq!(resource["namespaced"]["default"], false);
        assert_eq!(resource["categories"]["items"]["default"], "");
    }

    #[test]
    fn services_are_upstreams_web_services() {
        for (path, service) in [
            ("/api/", "api"),
            ("/api/v1/namespaces/{namespace}/pods", "api/v1"),
            ("/apis/", "apis"),
            ("/apis/apps/", "apis/apps"),
            ("/apis/apps/v1/", "apis/apps/v1"),
            ("/apis/apps/v1/watch/deployments", "apis/apps/v1"),
            ("/logs/{logpath}", "logs"),
            ("/version/", "version"),
            (
                "/.well-known/openid-configuration/",
                ".well-known/openid-configuration",
            ),
            ("/openid/v1/jwks/", "openid/v1/jwks"),
        ] {
            assert_eq!(service_of(path), service, "{path}");
        }
    }

    #[test]
    fn lossy_schemas_are_refused() {
        assert!(typed(&json!({"type": "string", "minLength": 1})).is_ok());
        assert!(typed(&json!({"type": "integer", "minimum": 1.0})).is_ok());
        // A $ref beside siblings would lose them.
        assert!(typed(&json!({"$ref": "#/components/schemas/a", "description": "x"})).is_err());
    }
}
