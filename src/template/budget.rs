//! Limits on the work one render may do. A language server renders every half-typed state
//! of a template; a loop of 10⁸ iterations, `'x' * 10**9` or a 5,000-deep `not not … x`
//! must end in a clear `render-error`, not in a hang, an out-of-memory abort or a stack
//! overflow (which no `catch_unwind` can stop).

use minijinja::{Error, ErrorKind};
use std::cell::{Cell, RefCell};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// minijinja's fuel for one render: one per instruction, plus one per 64 bytes of strings
/// and per 2 list slots it builds or writes, so it also bounds the memory one render takes:
/// 5 million is at most 320 MB of strings or 10 million list slots (30 million let
/// `[[1] * 10000] * 10000`-like templates build 1.4 GB, and several renders run at once).
/// The biggest corpus template uses under 1,000 (`tests/golden.rs` checks every corpus
/// template stays under a tenth); a runaway render stops six times sooner than at 30 million.
pub const RENDER_FUEL: u64 = 5_000_000;

/// Most bytes one printed value, filter result or formatted string may have. Generated
/// Kubernetes files are kilobytes; this only stops runaway output.
pub const MAX_TEXT_BYTES: usize = 16 << 20;

/// Widest field or precision in `'%10d' % x` and `'{:>10}'.format(x)` (Python has no
/// limit; a width of 10⁹ is a gigabyte of spaces).
pub const MAX_FORMAT_WIDTH: usize = 10_000;

/// Most operators, attribute/index/call links and filters in one tag. minijinja's parser
/// and compiler recurse once per link of `not not … x` or `a + a + … a`; thousands of them
/// overflow the stack. Real tags have a few dozen.
pub const MAX_TAG_OPERATORS: usize = 1_000;

/// Most bytes one render may write (the server and the CLI refuse to read files over
/// 32 MB, so a render never needs to write more). Fuel alone lets raw text in a loop write
/// about 2 GB before it runs out, and several renders run at once.
pub const MAX_OUTPUT_BYTES: usize = 32 << 20;

/// What the work running on this thread may still spend: a deadline for the whole job
/// (one editor request, which must answer in time however many templates it renders) and
/// a flag set when the job is cancelled. Only requests get them: a render stopped by the
/// clock depends on the machine's load, so published diagnostics (and the repo index they
/// use) are bounded by fuel and output alone and come out the same on every machine.
#[derive(Clone, Default)]
pub struct JobLimits {
    pub deadline: Option<Instant>,
    pub cancelled: Option<Arc<AtomicBool>>,
}

