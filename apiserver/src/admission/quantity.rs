//! Quantity sums and renderings for LimitRanger and ResourceQuota, in
//! milli-units so CPU (`500m`) and bytes (`1Gi`) share one arithmetic.

use apimachinery::quantity::Quantity;
use serde_json::Value;

/// Milli-units of a quantity string; `None` when it does not parse.
pub fn milli(s: &str) -> Option<i128> {
    let q = Quantity::parse(s).ok()?;
    Some(i128::from(q.milli_value()))
}

/// Milli-units of a JSON quantity (string or number).
pub fn milli_of(v: &Value) -> Option<i128> {
    match v {
        Value::String(s) => milli(s),
        Value::Number(n) => n.as_i64().map(|i| i128::from(i) * 1000),
        _ => None,
    }
}

/// Renders milli-units the way upstream prints such a quantity: CPU-like
/// resources in cores or `m`, byte-like ones with the largest exact binary
/// suffix, counts as integers.
pub fn render(resource: &str, m: i128) -> String {
    let bytes = resource.contains("memory") || resource.contains("storage");
    if m % 1000 != 0 {
        return format!("{m}m");
    }
    let v = m / 1000;
    if bytes && v != 0 {
        for (suffix, size) in [
            ("Ti", 1i128 << 40),
            ("Gi", 1 << 30),
            ("Mi", 1 << 20),
            ("Ki", 1 << 10),
        ] {
            if v % size == 0 {
                return format!("{}{suffix}", v / size);
            }
        }
    }
    v.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_render_as_upstream_prints_them() {
        assert_eq!(milli("500m"), Some(500));
        assert_eq!(milli("2"), Some(2000));
        assert_eq!(render("requests.cpu", 1500), "1500m");
        assert_eq!(render("cpu", 2000), "2");
        assert_eq!(
            render("requests.memory", milli("1Gi").unwrap_or(0) * 2),
            "2Gi"
        );
        assert_eq!(render("memory", milli("100M").unwrap_or(0)), "100000000");
        assert_eq!(render("pods", 3000), "3");
        assert_eq!(milli("bogus"), None);
    }
}
