//! The generic store: create, get, list, update, patch, delete and watch
//! for every resource, on JSON objects, over the [`Storage`] interface.
//! Objects are kept in their resource's storage version and converted to
//! the version a request names; `metadata.resourceVersion` is the storage
//! revision. Per-kind differences come from [`super::strategy`].

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use generated::SCHEMAS;
use generated::support::field_error::{FieldError, FieldPath};
use generated::support::meta::{GroupVersionKind, ResourceDescriptor};
use generated::support::time::Time;
use generated::support::validation::{apply_defaults, validate};
use serde_json::{Value, json};

use super::Endpoint;
use super::hooks::{Reservation, WriteHook};
use super::keys;
use super::metadata;
use super::object::{api_version, meta_str, set_meta, validate_name};
use super::stored_json;
use super::strategy;
use crate::cache::object::Form;
use crate::cache::{Caches, Settings as CacheSettings};
use crate::conversion;
use crate::fieldmanager::{self, Ownership};
use crate::status::ApiError;
use crate::storage::{KeyValue, RangeRequest, Revision, Storage, StorageError};

/// Which objects a list or watch keeps (label and field selectors).
pub type Filter = Arc<dyn Fn(&Value) -> bool + Send + Sync>;

/// Options of a list request.
#[derive(Clone, Default)]
pub struct ListOptions {
    pub limit: Option<usize>,
    pub continue_token: Option<String>,
    pub filter: Option<Filter>,
    /// Read as of this revision (`resourceVersionMatch=Exact`) instead of
    /// the latest.
    pub revision: Option<Revision>,
}

/// Preconditions of a delete (`DeleteOptions.preconditions`).
#[derive(Clone, Debug, Default)]
pub struct Preconditions {
    pub uid: Option<String>,
    pub resource_version: Option<String>,
}

/// How a write is carried out.
#[derive(Clone, Debug)]
pub struct WriteOptions {
    /// `dryRun=All`: nothing is stored; the answer shows what would be.
    pub dry_run: bool,
    /// Who writes, for `metadata.managedFields`.
    pub ownership: Ownership,
}

impl WriteOptions {
    /// A write by `manager` (operation `Update`).
    pub fn update(manager: impl Into<String>, dry_run: bool) -> WriteOptions {
        WriteOptions {
            dry_run,
            ownership: Ownership::Update(manager.into()),
        }
    }
}

/// The parts of `DeleteOptions` the store acts on.
#[derive(Clone, Debug, Default)]
pub struct DeleteOptions {
    pub preconditions: Preconditions,
    /// `gracePeriodSeconds`: how long a graceful delete waits; `None` for
    /// the kind's default.
    pub grace_period_seconds: Option<i64>,
}

/// The generic store over one storage backend.
#[derive(Clone)]
pub struct Store {
    storage: Arc<dyn Storage>,
    hooks: Vec<(&'static str, &'static str, Arc<dyn WriteHook>)>,
    caches: Caches,
}

/// A subresource a write goes through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteTarget {
    /// The resource itself: status is kept as stored, if the kind has a
    /// status subresource.
    Main,
    /// `/status`: only status changes.
    Status,
    /// Another subresource (`/binding`, `/scale`) that has built the whole
    /// new object itself: written as given, without the kind's update
    /// preparation and update rules, which guard the main resource.
    Subresource(&'static str),
}

impl WriteTarget {
    /// The subresource name managedFields entries record.
    pub fn subresource(self) -> &'static str {
        match self {
            WriteTarget::Main => "",
            WriteTarget::Status => "status",
            WriteTarget::Subresource(name) => name,
        }
    }
}

impl Store {
    /// A store over `storage`.
    pub fn new(storage: Arc<dyn Storage>) -> Store {
        Store::with_cache_settings(storage, CacheSettings::default())
    }

    /// A store over `storage` whose watch cache has these sizes.
    pub fn with_cache_settings(storage: Arc<dyn Storage>, settings: CacheSettings) -> Store {
        let caches = Caches::new(storage.clone(), settings);
        Store {
            storage,
            hooks: Vec::new(),
            caches,
        }
    }

    /// The watch cache over the same storage, for watches and lists.
    pub fn caches(&self) -> &Caches {
        &self.caches
    }
    /// This store with `hook` run around writes of the resource `plural`
    /// in `group`.
    pub fn with_hook(
        mut self,
        group: &'static str,
        plural: &'static str,
        hook: Arc<dyn WriteHook>,
    ) -> Store {
        self.hooks.push((group, plural, hook));
        self
    }

