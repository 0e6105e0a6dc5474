//! The deployment controller: a Deployment's ReplicaSets stepped by its strategy (a rolling
//! update bounded by maxSurge/maxUnavailable, or Recreate), held while paused, the revision
//! renumbered when an old template comes back (`kubectl rollout undo`), and old ReplicaSets
//! beyond `revisionHistoryLimit` deleted, as upstream's `pkg/controller/deployment`.

use std::sync::Arc;

use serde_json::{Value, json};

use super::replicaset::{new_replicaset, template_hash};
use super::rollout::{
    self, REVISION, age_key, available, fenceposts, is_recreate, replicas, revision_of,
    set_new_rs_annotations, template_matches,
};
use super::util::{is_finished, key_of};
use super::{Manager, events};
use crate::sim::kinds::Kind;
use crate::sim::store::ObjKey;

/// What one sync did, for the Progressing condition.
#[derive(Default)]
pub(super) struct Synced {
    /// A ReplicaSet was scaled (or created).
    pub scaled: bool,
    /// The new ReplicaSet was created in this sync.
    pub created: Option<String>,
}

impl Manager {
    /// Keeps a Deployment's ReplicaSets and status.
    pub(super) fn deployment_sync(&mut self, k: &ObjKey) {
        let Some(dep) = self.index.get(Kind::Deployment, k) else {
            return;
        };
        // Being deleted (foreground, or its namespace is): no new pods, the GC takes over.
        if self.being_deleted(&dep) {
            return;
        }
        let uid = dep["metadata"]["uid"].as_str().unwrap_or("").to_string();
        let mut old = self.index.children_of(&uid, Kind::ReplicaSet);
        // Oldest first: the first with the current template is the new one (upstream's
        // `FindNewReplicaSet`), and old ones are scaled down in that order.
        old.sort_by_key(age_key);
        let mut new = old
            .iter()
            .position(|r| template_matches(r, &dep))
            .map(|i| old.remove(i));
        if let Some(n) = new.take() {
            new = Some(self.sync_revision(&dep, &n, &old));
        }
        let synced = if dep["spec"]["paused"] == true {
            self.scale_paused(&dep, &mut new, &mut old)
        } else if is_recreate(&dep) {
            self.rollout_recreate(&dep, &mut new, &mut old)
        } else {
            self.rollout_rolling(&dep, &mut new, &mut old)
        };
        let complete = self.deployment_status(k, &dep, new.as_ref(), &old, &synced);
        if complete || dep["spec"]["paused"] == true {
            self.cleanup_old(&dep, &old);
        }
    }

    /// The new ReplicaSet takes the next revision when an older template came back (its old
    /// number moves to `revision-history`), and the Deployment's annotation follows it.
    fn sync_revision(&mut self, dep: &Value, new: &Arc<Value>, old: &[Arc<Value>]) -> Arc<Value> {
        let next = old.iter().map(|r| revision_of(r)).max().unwrap_or(0) + 1;
        let min_ready = dep["spec"]["minReadySeconds"].as_i64().unwrap_or(0);
        let mut rs = (**new).clone();
        let changed = set_new_rs_annotations(&mut rs, dep, next);
        let rs_min_ready = new["spec"]["minReadySeconds"].as_i64().unwrap_or(0);
        let mut out = new.clone();
        if changed || rs_min_ready != min_ready {
            let (ns, name) = key_of(new);
            let annotations = rs["metadata"]["annotations"].clone();
            if let Ok(r) = self.store.update(Kind::ReplicaSet, &ns, &name, |r| {
                r["metadata"]["annotations"] = annotations;
                r["spec"]["minReadySeconds"] = json!(min_ready);
                Ok(())
            }) {
                self.saw(Kind::ReplicaSet, &r);
                self.dirty(Kind::ReplicaSet, (ns, name));
                out = r;
            }
        }
        self.set_deployment_revision(dep, &out);
        out
    }

    /// Sets the Deployment's revision annotation to its new ReplicaSet's.
    fn set_deployment_revision(&mut self, dep: &Value, rs: &Value) {
        let rev = rs["metadata"]["annotations"][REVISION].clone();
        if rev.is_null() || dep["metadata"]["annotations"][REVISION] == rev {
            return;
        }
        let (ns, name) = key_of(dep);
        let _ = self.store.update(Kind::Deployment, &ns, &name, |d| {
            d["metadata"]["annotations"][REVISION] = rev;
            Ok(())
        });
    }

