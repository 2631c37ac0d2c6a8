//! `/metrics`: request counts by verb, resource and code, and request
//! latency histograms, in the Prometheus text format under upstream's
//! metric names.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// Histogram bucket bounds in seconds.
const BUCKETS: &[f64] = &[
    0.005, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0,
];

#[derive(Default)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    total: u64,
}

#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<(String, String), Histogram>,
}

impl Metrics {
    pub fn observe(&self, verb: &str, resource: &str, code: u16, took: Duration) {
        let Ok(mut m) = self.inner.lock() else { return };
        *m.requests
            .entry((verb.to_uppercase(), resource.to_string(), code))
            .or_default() += 1;
        let h = m
            .latency
            .entry((verb.to_uppercase(), resource.to_string()))
            .or_default();
        if h.counts.is_empty() {
            h.counts = vec![0; BUCKETS.len()];
        }
        let secs = took.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                h.counts[i] += 1;
            }
        }
        h.sum += secs;
        h.total += 1;
    }

    pub fn render(&self) -> String {
        let Ok(m) = self.inner.lock() else {
            return String::new();
        };
        let mut s = String::new();
        s.push_str("# HELP apiserver_request_total Counter of apiserver requests broken out for each verb, resource and HTTP response code.\n");
        s.push_str("# TYPE apiserver_request_total counter\n");
        for ((verb, res, code), n) in &m.requests {
            s.push_str(&format!(
                "apiserver_request_total{{code=\"{code}\",resource=\"{res}\",verb=\"{verb}\"}} {n}\n"
            ));
        }
        s.push_str("# HELP apiserver_request_duration_seconds Response latency distribution in seconds for each verb and resource.\n");
        s.push_str("# TYPE apiserver_request_duration_seconds histogram\n");
        for ((verb, res), h) in &m.latency {
            for (i, b) in BUCKETS.iter().enumerate() {
                s.push_str(&format!(
                    "apiserver_request_duration_seconds_bucket{{resource=\"{res}\",verb=\"{verb}\",le=\"{b}\"}} {}\n",
                    h.counts[i]
                ));
            }
            s.push_str(&format!(
                "apiserver_request_duration_seconds_bucket{{resource=\"{res}\",verb=\"{verb}\",le=\"+Inf\"}} {}\n",
                h.total
            ));
            s.push_str(&format!(
                "apiserver_request_duration_seconds_sum{{resource=\"{res}\",verb=\"{verb}\"}} {}\n",
                h.sum
            ));
            s.push_str(&format!(
                "apiserver_request_duration_seconds_count{{resource=\"{res}\",verb=\"{verb}\"}} {}\n",
                h.total
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_buckets() {
        let m = Metrics::default();
        m.observe("get", "pods", 200, Duration::from_millis(3));
        m.observe("get", "pods", 200, Duration::from_millis(30));
        m.observe("list", "pods", 403, Duration::from_millis(1));
        let out = m.render();
        assert!(
            out.contains("apiserver_request_total{code=\"200\",resource=\"pods\",verb=\"GET\"} 2")
        );
        assert!(
            out.contains("apiserver_request_total{code=\"403\",resource=\"pods\",verb=\"LIST\"} 1")
        );
        assert!(out.contains("apiserver_request_duration_seconds_bucket{resource=\"pods\",verb=\"GET\",le=\"0.005\"} 1"));
        assert!(out.contains(
            "apiserver_request_duration_seconds_count{resource=\"pods\",verb=\"GET\"} 2"
        ));
    }
}