    fn hook(&self, resource: &ResourceDescriptor) -> Option<&dyn WriteHook> {
        self.hooks
            .iter()
            .find(|(group, plural, _)| *group == resource.group && *plural == resource.plural)
            .map(|(_, _, hook)| hook.as_ref())
    }

    /// Reserves what the resource's hook needs for `object` (nothing
    /// without a hook).
    async fn reserve(
        &self,
        resource: &ResourceDescriptor,
        object: &mut Value,
        old: Option<&Value>,
        dry_run: bool,
    ) -> Result<Reservation, ApiError> {
        match self.hook(resource) {
            Some(hook) => hook.reserve(object, old, dry_run).await,
            None => Ok(Reservation::default()),
        }
    }

    /// Settles a reservation once its write has succeeded or failed.
    async fn settle<T>(
        &self,
        resource: &ResourceDescriptor,
        reservation: Reservation,
        result: Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        if let Some(hook) = self.hook(resource)
            && reservation != Reservation::default()
        {
            hook.settle(reservation, result.is_ok()).await;
        }
        result
    }

    /// The backend, for health checks and watches.
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    /// `GET` one object.
    pub async fn get(
        &self,
        endpoint: Endpoint,
        namespace: &str,
        name: &str,
    ) -> Result<Value, ApiError> {
        let kv = self.read(endpoint, namespace, name).await?;
        decode(endpoint, &kv.value, kv.mod_revision)
    }

    /// `GET` one object as the JSON [`Store::get`]'s value encodes to.
    /// An object stored in the served version is answered from its stored
    /// bytes without decoding it.
    pub async fn get_json(
        &self,
        endpoint: Endpoint,
        namespace: &str,
        name: &str,
    ) -> Result<Vec<u8>, ApiError> {
        let kv = self.read(endpoint, namespace, name).await?;
        let served = endpoint.served;
        let spliced = stored_json::with_resource_version(
            &kv.value,
            &api_version(served.group, served.version),
            served.kind,
            &kv.mod_revision.to_string(),
        );
        match spliced {
            Some(bytes) => Ok(bytes),
            None => {
                let object = decode(endpoint, &kv.value, kv.mod_revision)?;
                serde_json::to_vec(&object).map_err(|e| ApiError::internal(e.to_string()))
            }
        }
    }

    async fn read(
        &self,
        endpoint: Endpoint,
        namespace: &str,
        name: &str,
    ) -> Result<KeyValue, ApiError> {
        let key = keys::object_key(endpoint.stored, namespace, name);
        match self.storage.get(&key, None).await.map_err(storage_error)? {
            Some(kv) => Ok(kv),
            None => Err(not_found(endpoint.served, name)),
        }
    }

    /// `GET` a collection from storage: the list object with items in the
    /// served version. Most lists are served from [`Caches`] instead.
    pub async fn list(
        &self,
        endpoint: Endpoint,
        namespace: Option<&str>,
        options: &ListOptions,
    ) -> Result<Value, ApiError> {
        let prefix = keys::list_prefix(endpoint.stored, namespace);
        let (mut start, mut revision) = (None, options.revision);
        let continuing = options
            .continue_token
            .as_deref()
            .is_some_and(|t| !t.is_empty());
        if let Some(token) = options.continue_token.as_deref().filter(|t| !t.is_empty()) {
            let (key, rev) = decode_continue(token, &prefix)?;
            start = Some(key);
            revision = rev;
        }
        let limit = options.limit.filter(|l| *l > 0);
        let mut items = Vec::new();
        let mut read_at;
        let mut remaining = None;
        let mut next = None;
        loop {
            let page = self
                .storage
                .range(RangeRequest {
                    prefix: prefix.clone(),
                    start: start.clone(),
                    limit: limit.map(|l| l - items.len() + 1),
                    revision,
                })
                .await
                .map_err(|e| match (e, &start) {
                    (StorageError::Compacted { .. }, Some(key)) if continuing => {
                        expired_continue(key, &prefix)
                    }
                    (other, _) => storage_error(other),
                })?;
            read_at = page.revision;
            revision = Some(page.revision);
            let mut last_key = None;
            for kv in &page.kvs {
                if limit.is_some_and(|l| items.len() == l) {
                    next = Some(kv.key.clone());
                    break;
                }
                let object = decode(endpoint, &kv.value, kv.mod_revision)?;
                if options.filter.as_ref().is_none_or(|f| f(&object)) {
                    items.push(object);
                }
                last_key = Some(kv.key.clone());
            }
            if next.is_some() {
                if options.filter.is_none() {
                    remaining = Some(page.remaining + 1);
                }
                break;
            }
            match (page.more, last_key) {
                (true, Some(key)) => start = Some(format!("{key}\0")),
                _ => break,
            }
        }
        for item in &mut items {
            // Upstream's lists of built-in kinds leave the item kind implied.
            if let Some(object) = item.as_object_mut() {
                object.remove("apiVersion");
                object.remove("kind");
            }
        }
        let mut metadata = json!({"resourceVersion": read_at.to_string()});
        if let Some(key) = next {
            metadata["continue"] = json!(encode_continue(&key, &prefix, read_at));
            if let Some(remaining) = remaining {
                metadata["remainingItemCount"] = json!(remaining);
            }
        }
        let served = endpoint.served;
        Ok(json!({
            "kind": format!("{}List", served.kind),
            "apiVersion": api_version(served.group, served.version),
            "metadata": metadata,
            "items": items,
        }))
    }

