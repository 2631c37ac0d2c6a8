//! The scheduler's own metrics, in Prometheus text format under upstream's
//! names: attempts by result, attempt and end-to-end latency histograms,
//! pending pods per queue, preemption attempts.

use crate::queue::Lengths;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

const BUCKETS: &[f64] = &[
    0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096,
    8.192, 16.384,
];

/// A cumulative histogram with upstream-like exponential buckets.
#[derive(Default)]
pub struct Histogram {
    inner: Mutex<(Vec<u64>, f64, u64)>,
}

impl Histogram {
    pub fn observe(&self, seconds: f64) {
        let mut h = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if h.0.is_empty() {
            h.0 = vec![0; BUCKETS.len()];
        }
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                h.0[i] += 1;
            }
        }
        h.1 += seconds;
        h.2 += 1;
    }

    fn render(&self, name: &str, labels: &str, out: &mut String) {
        let h = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, b) in BUCKETS.iter().enumerate() {
            let n = h.0.get(i).copied().unwrap_or(0);
            out.push_str(&format!("{name}_bucket{{{labels}{sep}le=\"{b}\"}} {n}\n"));
        }
        out.push_str(&format!(
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}\n",
            h.2
        ));
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        out.push_str(&format!(
            "{name}_sum{braces} {}\n{name}_count{braces} {}\n",
            h.1, h.2
        ));
    }
}

#[derive(Default)]
pub struct Metrics {
    pub scheduled: AtomicU64,
    pub unschedulable: AtomicU64,
    pub errors: AtomicU64,
    pub preemption_attempts: AtomicU64,
    pub preemption_victims: AtomicU64,
    pub attempt_duration: Histogram,
    /// Filter + score time alone (no API calls).
    pub algorithm_duration: Histogram,
    pub e2e_duration: Histogram,
    pub queue: Mutex<Lengths>,
}

impl Metrics {
    pub fn set_queue(&self, l: Lengths) {
        *self.queue.lock().unwrap_or_else(|e| e.into_inner()) = l;
    }

    pub fn render(&self, profile: &str) -> String {
        let mut out = String::new();
        out.push_str("# HELP scheduler_schedule_attempts_total Number of attempts to schedule pods, by the result.\n# TYPE scheduler_schedule_attempts_total counter\n");
        for (result, v) in [
            ("scheduled", &self.scheduled),
            ("unschedulable", &self.unschedulable),
            ("error", &self.errors),
        ] {
            out.push_str(&format!(
                "scheduler_schedule_attempts_total{{profile=\"{profile}\",result=\"{result}\"}} {}\n",
                v.load(Ordering::Relaxed)
            ));
        }
        out.push_str("# HELP scheduler_scheduling_attempt_duration_seconds Scheduling attempt latency in seconds (scheduling algorithm + binding).\n# TYPE scheduler_scheduling_attempt_duration_seconds histogram\n");
        self.attempt_duration.render(
            "scheduler_scheduling_attempt_duration_seconds",
            &format!("profile=\"{profile}\""),
            &mut out,
        );
        out.push_str("# HELP scheduler_scheduling_algorithm_duration_seconds Scheduling algorithm latency in seconds.\n# TYPE scheduler_scheduling_algorithm_duration_seconds histogram\n");
        self.algorithm_duration.render(
            "scheduler_scheduling_algorithm_duration_seconds",
            "",
            &mut out,
        );
        out.push_str("# HELP scheduler_pod_scheduling_sli_duration_seconds E2e latency for a pod being scheduled, from the time the pod enters the scheduling queue until it is bound.\n# TYPE scheduler_pod_scheduling_sli_duration_seconds histogram\n");
        self.e2e_duration.render(
            "scheduler_pod_scheduling_sli_duration_seconds",
            "",
            &mut out,
        );
        out.push_str("# HELP scheduler_pending_pods Number of pending pods, by the queue type.\n# TYPE scheduler_pending_pods gauge\n");
        let q = *self.queue.lock().unwrap_or_else(|e| e.into_inner());
        for (name, v) in [
            ("active", q.active),
            ("backoff", q.backoff),
            ("unschedulable", q.unschedulable),
            ("gated", 0),
        ] {
            out.push_str(&format!("scheduler_pending_pods{{queue=\"{name}\"}} {v}\n"));
        }
        out.push_str("# HELP scheduler_preemption_attempts_total Total preemption attempts in the cluster till now\n# TYPE scheduler_preemption_attempts_total counter\n");
        out.push_str(&format!(
            "scheduler_preemption_attempts_total {}\n",
            self.preemption_attempts.load(Ordering::Relaxed)
        ));
        out.push_str("# HELP scheduler_preemption_victims Number of selected preemption victims\n# TYPE scheduler_preemption_victims counter\n");
        out.push_str(&format!(
            "scheduler_preemption_victims {}\n",
            self.preemption_victims.load(Ordering::Relaxed)
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_histograms_and_queues() {
        let m = Metrics::default();
        m.scheduled.fetch_add(3, Ordering::Relaxed);
        m.attempt_duration.observe(0.003);
        m.set_queue(Lengths {
            active: 2,
            backoff: 1,
            unschedulable: 4,
        });
        let text = m.render("default-scheduler");
        assert!(text.contains("scheduler_schedule_attempts_total{profile=\"default-scheduler\",result=\"scheduled\"} 3"), "{text}");
        assert!(text.contains("scheduler_scheduling_attempt_duration_seconds_bucket{profile=\"default-scheduler\",le=\"0.002\"} 0"));
        assert!(text.contains("scheduler_scheduling_attempt_duration_seconds_bucket{profile=\"default-scheduler\",le=\"0.004\"} 1"));
        assert!(text.contains(
            "scheduler_scheduling_attempt_duration_seconds_count{profile=\"default-scheduler\"} 1"
        ));
        assert!(text.contains("scheduler_pending_pods{queue=\"unschedulable\"} 4"));
    }
}
