//! Kubernetes version strings: `v1.25.4`, `v1.29.4-eks-abc`, `v1.28.3+k3s1`, and the tag of an
//! image such as `registry.k8s.io/kube-apiserver:v1.25.4`.

use std::fmt;

use serde::Serialize;

/// A parsed `vMAJOR.MINOR.PATCH[-pre][+build]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
    /// What follows the patch (`-eks-abc`, `+k3s1`), kept for display.
    pub suffix: String,
}

/// A minor release, the unit of the skew policy (`v1.25`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Minor {
    pub major: u32,
    pub minor: u32,
}

impl Minor {
    /// `v{major}.{minor}`.
    pub const fn new(major: u32, minor: u32) -> Minor {
        Minor { major, minor }
    }

    /// `n` minors later (same major: Kubernetes has had one major since 1.0).
    pub fn plus(self, n: u32) -> Minor {
        Minor::new(self.major, self.minor + n)
    }

    /// `n` minors earlier (saturating at `.0`).
    pub fn minus(self, n: u32) -> Minor {
        Minor::new(self.major, self.minor.saturating_sub(n))
    }

    /// How many minors `self` is behind `other` (negative: ahead); across majors, by major.
    pub fn behind(self, other: Minor) -> i64 {
        if self.major != other.major {
            return (other.major as i64 - self.major as i64) * 1000;
        }
        other.minor as i64 - self.minor as i64
    }
}

impl fmt::Display for Minor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}", self.major, self.minor)
    }
}

impl Serialize for Minor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Text that is not a Kubernetes version `vMAJOR.MINOR.PATCH`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a Kubernetes version (want vMAJOR.MINOR.PATCH)")]
pub struct VersionError {
    /// The text as given.
    pub text: String,
}

impl Version {
    /// Parses a version; the leading `v` is optional, a missing patch is an error.
    pub fn parse(s: &str) -> Result<Version, VersionError> {
        let t = s.trim();
        let body = t.strip_prefix('v').unwrap_or(t);
        let cut = body.find(['-', '+']).unwrap_or(body.len());
        let (core, suffix) = body.split_at(cut);
        let nums: Vec<&str> = core.split('.').collect();
        let not_one = || VersionError {
            text: s.to_string(),
        };
        let num = |i: usize| -> Result<u32, VersionError> {
            nums.get(i)
                .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|n| n.parse().ok())
                .ok_or_else(not_one)
        };
        if nums.len() != 3 {
            return Err(not_one());
        }
        Ok(Version {
            major: num(0)?,
            minor: num(1)?,
            patch: num(2)?,
            suffix: suffix.to_string(),
        })
    }

    /// The version in an image's tag (`repo/name:v1.25.4`, `repo:5000/name:tag@sha256:…`).
    pub fn from_image(image: &str) -> Option<Version> {
        Version::parse(image_tag(image)?).ok()
    }

    /// Its minor release.
    pub fn minor_release(&self) -> Minor {
        Minor::new(self.major, self.minor)
    }

    /// Major, minor and patch, for ordering (the suffix does not order).
    pub fn triple(&self) -> (u32, u32, u32) {
        (self.major, self.minor, self.patch)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "v{}.{}.{}{}",
            self.major, self.minor, self.patch, self.suffix
        )
    }
}

impl Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The tag of an image reference, without a digest; `None` when it has none.
pub fn image_tag(image: &str) -> Option<&str> {
    let no_digest = image.split('@').next().unwrap_or(image);
    // A `:` before the last `/` is a registry port, not a tag.
    let last = no_digest.rsplit('/').next().unwrap_or(no_digest);
    last.split_once(':')
        .map(|(_, tag)| tag)
        .filter(|t| !t.is_empty())
}

/// The last path segment of an image's repository (`kube-apiserver`, `coredns`).
pub fn image_name(image: &str) -> &str {
    let no_digest = image.split('@').next().unwrap_or(image);
    let last = no_digest.rsplit('/').next().unwrap_or(no_digest);
    last.split(':').next().unwrap_or(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kubernetes_versions() {
        let cases: &[(&str, (u32, u32, u32), &str)] = &[
            ("v1.25.4", (1, 25, 4), ""),
            ("1.25.0", (1, 25, 0), ""),
            ("v1.29.4-eks-abc", (1, 29, 4), "-eks-abc"),
            ("v1.28.3+k3s1", (1, 28, 3), "+k3s1"),
            ("v1.30.0-rc.1+build.7", (1, 30, 0), "-rc.1+build.7"),
            (" v1.27.10 ", (1, 27, 10), ""),
        ];
        for (s, triple, suffix) in cases {
            let v = Version::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(v.triple(), *triple, "{s}");
            assert_eq!(v.suffix, *suffix, "{s}");
            assert_eq!(
                v.to_string(),
                format!("v{}", s.trim().trim_start_matches('v'))
            );
        }
    }

    #[test]
    fn rejects_what_is_not_a_version() {
        for s in [
            "",
            "latest",
            "v1.25",
            "v1.25.x",
            "v1..4",
            "va.b.c",
            "v1.25.4.1",
            "v1.25.-1",
        ] {
            let err = Version::parse(s).expect_err(s).to_string();
            assert!(err.contains("not a Kubernetes version"), "{s}: {err}");
        }
    }

    #[test]
    fn reads_image_tags() {
        let cases: &[(&str, Option<&str>, &str)] = &[
            (
                "registry.k8s.io/kube-apiserver:v1.25.4",
                Some("v1.25.4"),
                "kube-apiserver",
            ),
            (
                "localhost:5000/kube-proxy:v1.28.3",
                Some("v1.28.3"),
                "kube-proxy",
            ),
            ("localhost:5000/kube-proxy", None, "kube-proxy"),
            (
                "602401143452.dkr.ecr.us-west-2.amazonaws.com/eks/kube-proxy:v1.29.0-minimal-eksbuild.1",
                Some("v1.29.0-minimal-eksbuild.1"),
                "kube-proxy",
            ),
            (
                "registry.k8s.io/coredns/coredns:v1.9.3@sha256:abc",
                Some("v1.9.3"),
                "coredns",
            ),
            ("registry.k8s.io/etcd:3.5.5-0", Some("3.5.5-0"), "etcd"),
            ("weaveworks/weave-kube:latest", Some("latest"), "weave-kube"),
        ];
        for (image, tag, name) in cases {
            assert_eq!(image_tag(image), *tag, "{image}");
            assert_eq!(image_name(image), *name, "{image}");
        }
        assert_eq!(
            Version::from_image("registry.k8s.io/etcd:3.5.5-0").map(|v| v.to_string()),
            Some("v3.5.5-0".into())
        );
        assert_eq!(Version::from_image("weaveworks/weave-kube:latest"), None);
    }

    #[test]
    fn minors_count_behind() {
        let m = Minor::new(1, 29);
        assert_eq!(Minor::new(1, 26).behind(m), 3);
        assert_eq!(Minor::new(1, 30).behind(m), -1);
        assert_eq!(m.plus(2).to_string(), "v1.31");
        assert_eq!(m.minus(3), Minor::new(1, 26));
        assert!(Minor::new(2, 0).behind(m) < -100);
    }
}
