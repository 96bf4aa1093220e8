//! Regression fixtures for the precision of the secret and reference rules
//! (`inline-credential`, `plaintext-secret`, `unknown-secret-ref`, `unknown-gateway`,
//! `committed-secret`): one test per class of false positive found on real repos, each
//! also holding the true positive the rule must keep.

mod support;

use support::*;

/// (path, line, severity, code) of every report, from `check --format json`.
fn check(root: &std::path::Path) -> Vec<(String, usize, String, String)> {
    let (code, stdout, stderr) = run_cli(&["check", "--root", root.to_str().unwrap(), "--format", "json"], root);
    assert!(code == 0 || code == 1, "check failed ({code}): {stderr}");
    report_tuples(&stdout)
}

/// A plain Flux repo (`kubernetes/` beside `.sops.yaml`) holding `files`.
fn plain_repo(files: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    write_fixture(tmp.path(), &format!("//- /.sops.yaml\ncreation_rules: []\n{files}"));
    tmp
}

fn entry(path: &str, line: usize, severity: &str, code: &str) -> (String, usize, String, String) {
    (path.to_string(), line, severity.to_string(), code.to_string())
}

/// Class 1: references in the syntaxes of 1Password, recyclarr, LiteLLM, Kometa, sed/shell
/// placeholders, Go templates and SOPS are not literals; a literal beside them still is.
#[test]
fn references_are_not_literals() {
    let repo = plain_repo(
        r#"//- /kubernetes/apps/a/config.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
data:
  recyclarr.yml: |
    plain text is not parsed
---
sonarr:
  main:
    api_key: !env_var SONARR_API_KEY
litellm:
  apiKey: os.environ/OPENAI_API_KEY
kometa:
  client_secret: <<TRAKT_CLIENT_SECRET>>
netbird:
  authSecret: "@@RELAY_PASSWORD@@"
shell:
  password: $DB_PASSWORD
go:
  token: "{{ .token }}"
ciphertext:
  secret: ENC[AES256_GCM,data:x,type:str]
real:
  password: hunter2
//- /kubernetes/bootstrap/secret.yaml
apiVersion: v1
kind: Secret
metadata:
  name: onepassword-connect
stringData:
  OP_CONNECT_TOKEN: |-
    op://kubernetes/1password/OP_CONNECT_TOKEN
"#,
    );
    assert_eq!(check(repo.path()), vec![entry("kubernetes/apps/a/config.yaml", 25, "warning", "inline-credential")]);
}

/// Class 2: credential-named keys that hold prices, booleans, durations, enums, URLs,
/// password hashes, dummy keys echoing their service, or the name of a key in a Secret.
#[test]
fn credential_named_keys_holding_non_secrets() {
    let repo = plain_repo(
        r#"//- /kubernetes/apps/llm/models.yaml
apiVersion: litellm.example.com/v1alpha1
kind: LiteLLMModel
metadata:
  name: local
spec:
  params:
    model: openai/llama-strix
    apiBase: http://llama-strix.llm:8080/v1
    apiKey: llama-strix
  info:
    input_cost_per_token: 1.2e-06
    output_cost_per_token: 0.0
    cache_read_input_token_cost: 3.0e-07
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: authelia
data:
  LLDAP_SMTP_OPTIONS__ENABLE_PASSWORD_RESET: "true"
  OAUTH_TOKEN_ENDPOINT_AUTH_METHOD: client_secret_post
---
identity_providers:
  oidc:
    lifespans.access_token: 1h
    lifespans.refresh_token: 90m
    clients:
      - token_endpoint_auth_method: client_secret_basic
        access_token_signed_response_alg: none
        tokenAddress: https://sso.example.com/application/o/token/
        secretKey: GITHUB_TOKEN
        clientSecretKey: OIDC_AUTHENTIK_SECRET
        accessKey: MINIO_ACCESS_KEY
        apiKeyRef: api-key
mosquitto:
  mosquitto.passwd: |
    mqtt_user:$7$101$tXvYRVBe1Y+lrGyl$xVjG5ad+9q9T5psa05w4WQXJjkGmtCnSdZNfSp0pERG
users:
  admin:
    password: $argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo
  oidc:
    client_secret: '$pbkdf2-sha512$310000$c8p78n7pUMln0jzvd4aK4Q$JNRBzwAo0ek5qKn50cFzzvE9RXV88h1wJn5KGiHrD0YKtZaR/nCb2CJPOsKaPK0hjf.9yHxzQGZziziccp6Yng'
  hermes:
    password_hash: "scrypt$$16384$$8$$1$$c2FsdHNhbHQ$$aGFzaGhhc2hoYXNo"
real:
  adminPassword: s3cr3t
  pin_password: 1234
"#,
    );
    assert_eq!(
        check(repo.path()),
        vec![
            entry("kubernetes/apps/llm/models.yaml", 46, "warning", "inline-credential"),
            entry("kubernetes/apps/llm/models.yaml", 47, "warning", "inline-credential"),
        ]
    );
}

