//! Subresources that are views of their parent object, served through the
//! generic store: `scale` (an autoscaling/v1 Scale over `spec.replicas`
//! of Deployments, ReplicaSets, StatefulSets and ReplicationControllers)
//! and `binding` (a Binding that assigns a pending pod to a node, also
//! posted to the namespace's `bindings` collection).

use generated::support::field_error::{FieldError, FieldPath};
use generated::support::meta::ResourceDescriptor;
use generated::support::time::Time;
use serde_json::{Value, json};

use super::Endpoint;
use super::object::{api_version, meta_str};
use super::store::{Store, WriteOptions, WriteTarget};
use crate::selectors::LabelSelector;
use crate::status::ApiError;

/// An applied Scale as the apply configuration of its parent: the
/// manager then owns the parent's `spec.replicas` through the scale
/// subresource, and conflicts with other owners of it, as upstream's scale
/// apply does.
pub fn parent_configuration(
    served: &ResourceDescriptor,
    name: &str,
    scale: &Value,
) -> Result<Value, ApiError> {
    let given = format!(
        "{}, Kind={}",
        scale["apiVersion"].as_str().unwrap_or_default(),
        scale["kind"].as_str().unwrap_or_default()
    );
    if given != "autoscaling/v1, Kind=Scale" {
        return Err(ApiError::bad_request(format!(
            "invalid object type: {given}, expected autoscaling/v1, Kind=Scale"
        )));
    }
    let mut config = json!({
        "apiVersion": api_version(served.group, served.version),
        "kind": served.kind,
        "metadata": {"name": name},
    });
    if let Some(replicas) = scale.pointer("/spec/replicas") {
        config["spec"] = json!({"replicas": replicas});
    }
    Ok(config)
}

/// The Scale of an object: its desired and observed replicas and the
/// selector of its pods.
pub fn scale_of(object: &Value) -> Result<Value, ApiError> {
    let metadata = object.get("metadata").cloned().unwrap_or(json!({}));
    let kept = [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "creationTimestamp",
    ];
    let metadata: serde_json::Map<String, Value> = kept
        .iter()
        .filter_map(|field| {
            metadata
                .get(*field)
                .map(|v| ((*field).to_owned(), v.clone()))
        })
        .collect();
    let replicas = |pointer: &str| object.pointer(pointer).and_then(Value::as_i64).unwrap_or(0);
    Ok(json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": metadata,
        "spec": {"replicas": replicas("/spec/replicas")},
        "status": {
            "replicas": replicas("/status/replicas"),
            "selector": selector_text(object)?,
        },
    }))
}

/// The pod selector as text (`app=web,tier in (a,b)`): a LabelSelector in
/// apps/v1, a plain label map on ReplicationControllers.
fn selector_text(object: &Value) -> Result<String, ApiError> {
    let Some(selector) = object.pointer("/spec/selector") else {
        return Ok(String::new());
    };
    let is_label_selector =
        selector.get("matchLabels").is_some() || selector.get("matchExpressions").is_some();
    let api = if is_label_selector {
        selector.clone()
    } else {
        json!({"matchLabels": selector})
    };
    let parsed = serde_json::from_value(api)
        .map_err(|e| ApiError::internal(format!("stored selector is malformed: {e}")))?;
    LabelSelector::from_api(&parsed)
        .map(|s| s.to_string())
        .map_err(|e| ApiError::internal(e.message().to_owned()))
}

/// `GET .../scale`.
pub async fn get_scale(
    store: &Store,
    endpoint: Endpoint,
    namespace: &str,
    name: &str,
) -> Result<Value, ApiError> {
    scale_of(&store.get(endpoint, namespace, name).await?)
}

/// `PUT .../scale` (and the second half of a patch): sets `spec.replicas`
/// of the parent from `scale`, honouring its resourceVersion if it names one.
pub async fn update_scale(
    store: &Store,
    endpoint: Endpoint,
    namespace: &str,
    name: &str,
    scale: &Value,
    options: &WriteOptions,
) -> Result<Value, ApiError> {
    check_scale(scale, name)?;
    let replicas = scale
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let mut object = store.get(endpoint, namespace, name).await?;
    let expected = meta_str(scale, "resourceVersion");
    if !expected.is_empty() {
        object["metadata"]["resourceVersion"] = json!(expected);
    }
    object["spec"]["replicas"] = json!(replicas);
    let updated = store
        .update(
            endpoint,
            namespace,
            name,
            object,
            WriteTarget::Subresource("scale"),
            options,
        )
        .await?;
    scale_of(&updated)
}

/// Rejects a Scale that names another object, kind or a negative count.
fn check_scale(scale: &Value, name: &str) -> Result<(), ApiError> {
    if !scale.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request must be a JSON object",
        ));
    }
    for (field, expected) in [("apiVersion", "autoscaling/v1"), ("kind", "Scale")] {
        if let Some(given) = scale.get(field).and_then(Value::as_str)
            && given != expected
        {
            return Err(ApiError::bad_request(format!(
                "the {field} in the data ({given}) does not match the expected {field} ({expected})"
            )));
        }
    }
    let body_name = meta_str(scale, "name");
    if !body_name.is_empty() && body_name != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    let replicas = scale.pointer("/spec/replicas");
    let path = FieldPath::new("spec").child("replicas");
    let error = match replicas {
        None | Some(Value::Null) => None,
        Some(value) => match value.as_i64() {
            Some(n) if n < 0 => Some(FieldError::invalid(
                &path,
                n,
                "must be greater than or equal to 0",
            )),
            Some(n) if n > i64::from(i32::MAX) => Some(FieldError::invalid(
                &path,
                n,
                format!("must be less than or equal to {}", i32::MAX),
            )),
            Some(_) => None,
            None => Some(FieldError::type_invalid(
                &path,
                value.clone(),
                "expected an integer",
            )),
        },
    };
    match error {
        Some(error) => Err(ApiError::invalid("autoscaling", "Scale", name, &[error])),
        None => Ok(()),
    }
}

