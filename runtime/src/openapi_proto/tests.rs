use prost::Message;
use serde_json::{Value, json};

use super::messages::*;
use super::{encode, v2};

fn served() -> Document {
    Document::decode(v2().expect("the embedded document converts")).unwrap()
}

fn definition<'a>(doc: &'a Document, name: &str) -> &'a Schema {
    let definitions = doc.definitions.as_ref().unwrap();
    let named = definitions.additional_properties.iter();
    named
        .clone()
        .find(|d| d.name == name)
        .and_then(|d| d.value.as_ref())
        .unwrap_or_else(|| panic!("no definition {name}"))
}

fn property<'a>(schema: &'a Schema, name: &str) -> &'a Schema {
    let properties = schema.properties.as_ref().unwrap();
    properties
        .additional_properties
        .iter()
        .find(|p| p.name == name)
        .and_then(|p| p.value.as_ref())
        .unwrap_or_else(|| panic!("no property {name}"))
}

fn extension(list: &[NamedAny], name: &str) -> Value {
    let any = list
        .iter()
        .find(|e| e.name == name)
        .and_then(|e| e.value.as_ref())
        .unwrap_or_else(|| panic!("no extension {name}"));
    serde_yaml_ng::from_str(&any.yaml).unwrap()
}

fn path<'a>(doc: &'a Document, name: &str) -> &'a PathItem {
    let paths = doc.paths.as_ref().unwrap();
    paths
        .path
        .iter()
        .find(|p| p.name == name)
        .and_then(|p| p.value.as_ref())
        .unwrap_or_else(|| panic!("no path {name}"))
}

#[test]
fn field_numbers_are_gnostics() {
    // Written out by hand from gnostic's OpenAPIv2.proto: Document.swagger
    // is 1 and .definitions 9; Definitions holds NamedSchema (name 1,
    // value 2) at 1; Schema.type is 22 (tag bytes b2 01) holding
    // TypeItem.value at 1, and Schema.vendor_extension is 31 (fa 01)
    // holding NamedAny (name 1, value 2) whose Any has the YAML at 2.
    let bytes = encode(
        r#"{"swagger": "2.0",
            "definitions": {"A": {"type": "string", "x-k": "v"}}}"#,
    )
    .unwrap();
    let want: Vec<u8> = [
        &[0x0a, 3][..],
        b"2.0",
        &[0x4a, 32, 0x0a, 30, 0x0a, 1, b'A', 0x12, 25],
        &[0xb2, 0x01, 8, 0x0a, 6],
        b"string",
        &[0xfa, 0x01, 11, 0x0a, 3],
        b"x-k",
        &[0x12, 4, 0x12, 2, b'v', b'\n'],
    ]
    .concat();
    assert_eq!(bytes, want);
}

