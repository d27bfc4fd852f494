//! Pods: upstream's `printPod`, the most involved printer. READY counts
//! ready containers (sidecars included), STATUS condenses phase, init
//! progress and container states into one word, RESTARTS adds when the
//! last restart was.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::age::timestamp;
use super::value::{array_at, bool_at, get_path, int_at, opt_bool, str_at};
use super::{Cells, Context, Printer};

pub(super) const PRINTERS: &[Printer] = &[Printer {
    group: "",
    plural: "pods",
    print: pod,
}];

/// What a pod's containers add up to while its status is worked out.
#[derive(Default)]
struct Tally {
    restarts: i64,
    /// The latest `lastState.terminated.finishedAt`; `None` is Go's zero time.
    last_restart: Option<DateTime<Utc>>,
    ready: usize,
}

impl Tally {
    fn restarted(&mut self, status: &Value) {
        self.restarts += int_at(status, &["restartCount"]);
        let finished = timestamp(get_path(status, &["lastState", "terminated", "finishedAt"]));
        self.last_restart = self.last_restart.max(finished);
    }
}

fn pod(pod: &Value, context: &Context) -> Cells {
    let init_specs = array_at(pod, &["spec", "initContainers"]);
    let is_sidecar = |name: &str| {
        // Upstream keys the init containers by name in a map: the last of
        // duplicate names wins.
        init_specs
            .iter()
            .rev()
            .find(|c| str_at(c, &["name"]) == name)
            .is_some_and(|c| str_at(c, &["restartPolicy"]) == "Always")
    };
    let sidecars = init_specs
        .iter()
        .filter(|c| str_at(c, &["restartPolicy"]) == "Always")
        .count();
    let total = array_at(pod, &["spec", "containers"]).len() + sidecars;

    let phase = str_at(pod, &["status", "phase"]);
    let conditions = array_at(pod, &["status", "conditions"]);
    let mut reason = match str_at(pod, &["status", "reason"]) {
        "" => phase.to_owned(),
        reason => reason.to_owned(),
    };
    if conditions.iter().any(|c| {
        str_at(c, &["type"]) == "PodScheduled" && str_at(c, &["reason"]) == "SchedulingGated"
    }) {
        reason = "SchedulingGated".to_owned();
    }

    // Init containers: all of them count towards RESTARTS while the pod
    // initializes; afterwards only the sidecars, which keep running.
    let mut all = Tally::default();
    let mut sidecar = Tally::default();
    let mut initializing = false;
    let init_statuses = array_at(pod, &["status", "initContainerStatuses"]);
    for (i, status) in init_statuses.iter().enumerate() {
        all.restarted(status);
        let restartable = is_sidecar(str_at(status, &["name"]));
        if restartable {
            sidecar.restarted(status);
        }
        let terminated = get_path(status, &["state", "terminated"]);
        let waiting_reason = str_at(status, &["state", "waiting", "reason"]);
        if terminated.is_some_and(|t| int_at(t, &["exitCode"]) == 0) {
            continue;
        }
        if restartable && opt_bool(status, &["started"]) == Some(true) {
            if bool_at(status, &["ready"]) {
                all.ready += 1;
            }
            continue;
        }
        reason = if let Some(terminated) = terminated {
            format!("Init:{}", termination_reason(terminated))
        } else if !waiting_reason.is_empty() && waiting_reason != "PodInitializing" {
            format!("Init:{waiting_reason}")
        } else {
            format!("Init:{i}/{}", init_specs.len())
        };
        initializing = true;
        break;
    }

    let mut tally = all;
    if !initializing || condition_is_true(conditions, "Initialized") {
        tally = Tally {
            ready: tally.ready,
            ..sidecar
        };
        let mut has_running = false;
        for status in array_at(pod, &["status", "containerStatuses"]).iter().rev() {
            tally.restarted(status);
            let waiting_reason = str_at(status, &["state", "waiting", "reason"]);
            let terminated = get_path(status, &["state", "terminated"]);
            if !waiting_reason.is_empty() {
                reason = waiting_reason.to_owned();
            } else if let Some(terminated) = terminated {
                reason = termination_reason(terminated);
            } else if bool_at(status, &["ready"])
                && get_path(status, &["state", "running"]).is_some()
            {
                has_running = true;
                tally.ready += 1;
            }
        }
        // A "Completed" pod with a container still running completed only
        // in part.
        if reason == "Completed" && has_running {
            reason = if condition_is_true(conditions, "Ready") {
                "Running".to_owned()
            } else {
                "NotReady".to_owned()
            };
        }
    }

    if get_path(pod, &["metadata", "deletionTimestamp"]).is_some() {
        if str_at(pod, &["status", "reason"]) == "NodeLost" {
            reason = "Unknown".to_owned();
        } else if phase != "Succeeded" && phase != "Failed" {
            reason = "Terminating".to_owned();
        }
    }

    let restarts = match tally.last_restart {
        Some(last) if tally.restarts != 0 => {
            format!("{} ({} ago)", tally.restarts, context.ago(last))
        }
        _ => tally.restarts.to_string(),
    };

    let cells = Cells::new()
        .cell("Ready", format!("{}/{total}", tally.ready))
        .cell("Status", reason)
        .cell("Restarts", restarts)
        .cell("IP", or_none(pod_ip(pod)))
        .cell("Node", or_none(str_at(pod, &["spec", "nodeName"])))
        .cell(
            "Nominated Node",
            or_none(str_at(pod, &["status", "nominatedNodeName"])),
        )
        .cell("Readiness Gates", readiness_gates(pod, conditions));
    match phase {
        "Succeeded" => cells.condition(completed(
            "Succeeded",
            "The pod has completed successfully.",
        )),
        "Failed" => cells.condition(completed("Failed", "The pod failed.")),
        _ => cells,
    }
}

