//! Runs independent jobs on a few threads and returns their results in input order, so
//! callers stay deterministic (reports, renders and indexes come out as a sequential loop
//! would give them).

use std::sync::atomic::{AtomicUsize, Ordering};

/// Threads used: one per core, at least 2 (file I/O overlaps even on one core), at most 8.
fn threads_for(jobs: usize) -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 8).min(jobs.max(1))
}

/// `items.iter().map(f).collect()`, spread over a few threads. Items are handed out one at
/// a time, so a slow item does not hold up a whole chunk. A job that panics yields
/// `on_panic()` in its place instead of taking the others down.
pub fn map_in_order<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync, on_panic: impl Fn() -> R) -> Vec<R> {
    if items.len() <= 1 {
        return items
            .iter()
            .map(|i| std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(i))).unwrap_or_else(|_| on_panic()))
            .collect();
    }
    let next = AtomicUsize::new(0);
    // The workers work for the caller's job: its deadline and cancellation hold for them.
    let job = crate::template::budget::current_job();
    let done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads_for(items.len()))
            .map(|_| {
                scope.spawn(|| {
                    let _job = crate::template::budget::enter_job(job.clone());
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break done };
                        if let Ok(r) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(item))) {
                            done.push((i, r));
                        }
                    }
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap_or_default()).collect()
    });
    let mut out: Vec<Option<R>> = items.iter().map(|_| None).collect();
    for (i, r) in done {
        out[i] = Some(r);
    }
    out.into_iter().map(|r| r.unwrap_or_else(&on_panic)).collect()
}

#[cfg(test)]
mod tests {
    use super::map_in_order;

    #[test]
    fn results_keep_input_order_and_survive_a_panic() {
        let items: Vec<u32> = (0..500).collect();
        let out = map_in_order(&items, |&i| if i == 7 { panic!("job 7") } else { i * 2 }, || u32::MAX);
        assert_eq!(out.len(), 500);
        assert_eq!(out[7], u32::MAX);
        assert!(out.iter().enumerate().filter(|(i, _)| *i != 7).all(|(i, &v)| v == i as u32 * 2));
        assert_eq!(map_in_order(&[3u8], |&x| x + 1, || 0), vec![4]);
        assert!(map_in_order(&Vec::<u8>::new(), |&x| x, || 0).is_empty());
    }

    /// A request's renders spread over workers stop when the request is cancelled.
    #[test]
    fn workers_work_under_the_callers_job() {
        use crate::template::budget;
        let cancelled = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let limits = budget::JobLimits { cancelled: Some(cancelled), ..Default::default() };
        let items: Vec<u32> = (0..20).collect();
        let out = budget::with_job(limits, || map_in_order(&items, |_| budget::check_time().is_err(), || false));
        assert!(out.iter().all(|&stopped| stopped));
        assert!(map_in_order(&items, |_| budget::check_time().is_ok(), || false).iter().all(|&ok| ok));
    }
}
