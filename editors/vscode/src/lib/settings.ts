// Settings of the `homelabLsp` section and their translation into what the
// server receives. No `vscode` import: the extension passes in a getter over
// `workspace.getConfiguration('homelabLsp')`, the tests pass a plain object.

export const SECTION = 'homelabLsp';

/**
 * Every diagnostic rule code the server knows (keep in step with package.json;
 * the Rust test rules::agreement compares package.json with src/rules.rs).
 */
export const RULE_CODES = [
  'template-syntax',
  'undefined-variable',
  'unknown-filter',
  'unknown-function',
  'missing-include',
  'render-error',
  'invalid-yaml',
  'yaml-too-large',
  'schema-violation',
  'schema-mismatch',
  'schema-error',
  'missing-parent-refs',
  'unknown-gateway',
  'tailscale-ingress-class',
  'plaintext-secret',
  'inline-credential',
  'committed-secret',
  'unknown-secret-ref',
  'unknown-source-ref',
  'undefined-substitution',
  'missing-kustomize-resource',
  'unlisted-manifest',
  'missing-flux-path',
  'unknown-depends-on',
  'generated-file',
  'drift',
  'data-error',
  'data-missing',
  'config-incomplete',
  'missing-input',
  'config-error',
  'plugin-error',
  'plugin-worker',
  'plugin-not-emulated',
  'plugin-not-found',
  'path-filter',
] as const;

export type RuleCode = (typeof RULE_CODES)[number];

