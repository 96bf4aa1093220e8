//! Getting schema documents: mirrors, `file://` trees, HTTP with a disk cache.
//!
//! Everything that touches the network or the cache sits behind [`Source`], so tests and the
//! CLI can swap in a mirror or an offline store. Callers never run this on a request's
//! path: the store calls it from its background worker (server) or before checking (CLI).

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// How long a host that could not be reached (no DNS, refused, timed out) is not asked
/// again: one repo names dozens of schemas on the same host, and asking for each of them
/// on a machine without network turns a half-second `check` into many seconds.
const UNREACHABLE_FOR: Duration = Duration::from_secs(60);
/// Name lookup and connection setup, each (the whole request has `FetchOptions::timeout`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What a URL gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    Body(Vec<u8>),
    /// 404/410 or a missing file: there is no schema (silently).
    NotFound,
}

/// Where schema documents come from.
pub trait Source: Send + Sync {
    /// The document at `url`, or why it cannot be had.
    fn get(&self, url: &str) -> Result<Fetched, String>;
}

/// How [`CachedHttp`] behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchOptions {
    /// Never touch the network: the cache (fresh or stale), mirrors on `file://` only.
    pub offline: bool,
    /// URL prefix → URL prefix, longest prefix first wins.
    pub mirrors: Vec<(String, String)>,
    /// `None`: no disk cache (memory only).
    pub cache_dir: Option<PathBuf>,
    /// A cached copy younger than this is used without asking the server.
    pub max_age: Duration,
    /// Per request, connect to last byte.
    pub timeout: Duration,
    /// Larger bodies are refused (a schema is at most a few MB).
    pub max_bytes: u64,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            offline: false,
            mirrors: Vec::new(),
            cache_dir: default_cache_dir(),
            max_age: Duration::from_secs(24 * 3600),
            timeout: Duration::from_secs(15),
            max_bytes: 32 * 1024 * 1024,
        }
    }
}

/// `$XDG_CACHE_HOME/homelab-lsp/schemas`, else `~/.cache/homelab-lsp/schemas`.
pub fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("homelab-lsp").join("schemas"))
}

/// `url` with the longest matching mirror prefix replaced.
pub fn apply_mirrors(url: &str, mirrors: &[(String, String)]) -> String {
    mirrors
        .iter()
        .filter(|(from, _)| !from.is_empty() && url.starts_with(from.as_str()))
        .max_by_key(|(from, _)| from.len())
        .map(|(from, to)| format!("{to}{}", &url[from.len()..]))
        .unwrap_or_else(|| url.to_string())
}

/// The local path of a `file://` URL (`file:///abs/path`), percent escapes decoded.
pub fn file_url_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("file://")?;
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    if !rest.starts_with('/') {
        return None;
    }
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    Some(PathBuf::from(percent_decode(rest)))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Some(v) = std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// HTTP(S) and `file://` with mirrors and a revalidating disk cache.
pub struct CachedHttp {
    opts: FetchOptions,
    agent: ureq::Agent,
    /// Host → when it failed and why (see [`UNREACHABLE_FOR`]).
    unreachable: Mutex<HashMap<String, (Instant, String)>>,
}

/// What the cache remembers about one URL besides its body.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct Meta {
    url: String,
    etag: Option<String>,
    last_modified: Option<String>,
    /// Seconds since the epoch of the last answer from the server.
    checked: u64,
    /// The server said 404/410.
    #[serde(default)]
    not_found: bool,
}

