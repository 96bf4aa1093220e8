//! The repo indexes (gateways, secrets, Flux sources) by project root, built once per root
//! at a time. Building one renders every template of the repo, so N diagnostics runs that
//! find the index missing (after every reload) must share one build, not start N; and a
//! build that began before the index was dropped must not install its result over the
//! state that replaced it.

use crate::yaml::RepoIndex;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{watch, Semaphore};

type Built = watch::Receiver<Option<Arc<RepoIndex>>>;

#[derive(Default)]
pub struct IndexCache {
    built: dashmap::DashMap<PathBuf, Arc<RepoIndex>>,
    /// Bumped whenever a root's index is dropped: a build of an older epoch is superseded.
    epochs: dashmap::DashMap<PathBuf, u64>,
    /// The build in flight per root, with the epoch it began in.
    in_flight: Mutex<HashMap<PathBuf, (u64, Built)>>,
    /// Builds started (tests count them).
    builds: AtomicUsize,
}

impl IndexCache {
    /// The index of `root` when it is built already.
    pub fn get(&self, root: &Path) -> Option<Arc<RepoIndex>> {
        self.built.get(root).map(|i| i.clone())
    }

    /// Drops the index of `root` (its project reloaded, or files it was built from changed);
    /// a build in flight finishes for its waiters but is not installed.
    pub fn invalidate(&self, root: &Path) {
        *self.epochs.entry(root.to_path_buf()).or_insert(0) += 1;
        self.built.remove(root);
    }

    /// Replaces the index of `root` with `patched`, only if it is still `before` (the one
    /// the patch was made from): a reload meanwhile dropped it, and the next use rebuilds.
    pub fn patch(&self, root: &Path, before: &Arc<RepoIndex>, patched: RepoIndex) {
        if let Some(mut current) = self.built.get_mut(root) {
            if Arc::ptr_eq(&current, before) {
                *current = Arc::new(patched);
            }
        }
    }

    #[cfg(test)]
    pub fn builds_started(&self) -> usize {
        self.builds.load(Ordering::Relaxed)
    }

    fn epoch(&self, root: &Path) -> u64 {
        self.epochs.get(root).map_or(0, |e| *e)
    }

    /// The index of `root`, built by `build` on the blocking pool (under one of `slots`) if
    /// missing, or by the build of the same epoch already in flight. The build runs in a
    /// task of its own, so a caller that stops waiting (a request past its deadline) does
    /// not lose it. It is installed only if no invalidation came meanwhile and
    /// `still_current()` (the caller's project is still the one loaded) holds.
    pub async fn get_or_build(
        self: &Arc<Self>,
        root: &Path,
        slots: Arc<Semaphore>,
        build: impl FnOnce() -> RepoIndex + Send + 'static,
        still_current: impl FnOnce() -> bool + Send + 'static,
    ) -> Arc<RepoIndex> {
        if let Some(i) = self.get(root) {
            return i;
        }
        let mut rx = {
            let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
            let epoch = self.epoch(root);
            match in_flight.get(root) {
                Some((e, rx)) if *e == epoch => rx.clone(),
                _ => {
                    let (tx, rx) = watch::channel(None);
                    in_flight.insert(root.to_path_buf(), (epoch, rx.clone()));
                    self.builds.fetch_add(1, Ordering::Relaxed);
                    let (this, root) = (self.clone(), root.to_path_buf());
                    tokio::spawn(async move {
                        let index = match slots.acquire_owned().await {
                            Ok(_permit) => Arc::new(tokio::task::spawn_blocking(build).await.unwrap_or_default()),
                            Err(_) => Arc::new(RepoIndex::default()),
                        };
                        {
                            let mut in_flight = this.in_flight.lock().unwrap_or_else(|e| e.into_inner());
                            if this.epoch(&root) == epoch && still_current() {
                                this.built.insert(root.clone(), index.clone());
                            }
                            if in_flight.get(&root).is_some_and(|(e, _)| *e == epoch) {
                                in_flight.remove(&root);
                            }
                        }
                        let _ = tx.send(Some(index));
                    });
                    rx
                }
            }
        };
        let built = match rx.wait_for(Option::is_some).await {
            Ok(i) => i.clone(),
            Err(_) => None,
        };
        built.unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        PathBuf::from("/repo")
    }

