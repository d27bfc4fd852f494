//! Field numbers from the upstream Kubernetes `generated.proto` files (proto2).
//!
//! go-to-protobuf writes these files in a narrow style, so a small hand-written parser suffices.
//! It still accepts the proto2 constructs they could grow (nested messages, `oneof`, `reserved`,
//! options, enums) so that a spec bump does not silently lose fields.

use anyhow::{Result, anyhow};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One field of a proto message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtoField {
    /// Name as written in the `.proto` file (usually the JSON name, but e.g. `uID`, `ref`).
    pub name: String,
    /// Field number (tag).
    pub number: u32,
    /// Declared type as written (the value type for maps), e.g. `string` or
    /// `.apimachinery.pkg.apis.meta.v1.ObjectMeta`.
    pub type_name: String,
    /// Whether the field is `repeated`.
    pub repeated: bool,
    /// Key type of a `map<K, V>` field (on the wire: repeated entries with key = 1, value = 2).
    pub map_key: Option<String>,
}

/// Field numbers of every message in the upstream generated.proto files.
#[derive(Debug, Default)]
pub struct ProtoIndex {
    /// Keyed by full proto name (`api.apps.v1.Deployment`; nested: `pkg.Outer.Inner`).
    messages: HashMap<String, Vec<ProtoField>>,
}

impl ProtoIndex {
    /// Reads every `generated.proto` under `dir` (recursively). Errors name the file and line.
    pub fn load(dir: &Path) -> Result<ProtoIndex> {
        let mut files = Vec::new();
        collect_protos(dir, &mut files)?;
        if files.is_empty() {
            return Err(anyhow!("no generated.proto under {}", dir.display()));
        }
        files.sort(); // so that "defined twice" names the same file on every run
        let mut index = ProtoIndex::default();
        for path in files {
            let text = std::fs::read_to_string(&path);
            let text = text.map_err(|e| anyhow!("{}: {e}", path.display()))?;
            index.add_source(&path.display().to_string(), &text)?;
        }
        Ok(index)
    }

    /// Parses one `.proto` source into the index; errors start with `origin:line:`.
    pub fn add_source(&mut self, origin: &str, text: &str) -> Result<()> {
        let toks = lex(origin, text)?;
        Parser {
            toks,
            pos: 0,
            origin,
            index: self,
        }
        .file()
    }

    /// The field number of the JSON property `json_field` of the OpenAPI definition `definition`
    /// (a swagger definition name such as `io.k8s.api.apps.v1.Deployment` or
    /// `io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps`).
    ///
    /// `None` for properties of Go-embedded (`json:",inline"`) structs, whose own tag alone would
    /// encode wrongly: use [`ProtoIndex::field_path`] for those.
    pub fn field_number(&self, definition: &str, json_field: &str) -> Option<u32> {
        self.field(definition, json_field).map(|f| f.number)
    }

    /// The proto field that carries `json_field` directly in `definition`'s message.
    pub fn field(&self, definition: &str, json_field: &str) -> Option<&ProtoField> {
        direct(self.messages.get(&message_name(definition))?, json_field)
    }

    /// Field numbers from `definition`'s message down to `json_field`, going through the fields
    /// of Go-embedded structs, which JSON flattens but protobuf nests: `EphemeralContainer.image`
    /// is `[1, 2]` (`ephemeralContainerCommon = 1`, then `image = 2`).
    pub fn field_path(&self, definition: &str, json_field: &str) -> Option<Vec<u32>> {
        self.path_in(&message_name(definition), json_field, 0)
    }

    /// Number of messages read (for tests/reporting).
    pub fn message_count(&self) -> usize {
        self.messages.len()
    }

    /// The full proto name of the message a swagger definition is the JSON form of
    /// (`io.k8s.api.apps.v1.Deployment` -> `api.apps.v1.Deployment`), if there is one.
    pub fn definition_message(&self, definition: &str) -> Option<String> {
        let name = message_name(definition);
        self.messages.contains_key(&name).then_some(name)
    }

    /// The fields of the message with full proto name `name`, in declaration order.
    pub fn message(&self, name: &str) -> Option<&[ProtoField]> {
        self.messages.get(name).map(Vec::as_slice)
    }

    /// The full name of the message a field of `scope` refers to by `type_name`, resolved as
    /// protoc resolves it; `None` for scalar types and unknown names.
    pub fn resolve_type(&self, scope: &str, type_name: &str) -> Option<String> {
        self.resolve(scope, type_name)
    }

