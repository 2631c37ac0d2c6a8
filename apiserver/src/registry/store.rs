//! The generic store: create/get/list/update/delete for every resource
//! against etcd, asking the kind's [`Strategy`] only for what differs.

use super::apply::managed::{self, Manager};
use super::checks;
use super::convert;
pub use super::deletion::{DeleteOptions, DeleteOutcome};
use super::meta::{self, metadata_mut};
use super::namespaces_cache::NamespaceCache;
use super::selection::Filter;
use super::strategy::{self, namespaces::has_spec_finalizers};
use crate::admission::{self, Chain, Operation, RequestScope};
use crate::allocator::{ServiceAllocators, service};
use crate::resources::ResourceDef;
use crate::status::{ApiError, Target};
use crate::storage::{EtcdStorage, StorageError, StoredObject};
use serde_json::{Value, json};
use std::sync::Arc;

/// Which objects and which page a list asks for.
#[derive(Default)]
pub struct ListOptions {
    pub label_selector: Option<String>,
    pub field_selector: Option<String>,
    pub limit: i64,
    pub continue_token: Option<String>,
    /// `resourceVersion` of the request ("" or "0" = latest).
    pub resource_version: String,
    /// `resourceVersionMatch`: only `Exact` reads an old snapshot; without
    /// it (or with `NotOlderThan`) the latest state is at least as new.
    pub resource_version_match: String,
}

/// The one store every resource goes through.
#[derive(Clone)]
pub struct Store {
    pub etcd: EtcdStorage,
    /// Cluster IPs and node ports of Services (None: Services get none).
    pub services: Option<ServiceAllocators>,
    /// Namespace phases for NamespaceLifecycle without an etcd read per
    /// create (fed once [`NamespaceCache::spawn_sync`] runs).
    pub namespaces: NamespaceCache,
    /// The admission plugins every write goes through.
    pub admission: Arc<Chain>,
    /// Who is asking, on a per-request view ([`Store::for_request`]); None
    /// for the apiserver's own writes.
    pub scope: Option<Arc<RequestScope>>,
    /// How long Events live (`--event-ttl`); None keeps them forever.
    pub event_ttl: Option<std::time::Duration>,
    /// The watch cache: watches and `resourceVersion=0` lists (None with
    /// `--watch-cache=false`: everything from etcd).
    pub cacher: Option<Arc<crate::storage::cacher::Cacher>>,
}

fn is_service(def: &ResourceDef) -> bool {
    def.group.is_empty() && def.plural == "services"
}

/// How many times a read-modify-write retries after losing a CAS race
/// before reporting a conflict.
pub(super) const CAS_RETRIES: usize = 8;

/// How many times a patch or an update without a resourceVersion re-reads
/// and re-applies after losing a CAS race. Upstream retries without bound;
/// every lost race means another writer succeeded, so this only runs out
/// under more than this many writers on one object at once.
const WRITE_RETRIES: usize = 64;

pub(super) fn target<'a>(def: &'a ResourceDef, name: &'a str) -> Target<'a> {
    Target {
        group: def.group,
        resource: def.plural,
        name,
    }
}

/// Continue tokens carry the last key returned and the list revision, so
/// later pages read the same snapshot (and expire with compaction → 410).
pub fn encode_continue(key: &str, revision: i64) -> String {
    use base64::Engine;
    let raw = json!({ "v": "meta.k8s.io/v1", "rv": revision, "start": key });
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw.to_string())
}

pub fn decode_continue(token: &str) -> Result<(String, i64), ApiError> {
    use base64::Engine;
    let bad = || {
        ApiError::bad_request(
            "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
        )
    };
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&raw).map_err(|_| bad())?;
    let key = v["start"].as_str().ok_or_else(bad)?.to_string();
    let rv = v["rv"].as_i64().ok_or_else(bad)?;
    Ok((key, rv))
}

fn parse_rv(rv: &str, what: &str) -> Result<i64, ApiError> {
    rv.parse::<i64>()
        .map_err(|_| ApiError::bad_request(format!("invalid {what}: {rv:?}")))
}

