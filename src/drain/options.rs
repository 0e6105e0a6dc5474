//! Drain options: kubectl's flags, validated, with "unset" modelled explicitly.

use std::time::Duration;

use serde::Serialize;

use super::selector::PodSelector;

/// Validated drain options (from kubectl's flags, `cli::DrainFlags::options`, or built
/// directly by the TUI).
#[derive(Debug, Clone, Default, Serialize)]
pub struct DrainOptions {
    /// Skip DaemonSet-managed pods instead of failing pre-flight.
    pub ignore_daemonsets: bool,
    /// Allow evicting pods with emptyDir volumes.
    pub delete_emptydir_data: bool,
    /// Allow deleting pods without a controller (and orphaned DaemonSet pods).
    pub force: bool,
    /// Grace period for each pod; `None` uses the pod's own `terminationGracePeriodSeconds`.
    pub grace_period: Option<u32>,
    /// Per-node deadline for evicting and waiting; `None` waits forever.
    #[serde(with = "opt_secs")]
    pub timeout: Option<Duration>,
    /// Only pods matching this selector are drained (others are invisible to kubectl).
    pub pod_selector: Option<PodSelector>,
    /// DELETE pods instead of evicting them (bypasses PodDisruptionBudgets).
    pub disable_eviction: bool,
    /// Skip pods whose deletion started more than this many seconds ago.
    pub skip_wait_for_delete_timeout: Option<u64>,
    /// Accept a drain that takes a workload to no ready replica or breaks a PDB (the plan's
    /// outage findings); without it such a drain does not start.
    pub allow_outage: bool,
}

mod opt_secs {
    use serde::Serializer;
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&d.as_secs_f64()),
            None => s.serialize_none(),
        }
    }
}

/// Parses Go's `time.ParseDuration` syntax (`90s`, `5m`, `1h30m`, `1.5s`, `300ms`, `0`).
pub fn parse_go_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if s == "0" {
        return Some(Duration::ZERO);
    }
    if s.is_empty() || s.starts_with('-') {
        return None;
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        if num_len == 0 {
            return None;
        }
        let n: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += n * factor;
        rest = &rest[unit_len..];
    }
    // Go's limit (an int64 of nanoseconds): beyond it Go says "invalid duration" too.
    if !total.is_finite() || total > MAX_GO_DURATION_SECS {
        return None;
    }
    Duration::try_from_secs_f64(total).ok()
}

/// The longest duration Go's `time.ParseDuration` accepts, in seconds (~292 years).
const MAX_GO_DURATION_SECS: f64 = i64::MAX as f64 / 1e9;

/// Formats like Go's `Duration.String()` for whole seconds and above (`1m0s`, `1h2m3s`, `90ms`).
pub fn format_go_duration(d: Duration) -> String {
    if d.is_zero() {
        return "0s".into();
    }
    if d < Duration::from_secs(1) {
        return format!("{}ms", d.as_millis());
    }
    let total = d.as_secs();
    let frac = d.subsec_millis();
    let (h, m, s) = (total / 3600, (total / 60) % 60, total % 60);
    let secs = if frac > 0 {
        format!("{s}.{:03}", frac).trim_end_matches('0').to_string()
    } else {
        s.to_string()
    };
    match (h, m) {
        (0, 0) => format!("{secs}s"),
        (0, m) => format!("{m}m{secs}s"),
        (h, m) => format!("{h}h{m}m{secs}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("0s"), Some(Duration::ZERO));
        assert_eq!(parse_go_duration("0"), Some(Duration::ZERO));
        assert_eq!(parse_go_duration("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_go_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_go_duration("300ms"), Some(Duration::from_millis(300)));
        assert!(parse_go_duration("5").is_none());
        assert!(parse_go_duration("abc").is_none());
        // Past Go's range: refused, never a panic.
        assert!(parse_go_duration("2562048h").is_none());
        assert!(parse_go_duration(&format!("{}h", "9".repeat(400))).is_none());
        assert!(parse_go_duration("2562047h").is_some());
        assert_eq!(format_go_duration(Duration::from_secs(60)), "1m0s");
        assert_eq!(format_go_duration(Duration::from_secs(3723)), "1h2m3s");
        assert_eq!(format_go_duration(Duration::from_secs(5)), "5s");
    }
}
