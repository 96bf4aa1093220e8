// Entry point: wires the language client, the rendered preview, the commands
// and the indexing status bar item together.

import * as vscode from 'vscode';

import { ServerController } from './client';
import { fromPreviewUri, PREVIEW_SCHEME } from './lib/previewUri';
import { ProgressTracker, statusText } from './lib/progress';
import {
  GENERATED_FILE,
  parseGeneratedFile,
  parseRenderDiff,
  RENDER_DIFF,
  parseTemplateSource,
  SourceLine,
  TEMPLATE_SOURCE,
  TemplateSourceParams,
  UriParams,
} from './lib/protocol';
import { RenderedPreviewProvider } from './preview';

export const COMMANDS = {
  showRenderedPreview: 'homelabLsp.showRenderedPreview',
  openGeneratedFile: 'homelabLsp.openGeneratedFile',
  openTemplateSource: 'homelabLsp.openTemplateSource',
  showRenderDiff: 'homelabLsp.showRenderDiff',
  restartServer: 'homelabLsp.restartServer',
  showOutput: 'homelabLsp.showOutput',
} as const;

let controller: ServerController | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('Homelab LSP');
  const traceOutput = vscode.window.createOutputChannel('Homelab LSP Trace');
  const progress = new ProgressTracker();
  const server = new ServerController(output, traceOutput, progress, context.extensionPath);
  controller = server;
  const previews = new RenderedPreviewProvider(server);
  const renders = new FreshRenderProvider();

  const status = vscode.window.createStatusBarItem('homelabLsp.indexing', vscode.StatusBarAlignment.Left, 10);
  status.name = 'Homelab LSP indexing';
  status.command = COMMANDS.showOutput;
  const progressListener = progress.onDidChange((state) => {
    if (state.active) {
      status.text = statusText(state);
      status.tooltip = 'homelab-lsp is indexing the workspace (click for the log)';
      status.show();
    } else {
      status.hide();
    }
  });

  context.subscriptions.push(
    output,
    traceOutput,
    server,
    previews,
    status,
    progressListener,
    vscode.workspace.registerTextDocumentContentProvider(PREVIEW_SCHEME, previews),
    vscode.commands.registerCommand(COMMANDS.showRenderedPreview, (uri?: vscode.Uri) =>
      guard(() => showRenderedPreview(previews, uri)),
    ),
    vscode.commands.registerCommand(COMMANDS.openGeneratedFile, (uri?: vscode.Uri) =>
      guard(() => openGeneratedFile(server, uri)),
    ),
    vscode.commands.registerCommand(COMMANDS.openTemplateSource, () =>
      guard(() => openTemplateSource(server, previews)),
    ),
    vscode.commands.registerCommand(COMMANDS.showRenderDiff, () => guard(() => showRenderDiff(server, renders))),
    vscode.workspace.registerTextDocumentContentProvider(RENDER_SCHEME, renders),
    vscode.commands.registerCommand(COMMANDS.restartServer, () =>
      guard(async () => {
        output.appendLine('[client] restart requested');
        await server.restart();
      }),
    ),
    vscode.commands.registerCommand(COMMANDS.showOutput, () => output.show(true)),
  );

  await server.start();
}

export async function deactivate(): Promise<void> {
  const c = controller;
  controller = undefined;
  await c?.stop();
}

async function guard(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    void vscode.window.showErrorMessage(`Homelab: ${message}`);
  }
}

/** The template a command should act on: its argument, the active editor, or the source of an active preview. */
function targetTemplate(arg: vscode.Uri | undefined): vscode.Uri | undefined {
  const uri = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
  if (!uri) {
    return undefined;
  }
  if (uri.scheme === PREVIEW_SCHEME) {
    const source = fromPreviewUri(uri.toString());
    return source ? vscode.Uri.parse(source) : undefined;
  }
  return uri;
}

async function showRenderedPreview(previews: RenderedPreviewProvider, arg?: vscode.Uri): Promise<void> {
  const template = targetTemplate(arg);
  if (!template) {
    void vscode.window.showInformationMessage('Homelab: open a makejinja template (*.j2) to preview it.');
    return;
  }
  await previews.show(template);
}