    fn path_in(&self, message: &str, json_field: &str, depth: usize) -> Option<Vec<u32>> {
        let fields = self.messages.get(message)?;
        if let Some(f) = direct(fields, json_field) {
            return Some(vec![f.number]);
        }
        // TypeMeta is never in the message (runtime.Unknown carries it), and descending would
        // wrongly find e.g. ClusterRoleBinding.kind in roleRef. Recursive types need a bound.
        if depth > 8 || json_field == "kind" || json_field == "apiVersion" {
            return None;
        }
        fields
            .iter()
            .filter(|f| is_embedded(message, f))
            .find_map(|f| {
                let inner = self.resolve(message, &f.type_name)?;
                let path = self.path_in(&inner, json_field, depth + 1)?;
                Some([vec![f.number], path].concat())
            })
    }

    /// Resolves a type reference like protoc: absolute if it starts with `.`, else searched from
    /// the innermost enclosing scope outwards.
    fn resolve(&self, scope: &str, type_name: &str) -> Option<String> {
        if let Some(abs) = type_name.strip_prefix('.') {
            return self.messages.contains_key(abs).then(|| abs.to_string());
        }
        let outer = scope.match_indices('.').rev().map(|(i, _)| &scope[..i]);
        let candidates = std::iter::once(scope)
            .chain(outer)
            .map(|s| format!("{s}.{type_name}"));
        candidates
            .chain([type_name.to_string()])
            .find(|c| self.messages.contains_key(c))
    }
}

/// Maps a swagger definition name to a proto message name: k8s-pb dropped the `k8s.io.` package
/// prefix, and protoc packages use `_` where Go module paths (hence swagger) use `-`.
fn message_name(definition: &str) -> String {
    definition
        .strip_prefix("io.k8s.")
        .unwrap_or(definition)
        .replace('-', "_")
}

/// go-to-protobuf names an embedded struct's field after its type, except where upstream renamed
/// the type but kept the field name for wire compatibility (`Handler` -> `ProbeHandler`).
fn is_embedded(message: &str, f: &ProtoField) -> bool {
    const RENAMED: &[(&str, &str)] = &[("api.core.v1.Probe", "handler")];
    let simple = f.type_name.rsplit('.').next().unwrap_or(&f.type_name);
    !f.repeated
        && f.map_key.is_none()
        && (normalise(simple) == normalise(&f.name) || RENAMED.contains(&(message, &f.name)))
}

/// Exact match first, else a unique case- and punctuation-insensitive one: go-to-protobuf names
/// fields after Go fields (`uID`, `Expression`), and JSONSchemaProps loses the `$` and `x-`
/// spellings (`$ref` -> `ref`, `x-kubernetes-map-type` -> `xKubernetesMapType`).
fn direct<'a>(fields: &'a [ProtoField], json_field: &str) -> Option<&'a ProtoField> {
    if let Some(f) = fields.iter().find(|f| f.name == json_field) {
        return Some(f);
    }
    let mut matches = fields
        .iter()
        .filter(|f| normalise(&f.name) == normalise(json_field));
    let first = matches.next()?;
    matches.next().is_none().then_some(first)
}

