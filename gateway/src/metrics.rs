//! Prometheus metrics of the gateway: request counts by service and status, and a latency
//! histogram. Kept to what operators need first; exposed at `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

const BUCKETS_MS: &[f64] = &[
    1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0,
];

#[derive(Default)]
struct Histogram {
    counts: Vec<u64>,
    sum_ms: f64,
    total: u64,
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    latency: Mutex<BTreeMap<&'static str, Histogram>>,
}

impl Metrics {
    pub fn observe(&self, service: &'static str, status: u16, elapsed: Duration) {
        if let Ok(mut requests) = self.requests.lock() {
            *requests.entry((service, status)).or_default() += 1;
        }
        if let Ok(mut latency) = self.latency.lock() {
            let h = latency.entry(service).or_insert_with(|| Histogram {
                counts: vec![0; BUCKETS_MS.len()],
                ..Default::default()
            });
            let ms = elapsed.as_secs_f64() * 1000.0;
            for (i, bound) in BUCKETS_MS.iter().enumerate() {
                if ms <= *bound {
                    h.counts[i] += 1;
                }
            }
            h.sum_ms += ms;
            h.total += 1;
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP mercato_http_requests_total Requests answered by the gateway."
        );
        let _ = writeln!(out, "# TYPE mercato_http_requests_total counter");
        if let Ok(requests) = self.requests.lock() {
            for ((service, status), n) in requests.iter() {
                let _ = writeln!(
                    out,
                    "mercato_http_requests_total{{service=\"{service}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP mercato_http_request_duration_ms Time to answer, in milliseconds."
        );
        let _ = writeln!(out, "# TYPE mercato_http_request_duration_ms histogram");
        if let Ok(latency) = self.latency.lock() {
            for (service, h) in latency.iter() {
                for (bound, count) in BUCKETS_MS.iter().zip(&h.counts) {
                    let _ = writeln!(
                        out,
                        "mercato_http_request_duration_ms_bucket{{service=\"{service}\",le=\"{bound}\"}} {count}"
                    );
                }
                let _ = writeln!(
                    out,
                    "mercato_http_request_duration_ms_bucket{{service=\"{service}\",le=\"+Inf\"}} {}",
                    h.total
                );
                let _ = writeln!(
                    out,
                    "mercato_http_request_duration_ms_sum{{service=\"{service}\"}} {}",
                    h.sum_ms
                );
                let _ = writeln!(
                    out,
                    "mercato_http_request_duration_ms_count{{service=\"{service}\"}} {}",
                    h.total
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_buckets() {
        let m = Metrics::default();
        m.observe("tenants", 200, Duration::from_millis(3));
        m.observe("tenants", 200, Duration::from_millis(30));
        let text = m.render();
        assert!(text.contains("mercato_http_requests_total{service=\"tenants\",status=\"200\"} 2"));
        assert!(
            text.contains(
                "mercato_http_request_duration_ms_bucket{service=\"tenants\",le=\"5\"} 1"
            )
        );
        assert!(text.contains("mercato_http_request_duration_ms_count{service=\"tenants\"} 2"));
    }
}
