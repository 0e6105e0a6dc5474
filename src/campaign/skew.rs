//! The Kubernetes version skew policy as pure rules (kubernetes.io/releases/version-skew-policy;
//! KEP-3935 for kubelet n-3): each rule takes versions and says what is allowed and whether a
//! version breaks it.

use std::fmt;

use serde::Serialize;

use super::version::{Minor, Version};

/// How bad a finding is. `Error` is a violation of the policy (the headless command exits 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    /// `info`, `warning`, `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// The minors a component may run at, oldest to newest (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Allowed {
    pub oldest: Minor,
    pub newest: Minor,
}

impl Allowed {
    /// Whether `m` is in the range.
    pub fn contains(self, m: Minor) -> bool {
        self.oldest <= m && m <= self.newest
    }

    /// Both ranges at once; `None` when they do not overlap.
    pub fn intersect(self, o: Allowed) -> Option<Allowed> {
        let a = Allowed {
            oldest: self.oldest.max(o.oldest),
            newest: self.newest.min(o.newest),
        };
        (a.oldest <= a.newest).then_some(a)
    }
}

impl fmt::Display for Allowed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.oldest == self.newest {
            write!(f, "{}", self.oldest)
        } else {
            write!(f, "{}–{}", self.oldest, self.newest)
        }
    }
}

/// One rule's verdict on one version: severity and the reason in words.
pub type Verdict = Option<(Severity, String)>;

/// Releases before this one allow kubelets and kube-proxy only two minors of skew (n-2).
const N3_SINCE: Minor = Minor::new(1, 25);

/// How many minors a kubelet or kube-proxy at `m` may trail (3 since v1.25, else 2).
fn max_trail(m: Minor) -> i64 {
    if m < N3_SINCE { 2 } else { 3 }
}

/// Whether a kubelet (or kube-proxy) at `agent` may talk to apiservers at `api` (the oldest).
pub fn agent_ok(agent: Minor, api: Minor) -> bool {
    let d = agent.behind(api);
    (0..=max_trail(agent)).contains(&d)
}

/// The kubelet / kube-proxy minors apiservers at `api` (the oldest) accept.
pub fn agent_allowed(api: Minor) -> Allowed {
    let oldest = (0..=3)
        .rev()
        .map(|n| api.minus(n))
        .find(|m| agent_ok(*m, api))
        .unwrap_or(api);
    Allowed {
        oldest,
        newest: api,
    }
}

/// A kubelet or kube-proxy (`what`) at `v` against the oldest apiserver `api`.
pub fn agent(what: &str, v: &Version, api: &Version) -> Verdict {
    let (m, a) = (v.minor_release(), api.minor_release());
    let allowed = agent_allowed(a);
    if m > a {
        return Some((
            Severity::Error,
            format!("{what} {v} is newer than kube-apiserver {api} (never newer)"),
        ));
    }
    if !agent_ok(m, a) {
        return Some((
            Severity::Error,
            format!(
                "{what} {v} is {} minors behind kube-apiserver {api} (allowed {allowed}: n-3, n-2 before v1.25)",
                m.behind(a)
            ),
        ));
    }
    let next = a.plus(1);
    if !agent_ok(m, next) {
        return Some((
            Severity::Warning,
            format!(
                "{what} {v} is at the oldest minor kube-apiserver {a} allows: must be upgraded before the next control-plane upgrade ({next} needs ≥ {})",
                agent_allowed(next).oldest
            ),
        ));
    }
    patch_skew(what, v, api)
}

/// A kubelet at `v` against the oldest apiserver `api`; `local` is the apiserver on its own
/// node. Mid-upgrade a control-plane node's kubelet may be at its new apiserver's minor: in
/// policy only if it talks to that one (kubeadm's ControlPlaneKubeletLocalMode), which the
/// API does not show, so a warning rather than a verdict either way.
pub fn kubelet(v: &Version, api: &Version, local: Option<&Version>) -> Verdict {
    let (m, a) = (v.minor_release(), api.minor_release());
    if let Some(l) = local.filter(|l| m > a && m <= l.minor_release()) {
        return Some((
            Severity::Warning,
            format!(
                "kubelet {v} is newer than kube-apiserver {api} on another node: in policy only while it talks to its own node's kube-apiserver {l} (kubeadm's ControlPlaneKubeletLocalMode); finish the control-plane upgrade"
            ),
        ));
    }
    agent("kubelet", v, api)
}

