//! A small LSP client over stdio: Content-Length framing, a reader thread that timestamps
//! every message on arrival and answers the server's own requests
//! (`window/workDoneProgress/create`, `client/registerCapability`, `workspace/configuration`).

pub use crate::framing::read_frame;
use crate::framing::write_frame;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::io::{BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One message from the server, with when it was read.
#[derive(Debug, Clone)]
pub struct Msg {
    pub at: Instant,
    pub value: Value,
}

impl Msg {
    pub fn method(&self) -> Option<&str> {
        self.value.get("method").and_then(Value::as_str)
    }
    pub fn params(&self) -> &Value {
        self.value.get("params").unwrap_or(&Value::Null)
    }
}

/// Answers `workspace/configuration` items (one value per item).
pub type ConfigResponder = Arc<dyn Fn(&Value) -> Value + Send + Sync>;

pub struct Client {
    pub name: String,
    child: Child,
    stdin: Arc<Mutex<ChildStdin>>,
    rx: Receiver<Msg>,
    next_id: i64,
    /// Messages read while waiting for something else, oldest first.
    pending: VecDeque<Msg>,
    stderr_tail: Arc<Mutex<Vec<u8>>>,
    /// When the process was spawned.
    pub spawned: Instant,
    /// Server requests answered by the reader thread.
    pub server_requests: Arc<Mutex<Vec<String>>>,
}

impl Client {
    /// Spawns `program args...` and starts the reader threads.
    pub fn spawn(name: &str, program: &Path, args: &[&str], cwd: &Path, config: ConfigResponder) -> crate::BResult<Client> {
        let spawned = Instant::now();
        let mut child = Command::new(program)
            .args(args)
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| err!("cannot start {}: {e}", program.display()))?;
        let stdin = Arc::new(Mutex::new(child.stdin.take().expect("piped stdin")));
        let stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        let stderr_tail = Arc::new(Mutex::new(Vec::new()));
        let tail = stderr_tail.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = stderr.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut t = tail.lock().unwrap_or_else(|e| e.into_inner());
                t.extend_from_slice(&buf[..n]);
                let excess = t.len().saturating_sub(64 * 1024);
                if excess > 0 {
                    t.drain(..excess);
                }
            }
        });
        let (tx, rx) = channel();
        let writer = stdin.clone();
        let server_requests = Arc::new(Mutex::new(Vec::new()));
        let seen = server_requests.clone();
        std::thread::spawn(move || {
            let mut r = BufReader::with_capacity(1 << 16, stdout);
            while let Ok(Some(value)) = read_frame(&mut r) {
                let at = Instant::now();
                let is_request = value.get("id").is_some() && value.get("method").is_some();
                if is_request {
                    let method = value["method"].as_str().unwrap_or_default().to_string();
                    let result = match method.as_str() {
                        "workspace/configuration" => {
                            let items = value["params"]["items"].as_array().cloned().unwrap_or_default();
                            Value::Array(items.iter().map(|i| config(i)).collect())
                        }
                        _ => Value::Null,
                    };
                    let answer = json!({"jsonrpc": "2.0", "id": value["id"].clone(), "result": result});
                    let mut w = writer.lock().unwrap_or_else(|e| e.into_inner());
                    let _ = write_frame(&mut *w, &answer);
                    seen.lock().unwrap_or_else(|e| e.into_inner()).push(method);
                }
                if tx.send(Msg { at, value }).is_err() {
                    break;
                }
            }
        });
        Ok(Client { name: name.to_string(), child, stdin, rx, next_id: 0, pending: VecDeque::new(), stderr_tail, spawned, server_requests })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn send(&self, v: &Value) -> crate::BResult<()> {
        let mut w = self.stdin.lock().unwrap_or_else(|e| e.into_inner());
        write_frame(&mut *w, v).map_err(|e| err!("{}: cannot write to the server: {e}{}", self.name, self.stderr_note()))
    }

    pub fn notify(&self, method: &str, params: Value) -> crate::BResult<()> {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}))
    }

    /// Sends a request; returns its id and when it was sent.
    pub fn send_request(&mut self, method: &str, params: Value) -> crate::BResult<(i64, Instant)> {
        self.next_id += 1;
        let id = self.next_id;
        let at = Instant::now();
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))?;
        Ok((id, at))
    }

    /// A request and its round trip (send → response read).
    pub fn request(&mut self, method: &str, params: Value, timeout: Duration) -> crate::BResult<(Value, Duration)> {
        let (id, sent) = self.send_request(method, params)?;
        let msg = self.wait_for(timeout, |m| m.value.get("id").and_then(Value::as_i64) == Some(id) && m.method().is_none())?;
        if let Some(err) = msg.value.get("error") {
            bail!("{}: {method} failed: {err}", self.name);
        }
        Ok((msg.value.get("result").cloned().unwrap_or(Value::Null), msg.at.saturating_duration_since(sent)))
    }

    /// The first message (pending or new) matching `pred`; others stay pending.
    pub fn wait_for(&mut self, timeout: Duration, mut pred: impl FnMut(&Msg) -> bool) -> crate::BResult<Msg> {
        if let Some(i) = self.pending.iter().position(&mut pred) {
            return Ok(self.pending.remove(i).expect("index in range"));
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(m) if pred(&m) => return Ok(m),
                Ok(m) => self.pending.push_back(m),
                Err(RecvTimeoutError::Timeout) => {
                    bail!("{}: timed out after {:.1} s waiting for the server{}", self.name, timeout.as_secs_f64(), self.stderr_note())
                }
                Err(RecvTimeoutError::Disconnected) => {
                    bail!("{}: the server closed its output (crashed?){}", self.name, self.stderr_note())
                }
            }
        }
    }

    /// Takes the messages read while waiting for something else.
    pub fn take_pending(&mut self) -> Vec<Msg> {
        self.pending.drain(..).collect()
    }

    /// Drops pending messages (between phases); returns how many.
    pub fn drain(&mut self) -> usize {
        let mut n = self.pending.len();
        self.pending.clear();
        while self.rx.try_recv().is_ok() {
            n += 1;
        }
        n
    }

    /// Collects messages until `quiet` passes without one (or `max` passes).
    pub fn settle(&mut self, quiet: Duration, max: Duration) -> Vec<Msg> {
        let end = Instant::now() + max;
        let mut out: Vec<Msg> = self.pending.drain(..).collect();
        loop {
            let left = end.saturating_duration_since(Instant::now()).min(quiet);
            if left.is_zero() {
                return out;
            }
            match self.rx.recv_timeout(left) {
                Ok(m) => out.push(m),
                Err(_) => return out,
            }
        }
    }

    /// Peak resident set size of the server process (VmHWM), in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        proc_status_kib(self.pid(), "VmHWM:")
    }

    /// initialize + initialized.
    pub fn initialize(&mut self, root: &Path, init_options: Value, timeout: Duration) -> crate::BResult<(Value, Duration)> {
        let uri = file_uri(root);
        let params = json!({
            "processId": std::process::id(),
            "clientInfo": {"name": "homelab-bench", "version": env!("CARGO_PKG_VERSION")},
            "rootUri": uri,
            "workspaceFolders": [{"uri": uri, "name": "bench"}],
            "initializationOptions": init_options,
            "capabilities": {
                "general": {"positionEncodings": ["utf-16"]},
                "window": {"workDoneProgress": true},
                "workspace": {
                    "configuration": true,
                    "workspaceFolders": true,
                    "didChangeWatchedFiles": {"dynamicRegistration": true},
                    "didChangeConfiguration": {"dynamicRegistration": true}
                },
                "textDocument": {
                    "synchronization": {"didSave": true, "dynamicRegistration": false},
                    "completion": {"completionItem": {"snippetSupport": true, "documentationFormat": ["markdown", "plaintext"]}},
                    "hover": {"contentFormat": ["markdown", "plaintext"]},
                    "definition": {"linkSupport": false},
                    "publishDiagnostics": {"relatedInformation": true, "versionSupport": true}
                }
            }
        });
        let r = self.request("initialize", params, timeout)?;
        self.notify("initialized", json!({}))?;
        Ok(r)
    }

    /// shutdown + exit, then waits for the process (killed after `timeout`).
    pub fn shutdown(mut self, timeout: Duration) -> crate::BResult<()> {
        let r = self.request("shutdown", Value::Null, timeout);
        let _ = self.notify("exit", Value::Null);
        let deadline = Instant::now() + timeout;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    r?;
                    return if status.success() {
                        Ok(())
                    } else {
                        Err(err!("{}: the server exited with {status}{}", self.name, self.stderr_note()))
                    };
                }
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    r?;
                    bail!("{}: the server did not exit after shutdown/exit; killed", self.name);
                }
            }
        }
    }

    fn stderr_note(&self) -> String {
        let t = self.stderr_tail.lock().unwrap_or_else(|e| e.into_inner());
        if t.is_empty() {
            return String::new();
        }
        let s = String::from_utf8_lossy(&t);
        let tail: Vec<&str> = s.lines().rev().take(15).collect();
        format!("\n  server stderr (last lines):\n    {}", tail.into_iter().rev().collect::<Vec<_>>().join("\n    "))
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn proc_status_kib(pid: u32, field: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line[field.len()..].split_whitespace().next()?.parse().ok()
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

/// (line, UTF-16 column) of a byte offset.
pub fn position(text: &str, offset: usize) -> (u32, u32) {
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = text[line_start..offset].encode_utf16().count();
    (line as u32, col as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16() {
        let t = "a\nb😀c";
        assert_eq!(position(t, 0), (0, 0));
        assert_eq!(position(t, 2), (1, 0));
        assert_eq!(position(t, 7), (1, 3));
        assert_eq!(file_uri(Path::new("/tmp/a b")), "file:///tmp/a%20b");
    }
}
