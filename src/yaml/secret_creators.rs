//! Which objects make a Kubernetes Secret exist, and under what name: a table, one row per
//! operator. `unknown-secret-ref` must be certain a Secret is missing, so when in doubt an
//! object counts as a creator (a miss here only silences a warning).
//!
//! A name template is text with `{a.b|c.d}` holes: the first of the dotted paths from the
//! document root that holds a string fills the hole; a row whose holes cannot all be filled
//! creates nothing. Names holding `${VAR}` or `{{ … }}` (Flux substitution, Helm) are kept as
//! patterns: such a part matches any text (see [`name_matches`]); a template may write one
//! itself as `${…}`.

use super::tree::{Document, NodeId};

/// (apiVersion group, kind, name templates of the Secrets it creates).
const CREATORS: &[(&str, &str, &[&str])] = &[
    ("v1", "Secret", &["{metadata.name}"]),
    // external-secrets: the target Secret, named like the ExternalSecret unless `target.name`.
    ("external-secrets.io", "ExternalSecret", &["{spec.target.name|metadata.name}"]),
    ("external-secrets.io", "ClusterExternalSecret", &["{spec.externalSecretSpec.target.name|spec.externalSecretName|metadata.name}"]),
    ("cert-manager.io", "Certificate", &["{spec.secretName}"]),
    // cert-manager stores an ACME issuer's account key itself.
    ("cert-manager.io", "ClusterIssuer", &["{spec.acme.privateKeySecretRef.name}"]),
    ("cert-manager.io", "Issuer", &["{spec.acme.privateKeySecretRef.name}"]),
    // Rook / lib-bucket-provisioner: a Secret (and ConfigMap) named like the claim.
    ("objectbucket.io", "ObjectBucketClaim", &["{metadata.name}"]),
    ("ceph.rook.io", "CephObjectStoreUser", &["rook-ceph-object-user-{spec.store}-{metadata.name}"]),
    // CloudNativePG: the application user (initdb bootstrap), the superuser (with
    // `enableSuperuserAccess`), the CA and server certificates, the replication client cert.
    (
        "postgresql.cnpg.io",
        "Cluster",
        &[
            "{metadata.name}-app",
            "{metadata.name}-superuser",
            "{metadata.name}-ca",
            "{metadata.name}-server",
            "{metadata.name}-replication",
        ],
    ),
    // ext-postgres-operator: `<secretName>-<PostgresUser name>`.
    ("db.movetokube.com", "PostgresUser", &["{spec.secretName}-{metadata.name}"]),
    // grafana-operator v5: the admin login of a Grafana instance.
    ("grafana.integreatly.org", "Grafana", &["{metadata.name}-admin-credentials"]),
    ("bitnami.com", "SealedSecret", &["{spec.template.metadata.name|metadata.name}"]),
    ("onepassword.com", "OnePasswordItem", &["{metadata.name}"]),
    ("secrets.hashicorp.com", "VaultStaticSecret", &["{spec.destination.name}"]),
    ("secrets.hashicorp.com", "VaultDynamicSecret", &["{spec.destination.name}"]),
    ("secrets.hashicorp.com", "VaultPKISecret", &["{spec.destination.name}"]),
    ("secretgenerator.mittwald.de", "StringSecret", &["{metadata.name}"]),
];

/// Fields that name a Secret an operator writes, in any custom resource: Crossplane
/// connection secrets, and a custom resource's own `spec.secretName` (LiteLLM virtual keys,
/// cert-manager-like issuers). Over-counting only silences warnings.
const ANY_CUSTOM_RESOURCE: &[&str] = &["{spec.writeConnectionSecretToRef.name}", "{spec.secretName}"];

/// The names (or name patterns) of the Secrets the document at `root` creates, each with
/// the node its name came from (for go to definition).
pub(crate) fn created_secrets(doc: &Document, root: NodeId, kind: &str, api_version: &str) -> Vec<(String, Option<NodeId>)> {
    let group = if api_version.contains('/') { api_version.split('/').next().unwrap_or("") } else { api_version };
    let mut out = Vec::new();
    let mut add = |templates: &[&str]| {
        for t in templates {
            if let Some(made) = fill(doc, root, t) {
                if !out.iter().any(|(n, _)| *n == made.0) {
                    out.push(made);
                }
            }
        }
    };
    for (g, k, templates) in CREATORS {
        // A document without apiVersion still counts (partial documents, lenient).
        if *k == kind && (group.is_empty() || group == *g) {
            add(templates);
        }
    }
    if group.contains('.') {
        add(ANY_CUSTOM_RESOURCE);
    }
    if kind == "HelmRelease" && group == "helm.toolkit.fluxcd.io" && !is_app_template(doc, root) {
        add(&[CHART_MADE]);
    }
    out
}

/// A chart other than bjw-s app-template may create Secrets; which ones depends on its
/// templates, which the repo does not hold, but they are named after the release by Helm
/// convention. (app-template's own `secrets:` are named `<release>-<key>` too, yet that is
/// where a mistyped ExternalSecret target would hide, so it is left out.)
const CHART_MADE: &str = "{spec.releaseName|metadata.name}${chart-made}";

fn is_app_template(doc: &Document, root: NodeId) -> bool {
    let chart = doc.path_str(root, &["spec", "chart", "spec", "chart"]).or_else(|| doc.path_str(root, &["spec", "chartRef", "name"]));
    // app-template values have `controllers`, whatever the chart is called here.
    chart.is_some_and(|c| c.contains("app-template")) || doc.path(root, &["spec", "values", "controllers"]).is_some()
}

