//! Printers of the `batch` group: jobs and cron jobs.

use serde_json::Value;

use super::age::{human_duration, timestamp};
use super::format::{bool_ptr, container_cells, format_label_selector};
use super::value::{array_at, get_path, int_at, len_at, opt_bool, opt_int, opt_str, str_at};
use super::{Cells, Context, Printer};

pub(super) const PRINTERS: &[Printer] = &[
    Printer {
        group: "batch",
        plural: "jobs",
        print: job,
    },
    Printer {
        group: "batch",
        plural: "cronjobs",
        print: cron_job,
    },
];

/// The Containers, Images and Selector cells of a job spec at `spec`.
fn job_spec_cells(spec: Option<&Value>, cells: Cells) -> Cells {
    let spec = spec.unwrap_or(&Value::Null);
    let (names, images) = container_cells(array_at(spec, &["template", "spec", "containers"]));
    cells.cell("Containers", names).cell("Images", images).cell(
        "Selector",
        format_label_selector(get_path(spec, &["selector"])),
    )
}

fn job(object: &Value, context: &Context) -> Cells {
    let succeeded = int_at(object, &["status", "succeeded"]);
    let completions = match opt_int(object, &["spec", "completions"]) {
        Some(completions) => format!("{succeeded}/{completions}"),
        None => match int_at(object, &["spec", "parallelism"]) {
            parallelism if parallelism > 1 => format!("{succeeded}/1 of {parallelism}"),
            _ => format!("{succeeded}/1"),
        },
    };
    let start = timestamp(get_path(object, &["status", "startTime"]));
    let end = timestamp(get_path(object, &["status", "completionTime"]));
    let duration = match (start, end) {
        (None, _) => String::new(),
        (Some(start), None) => context.ago(start),
        (Some(start), Some(end)) => human_duration(end.signed_duration_since(start)),
    };
    let cells = Cells::new()
        .cell("Status", job_status(object))
        .cell("Completions", completions)
        .cell("Duration", duration);
    job_spec_cells(get_path(object, &["spec"]), cells)
}

/// The job's state, by precedence: finished, being deleted, paused, then
/// the conditions a finishing job passes through.
fn job_status(object: &Value) -> &'static str {
    let conditions = array_at(object, &["status", "conditions"]);
    // Upstream looks at the first condition of each type only.
    let has = |ty: &str| {
        conditions
            .iter()
            .find(|c| str_at(c, &["type"]) == ty)
            .is_some_and(|c| str_at(c, &["status"]) == "True")
    };
    if has("Complete") {
        "Complete"
    } else if has("Failed") {
        "Failed"
    } else if get_path(object, &["metadata", "deletionTimestamp"]).is_some() {
        "Terminating"
    } else if has("Suspended") {
        "Suspended"
    } else if has("FailureTarget") {
        "FailureTarget"
    } else if has("SuccessCriteriaMet") {
        // Added upstream in v1.34 (kubernetes#132832).
        "SuccessCriteriaMet"
    } else {
        "Running"
    }
}

fn cron_job(object: &Value, context: &Context) -> Cells {
    let last_schedule = match get_path(object, &["status", "lastScheduleTime"]) {
        Some(time) => context.age(Some(time)),
        None => "<none>".to_owned(),
    };
    let cells = Cells::new()
        .cell(
            "Timezone",
            opt_str(object, &["spec", "timeZone"]).unwrap_or("<none>"),
        )
        .cell("Suspend", bool_ptr(opt_bool(object, &["spec", "suspend"])))
        .cell("Active", len_at(object, &["status", "active"]))
        .cell("Last Schedule", last_schedule);
    job_spec_cells(get_path(object, &["spec", "jobTemplate", "spec"]), cells)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::printers::tests::{cell, cells_of};

    fn spec() -> serde_json::Value {
        json!({"selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u1"}},
               "template": {"spec": {"containers": [{"name": "pi", "image": "perl:5.34"}]}}})
    }

    #[test]
    fn completed_job() {
        let mut job = json!({"metadata": {"name": "pi", "creationTimestamp": "2024-05-01T11:00:00Z"},
            "spec": spec(),
            "status": {"succeeded": 1, "startTime": "2024-05-01T11:00:01Z", "completionTime": "2024-05-01T11:01:15Z",
                       "conditions": [{"type": "SuccessCriteriaMet", "status": "True"},
                                      {"type": "Complete", "status": "True"}]}});
        job["spec"]["completions"] = json!(1);
        assert_eq!(
            cells_of("batch", "jobs", job),
            vec![
                json!("pi"),
                json!("Complete"),
                json!("1/1"),
                json!("74s"),
                json!("60m"),
                json!("pi"),
                json!("perl:5.34"),
                json!("batch.kubernetes.io/controller-uid=u1"),
            ]
        );
    }

    #[test]
    fn running_failed_and_suspended_jobs() {
        let mut running = json!({"metadata": {"name": "work"}, "spec": spec(),
            "status": {"succeeded": 2, "startTime": "2024-05-01T11:57:00Z"}});
        running["spec"]["parallelism"] = json!(3);
        let row = cells_of("batch", "jobs", running.clone());
        assert_eq!(
            row[1..4],
            [json!("Running"), json!("2/1 of 3"), json!("3m")]
        );

        running["status"]["conditions"] = json!([{"type": "Suspended", "status": "True"}]);
        assert_eq!(
            cell("batch", "jobs", running.clone(), "Status"),
            json!("Suspended")
        );
        running["metadata"]["deletionTimestamp"] = json!("2024-05-01T11:59:00Z");
        assert_eq!(
            cell("batch", "jobs", running.clone(), "Status"),
            json!("Terminating")
        );
        running["status"]["conditions"] = json!([{"type": "Failed", "status": "True"}]);
        assert_eq!(cell("batch", "jobs", running, "Status"), json!("Failed"));

        let unstarted = json!({"metadata": {"name": "later"}, "spec": {"template": {}}});
        let row = cells_of("batch", "jobs", unstarted);
        assert_eq!(row[1..4], [json!("Running"), json!("0/1"), json!("")]);
        assert_eq!(row[7], json!("<none>"));
    }

    #[test]
    fn cron_jobs() {
        let cron = json!({"metadata": {"name": "nightly", "creationTimestamp": "2024-04-01T12:00:00Z"},
            "spec": {"schedule": "0 3 * * *", "timeZone": "Etc/UTC", "suspend": false,
                     "jobTemplate": {"spec": spec()}},
            "status": {"active": [{"name": "nightly-1"}], "lastScheduleTime": "2024-05-01T03:00:00Z"}});
        assert_eq!(
            cells_of("batch", "cronjobs", cron),
            vec![
                json!("nightly"),
                json!("0 3 * * *"),
                json!("Etc/UTC"),
                json!("False"),
                json!(1),
                json!("9h"),
                json!("30d"),
                json!("pi"),
                json!("perl:5.34"),
                json!("batch.kubernetes.io/controller-uid=u1"),
            ]
        );
        let bare = json!({"metadata": {"name": "b"}, "spec": {"schedule": "@hourly"}});
        let row = cells_of("batch", "cronjobs", bare);
        assert_eq!(
            row[2..6],
            [json!("<none>"), json!("<unset>"), json!(0), json!("<none>")]
        );
    }
}
