// Which executable to start. No `vscode` import.

import * as fs from 'fs';
import * as path from 'path';

export const DEFAULT_COMMAND = 'homelab-lsp';

export interface ResolveContext {
  homeDir: string;
  /** First workspace folder's file system path, if any. */
  workspaceFolder?: string;
  platform?: NodeJS.Platform;
  /**
   * The server shipped inside a platform-specific .vsix (`server/homelab-lsp`
   * in the extension folder), when that file exists; see `bundledServerPath`.
   */
  bundled?: string;
}

export interface ServerCommand {
  command: string;
  args: string[];
  /** True when the user's `homelabLsp.server.path` setting chose it. */
  fromSetting: boolean;
  /** True when it is the server bundled in the extension. */
  bundled?: boolean;
}

/**
 * Where a platform .vsix keeps its server (as rust-analyzer does): `server/`
 * inside the extension, `homelab-lsp` (`homelab-lsp.exe` on Windows). Returns
 * the path when that file exists, undefined in the universal .vsix.
 */
export function bundledServerPath(
  extensionPath: string,
  platform: NodeJS.Platform = process.platform,
  exists: (file: string) => boolean = (f) => fs.existsSync(f),
): string | undefined {
  const p = platform === 'win32' ? path.win32 : path.posix;
  const file = p.join(extensionPath, 'server', platform === 'win32' ? `${DEFAULT_COMMAND}.exe` : DEFAULT_COMMAND);
  return exists(file) ? file : undefined;
}

/**
 * The setting wins when set: `~` is expanded, `${workspaceFolder}` replaced and
 * a relative path resolved against the first workspace folder. Then the server
 * bundled in a platform .vsix (so no Rust toolchain is needed). Otherwise
 * `homelab-lsp` is looked up on PATH by the OS when started.
 */
export function resolveServerCommand(setting: string | undefined, ctx: ResolveContext): ServerCommand {
  const args = ['serve'];
  const raw = (setting ?? '').trim();
  if (raw === '') {
    if (ctx.bundled !== undefined) {
      return { command: ctx.bundled, args, fromSetting: false, bundled: true };
    }
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
  if (cmd.bundled) {
    return `Homelab LSP: cannot start the bundled server "${cmd.command}". Reinstall the extension, or set homelabLsp.server.path.`;
  }
  return 'Homelab LSP: "homelab-lsp" was not found on PATH. Install the platform-specific .vsix (it bundles the server), put a release binary on PATH, or set homelabLsp.server.path.';
}