/// `POST .../pods/<name>/binding` or `.../bindings`: assigns the pod the
/// Binding names to `target.name`; 409 when it is already assigned or
/// being deleted. Answers with a success Status, as upstream.
pub async fn bind(
    store: &Store,
    pods: Endpoint,
    namespace: &str,
    url_name: Option<&str>,
    binding: &Value,
    options: &WriteOptions,
) -> Result<Value, ApiError> {
    if !binding.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request must be a JSON object",
        ));
    }
    let name = meta_str(binding, "name");
    if url_name.is_some_and(|n| n != name) {
        return Err(ApiError::bad_request(
            "name in URL does not match name in Binding object",
        ));
    }
    let target = FieldPath::new("target");
    let mut errors = Vec::new();
    let kind = binding
        .pointer("/target/kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !kind.is_empty() && kind != "Node" {
        errors.push(FieldError::not_supported(
            &target.child("kind"),
            kind,
            &["Node", "<empty>"],
        ));
    }
    let node = binding
        .pointer("/target/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if node.is_empty() {
        errors.push(FieldError::required(&target.child("name"), ""));
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid("", "Binding", name, &errors));
    }
    loop {
        let mut pod = store.get(pods, namespace, name).await?;
        let refused = |why: String| ApiError::conflict("", "pods/binding", name, &why);
        if !meta_str(&pod, "deletionTimestamp").is_empty() {
            return Err(refused(format!(
                "pod {name} is being deleted, cannot be assigned to a host"
            )));
        }
        let assigned = pod
            .pointer("/spec/nodeName")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !assigned.is_empty() {
            return Err(refused(format!(
                "pod {name} is already assigned to node {assigned:?}"
            )));
        }
        pod["spec"]["nodeName"] = json!(node);
        if let Some(annotations) = binding
            .pointer("/metadata/annotations")
            .and_then(Value::as_object)
        {
            for (key, value) in annotations {
                pod["metadata"]["annotations"][key] = value.clone();
            }
        }
        set_scheduled(&mut pod);
        match store
            .update(
                pods,
                namespace,
                name,
                pod,
                WriteTarget::Subresource("binding"),
                options,
            )
            .await
        {
            // Someone else wrote the pod first: look again.
            Err(error) if error.reason == "Conflict" => continue,
            Err(error) => return Err(error),
            Ok(_) => {
                return Ok(crate::status::success(axum::http::StatusCode::CREATED));
            }
        }
    }
}

/// Marks the pod's `PodScheduled` condition true.
fn set_scheduled(pod: &mut Value) {
    if !pod["status"].is_object() {
        pod["status"] = json!({});
    }
    let conditions = pod["status"]
        .as_object_mut()
        .map(|status| status.entry("conditions").or_insert(json!([])))
        .and_then(Value::as_array_mut);
    let Some(conditions) = conditions else {
        return;
    };
    let scheduled = json!({
        "type": "PodScheduled",
        "status": "True",
        "lastProbeTime": null,
        "lastTransitionTime": Time::now().to_string(),
    });
    match conditions.iter_mut().find(|c| c["type"] == "PodScheduled") {
        Some(existing) if existing["status"] == "True" => {}
        Some(existing) => *existing = scheduled,
        None => conditions.push(scheduled),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_show_replicas_and_the_selector() {
        let deployment = json!({
            "metadata": {"name": "web", "namespace": "ns", "uid": "u", "resourceVersion": "7", "labels": {"a": "b"}},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["a", "b"]}]}},
            "status": {"replicas": 2},
        });
        let scale = scale_of(&deployment).unwrap();
        assert_eq!(scale["spec"]["replicas"], 3);
        assert_eq!(
            scale["status"],
            json!({"replicas": 2, "selector": "app=web,tier in (a,b)"})
        );
        assert_eq!(
            scale["metadata"],
            json!({"name": "web", "namespace": "ns", "uid": "u", "resourceVersion": "7"})
        );
        let controller = json!({"metadata": {"name": "rc"}, "spec": {"selector": {"app": "x"}}});
        assert_eq!(
            scale_of(&controller).unwrap()["status"]["selector"],
            "app=x"
        );
    }

    #[test]
    fn scales_reject_negative_replicas_and_other_names() {
        let negative = json!({"metadata": {"name": "web"}, "spec": {"replicas": -1}});
        let error = check_scale(&negative, "web").unwrap_err();
        assert_eq!(
            error.message,
            "Scale.autoscaling \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0"
        );
        let other = json!({"metadata": {"name": "db"}, "spec": {"replicas": 1}});
        assert_eq!(check_scale(&other, "web").unwrap_err().code, 400);
    }

    #[test]
    fn binding_marks_the_pod_scheduled() {
        let mut pod = json!({"status": {"phase": "Pending"}});
        set_scheduled(&mut pod);
        assert_eq!(pod["status"]["conditions"][0]["type"], "PodScheduled");
        assert_eq!(pod["status"]["conditions"][0]["status"], "True");
    }
}
