//! Create: defaults, admission, validation, allocation of Service
//! addresses, and the etcd write (in the storage version).

use super::apply::managed::{self, Manager};
use super::checks;
use super::convert;
use super::meta::{self, metadata_mut};
use super::store::{Store, target};
use super::strategy;
use crate::admission::Operation;
use crate::allocator::service;
use crate::resources::ResourceDef;
use crate::status::ApiError;
use serde_json::{Value, json};

impl Store {
    /// Creates `obj` in namespace `ns` (defaults, validation, metadata).
    pub async fn create(
        &self,
        def: &ResourceDef,
        ns: &str,
        obj: Value,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        self.create_as(def, ns, obj, dry_run, None).await
    }

    /// [`create`](Self::create) recording `manager` as the owner of every
    /// field it sets (`managedFields`, operation Update).
    pub async fn create_as(
        &self,
        def: &ResourceDef,
        ns: &str,
        obj: Value,
        dry_run: bool,
        manager: Option<&Manager>,
    ) -> Result<Value, ApiError> {
        // Defaults, validation and the write see the storage version.
        if let Some(storage) = convert::storage_def(def) {
            Self::check_type(def, &obj)?;
            let obj = convert::to_storage(def, Self::served(def, obj));
            let created = self
                .create_stored(storage, ns, obj, dry_run, manager)
                .await?;
            return Ok(Self::served(def, created));
        }
        self.create_stored(def, ns, obj, dry_run, manager).await
    }

    async fn create_stored(
        &self,
        def: &ResourceDef,
        ns: &str,
        mut obj: Value,
        dry_run: bool,
        manager: Option<&Manager>,
    ) -> Result<Value, ApiError> {
        let strategy = strategy::for_resource(def);
        Self::check_type(def, &obj)?;
        {
            let body_ns = meta::namespace(&obj).to_string();
            if def.namespaced && !body_ns.is_empty() && body_ns != ns {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            let m = metadata_mut(&mut obj);
            if def.namespaced {
                m.insert("namespace".into(), json!(ns));
            } else {
                m.remove("namespace");
            }
            let name = m
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let generate = m
                .get("generateName")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if name.is_empty() && !generate.is_empty() {
                m.insert("name".into(), json!(meta::generate_name(&generate)));
            }
            m.insert("uid".into(), json!(meta::new_uid()));
            m.insert("creationTimestamp".into(), json!(meta::now_rfc3339()));
            for f in [
                "resourceVersion",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "selfLink",
            ] {
                m.remove(f);
            }
            if strategy.tracks_generation() {
                m.insert("generation".into(), json!(1));
            } else {
                m.remove("generation");
            }
        }
        let obj = Self::served(def, obj);
        let mut obj = obj;
        checks::default_object(def.group, def.kind, &mut obj);
        strategy.prepare_for_create(def, &mut obj);
        if let Some(m) = manager {
            let (types, root) = crate::registry::patch::types::for_resource(def);
            let now = meta::now_rfc3339();
            managed::record_update(types, root.as_deref(), &mut obj, None, m, &now);
        }
        let name = meta::name(&obj).to_string();
        self.admit(
            Operation::Create,
            def,
            ns,
            &name,
            "",
            None,
            &mut obj,
            dry_run,
        )
        .await?;
        let key = self.key(def, ns, &name)?;
        // As upstream, addresses and ports are allocated before validation
        // (which then sees them) and given back if anything later fails.
        let claimed = match self.allocators(def) {
            Some(a) if !dry_run => Some(service::assign(a, &mut obj, None).await?),
            _ => None,
        };
        let errs = strategy.validate_create(def, &obj);
        let admitted = if errs.is_empty() {
            self.validate_admission(Operation::Create, def, ns, &name, "", None, &obj, dry_run)
                .await
        } else {
            Ok(())
        };
        let result = if !errs.is_empty() {
            Err(ApiError::invalid(def.kind, def.group, &name, &errs))
        } else if let Err(e) = admitted {
            Err(e)
        } else if dry_run {
            // As upstream's dry-run storage: an existing object still
            // makes the create fail, nothing is written either way.
            return match self.read(def, ns, &name).await {
                Ok(_) => Err(ApiError::already_exists(target(def, &name))),
                Err(e) if e.code == 404 => Ok(obj),
                Err(e) => Err(e),
            };
        } else {
            self.etcd
                .create_with_ttl(&key, &obj, self.ttl(def))
                .await
                .map_err(|e| Self::err(def, &name, e))
        };
        match result {
            Ok(rev) => {
                crate::storage::etcd::set_resource_version(&mut obj, rev);
                Ok(obj)
            }
            Err(e) => {
                if let (Some(a), Some(c)) = (self.allocators(def), &claimed) {
                    service::rollback(a, c).await;
                }
                Err(e)
            }
        }
    }
}
