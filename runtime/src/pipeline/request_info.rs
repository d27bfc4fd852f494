//! What a request asks for, read from its method, path and query the way
//! upstream's request-info resolver reads them: the verb RBAC checks, the
//! group/version/resource, namespace, name and subresource.

use axum::http::Method;

/// The parsed request, attached to every request as an extension.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestInfo {
    /// False for paths outside `/api` and `/apis` resources (`/healthz`,
    /// `/version`, discovery documents).
    pub is_resource_request: bool,
    pub path: String,
    /// The RBAC verb: get, list, watch, create, update, patch, delete,
    /// deletecollection; for non-resource requests the lowercase method.
    pub verb: String,
    /// `api` or `apis` for resource requests.
    pub api_prefix: String,
    pub api_group: String,
    pub api_version: String,
    pub namespace: String,
    pub resource: String,
    pub subresource: String,
    pub name: String,
    /// The path segments after the version (and namespace), e.g.
    /// `["pods", "web", "proxy", "healthz"]`.
    pub parts: Vec<String>,
}

/// Subresources of a namespace that are not namespaced resources.
const NAMESPACE_SUBRESOURCES: &[&str] = &["status", "finalize"];

impl RequestInfo {
    /// Reads a request's method, path and raw query string.
    pub fn parse(method: &Method, path: &str, query: Option<&str>) -> RequestInfo {
        let verb = method.as_str().to_ascii_lowercase();
        let non_resource = || RequestInfo {
            path: path.to_owned(),
            verb: verb.clone(),
            ..RequestInfo::default()
        };
        let segments: Vec<&str> = path
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        let (prefix, group, version, mut rest) = match segments.as_slice() {
            ["api", version, rest @ ..] if !rest.is_empty() => ("api", "", *version, rest),
            ["apis", group, version, rest @ ..] if !rest.is_empty() => {
                ("apis", *group, *version, rest)
            }
            _ => return non_resource(),
        };
        let mut info = RequestInfo {
            is_resource_request: true,
            path: path.to_owned(),
            api_prefix: prefix.to_owned(),
            api_group: group.to_owned(),
            api_version: version.to_owned(),
            ..RequestInfo::default()
        };
        info.verb = match *method {
            Method::POST => "create",
            Method::GET | Method::HEAD => "get",
            Method::PUT => "update",
            Method::PATCH => "patch",
            Method::DELETE => "delete",
            _ => "",
        }
        .to_owned();

        // The deprecated `/watch/` form: the verb is watch whatever follows.
        if let ["watch", after @ ..] = rest
            && !after.is_empty()
        {
            info.verb = "watch".to_owned();
            rest = after;
        }

        if let ["namespaces", namespace, after @ ..] = rest {
            info.namespace = (*namespace).to_owned();
            if !after.is_empty() && !NAMESPACE_SUBRESOURCES.contains(&after[0]) {
                rest = after;
            }
        }

        info.parts = rest.iter().map(|s| (*s).to_owned()).collect();
        if let Some(resource) = rest.first() {
            info.resource = (*resource).to_owned();
        }
        if let Some(name) = rest.get(1) {
            info.name = (*name).to_owned();
        }
        if let Some(sub) = rest.get(2) {
            info.subresource = (*sub).to_owned();
        }

        if info.name.is_empty() && info.verb == "get" {
            let watch = query_param(query, "watch").is_some_and(|v| parse_bool(&v));
            info.verb = if watch { "watch" } else { "list" }.to_owned();
        }
        // A list or watch narrowed to one name is authorized as that name.
        if info.name.is_empty()
            && (info.verb == "list" || info.verb == "watch")
            && let Some(name) = query_param(query, "fieldSelector").and_then(|s| exact_name(&s))
        {
            info.name = name;
        }
        if info.name.is_empty() && info.verb == "delete" {
            info.verb = "deletecollection".to_owned();
        }
        info
    }
}

/// The decoded value of a query parameter.
pub fn query_param(query: Option<&str>, key: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k) == key).then(|| percent_decode(v))
    })
}

