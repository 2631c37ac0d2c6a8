//! The controller-manager's own Prometheus metrics, appended after the
//! process metrics on `/metrics`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Default)]
pub struct Metrics {
    /// `(controller, result)` → count of finished reconciles.
    reconciles: Mutex<BTreeMap<(String, &'static str), u64>>,
    /// Whether this instance holds the leader Lease.
    pub leader: AtomicBool,
}

impl Metrics {
    /// Counts one reconcile of `controller` ending in `result` ("success" or "error").
    pub fn reconciled(&self, controller: &str, result: &'static str) {
        if let Ok(mut m) = self.reconciles.lock() {
            *m.entry((controller.to_string(), result)).or_default() += 1;
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::from(
            "# HELP leader_election_master_status Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master.\n\
             # TYPE leader_election_master_status gauge\n",
        );
        out.push_str(&format!(
            "leader_election_master_status{{name=\"kube-controller-manager\"}} {}\n",
            u8::from(self.leader.load(Ordering::Relaxed))
        ));
        out.push_str(
            "# HELP controller_reconcile_total Reconciles finished, by controller and result.\n\
             # TYPE controller_reconcile_total counter\n",
        );
        if let Ok(m) = self.reconciles.lock() {
            for ((controller, result), n) in m.iter() {
                out.push_str(&format!(
                    "controller_reconcile_total{{controller=\"{controller}\",result=\"{result}\"}} {n}\n"
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts() {
        let m = Metrics::default();
        m.reconciled("deployment", "success");
        m.reconciled("deployment", "success");
        m.reconciled("replicaset", "error");
        m.leader.store(true, Ordering::Relaxed);
        let text = m.render();
        assert!(
            text.contains("leader_election_master_status{name=\"kube-controller-manager\"} 1\n")
        );
        assert!(text.contains(
            "controller_reconcile_total{controller=\"deployment\",result=\"success\"} 2\n"
        ));
        assert!(text.contains(
            "controller_reconcile_total{controller=\"replicaset\",result=\"error\"} 1\n"
        ));
    }
}
