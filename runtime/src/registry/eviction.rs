//! `pods/<name>/eviction`: a delete that respects PodDisruptionBudgets, as
//! `kubectl drain` uses it. A pod that is not running yet, has finished or
//! is already being deleted goes at once; otherwise the one budget that
//! selects it must allow a disruption, which the eviction then spends.

use serde_json::{Value, json};

use super::Endpoint;
use super::object::meta_str;
use super::store::{DeleteOptions, ListOptions, Store, WriteOptions, WriteTarget};
use crate::selectors::LabelSelector;
use crate::status::ApiError;

/// The manager of the budget updates an eviction makes.
const BUDGET_MANAGER: &str = "kube-apiserver";

/// The endpoints an eviction touches.
#[derive(Clone, Copy)]
pub struct Eviction {
    pub pods: Endpoint,
    /// policy/v1 PodDisruptionBudgets, when served.
    pub budgets: Option<Endpoint>,
}

impl Eviction {
    /// Evicts the pod `name` as the Eviction `body` asks.
    pub async fn evict(
        &self,
        store: &Store,
        namespace: &str,
        name: &str,
        body: &Value,
        options: &DeleteOptions,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        if meta_str(body, "name") != name {
            return Err(ApiError::bad_request(
                "name in URL does not match name in Eviction object",
            ));
        }
        loop {
            let pod = store.get(self.pods, namespace, name).await?;
            if !needs_budget(&pod) {
                break;
            }
            let Some(budgets) = self.budgets else {
                break;
            };
            let mut matching = Vec::new();
            let listed = store
                .list(budgets, Some(namespace), &ListOptions::default())
                .await?;
            for budget in listed["items"].as_array().into_iter().flatten() {
                if selects(budget, &pod)? {
                    matching.push(budget.clone());
                }
            }
            let mut budget = match matching.len() {
                0 => break,
                1 => matching.remove(0),
                _ => {
                    return Err(ApiError::internal(
                        "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
                    ));
                }
            };
            spend_disruption(&mut budget, name)?;
            if dry_run {
                break;
            }
            budget["apiVersion"] = json!("policy/v1");
            budget["kind"] = json!("PodDisruptionBudget");
            let budget_name = meta_str(&budget, "name").to_owned();
            match store
                .update(
                    budgets,
                    namespace,
                    &budget_name,
                    budget,
                    WriteTarget::Status,
                    &WriteOptions::update(BUDGET_MANAGER, false),
                )
                .await
            {
                Ok(_) => break,
                // The budget changed meanwhile: decide again.
                Err(error) if error.reason == "Conflict" => continue,
                Err(error) => return Err(error),
            }
        }
        store
            .delete(self.pods, namespace, name, options, dry_run)
            .await?;
        Ok(crate::status::success(axum::http::StatusCode::CREATED))
    }
}

/// Upstream's `canIgnorePDB`: pending, finished and deleting pods are no
/// disruption.
fn needs_budget(pod: &Value) -> bool {
    let phase = pod.pointer("/status/phase").and_then(Value::as_str);
    let settled = matches!(phase, Some("Pending" | "Succeeded" | "Failed"));
    !settled && meta_str(pod, "deletionTimestamp").is_empty()
}

/// Whether a policy/v1 budget selects the pod: an empty selector selects
/// every pod of the namespace, an absent one none.
fn selects(budget: &Value, pod: &Value) -> Result<bool, ApiError> {
    let Some(selector) = budget.pointer("/spec/selector") else {
        return Ok(false);
    };
    let parsed = serde_json::from_value(selector.clone())
        .map_err(|e| ApiError::internal(format!("stored selector is malformed: {e}")))?;
    let selector =
        LabelSelector::from_api(&parsed).map_err(|e| ApiError::internal(e.message().to_owned()))?;
    Ok(selector.matches_object(pod))
}

/// Takes one allowed disruption from the budget for `pod`, or refuses as
/// upstream's `checkAndDecrement` does.
fn spend_disruption(budget: &mut Value, pod: &str) -> Result<(), ApiError> {
    let name = meta_str(budget, "name").to_owned();
    let number = |pointer: &str| budget.pointer(pointer).and_then(Value::as_i64).unwrap_or(0);
    let cause = |message: String| vec![json!({"reason": "DisruptionBudget", "message": message})];
    if number("/status/observedGeneration") < number("/metadata/generation") {
        return Err(ApiError::too_many_requests(
            "Cannot evict pod as it would violate the pod's disruption budget.",
            cause(format!(
                "The disruption budget {name} is still being processed by the server."
            )),
        ));
    }
    let allowed = number("/status/disruptionsAllowed");
    if allowed < 0 {
        return Err(ApiError::forbidden("pdb disruptions allowed is negative"));
    }
    if allowed == 0 {
        return Err(ApiError::too_many_requests(
            "Cannot evict pod as it would violate the pod's disruption budget.",
            cause(format!(
                "The disruption budget {name} needs {} healthy pods and has {} currently",
                number("/status/desiredHealthy"),
                number("/status/currentHealthy"),
            )),
        ));
    }
    budget["status"]["disruptionsAllowed"] = json!(allowed - 1);
    if !budget["status"]["disruptedPods"].is_object() {
        budget["status"]["disruptedPods"] = json!({});
    }
    budget["status"]["disruptedPods"][pod] =
        json!(generated::support::time::Time::now().to_string());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_pods_need_their_budget() {
        assert!(needs_budget(&json!({"status": {"phase": "Running"}})));
        assert!(!needs_budget(&json!({"status": {"phase": "Pending"}})));
        let deleting = json!({"metadata": {"deletionTimestamp": "2020-01-01T00:00:00Z"}, "status": {"phase": "Running"}});
        assert!(!needs_budget(&deleting));
    }

    #[test]
    fn budgets_select_by_labels() {
        let pod = json!({"metadata": {"labels": {"app": "web"}}});
        let web = json!({"spec": {"selector": {"matchLabels": {"app": "web"}}}});
        let all = json!({"spec": {"selector": {}}});
        let none = json!({"spec": {}});
        assert!(selects(&web, &pod).unwrap());
        assert!(selects(&all, &pod).unwrap());
        assert!(!selects(&none, &pod).unwrap());
    }

    #[test]
    fn disruptions_are_spent_or_refused() {
        let mut budget = json!({
            "metadata": {"name": "db", "generation": 1},
            "status": {"observedGeneration": 1, "disruptionsAllowed": 1, "desiredHealthy": 2, "currentHealthy": 2},
        });
        spend_disruption(&mut budget, "db-0").unwrap();
        assert_eq!(budget["status"]["disruptionsAllowed"], 0);
        assert!(budget["status"]["disruptedPods"]["db-0"].is_string());
        let refused = spend_disruption(&mut budget, "db-1").unwrap_err();
        assert_eq!(refused.code, 429);
        assert_eq!(
            refused.to_status()["details"]["causes"][0]["message"],
            "The disruption budget db needs 2 healthy pods and has 2 currently"
        );
        let mut unprocessed = json!({"metadata": {"name": "db", "generation": 2}, "status": {"observedGeneration": 1}});
        let refused = spend_disruption(&mut unprocessed, "db-0").unwrap_err();
        assert!(
            refused.to_status()["details"]["causes"][0]["message"]
                .as_str()
                .unwrap()
                .contains("still being processed")
        );
    }
}
