// Mapping between a template's `file:` URI and the URI of its rendered preview.
// No `vscode` import: works on URI strings.
//
//   file:///repo/bootstrap/templates/app/helmrelease.yaml.j2
//     <->
//   homelab-preview:/repo/bootstrap/templates/app/Preview%20helmrelease.yaml?file%3A%2F%2F%2Frepo%2F...j2
//
// The path only gives the editor tab a readable title ("Preview helmrelease.yaml")
// and a `.yaml` ending for language detection; the query carries the exact
// source URI, so decoding never has to guess.

export const PREVIEW_SCHEME = 'homelab-preview';
export const PREVIEW_PREFIX = 'Preview ';
export const JINJA_SUFFIX = '.j2';

const URI_RE = /^([A-Za-z][A-Za-z0-9+.-]*):(\/\/[^/?#]*)?([^?#]*)(\?[^#]*)?(#.*)?$/;

export interface ParsedUri {
  scheme: string;
  /** Including the leading `//`, or '' when absent. */
  authority: string;
  /** Still percent-encoded, as it appears in the URI. */
  path: string;
  query: string;
  fragment: string;
}

export function parseUri(uri: string): ParsedUri | undefined {
  const m = URI_RE.exec(uri);
  if (!m) {
    return undefined;
  }
  return {
    scheme: m[1],
    authority: m[2] ?? '',
    path: m[3] ?? '',
    query: m[4] ? m[4].slice(1) : '',
    fragment: m[5] ? m[5].slice(1) : '',
  };
}

/** The last path segment, percent-decoded. */
export function basename(uri: string): string {
  const parsed = parseUri(uri);
  const path = parsed ? parsed.path : uri;
  const seg = path.slice(path.lastIndexOf('/') + 1);
  try {
    return decodeURIComponent(seg);
  } catch {
    return seg;
  }
}

/** `x.yaml.j2` -> `x.yaml`: only the last suffix goes, like makejinja does. */
export function stripJinjaSuffix(name: string, suffix: string = JINJA_SUFFIX): string {
  return name.endsWith(suffix) && name.length > suffix.length ? name.slice(0, -suffix.length) : name;
}

export function isTemplateUri(uri: string, suffix: string = JINJA_SUFFIX): boolean {
  const parsed = parseUri(uri);
  return parsed !== undefined && basename(uri).endsWith(suffix);
}

export function isPreviewUri(uri: string): boolean {
  return parseUri(uri)?.scheme.toLowerCase() === PREVIEW_SCHEME;
}

/** Builds the preview URI for a template URI (any scheme; normally `file:`). */
export function toPreviewUri(sourceUri: string): string {
  const parsed = parseUri(sourceUri);
  if (!parsed) {
    throw new Error(`not a URI: ${sourceUri}`);
  }
  const slash = parsed.path.lastIndexOf('/');
  const dir = slash >= 0 ? parsed.path.slice(0, slash + 1) : '/';
  const name = stripJinjaSuffix(basename(sourceUri));
  const title = encodeURIComponent(PREVIEW_PREFIX + name);
  const path = (dir.startsWith('/') ? dir : '/' + dir) + title;
  return `${PREVIEW_SCHEME}:${path}?${encodeURIComponent(sourceUri)}`;
}

/**
 * The template URI a preview URI stands for, or undefined when `previewUri`
 * is not one of ours. Accepts the string as built by `toPreviewUri` and as
 * re-serialised by an editor (which may encode the query differently).
 */
export function fromPreviewUri(previewUri: string): string | undefined {
  const parsed = parseUri(previewUri);
  if (!parsed || parsed.scheme.toLowerCase() !== PREVIEW_SCHEME || parsed.query === '') {
    return undefined;
  }
  let source: string;
  try {
    source = decodeURIComponent(parsed.query);
  } catch {
    return undefined;
  }
  return parseUri(source) ? source : undefined;
}

/** Title shown for a preview, e.g. "Preview helmrelease.yaml". */
export function previewTitle(sourceUri: string): string {
  return PREVIEW_PREFIX + stripJinjaSuffix(basename(sourceUri));
}

/** The language to show a preview in, from the output file name. */
export function previewLanguage(sourceUri: string): string | undefined {
  const name = stripJinjaSuffix(basename(sourceUri)).toLowerCase();
  if (name.endsWith('.yaml') || name.endsWith('.yml')) {
    return 'yaml';
  }
  if (name.endsWith('.json')) {
    return 'json';
  }
  if (name.endsWith('.toml')) {
    return 'toml';
  }
  if (name.endsWith('.md')) {
    return 'markdown';
  }
  if (name.endsWith('.sh')) {
    return 'shellscript';
  }
  return undefined;
}