impl CachedHttp {
    pub fn new(opts: FetchOptions) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(opts.timeout))
            // Apart from the overall limit, so that a host that cannot be reached at all is
            // told from one that is slow to answer (only the former is skipped for a while).
            .timeout_resolve(Some(opts.timeout.min(CONNECT_TIMEOUT)))
            .timeout_connect(Some(opts.timeout.min(CONNECT_TIMEOUT)))
            .http_status_as_error(false)
            .user_agent(concat!("homelab-lsp/", env!("CARGO_PKG_VERSION")))
            .build();
        CachedHttp { agent: config.into(), opts, unreachable: Mutex::new(HashMap::new()) }
    }

    pub fn options(&self) -> &FetchOptions {
        &self.opts
    }

    /// Cache files of `url`: body and meta.
    fn cache_paths(&self, url: &str) -> Option<(PathBuf, PathBuf)> {
        let dir = self.opts.cache_dir.as_ref()?;
        let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
        let host: String = rest
            .split('/')
            .next()
            .unwrap_or("")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '_' })
            .collect();
        let tail: String = rest
            .rsplit('/')
            .next()
            .unwrap_or("")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
            .take(80)
            .collect();
        let name = format!("{:016x}-{tail}", fnv1a(url.as_bytes()));
        let d = dir.join(if host.is_empty() { "_".into() } else { host });
        Some((d.join(&name), d.join(format!("{name}.meta"))))
    }

    fn read_cache(&self, url: &str) -> Option<(Meta, Option<Vec<u8>>)> {
        let (body, meta) = self.cache_paths(url)?;
        let meta: Meta = serde_json::from_slice(&std::fs::read(meta).ok()?).ok()?;
        if meta.url != url {
            return None;
        }
        let body = if meta.not_found { None } else { Some(std::fs::read(body).ok()?) };
        Some((meta, body))
    }

    fn write_cache(&self, meta: &Meta, body: Option<&[u8]>) {
        let Some((bpath, mpath)) = self.cache_paths(&meta.url) else { return };
        let Some(dir) = bpath.parent() else { return };
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        // Write to a temporary name and rename, so a reader never sees half a file.
        if let Some(body) = body {
            if !write_atomic(&bpath, body) {
                return;
            }
        }
        if let Ok(m) = serde_json::to_vec(meta) {
            write_atomic(&mpath, &m);
        }
    }

    fn read_file(&self, path: &Path) -> Result<Fetched, String> {
        let len = match std::fs::metadata(path) {
            Err(_) => return Ok(Fetched::NotFound),
            Ok(m) if !m.is_file() => return Ok(Fetched::NotFound),
            Ok(m) if m.len() > self.opts.max_bytes => {
                return Err(format!("{} is larger than the {} byte schema limit", path.display(), self.opts.max_bytes))
            }
            Ok(m) => m.len(),
        };
        // The file may grow after `metadata`: the limit applies to what is read.
        let mut bytes = Vec::with_capacity(len as usize + 1);
        let read = std::fs::File::open(path)
            .and_then(|f| std::io::Read::read_to_end(&mut std::io::Read::take(f, self.opts.max_bytes + 1), &mut bytes));
        match read {
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
            Ok(n) if n as u64 > self.opts.max_bytes => {
                Err(format!("{} is larger than the {} byte schema limit", path.display(), self.opts.max_bytes))
            }
            Ok(_) => Ok(Fetched::Body(bytes)),
        }
    }

    fn http(&self, url: &str, cached: Option<&(Meta, Option<Vec<u8>>)>) -> Result<Fetched, HttpError> {
        let mut req = self.agent.get(url);
        if let Some((meta, Some(_))) = cached {
            if let Some(e) = &meta.etag {
                req = req.header("If-None-Match", e);
            }
            if let Some(l) = &meta.last_modified {
                req = req.header("If-Modified-Since", l);
            }
        }
        let mut resp = req.call().map_err(|e| {
            use ureq::{Error, Timeout};
            match e {
                Error::Io(_) | Error::HostNotFound | Error::ConnectionFailed | Error::Timeout(Timeout::Resolve | Timeout::Connect) => {
                    HttpError::Transport(e.to_string())
                }
                e => HttpError::Other(format!("cannot fetch {url}: {e}")),
            }
        })?;
        let status = resp.status().as_u16();
        let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let mut meta =
            Meta { url: url.to_string(), etag: header("etag"), last_modified: header("last-modified"), checked: now(), not_found: false };
        match status {
            304 => match cached {
                Some((old, Some(body))) => {
                    meta.etag = meta.etag.or_else(|| old.etag.clone());
                    meta.last_modified = meta.last_modified.or_else(|| old.last_modified.clone());
                    self.write_cache(&meta, None);
                    Ok(Fetched::Body(body.clone()))
                }
                _ => Err(HttpError::Other(format!("{url} answered 304 to a request without a cached copy"))),
            },
            404 | 410 => {
                meta.not_found = true;
                self.write_cache(&meta, None);
                Ok(Fetched::NotFound)
            }
            200..=299 => {
                let limit = self.opts.max_bytes;
                let mut body = Vec::new();
                let reader = resp.body_mut().with_config().limit(limit.saturating_add(1)).reader();
                let too_large = || HttpError::TooLarge(format!("{url} is larger than the {limit} byte schema limit"));
                reader.take(limit.saturating_add(1)).read_to_end(&mut body).map_err(|e| {
                    if e.to_string().contains("limit") {
                        too_large()
                    } else {
                        HttpError::Other(format!("cannot read {url}: {e}"))
                    }
                })?;
                if body.len() as u64 > limit {
                    return Err(too_large());
                }
                self.write_cache(&meta, Some(&body));
                Ok(Fetched::Body(body))
            }
            s => Err(HttpError::Other(format!("{url} answered HTTP {s}"))),
        }
    }
}

