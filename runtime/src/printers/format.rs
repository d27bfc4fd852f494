//! Formatting helpers several printers share, each after the apimachinery
//! or printers.go function it stands in for.

use serde_json::Value;

use super::value::{array_at, get_path, object_at, str_at, text_of};

/// Why a label selector has no selector string: upstream's
/// `LabelSelectorAsSelector` rejects it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct InvalidSelector;

/// `metav1.LabelSelectorAsSelector(s).String()`: requirements sorted by
/// key, `k=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`; "" for a nil or
/// empty selector.
///
/// Upstream also rejects syntactically invalid keys and values here; those
/// never reach storage because validation rejects them first, so only the
/// structural checks are repeated.
pub(crate) fn selector_string(selector: Option<&Value>) -> Result<String, InvalidSelector> {
    let Some(selector) = selector else {
        return Ok(String::new());
    };
    let mut requirements: Vec<(String, String)> = Vec::new();
    if let Some(labels) = object_at(selector, &["matchLabels"]) {
        for (key, value) in labels {
            let value = value.as_str().unwrap_or_default();
            requirements.push((key.clone(), format!("{key}={value}")));
        }
    }
    for expression in array_at(selector, &["matchExpressions"]) {
        let key = str_at(expression, &["key"]);
        let mut values: Vec<&str> = array_at(expression, &["values"])
            .iter()
            .map(|v| v.as_str().unwrap_or_default())
            .collect();
        values.sort_unstable();
        let text = match (str_at(expression, &["operator"]), values.is_empty()) {
            ("In", false) => format!("{key} in ({})", values.join(",")),
            ("NotIn", false) => format!("{key} notin ({})", values.join(",")),
            ("Exists", true) => key.to_owned(),
            ("DoesNotExist", true) => format!("!{key}"),
            _ => return Err(InvalidSelector),
        };
        requirements.push((key.to_owned(), text));
    }
    requirements.sort_by(|a, b| a.0.cmp(&b.0));
    let texts: Vec<String> = requirements.into_iter().map(|(_, text)| text).collect();
    Ok(texts.join(","))
}

/// `metav1.FormatLabelSelector`: the selector string, "<none>" when it is
/// empty and "<error>" when it is invalid.
pub(crate) fn format_label_selector(selector: Option<&Value>) -> String {
    match selector_string(selector) {
        Ok(text) if text.is_empty() => "<none>".to_owned(),
        Ok(text) => text,
        Err(InvalidSelector) => "<error>".to_owned(),
    }
}

/// `labels.FormatLabels`: `k=v` pairs sorted by key, "<none>" when empty.
pub(crate) fn format_labels(labels: Option<&Value>) -> String {
    let pairs: Vec<String> = labels
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(key, value)| format!("{key}={}", value.as_str().unwrap_or_default()))
        .collect();
    if pairs.is_empty() {
        "<none>".to_owned()
    } else {
        // serde_json maps iterate in key order, which is the order
        // labels.Set.String sorts into.
        pairs.join(",")
    }
}

/// `layoutContainerCells`: container names and images, each joined by ",".
pub(crate) fn container_cells(containers: &[Value]) -> (String, String) {
    let names: Vec<&str> = containers.iter().map(|c| str_at(c, &["name"])).collect();
    let images: Vec<&str> = containers.iter().map(|c| str_at(c, &["image"])).collect();
    (names.join(","), images.join(","))
}

/// `listWithMoreString`: the first `max` entries joined by ",", then
/// " + n more..." for the rest; "<unset>" when there are none.
pub(crate) fn list_with_more(list: &[String], count: usize, max: usize) -> String {
    let shown = list.iter().take(max).cloned().collect::<Vec<_>>().join(",");
    if count > max {
        format!("{shown} + {} more...", count - max)
    } else if shown.is_empty() {
        "<unset>".to_owned()
    } else {
        shown
    }
}

/// `printBoolPtr`: "True", "False" or "<unset>".
pub(crate) fn bool_ptr(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "True",
        Some(false) => "False",
        None => "<unset>",
    }
}