/// The reason a terminated container gives, or its signal or exit code.
fn termination_reason(terminated: &Value) -> String {
    match str_at(terminated, &["reason"]) {
        "" => match int_at(terminated, &["signal"]) {
            0 => format!("ExitCode:{}", int_at(terminated, &["exitCode"])),
            signal => format!("Signal:{signal}"),
        },
        reason => reason.to_owned(),
    }
}

/// Whether the first condition of type `ty` is "True".
fn condition_is_true(conditions: &[Value], ty: &str) -> bool {
    conditions
        .iter()
        .find(|c| str_at(c, &["type"]) == ty)
        .is_some_and(|c| str_at(c, &["status"]) == "True")
}

/// The pod's first IP. Upstream reads `podIPs` of the internal version,
/// where `podIP` wins when the two disagree.
fn pod_ip(pod: &Value) -> &str {
    match str_at(pod, &["status", "podIP"]) {
        "" => array_at(pod, &["status", "podIPs"])
            .first()
            .map(|ip| str_at(ip, &["ip"]))
            .unwrap_or_default(),
        ip => ip,
    }
}

/// "t/n": how many of the `n` readiness gates have a "True" condition.
fn readiness_gates(pod: &Value, conditions: &[Value]) -> String {
    let gates = array_at(pod, &["spec", "readinessGates"]);
    if gates.is_empty() {
        return "<none>".to_owned();
    }
    let passed = gates
        .iter()
        .filter(|gate| condition_is_true(conditions, str_at(gate, &["conditionType"])))
        .count();
    format!("{passed}/{}", gates.len())
}

fn or_none(s: &str) -> String {
    if s.is_empty() { "<none>" } else { s }.to_owned()
}

