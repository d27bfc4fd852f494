//! EndpointSlices (`discovery.k8s.io`).

use serde_json::Value;

use super::format::list_with_more;
use super::value::{array_at, opt_int, opt_str};
use super::{Cells, Context, Printer};

pub(super) const PRINTERS: &[Printer] = &[Printer {
    group: "discovery.k8s.io",
    plural: "endpointslices",
    print: endpoint_slice,
}];

/// The first three ports (number, else name, else "*") and addresses.
fn endpoint_slice(object: &Value, _: &Context) -> Cells {
    const MAX: usize = 3;
    let ports: Vec<String> = array_at(object, &["ports"])
        .iter()
        .map(
            |port| match (opt_int(port, &["port"]), opt_str(port, &["name"])) {
                (Some(number), _) => number.to_string(),
                (None, Some(name)) => name.to_owned(),
                (None, None) => "*".to_owned(),
            },
        )
        .collect();
    let addresses: Vec<String> = array_at(object, &["endpoints"])
        .iter()
        .flat_map(|endpoint| array_at(endpoint, &["addresses"]))
        .map(|address| address.as_str().unwrap_or_default().to_owned())
        .collect();
    Cells::new()
        .cell("Ports", list_with_more(&ports, ports.len(), MAX))
        .cell(
            "Endpoints",
            list_with_more(&addresses, addresses.len(), MAX),
        )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::printers::tests::cells_of;

    #[test]
    fn endpoint_slices() {
        let slice = json!({"metadata": {"name": "web-abc"}, "addressType": "IPv4",
            "ports": [{"name": "http", "port": 80}, {"name": "metrics"}, {}, {"port": 9090}],
            "endpoints": [{"addresses": ["10.0.0.1", "10.0.0.2"]}, {"addresses": ["10.0.0.3"]}]});
        assert_eq!(
            cells_of("discovery.k8s.io", "endpointslices", slice),
            vec![
                json!("web-abc"),
                json!("IPv4"),
                json!("80,metrics,* + 1 more..."),
                json!("10.0.0.1,10.0.0.2,10.0.0.3"),
                json!("<unknown>")
            ]
        );
        let empty = json!({"metadata": {"name": "e"}, "addressType": "IPv6"});
        assert_eq!(
            cells_of("discovery.k8s.io", "endpointslices", empty)[2..4],
            [json!("<unset>"), json!("<unset>")]
        );
    }
}