/// `helper.GetAccessModesAsString`: the short names of the modes present,
/// in a fixed order and without duplicates.
pub(crate) fn access_modes(modes: &[Value]) -> String {
    let has = |mode: &str| modes.iter().any(|m| m.as_str() == Some(mode));
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .into_iter()
    .filter(|(mode, _)| has(mode))
    .map(|(_, short)| short)
    .collect::<Vec<_>>()
    .join(",")
}

/// `Quantity.String()` of an optional quantity field: the text as stored,
/// or `missing` (Go prints "0" for a zero value and "<nil>" for a nil
/// pointer). The server keeps quantities as the client wrote them, so the
/// text is not re-canonicalized as upstream's decoded `Quantity` would be.
pub(crate) fn quantity(object: &Value, path: &[&str], missing: &str) -> String {
    get_path(object, path)
        .and_then(text_of)
        .unwrap_or_else(|| missing.to_owned())
}

/// `intstr.IntOrString.String()` of an optional field, or `missing`.
pub(crate) fn int_or_string(object: &Value, path: &[&str], missing: &str) -> String {
    quantity(object, path, missing)
}

/// `net.JoinHostPort`: IPv6 hosts are bracketed.
pub(crate) fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The load balancer ingress points (`ip`, else `hostname`), deduplicated,
/// sorted and joined by ",": `loadBalancerStatusStringer` with `wide`, as
/// the server always prints wide.
pub(crate) fn load_balancer_ingress(ingress: &[Value]) -> String {
    let mut points: Vec<&str> = ingress
        .iter()
        .filter_map(|point| {
            let ip = str_at(point, &["ip"]);
            let hostname = str_at(point, &["hostname"]);
            [ip, hostname].into_iter().find(|s| !s.is_empty())
        })
        .collect();
    points.sort_unstable();
    points.dedup();
    points.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selectors_print_like_apimachinery() {
        let selector = json!({
            "matchLabels": {"tier": "web", "app": "shop"},
            "matchExpressions": [
                {"key": "env", "operator": "In", "values": ["prod", "dev"]},
                {"key": "zone", "operator": "NotIn", "values": ["b"]},
                {"key": "canary", "operator": "DoesNotExist"},
                {"key": "beta", "operator": "Exists"},
            ],
        });
        assert_eq!(
            selector_string(Some(&selector)),
            Ok("app=shop,beta,!canary,env in (dev,prod),tier=web,zone notin (b)".to_owned())
        );
        assert_eq!(format_label_selector(None), "<none>");
        assert_eq!(format_label_selector(Some(&json!({}))), "<none>");
        let bad = json!({"matchExpressions": [{"key": "a", "operator": "In"}]});
        assert_eq!(format_label_selector(Some(&bad)), "<error>");
        let bad = json!({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]});
        assert_eq!(selector_string(Some(&bad)), Err(InvalidSelector));
    }

    #[test]
    fn labels_lists_and_modes() {
        assert_eq!(format_labels(Some(&json!({"b": "2", "a": "1"}))), "a=1,b=2");
        assert_eq!(format_labels(None), "<none>");
        let four: Vec<String> = ["a", "b", "c", "d"].map(str::to_owned).to_vec();
        assert_eq!(list_with_more(&four, 4, 3), "a,b,c + 1 more...");
        assert_eq!(list_with_more(&four[..2], 2, 3), "a,b");
        assert_eq!(list_with_more(&[], 0, 3), "<unset>");
        let modes = [
            json!("ReadWriteMany"),
            json!("ReadWriteOnce"),
            json!("ReadWriteOnce"),
        ];
        assert_eq!(access_modes(&modes), "RWO,RWX");
        assert_eq!(join_host_port("fd00::1", 80), "[fd00::1]:80");
        let lb = [
            json!({"hostname": "b.example"}),
            json!({"ip": "10.0.0.1"}),
            json!({"ip": "10.0.0.1"}),
        ];
        assert_eq!(load_balancer_ingress(&lb), "10.0.0.1,b.example");
    }
}
