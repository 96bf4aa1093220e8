//! The fuzzer's LSP client: Content-Length framing over the child's stdio, a reader thread
//! that timestamps every message and forwards it (the fuzzer answers the server's own
//! requests as it reads them), and a stderr thread that counts secret sightings across chunk boundaries
//! (so nothing the server ever writes escapes the scan, however long the run).

use crate::framing::{read_frame, write_frame};
use serde_json::{json, Value};
use std::io::{BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub enum Event {
    Msg(Instant, Value),
    /// The server closed its stdout.
    Closed,
}

pub struct Server {
    child: Child,
    stdin: ChildStdin,
    rx: Receiver<Event>,
    next_id: i64,
    /// Secret sightings in stderr so far.
    pub stderr_secret_hits: Arc<AtomicUsize>,
    stderr_tail: Arc<Mutex<Vec<u8>>>,
    pub closed: bool,
}

/// Counts occurrences of `needle` in a stream read in chunks.
fn count_in_stream(mut r: impl Read, needle: Vec<u8>, hits: Arc<AtomicUsize>, tail: Arc<Mutex<Vec<u8>>>) {
    let mut carry: Vec<u8> = Vec::new();
    let mut buf = [0u8; 8192];
    while let Ok(n) = r.read(&mut buf) {
        if n == 0 {
            break;
        }
        carry.extend_from_slice(&buf[..n]);
        let found = carry.windows(needle.len()).filter(|w| *w == needle.as_slice()).count();
        hits.fetch_add(found, Ordering::SeqCst);
        let keep = carry.len().min(needle.len().saturating_sub(1));
        // Keep only what could start a match not yet counted.
        let cut = carry.len() - keep;
        let mut t = tail.lock().unwrap_or_else(|e| e.into_inner());
        t.extend_from_slice(&carry[..cut]);
        let excess = t.len().saturating_sub(16 * 1024);
        t.drain(..excess);
        carry.drain(..cut);
    }
    tail.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(&carry);
}

impl Server {
    /// Starts `program` (LSP on stdio) in `cwd`, with `env` added to its environment.
    pub fn spawn(program: &Path, cwd: &Path, env: &[(String, std::path::PathBuf)], secret: &str) -> std::io::Result<Server> {
        let mut child = Command::new(program)
            .current_dir(cwd)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let hits = Arc::new(AtomicUsize::new(0));
        let tail = Arc::new(Mutex::new(Vec::new()));
        {
            let (hits, tail, needle) = (hits.clone(), tail.clone(), secret.as_bytes().to_vec());
            std::thread::spawn(move || count_in_stream(stderr, needle, hits, tail));
        }
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::with_capacity(1 << 16, stdout);
            while let Ok(Some(v)) = read_frame(&mut r) {
                if tx.send(Event::Msg(Instant::now(), v)).is_err() {
                    return;
                }
            }
            let _ = tx.send(Event::Closed);
        });
        Ok(Server { child, stdin, rx, next_id: 0, stderr_secret_hits: hits, stderr_tail: tail, closed: false })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn send(&mut self, v: &Value) {
        // A write to a dead server fails; the reader reports the death.
        let _ = write_frame(&mut self.stdin, v);
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    pub fn request(&mut self, method: &str, params: Value) -> i64 {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    pub fn respond(&mut self, id: Value, result: Value) {
        self.send(&json!({"jsonrpc": "2.0", "id": id, "result": result}));
    }

    /// The next event, waiting at most `timeout`.
    pub fn next(&mut self, timeout: Duration) -> Option<Event> {
        if self.closed {
            return None;
        }
        match self.rx.recv_timeout(timeout) {
            Ok(Event::Closed) | Err(RecvTimeoutError::Disconnected) => {
                self.closed = true;
                Some(Event::Closed)
            }
            Ok(e) => Some(e),
            Err(RecvTimeoutError::Timeout) => None,
        }
    }

    /// Peak resident set size (VmHWM) in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
        line["VmHWM:".len()..].split_whitespace().next()?.parse().ok()
    }

    /// The exit status, once the process has exited.
    pub fn exit_status(&mut self, wait: Duration) -> Option<std::process::ExitStatus> {
        let end = Instant::now() + wait;
        loop {
            if let Ok(Some(s)) = self.child.try_wait() {
                return Some(s);
            }
            if Instant::now() >= end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The last lines of stderr (for a death report).
    pub fn stderr_tail(&self, lines: usize) -> String {
        let t = self.stderr_tail.lock().unwrap_or_else(|e| e.into_inner());
        let s = String::from_utf8_lossy(&t);
        let v: Vec<&str> = s.lines().rev().take(lines).collect();
        v.into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    /// Kills the process (if still running) and reaps it.
    pub fn kill(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `file://` URI of an absolute path (percent-encoding what needs it).
pub fn file_uri(path: &Path) -> String {
    let mut s = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}
