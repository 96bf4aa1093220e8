// The server's custom requests: names, parameter shapes and checks on what
// comes back. No `vscode` import.

export const RENDERED_PREVIEW = 'homelab/renderedPreview';
export const GENERATED_FILE = 'homelab/generatedFile';
export const TEMPLATE_SOURCE = 'homelab/templateSource';
export const RENDER_DIFF = 'homelab/renderDiff';

export interface UriParams {
  uri: string;
}

export interface TemplateSourceParams {
  uri: string;
  /** 0-based line in the generated file. */
  line: number;
}

export interface SourceLine {
  uri: string;
  /** 0-based. */
  line: number;
}

export interface RenderedPreview {
  text: string;
  /** One entry per output line: the template line that produced it, or null. */
  lineMap: Array<SourceLine | null>;
}

export class ProtocolError extends Error {
  constructor(method: string, detail: string) {
    super(`${method}: unexpected response from the server: ${detail}`);
    this.name = 'ProtocolError';
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isLine(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

function parseSourceLine(method: string, v: unknown, where: string): SourceLine {
  if (!isObject(v) || typeof v.uri !== 'string' || !isLine(v.line)) {
    throw new ProtocolError(method, `${where} should be { uri: string, line: number }, got ${short(v)}`);
  }
  return { uri: v.uri, line: v.line };
}

export function parseRenderedPreview(result: unknown): RenderedPreview {
  if (!isObject(result) || typeof result.text !== 'string') {
    throw new ProtocolError(RENDERED_PREVIEW, `expected { text, lineMap }, got ${short(result)}`);
  }
  const lineMap: Array<SourceLine | null> = [];
  if (result.lineMap !== undefined && result.lineMap !== null) {
    if (!Array.isArray(result.lineMap)) {
      throw new ProtocolError(RENDERED_PREVIEW, `lineMap should be an array, got ${short(result.lineMap)}`);
    }
    result.lineMap.forEach((entry, i) => {
      lineMap.push(entry === null ? null : parseSourceLine(RENDERED_PREVIEW, entry, `lineMap[${i}]`));
    });
  }
  return { text: result.text, lineMap };
}

/** `homelab/generatedFile` result: the output file's URI, or null when there is none. */
export function parseGeneratedFile(result: unknown): string | null {
  if (result === null || result === undefined) {
    return null;
  }
  if (!isObject(result) || typeof result.uri !== 'string') {
    throw new ProtocolError(GENERATED_FILE, `expected { uri } or null, got ${short(result)}`);
  }
  return result.uri;
}

/** `homelab/templateSource` result: the template line, or null. */
export function parseTemplateSource(result: unknown): SourceLine | null {
  if (result === null || result === undefined) {
    return null;
  }
  return parseSourceLine(TEMPLATE_SOURCE, result, 'result');
}

/**
 * Template line for a line of a preview, from the preview's lineMap. Lines past
 * the end (the empty line after a final newline) map to the last known line.
 */
export function lookupLine(lineMap: ReadonlyArray<SourceLine | null>, line: number): SourceLine | null {
  if (line < 0 || lineMap.length === 0) {
    return null;
  }
  const idx = Math.min(line, lineMap.length - 1);
  return lineMap[idx] ?? null;
}

/** What a preview shows when the server could not render. Starts with `#` so YAML stays valid. */
export function previewErrorText(sourceName: string, error: unknown): string {
  const message = error instanceof Error ? error.message : typeof error === 'string' ? error : JSON.stringify(error);
  const lines = String(message).split(/\r?\n/);
  return [`# homelab-lsp could not render ${sourceName}:`, ...lines.map((l) => `#   ${l}`), ''].join('\n');
}

function short(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 120 ? s.slice(0, 117) + '...' : s;
}

/** One entry of `homelab/renderDiff`: a generated file a render would change. */
export interface RenderedChange {
  uri: string;
  /** Relative to the project root. */
  path: string;
  change: 'new' | 'changed' | 'removed';
  /** What a render would write; null when removed or not text. */
  fresh: string | null;
}

const CHANGES = ['new', 'changed', 'removed'];

export function parseRenderDiff(result: unknown): RenderedChange[] {
  if (!Array.isArray(result)) {
    throw new ProtocolError(RENDER_DIFF, `expected an array, got ${short(result)}`);
  }
  return result.map((v, i) => {
    const ok =
      isObject(v) &&
      typeof v.uri === 'string' &&
      typeof v.path === 'string' &&
      typeof v.change === 'string' &&
      CHANGES.includes(v.change) &&
      (v.fresh === null || v.fresh === undefined || typeof v.fresh === 'string');
    if (!ok) {
      throw new ProtocolError(RENDER_DIFF, `[${i}] should be { uri, path, change: new|changed|removed, fresh }, got ${short(v)}`);
    }
    const fresh = typeof v.fresh === 'string' ? v.fresh : null;
    return { uri: v.uri as string, path: v.path as string, change: v.change as RenderedChange['change'], fresh };
  });
}