    /// `POST` a new object.
    pub async fn create(
        &self,
        endpoint: Endpoint,
        namespace: &str,
        mut object: Value,
        options: &WriteOptions,
    ) -> Result<Value, ApiError> {
        let served = endpoint.served;
        check_type(served, &object)?;
        if served.namespaced {
            match meta_str(&object, "namespace") {
                "" => set_meta(&mut object, "namespace", Some(json!(namespace))),
                ns if ns != namespace => {
                    return Err(ApiError::bad_request(
                        "the namespace of the provided object does not match the namespace sent on the request",
                    ));
                }
                _ => {}
            }
        } else {
            set_meta(&mut object, "namespace", None);
        }
        if meta_str(&object, "name").is_empty() {
            let base = meta_str(&object, "generateName").to_owned();
            if base.is_empty() {
                let error = FieldError::required(
                    &FieldPath::new("metadata").child("name"),
                    "name or generateName is required",
                );
                return Err(ApiError::invalid(served.group, served.kind, "", &[error]));
            }
            set_meta(&mut object, "name", Some(json!(generate_name(&base))));
        }
        let name = meta_str(&object, "name").to_owned();

        for field in [
            "resourceVersion",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "selfLink",
        ] {
            set_meta(&mut object, field, None);
        }
        set_meta(
            &mut object,
            "uid",
            Some(json!(uuid::Uuid::new_v4().to_string())),
        );
        set_meta(
            &mut object,
            "creationTimestamp",
            Some(json!(Time::now().to_string())),
        );
        if has_status(served) {
            if let Some(object) = object.as_object_mut() {
                object.remove("status");
            }
            set_meta(&mut object, "generation", Some(json!(1)));
        }
        let strategy = strategy::for_resource(served.group, served.plural);
        strategy.prepare_for_create(&mut object);
        self.admit(endpoint, &mut object, &name, None)?;
        fieldmanager::record(served, &options.ownership, None, &mut object, "")?;
        if served.namespaced {
            self.require_namespace(namespace).await?;
        }
        let reservation = self
            .reserve(served, &mut object, None, options.dry_run)
            .await?;
        let result = self
            .write_new(endpoint, namespace, &name, object, options.dry_run)
            .await;
        self.settle(served, reservation, result).await
    }

    async fn write_new(
        &self,
        endpoint: Endpoint,
        namespace: &str,
        name: &str,
        object: Value,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let served = endpoint.served;
        let stored = to_storage(endpoint, object)?;
        if dry_run {
            return from_storage(endpoint, stored, None);
        }
        let key = keys::object_key(endpoint.stored, namespace, name);
        let kv = self
            .storage
            .create(&key, encode(&stored)?)
            .await
            .map_err(|e| match e {
                StorageError::AlreadyExists { .. } => {
                    ApiError::already_exists(served.group, served.plural, name)
                }
                other => storage_error(other),
            })?;
        from_storage(endpoint, stored, Some(kv.mod_revision))
    }

