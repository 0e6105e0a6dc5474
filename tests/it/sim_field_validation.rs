//! Decoding like the API server: `fieldValidation` Strict / Warn / Ignore for unknown fields,
//! wrong types as 400s, and everything the scenarios and the generator create passes
//! validation and already has the server's defaults.

use kubedrain::sim::api::{defaults, validation};
use kubedrain::sim::{Kind, SimOptions, Simulator};
use serde_json::json;

use crate::common::{Http, assert_status, static_sim};
use crate::sim_validation::{DEPLOYS, PODS, containers, deploy, pod, sel, web_tpl};

#[tokio::test]
async fn field_validation_strict_warn_and_ignore() {
    let sim = static_sim().await;
    let http = Http::new(&sim);
    let body = |name: &str| {
        let mut d = deploy(json!({"replica": 3, "selector": sel(), "template": web_tpl()}));
        d["metadata"]["name"] = json!(name);
        d.to_string()
    };
    let ct = [("content-type", "application/json")];
    let r = http
        .send(
            "POST",
            &format!("{DEPLOYS}?fieldValidation=Strict"),
            &ct,
            Some(&body("a")),
        )
        .await;
    assert_status(&r, 400, "BadRequest");
    assert_eq!(
        r.body["message"],
        "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"spec.replica\""
    );
    let r = http
        .send(
            "POST",
            &format!("{DEPLOYS}?fieldValidation=Warn"),
            &ct,
            Some(&body("b")),
        )
        .await;
    assert_eq!(r.code, 201);
    let warnings: Vec<&str> = r
        .headers
        .get_all("warning")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(warnings, [r#"299 - "unknown field \"spec.replica\"""#]);
    // No parameter means Warn, as on the real server.
    let r = http.send("POST", DEPLOYS, &ct, Some(&body("c"))).await;
    assert_eq!(
        (r.code, r.headers.get_all("warning").iter().count()),
        (201, 1)
    );
    let r = http
        .send(
            "POST",
            &format!("{DEPLOYS}?fieldValidation=Ignore"),
            &ct,
            Some(&body("d")),
        )
        .await;
    assert_eq!(
        (r.code, r.headers.get_all("warning").iter().count()),
        (201, 0)
    );
    assert!(
        r.body["spec"]["replica"].is_null(),
        "unknown fields are dropped"
    );
    // A patch that adds an unknown field, strictly.
    let r = http
        .send(
            "PATCH",
            &format!("{DEPLOYS}/b?fieldValidation=Strict"),
            &[("content-type", "application/merge-patch+json")],
            Some(r#"{"spec":{"paused":true,"replcas":1}}"#),
        )
        .await;
    assert_status(&r, 400, "BadRequest");
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("unknown field \"spec.replcas\"")
    );
    // A wrong type is a decode error (400), not a validation error.
    let r = http
        .post(
            PODS,
            &pod(
                json!({"name": "p", "labels": {"v": 1}}),
                json!({"containers": containers()}),
            ),
        )
        .await;
    assert_status(&r, 400, "BadRequest");
}

/// Everything the scenarios and the generator create passes validation, so a later update
/// through the API is never refused for what the simulator itself made.
#[tokio::test]
async fn scenario_and_generated_objects_are_valid() {
    let mut sims = Vec::new();
    for s in ["seed", "mixed", "no-room", "pdb-blocked", "upgrade"] {
        sims.push(
            Simulator::start(SimOptions {
                scenario: s.into(),
                ..SimOptions::default()
            })
            .await
            .unwrap(),
        );
    }
    sims.push(
        Simulator::start(SimOptions {
            generated: Some((3, 20)),
            ..SimOptions::default()
        })
        .await
        .unwrap(),
    );
    for sim in &sims {
        assert!(sim.wait_controllers_ready(std::time::Duration::from_secs(30)));
        // Let the controllers create their pods and ReplicaSets.
        let store = sim.store();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        while store
            .list(Kind::Pod, None)
            .1
            .iter()
            .any(|p| p["status"]["phase"] == "Pending")
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        for kind in Kind::ALL {
            for o in store.list(kind, None).1 {
                // The server's defaults are there already: an update that leaves the template adds nothing.
                let mut defaulted = (*o).clone();
                defaults::scheme(kind, &mut defaulted, false);
                assert_eq!(defaulted, *o, "{} {kind:?} lacks defaults", sim.scenario());
                let errs = validation::validate_create(kind, &o);
                assert!(
                    errs.is_empty(),
                    "{} {kind:?} {}: {errs:?}",
                    sim.scenario(),
                    o["metadata"]["name"]
                );
            }
        }
    }
}