/// Go's `strconv.ParseBool` truth values.
pub fn parse_bool(value: &str) -> bool {
    matches!(value, "1" | "t" | "T" | "true" | "TRUE" | "True")
}

/// `metadata.name=x` (or `==`) as one term of a field selector.
fn exact_name(selector: &str) -> Option<String> {
    selector.split(',').find_map(|term| {
        let value = term
            .strip_prefix("metadata.name==")
            .or_else(|| term.strip_prefix("metadata.name="))?;
        (!value.is_empty() && !value.contains('/') && value != "." && value != "..")
            .then(|| value.to_owned())
    })
}

/// Decodes `%XX` escapes and `+` (as a space) of a query component.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len()
                && bytes[i + 1].is_ascii_hexdigit()
                && bytes[i + 2].is_ascii_hexdigit() =>
            {
                out.push(hex_value(bytes[i + 1]) << 4 | hex_value(bytes[i + 2]));
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        _ => digit - b'A' + 10,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(method: Method, path: &str, query: Option<&str>) -> RequestInfo {
        RequestInfo::parse(&method, path, query)
    }

    #[test]
    fn resource_requests_are_taken_apart() {
        let i = info(Method::GET, "/api/v1/namespaces/default/pods/web/log", None);
        assert!(i.is_resource_request);
        assert_eq!(
            (
                i.verb.as_str(),
                i.api_group.as_str(),
                i.namespace.as_str(),
                i.resource.as_str(),
                i.name.as_str(),
                i.subresource.as_str()
            ),
            ("get", "", "default", "pods", "web", "log")
        );

        let i = info(Method::GET, "/apis/apps/v1/deployments", None);
        assert_eq!(
            (i.verb.as_str(), i.api_group.as_str(), i.resource.as_str()),
            ("list", "apps", "deployments")
        );

        let i = info(
            Method::GET,
            "/apis/apps/v1/namespaces/ns/deployments",
            Some("watch=1&resourceVersion=5"),
        );
        assert_eq!(i.verb, "watch");

        let i = info(Method::GET, "/api/v1/watch/namespaces/ns/pods/web", None);
        assert_eq!((i.verb.as_str(), i.name.as_str()), ("watch", "web"));

        let i = info(Method::DELETE, "/api/v1/namespaces/ns/configmaps", None);
        assert_eq!(i.verb, "deletecollection");

        let i = info(
            Method::GET,
            "/api/v1/namespaces/ns/pods",
            Some("fieldSelector=metadata.name%3Dweb"),
        );
        assert_eq!((i.verb.as_str(), i.name.as_str()), ("list", "web"));
    }

    #[test]
    fn namespaces_themselves() {
        let i = info(Method::GET, "/api/v1/namespaces/kube-system", None);
        assert_eq!(
            (i.resource.as_str(), i.name.as_str(), i.namespace.as_str()),
            ("namespaces", "kube-system", "kube-system")
        );

        let i = info(Method::PUT, "/api/v1/namespaces/ns/finalize", None);
        assert_eq!(
            (i.verb.as_str(), i.resource.as_str(), i.subresource.as_str()),
            ("update", "namespaces", "finalize")
        );

        let i = info(Method::GET, "/api/v1/namespaces", None);
        assert_eq!(
            (i.verb.as_str(), i.resource.as_str()),
            ("list", "namespaces")
        );
    }

    #[test]
    fn non_resource_requests() {
        for path in [
            "/healthz",
            "/api",
            "/api/v1",
            "/apis",
            "/apis/apps",
            "/apis/apps/v1",
            "/version",
        ] {
            let i = info(Method::GET, path, None);
            assert!(!i.is_resource_request, "{path}");
            assert_eq!(i.verb, "get");
        }
    }

    #[test]
    fn query_values_are_decoded() {
        assert_eq!(
            query_param(
                Some("a=1&labelSelector=app%3Dweb%2Ctier+in+(x)"),
                "labelSelector"
            )
            .as_deref(),
            Some("app=web,tier in (x)")
        );
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