    /// `PUT` an object (or its status).
    pub async fn update(
        &self,
        endpoint: Endpoint,
        namespace: &str,
        name: &str,
        mut object: Value,
        target: WriteTarget,
        options: &WriteOptions,
    ) -> Result<Value, ApiError> {
        let served = endpoint.served;
        check_type(served, &object)?;
        let body_name = meta_str(&object, "name");
        if !body_name.is_empty() && body_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        if served.namespaced {
            let body_namespace = meta_str(&object, "namespace");
            if !body_namespace.is_empty() && body_namespace != namespace {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
        }
        let current = self.read(endpoint, namespace, name).await?;
        let expected = meta_str(&object, "resourceVersion").to_owned();
        if !expected.is_empty() && expected != current.mod_revision.to_string() {
            return Err(modified(served, name));
        }
        let old = decode(endpoint, &current.value, current.mod_revision)?;
        let mut merged = merge_update(served, &old, &mut object, target);
        if target == WriteTarget::Main {
            strategy::for_resource(served.group, served.plural)
                .prepare_for_update(&mut merged, &old);
        }
        let errors = metadata::validate_update(&merged, &old);
        if !errors.is_empty() {
            return Err(ApiError::invalid(served.group, served.kind, name, &errors));
        }
        let old_for_rules = (!matches!(target, WriteTarget::Subresource(_))).then_some(&old);
        self.admit(endpoint, &mut merged, name, old_for_rules)?;
        bump_generation(served, &old, &mut merged);
        fieldmanager::record(
            served,
            &options.ownership,
            Some(&old),
            &mut merged,
            target.subresource(),
        )?;
        let reservation = self
            .reserve(served, &mut merged, Some(&old), options.dry_run)
            .await?;
        let result = self
            .write_update(
                endpoint,
                namespace,
                name,
                &current,
                old,
                merged,
                options.dry_run,
            )
            .await;
        self.settle(served, reservation, result).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn write_update(
        &self,
        endpoint: Endpoint,
        namespace: &str,
        name: &str,
        current: &KeyValue,
        old: Value,
        merged: Value,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let served = endpoint.served;
        if merged == old {
            return Ok(old);
        }
        let waits = strategy::for_resource(served.group, served.plural).deletion_waits(&merged);
        // A graceful delete still counting down is not finished by an update.
        let grace_left = merged
            .pointer("/metadata/deletionGracePeriodSeconds")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let finished =
            is_deleting(&merged) && grace_left == 0 && finalizers(&merged).is_empty() && !waits;
        let stored = to_storage(endpoint, merged)?;
        if dry_run {
            return from_storage(endpoint, stored, Some(current.mod_revision));
        }
        let key = keys::object_key(endpoint.stored, namespace, name);
        if finished {
            // The last finalizer is gone from an object being deleted.
            let (_, revision) = self
                .storage
                .delete(&key, Some(current.mod_revision))
                .await
                .map_err(|e| write_error(served, name, e))?;
            if let Some(hook) = self.hook(served) {
                hook.release(&stored).await;
            }
            return from_storage(endpoint, stored, Some(revision));
        }
        let kv = self
            .storage
            .update(&key, encode(&stored)?, current.mod_revision)
            .await
            .map_err(|e| write_error(served, name, e))?;
        from_storage(endpoint, stored, Some(kv.mod_revision))
    }

    /// `PATCH`: `apply` turns the current object into the new one (a merge
    /// patch, a JSON patch, ...); the result is written as an update, read
    /// again and re-patched on conflicts unless the patch itself names a
    /// resourceVersion (`pinned`).
    #[allow(clippy::too_many_arguments)]
    pub async fn patch(
        &self,
        endpoint: Endpoint,
        namespace: &str,
        name: &str,
        apply: &(dyn Fn(Value) -> Result<Value, ApiError> + Send + Sync),
        pinned: bool,
        target: WriteTarget,
        options: &WriteOptions,
    ) -> Result<Value, ApiError> {
        loop {
            let object = apply(self.get(endpoint, namespace, name).await?)?;
            match self
                .update(endpoint, namespace, name, object, target, options)
                .await
            {
                Err(error) if error.reason == "Conflict" && !pinned => continue,
                other => return other,
            }
        }
    }

    /// `DELETE` an object: gone at once, or marked for deletion while
    /// finalizers remain. Returns the object as last seen.
    pub async fn delete(
        &self,
        endpoint: Endpoint,
        namespace: &str,
        name: &str,
        options: &DeleteOptions,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let served = endpoint.served;
        let preconditions = &options.preconditions;
        loop {
            let current = self.read(endpoint, namespace, name).await?;
            let mut object = decode(endpoint, &current.value, current.mod_revision)?;
            if let Some(uid) = &preconditions.uid
                && uid != meta_str(&object, "uid")
            {
                return Err(ApiError::conflict(
                    served.group,
                    served.plural,
                    name,
                    &format!(
                        "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                        meta_str(&object, "uid")
                    ),
                ));
            }
            if let Some(rv) = &preconditions.resource_version
                && rv != meta_str(&object, "resourceVersion")
            {
                return Err(ApiError::conflict(
                    served.group,
                    served.plural,
                    name,
                    &format!(
                        "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                        meta_str(&object, "resourceVersion")
                    ),
                ));
            }
            let key = keys::object_key(endpoint.stored, namespace, name);
            let strategy = strategy::for_resource(served.group, served.plural);
            let grace = strategy.deletion_grace_period(&object, options.grace_period_seconds);
            let waits = !finalizers(&object).is_empty() || strategy.deletion_waits(&object);
            if grace > 0 || waits {
                // The object is only marked: a graceful delete waits out its
                // period (a later delete may shorten it), finalizers wait
                // for whoever removes them.
                let pending = object
                    .pointer("/metadata/deletionGracePeriodSeconds")
                    .and_then(Value::as_i64)
                    .unwrap_or(0);
                if is_deleting(&object) && pending <= grace {
                    return Ok(object);
                }
                let deadline = chrono::Utc::now() + chrono::Duration::seconds(grace);
                set_meta(
                    &mut object,
                    "deletionTimestamp",
                    Some(json!(Time::new(deadline).to_string())),
                );
                set_meta(
                    &mut object,
                    "deletionGracePeriodSeconds",
                    Some(json!(grace)),
                );
                if served.group.is_empty() && served.plural == "namespaces" {
                    object["status"]["phase"] = json!("Terminating");
                }
                if dry_run {
                    return Ok(object);
                }
                let stored = to_storage(endpoint, object)?;
                match self
                    .storage
                    .update(&key, encode(&stored)?, current.mod_revision)
                    .await
                {
                    Ok(kv) => return from_storage(endpoint, stored, Some(kv.mod_revision)),
                    Err(StorageError::Conflict { .. }) => continue,
                    Err(other) => return Err(write_error(served, name, other)),
                }
            }
            if dry_run {
                return Ok(object);
            }
            match self.storage.delete(&key, Some(current.mod_revision)).await {
                Ok(_) => {
                    if let Some(hook) = self.hook(served) {
                        hook.release(&object).await;
                    }
                    return Ok(object);
                }
                Err(StorageError::Conflict { .. }) => continue,
                Err(other) => return Err(write_error(served, name, other)),
            }
        }
    }

    /// Defaults, then validation: schema, name, and the kind's own rules.
    fn admit(
        &self,
        endpoint: Endpoint,
        object: &mut Value,
        name: &str,
        old: Option<&Value>,
    ) -> Result<(), ApiError> {
        let served = endpoint.served;
        super::defaulters::apply(served.group, served.plural, object);
        apply_defaults(&SCHEMAS, served.schema, object);
        let strategy = strategy::for_resource(served.group, served.plural);
        let mut errors = validate_name(name, strategy.dns_label_names());
        errors.extend(metadata::validate(object));
        errors.extend(validate(&SCHEMAS, served.schema, object));
        errors.extend(strategy.validate(object));
        if let Some(old) = old {
            errors.extend(strategy.validate_update(object, old));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid(served.group, served.kind, name, &errors))
        }
    }

    /// A namespaced create needs its namespace to exist and not be terminating.
    async fn require_namespace(&self, namespace: &str) -> Result<(), ApiError> {
        let key = format!("{}/namespaces/{namespace}", keys::ROOT);
        let terminating = match self.cached_namespace_phase(&key).await {
            Some(phase) => phase == "Terminating",
            None => {
                let Some(kv) = self.storage.get(&key, None).await.map_err(storage_error)? else {
                    return Err(ApiError::not_found("", "namespaces", namespace));
                };
                let namespace_state: NamespaceState = serde_json::from_slice(&kv.value)
                    .map_err(|e| ApiError::internal(e.to_string()))?;
                namespace_state.phase() == Some("Terminating")
            }
        };
        if terminating {
            return Err(ApiError::forbidden(format!(
                "unable to create new content in namespace {namespace} because it is being terminated"
            )));
        }
        Ok(())
    }
}

/// The core Namespace resource, whose watch cache answers most namespace
/// checks.
fn namespaces() -> Option<&'static ResourceDescriptor> {
    generated::RESOURCES
        .iter()
        .find(|r| r.group.is_empty() && r.version == "v1" && r.plural == "namespaces")
}

