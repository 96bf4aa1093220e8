//! One worker process: `python -c worker.py` in the project root, JSON lines over its
//! stdin/stdout. Replies are read on a thread of their own, so every request has a deadline
//! and a plugin that hangs costs a timeout, never a hung server.

use serde_json::Value as Json;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The worker's Python source, embedded in the binary.
pub const WORKER_SOURCE: &str = include_str!("worker.py");

/// How much of the worker's stderr is kept for error messages.
const STDERR_TAIL: usize = 4096;

pub struct Worker {
    child: Child,
    stdin: ChildStdin,
    replies: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    /// The Python version the worker reported.
    pub version: String,
}

impl Worker {
    /// Starts the worker and waits for its ready line (imports happen here).
    pub fn start(python: &Path, root: &Path, timeout: Duration) -> Result<Worker, String> {
        let mut command = Command::new(python);
        command.arg("-c").arg(WORKER_SOURCE).current_dir(root).env("PYTHONDONTWRITEBYTECODE", "1").env("PYTHONUNBUFFERED", "1");
        // A plugin that iterates a set of strings yields another order in every Python
        // process (hash randomisation): without a fixed seed a restart could change the
        // previews and diagnostics of unchanged files. The user's own seed stays.
        if std::env::var_os("PYTHONHASHSEED").is_none_or(|s| s.is_empty()) {
            command.env("PYTHONHASHSEED", "0");
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", python.display()))?;
        let (Some(stdin), Some(stdout), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take()) else {
            let _ = child.kill();
            return Err("cannot open the worker's pipes".into());
        };
        let (tx, replies) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let tail = Arc::new(Mutex::new(String::new()));
        let sink = tail.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let mut t = sink.lock().unwrap_or_else(|e| e.into_inner());
                t.push_str(&line);
                t.push('\n');
                if t.len() > STDERR_TAIL {
                    let cut = t.len() - STDERR_TAIL;
                    let cut = (cut..t.len()).find(|&i| t.is_char_boundary(i)).unwrap_or(t.len());
                    t.drain(..cut);
                }
            }
        });
        let mut worker = Worker { child, stdin, replies, stderr: tail, version: String::new() };
        let ready = worker.read_reply(timeout)?;
        worker.version = ready.get("python").and_then(Json::as_str).unwrap_or_default().to_string();
        Ok(worker)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends one request and waits for its reply.
    pub fn request(&mut self, request: &str, timeout: Duration) -> Result<Json, String> {
        let sent = self.stdin.write_all(request.as_bytes()).and_then(|()| self.stdin.write_all(b"\n")).and_then(|()| self.stdin.flush());
        if let Err(e) = sent {
            return Err(self.died(&format!("cannot write to the plugin worker: {e}")));
        }
        self.read_reply(timeout)
    }

    fn read_reply(&mut self, timeout: Duration) -> Result<Json, String> {
        match self.replies.recv_timeout(timeout) {
            Ok(line) => serde_json::from_str(&line).map_err(|e| format!("the plugin worker sent an unreadable reply ({e})")),
            Err(RecvTimeoutError::Timeout) => {
                let _ = self.child.kill();
                Err(format!("the plugin worker did not answer within {} s and was stopped", timeout.as_secs()))
            }
            Err(RecvTimeoutError::Disconnected) => Err(self.died("the plugin worker exited")),
        }
    }

    fn died(&mut self, what: &str) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The reader threads end with the process; give stderr's a moment to finish.
        std::thread::sleep(Duration::from_millis(20));
        let tail = self.stderr.lock().map(|t| t.trim().to_string()).unwrap_or_default();
        let last = tail.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default();
        if last.is_empty() {
            what.to_string()
        } else {
            format!("{what}: {last}")
        }
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
