//! Field selectors: upstream `k8s.io/apimachinery/pkg/fields` (the
//! `?fieldSelector=` grammar with its escapes, matching and `String()`),
//! plus the two per-kind layers the apiserver puts around them: which
//! field labels a kind accepts (the `AddFieldLabelConversionFunc`
//! registrations in `pkg/apis/<group>/<version>/conversion.go`) and which
//! values an object exposes to them (the `GetAttrs`/`ToSelectableFields`
//! of `pkg/registry/...`).
//!
//! The two layers differ on purpose upstream: pods accept `status.podIPs`
//! but never set it, so it matches as if empty; `spec.host` is accepted and
//! rewritten to `spec.nodeName`. Keeping them apart reproduces both.

use std::collections::BTreeMap;
use std::fmt;

use generated::support::field_error::quote;
use generated::support::meta::ResourceDescriptor;
use serde_json::Value;

use super::SelectorError;

/// How a [`FieldTerm`] compares its field with its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldOp {
    /// `field=value` or `field==value`.
    Equals,
    /// `field!=value`; a field the object lacks reads as "".
    NotEquals,
}

/// One `field=value` or `field!=value` clause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldTerm {
    /// The field label, such as `spec.nodeName`.
    pub field: String,
    /// The comparison.
    pub op: FieldOp,
    /// The unescaped value.
    pub value: String,
}

/// A parsed field selector: the AND of its terms, in upstream's order
/// (terms sorted by their text as written).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSelector {
    terms: Vec<FieldTerm>,
}

impl FieldSelector {
    /// The selector that matches every object.
    pub fn everything() -> Self {
        Self::default()
    }

    /// Parses `?fieldSelector=` text (upstream `fields.ParseSelector`).
    pub fn parse(selector: &str) -> Result<Self, SelectorError> {
        let mut parts = split_terms(selector);
        parts.sort_unstable();
        let mut terms = Vec::new();
        for part in parts.into_iter().filter(|p| !p.is_empty()) {
            let Some((field, op, raw)) = split_term(part) else {
                return Err(SelectorError::new(format!(
                    "invalid selector: '{selector}'; can't understand '{part}'"
                )));
            };
            let value = unescape_value(raw)?;
            terms.push(FieldTerm {
                field: field.to_owned(),
                op,
                value,
            });
        }
        // Upstream runs the parsed selector through an identity Transform,
        // which drops terms whose field and value are both empty: "=" is
        // a valid selector that selects everything.
        Self { terms }.transform(|field, value| Ok((field.to_owned(), value.to_owned())))
    }

    /// Rewrites every term's field and value through `f` (upstream
    /// `Transform`); a term rewritten to an empty field and value is dropped.
    pub fn transform(
        self,
        mut f: impl FnMut(&str, &str) -> Result<(String, String), SelectorError>,
    ) -> Result<Self, SelectorError> {
        let mut terms = Vec::with_capacity(self.terms.len());
        for term in self.terms {
            let (field, value) = f(&term.field, &term.value)?;
            if !(field.is_empty() && value.is_empty()) {
                terms.push(FieldTerm {
                    field,
                    op: term.op,
                    value,
                });
            }
        }
        Ok(Self { terms })
    }

    /// Whether the selector leaves the selection unrestricted.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The terms, in upstream's order.
    pub fn terms(&self) -> &[FieldTerm] {
        &self.terms
    }

    /// Whether an object with these selectable field values matches; a
    /// field missing from `fields` reads as "" (upstream `fields.Set.Get`).
    pub fn matches(&self, fields: &BTreeMap<String, String>) -> bool {
        self.matches_with(|f| fields.get(f).map(String::as_str))
    }

    /// Whether the field values read through `get` match.
    pub fn matches_with<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.terms.iter().all(|t| {
            let equal = get(&t.field).unwrap_or("") == t.value;
            equal == (t.op == FieldOp::Equals)
        })
    }

    /// The value `field` must equal to match, if a term pins it (upstream
    /// `RequiresExactMatch`: the first `=` term on that field).
    pub fn requires_exact_match(&self, field: &str) -> Option<&str> {
        self.terms
            .iter()
            .find(|t| t.op == FieldOp::Equals && t.field == field)
            .map(|t| t.value.as_str())
    }
}