/// The minors kube-proxy may run beside a kubelet at `kubelet` (within 3 either way, 2 for
/// kube-proxy before v1.25: the narrower end is taken).
pub fn proxy_beside_kubelet(kubelet: Minor) -> Allowed {
    Allowed {
        oldest: kubelet.minus(3),
        newest: kubelet.plus(3),
    }
}

/// kube-proxy at `proxy` against the kubelet `kubelet` on the same node.
pub fn proxy_vs_kubelet(proxy: &Version, kubelet: &Version) -> Verdict {
    let (p, k) = (proxy.minor_release(), kubelet.minor_release());
    let d = p.behind(k).abs();
    (d > max_trail(p)).then(|| {
        (
            Severity::Error,
            format!(
                "kube-proxy {proxy} is {d} minors from the node's kubelet {kubelet} (at most {})",
                max_trail(p)
            ),
        )
    })
}

/// The minors an apiserver may run at beside the others (newest and oldest within one).
pub fn apiserver_allowed(oldest: Minor, newest: Minor) -> Allowed {
    Allowed {
        oldest: newest.minus(1),
        newest: oldest.plus(1),
    }
}

/// The apiservers of an HA control plane, together.
pub fn apiservers(all: &[Version]) -> Verdict {
    let oldest = all.iter().min_by_key(|v| v.triple())?;
    let newest = all.iter().max_by_key(|v| v.triple())?;
    let d = oldest.minor_release().behind(newest.minor_release());
    if d > 1 {
        Some((
            Severity::Error,
            format!("kube-apiservers {oldest} and {newest} are {d} minors apart (at most 1)"),
        ))
    } else if d == 1 {
        Some((
            Severity::Info,
            format!(
                "kube-apiservers at {oldest} and {newest}: a control-plane upgrade in progress"
            ),
        ))
    } else if oldest.triple() != newest.triple() {
        Some((
            Severity::Info,
            format!("patch skew: kube-apiservers at {oldest} and {newest}"),
        ))
    } else {
        None
    }
}

/// The minors kube-controller-manager and kube-scheduler may run at (not newer than the
/// oldest apiserver, at most one older).
pub fn controller_allowed(api: Minor) -> Allowed {
    Allowed {
        oldest: api.minus(1),
        newest: api,
    }
}

/// kube-controller-manager / kube-scheduler (`what`) at `v` against the oldest apiserver
/// `api`; `local` is the apiserver on the same node, if any (mid-upgrade, kubeadm's
/// components talk to it, not to the older ones).
pub fn controller(what: &str, v: &Version, api: &Version, local: Option<&Version>) -> Verdict {
    let (m, a) = (v.minor_release(), api.minor_release());
    if let Some(l) = local.filter(|l| m > a && m <= l.minor_release()) {
        return Some((
            Severity::Warning,
            format!(
                "{what} {v} is newer than kube-apiserver {api} on another node: in policy only while it talks to its own node's kube-apiserver {l} (kubeadm's default); finish the control-plane upgrade"
            ),
        ));
    }
    if m > a {
        return Some((
            Severity::Error,
            format!("{what} {v} is newer than kube-apiserver {api} (never newer)"),
        ));
    }
    if !controller_allowed(a).contains(m) {
        return Some((
            Severity::Error,
            format!(
                "{what} {v} is {} minors behind kube-apiserver {api} (at most 1)",
                m.behind(a)
            ),
        ));
    }
    if m < a {
        return Some((
            Severity::Info,
            format!(
                "{what} {v} is one minor behind kube-apiserver {api}: upgrade it with the control plane"
            ),
        ));
    }
    patch_skew(what, v, api)
}

