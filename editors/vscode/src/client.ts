// Owns the LanguageClient: start, stop, restart with fresh settings.

import * as fs from 'fs';
import * as os from 'os';
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  State,
} from 'vscode-languageclient/node';

import { ProgressTracker } from './lib/progress';
import { bundledServerPath, findOnPath, notFoundMessage, resolveServerCommand, ServerCommand } from './lib/serverPath';
import {
  ClientSettings,
  configurationItem,
  needsRestart,
  readSettings,
  SECTION,
  toInitializationOptions,
} from './lib/settings';

export const CLIENT_ID = 'homelabLsp';
export const CLIENT_NAME = 'Homelab LSP';

export function currentSettings(log?: vscode.OutputChannel, scope?: vscode.Uri): ClientSettings {
  const config = vscode.workspace.getConfiguration(SECTION, scope);
  const { settings, warnings } = readSettings((key) => config.get(key), vscode.workspace.isTrusted);
  for (const w of warnings) {
    log?.appendLine(`[settings] ${w}`);
  }
  return settings;
}

export class ServerController implements vscode.Disposable {
  private current: LanguageClient | undefined;
  private watcher: vscode.FileSystemWatcher | undefined;
  private settings: ClientSettings;
  private busy: Promise<void> = Promise.resolve();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly startedEmitter = new vscode.EventEmitter<LanguageClient>();
  /** Fires each time a (new) client is running. */
  readonly onDidStart = this.startedEmitter.event;

