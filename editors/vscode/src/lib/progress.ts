// Follows the server's work-done progress ($/progress) from the raw JSON-RPC
// messages, to drive the "indexing" status bar item. No `vscode` import: the
// extension feeds it every incoming message through the connection's
// message strategy and renders `state()`.

export interface ProgressState {
  /** True while at least one matching progress is between `begin` and `end`. */
  active: boolean;
  title?: string;
  message?: string;
  /** 0..100 when the server reports it. */
  percentage?: number;
}

interface Entry {
  title: string;
  message?: string;
  percentage?: number;
  seq: number;
}

type Token = string | number;

function tokenKey(token: Token): string {
  return `${typeof token}:${String(token)}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

const IDLE: ProgressState = { active: false };

export class ProgressTracker {
  private readonly entries = new Map<string, Entry>();
  private seq = 0;
  private listeners: Array<(state: ProgressState) => void> = [];

  /** `titleFilter` picks which progresses count; default: titles mentioning "index". */
  constructor(private readonly titleFilter: (title: string) => boolean = (t) => /index/i.test(t)) {}

  onDidChange(listener: (state: ProgressState) => void): { dispose(): void } {
    this.listeners.push(listener);
    return {
      dispose: () => {
        this.listeners = this.listeners.filter((l) => l !== listener);
      },
    };
  }

  /**
   * Looks at one incoming JSON-RPC message (any kind). Returns true when the
   * state changed. Never throws on odd input.
   */
  handleMessage(message: unknown): boolean {
    if (!isObject(message) || message.method !== '$/progress' || !isObject(message.params)) {
      return false;
    }
    const { token, value } = message.params as { token?: unknown; value?: unknown };
    if ((typeof token !== 'string' && typeof token !== 'number') || !isObject(value)) {
      return false;
    }
    return this.handleProgress(token, value);
  }

  handleProgress(token: Token, value: Record<string, unknown>): boolean {
    const key = tokenKey(token);
    const before = JSON.stringify(this.state());
    switch (value.kind) {
      case 'begin': {
        const title = typeof value.title === 'string' ? value.title : '';
        if (!this.titleFilter(title)) {
          return false;
        }
        this.entries.set(key, {
          title,
          message: typeof value.message === 'string' ? value.message : undefined,
          percentage: clampPercentage(value.percentage),
          seq: ++this.seq,
        });
        break;
      }
      case 'report': {
        const entry = this.entries.get(key);
        if (!entry) {
          return false;
        }
        if (typeof value.message === 'string') {
          entry.message = value.message;
        }
        const pct = clampPercentage(value.percentage);
        if (pct !== undefined) {
          entry.percentage = pct;
        }
        break;
      }
      case 'end': {
        if (!this.entries.delete(key)) {
          return false;
        }
        break;
      }
      default:
        return false;
    }
    const after = this.state();
    if (JSON.stringify(after) === before) {
      return false;
    }
    for (const l of this.listeners) {
      l(after);
    }
    return true;
  }

  /** The most recently started matching progress, or idle. */
  state(): ProgressState {
    let latest: Entry | undefined;
    for (const e of this.entries.values()) {
      if (!latest || e.seq > latest.seq) {
        latest = e;
      }
    }
    if (!latest) {
      return IDLE;
    }
    const s: ProgressState = { active: true, title: latest.title };
    if (latest.message !== undefined) {
      s.message = latest.message;
    }
    if (latest.percentage !== undefined) {
      s.percentage = latest.percentage;
    }
    return s;
  }

  /** Forget everything (the server stopped). */
  reset(): void {
    const wasActive = this.entries.size > 0;
    this.entries.clear();
    if (wasActive) {
      for (const l of this.listeners) {
        l(IDLE);
      }
    }
  }
}

function clampPercentage(v: unknown): number | undefined {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    return undefined;
  }
  return Math.max(0, Math.min(100, Math.round(v)));
}

/** Status bar text, e.g. "$(sync~spin) Homelab: Indexing 40% (12/30 files)". */
export function statusText(state: ProgressState): string {
  if (!state.active) {
    return '';
  }
  let text = `$(sync~spin) Homelab: ${state.title || 'Indexing'}`;
  if (state.percentage !== undefined) {
    text += ` ${state.percentage}%`;
  }
  if (state.message) {
    text += ` (${state.message})`;
  }
  return text;
}