export const SEVERITIES = ['error', 'warning', 'info', 'off'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const TRACE_LEVELS = ['off', 'messages', 'verbose'] as const;
export type TraceLevel = (typeof TRACE_LEVELS)[number];

/** `homelabLsp.plugins.run`: whether the repository's Python plugins may run. */
export const PLUGIN_RUN_POLICIES = ['ask', 'always', 'never'] as const;
export type PluginRunPolicy = (typeof PLUGIN_RUN_POLICIES)[number];

/** What the user configured, cleaned up. */
export interface ClientSettings {
  /** Client-only: path to the binary ('' means `homelab-lsp` on PATH). */
  serverPath: string;
  showSecrets: boolean;
  /** Only the rules the user set; the server keeps its defaults for the rest. */
  rules: Record<string, Severity>;
  trace: TraceLevel;
  /** `never` whatever was configured while the workspace is not trusted. */
  pluginsRun: PluginRunPolicy;
  /** The interpreter for the plugins ('' lets the server find one). */
  pluginsPython: string;
  /** Only the schema settings the user set: the rest come from `.homelab-lsp.toml` or the server. */
  schemas: SchemaSettings;
}

/** `homelabLsp.schemas.*`; a key left out lets the repository's `.homelab-lsp.toml` decide. */
export interface SchemaSettings {
  offline?: boolean;
  plainYaml?: boolean;
  cacheDir?: string;
  /** URL prefix to URL prefix, e.g. `{ "https://": "file:///srv/schemas/" }`. */
  mirrors?: Record<string, string>;
}

/** The `homelabLsp` object the server reads (server.path is left out: the server never needs it). */
export interface ServerSettings {
  preview: { showSecrets: boolean };
  diagnostics: { rules: Record<string, Severity> };
  trace: { server: TraceLevel };
  plugins: { run: PluginRunPolicy; python?: string };
  schemas: SchemaSettings;
}

export interface InitializationOptions {
  homelabLsp: ServerSettings;
}

export interface ReadResult {
  settings: ClientSettings;
  /** Human-readable notes about values that were ignored or corrected. */
  warnings: string[];
}

/** Reads one dotted key below `homelabLsp` ("server.path", "diagnostics.rules", ...). */
export type SettingGetter = (key: string) => unknown;

/** A getter over a plain nested object, e.g. `{ server: { path: 'x' } }`. */
export function getterFromObject(obj: unknown): SettingGetter {
  return (key: string) => {
    let cur: unknown = obj;
    for (const part of key.split('.')) {
      if (cur === null || typeof cur !== 'object') {
        return undefined;
      }
      cur = (cur as Record<string, unknown>)[part];
    }
    return cur;
  };
}

const SEVERITY_ALIASES: Record<string, Severity> = {
  error: 'error',
  err: 'error',
  warning: 'warning',
  warn: 'warning',
  info: 'info',
  information: 'info',
  hint: 'info',
  off: 'off',
  none: 'off',
  ignore: 'off',
  disabled: 'off',
};

export function normalizeSeverity(value: unknown): Severity | undefined {
  if (typeof value === 'boolean') {
    // `"drift": false` reads naturally as "off"; true keeps the default, so it is not a severity.
    return value ? undefined : 'off';
  }
  if (typeof value !== 'string') {
    return undefined;
  }
  return SEVERITY_ALIASES[value.trim().toLowerCase()];
}

export function isKnownRule(code: string): code is RuleCode {
  return (RULE_CODES as readonly string[]).includes(code);
}

/**
 * `trusted`: VS Code's workspace trust. Running a plugin executes the repository's code,
 * so an untrusted workspace never runs it, whatever the settings say.
 */
export function readSettings(get: SettingGetter, trusted = true): ReadResult {
  const warnings: string[] = [];

  const rawPath = get('server.path');
  let serverPath = '';
  if (typeof rawPath === 'string') {
    serverPath = rawPath.trim();
  } else if (rawPath !== undefined && rawPath !== null) {
    warnings.push(`${SECTION}.server.path must be a string; using homelab-lsp from PATH.`);
  }

  const rawSecrets = get('preview.showSecrets');
  let showSecrets = false;
  if (typeof rawSecrets === 'boolean') {
    showSecrets = rawSecrets;
  } else if (rawSecrets !== undefined && rawSecrets !== null) {
    warnings.push(`${SECTION}.preview.showSecrets must be true or false; secrets stay masked.`);
  }

  const rules: Record<string, Severity> = {};
  const rawRules = get('diagnostics.rules');
  if (rawRules !== undefined && rawRules !== null) {
    if (typeof rawRules !== 'object' || Array.isArray(rawRules)) {
      warnings.push(`${SECTION}.diagnostics.rules must be an object mapping rule codes to severities.`);
    } else {
      for (const [code, value] of Object.entries(rawRules as Record<string, unknown>)) {
        const severity = normalizeSeverity(value);
        if (severity === undefined) {
          if (value !== true) {
            warnings.push(
              `${SECTION}.diagnostics.rules["${code}"]: ${JSON.stringify(value)} is not one of ${SEVERITIES.join(', ')}; ignored.`,
            );
          }
          continue;
        }
        if (!isKnownRule(code)) {
          // Passed on anyway: a newer server may know rules this extension does not.
          warnings.push(`${SECTION}.diagnostics.rules: unknown rule "${code}" (passed to the server as is).`);
        }
        rules[code] = severity;
      }
    }
  }

  const rawTrace = get('trace.server');
  let trace: TraceLevel = 'off';
  if (typeof rawTrace === 'string' && (TRACE_LEVELS as readonly string[]).includes(rawTrace)) {
    trace = rawTrace as TraceLevel;
  } else if (rawTrace !== undefined && rawTrace !== null) {
    warnings.push(`${SECTION}.trace.server must be one of ${TRACE_LEVELS.join(', ')}; using off.`);
  }

  const rawRun = get('plugins.run');
  let pluginsRun: PluginRunPolicy = 'ask';
  if (typeof rawRun === 'string' && (PLUGIN_RUN_POLICIES as readonly string[]).includes(rawRun)) {
    pluginsRun = rawRun as PluginRunPolicy;
  } else if (rawRun !== undefined && rawRun !== null) {
    warnings.push(`${SECTION}.plugins.run must be one of ${PLUGIN_RUN_POLICIES.join(', ')}; using ask.`);
  }
  if (!trusted) {
    pluginsRun = 'never';
  }
  const rawPython = get('plugins.python');
  const pluginsPython = typeof rawPython === 'string' ? rawPython.trim() : '';

  const schemas = readSchemaSettings(get, warnings);

  return { settings: { serverPath, showSecrets, rules, trace, pluginsRun, pluginsPython, schemas }, warnings };
}

/** Reads `schemas.*`; unset (or `null`) keys are left out so `.homelab-lsp.toml` still applies. */
function readSchemaSettings(get: SettingGetter, warnings: string[]): SchemaSettings {
  const schemas: SchemaSettings = {};
  for (const key of ['offline', 'plainYaml'] as const) {
    const raw = get(`schemas.${key}`);
    if (typeof raw === 'boolean') {
      schemas[key] = raw;
    } else if (raw !== undefined && raw !== null) {
      warnings.push(`${SECTION}.schemas.${key} must be true or false; ignored.`);
    }
  }
  const rawDir = get('schemas.cacheDir');
  if (typeof rawDir === 'string') {
    if (rawDir.trim() !== '') {
      schemas.cacheDir = rawDir.trim();
    }
  } else if (rawDir !== undefined && rawDir !== null) {
    warnings.push(`${SECTION}.schemas.cacheDir must be a path; ignored.`);
  }
  const rawMirrors = get('schemas.mirrors');
  if (rawMirrors !== undefined && rawMirrors !== null) {
    if (typeof rawMirrors !== 'object' || Array.isArray(rawMirrors)) {
      warnings.push(`${SECTION}.schemas.mirrors must map URL prefixes to URL prefixes; ignored.`);
    } else {
      const mirrors: Record<string, string> = {};
      for (const [from, to] of Object.entries(rawMirrors as Record<string, unknown>)) {
        if (typeof to === 'string' && from !== '' && to !== '') {
          mirrors[from] = to;
        } else {
          warnings.push(`${SECTION}.schemas.mirrors["${from}"] must be a non-empty URL prefix; ignored.`);
        }
      }
      if (Object.keys(mirrors).length > 0) {
        schemas.mirrors = mirrors;
      }
    }
  }
  return schemas;
}

export function toServerSettings(settings: ClientSettings): ServerSettings {
  return {
    preview: { showSecrets: settings.showSecrets },
    diagnostics: { rules: { ...settings.rules } },
    trace: { server: settings.trace },
    plugins: settings.pluginsPython
      ? { run: settings.pluginsRun, python: settings.pluginsPython }
      : { run: settings.pluginsRun },
    schemas: {
      ...settings.schemas,
      ...(settings.schemas.mirrors ? { mirrors: { ...settings.schemas.mirrors } } : {}),
    },
  };
}

/** initializationOptions: the section wrapped under its name, as every client sends it. */
export function toInitializationOptions(settings: ClientSettings): InitializationOptions {
  return { [SECTION]: toServerSettings(settings) } as InitializationOptions;
}

/**
 * Answer for one `workspace/configuration` item. `section` is what the server
 * asked for: `homelabLsp` gives the whole object, `homelabLsp.diagnostics`
 * a part of it, anything else is not ours (undefined: let the default answer).
 */
export function configurationItem(settings: ClientSettings, section: string | undefined): unknown {
  if (section === undefined || section === '') {
    return undefined;
  }
  if (section === SECTION) {
    return toServerSettings(settings);
  }
  if (!section.startsWith(SECTION + '.')) {
    return undefined;
  }
  const full: Record<string, unknown> = {
    ...(toServerSettings(settings) as unknown as Record<string, unknown>),
    server: { path: settings.serverPath },
  };
  return getterFromObject(full)(section.slice(SECTION.length + 1)) ?? null;
}

/** True when a change between two readings needs a new server process. */
export function needsRestart(before: ClientSettings, after: ClientSettings): boolean {
  return before.serverPath !== after.serverPath;
}