/// The `Completed` row condition upstream gives pods that have finished.
fn completed(reason: &str, message: &str) -> Value {
    json!({"type": "Completed", "status": "True", "reason": reason, "message": message})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printers::tests::row_of;

    fn print(pod: Value) -> Value {
        row_of("", "pods", pod)
    }

    fn cells(pod: Value) -> Vec<Value> {
        print(pod)["cells"].as_array().cloned().unwrap_or_default()
    }

    fn base(spec: Value, status: Value) -> Value {
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web", "namespace": "default", "creationTimestamp": "2024-05-01T11:00:00Z"},
            "spec": spec, "status": status,
        })
    }

    fn running(name: &str, ready: bool, restarts: i64) -> Value {
        json!({"name": name, "ready": ready, "restartCount": restarts,
               "state": {"running": {"startedAt": "2024-05-01T11:00:05Z"}}})
    }

    #[test]
    fn pending_pod() {
        let row = cells(base(
            json!({"containers": [{"name": "app"}]}),
            json!({"phase": "Pending"}),
        ));
        assert_eq!(
            row,
            vec![
                json!("web"),
                json!("0/1"),
                json!("Pending"),
                json!("0"),
                json!("60m"),
                json!("<none>"),
                json!("<none>"),
                json!("<none>"),
                json!("<none>"),
            ]
        );
    }

    #[test]
    fn container_creating() {
        let status = json!({"phase": "Pending", "containerStatuses": [
            {"name": "app", "ready": false, "restartCount": 0,
             "state": {"waiting": {"reason": "ContainerCreating"}}}]});
        let row = cells(base(
            json!({"containers": [{"name": "app"}], "nodeName": "n1"}),
            status,
        ));
        assert_eq!(
            row[1..4],
            [json!("0/1"), json!("ContainerCreating"), json!("0")]
        );
        assert_eq!(row[6], json!("n1"));
    }

    #[test]
    fn running_two_of_two_with_ips_and_gates() {
        let spec = json!({"containers": [{"name": "a"}, {"name": "b"}], "nodeName": "n1",
                          "readinessGates": [{"conditionType": "example.com/lb"}, {"conditionType": "x"}]});
        let status = json!({"phase": "Running", "podIPs": [{"ip": "10.1.0.7"}, {"ip": "fd00::7"}],
            "nominatedNodeName": "n2",
            "conditions": [{"type": "Ready", "status": "True"}, {"type": "example.com/lb", "status": "True"}],
            "containerStatuses": [running("a", true, 0), running("b", true, 0)]});
        let row = cells(base(spec, status));
        assert_eq!(
            row,
            vec![
                json!("web"),
                json!("2/2"),
                json!("Running"),
                json!("0"),
                json!("60m"),
                json!("10.1.0.7"),
                json!("n1"),
                json!("n2"),
                json!("1/2"),
            ]
        );
    }

    #[test]
    fn crash_loop_back_off_with_restarts() {
        let status = json!({"phase": "Running", "podIP": "10.1.0.8", "containerStatuses": [{
            "name": "app", "ready": false, "restartCount": 3,
            "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2024-05-01T11:55:00Z"}}}]});
        let row = cells(base(json!({"containers": [{"name": "app"}]}), status));
        assert_eq!(
            row[1..5],
            [
                json!("0/1"),
                json!("CrashLoopBackOff"),
                json!("3 (5m ago)"),
                json!("60m")
            ]
        );
        assert_eq!(row[5], json!("10.1.0.8"));
    }

    #[test]
    fn completed_pod_has_a_row_condition() {
        let status = json!({"phase": "Succeeded", "containerStatuses": [{
            "name": "app", "ready": false, "restartCount": 0,
            "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]});
        let pod = base(json!({"containers": [{"name": "app"}]}), status);
        assert_eq!(cells(pod.clone())[1..3], [json!("0/1"), json!("Completed")]);
        assert_eq!(
            print(pod)["conditions"],
            json!([{"type": "Completed", "status": "True", "reason": "Succeeded",
                    "message": "The pod has completed successfully."}])
        );
    }

    #[test]
    fn failed_container_without_reason_shows_its_exit_code() {
        let status = json!({"phase": "Failed", "containerStatuses": [
            {"name": "a", "state": {"terminated": {"exitCode": 137, "signal": 9}}},
            {"name": "b", "state": {"terminated": {"exitCode": 2}}}]});
        let row = print(base(
            json!({"containers": [{"name": "a"}, {"name": "b"}]}),
            status,
        ));
        // Statuses are read last to first, so the first container speaks last.
        assert_eq!(row["cells"][2], json!("Signal:9"));
        assert_eq!(row["conditions"][0]["reason"], json!("Failed"));
    }

    #[test]
    fn completed_with_a_running_container_is_running_or_not_ready() {
        let statuses = json!([running("a", true, 0),
            {"name": "b", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]);
        let spec = json!({"containers": [{"name": "a"}, {"name": "b"}]});
        let ready = json!({"phase": "Running", "containerStatuses": statuses,
                           "conditions": [{"type": "Ready", "status": "True"}]});
        assert_eq!(cells(base(spec.clone(), ready))[2], json!("Running"));
        let not_ready = json!({"phase": "Running", "containerStatuses": statuses});
        assert_eq!(cells(base(spec, not_ready))[2], json!("NotReady"));
    }

    #[test]
    fn terminating_pod() {
        let mut pod = base(
            json!({"containers": [{"name": "app"}]}),
            json!({"phase": "Running", "containerStatuses": [running("app", true, 0)]}),
        );
        pod["metadata"]["deletionTimestamp"] = json!("2024-05-01T11:59:00Z");
        assert_eq!(cells(pod.clone())[2], json!("Terminating"));
        pod["status"]["reason"] = json!("NodeLost");
        assert_eq!(cells(pod.clone())[2], json!("Unknown"));
        pod["status"] = json!({"phase": "Succeeded"});
        assert_eq!(cells(pod)[2], json!("Succeeded"));
    }

    #[test]
    fn init_containers() {
        let spec = json!({"initContainers": [{"name": "setup"}], "containers": [{"name": "app"}]});
        let waiting = json!({"phase": "Pending",
            "initContainerStatuses": [{"name": "setup", "restartCount": 0,
                "state": {"waiting": {"reason": "PodInitializing"}}}],
            "containerStatuses": [{"name": "app", "state": {"waiting": {"reason": "PodInitializing"}}}]});
        assert_eq!(
            cells(base(spec.clone(), waiting))[1..4],
            [json!("0/1"), json!("Init:0/1"), json!("0")]
        );

        let pulling = json!({"phase": "Pending", "initContainerStatuses": [{"name": "setup",
            "state": {"waiting": {"reason": "ErrImagePull"}}}]});
        assert_eq!(
            cells(base(spec.clone(), pulling))[2],
            json!("Init:ErrImagePull")
        );

        let crashed = json!({"phase": "Pending", "initContainerStatuses": [{"name": "setup",
            "restartCount": 2, "state": {"terminated": {"exitCode": 1, "reason": "Error"}},
            "lastState": {"terminated": {"finishedAt": "2024-05-01T11:59:00Z"}}}]});
        assert_eq!(
            cells(base(spec.clone(), crashed))[2..4],
            [json!("Init:Error"), json!("2 (60s ago)")]
        );

        let done = json!({"phase": "Running",
            "initContainerStatuses": [{"name": "setup", "restartCount": 1,
                "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}],
            "containerStatuses": [running("app", true, 0)]});
        // Restarts of finished init containers no longer count.
        assert_eq!(
            cells(base(spec, done))[1..4],
            [json!("1/1"), json!("Running"), json!("0")]
        );
    }

    #[test]
    fn sidecars_count_as_containers() {
        let spec = json!({"initContainers": [{"name": "proxy", "restartPolicy": "Always"}],
                          "containers": [{"name": "app"}]});
        let status = json!({"phase": "Running",
            "initContainerStatuses": [{"name": "proxy", "started": true, "ready": true, "restartCount": 4,
                "state": {"running": {}},
                "lastState": {"terminated": {"finishedAt": "2024-05-01T11:30:00Z"}}}],
            "containerStatuses": [running("app", true, 1)]});
        assert_eq!(
            cells(base(spec, status))[1..4],
            [json!("2/2"), json!("Running"), json!("5 (30m ago)")]
        );
    }

    #[test]
    fn scheduling_gated() {
        let status = json!({"phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]});
        assert_eq!(
            cells(base(json!({"containers": []}), status))[1..3],
            [json!("0/0"), json!("SchedulingGated")]
        );
    }

    #[test]
    fn restarts_without_a_known_time_are_a_bare_count() {
        let status = json!({"phase": "Running", "containerStatuses": [running("app", true, 2)]});
        assert_eq!(
            cells(base(json!({"containers": [{"name": "app"}]}), status))[3],
            json!("2")
        );
    }
}