impl Store {
    pub fn new(etcd: EtcdStorage, services: Option<ServiceAllocators>) -> Self {
        Store {
            etcd,
            services,
            namespaces: NamespaceCache::default(),
            admission: Arc::new(Chain::default()),
            scope: None,
            event_ttl: None,
            cacher: None,
        }
    }

    /// The same store with the watch cache.
    pub fn with_cacher(mut self, cacher: crate::storage::cacher::Cacher) -> Self {
        self.cacher = Some(Arc::new(cacher));
        self
    }

    /// The same store with another admission chain.
    pub fn with_admission(mut self, chain: Chain) -> Self {
        self.admission = Arc::new(chain);
        self
    }

    /// A view of the store for one API request: admission sees `scope`'s
    /// user and collects its warnings there.
    pub fn for_request(&self, scope: Arc<RequestScope>) -> Store {
        let mut s = self.clone();
        s.scope = Some(scope);
        s
    }

    /// Runs the mutating admission phase on `obj`.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn admit(
        &self,
        operation: Operation,
        def: &ResourceDef,
        ns: &str,
        name: &str,
        subresource: &str,
        old: Option<&Value>,
        obj: &mut Value,
        dry_run: bool,
    ) -> Result<(), ApiError> {
        let req = self.admission_request(operation, def, ns, name, subresource, old, dry_run);
        self.admission.admit(self, &req, obj).await
    }

    /// Runs the validating admission phase on the final `obj`.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn validate_admission(
        &self,
        operation: Operation,
        def: &ResourceDef,
        ns: &str,
        name: &str,
        subresource: &str,
        old: Option<&Value>,
        obj: &Value,
        dry_run: bool,
    ) -> Result<(), ApiError> {
        let req = self.admission_request(operation, def, ns, name, subresource, old, dry_run);
        let warnings = self.admission.validate(self, &req, obj).await?;
        if let Some(s) = &self.scope {
            s.warn(warnings);
        }
        Ok(())
    }

    /// What admission sees of a write: the requester, or the apiserver
    /// itself for its own writes (bootstrap, controllers inside it).
    #[allow(clippy::too_many_arguments)]
    fn admission_request<'a>(
        &'a self,
        operation: Operation,
        def: &'a ResourceDef,
        namespace: &'a str,
        name: &'a str,
        subresource: &'a str,
        old: Option<&'a Value>,
        dry_run: bool,
    ) -> admission::Request<'a> {
        static LOOPBACK: std::sync::LazyLock<crate::authn::UserInfo> =
            std::sync::LazyLock::new(admission::loopback_user);
        admission::Request {
            operation,
            def,
            namespace,
            name,
            subresource,
            user: self.scope.as_ref().map_or(&*LOOPBACK, |s| &s.user),
            old,
            dry_run,
        }
    }

    /// Sets `--event-ttl`: Events (core and events.k8s.io) are written
    /// with an etcd lease of that length.
    pub fn with_event_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.event_ttl = (!ttl.is_zero()).then_some(ttl);
        self
    }

    /// The TTL objects of `def` are stored with (upstream's per-resource
    /// TTL function: only Events have one).
    pub(super) fn ttl(&self, def: &ResourceDef) -> Option<std::time::Duration> {
        match (def.group, def.plural) {
            ("" | "events.k8s.io", "events") => self.event_ttl,
            _ => None,
        }
    }

    /// The Service allocators when `def` is Services and they are configured.
    pub(super) fn allocators(&self, def: &ResourceDef) -> Option<&ServiceAllocators> {
        if is_service(def) {
            self.services.as_ref()
        } else {
            None
        }
    }

    pub(super) fn key(&self, def: &ResourceDef, ns: &str, name: &str) -> Result<String, ApiError> {
        let path = def.etcd_path().ok_or_else(ApiError::not_found_path)?;
        let ns = if def.namespaced { ns } else { "" };
        Ok(self.etcd.keys.object(path, ns, name))
    }

    pub fn collection_prefix(&self, def: &ResourceDef, ns: &str) -> Result<String, ApiError> {
        let path = def.etcd_path().ok_or_else(ApiError::not_found_path)?;
        let ns = if def.namespaced { ns } else { "" };
        Ok(self.etcd.keys.collection(path, ns))
    }

    /// Maps a storage error for one object to its `Status`.
    pub(super) fn err(def: &ResourceDef, name: &str, e: StorageError) -> ApiError {
        match e {
            StorageError::NotFound => ApiError::not_found(target(def, name)),
            StorageError::AlreadyExists => ApiError::already_exists(target(def, name)),
            StorageError::Conflict => ApiError::stale(target(def, name)),
            other => other.to_api(),
        }
    }

    /// Stamps apiVersion/kind of the served version (several versions share
    /// one etcd key space).
    /// Converts from the stored version where the resource has several
    /// shapes (autoscaling/v1, events.k8s.io/v1).
    pub(super) fn served(def: &ResourceDef, v: Value) -> Value {
        convert::to_served(def, v)
    }

    pub(super) async fn read(
        &self,
        def: &ResourceDef,
        ns: &str,
        name: &str,
    ) -> Result<StoredObject, ApiError> {
        let key = self.key(def, ns, name)?;
        self.etcd
            .get(&key)
            .await
            .map_err(|e| Self::err(def, name, e))
    }

    pub async fn get(&self, def: &ResourceDef, ns: &str, name: &str) -> Result<Value, ApiError> {
        Ok(Self::served(def, self.read(def, ns, name).await?.value))
    }

    /// A list object (`PodList`, ...) of the matching objects.
    pub async fn list(
        &self,
        def: &ResourceDef,
        ns: &str,
        opts: &ListOptions,
    ) -> Result<Value, ApiError> {
        let strategy = strategy::for_resource(def);
        let filter = Filter::new(
            opts.label_selector.as_deref(),
            opts.field_selector.as_deref(),
            strategy,
        )?;
        let prefix = self.collection_prefix(def, ns)?;
        let (mut start, mut revision) = match &opts.continue_token {
            Some(t) if !t.is_empty() => {
                let (key, rv) = decode_continue(t)?;
                if !key.starts_with(&prefix) {
                    return Err(ApiError::bad_request(
                        "continue key is not valid: key is outside the requested collection",
                    ));
                }
                // Start strictly after the last key returned.
                (Some(format!("{key}\0")), rv)
            }
            _ => (None, 0),
        };
        if !opts.resource_version.is_empty() && opts.resource_version != "0" {
            let rv = parse_rv(&opts.resource_version, "resourceVersion")?;
            match opts.resource_version_match.as_str() {
                // An exact snapshot read; etcd answers 410 when compacted.
                "Exact" if revision == 0 => revision = rv,
                "" | "Exact" | "NotOlderThan" => {}
                other => {
                    return Err(ApiError::bad_request(format!(
                        "resourceVersionMatch: Unsupported value: {other:?}: supported values: \"Exact\", \"NotOlderThan\""
                    )));
                }
            }
        }
        if start.is_none()
            && let Some(list) = self.list_from_cache(def, opts, &filter, &prefix)?
        {
            return Ok(list);
        }
        let mut items = Vec::new();
        let mut next: Option<String> = None;
        let mut remaining = 0;
        // Filtering happens after the range read, so keep reading pages
        // until `limit` matches are found or the range ends.
        loop {
            // Pages of at most LIST_PAGE keys: one range read of a large
            // collection would exceed the gRPC message limit.
            let want = if opts.limit > 0 {
                (opts.limit - items.len() as i64).min(crate::storage::etcd::LIST_PAGE)
            } else {
                crate::storage::etcd::LIST_PAGE
            };
            let page = self
                .etcd
                .list(&prefix, start.as_deref(), want, revision)
                .await
                .map_err(|e| match e {
                    StorageError::Compacted { .. } => ApiError::gone(
                        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
                    ),
                    other => other.to_api(),
                })?;
            if revision == 0 {
                revision = page.revision;
            }
            let last_key = page.items.last().map(|o| o.key.clone());
            for o in page.items {
                if filter.matches(&o.value) {
                    items.push(Self::served(def, o.value));
                }
            }
            match (page.more, last_key) {
                (true, Some(k)) => {
                    if opts.limit > 0 && items.len() as i64 >= opts.limit {
                        next = Some(encode_continue(&k, revision));
                        remaining = page.remaining;
                        break;
                    }
                    start = Some(format!("{k}\0"));
                }
                _ => break,
            }
        }
        let mut metadata = json!({ "resourceVersion": revision.to_string() });
        if let Some(c) = next {
            metadata["continue"] = json!(c);
            if filter_is_empty(opts) {
                metadata["remainingItemCount"] = json!(remaining);
            }
        }
        Ok(json!({
            "kind": format!("{}List", def.kind),
            "apiVersion": def.api_version(),
            "metadata": metadata,
            "items": items,
        }))
    }

    /// Serves a first page from the watch cache when the request allows a
    /// state that is not the latest: `resourceVersion=0`, or a
    /// resourceVersion the cache has already seen (without `Exact`).
    /// Later pages carry a continue token that etcd serves at the page's
    /// revision, so they stay consistent with it. None: read etcd.
    fn list_from_cache(
        &self,
        def: &ResourceDef,
        opts: &ListOptions,
        filter: &Filter,
        prefix: &str,
    ) -> Result<Option<Value>, ApiError> {
        let Some(cacher) = &self.cacher else {
            return Ok(None);
        };
        let rv = opts.resource_version.as_str();
        let wanted = match (rv, opts.resource_version_match.as_str()) {
            ("", _) | (_, "Exact") => return Ok(None),
            ("0", "" | "NotOlderThan") => 0,
            (rv, "" | "NotOlderThan") => parse_rv(rv, "resourceVersion")?,
            _ => return Ok(None),
        };
        let Some(cache) = cacher.for_resource(def, 0) else {
            return Ok(None);
        };
        if cache.revision() < wanted.max(1) {
            return Ok(None);
        }
        let page = cache.list(prefix, filter, None, opts.limit.max(0) as usize);
        let items: Vec<Value> = page
            .items
            .into_iter()
            .map(|o| Self::served(def, o))
            .collect();
        let mut metadata = json!({ "resourceVersion": page.revision.to_string() });
        if let Some(k) = page.next_key {
            metadata["continue"] = json!(encode_continue(&k, page.revision));
            if filter_is_empty(opts) {
                metadata["remainingItemCount"] = json!(page.remaining);
            }
        }
        Ok(Some(json!({
            "kind": format!("{}List", def.kind),
            "apiVersion": def.api_version(),
            "metadata": metadata,
            "items": items,
        })))
    }

    /// apiVersion/kind in a body must name this resource (when present).
    pub(super) fn check_type(def: &ResourceDef, obj: &Value) -> Result<(), ApiError> {
        if !obj.is_object() {
            return Err(ApiError::bad_request(
                "the object provided is not a JSON object",
            ));
        }
        if let Some(kind) = obj.get("kind").and_then(Value::as_str)
            && !kind.is_empty()
            && kind != def.kind
        {
            return Err(ApiError::bad_request(format!(
                "{kind} in version \"{}\" cannot be handled as a {}: the kind in the body does not match the resource",
                def.version, def.kind
            )));
        }
        // Upstream decodes the body into its Go types before anything
        // else: a value of the wrong JSON type is a 400 in the decoder's
        // words, and nothing is stored.
        if let Some(definition) = crate::schema::definition_of(def.group, def.version, def.kind)
            && let Err(e) = crate::schema::typecheck::check(
                definition,
                obj,
                crate::schema::typecheck::Decoder::Json,
            )
        {
            return Err(ApiError::bad_request(format!(
                "{kind} in version \"{}\" cannot be handled as a {kind}: {e}",
                def.version,
                kind = def.kind
            )));
        }
        Ok(())
    }

    /// Replaces an object (PUT). `subresource` "status" only changes status.
    pub async fn update(
        &self,
        def: &ResourceDef,
        ns: &str,
        name: &str,
        subresource: &str,
        obj: Value,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        self.update_as(def, ns, name, subresource, obj, dry_run, None)
            .await
    }

    /// [`update`](Self::update) recording `manager` as the owner of the
    /// fields it changes.
    #[allow(clippy::too_many_arguments)]
    pub async fn update_as(
        &self,
        def: &ResourceDef,
        ns: &str,
        name: &str,
        subresource: &str,
        obj: Value,
        dry_run: bool,
        manager: Option<&Manager>,
    ) -> Result<Value, ApiError> {
        Self::check_type(def, &obj)?;
        let body_name = meta::name(&obj);
        if !body_name.is_empty() && body_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        if def.namespaced {
            let body_ns = meta::namespace(&obj);
            if !body_ns.is_empty() && body_ns != ns {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
        }
        let want_rv = meta::meta_str(&obj, "resourceVersion").to_string();
        // Without a resourceVersion the update is unconditional: a lost CAS
        // race re-reads and writes again, as upstream's GuaranteedUpdate.
        let attempts = if want_rv.is_empty() { WRITE_RETRIES } else { 1 };
        for _ in 0..attempts {
            let current = match self.read(def, ns, name).await {
                Ok(c) => c,
                Err(e)
                    if e.code == 404 && subresource.is_empty() && allow_create_on_update(def) =>
                {
                    let mut obj = obj;
                    metadata_mut(&mut obj).insert("name".into(), json!(name));
                    return self.create_as(def, ns, obj, dry_run, manager).await;
                }
                Err(e) => return Err(e),
            };
            if !want_rv.is_empty() && want_rv != current.mod_revision.to_string() {
                parse_rv(&want_rv, "resourceVersion")?;
                return Err(ApiError::stale(target(def, name)));
            }
            let new = Self::served(def, obj.clone());
            match self
                .write_update(def, ns, name, subresource, current, new, dry_run, manager)
                .await
            {
                Err(e) if e.code == 409 && e.reason == "Conflict" && want_rv.is_empty() => {
                    continue;
                }
                other => return other,
            }
        }
        Err(ApiError::stale(target(def, name)))
    }

    /// Applies `change` to the current object and writes it with CAS,
    /// retrying when another writer got in between (PATCH).
    pub async fn patch(
        &self,
        def: &ResourceDef,
        ns: &str,
        name: &str,
        subresource: &str,
        dry_run: bool,
        change: &(dyn Fn(&Value) -> Result<Value, ApiError> + Send + Sync),
    ) -> Result<Value, ApiError> {
        self.patch_as(def, ns, name, subresource, dry_run, change, None)
            .await
    }

    /// [`patch`](Self::patch) recording `manager` as the owner of the
    /// fields the change sets (None for server-side apply, whose change
    /// writes `managedFields` itself).
    #[allow(clippy::too_many_arguments)]
    pub async fn patch_as(
        &self,
        def: &ResourceDef,
        ns: &str,
        name: &str,
        subresource: &str,
        dry_run: bool,
        change: &(dyn Fn(&Value) -> Result<Value, ApiError> + Send + Sync),
        manager: Option<&Manager>,
    ) -> Result<Value, ApiError> {
        for _ in 0..WRITE_RETRIES {
            let current = self.read(def, ns, name).await?;
            let served = Self::served(def, current.value.clone());
            let mut new = change(&served)?;
            Self::check_type(def, &new)?;
            if meta::name(&new) != name {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({}) does not match the name on the URL ({name})",
                    meta::name(&new)
                )));
            }
            // The change starts from the current object, so it carries the
            // current resourceVersion unless the patch itself names one: a
            // different one is the caller's precondition failing (409), and
            // after a lost race the re-applied patch carries it again, so a
            // patch with a resourceVersion is never retried past it.
            let patch_rv = meta::meta_str(&new, "resourceVersion").to_string();
            if !patch_rv.is_empty() && patch_rv != current.mod_revision.to_string() {
                return Err(ApiError::stale(target(def, name)));
            }
            new = Self::served(def, new);
            match self
                .write_update(def, ns, name, subresource, current, new, dry_run, manager)
                .await
            {
                // Another writer got in between read and write: re-read and
                // re-apply, as upstream's GuaranteedUpdate does.
                Err(e) if e.reason == "Conflict" && e.code == 409 => continue,
                other => return other,
            }
        }
        Err(ApiError::stale(target(def, name)))
    }

    /// The shared tail of update and patch: strategy, validation, CAS write,
    /// and finishing a delete whose last finalizer went away. `new` is in
    /// `def`'s version; the work happens in the storage version.
    #[allow(clippy::too_many_arguments)]
    async fn write_update(
        &self,
        def: &ResourceDef,
        ns: &str,
        name: &str,
        subresource: &str,
        current: StoredObject,
        new: Value,
        dry_run: bool,
        manager: Option<&Manager>,
    ) -> Result<Value, ApiError> {
        if let Some(storage) = convert::storage_def(def) {
            let new = convert::to_storage(def, new);
            let written = self
                .write_update_stored(
                    storage,
                    ns,
                    name,
                    subresource,
                    current,
                    new,
                    dry_run,
                    manager,
                )
                .await?;
            return Ok(Self::served(def, written));
        }
        self.write_update_stored(def, ns, name, subresource, current, new, dry_run, manager)
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn write_update_stored(
        &self,
        def: &ResourceDef,
        ns: &str,
        name: &str,
        subresource: &str,
        current: StoredObject,
        mut new: Value,
        dry_run: bool,
        manager: Option<&Manager>,
    ) -> Result<Value, ApiError> {
        let strategy = strategy::for_resource(def);
        let old = Self::served(def, current.value.clone());
        meta::keep_system_fields(&mut new, &old);
        match subresource {
            "" => {
                checks::default_object(def.group, def.kind, &mut new);
                strategy.prepare_for_update(def, &mut new, &old);
            }
            "status" => {
                strategy::reset_for_status(&mut new, &old, strategy.status_reset(def));
                strategy.prepare_for_status_update(def, &mut new);
            }
            "approval" if def.plural == "certificatesigningrequests" => {
                new = crate::validation::csr::apply_approval(&new, &old, &meta::now_rfc3339());
            }
            // pods/binding: the handler's change sets only spec.nodeName.
            "binding" if def.plural == "pods" => {}
            "finalize" if def.plural == "namespaces" => {
                let spec = new.get("spec").cloned();
                let mut only = old.clone();
                if let Some(o) = only.as_object_mut() {
                    match spec {
                        Some(s) => o.insert("spec".into(), s),
                        None => o.remove("spec"),
                    };
                }
                new = only;
            }
            other => {
                return Err(ApiError::new(
                    404,
                    "NotFound",
                    format!(
                        "the server could not find the requested resource ({other} {})",
                        def.plural
                    ),
                ));
            }
        }
        match manager {
            Some(m) => {
                let (types, root) = crate::registry::patch::types::for_resource(def);
                let now = meta::now_rfc3339();
                managed::record_update(types, root.as_deref(), &mut new, Some(&old), m, &now);
            }
            // A write that doesn't send managedFields keeps the stored ones.
            None => {
                if new.pointer("/metadata/managedFields").is_none()
                    && let Some(mf) = old.pointer("/metadata/managedFields")
                {
                    metadata_mut(&mut new).insert("managedFields".into(), mf.clone());
                }
            }
        }
        if matches!(subresource, "" | "status") {
            self.admit(
                Operation::Update,
                def,
                ns,
                name,
                subresource,
                Some(&old),
                &mut new,
                dry_run,
            )
            .await?;
        }
        if strategy.tracks_generation() && meta::spec_differs(&new, &old) {
            let g = old
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            metadata_mut(&mut new).insert("generation".into(), json!(g + 1));
        }
        let key = self.key(def, ns, name)?;
        let deleting = meta::is_deleting(&new)
            && meta::finalizers(&new).is_empty()
            && !(def.plural == "namespaces" && has_spec_finalizers(&new));
        // Services keep their cluster IP and get node ports before
        // validation and before the no-change check, so an update that
        // omits them is valid and a no-op.
        if is_service(def) && subresource.is_empty() {
            crate::validation::carry_over_service_allocations(&mut new, &old);
        }
        let changes = match (self.allocators(def), subresource) {
            (Some(a), "") if !dry_run && !deleting => {
                Some(service::assign(a, &mut new, Some(&old)).await?)
            }
            _ => None,
        };
        let errs = match subresource {
            "status" => strategy.validate_status_update(def, &new, &old),
            "approval" => crate::validation::csr::validate_approval_update(&new, &old),
            // Upstream's binding assigns the node without ValidatePodUpdate
            // (which forbids spec changes); the handler allows it only once.
            "binding" => crate::validation::ErrorList::new(),
            _ => strategy.validate_update(def, &new, &old),
        };
        let admitted = if errs.is_empty() && matches!(subresource, "" | "status") {
            self.validate_admission(
                Operation::Update,
                def,
                ns,
                name,
                subresource,
                Some(&old),
                &new,
                dry_run,
            )
            .await
        } else {
            Ok(())
        };
        if !errs.is_empty() || admitted.is_err() {
            if let (Some(a), Some(c)) = (self.allocators(def), &changes) {
                service::rollback(a, c).await;
            }
            admitted?;
            return Err(ApiError::invalid(def.kind, def.group, name, &errs));
        }
        let unchanged = crate::storage::etcd::encode(&new) == crate::storage::etcd::encode(&old);
        if unchanged || dry_run {
            if let (Some(a), Some(c)) = (self.allocators(def), &changes) {
                service::rollback(a, c).await;
            }
            // No change: no write, the stored resourceVersion stays.
            return Ok(if unchanged { old } else { new });
        }
        // An object being deleted goes away when its last finalizer does.
        if deleting {
            let rev = self
                .etcd
                .delete(&key, current.mod_revision)
                .await
                .map_err(|e| Self::err(def, name, e))?;
            if let Some(a) = self.allocators(def) {
                service::release_all(a, &old).await;
            }
            crate::storage::etcd::set_resource_version(&mut new, rev);
            return Ok(new);
        }
        let written = self
            .etcd
            .update_with_ttl(&key, &new, current.mod_revision, self.ttl(def))
            .await;
        if let (Some(a), Some(c)) = (self.allocators(def), &changes) {
            match &written {
                Ok(_) => service::commit(a, c).await,
                Err(_) => service::rollback(a, c).await,
            }
        }
        let rev = written.map_err(|e| Self::err(def, name, e))?;
        crate::storage::etcd::set_resource_version(&mut new, rev);
        Ok(new)
    }
}

/// Kinds upstream lets a PUT create.
fn allow_create_on_update(def: &ResourceDef) -> bool {
    matches!(
        (def.group, def.plural),
        ("", "endpoints")
            | ("", "events")
            | ("events.k8s.io", "events")
            | ("coordination.k8s.io", "leases")
    )
}

fn filter_is_empty(opts: &ListOptions) -> bool {
    opts.label_selector.as_deref().unwrap_or("").is_empty()
        && opts.field_selector.as_deref().unwrap_or("").is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip() {
        let t = encode_continue("/registry/pods/default/web-1", 42);
        assert_eq!(
            decode_continue(&t),
            Ok(("/registry/pods/default/web-1".to_string(), 42))
        );
        assert_eq!(decode_continue("%%%").map_err(|e| e.code), Err(400));
    }
}
