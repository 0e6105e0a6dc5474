//! What a pod's author declares about its containers' fate: which images cannot be pulled and
//! which containers exit (with what code, after how long). The simulator runs no processes, so
//! these rules stand in for the registry and the program; they are documented in
//! `docs/simulator.md` so a lesson can use them (`kubectl run bad --image=nginx:doesnotexist`,
//! `kubectl run crash --image=busybox -- sh -c "sleep 5; exit 1"`). A pod with no such
//! declaration runs for ever, as before.

use serde_json::Value;

use super::util::{RUN_FOR, annotation_secs};

/// Pod annotation: every container exits with this code (after `run-seconds`, default 0).
pub const EXIT_CODE: &str = "sim.kubedrain.io/exit-code";
/// Pod annotation (`"true"`): no container image of the pod can be pulled.
pub const PULL_FAILS: &str = "sim.kubedrain.io/image-pull-fails";

/// Names (a tag or any path part of an image) that no registry has.
const MISSING: [&str; 3] = ["doesnotexist", "does-not-exist", "nonexistent"];

/// How a container exits: its code, after how many seconds of running.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exit {
    pub code: i32,
    pub after: f64,
}

/// Why an image pull fails, as containerd puts it (the text after `Failed to pull image "x": `).
pub fn pull_error(pod: &Value, image: &str) -> Option<String> {
    let forced = pod["metadata"]["annotations"][PULL_FAILS] == "true";
    let (host, path, tag) = split_image(image);
    let full = format!("{host}/{path}:{tag}");
    let resolve = format!(
        "rpc error: code = {{}} desc = failed to pull and unpack image \"{full}\": failed to resolve reference \"{full}\": "
    );
    if host.ends_with(".invalid")
        || host
            .split(':')
            .next()
            .is_some_and(|h| h.ends_with(".invalid"))
    {
        let h = host.split(':').next().unwrap_or(&host);
        return Some(
            resolve.replace("{}", "Unknown")
                + &format!(
                    "failed to do request: Head \"https://{host}/v2/{path}/manifests/{tag}\": dial tcp: lookup {h}: no such host"
                ),
        );
    }
    if path.split('/').any(|p| MISSING.contains(&p)) {
        return Some(
            resolve.replace("{}", "Unknown")
                + "pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed",
        );
    }
    if MISSING.contains(&tag.as_str()) || forced {
        return Some(resolve.replace("{}", "NotFound") + &format!("{full}: not found"));
    }
    None
}

/// Registry host, repository path and tag of an image reference, with Docker Hub's defaults
/// (`nginx` is `docker.io/library/nginx:latest`).
fn split_image(image: &str) -> (String, String, String) {
    let image = image.split('@').next().unwrap_or(image);
    let (name, tag) = match image.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => (n, t),
        _ => (image, "latest"),
    };
    let (host, path) = match name.split_once('/') {
        Some((h, p)) if h.contains('.') || h.contains(':') || h == "localhost" => {
            (h.to_string(), p.to_string())
        }
        _ if name.contains('/') => ("docker.io".to_string(), name.to_string()),
        _ => ("docker.io".to_string(), format!("library/{name}")),
    };
    (host, path, tag.to_string())
}