impl fmt::Display for FieldSelector {
    /// Upstream's canonical `String()`: `==` prints as `=`, values escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            let op = match t.op {
                FieldOp::Equals => "=",
                FieldOp::NotEquals => "!=",
            };
            write!(f, "{}{op}{}", t.field, escape_value(&t.value))?;
        }
        Ok(())
    }
}

/// Splits on commas not escaped by a backslash; the escapes stay in place.
fn split_terms(selector: &str) -> Vec<&str> {
    if selector.is_empty() {
        return Vec::new();
    }
    let mut terms = Vec::new();
    let (mut start, mut in_slash) = (0, false);
    for (i, c) in selector.char_indices() {
        if in_slash {
            in_slash = false;
        } else if c == '\\' {
            in_slash = true;
        } else if c == ',' {
            terms.push(&selector[start..i]);
            start = i + 1;
        }
    }
    terms.push(&selector[start..]);
    terms
}

/// Splits at the first operator; the field cannot escape anything, so
/// `a!b=c` is field `a!b`. `!=` and `==` are tried before `=` at each
/// position so that neither leaves a stray `=` in the value.
fn split_term(term: &str) -> Option<(&str, FieldOp, &str)> {
    const OPS: [(&str, FieldOp); 3] = [
        ("!=", FieldOp::NotEquals),
        ("==", FieldOp::Equals),
        ("=", FieldOp::Equals),
    ];
    term.char_indices().find_map(|(i, _)| {
        let rest = &term[i..];
        OPS.iter()
            .find(|(op, _)| rest.starts_with(op))
            .map(|(op, kind)| (&term[..i], *kind, &rest[op.len()..]))
    })
}

/// Upstream `UnescapeValue`: `\\`, `\,` and `\=` are the only escapes, and
/// a bare `,` or `=` is an error.
fn unescape_value(raw: &str) -> Result<String, SelectorError> {
    let mut out = String::with_capacity(raw.len());
    let mut in_slash = false;
    for c in raw.chars() {
        if in_slash {
            if !matches!(c, '\\' | ',' | '=') {
                return Err(SelectorError::new(format!(
                    "invalid field selector: invalid escape sequence: \\{c}"
                )));
            }
            out.push(c);
            in_slash = false;
        } else if c == '\\' {
            in_slash = true;
        } else if matches!(c, ',' | '=') {
            // Upstream formats the rune with %v: its code point in decimal.
            return Err(SelectorError::new(format!(
                "invalid field selector: unescaped character in value: {}",
                u32::from(c)
            )));
        } else {
            out.push(c);
        }
    }
    if in_slash {
        return Err(SelectorError::new(
            "invalid field selector: invalid escape sequence: \\",
        ));
    }
    Ok(out)
}

/// Upstream `EscapeValue`.
fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '\\' | ',' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// What a kind's field label conversion func says about a label it does
/// not accept; upstream's wording differs from kind to kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reject {
    /// `field label not supported: <label>`, the common form.
    Plain,
    /// `field label "<label>" not supported for <name>`.
    QuotedFor(&'static str),
    /// `field label not supported for <group>/<version>, Kind=<kind>: <label>`.
    Gvk,
}

/// A kind with its own field label conversion func upstream. The labels
/// it accepts beyond `metadata.*` are the resource's `field_selectors`
/// (from `specs/overlays`); this table adds what those cannot say.
#[derive(Debug, PartialEq, Eq)]
struct KindRules {
    group: &'static str,
    kind: &'static str,
    /// Whether `metadata.namespace` is accepted. This is the conversion
    /// func's choice, not the scope's: the namespaced PodCertificateRequest
    /// rejects it, while the generic metav1 rules accept it everywhere.
    namespace: bool,
    /// Labels accepted and rewritten before matching.
    aliases: &'static [(&'static str, &'static str)],
    reject: Reject,
}