    /// A rolling update step (upstream's `rolloutRolling`): the new ReplicaSet grows while
    /// all pods stay within replicas + maxSurge; old ones shrink while at least
    /// replicas − maxUnavailable stay available.
    fn rollout_rolling(
        &mut self,
        dep: &Value,
        new: &mut Option<Arc<Value>>,
        old: &mut [Arc<Value>],
    ) -> Synced {
        let want = replicas(dep);
        let (surge, _) = fenceposts(dep);
        let old_total: i64 = old.iter().map(|r| replicas(r)).sum();
        let mut synced = Synced::default();
        let new_rs = match new {
            Some(rs) => rs.clone(),
            None => {
                let count = (want + surge - old_total).clamp(0, want);
                let Some(rs) = self.create_replicaset(dep, count, old) else {
                    return synced;
                };
                synced.created = Some(rs["metadata"]["name"].as_str().unwrap_or("").into());
                synced.scaled = true;
                *new = Some(rs.clone());
                rs
            }
        };
        let have = replicas(&new_rs);
        let target = if have > want {
            want
        } else {
            let room = want + surge - (old_total + have);
            have + room.clamp(0, want - have)
        };
        if target != have {
            *new = Some(self.scale_rs(dep, &new_rs, target));
            synced.scaled = true;
            return synced;
        }
        synced.scaled |= self.scale_down_old(dep, &new_rs, old);
        synced
    }

    /// Shrinks old ReplicaSets, oldest first: unavailable pods first, then available ones
    /// while more than replicas − maxUnavailable remain (upstream's `reconcileOldReplicaSets`).
    fn scale_down_old(&mut self, dep: &Value, new: &Value, old: &mut [Arc<Value>]) -> bool {
        let old_total: i64 = old.iter().map(|r| replicas(r)).sum();
        if old_total == 0 {
            return false;
        }
        let min_available = replicas(dep) - rollout::max_unavailable(dep);
        let new_unavailable = replicas(new) - available(new);
        let budget = old_total + replicas(new) - min_available - new_unavailable;
        if budget <= 0 {
            return false;
        }
        let mut done = 0;
        for rs in old.iter_mut() {
            let (r, a) = (replicas(rs), available(rs));
            if done >= budget || r == 0 || r == a {
                continue;
            }
            let n = (budget - done).min(r - a);
            *rs = self.scale_rs(dep, rs, r - n);
            done += n;
        }
        let avail: i64 = available(new) + old.iter().map(|r| available(r)).sum::<i64>();
        let mut left = avail - min_available;
        for rs in old.iter_mut() {
            let r = replicas(rs);
            if left <= 0 || r == 0 {
                continue;
            }
            let n = r.min(left);
            *rs = self.scale_rs(dep, rs, r - n);
            left -= n;
            done += n;
        }
        done > 0
    }

    /// Recreate (upstream's `rolloutRecreate`): old ReplicaSets to 0, and the new one only
    /// once none of their pods is left, not even a terminating one.
    fn rollout_recreate(
        &mut self,
        dep: &Value,
        new: &mut Option<Arc<Value>>,
        old: &mut [Arc<Value>],
    ) -> Synced {
        let mut synced = Synced::default();
        for rs in old.iter_mut() {
            if replicas(rs) != 0 {
                *rs = self.scale_rs(dep, rs, 0);
                synced.scaled = true;
            }
        }
        if synced.scaled {
            return synced;
        }
        let running = old.iter().any(|rs| {
            let uid = rs["metadata"]["uid"].as_str().unwrap_or("");
            self.index.owned(uid).iter().any(|p| !is_finished(p))
        });
        if running {
            return synced;
        }
        let want = replicas(dep);
        match new.clone() {
            None => {
                if let Some(rs) = self.create_replicaset(dep, want, old) {
                    synced.created = Some(rs["metadata"]["name"].as_str().unwrap_or("").into());
                    synced.scaled = true;
                    *new = Some(rs);
                }
            }
            Some(rs) if replicas(&rs) != want => {
                *new = Some(self.scale_rs(dep, &rs, want));
                synced.scaled = true;
            }
            Some(_) => {}
        }
        synced
    }

    /// Paused (upstream's `sync`): no new ReplicaSet and no rollout step; a changed
    /// `replicas` still reaches the only active ReplicaSet, and a saturated new one lets
    /// the old ones go. (Proportional scaling of several active ones is not modelled.)
    fn scale_paused(
        &mut self,
        dep: &Value,
        new: &mut Option<Arc<Value>>,
        old: &mut [Arc<Value>],
    ) -> Synced {
        let want = replicas(dep);
        let mut synced = Synced::default();
        let active_old: Vec<usize> = (0..old.len()).filter(|&i| replicas(&old[i]) > 0).collect();
        let new_active = new.as_ref().is_some_and(|n| replicas(n) > 0);
        match (new.clone(), active_old.as_slice()) {
            (Some(n), []) if replicas(&n) != want => {
                *new = Some(self.scale_rs(dep, &n, want));
                synced.scaled = true;
            }
            (_, [i]) if !new_active && replicas(&old[*i]) != want => {
                old[*i] = self.scale_rs(dep, &old[*i], want);
                synced.scaled = true;
            }
            (Some(n), olds)
                if !olds.is_empty() && replicas(&n) == want && available(&n) == want =>
            {
                for &i in olds {
                    old[i] = self.scale_rs(dep, &old[i], 0);
                }
                synced.scaled = true;
            }
            _ => {}
        }
        synced
    }