impl Store {
    /// The phase of the namespace stored at `key` as the watch cache has
    /// it, as upstream's namespace lifecycle check reads its informer;
    /// `None` when the cache does not have it (yet: it may lag a namespace
    /// created a moment ago), and storage decides.
    async fn cached_namespace_phase(&self, key: &str) -> Option<String> {
        let resource = namespaces()?;
        let cache = self.caches.resource(resource).await.ok()?;
        let snapshot = cache.snapshot(key);
        let object = snapshot.objects.iter().find(|o| o.key == key)?;
        let endpoint = Endpoint {
            served: resource,
            stored: resource,
        };
        // The stored JSON as a list item, read for its phase only.
        let item = object.encoded(endpoint, Form::ListItem, true).ok()?;
        let state: Option<NamespaceState> = serde_json::from_slice(&item).ok();
        Some(
            state
                .as_ref()
                .and_then(NamespaceState::phase)
                .unwrap_or_default()
                .to_owned(),
        )
    }
}

/// The part of a stored Namespace a create looks at: reading only
/// `status.phase` skips building the whole object on every create.
#[derive(serde::Deserialize)]
struct NamespaceState {
    #[serde(default)]
    status: Option<NamespaceStatus>,
}

#[derive(serde::Deserialize)]
struct NamespaceStatus {
    #[serde(default)]
    phase: Option<Value>,
}