const KINDS: &[KindRules] = &[
    // pkg/apis/core/v1/conversion.go
    rules(
        "",
        "Pod",
        true,
        &[("spec.host", "spec.nodeName")],
        Reject::Plain,
    ),
    rules("", "Node", false, &[], Reject::Plain),
    rules("", "ReplicationController", true, &[], Reject::Plain),
    rules("", "Event", true, &[], Reject::Plain),
    rules("", "Namespace", false, &[], Reject::Plain),
    rules("", "Secret", true, &[], Reject::Plain),
    rules("", "Service", true, &[], Reject::Plain),
    // pkg/apis/events/v1/conversion.go. Upstream maps regarding.* and
    // reportingController onto the core names because it stores core
    // Events; here objects are read in their own group's shape, so the
    // events.k8s.io names stay as they are.
    rules("events.k8s.io", "Event", true, &[], Reject::Plain),
    // pkg/apis/batch/v1/conversion.go
    rules("batch", "Job", true, &[], Reject::QuotedFor("batchv1.Job")),
    // pkg/apis/certificates/{v1,v1beta1,v1alpha1}/conversion.go
    rules(
        "certificates.k8s.io",
        "CertificateSigningRequest",
        false,
        &[],
        Reject::Plain,
    ),
    rules(
        "certificates.k8s.io",
        "ClusterTrustBundle",
        false,
        &[],
        Reject::Plain,
    ),
    rules(
        "certificates.k8s.io",
        "PodCertificateRequest",
        false,
        &[],
        Reject::Plain,
    ),
    // pkg/apis/resource/*/conversion.go
    rules("resource.k8s.io", "ResourceSlice", false, &[], Reject::Gvk),
];

const fn rules(
    group: &'static str,
    kind: &'static str,
    namespace: bool,
    aliases: &'static [(&'static str, &'static str)],
    reject: Reject,
) -> KindRules {
    KindRules {
        group,
        kind,
        namespace,
        aliases,
        reject,
    }
}

/// The field labels one resource supports, and how to read them from its
/// objects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldLabels {
    group: String,
    version: String,
    kind: String,
    /// Labels beyond `metadata.*`.
    labels: Vec<String>,
    /// `None`: no conversion func upstream, so the generic metav1 rules.
    rules: Option<&'static KindRules>,
}

impl FieldLabels {
    /// The field labels of a built-in resource.
    pub fn for_resource(r: &ResourceDescriptor) -> Self {
        Self::new(r.group, r.version, r.kind, r.field_selectors)
    }

    /// The field labels of `group/version, Kind=kind`, given the labels it
    /// supports beyond `metadata.name` and `metadata.namespace`.
    pub fn new(group: &str, version: &str, kind: &str, field_selectors: &[&str]) -> Self {
        let rules = KINDS.iter().find(|k| k.group == group && k.kind == kind);
        Self {
            group: group.to_owned(),
            version: version.to_owned(),
            kind: kind.to_owned(),
            labels: field_selectors.iter().map(|s| (*s).to_owned()).collect(),
            rules,
        }
    }

    /// Checks every term's field against the resource and rewrites aliases
    /// (upstream's `Transform` with `ConvertFieldLabel` in the list
    /// handler); the first unsupported field, in term order, is the error.
    pub fn convert(&self, selector: FieldSelector) -> Result<FieldSelector, SelectorError> {
        selector.transform(|field, value| Ok((self.convert_label(field)?, value.to_owned())))
    }

    fn convert_label(&self, label: &str) -> Result<String, SelectorError> {
        let Some(rules) = self.rules else {
            // runtime.DefaultMetaV1FieldSelectorConversion: no other labels,
            // whatever the scope.
            if label == "metadata.name" || label == "metadata.namespace" {
                return Ok(label.to_owned());
            }
            return Err(SelectorError::new(format!(
                "{} is not a known field selector: only \"metadata.name\", \"metadata.namespace\"",
                quote(label)
            )));
        };
        if label == "metadata.name"
            || (rules.namespace && label == "metadata.namespace")
            || self.labels.iter().any(|l| l == label)
        {
            return Ok(label.to_owned());
        }
        if let Some((_, to)) = rules.aliases.iter().find(|(from, _)| *from == label) {
            return Ok((*to).to_owned());
        }
        Err(SelectorError::new(match rules.reject {
            Reject::Plain => format!("field label not supported: {label}"),
            Reject::QuotedFor(name) => {
                format!("field label {} not supported for {name}", quote(label))
            }
            Reject::Gvk => format!(
                "field label not supported for {}/{}, Kind={}: {label}",
                self.group, self.version, self.kind
            ),
        }))
    }