thread_local! {
    static JOB: RefCell<JobLimits> = RefCell::new(JobLimits::default());
    /// The deadline of the render running on this thread (its job's, while one runs).
    static RENDER_STOP: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// The limits of the job on this thread (to hand to worker threads).
pub fn current_job() -> JobLimits {
    JOB.with(|j| j.borrow().clone())
}

/// Puts `limits` on this thread until the guard drops (then the previous ones return).
pub fn enter_job(limits: JobLimits) -> JobGuard {
    JobGuard(Some(JOB.with(|j| std::mem::replace(&mut *j.borrow_mut(), limits))))
}

pub struct JobGuard(Option<JobLimits>);

impl Drop for JobGuard {
    fn drop(&mut self) {
        if let Some(previous) = self.0.take() {
            JOB.with(|j| *j.borrow_mut() = previous);
        }
    }
}

/// Runs `f` under `limits` on this thread, restoring the previous limits afterwards.
pub fn with_job<R>(limits: JobLimits, f: impl FnOnce() -> R) -> R {
    let _job = enter_job(limits);
    f()
}

/// Marks one render on this thread: the job's deadline applies from now until the guard
/// drops (outside a render, e.g. between the renders of a job, nothing is checked).
pub struct RenderClock(Option<Instant>);

impl RenderClock {
    pub fn start() -> Self {
        take_time_stop();
        let deadline = current_job().deadline;
        RenderClock(RENDER_STOP.with(|s| s.replace(deadline)))
    }
}

impl Drop for RenderClock {
    fn drop(&mut self) {
        let previous = self.0.take();
        RENDER_STOP.with(|s| s.set(previous));
    }
}

thread_local! {
    /// The message of the last time/cancellation stop on this thread, taken by the render.
    static TRIPPED: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Fails once the running render is out of time or its job was cancelled. Cheap enough
/// to call on every write and every `range()`.
pub fn check_time() -> Result<(), Error> {
    let message = if JOB.with(|j| j.borrow().cancelled.as_ref().is_some_and(|c| c.load(Ordering::Relaxed))) {
        CANCELLED.to_string()
    } else {
        match RENDER_STOP.with(|s| s.get()) {
            Some(at) if Instant::now() >= at => format!("{REQUEST_TIME} (it renders too much to answer in time)"),
            _ => return Ok(()),
        }
    };
    TRIPPED.with(|t| *t.borrow_mut() = Some(message.clone()));
    Err(Error::new(ErrorKind::InvalidOperation, message))
}

/// Whether a render error's message is that of a time or cancellation stop (which depends
/// on the machine and the request, not on the template alone).
pub fn is_time_stop(message: &str) -> bool {
    message == CANCELLED || message.starts_with(REQUEST_TIME)
}

const CANCELLED: &str = "stopped after the request was cancelled";
const REQUEST_TIME: &str = "stopped after the time budget of the request";

/// The message of a time or cancellation stop since the last call, if one happened: where
/// such a stop strikes depends on the machine's speed, so the render reports it without a
/// position (two runs of the same text then publish the same diagnostic).
pub fn take_time_stop() -> Option<String> {
    TRIPPED.with(|t| t.borrow_mut().take())
}

/// The render output buffer: refuses to grow past [`MAX_OUTPUT_BYTES`] (`cap`) and checks
/// the time and the cancellation every few writes. minijinja turns a failed write into a
/// generic write error; [`OutputBudget::stop`] keeps the real reason.
pub struct OutputBudget {
    pub buf: Vec<u8>,
    cap: usize,
    writes: u32,
    pub stop: Option<Error>,
}

impl OutputBudget {
    pub fn new(cap: usize) -> Self {
        OutputBudget { buf: Vec::new(), cap, writes: 0, stop: None }
    }
}

impl std::io::Write for OutputBudget {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.buf.len() + bytes.len() > self.cap {
            self.stop = Some(stopped(format!("{} MB of output (the limit of one render)", self.cap >> 20)));
            return Err(std::io::Error::other("output budget"));
        }
        self.writes = self.writes.wrapping_add(1);
        if self.writes % 64 == 0 && check_time().is_err() {
            return Err(std::io::Error::other("time budget"));
        }
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The message every budget error starts with, so diagnostics read `stopped after …`.
pub fn stopped(what: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::InvalidOperation, format!("stopped after {what}"))
}

/// Refuses a text that would exceed [`MAX_TEXT_BYTES`].
pub fn check_text_len(len: usize) -> Result<(), Error> {
    if len > MAX_TEXT_BYTES {
        return Err(stopped(format!("{} MB of text from one value (the limit is {} MB)", len >> 20, MAX_TEXT_BYTES >> 20)));
    }
    Ok(())
}

/// Refuses a format width or precision above [`MAX_FORMAT_WIDTH`].
pub fn check_format_width(width: usize) -> Result<(), Error> {
    if width > MAX_FORMAT_WIDTH {
        return Err(stopped(format!("a format width of {width} (the limit is {MAX_FORMAT_WIDTH})")));
    }
    Ok(())
}

/// Every number in the replacement fields' format specs of a `str.format` string
/// (`{0:>20.3}` → 20, 3), checked against [`MAX_FORMAT_WIDTH`].
pub fn check_str_format_spec(format: &str) -> Result<(), Error> {
    let mut in_field = false;
    let mut in_spec = false;
    let mut number = 0usize;
    for c in format.chars() {
        match c {
            '{' => (in_field, in_spec) = (true, false),
            '}' => (in_field, in_spec) = (false, false),
            ':' if in_field => in_spec = true,
            _ => {}
        }
        if in_spec && c.is_ascii_digit() {
            number = number.saturating_mul(10).saturating_add(c as usize - '0' as usize);
            check_format_width(number)?;
        } else {
            number = 0;
        }
    }
    Ok(())
}

/// How many operators, postfix links and filters a tag's expression text has (string
/// literals skipped). A linear scan, so it is safe on any input.
pub fn tag_operator_count(inner: &str) -> usize {
    let bytes = inner.as_bytes();
    let mut count = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\'' | b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'+' | b'-' | b'*' | b'/' | b'%' | b'~' | b'|' | b'.' | b'[' | b'(' | b'<' | b'>' | b'=' | b'!' => count += 1,
            b if b.is_ascii_alphabetic() || b == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                if matches!(&inner[start..i], "not" | "and" | "or" | "is" | "in" | "if" | "else") {
                    count += 1;
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    count
}

/// The range of the first tag (by its inner text range) with too many operators, and the
/// message to report for it.
pub fn too_complex(inner: &str, range: Range<usize>) -> Option<(Range<usize>, String)> {
    let n = tag_operator_count(inner);
    (n > MAX_TAG_OPERATORS)
        .then(|| (range, format!("expression too complex: {n} operators in one tag (the limit is {MAX_TAG_OPERATORS}); split it up")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_stops_at_its_cap_with_the_reason() {
        use std::io::Write;
        let mut out = OutputBudget::new(10);
        assert!(out.write_all(b"0123456789").is_ok());
        assert!(out.write_all(b"x").is_err());
        assert_eq!(out.buf.len(), 10);
        assert!(out.stop.as_ref().is_some_and(|e| e.detail().unwrap_or_default().starts_with("stopped after 0 MB of output")));
    }

    #[test]
    fn a_cancelled_job_stops_and_the_limits_are_restored() {
        let flag = Arc::new(AtomicBool::new(false));
        let limits = JobLimits { cancelled: Some(flag.clone()), ..Default::default() };
        with_job(limits, || {
            let _clock = RenderClock::start();
            assert!(check_time().is_ok());
            flag.store(true, Ordering::Relaxed);
            let err = check_time().unwrap_err();
            assert!(err.detail().unwrap_or_default().contains("cancelled"));
            assert_eq!(take_time_stop().as_deref(), err.detail());
            assert!(is_time_stop(err.detail().unwrap_or_default()));
            assert!(!is_time_stop("stopped after 30 million steps, the budget of one render"));
            assert_eq!(take_time_stop(), None);
        });
        assert!(check_time().is_ok(), "limits leak out of with_job");
    }

    #[test]
    fn a_past_deadline_stops_the_render_and_ends_with_its_clock() {
        let limits = JobLimits { deadline: Some(Instant::now()), ..Default::default() };
        with_job(limits, || {
            assert!(check_time().is_ok(), "no render running yet");
            {
                let _clock = RenderClock::start();
                let err = check_time().unwrap_err();
                assert!(err.detail().unwrap_or_default().contains("time budget of the request"));
                assert!(is_time_stop(err.detail().unwrap_or_default()));
            }
            assert!(check_time().is_ok());
        });
    }

    #[test]
    fn counts_operators_outside_strings() {
        assert_eq!(tag_operator_count("a.b | default('x.y|z') + 1"), 4);
        assert_eq!(tag_operator_count("not not x and y"), 3);
        assert_eq!(tag_operator_count("nothing_is_inside"), 0);
        assert_eq!(tag_operator_count("'unterminated \\' string"), 0);
    }

    #[test]
    fn str_format_widths_are_bounded() {
        assert!(check_str_format_spec("{0:>10} {1:.3f} {}").is_ok());
        assert!(check_str_format_spec("{0:>999999999}").is_err());
        assert!(check_str_format_spec("{:.70000f}").is_err());
        // Digits outside a spec are not widths.
        assert!(check_str_format_spec("1234567890 {1234567890}").is_ok());
    }
}