impl NamespaceState {
    fn phase(&self) -> Option<&str> {
        self.status.as_ref()?.phase.as_ref()?.as_str()
    }
}

/// The message upstream gives for a continue token whose snapshot is gone.
const EXPIRED_CONTINUE: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

/// Whether writes to the resource keep status apart (a status subresource).
fn has_status(resource: &ResourceDescriptor) -> bool {
    resource.subresource("status").is_some()
}

fn check_type(resource: &ResourceDescriptor, object: &Value) -> Result<(), ApiError> {
    if !object.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request must be a JSON object",
        ));
    }
    let expected = api_version(resource.group, resource.version);
    if let Some(given) = object.get("apiVersion").and_then(Value::as_str)
        && given != expected
    {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({given}) does not match the expected API version ({expected})"
        )));
    }
    if let Some(given) = object.get("kind").and_then(Value::as_str)
        && given != resource.kind
    {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({given}) does not match the expected kind ({})",
            resource.kind
        )));
    }
    Ok(())
}

/// Builds the object to store from a client's update: system metadata and,
/// depending on the target, spec or status come from the stored object.
fn merge_update(
    resource: &ResourceDescriptor,
    old: &Value,
    new: &mut Value,
    target: WriteTarget,
) -> Value {
    let mut merged = match target {
        WriteTarget::Main => {
            let mut merged = new.take();
            if has_status(resource) {
                match old.get("status") {
                    Some(status) => merged["status"] = status.clone(),
                    None => {
                        if let Some(object) = merged.as_object_mut() {
                            object.remove("status");
                        }
                    }
                }
            }
            merged
        }
        WriteTarget::Subresource(_) => new.take(),
        WriteTarget::Status => {
            let mut merged = old.clone();
            // Server-side apply on /status brings the entries it computed.
            if let Some(managed) = new.pointer("/metadata/managedFields") {
                set_meta(&mut merged, "managedFields", Some(managed.clone()));
            }
            match new.get("status") {
                Some(status) => merged["status"] = status.clone(),
                None => {
                    if let Some(object) = merged.as_object_mut() {
                        object.remove("status");
                    }
                }
            }
            merged
        }
    };
    merged["apiVersion"] = json!(api_version(resource.group, resource.version));
    merged["kind"] = json!(resource.kind);
    for field in [
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
        "namespace",
        "name",
        "resourceVersion",
    ] {
        let value = old.get("metadata").and_then(|m| m.get(field)).cloned();
        set_meta(&mut merged, field, value);
    }
    merged
}

/// Kinds with a status subresource count spec changes in `generation`.
fn bump_generation(resource: &ResourceDescriptor, old: &Value, new: &mut Value) {
    if !has_status(resource) {
        return;
    }
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(o) = v.as_object_mut() {
            o.remove("metadata");
            o.remove("status");
        }
        v
    };
    if strip(old) != strip(new) {
        let generation = old
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        set_meta(new, "generation", Some(json!(generation + 1)));
    }
}