    /// The selectable field values of `object` (see [`field_values`]).
    pub fn values(&self, object: &Value) -> BTreeMap<String, String> {
        let labels: Vec<&str> = self.labels.iter().map(String::as_str).collect();
        field_values(&self.group, &labels, object)
    }

    /// Whether `object` matches a selector already passed through
    /// [`FieldLabels::convert`].
    pub fn matches(&self, selector: &FieldSelector, object: &Value) -> bool {
        selector.is_empty() || selector.matches(&self.values(object))
    }
}

/// How to read one selectable field from an object.
#[derive(Clone, Copy)]
enum Extract<'a> {
    /// A string at a dotted path; absent reads as "".
    Str(&'a str),
    /// A boolean; absent reads as "false" (Go's zero value).
    Bool(&'a str),
    /// An integer; absent reads as "0" (Go's zero value).
    Int(&'a str),
    /// The first non-empty string among the paths.
    FirstOf(&'a [&'a str]),
    /// Accepted by the conversion func but never set by `GetAttrs`.
    Unset,
}

/// Fields whose value is not simply the string at the label's own path,
/// keyed by group and label; everything else reads its label as a path.
const SPECIAL: &[(&str, &str, Extract<'static>)] = &[
    // pkg/registry/core/pod/strategy.go ToSelectableFields. The internal
    // Pod reads hostNetwork from a SecurityContext defaulting to false, and
    // podIP from podIPs[0], which v1 conversion fills from status.podIP
    // first; status.podIPs is never set, so it only ever equals "".
    ("", "spec.hostNetwork", Extract::Bool("spec.hostNetwork")),
    (
        "",
        "status.podIP",
        Extract::FirstOf(&["status.podIP", "status.podIPs.0.ip"]),
    ),
    ("", "status.podIPs", Extract::Unset),
    // pkg/registry/core/node/strategy.go
    (
        "",
        "spec.unschedulable",
        Extract::Bool("spec.unschedulable"),
    ),
    // pkg/registry/core/replicationcontroller/strategy.go
    ("", "status.replicas", Extract::Int("status.replicas")),
    // pkg/registry/core/event/strategy.go: source.component, else the
    // reporting controller (reportingComponent in core/v1).
    (
        "",
        "source",
        Extract::FirstOf(&["source.component", "reportingComponent"]),
    ),
    (
        "events.k8s.io",
        "source",
        Extract::FirstOf(&["deprecatedSource.component", "reportingController"]),
    ),
    // pkg/registry/batch/job/strategy.go: the label names status.succeeded.
    (
        "batch",
        "status.successful",
        Extract::Int("status.succeeded"),
    ),
];

/// Every path [`field_values`] may read for a resource of `group` whose
/// supported field labels are `field_selectors`: what a copy of an object
/// must keep for field selectors to see the same values as on the whole.
pub fn field_paths(group: &str, field_selectors: &[&'static str]) -> Vec<&'static str> {
    let mut paths = vec!["metadata.name", "metadata.namespace"];
    for label in field_selectors {
        let how = SPECIAL
            .iter()
            .find(|(g, l, _)| *g == group && l == label)
            .map_or(Extract::Str(label), |(_, _, how)| *how);
        match how {
            Extract::Str(path) | Extract::Bool(path) | Extract::Int(path) => paths.push(path),
            Extract::FirstOf(more) => paths.extend_from_slice(more),
            Extract::Unset => {}
        }
    }
    paths
}

/// The selectable field values of `object`, a resource of `group` whose
/// supported field labels are `field_selectors`: `metadata.name`,
/// `metadata.namespace` and one entry per label, stringified as upstream's
/// `GetAttrs` does (booleans `true`/`false`, integers in decimal, absent
/// strings ""). Array elements are addressed by index (`status.podIPs.0.ip`).
pub fn field_values(
    group: &str,
    field_selectors: &[&str],
    object: &Value,
) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    for meta in ["metadata.name", "metadata.namespace"] {
        values.insert(meta.to_owned(), string_at(object, meta));
    }
    for label in field_selectors {
        let how = SPECIAL
            .iter()
            .find(|(g, l, _)| *g == group && l == label)
            .map_or(Extract::Str(label), |(_, _, how)| *how);
        let value = match how {
            Extract::Str(path) => string_at(object, path),
            Extract::Bool(path) => match lookup(object, path) {
                Some(Value::Bool(b)) => b.to_string(),
                _ => "false".to_owned(),
            },
            Extract::Int(path) => match lookup(object, path) {
                Some(Value::Number(n)) => n.to_string(),
                _ => "0".to_owned(),
            },
            Extract::FirstOf(paths) => paths
                .iter()
                .map(|p| string_at(object, p))
                .find(|v| !v.is_empty())
                .unwrap_or_default(),
            Extract::Unset => continue,
        };
        values.insert((*label).to_owned(), value);
    }
    values
}

/// The value at a dotted path, stepping into arrays by numeric segments.
fn lookup<'a>(object: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(object, |v, seg| match v {
        Value::Object(m) => m.get(seg),
        Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

/// The string at `path`; scalars of other types print as Go would, and
/// absent, null or structured values read as "".
fn string_at(object: &Value, path: &str) -> String {
    match lookup(object, path) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use generated::RESOURCES;

    use super::*;

    #[test]
    fn parses_to_canonical_strings() {
        let cases = [
            ("", ""),
            ("a=b", "a=b"),
            ("a==b", "a=b"),
            ("a!=b", "a!=b"),
            ("a!=", "a!="),
            ("b!=c,a=x", "a=x,b!=c"),
            ("a=b,,", "a=b"),
            // "=" is a term with an empty field and value, which upstream's
            // identity Transform drops.
            ("=", ""),
            ("a=b,=", "a=b"),
            ("=x", "=x"),
            ("a!b=c", "a!b=c"),
            (r"a=x\,y\=z\\w", r"a=x\,y\=z\\w"),
            ("a=b c", "a=b c"),
        ];
        for (input, want) in cases {
            let sel = FieldSelector::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(sel.to_string(), want, "{input:?}");
        }
        let sel = FieldSelector::parse(r"a=x\,y\=z\\w").unwrap();
        assert_eq!(sel.terms()[0].value, r"x,y=z\w");
        let sel = FieldSelector::parse("a==b").unwrap();
        assert_eq!(sel.terms()[0].op, FieldOp::Equals);
    }

    #[test]
    fn parse_errors_match_upstream() {
        let cases = [
            ("a", "invalid selector: 'a'; can't understand 'a'"),
            ("a=b,c", "invalid selector: 'a=b,c'; can't understand 'c'"),
            // %v of a Go rune is its code point.
            (
                "a=b=c",
                "invalid field selector: unescaped character in value: 61",
            ),
            (
                "a==b=c",
                "invalid field selector: unescaped character in value: 61",
            ),
            (
                r"a=b\c",
                r"invalid field selector: invalid escape sequence: \c",
            ),
            (
                r"a=b\",
                r"invalid field selector: invalid escape sequence: \",
            ),
        ];
        for (input, want) in cases {
            let got = FieldSelector::parse(input).expect_err(input);
            assert_eq!(got.message(), want, "{input:?}");
        }
        // Terms are checked in sorted order, so the first error is the
        // smallest bad term, not the first written.
        let got = FieldSelector::parse("z=a=b,a").expect_err("two bad terms");
        assert_eq!(
            got.message(),
            "invalid selector: 'z=a=b,a'; can't understand 'a'"
        );
    }

    #[test]
    fn matching_reads_missing_fields_as_empty() {
        let fields: BTreeMap<String, String> =
            [("spec.nodeName".to_string(), "n1".to_string())].into();
        let cases = [
            ("spec.nodeName=n1", true),
            ("spec.nodeName!=n1", false),
            ("spec.nodeName=n2", false),
            ("status.phase=", true),
            ("status.phase!=Running", true),
            ("status.phase=Running", false),
            ("spec.nodeName=n1,status.phase!=Failed", true),
            ("", true),
        ];
        for (input, want) in cases {
            let sel = FieldSelector::parse(input).unwrap();
            assert_eq!(sel.matches(&fields), want, "{input}");
        }
        let sel = FieldSelector::parse("a!=1,b=2,a=3,a=4").unwrap();
        assert_eq!(sel.requires_exact_match("a"), Some("3"));
        assert_eq!(sel.requires_exact_match("b"), Some("2"));
        assert_eq!(sel.requires_exact_match("c"), None);
    }

    fn labels_for(group: &str, version: &str, kind: &str) -> FieldLabels {
        let r = RESOURCES
            .iter()
            .find(|r| r.group == group && r.version == version && r.kind == kind)
            .unwrap_or_else(|| panic!("no {group}/{version} {kind}"));
        FieldLabels::for_resource(r)
    }

    #[test]
    fn unsupported_fields_are_rejected_with_upstream_text() {
        let cases = [
            (
                "",
                "v1",
                "Pod",
                "spec.foo=x",
                "field label not supported: spec.foo",
            ),
            ("", "v1", "Pod", "=x", "field label not supported: "),
            (
                "",
                "v1",
                "Node",
                "metadata.namespace=x",
                "field label not supported: metadata.namespace",
            ),
            (
                "",
                "v1",
                "Namespace",
                "metadata.namespace=",
                "field label not supported: metadata.namespace",
            ),
            (
                "events.k8s.io",
                "v1",
                "Event",
                "involvedObject.kind=Pod",
                "field label not supported: involvedObject.kind",
            ),
            (
                "batch",
                "v1",
                "Job",
                "status.succeeded=1",
                "field label \"status.succeeded\" not supported for batchv1.Job",
            ),
            (
                "batch",
                "v1",
                "CronJob",
                "spec.suspend=true",
                "\"spec.suspend\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"",
            ),
            (
                "apps",
                "v1",
                "Deployment",
                "status.replicas=1",
                "\"status.replicas\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"",
            ),
            (
                "certificates.k8s.io",
                "v1beta1",
                "PodCertificateRequest",
                "metadata.namespace=a",
                "field label not supported: metadata.namespace",
            ),
            (
                "resource.k8s.io",
                "v1beta2",
                "ResourceSlice",
                "spec.pool=x",
                "field label not supported for resource.k8s.io/v1beta2, Kind=ResourceSlice: spec.pool",
            ),
            // The first bad term in sorted order is the one reported.
            (
                "",
                "v1",
                "Pod",
                "zz=1,aa=2",
                "field label not supported: aa",
            ),
        ];
        for (group, version, kind, input, want) in cases {
            let sel = FieldSelector::parse(input).unwrap();
            let got = labels_for(group, version, kind)
                .convert(sel)
                .expect_err(input);
            assert_eq!(got.message(), want, "{kind} {input}");
        }
    }

    #[test]
    fn supported_fields_convert() {
        let cases = [
            (
                "",
                "v1",
                "Pod",
                "spec.host=n1,metadata.namespace=d",
                "metadata.namespace=d,spec.nodeName=n1",
            ),
            (
                "",
                "v1",
                "Pod",
                "status.podIPs=10.0.0.1",
                "status.podIPs=10.0.0.1",
            ),
            (
                "",
                "v1",
                "Node",
                "spec.unschedulable=true,metadata.name=n",
                "metadata.name=n,spec.unschedulable=true",
            ),
            (
                "events.k8s.io",
                "v1",
                "Event",
                "regarding.kind=Pod,source=kubelet",
                "regarding.kind=Pod,source=kubelet",
            ),
            (
                "apps",
                "v1",
                "Deployment",
                "metadata.namespace=a",
                "metadata.namespace=a",
            ),
            ("", "v1", "ConfigMap", "metadata.name=a", "metadata.name=a"),
        ];
        for (group, version, kind, input, want) in cases {
            let sel = FieldSelector::parse(input).unwrap();
            let got = labels_for(group, version, kind).convert(sel).unwrap();
            assert_eq!(got.to_string(), want, "{kind} {input}");
        }
    }

    /// The rules table and the generated field selectors must name the
    /// same kinds, so a new overlay entry cannot silently take the generic
    /// metav1 rules.
    #[test]
    fn rules_cover_every_resource_with_field_selectors() {
        for r in RESOURCES.iter().filter(|r| !r.field_selectors.is_empty()) {
            assert!(
                FieldLabels::for_resource(r).rules.is_some(),
                "{}/{} {} has field selectors but no rules",
                r.group,
                r.version,
                r.kind
            );
        }
        for k in KINDS {
            assert!(
                RESOURCES
                    .iter()
                    .any(|r| r.group == k.group && r.kind == k.kind),
                "rules for unknown kind {} {}",
                k.group,
                k.kind
            );
        }
    }
}