/// Class 3: text that mentions a private key's header is no key; a whole PEM block (as
/// in committed `helm template` output) is.
#[test]
fn a_key_header_in_a_script_is_not_a_key() {
    let repo = plain_repo(
        r#"//- /kubernetes/apps/a/script.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: gen-key
data:
  gen.sh: |
    #!/bin/sh
    if ! grep -q "-----BEGIN OPENSSH PRIVATE KEY-----" /keys/id; then
      echo "-----BEGIN RSA PRIVATE KEY-----" > /tmp/x
    fi
  authelia.yml: |
    key: |
      -----BEGIN RSA PRIVATE KEY-----
      {{ secret "/secrets/JWKS_KEY" }}
      -----END RSA PRIVATE KEY-----
//- /kubernetes/apps/b/rendered.yaml
# Source: chart/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: ssh
data:
  id_ed25519: |
    -----BEGIN OPENSSH PRIVATE KEY-----
    b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
    QyNTUxOQAAACDhZ3bRm1xXk3v9QeP0aLmZ7rT2wYcUa8oVqkGJ7l6hIAAAAJgAAAAAAAAA
    -----END OPENSSH PRIVATE KEY-----
"#,
    );
    assert_eq!(check(repo.path()), vec![entry("kubernetes/apps/b/rendered.yaml", 7, "warning", "inline-credential")]);
}

