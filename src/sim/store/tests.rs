use super::*;

fn store() -> Arc<Store> {
    Store::new(Arc::new(SimClock::new(1.0)), 4)
}

#[test]
fn create_fills_identity_and_bumps_rv() {
    let s = store();
    let p = s
        .create(Kind::Pod, json!({"metadata": {"generateName": "web-"}}))
        .unwrap();
    assert!(p["metadata"]["name"].as_str().unwrap().starts_with("web-"));
    assert_eq!(p["metadata"]["namespace"], "default");
    assert_eq!(rv_of(&p), 2);
    assert_eq!(p["kind"], "Pod");
    let err = s.create(Kind::Pod, (*p).clone()).unwrap_err();
    assert!(matches!(err, StoreError::AlreadyExists { .. }));
}

#[test]
fn pods_are_indexed_by_node() {
    let s = store();
    for (name, node) in [("a", "n1"), ("b", "n2"), ("c", "n1")] {
        s.create(
            Kind::Pod,
            json!({"metadata": {"name": name}, "spec": {"nodeName": node}}),
        )
        .unwrap();
    }
    s.create(Kind::Pod, json!({"metadata": {"name": "p"}}))
        .unwrap();
    let names = |node: &str| {
        s.list_pods_on_node(node, None, |_| true)
            .1
            .iter()
            .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(names("n1"), ["a", "c"]);
    assert_eq!(names(""), ["p"]);
    s.update(Kind::Pod, "default", "p", |p| {
        p["spec"]["nodeName"] = json!("n2");
        Ok(())
    })
    .unwrap();
    s.delete(Kind::Pod, "default", "a").unwrap();
    assert_eq!(names("n1"), ["c"]);
    assert_eq!(names("n2"), ["b", "p"]);
    assert!(names("").is_empty());
}

#[test]
fn noop_update_keeps_resource_version() {
    let s = store();
    s.create(Kind::Node, json!({"metadata": {"name": "n"}}))
        .unwrap();
    let rv = s.resource_version();
    s.update(Kind::Node, "", "n", |_| Ok(())).unwrap();
    assert_eq!(s.resource_version(), rv);
    s.update(Kind::Node, "", "n", |o| {
        o["spec"]["unschedulable"] = json!(true);
        Ok(())
    })
    .unwrap();
    assert_eq!(s.resource_version(), rv + 1);
}

#[test]
fn watch_replays_history_and_reports_gone_after_compaction() {
    let s = store();
    for i in 0..3 {
        s.create(Kind::Node, json!({"metadata": {"name": format!("n{i}")}}))
            .unwrap();
    }
    let w = s.watch(Kind::Node, Some(2)).unwrap();
    assert_eq!(
        w.backlog.iter().map(|c| c.rv).collect::<Vec<_>>(),
        vec![3, 4]
    );
    // History holds 4 changes: creating 3 more drops the oldest ones.
    for i in 3..6 {
        s.create(Kind::Node, json!({"metadata": {"name": format!("n{i}")}}))
            .unwrap();
    }
    assert!(matches!(
        s.watch(Kind::Node, Some(2)),
        Err(StoreError::Gone { .. })
    ));
    assert!(matches!(
        s.watch(Kind::Node, Some(s.resource_version() + 5)),
        Err(StoreError::Gone { .. })
    ));
    let all = s.watch(Kind::Node, None).unwrap();
    assert_eq!(all.backlog.len(), 6);
}
