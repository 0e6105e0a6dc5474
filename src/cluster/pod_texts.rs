//! The distinct strings the pods' rows show besides their keys and numbers (STATUS reasons,
//! NODE names, unschedulable messages), each counted by the pods holding it. There are few
//! of them (one per node, a handful of reasons) against 150,000 pods: a filter none of them
//! matches cannot match those cells of any pod, so it need not look a single row up.

use std::collections::HashMap;
use std::sync::Arc;

/// Each shared string held by a pod, by address (rows share interned copies), with how
/// many pod fields hold it.
#[derive(Debug, Default)]
pub struct PodTexts {
    held: HashMap<usize, (Arc<str>, usize)>,
}

impl PodTexts {
    /// Counts the strings of a pod that came.
    pub fn add<'a>(&mut self, texts: impl IntoIterator<Item = &'a Arc<str>>) {
        for t in texts {
            self.held
                .entry(address(t))
                .or_insert_with(|| (t.clone(), 0))
                .1 += 1;
        }
    }

    /// Uncounts the strings of a pod that went (or was replaced).
    pub fn remove<'a>(&mut self, texts: impl IntoIterator<Item = &'a Arc<str>>) {
        for t in texts {
            let key = address(t);
            if let Some((_, n)) = self.held.get_mut(&key) {
                *n -= 1;
                if *n == 0 {
                    self.held.remove(&key);
                }
            }
        }
    }

    /// Every distinct string some pod holds now (each once per shared copy).
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.held.values().map(|(t, _)| &**t)
    }

    /// How many distinct copies are held.
    pub fn len(&self) -> usize {
        self.held.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }
}

fn address(t: &Arc<str>) -> usize {
    Arc::as_ptr(t) as *const u8 as usize
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::PodTexts;

    #[test]
    fn a_string_stays_while_some_pod_holds_it() {
        let running: Arc<str> = "CrashLoopBackOff".into();
        let node: Arc<str> = "node-1".into();
        let mut t = PodTexts::default();
        t.add([&running, &node]);
        t.add([&running]);
        assert_eq!(t.len(), 2);
        t.remove([&running, &node]);
        assert_eq!(t.iter().collect::<Vec<_>>(), ["CrashLoopBackOff"]);
        t.remove([&running]);
        assert!(t.is_empty());
        // Removing what is not held changes nothing.
        t.remove([&node]);
        assert!(t.is_empty());
    }
}
