//! Which PersistentVolume a claim can bind: same storage class and volume
//! mode, every requested access mode, enough capacity, the claim's
//! selector, and not bound to another claim; the smallest that fits wins.

use apimachinery::labels::Selector;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

/// A quantity in bytes (`10Gi`, `500M`, `1e3`, `1.5Gi`); `None` when it
/// does not parse.
pub fn bytes(q: &Quantity) -> Option<f64> {
    let s = q.0.trim();
    let split = s
        .find(|c: char| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult = match suffix {
        "" => 1.0,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        "m" => 1e-3,
        _ => return None,
    };
    Some(n * mult)
}

fn storage(q: Option<&std::collections::BTreeMap<String, Quantity>>) -> Option<f64> {
    q.and_then(|m| m.get("storage")).and_then(bytes)
}

pub fn claim_class(pvc: &PersistentVolumeClaim) -> &str {
    pvc.spec
        .as_ref()
        .and_then(|s| s.storage_class_name.as_deref())
        .unwrap_or("")
}

pub fn volume_class(pv: &PersistentVolume) -> &str {
    pv.spec
        .as_ref()
        .and_then(|s| s.storage_class_name.as_deref())
        .unwrap_or("")
}

/// Whether `pv` can hold `pvc` (ignoring who else might want it).
pub fn fits(pv: &PersistentVolume, pvc: &PersistentVolumeClaim) -> bool {
    let (Some(vs), Some(cs)) = (pv.spec.as_ref(), pvc.spec.as_ref()) else {
        return false;
    };
    if pv.metadata.deletion_timestamp.is_some() || volume_class(pv) != claim_class(pvc) {
        return false;
    }
    if vs.volume_mode.as_deref().unwrap_or("Filesystem")
        != cs.volume_mode.as_deref().unwrap_or("Filesystem")
    {
        return false;
    }
    let have = vs.access_modes.clone().unwrap_or_default();
    if !cs.access_modes.iter().flatten().all(|m| have.contains(m)) {
        return false;
    }
    let want = storage(cs.resources.as_ref().and_then(|r| r.requests.as_ref())).unwrap_or(0.0);
    if storage(vs.capacity.as_ref()).unwrap_or(0.0) < want {
        return false;
    }
    if let Some(sel) = &cs.selector {
        let Ok(v) = serde_json::to_value(sel) else {
            return false;
        };
        let Ok(sel) = Selector::from_label_selector(&v) else {
            return false;
        };
        if !sel.matches(pv.metadata.labels.as_ref().unwrap_or(&Default::default())) {
            return false;
        }
    }
    // Pre-bound to a claim: only that claim.
    match vs.claim_ref.as_ref() {
        None => true,
        Some(r) => {
            r.name == pvc.metadata.name
                && r.namespace == pvc.metadata.namespace
                && r.uid
                    .as_ref()
                    .is_none_or(|u| Some(u) == pvc.metadata.uid.as_ref())
        }
    }
}

/// The best volume for a claim: the smallest one that fits.
pub fn best_match<'a>(
    pvs: &'a [&'a PersistentVolume],
    pvc: &PersistentVolumeClaim,
) -> Option<&'a PersistentVolume> {
    pvs.iter()
        .copied()
        .filter(|pv| fits(pv, pvc))
        .min_by(|a, b| {
            let ca = storage(a.spec.as_ref().and_then(|s| s.capacity.as_ref())).unwrap_or(0.0);
            let cb = storage(b.spec.as_ref().and_then(|s| s.capacity.as_ref())).unwrap_or(0.0);
            ca.total_cmp(&cb)
                .then_with(|| a.metadata.name.cmp(&b.metadata.name))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pv(
        name: &str,
        cap: &str,
        class: &str,
        modes: &[&str],
        labels: serde_json::Value,
        claim: Option<&str>,
    ) -> PersistentVolume {
        let mut v = json!({"metadata": {"name": name, "labels": labels},
            "spec": {"capacity": {"storage": cap}, "storageClassName": class, "accessModes": modes, "hostPath": {"path": "/tmp"}}});
        if let Some(c) = claim {
            v["spec"]["claimRef"] = json!({"name": c, "namespace": "default"});
        }
        serde_json::from_value(v).expect("pv")
    }

    fn pvc(
        req: &str,
        class: &str,
        modes: &[&str],
        selector: Option<serde_json::Value>,
    ) -> PersistentVolumeClaim {
        let mut v = json!({"metadata": {"name": "data", "namespace": "default", "uid": "u1"},
            "spec": {"storageClassName": class, "accessModes": modes, "resources": {"requests": {"storage": req}}}});
        if let Some(s) = selector {
            v["spec"]["selector"] = s;
        }
        serde_json::from_value(v).expect("pvc")
    }

    #[test]
    fn quantities() {
        for (q, want) in [
            ("10Gi", 10.0 * 1024f64.powi(3)),
            ("500M", 5e8),
            ("1.5Ki", 1536.0),
            ("100", 100.0),
        ] {
            assert_eq!(bytes(&Quantity(q.into())), Some(want), "{q}");
        }
        assert_eq!(bytes(&Quantity("ten".into())), None);
    }

    #[test]
    fn smallest_fitting_volume_wins() {
        let vols = [
            pv("big", "10Gi", "slow", &["ReadWriteOnce"], json!({}), None),
            pv(
                "small",
                "1Gi",
                "slow",
                &["ReadWriteOnce", "ReadOnlyMany"],
                json!({}),
                None,
            ),
            pv("tiny", "100Mi", "slow", &["ReadWriteOnce"], json!({}), None),
            pv("fast", "1Gi", "fast", &["ReadWriteOnce"], json!({}), None),
            pv(
                "taken",
                "1Gi",
                "slow",
                &["ReadWriteOnce"],
                json!({}),
                Some("other"),
            ),
        ];
        let refs: Vec<&PersistentVolume> = vols.iter().collect();
        let name =
            |c: &PersistentVolumeClaim| best_match(&refs, c).and_then(|v| v.metadata.name.clone());
        assert_eq!(
            name(&pvc("500Mi", "slow", &["ReadWriteOnce"], None)).as_deref(),
            Some("small")
        );
        assert_eq!(
            name(&pvc("2Gi", "slow", &["ReadWriteOnce"], None)).as_deref(),
            Some("big")
        );
        assert_eq!(name(&pvc("1Gi", "slow", &["ReadWriteMany"], None)), None);
        assert_eq!(
            name(&pvc("1Gi", "fast", &["ReadWriteOnce"], None)).as_deref(),
            Some("fast")
        );
        assert_eq!(name(&pvc("20Gi", "slow", &["ReadWriteOnce"], None)), None);
    }

    #[test]
    fn selectors_and_prebinding() {
        let vols = [
            pv(
                "a",
                "1Gi",
                "",
                &["ReadWriteOnce"],
                json!({"tier": "db"}),
                None,
            ),
            pv(
                "b",
                "1Gi",
                "",
                &["ReadWriteOnce"],
                json!({"tier": "web"}),
                None,
            ),
            pv(
                "mine",
                "5Gi",
                "",
                &["ReadWriteOnce"],
                json!({}),
                Some("data"),
            ),
        ];
        let refs: Vec<&PersistentVolume> = vols.iter().collect();
        let sel = pvc(
            "1Gi",
            "",
            &["ReadWriteOnce"],
            Some(json!({"matchLabels": {"tier": "web"}})),
        );
        assert_eq!(
            best_match(&refs, &sel)
                .and_then(|v| v.metadata.name.clone())
                .as_deref(),
            Some("b")
        );
        assert!(fits(&vols[2], &pvc("1Gi", "", &["ReadWriteOnce"], None)));
    }
}