    /// Starts `n` concurrent callers on a missing index whose build waits for `release`,
    /// and waits until all of them are waiting.
    async fn concurrent_callers(
        cache: &Arc<IndexCache>,
        n: usize,
        built: Arc<AtomicUsize>,
        release: Arc<tokio::sync::Notify>,
        joined: Arc<AtomicUsize>,
    ) -> Vec<tokio::task::JoinHandle<Arc<RepoIndex>>> {
        let slots = Arc::new(Semaphore::new(1));
        let handles: Vec<_> = (0..n)
            .map(|_| {
                let (cache, slots, built, release, joined) = (cache.clone(), slots.clone(), built.clone(), release.clone(), joined.clone());
                tokio::spawn(async move {
                    joined.fetch_add(1, Ordering::SeqCst);
                    let handle = tokio::runtime::Handle::current();
                    cache
                        .get_or_build(
                            &root(),
                            slots,
                            move || {
                                handle.block_on(release.notified());
                                built.fetch_add(1, Ordering::SeqCst);
                                RepoIndex::default()
                            },
                            || true,
                        )
                        .await
                })
            })
            .collect();
        while joined.load(Ordering::SeqCst) < n {
            tokio::task::yield_now().await;
        }
        handles
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_share_one_build() {
        let cache = Arc::new(IndexCache::default());
        let (built, release, joined) = (Arc::new(AtomicUsize::new(0)), Arc::new(tokio::sync::Notify::new()), Arc::new(AtomicUsize::new(0)));
        let handles = concurrent_callers(&cache, 8, built.clone(), release.clone(), joined).await;
        // Each caller registers synchronously on its first poll; let them all get there.
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        release.notify_one();
        let results: Vec<_> = futures_join(handles).await;
        assert_eq!(built.load(Ordering::SeqCst), 1);
        assert_eq!(cache.builds_started(), 1);
        assert!(results.windows(2).all(|w| Arc::ptr_eq(&w[0], &w[1])), "every caller gets the one build");
        assert!(cache.get(&root()).is_some_and(|i| Arc::ptr_eq(&i, &results[0])));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_build_superseded_by_an_invalidation_is_not_installed() {
        let cache = Arc::new(IndexCache::default());
        let (built, release, joined) = (Arc::new(AtomicUsize::new(0)), Arc::new(tokio::sync::Notify::new()), Arc::new(AtomicUsize::new(0)));
        let handles = concurrent_callers(&cache, 1, built.clone(), release.clone(), joined).await;
        while cache.builds_started() < 1 {
            tokio::task::yield_now().await;
        }
        cache.invalidate(&root());
        release.notify_one();
        let results = futures_join(handles).await;
        assert_eq!(results.len(), 1);
        assert!(cache.get(&root()).is_none(), "the stale build is handed to its waiter but not installed");
        // The next caller builds for the new epoch, and that one is installed.
        let fresh = cache.get_or_build(&root(), Arc::new(Semaphore::new(1)), RepoIndex::default, || true).await;
        assert_eq!(cache.builds_started(), 2);
        assert!(cache.get(&root()).is_some_and(|i| Arc::ptr_eq(&i, &fresh)));
    }

    #[tokio::test]
    async fn a_build_for_a_replaced_project_is_not_installed() {
        let cache = Arc::new(IndexCache::default());
        let _ = cache.get_or_build(&root(), Arc::new(Semaphore::new(1)), RepoIndex::default, || false).await;
        assert!(cache.get(&root()).is_none());
    }

    async fn futures_join<T>(handles: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.expect("caller task"));
        }
        out
    }
}
