//! Slots for background work (diagnostics runs, repo-index builds). tower-lsp runs every
//! handler concurrently and the blocking pool has hundreds of threads, so a burst of
//! re-checks (a reload re-checks the workspace, every keystroke re-checks its document)
//! could otherwise occupy every core and stall the editor's requests, which run outside
//! the slots.

use std::future::Future;
use std::sync::Arc;
use tokio::sync::Semaphore;

pub struct Slots(Arc<Semaphore>);

impl Slots {
    pub fn new(count: usize) -> Self {
        Self(Arc::new(Semaphore::new(count.max(1))))
    }

    /// One slot per core but one, at least one: a core stays free for requests.
    pub fn for_this_machine() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1)))
    }

    pub fn semaphore(&self) -> Arc<Semaphore> {
        self.0.clone()
    }

    /// Waits for a slot, then runs `work` in it unless `still_wanted()` (asked once the
    /// slot is held) says its result would be dropped: work queued behind others that was
    /// superseded meanwhile ends without running.
    pub async fn run_if<T>(&self, still_wanted: impl FnOnce() -> bool, work: impl Future<Output = T>) -> Option<T> {
        let _slot = self.0.acquire().await.ok()?;
        if !still_wanted() {
            return None;
        }
        Some(work.await)
    }
}

/// The background tasks alive (diagnostics runs, reloads, workspace checks, plugin runs),
/// queued or running: zero means the server has nothing left to publish for what it was
/// told so far (`homelab/backgroundWork`; the fuzzer's and a status bar's idle signal).
#[derive(Default)]
pub struct Busy(Arc<std::sync::atomic::AtomicUsize>);

/// One counted task; uncounts itself when the task ends, however it ends.
struct BusyGuard(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Busy {
    /// Spawns `task` on the runtime of `handle`, counted while it lives.
    pub fn spawn_on<F>(&self, handle: &tokio::runtime::Handle, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let guard = BusyGuard(self.0.clone());
        handle.spawn(async move {
            let _counted = guard;
            task.await;
        });
    }

    /// Spawns `task` on the current runtime, counted while it lives.
    pub fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.spawn_on(&tokio::runtime::Handle::current(), task);
    }

    pub fn tasks(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::Slots;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    async fn max_at_once(slots: usize, jobs: usize) -> (usize, usize) {
        let slots = Arc::new(Slots::new(slots));
        let (active, most, ran) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let handles: Vec<_> = (0..jobs)
            .map(|_| {
                let (slots, active, most, ran) = (slots.clone(), active.clone(), most.clone(), ran.clone());
                tokio::spawn(async move {
                    slots
                        .run_if(|| true, async {
                            let now = active.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            // Hand the thread to the other jobs while holding the slot.
                            for _ in 0..10 {
                                tokio::task::yield_now().await;
                            }
                            active.fetch_sub(1, Ordering::SeqCst);
                            ran.fetch_add(1, Ordering::SeqCst);
                        })
                        .await
                })
            })
            .collect();
        for h in handles {
            h.await.expect("job");
        }
        (most.load(Ordering::SeqCst), ran.load(Ordering::SeqCst))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn busy_counts_its_tasks_until_they_end() {
        let busy = super::Busy::default();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        busy.spawn(async move {
            let _ = rx.await;
        });
        // A task that panics is uncounted too.
        busy.spawn(async { panic!("a task that dies") });
        assert!(busy.tasks() >= 1);
        tx.send(()).unwrap();
        for _ in 0..200 {
            if busy.tasks() == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        panic!("{} tasks still counted", busy.tasks());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn background_work_never_exceeds_its_slots() {
        let (most, ran) = max_at_once(1, 16).await;
        assert_eq!((most, ran), (1, 16));
        let (most, ran) = max_at_once(2, 16).await;
        assert!(most <= 2, "{most} jobs ran at once in 2 slots");
        assert_eq!(ran, 16);
    }

    #[tokio::test]
    async fn superseded_work_does_not_run() {
        let slots = Slots::new(1);
        let ran = AtomicUsize::new(0);
        let out = slots
            .run_if(|| false, async {
                ran.fetch_add(1, Ordering::SeqCst);
            })
            .await;
        assert!(out.is_none());
        assert_eq!(ran.load(Ordering::SeqCst), 0);
        assert_eq!(slots.run_if(|| true, async { 7 }).await, Some(7));
    }

    #[test]
    fn a_slot_is_always_there() {
        assert!(Slots::new(0).semaphore().available_permits() >= 1);
        assert!(Slots::for_this_machine().semaphore().available_permits() >= 1);
    }
}