  constructor(
    private readonly output: vscode.OutputChannel,
    private readonly traceOutput: vscode.OutputChannel,
    private readonly progress: ProgressTracker,
    /** The extension's folder, where a platform .vsix keeps `server/homelab-lsp`. */
    private readonly extensionPath: string,
  ) {
    this.settings = currentSettings(output);
    this.disposables.push(
      this.startedEmitter,
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration(SECTION)) {
          return;
        }
        const next = currentSettings(this.output);
        const restart = needsRestart(this.settings, next);
        this.settings = next;
        if (restart) {
          this.output.appendLine('[client] homelabLsp.server.path changed; restarting the server.');
          void this.restart();
        }
        // Other changes: the server is told to pull them through workspace/configuration,
        // which the middleware answers with the cleaned-up settings (workspace trust applied;
        // a pushed raw section would bypass it).
        this.notifyConfigurationChanged();
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        this.settings = currentSettings(this.output);
        this.notifyConfigurationChanged();
      }),
    );
  }

  private notifyConfigurationChanged(): void {
    void this.client?.sendNotification(DidChangeConfigurationNotification.type, { settings: null });
  }

  /** The client, when it is running. */
  get client(): LanguageClient | undefined {
    return this.current && this.current.state === State.Running ? this.current : undefined;
  }

  /** Waits for a pending start or restart, then returns the running client or throws. */
  async runningClient(): Promise<LanguageClient> {
    await this.busy;
    const c = this.client;
    if (!c) {
      throw new Error('The homelab-lsp server is not running. Run "Homelab: Restart server" after fixing the problem shown in the Homelab LSP output.');
    }
    return c;
  }

  start(): Promise<void> {
    return this.serialize(() => this.doStart());
  }

  stop(): Promise<void> {
    return this.serialize(() => this.doStop());
  }

  restart(): Promise<void> {
    return this.serialize(async () => {
      await this.doStop();
      this.settings = currentSettings(this.output);
      await this.doStart();
    });
  }

  private serialize(op: () => Promise<void>): Promise<void> {
    const run = this.busy.then(op, op);
    this.busy = run.catch(() => undefined);
    return run;
  }

  private serverCommand(): ServerCommand {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    return resolveServerCommand(this.settings.serverPath, {
      homeDir: os.homedir(),
      workspaceFolder: folder?.scheme === 'file' ? folder.fsPath : undefined,
      platform: process.platform,
      bundled: bundledServerPath(this.extensionPath),
    });
  }

  private async doStart(): Promise<void> {
    const cmd = this.serverCommand();
    if (cmd.bundled) {
      ensureExecutable(cmd.command, this.output);
    }
    const found = (cmd.fromSetting || cmd.bundled) && (cmd.command.includes('/') || cmd.command.includes('\\'))
      ? (fs.existsSync(cmd.command) ? cmd.command : undefined)
      : findOnPath(cmd.command, process.env.PATH);
    if (!found) {
      this.output.appendLine(`[client] ${notFoundMessage(cmd)}`);
      void this.offerSettings(notFoundMessage(cmd));
      return;
    }
    this.output.appendLine(`[client] starting ${found} ${cmd.args.join(' ')}${cmd.bundled ? ' (bundled with the extension)' : ''}`);

    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const serverOptions: ServerOptions = {
      command: cmd.command,
      args: cmd.args,
      options: folder?.scheme === 'file' ? { cwd: folder.fsPath } : {},
    };

    const progress = this.progress;
    // Data files, templates, plugins' key files and path filters all change what renders.
    const watcher = vscode.workspace.createFileSystemWatcher(
      '**/{makejinja.toml,*.j2,*.yaml,*.yml,*.toml,*.json,.mjfilter.py,*.key}',
    );
    this.watcher = watcher;
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: 'file', language: 'makejinja' },
        { scheme: 'file', language: 'yaml' },
      ],
      initializationOptions: () => toInitializationOptions(currentSettings()),
      synchronize: {
        fileEvents: watcher,
      },
      outputChannel: this.output,
      traceOutputChannel: this.traceOutput,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      connectionOptions: {
        // Sees every incoming message before the client handles it; used only
        // to follow $/progress for the status bar, then passes it on unchanged.
        messageStrategy: {
          handleMessage: (message, next) => {
            try {
              progress.handleMessage(message);
            } catch {
              // never let the status bar break the connection
            }
            next(message);
          },
        },
      },
      middleware: {
        workspace: {
          configuration: async (params, token, next) => {
            const answer = await next(params, token);
            if (!Array.isArray(answer)) {
              return answer;
            }
            return params.items.map((item, i) => {
              const scope = item.scopeUri ? vscode.Uri.parse(item.scopeUri) : undefined;
              const ours = configurationItem(currentSettings(undefined, scope), item.section);
              return ours === undefined ? answer[i] : ours;
            });
          },
        },
      },
    };

    const client = new LanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions, clientOptions);
    this.current = client;
    client.onDidChangeState((e) => {
      if (e.newState === State.Stopped) {
        progress.reset();
      }
    });
    try {
      await client.start();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.output.appendLine(`[client] the server failed to start: ${message}`);
      void this.offerSettings(`Homelab LSP: the server failed to start: ${message}`);
      return;
    }
    this.startedEmitter.fire(client);
  }

  private async doStop(): Promise<void> {
    const client = this.current;
    this.current = undefined;
    this.progress.reset();
    if (client) {
      try {
        // dispose() stops a running server (shutdown + exit) and frees the client.
        await client.dispose(5000);
      } catch (err) {
        this.output.appendLine(`[client] stopping the server: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    this.watcher?.dispose();
    this.watcher = undefined;
  }

  private async offerSettings(message: string): Promise<void> {
    const open = 'Open Settings';
    const log = 'Show Log';
    const pick = await vscode.window.showErrorMessage(message, open, log);
    if (pick === open) {
      await vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.server.path`);
    } else if (pick === log) {
      this.output.show(true);
    }
  }

  dispose(): void {
    for (const d of this.disposables) {
      d.dispose();
    }
  }
}

/** An unzipper that drops the mode bits would leave the bundled server unrunnable: restore them. */
function ensureExecutable(file: string, log: vscode.OutputChannel): void {
  if (process.platform === 'win32') {
    return;
  }
  try {
    fs.accessSync(file, fs.constants.X_OK);
  } catch {
    try {
      fs.chmodSync(file, 0o755);
    } catch (err) {
      log.appendLine(`[client] cannot make ${file} executable: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
