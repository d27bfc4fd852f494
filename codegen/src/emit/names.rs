//! How model names become Rust names: modules per group/version, struct
//! names from definitions, snake_case fields that never collide with
//! keywords.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

/// Definitions whose wire form is a hand-written support type rather than a
/// generated struct, with the support path that replaces them.
pub const SUPPORT_TYPES: &[(&str, &str, &str)] = &[
    ("io.k8s.apimachinery.pkg.apis.meta.v1.Time", "time", "Time"),
    (
        "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime",
        "time",
        "MicroTime",
    ),
    (
        "io.k8s.apimachinery.pkg.api.resource.Quantity",
        "quantity",
        "Quantity",
    ),
    (
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
        "int_or_string",
        "IntOrString",
    ),
    (
        "io.k8s.apimachinery.pkg.runtime.RawExtension",
        "raw",
        "RawExtension",
    ),
    (
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON",
        "raw",
        "Json",
    ),
    (
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray",
        "raw",
        "JsonSchemaPropsOrArray",
    ),
    (
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool",
        "raw",
        "JsonSchemaPropsOrBool",
    ),
    (
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray",
        "raw",
        "JsonSchemaPropsOrStringArray",
    ),
];

/// The support type standing in for a definition, as (module, type).
pub fn support_type(definition: &str) -> Option<(&'static str, &'static str)> {
    SUPPORT_TYPES
        .iter()
        .find(|(name, _, _)| *name == definition)
        .map(|(_, module, ty)| (*module, *ty))
}

/// `io.k8s.api.apps.v1.Deployment` -> (["api", "apps", "v1"], "Deployment").
/// Our own groups keep their full reverse-DNS prefix.
pub fn split_definition(name: &str) -> (Vec<String>, String) {
    let trimmed = name.strip_prefix("io.k8s.").unwrap_or(name);
    let mut parts: Vec<String> = trimmed.split('.').map(|p| p.replace('-', "_")).collect();
    let ty = parts.pop().unwrap_or_default();
    (parts, ty)
}

/// The path of a definition's Rust type from the crate root.
pub fn type_path(definition: &str) -> TokenStream {
    if let Some((module, ty)) = support_type(definition) {
        let module = ident(module);
        let ty = ident(ty);
        return quote!(crate::support::#module::#ty);
    }
    let (modules, ty) = split_definition(definition);
    let modules = modules.iter().map(|m| ident(m));
    let ty = ident(&ty);
    quote!(crate #(::#modules)* :: #ty)
}

/// A Rust identifier; keywords get a trailing underscore.
pub fn ident(name: &str) -> Ident {
    let name = if is_keyword(name) {
        format!("{name}_")
    } else {
        name.to_owned()
    };
    Ident::new(&name, Span::call_site())
}

/// The field name for a JSON property: snake_case, with acronyms kept whole
/// (`podCIDRs` -> `pod_cidrs`, `hostIPC` -> `host_ipc`) and anything that is
/// not alphanumeric dropped (`$ref` -> `ref_`).
pub fn field_ident(json: &str) -> Ident {
    ident(&snake_case(json))
}

pub fn snake_case(json: &str) -> String {
    let chars: Vec<char> = json
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c == '-' || c == '_' {
            if !out.ends_with('_') && !out.is_empty() {
                out.push('_');
            }
            continue;
        }
        if c.is_ascii_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next = chars.get(i + 1).copied();
            // An "s" after an acronym is its plural, not a new word: IPs, CIDRs.
            let plural_s =
                next == Some('s') && !chars.get(i + 2).is_some_and(|c| c.is_ascii_lowercase());
            let starts_word = prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase()
                    && next.is_some_and(|n| n.is_ascii_lowercase())
                    && !plural_s);
            if starts_word && !out.ends_with('_') {
                out.push('_');
            }
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

fn is_keyword(name: &str) -> bool {
    matches!(
        name,
        "as" | "async"
            | "await"
            | "break"
            | "const"
            | "continue"
            | "crate"
            | "dyn"
            | "else"
            | "enum"
            | "extern"
            | "false"
            | "fn"
            | "for"
            | "gen"
            | "if"
            | "impl"
            | "in"
            | "let"
            | "loop"
            | "match"
            | "mod"
            | "move"
            | "mut"
            | "pub"
            | "ref"
            | "return"
            | "self"
            | "Self"
            | "static"
            | "struct"
            | "super"
            | "trait"
            | "true"
            | "type"
            | "unsafe"
            | "use"
            | "where"
            | "while"
            | "abstract"
            | "become"
            | "box"
            | "do"
            | "final"
            | "macro"
            | "override"
            | "priv"
            | "typeof"
            | "unsized"
            | "virtual"
            | "yield"
            | "try"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_names_become_snake_case() {
        for (json, rust) in [
            ("podCIDRs", "pod_cidrs"),
            ("hostIPC", "host_ipc"),
            ("externalIPs", "external_ips"),
            ("apiVersion", "api_version"),
            ("x-kubernetes-list-type", "x_kubernetes_list_type"),
            ("$ref", "ref"),
            ("IPFamilyPolicy", "ip_family_policy"),
            ("volumeID", "volume_id"),
            ("targetWWNs", "target_wwns"),
            ("v1", "v1"),
        ] {
            assert_eq!(snake_case(json), rust, "{json}");
        }
        assert_eq!(field_ident("type").to_string(), "type_");
    }

    #[test]
    fn definitions_split_into_modules() {
        let (modules, ty) = split_definition(
            "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition",
        );
        assert_eq!(
            modules,
            [
                "apiextensions_apiserver",
                "pkg",
                "apis",
                "apiextensions",
                "v1"
            ]
        );
        assert_eq!(ty, "CustomResourceDefinition");
        assert_eq!(
            type_path("io.k8s.apimachinery.pkg.apis.meta.v1.Time").to_string(),
            "crate :: support :: time :: Time"
        );
    }
}
