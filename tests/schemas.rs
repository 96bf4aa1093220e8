//! Schema fetching and validation against the shared store (`../shared/schemas`, laid out
//! `HOST/PATH`), served by a loopback HTTP server this test starts and through a `file://`
//! mirror: cold fetch, warm cache, 304 revalidation, offline with a stale cache, 404, a slow
//! server, a huge response, a remote `$ref` chain and a broken schema. No network.

mod support;

use homelab_lsp::schema::fetch::{CachedHttp, FetchOptions, Fetched, Source};
use homelab_lsp::schema::{Entry, Mode, Overrides, RepoConfig, Schemas, Store};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const APP_TEMPLATE: &str =
    "https://raw.githubusercontent.com/bjw-s-labs/helm-charts/common-4.1.1/charts/other/app-template/schemas/helmrelease-helm-v2.schema.json";
const KUSTOMIZATION: &str = "https://k8s-schemas.home-operations.com/kustomize.toolkit.fluxcd.io/kustomization_v1.json";

/// A loopback server for `/HOST/PATH` out of the store, with an ETag per file, plus
/// `/slow/…` (answers after 3 s), `/huge/…` (3 MB) and `/broken/…` (not JSON).
struct Server {
    port: u16,
    requests: Arc<AtomicUsize>,
    not_modified: Arc<AtomicUsize>,
}

fn serve(store: PathBuf) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(AtomicUsize::new(0));
    let not_modified = Arc::new(AtomicUsize::new(0));
    let (r, n) = (requests.clone(), not_modified.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (store, r, n) = (store.clone(), r.clone(), n.clone());
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    return;
                }
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                let mut if_none_match = None;
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = h.split_once(':') {
                        if k.eq_ignore_ascii_case("if-none-match") {
                            if_none_match = Some(v.trim().to_string());
                        }
                    }
                }
                r.fetch_add(1, Ordering::SeqCst);
                let mut out = stream;
                let send = |out: &mut std::net::TcpStream, status: &str, headers: &str, body: &[u8]| {
                    let _ = write!(out, "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n", body.len());
                    let _ = out.write_all(body);
                };
                if let Some(rest) = path.strip_prefix("/slow/") {
                    std::thread::sleep(Duration::from_secs(3));
                    let body = std::fs::read(store.join(rest)).unwrap_or_default();
                    return send(&mut out, "200 OK", "", &body);
                }
                if path.starts_with("/huge/") {
                    return send(&mut out, "200 OK", "", &vec![b' '; 3 * 1024 * 1024]);
                }
                if path.starts_with("/broken/") {
                    return send(&mut out, "200 OK", "", b"{\"type\": \"object\", \"properties\": ");
                }
                match std::fs::read(store.join(path.trim_start_matches('/'))) {
                    Ok(body) => {
                        let etag = format!("\"{}\"", body.len());
                        if if_none_match.as_deref() == Some(etag.as_str()) {
                            n.fetch_add(1, Ordering::SeqCst);
                            send(&mut out, "304 Not Modified", &format!("ETag: {etag}\r\n"), b"")
                        } else {
                            send(&mut out, "200 OK", &format!("ETag: {etag}\r\n"), &body)
                        }
                    }
                    Err(_) => send(&mut out, "404 Not Found", "", b"not found"),
                }
            });
        }
    });
    Server { port, requests, not_modified }
}

fn store_dir() -> Option<PathBuf> {
    let d = support::schemas_dir();
    if d.is_none() {
        eprintln!("NOTICE: ../shared/schemas not found (set HOMELAB_LSP_SCHEMAS); skipping schema tests");
    }
    d
}

fn http_opts(server: &Server, cache: &Path) -> FetchOptions {
    FetchOptions {
        mirrors: vec![("https://".into(), format!("http://127.0.0.1:{}/", server.port))],
        cache_dir: Some(cache.to_path_buf()),
        timeout: Duration::from_secs(10),
        ..FetchOptions::default()
    }
}