fn normalise(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn collect_protos(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let io_err = |e: std::io::Error| anyhow!("{}: {e}", dir.display());
    for entry in std::fs::read_dir(dir).map_err(io_err)? {
        let path = entry.map_err(io_err)?.path();
        if path.is_dir() {
            collect_protos(&path, out)?;
        } else if path.file_name().is_some_and(|n| n == "generated.proto") {
            out.push(path);
        }
    }
    Ok(())
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

/// A token and its line. String literals keep their opening quote so that `"{"` can never be
/// mistaken for a brace or a name; their contents are never needed.
struct Tok(String, usize);

fn lex(origin: &str, text: &str) -> Result<Vec<Tok>> {
    let (mut toks, mut chars, mut line) = (Vec::new(), text.chars().peekable(), 1);
    while let Some(c) = chars.next() {
        let start = line;
        let unterminated = |what| anyhow!("{origin}:{start}: unterminated {what}");
        match c {
            '\n' => line += 1,
            c if c.is_whitespace() => {}
            '/' if chars.next_if_eq(&'/').is_some() => {
                while chars.next_if(|&c| c != '\n').is_some() {}
            }
            '/' if chars.next_if_eq(&'*').is_some() => {
                let mut prev = ' ';
                while !(prev == '*' && chars.peek() == Some(&'/')) {
                    prev = chars.next().ok_or_else(|| unterminated("/* comment"))?;
                    line += usize::from(prev == '\n');
                }
                chars.next();
            }
            '"' | '\'' => {
                loop {
                    match chars.next() {
                        Some('\\') => _ = chars.next(),
                        Some('\n') | None => return Err(unterminated("string")),
                        Some(q) if q == c => break,
                        Some(_) => {}
                    }
                }
                toks.push(Tok(c.to_string(), line));
            }
            c if is_word(c) => {
                let rest = std::iter::from_fn(|| chars.next_if(|&c| is_word(c)));
                toks.push(Tok(std::iter::once(c).chain(rest).collect(), line));
            }
            c => toks.push(Tok(c.to_string(), line)),
        }
    }
    Ok(toks)
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    origin: &'a str,
    index: &'a mut ProtoIndex,
}

impl Parser<'_> {
    /// An error at the token just consumed (or the last line, at end of input).
    fn err(&self, msg: impl std::fmt::Display) -> anyhow::Error {
        let tok = self.toks.get(self.pos.saturating_sub(1));
        let line = tok.or(self.toks.last()).map_or(1, |t| t.1);
        anyhow!("{}:{line}: {msg}", self.origin)
    }

    fn next(&mut self) -> Result<String> {
        self.pos += 1;
        let tok = self.toks.get(self.pos - 1).map(|t| t.0.clone());
        tok.ok_or_else(|| self.err("unexpected end of file"))
    }

    fn expect(&mut self, sym: &str) -> Result<()> {
        let found = self.next()?;
        let ok = found == sym;
        ok.then_some(())
            .ok_or_else(|| self.err(format!("expected `{sym}`, found `{found}`")))
    }

    fn word(&mut self) -> Result<String> {
        let found = self.next()?;
        if found.starts_with(is_word) {
            return Ok(found);
        }
        Err(self.err(format!("expected a name, found `{found}`")))
    }

    /// Skips a statement we do not need: up to `;`, or to the end of its `{ ... }` body.
    fn skip_statement(&mut self) -> Result<()> {
        let mut depth = 0;
        loop {
            match self.next()?.as_str() {
                ";" if depth == 0 => return Ok(()),
                "{" => depth += 1,
                "}" if depth == 0 => return Err(self.err("unexpected `}`")),
                "}" if depth == 1 => return Ok(()),
                "}" => depth -= 1,
                _ => {}
            }
        }
    }

    fn file(&mut self) -> Result<()> {
        let mut package = String::new();
        while self.pos < self.toks.len() {
            match self.next()?.as_str() {
                ";" => {}
                "package" => {
                    package = self.word()?;
                    self.expect(";")?;
                }
                "message" => self.message(&package)?,
                "syntax" | "import" | "option" | "enum" | "service" | "extend" => {
                    self.skip_statement()?;
                }
                other => return Err(self.err(format!("unexpected `{other}` at top level"))),
            }
        }
        Ok(())
    }

    fn message(&mut self, scope: &str) -> Result<()> {
        let name = self.word()?;
        let full = format!("{scope}.{name}");
        let full = full.trim_start_matches('.').to_string(); // no `package` line
        self.expect("{")?;
        let (mut fields, mut in_oneof) = (Vec::<ProtoField>::new(), false);
        loop {
            let first = self.next()?;
            match first.as_str() {
                "}" if in_oneof => in_oneof = false,
                "}" => break,
                ";" => {}
                "message" => self.message(&full)?,
                // A oneof's fields are numbered in the enclosing message, so just flatten it.
                "oneof" if !in_oneof => {
                    self.word()?;
                    self.expect("{")?;
                    in_oneof = true;
                }
                "option" | "reserved" | "extensions" | "enum" | "extend" => {
                    self.skip_statement()?
                }
                _ => {
                    let f = self.field(first)?;
                    if fields
                        .iter()
                        .any(|g| g.number == f.number || g.name == f.name)
                    {
                        let (name, number) = (&f.name, f.number);
                        return Err(self.err(format!("duplicate field {name} = {number}")));
                    }
                    fields.push(f);
                }
            }
        }
        if self.index.messages.insert(full.clone(), fields).is_some() {
            return Err(self.err(format!("message {full} defined twice")));
        }
        Ok(())
    }

    fn field(&mut self, first: String) -> Result<ProtoField> {
        let repeated = first == "repeated";
        let labelled = matches!(first.as_str(), "optional" | "required" | "repeated");
        let mut type_name = if labelled { self.word()? } else { first };
        let mut map_key = None;
        if type_name == "map" {
            self.expect("<")?;
            map_key = Some(self.word()?);
            self.expect(",")?;
            type_name = self.word()?;
            self.expect(">")?;
        }
        let name = self.word()?;
        self.expect("=")?;
        let raw = self.word()?;
        let number = raw.parse().ok().filter(|n| (1..=536_870_911).contains(n));
        let number = number.ok_or_else(|| self.err(format!("bad field number `{raw}`")))?;
        if self.toks.get(self.pos).is_some_and(|t| t.0 == "[") {
            // Field options (`[default = 1]`, `[deprecated = true]`) do not affect numbering.
            while self.next()? != "]" {}
        }
        self.expect(";")?;
        let field = ProtoField {
            name,
            number,
            type_name,
            repeated,
            map_key,
        };
        Ok(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The upstream spec directory, found as `cargo xtask regenerate` finds it.
    fn upstream() -> PathBuf {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        crate::Options::for_workspace(&root).upstream_dir
    }

    fn parse(text: &str) -> Result<ProtoIndex> {
        let mut index = ProtoIndex::default();
        index.add_source("inline.proto", text)?;
        Ok(index)
    }

    #[test]
    fn real_protos() {
        let idx = ProtoIndex::load(&upstream().join("protos")).unwrap();
        assert_eq!(idx.message_count(), 1249);
        let schema = "apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps";
        let rule = "api.admissionregistration.v1.NamedRuleWithOperations";
        // (definition without `io.k8s.`, JSON property, expected field_path); the first hop of a
        // longer path is an embedded Go struct, for which field_number must say None.
        let cases: &[(&str, &str, &[u32])] = &[
            ("api.apps.v1.Deployment", "metadata", &[1]),
            ("api.apps.v1.Deployment", "spec", &[2]),
            ("api.apps.v1.Deployment", "status", &[3]),
            ("api.apps.v1.Deployment", "kind", &[]),
            ("api.apps.v1.Deployment", "apiVersion", &[]),
            ("api.core.v1.ObjectReference", "kind", &[1]),
            ("api.core.v1.PodSpec", "containers", &[2]),
            ("api.core.v1.PodSpec", "initContainers", &[20]),
            ("apimachinery.pkg.apis.meta.v1.ObjectMeta", "labels", &[11]),
            ("api.authentication.v1.BoundObjectReference", "uid", &[4]),
            (schema, "$schema", &[2]),
            (schema, "$ref", &[3]),
            (schema, "x-kubernetes-preserve-unknown-fields", &[38]),
            (
                "kube-aggregator.pkg.apis.apiregistration.v1.APIService",
                "spec",
                &[2],
            ),
            ("apimachinery.pkg.util.intstr.IntOrString", "strVal", &[3]),
            ("apimachinery.pkg.api.resource.Quantity", "string", &[1]),
            ("apimachinery.pkg.runtime.RawExtension", "raw", &[1]),
            ("api.core.v1.EphemeralContainer", "image", &[1, 2]),
            ("api.core.v1.Probe", "exec", &[1, 1]),
            ("api.core.v1.Volume", "configMap", &[2, 19]),
            (rule, "resourceNames", &[1]),
            (rule, "apiGroups", &[2, 2, 1]),
        ];
        for &(def, json, want) in cases {
            let def = format!("io.k8s.{def}");
            let want_number = (want.len() == 1).then(|| want[0]);
            assert_eq!(idx.field_number(&def, json), want_number, "{def}.{json}");
            let want_path = (!want.is_empty()).then(|| want.to_vec());
            assert_eq!(idx.field_path(&def, json), want_path, "{def}.{json}");
        }
        let labels = idx.field("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "labels");
        assert_eq!(labels.and_then(|f| f.map_key.as_deref()), Some("string"));
        for (name, fields) in &idx.messages {
            for (i, f) in fields.iter().enumerate() {
                let clash = fields[..i]
                    .iter()
                    .find(|g| normalise(&g.name) == normalise(&f.name));
                assert!(clash.is_none(), "{name}: {} clashes with {clash:?}", f.name);
            }
        }
    }

    /// Every swagger property of a definition with a proto message must resolve, except
    /// `apiVersion`/`kind` (TypeMeta, which the runtime.Unknown envelope carries instead).
    #[test]
    fn swagger_coverage() {
        let idx = ProtoIndex::load(&upstream().join("protos")).unwrap();
        let text = std::fs::read_to_string(upstream().join("openapi-v2/swagger.json")).unwrap();
        let swagger: serde_json::Value = serde_json::from_str(&text).unwrap();
        let (mut direct, mut nested, mut type_meta, mut no_message) = (0, 0, 0, Vec::new());
        for (def, schema) in swagger["definitions"].as_object().unwrap() {
            let Some(props) = schema["properties"].as_object() else {
                continue;
            };
            let Some(fields) = idx.messages.get(&message_name(def)) else {
                no_message.push(def.as_str());
                continue;
            };
            for prop in props.keys() {
                match idx.field_path(def, prop).as_deref() {
                    Some([_]) => direct += 1,
                    Some([hop, ..]) => {
                        // Going through a field that JSON shows by name would be a false match.
                        let via = &fields.iter().find(|f| f.number == *hop).unwrap().name;
                        assert!(
                            !props.keys().any(|p| normalise(p) == normalise(via)),
                            "{def}.{prop}"
                        );
                        nested += 1;
                    }
                    _ if prop == "kind" || prop == "apiVersion" => type_meta += 1,
                    _ => panic!("{def}.{prop} has no proto field"),
                }
            }
        }
        eprintln!(
            "direct {direct}, embedded {nested}, TypeMeta {type_meta}, no message {no_message:?}"
        );
        assert_eq!((direct, nested, type_meta), (2623, 117, 384));
        assert_eq!(no_message, ["io.k8s.apimachinery.pkg.version.Info"]);
    }

    #[test]
    fn parses_proto2_constructs() {
        let idx = parse(
            r#"syntax = "proto2";
            package a.b; // trailing } comment
            import "x/generated.proto";
            option go_package = "k8s.io/a/b";
            /* message Ghost { optional int32 x = 1; } */
            message Outer {
              option (custom) = { a: 1 };
              reserved 5, 7 to 9;
              reserved "old}";
              enum Kind { A = 0; B = 1; }
              message Entry { optional string key = 1; optional Outer value = 2; }
              repeated Entry entries = 1;
              map<string, .a.b.Outer> byName = 2 [deprecated = true];
              oneof choice { string s = 3; int64 i = 4; }
              optional int32 withDefault = 6 [default = -1];
              optional Inline inline = 10;
            }
            message Inline { optional string deep = 1; }"#,
        )
        .unwrap();
        assert_eq!(idx.message_count(), 3);
        assert_eq!(idx.field_number("a.b.Outer.Entry", "value"), Some(2));
        assert_eq!(
            idx.field("a.b.Outer", "byName")
                .and_then(|f| f.map_key.clone()),
            Some("string".into())
        );
        assert_eq!(
            [
                idx.field_number("a.b.Outer", "s"),
                idx.field_number("a.b.Outer", "i")
            ],
            [Some(3), Some(4)]
        );
        assert_eq!(idx.field_number("a.b.Outer", "withDefault"), Some(6));
        assert_eq!(idx.field_path("a.b.Outer", "deep"), Some(vec![10, 1]));
        assert!(
            idx.field("a.b.Outer", "entries")
                .is_some_and(|f| f.repeated)
        );
        assert_eq!(idx.field_number("a.b.Ghost", "x"), None);
    }

    #[test]
    fn exact_match_wins_over_normalised() {
        let idx = parse(
            "message M { optional int32 a_b = 1; optional int32 aB = 2; optional int32 x = 3; }",
        );
        let idx = idx.unwrap();
        assert_eq!(idx.field_number("M", "aB"), Some(2));
        assert_eq!(idx.field_number("M", "a-b"), None, "ambiguous");
        assert_eq!(idx.field_number("M", "X"), Some(3));
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            (
                "package p;\nmessage M {\n  optional int32 x 1;\n}",
                ":3: expected `=`",
            ),
            (
                "package p;\nmessage M {\n  optional int32 x = y;\n}",
                ":3: bad field number",
            ),
            ("package p;\n\n/* open\n", ":3: unterminated /* comment"),
            (
                "package p;\noption x = \"open;\n",
                ":2: unterminated string",
            ),
            (
                "package p;\nmessage M {\n  optional int32 x = 1;\n",
                ":3: unexpected end of file",
            ),
            (
                "message M { optional int32 x = 1;\n optional int32 y = 1; }",
                ":2: duplicate field y = 1",
            ),
            (
                "message M {}\n\nmessage M {}",
                ":3: message M defined twice",
            ),
            ("package p;\nfoo;", ":2: unexpected `foo`"),
        ];
        for (text, want) in cases {
            let got = parse(text).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(
                got.starts_with(&format!("inline.proto{want}")),
                "{text:?}: got {got:?}"
            );
        }
    }
}
