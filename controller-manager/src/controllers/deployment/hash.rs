//! `pod-template-hash`: names a Deployment's ReplicaSet after its pod
//! template, so the same template always maps to the same ReplicaSet, and
//! `status.collisionCount` moves the name when two templates collide.

use k8s_openapi::api::core::v1::PodTemplateSpec;
use serde_json::Value;

/// The label (and ReplicaSet name suffix) that ties pods to a template.
pub const LABEL: &str = "pod-template-hash";

/// Upstream's alphabet for generated names: no vowels, no 0/1/3 (never
/// spells words, never confusable).
const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

fn fnv1a32(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// Maps each character of `s` into the safe alphabet.
fn safe_encode(s: &str) -> String {
    s.bytes()
        .map(|b| ALPHABET[usize::from(b) % ALPHABET.len()] as char)
        .collect()
}

/// The template as the hash sees it: without the hash label itself.
pub fn without_hash(template: &PodTemplateSpec) -> Value {
    let mut v = serde_json::to_value(template).unwrap_or_default();
    if let Some(labels) = v
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(LABEL);
        if labels.is_empty()
            && let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut)
        {
            meta.remove("labels");
        }
    }
    if v.get("metadata")
        .is_some_and(|m| m.as_object().is_some_and(|o| o.is_empty()))
        && let Some(o) = v.as_object_mut()
    {
        o.remove("metadata");
    }
    v
}

/// The hash of `template` (plus the collision count, when set).
pub fn pod_template_hash(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    let mut bytes = serde_json::to_vec(&without_hash(template)).unwrap_or_default();
    if let Some(c) = collision_count {
        bytes.extend_from_slice(c.to_string().as_bytes());
    }
    safe_encode(&fnv1a32(&bytes).to_string())
}

/// Whether two templates are the same apart from the hash label.
pub fn equal_ignoring_hash(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    without_hash(a) == without_hash(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template(image: &str, hash: Option<&str>) -> PodTemplateSpec {
        let mut labels = json!({"app": "nginx"});
        if let Some(h) = hash {
            labels[LABEL] = json!(h);
        }
        serde_json::from_value(json!({"metadata": {"labels": labels},
            "spec": {"containers": [{"name": "nginx", "image": image}]}}))
        .unwrap()
    }

    #[test]
    fn hash_is_stable_safe_and_ignores_its_label() {
        let a = pod_template_hash(&template("nginx:1.27", None), None);
        assert_eq!(
            a,
            pod_template_hash(&template("nginx:1.27", Some(&a)), None)
        );
        assert_ne!(a, pod_template_hash(&template("nginx:1.28", None), None));
        assert_ne!(a, pod_template_hash(&template("nginx:1.27", None), Some(1)));
        assert!(!a.is_empty() && a.len() <= 10, "{a}");
        assert!(a.bytes().all(|b| ALPHABET.contains(&b)), "{a}");
        assert!(equal_ignoring_hash(
            &template("x", Some("abc")),
            &template("x", None)
        ));
        assert!(!equal_ignoring_hash(
            &template("x", None),
            &template("y", None)
        ));
        assert_eq!(fnv1a32(b"a"), 0xe40c292c);
        assert_eq!(safe_encode("0123456789"), "456789bcdf");
    }
}