impl Source for CachedHttp {
    fn get(&self, url: &str) -> Result<Fetched, String> {
        let target = apply_mirrors(url, &self.opts.mirrors);
        if let Some(path) = file_url_path(&target) {
            return self.read_file(&path);
        }
        if !(target.starts_with("http://") || target.starts_with("https://")) {
            return Err(format!("cannot fetch {target}: only http(s):// and file:// URLs are supported"));
        }
        let cached = self.read_cache(&target);
        let stale_or = |err: String| match &cached {
            Some((_, Some(body))) => Ok(Fetched::Body(body.clone())),
            Some((m, None)) if m.not_found => Ok(Fetched::NotFound),
            _ => Err(err),
        };
        if self.opts.offline {
            return stale_or(format!("{url} is not in the schema cache (offline)"));
        }
        if let Some((meta, body)) = &cached {
            let age = now().saturating_sub(meta.checked);
            if age < self.opts.max_age.as_secs() {
                return Ok(match body {
                    Some(b) => Fetched::Body(b.clone()),
                    None => Fetched::NotFound,
                });
            }
        }
        let host = url_host(&target).to_string();
        if let Some(why) = self.recently_unreachable(&host) {
            return stale_or(format!("cannot fetch {url}: {why}"));
        }
        match self.http(&target, cached.as_ref()) {
            Ok(f) => Ok(f),
            // The host itself failed (DNS, connect, timeout): spare its other schemas the wait.
            Err(HttpError::Transport(e)) => {
                if let Ok(mut u) = self.unreachable.lock() {
                    u.insert(host, (Instant::now(), e.clone()));
                }
                stale_or(format!("cannot fetch {url}: {e}"))
            }
            Err(HttpError::TooLarge(e)) => Err(e),
            // The server is there but failing: the stale copy is better than nothing.
            Err(HttpError::Other(e)) => stale_or(e),
        }
    }
}

impl CachedHttp {
    fn recently_unreachable(&self, host: &str) -> Option<String> {
        let u = self.unreachable.lock().ok()?;
        let (at, why) = u.get(host)?;
        (at.elapsed() < UNREACHABLE_FOR).then(|| why.clone())
    }
}

/// Why a request failed: the host could not be talked to at all, or it answered badly.
enum HttpError {
    Transport(String),
    TooLarge(String),
    Other(String),
}

/// `https://host:port/path` → `host:port` (the whole string when it has no scheme).
pub fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

fn now() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn write_atomic(path: &Path, bytes: &[u8]) -> bool {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    if std::fs::write(&tmp, bytes).is_err() {
        return false;
    }
    std::fs::rename(&tmp, path).is_ok()
}

/// 64-bit FNV-1a: a stable file name for a URL (not security relevant).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirrors_take_the_longest_prefix() {
        let m = vec![
            ("https://".to_string(), "http://127.0.0.1:1/".to_string()),
            ("https://a.example/x/".to_string(), "file:///m/".to_string()),
        ];
        assert_eq!(apply_mirrors("https://a.example/x/y.json", &m), "file:///m/y.json");
        assert_eq!(apply_mirrors("https://b.example/y.json", &m), "http://127.0.0.1:1/b.example/y.json");
        assert_eq!(apply_mirrors("http://b.example/y.json", &m), "http://b.example/y.json");
    }

    #[test]
    fn file_urls() {
        assert_eq!(file_url_path("file:///a/b%20c.json"), Some(PathBuf::from("/a/b c.json")));
        assert_eq!(file_url_path("file://localhost/a"), Some(PathBuf::from("/a")));
        assert_eq!(file_url_path("https://x/a"), None);
    }

    /// A host that refuses connections is not asked again for its other schemas (a repo
    /// names dozens on one host; offline, asking for each turned `check` from 0.5 s into 10 s),
    /// while a host that answers (even 404) keeps being asked.
    #[test]
    fn an_unreachable_host_is_skipped_for_a_while() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let http = CachedHttp::new(FetchOptions { cache_dir: None, ..FetchOptions::default() });
        let first = http.get(&format!("http://127.0.0.1:{closed}/a.json")).unwrap_err();
        assert!(first.contains("cannot fetch"), "{first}");
        assert!(http.recently_unreachable(&format!("127.0.0.1:{closed}")).is_some());
        let second = http.get(&format!("http://127.0.0.1:{closed}/b.json")).unwrap_err();
        assert!(second.contains("/b.json"), "the error names the schema asked for: {second}");

        let open = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = open.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            use std::io::Write;
            let (mut conn, _) = open.accept().unwrap();
            let mut buf = [0u8; 1024];
            let _ = std::io::Read::read(&mut conn, &mut buf);
            let _ = conn.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        });
        assert_eq!(http.get(&format!("http://127.0.0.1:{port}/c.json")), Ok(Fetched::NotFound));
        assert!(http.recently_unreachable(&format!("127.0.0.1:{port}")).is_none());
        server.join().unwrap();
        assert_eq!(url_host("https://h.example:8443/x/y.json?z"), "h.example:8443");
    }
}