fn schemas_with(opts: FetchOptions, mirrors_extra: &[(&str, &str)]) -> Schemas {
    let mut opts = opts;
    for (a, b) in mirrors_extra {
        opts.mirrors.insert(0, (a.to_string(), b.to_string()));
    }
    let store = Store::new(Arc::new(CachedHttp::new(opts)), Mode::Blocking);
    Schemas::new(store, &RepoConfig::default(), &Overrides::default(), Path::new("/repo"))
}

fn body(f: Result<Fetched, String>) -> Vec<u8> {
    match f {
        Ok(Fetched::Body(b)) => b,
        other => panic!("expected a body, got {other:?}"),
    }
}

#[test]
fn cold_warm_revalidated_offline_and_stale() {
    let Some(dir) = store_dir() else { return };
    let server = serve(dir.clone());
    let cache = tempfile::tempdir().unwrap();
    let expected = std::fs::read(dir.join("k8s-schemas.home-operations.com/kustomize.toolkit.fluxcd.io/kustomization_v1.json")).unwrap();

    // Cold: one request, written to the cache.
    let cold = CachedHttp::new(http_opts(&server, cache.path()));
    assert_eq!(body(cold.get(KUSTOMIZATION)), expected);
    assert_eq!(server.requests.load(Ordering::SeqCst), 1);
    assert!(walkdir::WalkDir::new(cache.path()).into_iter().flatten().any(|e| e.file_type().is_file()), "cache written");

    // Warm: a new client (a new session) reads the cache without asking.
    let warm = CachedHttp::new(http_opts(&server, cache.path()));
    assert_eq!(body(warm.get(KUSTOMIZATION)), expected);
    assert_eq!(server.requests.load(Ordering::SeqCst), 1);

    // Expired: revalidated with If-None-Match, 304, the cached body.
    let expired = CachedHttp::new(FetchOptions { max_age: Duration::ZERO, ..http_opts(&server, cache.path()) });
    assert_eq!(body(expired.get(KUSTOMIZATION)), expected);
    assert_eq!((server.requests.load(Ordering::SeqCst), server.not_modified.load(Ordering::SeqCst)), (2, 1));

    // Offline: the stale copy, no request; nothing cached → a clear error.
    let offline = CachedHttp::new(FetchOptions { offline: true, max_age: Duration::ZERO, ..http_opts(&server, cache.path()) });
    assert_eq!(body(offline.get(KUSTOMIZATION)), expected);
    let err = offline.get("https://k8s-schemas.home-operations.com/cilium.io/ciliumnetworkpolicy_v2.json").unwrap_err();
    assert!(err.contains("offline"), "{err}");
    assert_eq!(server.requests.load(Ordering::SeqCst), 2);

    // Another mirror: the cache is keyed by the URL actually fetched, so a copy fetched from
    // one mirror is not passed off as another's.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let down = CachedHttp::new(FetchOptions {
        max_age: Duration::ZERO,
        mirrors: vec![("https://".into(), format!("http://127.0.0.1:{closed}/"))],
        cache_dir: Some(cache.path().to_path_buf()),
        ..FetchOptions::default()
    });
    assert!(down.get(KUSTOMIZATION).is_err(), "another mirror has no cached copy");
}

