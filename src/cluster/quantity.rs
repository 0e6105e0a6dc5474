//! Kubernetes resource quantities (`100m`, `2`, `128Mi`, `1e3`) as plain integers.

/// CPU in millicores: `"100m"` → 100, `"2"` → 2000, `"0.5"` → 500. `None` when unparsable.
pub fn cpu_millis(q: &str) -> Option<u64> {
    let q = q.trim();
    if let Some(m) = q.strip_suffix('m') {
        return m.parse::<f64>().ok().map(|v| v.ceil() as u64);
    }
    scaled(q).map(|v| (v * 1000.0).ceil() as u64)
}

/// Memory (or any byte quantity) in bytes: `"128Mi"`, `"1G"`, `"1e3"`, `"3790588Ki"`.
pub fn bytes(q: &str) -> Option<u64> {
    scaled(q.trim()).map(|v| v.ceil() as u64)
}

/// A plain count such as `allocatable.pods`.
pub fn count(q: &str) -> Option<u64> {
    scaled(q.trim()).map(|v| v as u64)
}

fn scaled(q: &str) -> Option<f64> {
    const SUFFIXES: [(&str, f64); 13] = [
        ("Ki", 1024.0),
        ("Mi", 1048576.0),
        ("Gi", 1073741824.0),
        ("Ti", 1099511627776.0),
        ("Pi", 1125899906842624.0),
        ("Ei", 1152921504606846976.0),
        ("n", 1e-9),
        ("u", 1e-6),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
    ];
    for (suffix, factor) in SUFFIXES {
        if let Some(num) = q.strip_suffix(suffix) {
            return num.parse::<f64>().ok().map(|v| v * factor);
        }
    }
    if let Some(num) = q.strip_suffix('E') {
        return num.parse::<f64>().ok().map(|v| v * 1e18);
    }
    // Plain numbers, including exponent forms like 1e3.
    q.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0)
}

/// Millicores as kubectl prints them: `250m`, `2`.
pub fn format_cpu(millis: u64) -> String {
    if millis.is_multiple_of(1000) {
        format!("{}", millis / 1000)
    } else {
        format!("{millis}m")
    }
}

/// Bytes in the largest binary unit that keeps one decimal: `1.5Gi`, `512Mi`.
pub fn format_bytes(b: u64) -> String {
    const UNITS: [(&str, u64); 4] = [
        ("Ti", 1 << 40),
        ("Gi", 1 << 30),
        ("Mi", 1 << 20),
        ("Ki", 1 << 10),
    ];
    for (unit, size) in UNITS {
        if b >= size {
            let v = b as f64 / size as f64;
            return if v >= 10.0 || (v - v.round()).abs() < 0.05 {
                format!("{:.0}{unit}", v)
            } else {
                format!("{v:.1}{unit}")
            };
        }
    }
    format!("{b}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cpu() {
        assert_eq!(cpu_millis("100m"), Some(100));
        assert_eq!(cpu_millis("2"), Some(2000));
        assert_eq!(cpu_millis("0.5"), Some(500));
        assert_eq!(cpu_millis("x"), None);
    }

    #[test]
    fn parses_memory() {
        assert_eq!(bytes("128Mi"), Some(128 << 20));
        assert_eq!(bytes("3790588Ki"), Some(3790588 << 10));
        assert_eq!(bytes("1G"), Some(1_000_000_000));
        assert_eq!(bytes("1e3"), Some(1000));
        assert_eq!(bytes("-1"), None);
    }

    #[test]
    fn formats() {
        assert_eq!(format_cpu(250), "250m");
        assert_eq!(format_cpu(2000), "2");
        assert_eq!(format_bytes(512 << 20), "512Mi");
        assert_eq!(format_bytes(3 << 29), "1.5Gi");
    }
}