/// `template` with its holes filled, and the node of the last hole filled.
fn fill(doc: &Document, root: NodeId, template: &str) -> Option<(String, Option<NodeId>)> {
    let mut out = String::new();
    let mut node = None;
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = open + rest[open..].find('}')?;
        // `${…}` is written out: a pattern part, not a hole.
        if out.ends_with('$') {
            out.push_str(&rest[open..=close]);
            rest = &rest[close + 1..];
            continue;
        }
        let (value, at) = rest[open + 1..close].split('|').find_map(|path| {
            let keys: Vec<&str> = path.split('.').collect();
            let n = doc.path(root, &keys)?;
            // A masked template part (blanked text) is no name; `${VAR}` and `{{ }}` are patterns.
            doc.scalar(n).filter(|s| !s.trim().is_empty() && (is_pattern(s) || !super::is_reference_value(s))).map(|s| (s.trim(), n))
        })?;
        out.push_str(value);
        node = Some(at);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    (!out.contains(char::is_whitespace) || is_pattern(&out)).then_some((out, node))
}

/// A name with `${VAR}` or `{{ … }}` parts, compared by [`name_matches`].
pub(crate) fn is_pattern(name: &str) -> bool {
    name.contains("${") || name.contains("{{")
}

/// Whether `name` fits `pattern`, whose `${…}` and `{{ … }}` parts match any text.
pub(crate) fn name_matches(pattern: &str, name: &str) -> bool {
    let mut literals: Vec<&str> = Vec::new();
    let mut rest = pattern;
    loop {
        let next = [rest.find("${").map(|i| (i, "}")), rest.find("{{").map(|i| (i, "}}"))].into_iter().flatten().min_by_key(|(i, _)| *i);
        let Some((i, close)) = next else {
            literals.push(rest);
            break;
        };
        literals.push(&rest[..i]);
        match rest[i..].find(close) {
            Some(end) => rest = &rest[i + end + close.len()..],
            None => {
                // An unclosed part: anything may follow.
                literals.push("");
                break;
            }
        }
    }
    // literals[0] * literals[1] * … * literals[n]: a glob with wildcards between them.
    let (first, last) = (literals[0], literals[literals.len() - 1]);
    if literals.len() == 1 {
        return first == name;
    }
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut middle = &name[first.len()..name.len() - last.len()];
    for lit in &literals[1..literals.len() - 1] {
        match middle.find(lit) {
            Some(i) => middle = &middle[i + lit.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::tree::parse;

    fn created(text: &str) -> Vec<String> {
        let doc = &parse(text).docs[0];
        let root = doc.root.unwrap();
        let kind = doc.path_str(root, &["kind"]).unwrap_or("");
        let api = doc.path_str(root, &["apiVersion"]).unwrap_or("");
        created_secrets(doc, root, kind, api).into_iter().map(|(n, _)| n).collect()
    }

    #[test]
    fn operators_create_secrets_by_their_rules() {
        assert_eq!(created("apiVersion: postgresql.cnpg.io/v1\nkind: Cluster\nmetadata:\n  name: ${APP}\n")[0], "${APP}-app");
        assert!(created("apiVersion: postgresql.cnpg.io/v1\nkind: Cluster\nmetadata: {name: pg}\n").contains(&"pg-superuser".to_string()));
        assert_eq!(
            created("apiVersion: objectbucket.io/v1alpha1\nkind: ObjectBucketClaim\nmetadata: {name: loki-bucket}\n"),
            ["loki-bucket"]
        );
        let pg_user = created(
            "apiVersion: db.movetokube.com/v1alpha1\nkind: PostgresUser\nmetadata: {name: app-user}\nspec: {secretName: database}\n",
        );
        assert_eq!(pg_user[0], "database-app-user");
        assert_eq!(
            created("apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: a}\nspec: {target: {name: b}}\n"),
            ["b"]
        );
        assert_eq!(created("apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: a}\nspec: {}\n"), ["a"]);
        assert_eq!(
            created("apiVersion: rds.aws.crossplane.io/v1alpha1\nkind: DBInstance\nmetadata: {name: db}\nspec: {writeConnectionSecretToRef: {name: db-conn}}\n"),
            ["db-conn"]
        );
        let hr = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: authentik}\nspec:\n  chart: {spec: {chart: authentik}}\n";
        assert!(name_matches(&created(hr)[0], "authentik-postgresql"));
        assert!(created(&hr.replace("chart: authentik", "chart: app-template")).is_empty());
        assert!(created("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {secretName: x}\n").is_empty());
        assert!(created("apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: c}\nspec: {}\n").is_empty());
        assert_eq!(
            created("apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata: {name: le}\nspec: {acme: {privateKeySecretRef: {name: le-account}}}\n"),
            ["le-account"]
        );
    }

    #[test]
    fn patterns() {
        assert!(name_matches("${APP}-app", "radarr-app"));
        assert!(!name_matches("${APP}-app", "radarr-secret"));
        assert!(name_matches("{{ .Release.Name }}", "anything"));
        assert!(name_matches("a-${X}-b-${Y}", "a-1-b-2"));
        assert!(!name_matches("a-${X}-b", "a-1-c"));
        assert!(name_matches("plain", "plain"));
        assert!(!name_matches("plain", "plainer"));
        assert!(name_matches("x-${OPEN", "x-anything"));
    }
}