#[test]
fn a_deployment_as_kubectl_reads_it() {
    let doc = served();
    assert_eq!(doc.swagger, "2.0");
    assert_eq!(doc.info.as_ref().unwrap().title, "Kubernetes");

    let deployment = definition(&doc, "io.k8s.api.apps.v1.Deployment");
    assert_eq!(
        extension(
            &deployment.vendor_extension,
            "x-kubernetes-group-version-kind"
        ),
        json!([{"group": "apps", "kind": "Deployment", "version": "v1"}])
    );
    assert_eq!(
        property(deployment, "spec").r#ref,
        "#/definitions/io.k8s.api.apps.v1.DeploymentSpec"
    );
    let kind = property(deployment, "kind");
    assert_eq!(kind.r#type.as_ref().unwrap().value, ["string"]);

    // A map: labels are strings by name.
    let meta = definition(&doc, "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
    let labels = property(meta, "labels");
    assert_eq!(labels.r#type.as_ref().unwrap().value, ["object"]);
    let Some(AdditionalPropertiesOneof::Schema(values)) =
        &labels.additional_properties.as_ref().unwrap().oneof
    else {
        panic!("labels have no value schema");
    };
    assert_eq!(values.r#type.as_ref().unwrap().value, ["string"]);

    // A list with its merge key and a list type, as extensions.
    let pod_spec = definition(&doc, "io.k8s.api.core.v1.PodSpec");
    let containers = property(pod_spec, "containers");
    assert_eq!(
        extension(&containers.vendor_extension, "x-kubernetes-patch-merge-key"),
        json!("name")
    );
    assert_eq!(
        extension(&containers.vendor_extension, "x-kubernetes-list-map-keys"),
        json!(["name"])
    );
    let items = containers.items.as_ref().unwrap();
    assert_eq!(
        items.schema[0].r#ref,
        "#/definitions/io.k8s.api.core.v1.Container"
    );
    assert!(pod_spec.required.contains(&"containers".to_owned()));
}

#[test]
fn a_collection_path_with_its_operations() {
    let doc = served();
    let item = path(&doc, "/apis/apps/v1/namespaces/{namespace}/deployments");
    let list = item.get.as_ref().unwrap();
    assert_eq!(list.operation_id, "listAppsV1NamespacedDeployment");
    assert_eq!(
        extension(&list.vendor_extension, "x-kubernetes-action"),
        json!("list")
    );
    let responses = list.responses.as_ref().unwrap();
    let ok = &responses.response_code[0];
    assert_eq!(ok.name, "200");
    let Some(ResponseValueOneof::Response(ok)) = &ok.value.as_ref().unwrap().oneof else {
        panic!("200 is not a response");
    };
    let schema = ok.schema.as_ref().unwrap().schema.as_ref().unwrap();
    assert_eq!(
        schema.r#ref,
        "#/definitions/io.k8s.api.apps.v1.DeploymentList"
    );

    // Shared parameters are references on the path item ...
    let references: Vec<&str> = item
        .parameters
        .iter()
        .filter_map(|p| match &p.oneof {
            Some(ParametersItemOneof::JsonReference(r)) => Some(r.r#ref.as_str()),
            _ => None,
        })
        .collect();
    assert!(
        references.contains(&"#/parameters/namespace-vgWSWtn3"),
        "{references:?}"
    );
    // ... and the create body is a body parameter with the kind's schema.
    let create = item.post.as_ref().unwrap();
    let body = create
        .parameters
        .iter()
        .find_map(|p| match &p.oneof {
            Some(ParametersItemOneof::Parameter(Parameter {
                oneof: Some(ParameterOneof::BodyParameter(body)),
            })) => Some(body),
            _ => None,
        })
        .expect("create has a body");
    assert!(body.required);
    assert_eq!(
        body.schema.as_ref().unwrap().r#ref,
        "#/definitions/io.k8s.api.apps.v1.Deployment"
    );

    // A shared query parameter, defined once for the document.
    let parameters = &doc.parameters.as_ref().unwrap().additional_properties;
    let pretty = parameters
        .iter()
        .find(|p| p.name == "pretty-tJGM1-ng")
        .and_then(|p| p.value.as_ref())
        .expect("pretty is shared");
    let Some(ParameterOneof::NonBodyParameter(NonBodyParameter {
        oneof: Some(NonBodyParameterOneof::Query(query)),
    })) = &pretty.oneof
    else {
        panic!("pretty is not a query parameter");
    };
    assert_eq!(
        (query.name.as_str(), query.r#type.as_str()),
        ("pretty", "string")
    );
    assert!(query.unique_items);
}

#[test]
fn every_path_definition_and_extension_is_carried() {
    let json: Value = serde_json::from_str(generated::openapi::V2).unwrap();
    let doc = served();
    let names = |section: &str| -> Vec<String> {
        json[section].as_object().unwrap().keys().cloned().collect()
    };
    let paths: Vec<String> = doc
        .paths
        .as_ref()
        .unwrap()
        .path
        .iter()
        .map(|p| p.name.clone())
        .collect();
    assert_eq!(paths, names("paths"));
    let definitions = &doc.definitions.as_ref().unwrap().additional_properties;
    let defined: Vec<String> = definitions.iter().map(|d| d.name.clone()).collect();
    assert_eq!(defined, names("definitions"));

    // Every extension of every definition reads back as the JSON value.
    for named in definitions {
        let schema = named.value.as_ref().unwrap();
        for ext in &schema.vendor_extension {
            assert_eq!(
                extension(&schema.vendor_extension, &ext.name),
                json["definitions"][&named.name][&ext.name],
                "{} {}",
                named.name,
                ext.name
            );
        }
    }

    let security = &doc
        .security_definitions
        .as_ref()
        .unwrap()
        .additional_properties[0];
    assert_eq!(security.name, "BearerToken");
    let Some(SecurityDefinitionsOneof::ApiKey(key)) = &security.value.as_ref().unwrap().oneof
    else {
        panic!("BearerToken is not an API key");
    };
    assert_eq!(
        (key.name.as_str(), key.r#in.as_str()),
        ("authorization", "header")
    );
}

#[test]
fn keys_without_a_field_are_refused() {
    let error = encode(r#"{"swagger": "2.0", "info": {"title": "t", "contact": {}}}"#).unwrap_err();
    assert!(format!("{error:#}").contains("contact"), "{error:#}");
    assert!(encode(r#"{"definitions": {"A": {"type": 3}}}"#).is_err());
}