/// How container `c` of `pod` exits, if it is declared to: the `exit-code` annotation, or a
/// command line whose last statement is `exit N`, `true` or `false` (`sleep N` statements
/// before it are how long it runs). `None`: it runs until stopped.
pub fn exit_of(pod: &Value, c: &Value) -> Option<Exit> {
    if let Some(code) = pod["metadata"]["annotations"][EXIT_CODE]
        .as_str()
        .and_then(|s| s.trim().parse().ok())
    {
        let after = annotation_secs(pod, RUN_FOR).unwrap_or(0.0);
        return Some(Exit { code, after });
    }
    let argv: Vec<&str> = ["command", "args"]
        .iter()
        .flat_map(|f| c[*f].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    script_exit(&script_of(&argv)?)
}

/// The shell script a command line runs: `sh -c "<script>"`, or the words themselves.
fn script_of(argv: &[&str]) -> Option<String> {
    let first = argv.first()?;
    let shell = matches!(
        first.rsplit('/').next(),
        Some("sh" | "bash" | "ash" | "dash")
    );
    if shell && argv.get(1) == Some(&"-c") {
        return argv.get(2).map(|s| s.to_string());
    }
    Some(argv.join(" "))
}

/// The exit of a simple script: its statements (split at `;`, `&&`, newlines) are `sleep N`s
/// then `exit N` / `true` / `false` last; anything else before is ignored (`echo`).
fn script_exit(script: &str) -> Option<Exit> {
    let stmts: Vec<&str> = script
        .split(['\n', ';'])
        .flat_map(|s| s.split("&&"))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let (last, before) = stmts.split_last()?;
    let words: Vec<&str> = last.split_whitespace().collect();
    let code = match words.as_slice() {
        ["exit"] | ["true"] | ["/bin/true"] => 0,
        ["exit", n] => n.parse::<i32>().ok()?.rem_euclid(256),
        ["false"] | ["/bin/false"] => 1,
        _ => return None,
    };
    let after = before
        .iter()
        .filter_map(|s| match s.split_whitespace().collect::<Vec<_>>()[..] {
            ["sleep", n] => n.trim_end_matches('s').parse::<f64>().ok(),
            _ => None,
        })
        .sum();
    Some(Exit { code, after })
}

/// Whether any container of `pod` has a declared fate (a failing pull or an exit): such pods
/// run through [`super::containers`], all others as before.
pub fn declared(pod: &Value) -> bool {
    pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| {
            pull_error(pod, c["image"].as_str().unwrap_or("")).is_some()
                || exit_of(pod, c).is_some()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn exit(cmd: Value, args: Value) -> Option<Exit> {
        exit_of(&json!({}), &json!({"command": cmd, "args": args}))
    }

    #[test]
    fn commands_that_exit() {
        let e = |code, after| Some(Exit { code, after });
        assert_eq!(exit(json!(["false"]), Value::Null), e(1, 0.0));
        assert_eq!(exit(Value::Null, json!(["true"])), e(0, 0.0));
        assert_eq!(exit(json!(["sh", "-c", "exit 3"]), Value::Null), e(3, 0.0));
        assert_eq!(
            exit(
                json!(["/bin/sh", "-c"]),
                json!(["echo hi; sleep 5; exit 1"])
            ),
            e(1, 5.0)
        );
        assert_eq!(
            exit(json!(["sh", "-c", "sleep 2 && true"]), Value::Null),
            e(0, 2.0)
        );
        assert_eq!(exit(json!(["sleep", "3600"]), Value::Null), None);
        assert_eq!(exit(Value::Null, Value::Null), None);
        assert_eq!(
            exit(json!(["nginx", "-g", "daemon off;"]), Value::Null),
            None
        );
        let pod = json!({"metadata": {"annotations": {EXIT_CODE: "2", RUN_FOR: "30"}}});
        assert_eq!(exit_of(&pod, &json!({})), e(2, 30.0));
    }

    #[test]
    fn images_that_cannot_be_pulled() {
        let p = json!({});
        assert!(pull_error(&p, "nginx").is_none());
        assert!(pull_error(&p, "registry.k8s.io/pause:3.9").is_none());
        let tag = pull_error(&p, "nginx:doesnotexist").unwrap();
        assert!(tag.contains("code = NotFound"), "{tag}");
        assert!(tag.ends_with("docker.io/library/nginx:doesnotexist: not found"));
        let repo = pull_error(&p, "doesnotexist").unwrap();
        assert!(repo.contains("pull access denied"), "{repo}");
        let host = pull_error(&p, "registry.invalid:5000/team/app:1.0").unwrap();
        assert!(
            host.ends_with("lookup registry.invalid: no such host"),
            "{host}"
        );
        let forced = json!({"metadata": {"annotations": {PULL_FAILS: "true"}}});
        assert!(pull_error(&forced, "nginx:1.25").is_some());
    }
}