fn finalizers(object: &Value) -> Vec<Value> {
    object
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn is_deleting(object: &Value) -> bool {
    !meta_str(object, "deletionTimestamp").is_empty()
}

/// A stored object in the served version, with its resourceVersion.
fn decode(endpoint: Endpoint, bytes: &[u8], revision: Revision) -> Result<Value, ApiError> {
    let stored: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::internal(format!("stored object is not JSON: {e}")))?;
    from_storage(endpoint, stored, Some(revision))
}

/// A stored object (storage version) in the served version, with its
/// resourceVersion.
pub(crate) fn from_storage(
    endpoint: Endpoint,
    stored: Value,
    revision: Option<Revision>,
) -> Result<Value, ApiError> {
    let served = endpoint.served;
    let mut object = convert(stored, served)?;
    if let Some(revision) = revision {
        set_meta(
            &mut object,
            "resourceVersion",
            Some(json!(revision.to_string())),
        );
    }
    Ok(object)
}

fn to_storage(endpoint: Endpoint, object: Value) -> Result<Value, ApiError> {
    let mut stored = convert(object, endpoint.stored)?;
    set_meta(&mut stored, "resourceVersion", None);
    Ok(stored)
}

fn convert(mut object: Value, to: &ResourceDescriptor) -> Result<Value, ApiError> {
    if object.get("apiVersion").is_none() {
        object["apiVersion"] = json!(api_version(to.group, to.version));
    }
    if object.get("kind").is_none() {
        object["kind"] = json!(to.kind);
    }
    let target = GroupVersionKind {
        group: to.group,
        version: to.version,
        kind: to.kind,
    };
    conversion::convert(object, &target)
        .map_err(|e| ApiError::internal(format!("converting to {}: {e}", to.version)))
}

fn encode(object: &Value) -> Result<Bytes, ApiError> {
    serde_json::to_vec(object)
        .map(Bytes::from)
        .map_err(|e| ApiError::internal(e.to_string()))
}

fn not_found(resource: &ResourceDescriptor, name: &str) -> ApiError {
    ApiError::not_found(resource.group, resource.plural, name)
}

fn modified(resource: &ResourceDescriptor, name: &str) -> ApiError {
    ApiError::conflict(
        resource.group,
        resource.plural,
        name,
        "the object has been modified; please apply your changes to the latest version and try again",
    )
}

fn write_error(resource: &ResourceDescriptor, name: &str, error: StorageError) -> ApiError {
    match error {
        StorageError::Conflict { .. } => modified(resource, name),
        StorageError::NotFound { .. } => not_found(resource, name),
        other => storage_error(other),
    }
}

/// Storage failures a client cannot fix.
pub fn storage_error(error: StorageError) -> ApiError {
    match error {
        StorageError::Compacted {
            requested,
            compacted,
        } => ApiError::expired(format!(
            "too old resource version: {requested} ({compacted})"
        )),
        StorageError::FutureRevision { requested, current } => ApiError::timeout(format!(
            "Too large resource version: {requested}, current: {current}"
        )),
        StorageError::Unavailable(why) => ApiError::unavailable(why),
        other => ApiError::internal(other.to_string()),
    }
}

/// A name from `generateName`: the base and five random characters from
/// upstream's alphabet (no vowels, no look-alike digits).
fn generate_name(base: &str) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    const MAX_BASE: usize = 58;
    let base = if base.len() > MAX_BASE {
        &base[..floor_char_boundary(base, MAX_BASE)]
    } else {
        base
    };
    let random = uuid::Uuid::new_v4();
    let suffix: String = random.as_bytes()[..5]
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect();
    format!("{base}{suffix}")
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// Continue tokens as upstream writes them: base64url of
/// `{"v":"meta.k8s.io/v1","rv":<revision>,"start":"<key after the prefix>"}`.
pub(crate) fn encode_continue(next_key: &str, prefix: &str, revision: Revision) -> String {
    continue_token(next_key, prefix, json!(revision.0))
}

/// The 410 for a continue token whose snapshot is compacted, carrying
/// upstream's fresh token (revision -1: "go on from the latest state").
fn expired_continue(next_key: &str, prefix: &str) -> ApiError {
    ApiError {
        metadata: Some(json!({"continue": continue_token(next_key, prefix, json!(-1))})),
        ..ApiError::expired(EXPIRED_CONTINUE)
    }
}

fn continue_token(next_key: &str, prefix: &str, revision: Value) -> String {
    let start = next_key.strip_prefix(prefix).unwrap_or(next_key);
    let token = json!({"v": "meta.k8s.io/v1", "rv": revision, "start": start});
    URL_SAFE_NO_PAD.encode(token.to_string())
}

