// Which executable to start. No `vscode` import.

import * as fs from 'fs';
import * as path from 'path';

export const DEFAULT_COMMAND = 'homelab-lsp';

export interface ResolveContext {
  homeDir: string;
  /** First workspace folder's file system path, if any. */
  workspaceFolder?: string;
  platform?: NodeJS.Platform;
}

export interface ServerCommand {
  command: string;
  args: string[];
  /** True when the user's `homelabLsp.server.path` setting chose it. */
  fromSetting: boolean;
}

/**
 * The setting wins when set: `~` is expanded, `${workspaceFolder}` replaced and
 * a relative path resolved against the first workspace folder. Otherwise
 * `homelab-lsp` is looked up on PATH by the OS when started.
 */
export function resolveServerCommand(setting: string | undefined, ctx: ResolveContext): ServerCommand {
  const args = ['serve'];
  const raw = (setting ?? '').trim();
  if (raw === '') {
    return { command: DEFAULT_COMMAND, args, fromSetting: false };
  }
  const p = ctx.platform === 'win32' ? path.win32 : path.posix;
  let value = raw;
  if (ctx.workspaceFolder !== undefined) {
    value = value.split('${workspaceFolder}').join(ctx.workspaceFolder);
  }
  if (value === '~') {
    value = ctx.homeDir;
  } else if (value.startsWith('~/') || value.startsWith('~\\')) {
    value = p.join(ctx.homeDir, value.slice(2));
  }
  const looksLikePath = value.includes('/') || value.includes('\\');
  if (looksLikePath && !p.isAbsolute(value) && ctx.workspaceFolder !== undefined) {
    value = p.resolve(ctx.workspaceFolder, value);
  }
  // A bare name ("homelab-lsp-dev") is left for PATH lookup.
  return { command: value, args, fromSetting: true };
}

/**
 * Finds `name` on a PATH string; used only to give a helpful message before
 * starting. Returns the full path or undefined.
 */
export function findOnPath(
  name: string,
  envPath: string | undefined,
  platform: NodeJS.Platform = process.platform,
  pathExt: string | undefined = process.env.PATHEXT,
  isExecutable: (file: string) => boolean = defaultIsExecutable,
): string | undefined {
  const p = platform === 'win32' ? path.win32 : path.posix;
  if (name.includes('/') || (platform === 'win32' && name.includes('\\'))) {
    return isExecutable(name) ? name : undefined;
  }
  const dirs = (envPath ?? '').split(platform === 'win32' ? ';' : ':').filter((d) => d !== '');
  const exts = platform === 'win32' ? ['', ...(pathExt ?? '.EXE;.CMD;.BAT;.COM').split(';').filter((e) => e !== '')] : [''];
  for (const dir of dirs) {
    for (const ext of exts) {
      const candidate = p.join(dir, name + ext);
      if (isExecutable(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}

function defaultIsExecutable(file: string): boolean {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) {
      return false;
    }
    if (process.platform === 'win32') {
      return true;
    }
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The message shown when the binary cannot be started. */
export function notFoundMessage(cmd: ServerCommand): string {
  if (cmd.fromSetting) {
    return `Homelab LSP: cannot start "${cmd.command}" (from setting homelabLsp.server.path). Check the path, or clear the setting to use homelab-lsp from PATH.`;
  }
  return 'Homelab LSP: "homelab-lsp" was not found on PATH. Build it with `cargo install --path .` in the homelab-lsp repository, or set homelabLsp.server.path.';
}
