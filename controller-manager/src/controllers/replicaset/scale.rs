//! Creating and deleting pods to reach `replicas`.

use super::BURST;
use super::kind::{ReplicaKind, SpecView};
use crate::Context;
use crate::controllers::expectations::Expectations;
use crate::controllers::podutil::{controller_ref, deletion_order, pod_from_template};
use crate::error::Result;
use futures::future::join_all;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, PostParams};

/// Batch sizes for creating `n` pods: 1, 2, 4, ... (slow start), so a
/// failing template costs one failed create, not hundreds.
pub fn slow_start_batches(n: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let (mut left, mut size) = (n, 1usize);
    while left > 0 {
        let b = size.min(left);
        out.push(b);
        left -= b;
        size *= 2;
    }
    out
}

/// Creates or deletes pods so `active` becomes `replicas`; returns the
/// failure message when a create failed.
pub async fn scale<K: ReplicaKind>(
    ctx: &Context,
    expectations: &Expectations,
    key: &str,
    set: &K,
    view: &SpecView,
    active: &[&Pod],
) -> Result<Option<String>> {
    let ns = set.namespace().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    let recorder = ctx.recorder(K::COMPONENT);
    let set_ref = set.object_ref(&());
    let want = view.replicas.max(0) as usize;
    if active.len() < want {
        let missing = (want - active.len()).min(BURST);
        let owner = controller_ref(&K::api_version(&()), &K::kind(&()), set.meta());
        let pod = pod_from_template(
            &view.template,
            &ns,
            Some(format!("{}-", set.name_any())),
            None,
            owner,
        );
        for batch in slow_start_batches(missing) {
            let params = PostParams::default();
            let results = join_all((0..batch).map(|_| api.create(&params, &pod))).await;
            let mut failure = None;
            for r in results {
                match r {
                    Ok(created) => {
                        expectations.created(key, created.metadata.uid.clone().unwrap_or_default());
                        recorder.normal(
                            set_ref.clone(),
                            "SuccessfulCreate",
                            format!("Created pod: {}", created.name_any()),
                        );
                    }
                    Err(e) => {
                        let message = match &e {
                            kube::Error::Api(s) => s.message.clone(),
                            other => other.to_string(),
                        };
                        recorder.warning(
                            set_ref.clone(),
                            "FailedCreate",
                            format!("Error creating: {message}"),
                        );
                        failure = Some(message);
                    }
                }
            }
            if failure.is_some() {
                return Ok(failure);
            }
        }
    } else if active.len() > want {
        let mut doomed: Vec<&Pod> = active.to_vec();
        doomed.sort_by(|a, b| deletion_order(a, b));
        doomed.truncate((active.len() - want).min(BURST));
        let deletes = doomed.iter().map(|p| async {
            let name = p.name_any();
            match api.delete(&name, &DeleteParams::default()).await {
                Ok(_) => {
                    expectations.deleted(key, p.metadata.uid.clone().unwrap_or_default());
                    recorder.normal(
                        set_ref.clone(),
                        "SuccessfulDelete",
                        format!("Deleted pod: {name}"),
                    );
                }
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => recorder.warning(
                    set_ref.clone(),
                    "FailedDelete",
                    format!("Error deleting: {e}"),
                ),
            }
        });
        join_all(deletes).await;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_double() {
        assert_eq!(slow_start_batches(0), Vec::<usize>::new());
        assert_eq!(slow_start_batches(1), vec![1]);
        assert_eq!(slow_start_batches(10), vec![1, 2, 4, 3]);
        assert_eq!(slow_start_batches(500).iter().sum::<usize>(), 500);
    }
}