    /// Deletes the oldest ReplicaSets scaled to 0 beyond `revisionHistoryLimit`.
    fn cleanup_old(&mut self, dep: &Value, old: &[Arc<Value>]) {
        let Some(limit) = dep["spec"]["revisionHistoryLimit"].as_i64() else {
            return;
        };
        let mut alive: Vec<&Arc<Value>> = old
            .iter()
            .filter(|r| r["metadata"]["deletionTimestamp"].is_null())
            .collect();
        let excess = alive.len() as i64 - limit;
        if excess <= 0 {
            return;
        }
        alive.sort_by_key(|r| revision_of(r));
        for rs in alive.into_iter().take(excess as usize) {
            let observed = rs["status"]["observedGeneration"].as_i64().unwrap_or(0);
            let generation = rs["metadata"]["generation"].as_i64().unwrap_or(0);
            let idle = replicas(rs) == 0
                && rs["status"]["replicas"].as_i64().unwrap_or(0) == 0
                && generation <= observed;
            if idle {
                let (ns, name) = key_of(rs);
                let _ = self.store.delete(Kind::ReplicaSet, &ns, &name);
            }
        }
    }

    /// Sets a ReplicaSet's replicas (with the deployment controller's event); returns it.
    pub(super) fn scale_rs(&mut self, dep: &Value, rs: &Arc<Value>, to: i64) -> Arc<Value> {
        let from = replicas(rs);
        if from == to {
            return rs.clone();
        }
        let (ns, name) = key_of(rs);
        let want = replicas(dep);
        let max = want + fenceposts(dep).0;
        let Ok(r) = self.store.update(Kind::ReplicaSet, &ns, &name, |r| {
            r["spec"]["replicas"] = json!(to);
            let a = &mut r["metadata"]["annotations"];
            a["deployment.kubernetes.io/desired-replicas"] = json!(want.to_string());
            a["deployment.kubernetes.io/max-replicas"] = json!(max.to_string());
            Ok(())
        }) else {
            return rs.clone();
        };
        self.saw(Kind::ReplicaSet, &r);
        self.dirty(Kind::ReplicaSet, (ns, name.clone()));
        let dir = if to > from { "up" } else { "down" };
        // v1.25's wording (later versions add the old count).
        let msg = format!("Scaled {dir} replica set {name} to {to}");
        events::record(
            &self.store,
            dep,
            "Normal",
            "ScalingReplicaSet",
            &msg,
            "deployment-controller",
        );
        r
    }

    /// Creates the ReplicaSet of the Deployment's current template with `count` replicas,
    /// as the next revision after `old`'s.
    fn create_replicaset(
        &mut self,
        dep: &Value,
        count: i64,
        old: &[Arc<Value>],
    ) -> Option<Arc<Value>> {
        let revision = old.iter().map(|r| revision_of(r)).max().unwrap_or(0) + 1;
        let (ns, name) = key_of(dep);
        let hash = template_hash(&dep["spec"]["template"]);
        let mut rs = new_replicaset(dep, &hash, count);
        // Created as `revision` itself, not as a reuse of revision 1.
        if let Some(a) = rs["metadata"]["annotations"].as_object_mut() {
            a.remove(REVISION);
        }
        set_new_rs_annotations(&mut rs, dep, revision);
        if let Some(s) = dep["spec"]["minReadySeconds"].as_i64() {
            rs["spec"]["minReadySeconds"] = json!(s);
        }
        if let Some(m) = rs["metadata"].as_object_mut() {
            m.remove("creationTimestamp");
        }
        let rs_name = format!("{name}-{hash}");
        let r = self.store.create(Kind::ReplicaSet, rs).ok()?;
        self.saw(Kind::ReplicaSet, &r);
        self.dirty(Kind::ReplicaSet, (ns, rs_name.clone()));
        self.set_deployment_revision(dep, &r);
        if count > 0 {
            events::record(
                &self.store,
                dep,
                "Normal",
                "ScalingReplicaSet",
                &format!("Scaled up replica set {rs_name} to {count}"),
                "deployment-controller",
            );
        }
        Some(r)
    }
}