/// Same minor, another patch: worth knowing, never a violation.
fn patch_skew(what: &str, v: &Version, api: &Version) -> Verdict {
    (v.minor_release() == api.minor_release() && v.triple() != api.triple()).then(|| {
        (
            Severity::Info,
            format!("patch skew: {what} {v} beside kube-apiserver {api}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    fn sev(verdict: &Verdict) -> Option<Severity> {
        verdict.as_ref().map(|(s, _)| *s)
    }

    use Severity::{Error as E, Info as I, Warning as W};

    #[test]
    fn kubelet_against_the_oldest_apiserver() {
        // (kubelet, apiserver, expected severity, words the message must hold)
        let cases: &[(&str, &str, Option<Severity>, &str)] = &[
            ("v1.25.4", "v1.25.4", None, ""),
            (
                "v1.25.0",
                "v1.25.4",
                Some(I),
                "patch skew: kubelet v1.25.0 beside kube-apiserver v1.25.4",
            ),
            ("v1.25.5", "v1.25.4", Some(I), "patch skew"),
            (
                "v1.26.0",
                "v1.25.4",
                Some(E),
                "newer than kube-apiserver v1.25.4",
            ),
            ("v1.28.1", "v1.29.4", None, ""),
            ("v1.27.1", "v1.29.4", None, ""),
            // n-3 is allowed, but the next control-plane minor would break it.
            (
                "v1.26.1",
                "v1.29.4",
                Some(W),
                "must be upgraded before the next control-plane upgrade (v1.30 needs ≥ v1.27)",
            ),
            ("v1.25.9", "v1.29.4", Some(E), "4 minors behind"),
            // Before v1.25 kubelets were limited to n-2.
            (
                "v1.23.0",
                "v1.25.4",
                Some(W),
                "must be upgraded before the next control-plane upgrade",
            ),
            ("v1.22.0", "v1.25.4", Some(E), "3 minors behind"),
            ("v1.24.0", "v1.27.1", Some(E), "3 minors behind"),
            ("v1.25.0", "v1.27.1", None, ""),
            // v1.24 is fine under v1.26 but not under v1.27.
            ("v1.24.3", "v1.26.0", Some(W), "v1.27 needs ≥ v1.25"),
            ("v1.29.4-eks-abc", "v1.29.4", None, ""),
            ("v1.28.3+k3s1", "v1.29.0+k3s1", None, ""),
        ];
        for (k, a, want, words) in cases {
            let got = agent("kubelet", &v(k), &v(a));
            assert_eq!(sev(&got), *want, "kubelet {k} vs apiserver {a}: {got:?}");
            if let Some((_, msg)) = got {
                assert!(msg.contains(words), "kubelet {k} vs {a}: {msg}");
            }
        }
    }

    #[test]
    fn control_plane_kubelet_beside_its_own_apiserver() {
        // (kubelet, oldest apiserver, apiserver on its node, severity, words)
        let cases: &[(&str, &str, &str, Option<Severity>, &str)] = &[
            (
                "v1.29.1",
                "v1.28.6",
                "v1.29.1",
                Some(W),
                "its own node's kube-apiserver v1.29.1",
            ),
            ("v1.29.1", "v1.28.6", "v1.28.6", Some(E), "never newer"),
            ("v1.29.1", "v1.28.6", "", Some(E), "never newer"),
            ("v1.30.0", "v1.28.6", "v1.29.1", Some(E), "never newer"),
            ("v1.28.6", "v1.28.6", "v1.29.1", None, ""),
        ];
        for (k, a, local, want, words) in cases {
            let local = (!local.is_empty()).then(|| v(local));
            let got = kubelet(&v(k), &v(a), local.as_ref());
            assert_eq!(
                sev(&got),
                *want,
                "kubelet {k} vs {a} (local {local:?}): {got:?}"
            );
            if let Some((_, msg)) = got {
                assert!(msg.contains(words), "{k}: {msg}");
            }
        }
    }

    #[test]
    fn agent_ranges() {
        let cases: &[((u32, u32), &str)] = &[
            ((1, 29), "v1.26–v1.29"),
            ((1, 28), "v1.25–v1.28"),
            ((1, 27), "v1.25–v1.27"),
            ((1, 26), "v1.24–v1.26"),
            ((1, 25), "v1.23–v1.25"),
        ];
        for ((maj, min), want) in cases {
            assert_eq!(agent_allowed(Minor::new(*maj, *min)).to_string(), *want);
        }
    }

    #[test]
    fn kube_proxy_beside_its_kubelet() {
        let cases: &[(&str, &str, Option<Severity>)] = &[
            ("v1.29.0", "v1.29.0", None),
            ("v1.29.0", "v1.26.0", None),
            ("v1.26.0", "v1.29.0", None),
            ("v1.29.0", "v1.25.0", Some(E)),
            ("v1.25.0", "v1.29.0", Some(E)),
            // kube-proxy before v1.25: two minors.
            ("v1.24.0", "v1.27.0", Some(E)),
            ("v1.24.0", "v1.26.0", None),
        ];
        for (p, k, want) in cases {
            let got = proxy_vs_kubelet(&v(p), &v(k));
            assert_eq!(
                sev(&got),
                *want,
                "kube-proxy {p} beside kubelet {k}: {got:?}"
            );
        }
        assert_eq!(
            proxy_beside_kubelet(Minor::new(1, 26)).to_string(),
            "v1.23–v1.29"
        );
    }

    #[test]
    fn apiservers_within_one_minor() {
        let cases: &[(&[&str], Option<Severity>, &str)] = &[
            (&["v1.29.4"], None, ""),
            (&["v1.29.4", "v1.29.4", "v1.29.4"], None, ""),
            (&["v1.29.4", "v1.29.2"], Some(I), "patch skew"),
            (&["v1.29.4", "v1.30.0"], Some(I), "upgrade in progress"),
            (
                &["v1.28.0", "v1.29.4", "v1.30.0"],
                Some(E),
                "2 minors apart",
            ),
            (&[], None, ""),
        ];
        for (all, want, words) in cases {
            let vs: Vec<Version> = all.iter().map(|s| v(s)).collect();
            let got = apiservers(&vs);
            assert_eq!(sev(&got), *want, "{all:?}: {got:?}");
            if let Some((_, msg)) = got {
                assert!(msg.contains(words), "{all:?}: {msg}");
            }
        }
        let r = apiserver_allowed(Minor::new(1, 29), Minor::new(1, 30));
        assert_eq!(r.to_string(), "v1.29–v1.30");
    }

    #[test]
    fn controller_manager_and_scheduler() {
        // (component, oldest apiserver, apiserver on its node, severity, words)
        let cases: &[(&str, &str, &str, Option<Severity>, &str)] = &[
            ("v1.25.4", "v1.25.4", "", None, ""),
            ("v1.25.2", "v1.25.4", "", Some(I), "patch skew"),
            ("v1.26.0", "v1.25.4", "", Some(E), "never newer"),
            ("v1.24.9", "v1.25.4", "", Some(I), "one minor behind"),
            ("v1.23.9", "v1.25.4", "", Some(E), "2 minors behind"),
            // Mid-upgrade: its own node's apiserver is already at its minor.
            (
                "v1.26.0",
                "v1.25.4",
                "v1.26.0",
                Some(W),
                "talks to its own node's kube-apiserver v1.26.0",
            ),
            ("v1.26.0", "v1.25.4", "v1.25.4", Some(E), "never newer"),
            ("v1.27.0", "v1.25.4", "v1.26.0", Some(E), "never newer"),
        ];
        for (c, a, local, want, words) in cases {
            let local = (!local.is_empty()).then(|| v(local));
            let got = controller("kube-scheduler", &v(c), &v(a), local.as_ref());
            assert_eq!(sev(&got), *want, "{c} vs {a} (local {local:?}): {got:?}");
            if let Some((_, msg)) = got {
                assert!(msg.contains(words), "{c} vs {a}: {msg}");
            }
        }
        assert_eq!(
            controller_allowed(Minor::new(1, 25)).to_string(),
            "v1.24–v1.25"
        );
    }

    #[test]
    fn ranges_intersect() {
        let a = agent_allowed(Minor::new(1, 29));
        let b = proxy_beside_kubelet(Minor::new(1, 24));
        assert_eq!(
            a.intersect(b).map(|r| r.to_string()),
            Some("v1.26–v1.27".into())
        );
        let c = proxy_beside_kubelet(Minor::new(1, 20));
        assert_eq!(a.intersect(c), None);
    }
}