/// The start key and revision of a continue token; no revision for the
/// fresh tokens of expired lists, which continue at the latest state.
pub(crate) fn decode_continue(
    token: &str,
    prefix: &str,
) -> Result<(String, Option<Revision>), ApiError> {
    let invalid = || ApiError::bad_request(format!("continue key is not valid: {token}"));
    let bytes = URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|_| invalid())?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if value.get("v").and_then(Value::as_str) != Some("meta.k8s.io/v1") {
        return Err(invalid());
    }
    let revision = match value.get("rv").and_then(Value::as_i64) {
        Some(-1) => None,
        Some(rv) if rv > 0 => Some(Revision(rv as u64)),
        _ => return Err(invalid()),
    };
    let start = value
        .get("start")
        .and_then(Value::as_str)
        .ok_or_else(invalid)?;
    // A start key may not climb out of the listed prefix.
    if start.split('/').any(|s| s == "..") {
        return Err(invalid());
    }
    Ok((format!("{prefix}{start}"), revision))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;
    use crate::runtime_config::ServedVersions;
    use crate::storage::memory::MemoryStore;

    /// A continue token whose snapshot was compacted away is a 410 that
    /// carries upstream's fresh token, which continues at the latest state.
    #[tokio::test]
    async fn expired_continue_tokens_offer_a_fresh_one() {
        let storage = Arc::new(MemoryStore::new());
        let store = Store::new(storage.clone());
        let registry = Registry::new(&ServedVersions::from_flags(&[]).unwrap());
        let config_maps = registry.get("", "v1", "configmaps").unwrap();
        for name in ["a", "b", "c"] {
            let key = keys::object_key(config_maps.stored, "ns", name);
            let object = json!({"apiVersion": "v1", "kind": "ConfigMap",
                                "metadata": {"name": name, "namespace": "ns"}});
            storage
                .create(&key, encode(&object).unwrap())
                .await
                .unwrap();
        }
        let first = store
            .list(
                config_maps,
                Some("ns"),
                &ListOptions {
                    limit: Some(1),
                    ..ListOptions::default()
                },
            )
            .await
            .unwrap();
        let token = first["metadata"]["continue"].as_str().unwrap().to_owned();
        let key = keys::object_key(config_maps.stored, "ns", "d");
        let object = json!({"apiVersion": "v1", "kind": "ConfigMap",
                            "metadata": {"name": "d", "namespace": "ns"}});
        let later = storage
            .create(&key, encode(&object).unwrap())
            .await
            .unwrap();
        storage.compact(later.mod_revision).await.unwrap();

        let continued = ListOptions {
            limit: Some(1),
            continue_token: Some(token),
            ..ListOptions::default()
        };
        let error = store
            .list(config_maps, Some("ns"), &continued)
            .await
            .unwrap_err();
        assert_eq!(error.code.as_u16(), 410);
        assert_eq!(error.message, EXPIRED_CONTINUE);
        let fresh = error.to_status()["metadata"]["continue"]
            .as_str()
            .unwrap()
            .to_owned();
        let (start, revision) = decode_continue(&fresh, "/registry/configmaps/ns/").unwrap();
        assert_eq!(
            (start.as_str(), revision),
            ("/registry/configmaps/ns/b", None)
        );

        let rest = store
            .list(
                config_maps,
                Some("ns"),
                &ListOptions {
                    continue_token: Some(fresh),
                    ..ListOptions::default()
                },
            )
            .await
            .unwrap();
        let names: Vec<&str> = rest["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["b", "c", "d"]);
    }

    #[test]
    fn continue_tokens_round_trip_and_stay_in_their_prefix() {
        let token = encode_continue("/registry/pods/ns/b", "/registry/pods/ns/", Revision(42));
        assert_eq!(
            decode_continue(&token, "/registry/pods/ns/").unwrap(),
            ("/registry/pods/ns/b".to_owned(), Some(Revision(42)))
        );
        let forged =
            URL_SAFE_NO_PAD.encode(r#"{"v":"meta.k8s.io/v1","rv":3,"start":"../secrets/x"}"#);
        assert!(decode_continue(&forged, "/registry/pods/ns/").is_err());
        assert!(decode_continue("garbage!", "/registry/pods/").is_err());
    }

    #[test]
    fn generated_names_have_a_random_suffix() {
        let name = generate_name("web-");
        assert!(name.starts_with("web-") && name.len() == 9, "{name}");
    }
}
