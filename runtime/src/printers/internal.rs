//! StorageVersions (`internal.apiserver.k8s.io`).

use serde_json::Value;

use super::format::list_with_more;
use super::value::{array_at, opt_str, str_at};
use super::{Cells, Context, Printer};

pub(super) const PRINTERS: &[Printer] = &[Printer {
    group: "internal.apiserver.k8s.io",
    plural: "storageversions",
    print: storage_version,
}];

/// The version every server agrees on, and the first three servers'
/// `apiServerID=encodingVersion`.
fn storage_version(object: &Value, _: &Context) -> Cells {
    const MAX: usize = 3;
    let versions: Vec<String> = array_at(object, &["status", "storageVersions"])
        .iter()
        .map(|v| {
            format!(
                "{}={}",
                str_at(v, &["apiServerID"]),
                str_at(v, &["encodingVersion"])
            )
        })
        .collect();
    Cells::new()
        .cell(
            "CommonEncodingVersion",
            opt_str(object, &["status", "commonEncodingVersion"]).unwrap_or("<unset>"),
        )
        .cell(
            "StorageVersions",
            list_with_more(&versions, versions.len(), MAX),
        )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::printers::tests::cells_of;

    #[test]
    fn storage_versions() {
        let version = json!({"metadata": {"name": "apps.deployments"}, "status": {"commonEncodingVersion": "apps/v1",
            "storageVersions": [{"apiServerID": "a", "encodingVersion": "apps/v1"}, {"apiServerID": "b", "encodingVersion": "apps/v1"}]}});
        assert_eq!(
            cells_of("internal.apiserver.k8s.io", "storageversions", version),
            vec![
                json!("apps.deployments"),
                json!("apps/v1"),
                json!("a=apps/v1,b=apps/v1"),
                json!("<unknown>")
            ]
        );
        let empty = json!({"metadata": {"name": "x"}});
        assert_eq!(
            cells_of("internal.apiserver.k8s.io", "storageversions", empty)[1..3],
            [json!("<unset>"), json!("<unset>")]
        );
    }
}
