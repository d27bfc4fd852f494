//! Sets of field paths, and their `FieldsV1` JSON form: a trie whose keys
//! are encoded path elements, where `{}` or a `"."` key marks a path that
//! is itself in the set.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::path::{Path, PathElement};

/// A set of paths. A path's presence says nothing about its prefixes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSet {
    paths: BTreeSet<Path>,
}

impl FieldSet {
    /// The empty set.
    pub fn new() -> FieldSet {
        FieldSet::default()
    }

    /// Adds `path` (not its prefixes).
    pub fn insert(&mut self, path: Path) {
        self.paths.insert(path);
    }

    /// Whether `path` itself is in the set.
    pub fn contains(&self, path: &[PathElement]) -> bool {
        self.paths.contains(path)
    }

    /// Whether the set has no paths.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }

    /// The paths in order.
    pub fn iter(&self) -> impl Iterator<Item = &Path> {
        self.paths.iter()
    }

    /// Whether some path of the set is `prefix` or lies below it.
    pub fn has_at_or_below(&self, prefix: &[PathElement]) -> bool {
        self.paths
            .range::<[PathElement], _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))
            .next()
            .is_some_and(|p| p.starts_with(prefix))
    }

    /// Paths in either set.
    pub fn union(&self, other: &FieldSet) -> FieldSet {
        FieldSet {
            paths: self.paths.union(&other.paths).cloned().collect(),
        }
    }

    /// Paths in this set and not in `other`.
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        FieldSet {
            paths: self.paths.difference(&other.paths).cloned().collect(),
        }
    }

    /// Paths in both sets.
    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        FieldSet {
            paths: self.paths.intersection(&other.paths).cloned().collect(),
        }
    }

    /// Adds the paths of `other`, moving them rather than copying.
    pub fn extend(&mut self, other: FieldSet) {
        self.paths.extend(other.paths);
    }

    /// Removes the paths of `other`; the in-place [`FieldSet::difference`].
    pub fn remove_all(&mut self, other: &FieldSet) {
        if !other.is_empty() {
            self.paths.retain(|path| !other.contains(path));
        }
    }

    /// Keeps only the paths `keep` accepts.
    pub fn retain(&mut self, keep: impl FnMut(&Path) -> bool) {
        self.paths.retain(keep);
    }

    /// The `FieldsV1` JSON of the set. Every member's node gets a `"."`
    /// key as it is built; members without children then drop it again
    /// (`{}` says membership by itself). Element keys are encoded into one
    /// reused buffer, so that nodes shared by many paths cost no
    /// allocation.
    pub fn to_fields_v1(&self) -> Value {
        let mut root = Map::new();
        let mut key = String::new();
        for path in self.paths.iter().filter(|path| !path.is_empty()) {
            let mut node = &mut root;
            for element in path {
                key.clear();
                element.encode_into(&mut key);
                node = child_node(node, &key);
            }
            node.insert(MEMBER.to_owned(), Value::Object(Map::new()));
        }
        drop_lone_markers(&mut root);
        Value::Object(root)
    }

    /// Reads `FieldsV1` JSON; `None` when it is not a well-formed trie.
    pub fn from_fields_v1(value: &Value) -> Option<FieldSet> {
        let mut set = FieldSet::new();
        read_node(value.as_object()?, &mut Vec::new(), &mut set)?;
        Some(set)
    }
}

impl FromIterator<Path> for FieldSet {
    fn from_iter<I: IntoIterator<Item = Path>>(iter: I) -> FieldSet {
        FieldSet {
            paths: iter.into_iter().collect(),
        }
    }
}

/// The key marking a trie node whose own path is in the set. No encoded
/// element can be it: they all start with a two-letter prefix.
const MEMBER: &str = ".";

/// The child of `node` under `key`, created empty when missing.
fn child_node<'a>(node: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    if !node.contains_key(key) {
        node.insert(key.to_owned(), Value::Object(Map::new()));
    }
    node.get_mut(key)
        .and_then(Value::as_object_mut)
        .expect("every trie node is an object")
}

/// Turns `{".": {}}` (a member without children) into `{}`, everywhere
/// below `node`.
fn drop_lone_markers(node: &mut Map<String, Value>) {
    for child in node.values_mut().filter_map(Value::as_object_mut) {
        if child.len() == 1 && child.contains_key(MEMBER) {
            child.clear();
        } else {
            drop_lone_markers(child);
        }
    }
}

fn read_node(node: &Map<String, Value>, path: &mut Path, set: &mut FieldSet) -> Option<()> {
    for (key, child) in node {
        let child = child.as_object()?;
        if key == MEMBER {
            if !path.is_empty() {
                set.insert(path.clone());
            }
            continue;
        }
        path.push(PathElement::decode(key)?);
        if child.is_empty() {
            set.insert(path.clone());
        } else {
            read_node(child, path, set)?;
        }
        path.pop();
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(name: &str) -> PathElement {
        PathElement::Field(name.to_owned())
    }

    #[test]
    fn fields_v1_round_trips_with_dot_for_members_that_have_children() {
        let item = PathElement::Key([("name".to_owned(), json!("web"))].into());
        let set: FieldSet = [
            vec![field("metadata"), field("labels"), field("app")],
            vec![field("metadata"), field("labels")],
            vec![field("spec"), field("containers"), item.clone()],
            vec![
                field("spec"),
                field("containers"),
                item.clone(),
                field("image"),
            ],
            vec![field("spec"), field("replicas")],
        ]
        .into_iter()
        .collect();
        let encoded = set.to_fields_v1();
        assert_eq!(
            encoded,
            json!({
                "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
                "f:spec": {
                    "f:containers": {"k:{\"name\":\"web\"}": {".": {}, "f:image": {}}},
                    "f:replicas": {}
                }
            })
        );
        assert_eq!(FieldSet::from_fields_v1(&encoded), Some(set));
    }

    #[test]
    fn malformed_fields_v1_is_rejected() {
        for bad in [json!([]), json!({"f:a": 1}), json!({"zz": {}})] {
            assert_eq!(FieldSet::from_fields_v1(&bad), None, "{bad}");
        }
    }

    #[test]
    fn prefix_queries() {
        let set: FieldSet = [vec![field("spec"), field("replicas")]]
            .into_iter()
            .collect();
        assert!(set.has_at_or_below(&[field("spec")]));
        assert!(set.has_at_or_below(&[field("spec"), field("replicas")]));
        assert!(!set.has_at_or_below(&[field("status")]));
        assert!(!set.has_at_or_below(&[field("spec"), field("replicas"), field("x")]));
    }
}