#[test]
fn not_found_slow_huge_and_broken() {
    let Some(dir) = store_dir() else { return };
    let server = serve(dir);
    let cache = tempfile::tempdir().unwrap();
    let http =
        CachedHttp::new(FetchOptions { timeout: Duration::from_millis(500), max_bytes: 1024 * 1024, ..http_opts(&server, cache.path()) });
    assert_eq!(http.get("https://k8s-schemas.home-operations.com/apps/deployment_v1.json"), Ok(Fetched::NotFound));
    let slow = http.get(&format!(
        "http://127.0.0.1:{}/slow/k8s-schemas.home-operations.com/kustomize.toolkit.fluxcd.io/kustomization_v1.json",
        server.port
    ));
    assert!(slow.is_err(), "a server slower than the timeout gives up: {slow:?}");
    let huge = http.get(&format!("http://127.0.0.1:{}/huge/x.json", server.port)).unwrap_err();
    assert!(huge.contains("limit"), "{huge}");

    // A document whose schema is 404 is not validated, silently; a broken schema is said
    // once, on its modeline, and the next document of the file is still validated.
    let schemas = schemas_with(http_opts(&server, cache.path()), &[]);
    let missing = "apiVersion: example.org/v1\nkind: Nothing\nspec: 3\n";
    assert!(schemas.validate(missing, Path::new("/repo/a.yaml")).findings.is_empty());
    let text = format!(
        "# yaml-language-server: $schema=http://127.0.0.1:{}/broken/x.json\napiVersion: v1\nkind: ConfigMap\n---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: a\nspec:\n  interval: 10m\n  prune: maybe\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n",
        server.port
    );
    let out = schemas.validate(&text, Path::new("/repo/b.yaml")).findings;
    let codes: Vec<(&str, u32)> = out.iter().map(|f| (f.code, text[..f.range.start].matches('\n').count() as u32)).collect();
    assert_eq!(codes, vec![("schema-error", 0), ("schema-violation", 10)], "{out:#?}");
    assert!(out[0].message.contains("not valid JSON"), "{}", out[0].message);
    assert!(out[1].message.contains("boolean") && out[1].message.contains("Prune"), "{}", out[1].message);
}

/// app-template → common `values.schema.json` → its `schemas/*.json`, over HTTP and through
/// a file:// mirror. The app-template schema refers to common-4.1.0, which the store has as
/// 4.1.1: a mirror maps one onto the other.
#[test]
fn remote_ref_chain_over_http_and_file_mirror() {
    let Some(dir) = store_dir() else { return };
    let server = serve(dir.clone());
    let cache = tempfile::tempdir().unwrap();
    let common = "https://raw.githubusercontent.com/bjw-s-labs/helm-charts/common-4.1.0/";
    let text = format!(
        "---\n# yaml-language-server: $schema={APP_TEMPLATE}\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: x\nspec:\n  interval: 1h\n  chartRef:\n    kind: OCIRepository\n    name: app-template\n  values:\n    controllers:\n      x:\n        replicas: ${{REPLICAS}}\n        containers:\n          app:\n            image:\n              repository: ghcr.io/x/y\n              tag: 1.0.0\n              pullPolicy: Sometimes\n"
    );
    let http_mirror = format!("http://127.0.0.1:{}/raw.githubusercontent.com/bjw-s-labs/helm-charts/common-4.1.1/", server.port);
    let file_mirror = format!("file://{}/", dir.display());
    let file_common = format!("file://{}/raw.githubusercontent.com/bjw-s-labs/helm-charts/common-4.1.1/", dir.display());
    let over_http = schemas_with(http_opts(&server, cache.path()), &[(common, &http_mirror)]);
    let over_file = schemas_with(
        FetchOptions { mirrors: vec![("https://".into(), file_mirror)], cache_dir: None, ..FetchOptions::default() },
        &[(common, &file_common)],
    );
    for schemas in [over_http, over_file] {
        let out = schemas.validate(&text, Path::new("/repo/hr.yaml")).findings;
        // `${REPLICAS}` is Flux's to fill in: never flagged for being a placeholder.
        assert_eq!(out.len(), 1, "{out:#?}");
        assert_eq!(&text[out[0].range.start..out[0].range.end], "Sometimes");
        assert!(out[0].message.contains("\"Always\", \"IfNotPresent\" or \"Never\""), "{}", out[0].message);
        let Entry::Ready(c) = schemas.store.get(APP_TEMPLATE) else { panic!("app-template schema not loaded") };
        assert!(c.docs.keys().any(|u| u.ends_with("library/common/values.schema.json")), "{:?}", c.docs.keys());
        assert!(c.docs.keys().any(|u| u.ends_with("schemas/containers.json")), "{:?}", c.docs.keys());
    }
}