/// Class 4: Secrets created by operators (by the table's naming rules) and under Flux
/// `${VAR}` name patterns count as defined; an ExternalSecret whose target has a typo and a
/// `substituteFrom` Secret that nothing creates are still reported.
#[test]
fn secrets_other_objects_create() {
    let repo = plain_repo(
        r#"//- /kubernetes/components/postgres/cluster.yaml
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata:
  name: ${APP}
spec:
  instances: 1
//- /kubernetes/apps/media/creators.yaml
apiVersion: objectbucket.io/v1alpha1
kind: ObjectBucketClaim
metadata:
  name: loki-bucket
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: wildcard
spec:
  secretName: wildcard-tls
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: plex
spec:
  target:
    template: {}
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: sonarr
spec:
  target:
    name: sonar-secret
---
apiVersion: db.movetokube.com/v1alpha1
kind: PostgresUser
metadata:
  name: app-user
spec:
  secretName: database
---
apiVersion: postgres-operator.crunchydata.com/v1beta1
kind: PostgresCluster
metadata:
  name: postgres
---
apiVersion: grafana.integreatly.org/v1beta1
kind: Grafana
metadata:
  name: grafana
---
apiVersion: database.example.org/v1alpha1
kind: PostgreSQLInstance
metadata:
  name: db
spec:
  writeConnectionSecretToRef:
    name: db-conn
//- /kubernetes/apps/media/app.yaml
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: radarr
spec:
  values:
    env:
      - name: A
        valueFrom: {secretKeyRef: {name: radarr-app, key: uri}}
      - name: B
        valueFrom: {secretKeyRef: {name: loki-bucket, key: k}}
      - name: C
        valueFrom: {secretKeyRef: {name: wildcard-tls, key: k}}
      - name: D
        valueFrom: {secretKeyRef: {name: plex, key: k}}
      - name: E
        valueFrom: {secretKeyRef: {name: database-app-user, key: k}}
      - name: F
        valueFrom: {secretKeyRef: {name: grafana-admin-credentials, key: k}}
      - name: G
        valueFrom: {secretKeyRef: {name: db-conn, key: k}}
      - name: H
        valueFrom: {secretKeyRef: {name: sonarr-secret, key: k}}
      - name: I
        valueFrom: {secretKeyRef: {name: postgres-pguser-atuin, key: uri}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
spec:
  postBuild:
    substituteFrom:
      - kind: Secret
        name: cluster-secrets
"#,
    );
    assert_eq!(
        check(repo.path()),
        vec![
            // The ExternalSecret creates `sonar-secret`: the typo means `sonarr-secret` never resolves.
            entry("kubernetes/apps/media/app.yaml", 23, "warning", "unknown-secret-ref"),
            entry("kubernetes/apps/media/app.yaml", 35, "warning", "unknown-secret-ref"),
        ]
    );
}

/// A chart may create Secrets named after its release, but not the ones Flux reads before
/// installing it: a `valuesFrom` Secret that nothing else creates is still reported.
#[test]
fn a_chart_does_not_create_its_own_values_secret() {
    let repo = plain_repo(
        r#"//- /kubernetes/apps/observability/grafana.yaml
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: grafana
spec:
  chart:
    spec:
      chart: grafana
  valuesFrom:
    - kind: Secret
      name: grafana-oauth-values
  values:
    admin:
      existingSecret: grafana-admin
    env:
      - name: A
        valueFrom: {secretKeyRef: {name: grafana-admin, key: k}}
"#,
    );
    // `grafana-admin` may well be the chart's own; `grafana-oauth-values` cannot be.
    assert_eq!(check(repo.path()), vec![entry("kubernetes/apps/observability/grafana.yaml", 11, "warning", "unknown-secret-ref")]);
}

/// The template fixtures run without their data file, as in a fresh clone of a fork that
/// gitignores it.
const MAKEJINJA: &str = MAKEJINJA_TOML;

fn route(gateway: &str) -> String {
    format!("apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: echo\nspec:\n  parentRefs:\n    - name: {gateway}\n      namespace: network\n")
}

/// Class 5: a template that cannot render (here: it reads a file the clone lacks) still
/// defines what its committed output, or its literal text, defines.
#[test]
fn definitions_survive_a_template_that_cannot_render() {
    let tmp = tempfile::tempdir().unwrap();
    let gateway = gateway_yaml("envoy-external", "network");
    let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sops-age\n  namespace: flux-system\nstringData:\n  age.agekey: ENC[AES256_GCM,data:x,type:str]\nsops:\n  mac: ENC[AES256_GCM,data:y,type:str]\n";
    let fixture = format!(
        "{MAKEJINJA}{}{}{}{}{}",
        fixture_file("/templates/kubernetes/gateway.yaml.j2", &format!("#{{ undefined_thing.split(',') }}#\n{gateway}")),
        fixture_file("/kubernetes/gateway.yaml", &gateway),
        fixture_file("/templates/kubernetes/deploy-key.sops.yaml.j2", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: github-deploy-key\n  namespace: flux-system\nstringData:\n  key: \"#{ undefined_thing.split(',') }#\"\n"),
        fixture_file("/kubernetes/route.yaml", &route("envoy-external")),
        fixture_file(
            "/kubernetes/flux.yaml",
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\nspec:\n  decryption:\n    provider: sops\n    secretRef:\n      name: sops-age\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n  postBuild:\n    substituteFrom:\n      - kind: Secret\n        name: github-deploy-key\n",
        ),
    );
    write_fixture(tmp.path(), &fixture);
    std::fs::write(tmp.path().join("kubernetes/sops-age.yaml"), secret).unwrap();
    let got: Vec<_> = check(tmp.path())
        .into_iter()
        .filter(|(_, _, _, c)| matches!(c.as_str(), "unknown-gateway" | "unknown-secret-ref" | "plaintext-secret"))
        .collect();
    assert_eq!(got, vec![], "the committed Gateway, the hand-written sops-age and the template's literal Secret name are known");
    // Without the committed output, the template's literal text still names the Gateway.
    std::fs::remove_file(tmp.path().join("kubernetes/gateway.yaml")).unwrap();
    let got: Vec<_> = check(tmp.path()).into_iter().filter(|(_, _, _, c)| c == "unknown-gateway").collect();
    assert_eq!(got.len(), 0, "the template's literal text still names the Gateway: {got:?}");
}

/// Class 6: a `*.sops.yaml.j2` template renders plaintext by design (the configure task
/// encrypts the output); a generated `*.sops.yaml` left unencrypted is reported on itself.
#[test]
fn sops_templates_are_not_told_to_encrypt() {
    let tmp = tempfile::tempdir().unwrap();
    let template = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: cloudflare\n  namespace: network\nstringData:\n  token: \"#{ cloudflare_token }#\"\n";
    let fixture = format!(
        "{MAKEJINJA}{}{}",
        fixture_file("/config.yaml", "cloudflare_token: abc123\n"),
        fixture_file("/templates/kubernetes/secret.sops.yaml.j2", template)
    );
    write_fixture(tmp.path(), &fixture);
    let secret_codes = |got: Vec<(String, usize, String, String)>| -> Vec<_> {
        got.into_iter().filter(|(_, _, _, c)| c == "plaintext-secret" || c == "inline-credential").collect()
    };
    assert_eq!(secret_codes(check(tmp.path())), vec![]);
    // The rendered file written but not yet encrypted: reported there.
    let rendered = template.replace("\"#{ cloudflare_token }#\"", "abc123");
    std::fs::create_dir_all(tmp.path().join("kubernetes")).unwrap();
    std::fs::write(tmp.path().join("kubernetes/secret.sops.yaml"), &rendered).unwrap();
    assert_eq!(secret_codes(check(tmp.path())), vec![entry("kubernetes/secret.sops.yaml", 6, "warning", "plaintext-secret")]);
    // Committed unencrypted: the values are in git's history, exposed.
    if git_commit_all(tmp.path(), false) {
        assert_eq!(secret_codes(check(tmp.path())), vec![entry("kubernetes/secret.sops.yaml", 6, "error", "plaintext-secret")]);
    } else {
        eprintln!("NOTICE: git not available; skipping the committed half");
    }
    // Encrypted: nothing.
    let encrypted = rendered.replace("abc123", "ENC[AES256_GCM,data:x,type:str]") + "sops:\n  mac: ENC[AES256_GCM,data:y,type:str]\n";
    std::fs::write(tmp.path().join("kubernetes/secret.sops.yaml"), encrypted).unwrap();
    assert_eq!(secret_codes(check(tmp.path())), vec![]);
}

/// Class 7: private keys and tokens committed to git are reported; the same files
/// gitignored beside the data (the normal state) are not.
#[test]
fn committed_keys_and_tokens() {
    let key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n";
    let repo = plain_repo(&format!(
        "{}{}{}{}",
        fixture_file("/github-deploy.key", key),
        fixture_file("/github-push-token.txt", "ghp_abcdefghijklmnopqrstuvwxyz0123456789\n"),
        fixture_file("/age.key", "AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQS\n"),
        fixture_file("/.gitignore", "age.key\n"),
    ));
    write_fixture(repo.path(), "//- /kubernetes/apps/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n");
    // An export without `.git`: nothing is known to be committed, so nothing is said.
    assert_eq!(check(repo.path()), vec![]);
    if !git_commit_all(repo.path(), false) {
        eprintln!("NOTICE: git not available; skipping the tracked-files half");
        return;
    }
    assert_eq!(
        check(repo.path()),
        vec![entry("github-deploy.key", 1, "error", "committed-secret"), entry("github-push-token.txt", 1, "error", "committed-secret")]
    );
}

/// Class 7: a Secret made by a command (`kubectl create secret` in a task file, a script or
/// the setup notes) exists once the repo's bootstrap ran: Flux's SOPS key is made this way
/// in the cluster-template bootstrap and most home-ops repos.
#[test]
fn secrets_made_by_commands_are_known() {
    let tmp = tempfile::tempdir().unwrap();
    let flux = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\nspec:\n  decryption:\n    provider: sops\n    secretRef:\n      name: sops-age\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n";
    let fixture = format!("{MAKEJINJA}{}", fixture_file("/kubernetes/flux.yaml", flux));
    write_fixture(tmp.path(), &fixture);
    let unknown = |root: &std::path::Path| -> Vec<_> {
        check(root).into_iter().filter(|(_, _, _, c)| c == "unknown-secret-ref").map(|(f, l, _, _)| (f, l)).collect()
    };
    assert_eq!(unknown(tmp.path()), vec![("kubernetes/flux.yaml".to_string(), 9)], "nothing makes sops-age yet");

    let makers = [
        (".taskfiles/bootstrap/Taskfile.yaml", "version: '3'\ntasks:\n  flux:\n    cmds:\n      - cat {{.AGE_FILE}} | kubectl -n flux-system create secret generic sops-age --from-file=age.agekey=/dev/stdin\n"),
        ("scripts/bootstrap.sh", "#!/usr/bin/env bash\ncat key.txt |\n  kubectl create secret generic sops-age \\\n    --namespace=flux-system --from-file=age.agekey=/dev/stdin\n"),
        ("docs/setup.md", "# Setup\n\n```sh\nkubectl create secret generic sops-age --namespace flux-system --from-file=age.agekey=age.key\n```\n"),
    ];
    for (path, text) in makers {
        let file = tmp.path().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, text).unwrap();
        assert_eq!(unknown(tmp.path()), vec![], "{path} makes sops-age");
        std::fs::remove_file(&file).unwrap();
    }
    // A command that only reads the Secret makes nothing.
    std::fs::write(
        tmp.path().join("Taskfile.yaml"),
        "version: '3'\ntasks:\n  check:\n    cmds:\n      - kubectl -n flux-system get secret sops-age\n",
    )
    .unwrap();
    assert_eq!(unknown(tmp.path()).len(), 1, "`kubectl get secret` makes nothing");
}

/// Found by the long fuzz run: a finding on a template's rendered output quotes the rendered
/// text (here the resource path), and the template printed a secret into it. Diagnostics
/// are published and logged: a secret value of the data never appears in one.
#[test]
fn findings_on_rendered_output_never_quote_a_secret() {
    let Some(corpora) = corpora_dir() else { return };
    let repo = corpus_copy(&corpora, "cluster-template-bootstrap");
    let ks = repo.path().join("bootstrap/templates/kubernetes/apps/kube-system/kustomization.yaml.j2");
    let text = std::fs::read_to_string(&ks).unwrap().replace("./spegel/ks.yaml", "./spegel/#{ bootstrap_github_webhook_token }#.yaml");
    std::fs::write(&ks, text).unwrap();
    let (_, stdout, stderr) = run_cli(&["check", "--root", repo.path().to_str().unwrap(), "--format", "json"], repo.path());
    assert!(stdout.contains("missing-kustomize-resource"), "the missing resource is reported: {stdout}");
    let token = "0123456789abcdef0123456789abcdef";
    assert!(!stdout.contains(token) && !stderr.contains(token), "the webhook token is quoted: {stdout}");
}