async function openGeneratedFile(server: ServerController, arg?: vscode.Uri): Promise<void> {
  const template = targetTemplate(arg);
  if (!template) {
    void vscode.window.showInformationMessage('Homelab: open a makejinja template (*.j2) first.');
    return;
  }
  const client = await server.runningClient();
  const params: UriParams = { uri: client.code2ProtocolConverter.asUri(template) };
  const result = parseGeneratedFile(await client.sendRequest(GENERATED_FILE, params));
  if (result === null) {
    void vscode.window.showInformationMessage(
      'Homelab: this template produces no file (it is excluded, a partial, or renders to nothing).',
    );
    return;
  }
  const target = client.protocol2CodeConverter.asUri(result);
  try {
    const doc = await vscode.workspace.openTextDocument(target);
    await vscode.window.showTextDocument(doc);
  } catch {
    const preview = 'Show Rendered Preview';
    const pick = await vscode.window.showWarningMessage(
      `Homelab: ${vscode.workspace.asRelativePath(target)} has not been generated yet (run makejinja).`,
      preview,
    );
    if (pick === preview) {
      await vscode.commands.executeCommand(COMMANDS.showRenderedPreview, template);
    }
  }
}

async function openTemplateSource(server: ServerController, previews: RenderedPreviewProvider): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage('Homelab: open a generated file first.');
    return;
  }
  const line = editor.selection.active.line;
  let source: SourceLine | null;
  let target: vscode.Uri | undefined;
  if (editor.document.uri.scheme === PREVIEW_SCHEME) {
    // A preview carries its own line map.
    source = previews.templateLineFor(editor.document.uri, line);
    if (source) {
      target = vscode.Uri.parse(source.uri);
    }
  } else {
    const client = await server.runningClient();
    const params: TemplateSourceParams = { uri: client.code2ProtocolConverter.asUri(editor.document.uri), line };
    source = parseTemplateSource(await client.sendRequest(TEMPLATE_SOURCE, params));
    if (source) {
      target = client.protocol2CodeConverter.asUri(source.uri);
    }
  }
  if (!source || !target) {
    void vscode.window.showInformationMessage('Homelab: no template line produced this line.');
    return;
  }
  const doc = await vscode.workspace.openTextDocument(target);
  const at = Math.min(source.line, Math.max(doc.lineCount - 1, 0));
  const range = new vscode.Range(at, 0, at, 0);
  const shown = await vscode.window.showTextDocument(doc, { selection: range });
  shown.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}

/** Scheme of the read-only right side of a render diff: what a render would write. */
const RENDER_SCHEME = 'homelab-render';

/** Serves the fresh texts of the last `homelab/renderDiff` answer (empty for removed files). */
class FreshRenderProvider implements vscode.TextDocumentContentProvider {
  private readonly texts = new Map<string, string>();
  private readonly changeEmitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changeEmitter.event;

  /** The URI showing `text` for the generated file `path`. */
  put(path: string, text: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: RENDER_SCHEME, path: '/' + path });
    this.texts.set(uri.toString(), text);
    // A diff opened before shows the new answer, not the one VS Code cached.
    this.changeEmitter.fire(uri);
    return uri;
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '';
  }
}

/** What `task configure` would change: pick a generated file, see it in the diff editor. */
async function showRenderDiff(server: ServerController, renders: FreshRenderProvider): Promise<void> {
  const anchor = vscode.window.activeTextEditor?.document.uri ?? vscode.workspace.workspaceFolders?.[0]?.uri;
  if (!anchor) {
    void vscode.window.showInformationMessage('Homelab: open a folder with a makejinja repository first.');
    return;
  }
  const client = await server.runningClient();
  const params: UriParams = { uri: client.code2ProtocolConverter.asUri(anchor) };
  const changes = parseRenderDiff(await client.sendRequest(RENDER_DIFF, params));
  if (changes.length === 0) {
    void vscode.window.showInformationMessage('Homelab: a render would change nothing; every generated file is up to date.');
    return;
  }
  const items = changes.map((c) => ({ label: c.path, description: c.change, change: c }));
  const pick = await vscode.window.showQuickPick(items, {
    title: `Homelab: ${changes.length} generated file(s) a render would change`,
    placeHolder: 'Pick a file to see the difference',
  });
  if (!pick) {
    return;
  }
  const c = pick.change;
  const onDisk = client.protocol2CodeConverter.asUri(c.uri);
  const left = c.change === 'new' ? renders.put('empty/' + c.path, '') : onDisk;
  const right = renders.put('fresh/' + c.path, c.fresh ?? '');
  await vscode.commands.executeCommand('vscode.diff', left, right, `${c.path} (${c.change}) ↔ fresh render`);
}
