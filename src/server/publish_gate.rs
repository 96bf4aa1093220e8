//! Which diagnostics publish for a file wins: the one computed from the newest state.
//!
//! Several runs compute diagnostics concurrently (a document's own run after each edit, the
//! workspace re-check after reloads and watched-file changes), and they finish in any order.
//! Every change to what diagnostics are computed from (documents, projects, settings, files
//! on disk) advances the server's change counter; each run records the counter of the
//! state it started from, and a publish is dropped once a run that started from a later
//! state has published for that file. The last run to start after the last change therefore
//! always decides the final diagnostics, whatever order the runs end in.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What was last published (or found empty) for one file.
#[derive(Debug, Clone, Copy)]
struct Published {
    /// The change counter of the state those diagnostics were computed from.
    seq: u64,
    /// Whether the client holds diagnostics for the file (an empty list is only sent to
    /// clear them).
    nonempty: bool,
}

#[derive(Debug, Default)]
pub struct PublishGate {
    last: HashMap<PathBuf, Published>,
}

impl PublishGate {
    /// Whether diagnostics computed from the state at `seq` are sent for `path`; records
    /// them when they are newest. An older result than the one already published is
    /// dropped, and an empty result is sent only to clear diagnostics the client holds
    /// (still recorded, so an older non-empty result cannot come back after it).
    pub fn admit(&mut self, path: &Path, seq: u64, empty: bool) -> bool {
        let before = self.last.get(path).copied();
        if before.is_some_and(|p| p.seq > seq) {
            return false;
        }
        self.last.insert(path.to_path_buf(), Published { seq, nonempty: !empty });
        !empty || before.is_some_and(|p| p.nonempty)
    }

    /// The files the client holds diagnostics for.
    pub fn nonempty(&self) -> Vec<PathBuf> {
        self.last.iter().filter(|(_, p)| p.nonempty).map(|(f, _)| f.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The interleaving of issue 13: a template edit's run (state 2) and the workspace
    /// re-check after a data edit (state 3) race; whichever finishes last, the client ends
    /// with state 3's diagnostics.
    #[test]
    fn the_newest_state_wins_in_either_order() {
        let t = Path::new("/r/templates/a.yaml.j2");
        // The workspace run (newer) finishes first, the template run after it.
        let mut gate = PublishGate::default();
        assert!(gate.admit(t, 3, false));
        assert!(!gate.admit(t, 2, true), "an older empty list must not clear newer errors");
        assert!(!gate.admit(t, 2, false), "older errors must not replace newer ones");
        assert_eq!(gate.nonempty(), vec![t.to_path_buf()]);
        // The other order: the template run first, the workspace run replaces it.
        let mut gate = PublishGate::default();
        assert!(gate.admit(t, 2, false));
        assert!(gate.admit(t, 3, true), "the newer empty list clears the older errors");
        assert!(gate.nonempty().is_empty());
    }

    #[test]
    fn empty_results_are_sent_only_to_clear() {
        let f = Path::new("/r/kubernetes/a.yaml");
        let mut gate = PublishGate::default();
        assert!(!gate.admit(f, 1, true), "nothing to clear");
        // Recorded all the same: an older run's errors stay out.
        assert!(!gate.admit(f, 0, false));
        assert!(gate.admit(f, 1, false), "the same state again (a re-check) may publish");
        assert!(gate.admit(f, 4, true));
        assert!(!gate.admit(f, 5, true), "already clear");
    }

    /// A random interleaving of runs over a few files: the client's final diagnostics for
    /// each file are those of the newest run that finished for it.
    #[test]
    fn random_interleavings_end_at_the_newest_run() {
        let files = [Path::new("/a"), Path::new("/b"), Path::new("/c")];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _ in 0..500 {
            let mut gate = PublishGate::default();
            // What the client holds per file: (seq, empty) of the last list sent.
            let mut client: HashMap<&Path, (u64, bool)> = HashMap::new();
            let mut newest: HashMap<&Path, (u64, bool)> = HashMap::new();
            for _ in 0..20 {
                let (f, seq, empty) = (files[next(3) as usize], next(10), next(2) == 0);
                if gate.admit(f, seq, empty) {
                    client.insert(f, (seq, empty));
                }
                let n = newest.entry(f).or_insert((seq, empty));
                if seq >= n.0 {
                    *n = (seq, empty);
                }
            }
            for (f, (seq, empty)) in newest {
                match client.get(f) {
                    // The newest result is empty: the client holds nothing (never sent, or
                    // cleared).
                    _ if empty => assert!(client.get(f).is_none_or(|c| c.1), "{f:?}"),
                    Some(&c) => assert_eq!(c, (seq, false), "{f:?}"),
                    None => panic!("{f:?}: the newest non-empty result was never sent"),
                }
            }
        }
    }
}