/// Hover and completion from the schema, with an unclosed `[` on another line.
#[test]
fn hover_and_completion_from_the_schema_while_the_yaml_is_broken() {
    let Some(dir) = store_dir() else { return };
    let schemas = schemas_with(
        FetchOptions {
            mirrors: vec![("https://".into(), format!("file://{}/", dir.display()))],
            cache_dir: None,
            ..FetchOptions::default()
        },
        &[],
    );
    let text = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: a\n  labels: [oops\nspec:\n  prune: true\n  \n  sourceRef:\n    kind: \n";
    let at = |needle: &str| text.find(needle).unwrap();
    let h = homelab_lsp::schema::assist::hover(&schemas, text, Path::new("/repo/ks.yaml"), at("prune") + 1).expect("hover on prune");
    assert!(h.markdown.contains("**spec.prune** · boolean") && h.markdown.contains("Prune enables garbage collection"), "{}", h.markdown);
    // A new key under `spec`: what the schema allows, required first, present keys left out.
    let keys = homelab_lsp::schema::assist::complete(&schemas, text, Path::new("/repo/ks.yaml"), at("  \n  sourceRef") + 2);
    let labels: Vec<&str> = keys.iter().map(|k| k.label.as_str()).collect();
    assert!(labels.contains(&"interval") && labels.contains(&"path"), "{labels:?}");
    assert!(!labels.contains(&"prune") && !labels.contains(&"sourceRef"), "{labels:?}");
    let first_optional = keys.iter().position(|k| !k.required).unwrap_or(keys.len());
    assert!(keys[..first_optional].iter().any(|k| k.label == "interval"), "required first: {labels:?}");
    // An enum value.
    let kinds = homelab_lsp::schema::assist::complete(&schemas, text, Path::new("/repo/ks.yaml"), at("kind: \n") + 6);
    let kinds: Vec<&str> = kinds.iter().map(|k| k.label.as_str()).collect();
    assert!(kinds.contains(&"GitRepository") && kinds.contains(&"OCIRepository"), "{kinds:?}");
}

/// A template is validated on its rendered output and the finding placed on the template's
/// line (at the value when it is written literally there); `check` reports it.
#[test]
fn template_violations_on_template_lines() {
    let (Some(_), Some(corpora)) = (store_dir(), support::corpora_dir()) else { return };
    let repo = support::corpus_copy(&corpora, "cluster-template-yaml");
    let file = repo.path().join("templates/config/kubernetes/flux/cluster/ks.yaml.j2");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("  prune: true\n") && text.contains("  interval: 1h\n"), "fixture changed");
    std::fs::write(
        &file,
        text.replace("  prune: true\n", "  prune: sometimes\n").replace("  interval: 1h\n", "  interval: #{ \"1hour\" }#\n"),
    )
    .unwrap();
    let (_, stdout, stderr) = support::run_cli_with_schemas(
        &["check", "--root", repo.path().to_str().unwrap(), "--format", "json", "--plugins", "emulate"],
        repo.path(),
    );
    let reports: Vec<serde_json::Value> = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    let schema: Vec<(String, u64, String)> = reports
        .iter()
        .filter(|r| r["code"].as_str().is_some_and(|c| c.starts_with("schema-")))
        .map(|r| (r["path"].as_str().unwrap().to_string(), r["line"].as_u64().unwrap(), r["message"].as_str().unwrap().to_string()))
        .collect();
    let path = "templates/config/kubernetes/flux/cluster/ks.yaml.j2";
    assert_eq!(schema.len(), 2, "{schema:#?}");
    assert_eq!((schema[0].0.as_str(), schema[0].1), (path, 11));
    assert!(schema[0].2.contains("does not match") && schema[0].2.contains("interval"), "{}", schema[0].2);
    assert_eq!((schema[1].0.as_str(), schema[1].1), (path, 13));
    assert!(schema[1].2.contains("\"sometimes\" is not of type \"boolean\""), "{}", schema[1].2);
}
