// Rendered preview: a read-only virtual document on the `homelab-preview:`
// scheme whose content is the server's `homelab/renderedPreview` answer.

import * as vscode from 'vscode';

import type { ServerController } from './client';
import { KeyedDebouncer } from './lib/debounce';
import { fromPreviewUri, PREVIEW_SCHEME, previewLanguage, toPreviewUri, basename } from './lib/previewUri';
import {
  lookupLine,
  parseRenderedPreview,
  previewErrorText,
  RENDERED_PREVIEW,
  SourceLine,
  UriParams,
} from './lib/protocol';

/** Milliseconds of quiet typing before an open preview is rendered again. */
export const PREVIEW_DEBOUNCE_MS = 300;

export class RenderedPreviewProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changeEmitter.event;

  /** Last lineMap per preview URI string (as the editor spells it). */
  private readonly lineMaps = new Map<string, Array<SourceLine | null>>();
  private readonly debouncer: KeyedDebouncer<string>;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly server: ServerController) {
    this.debouncer = new KeyedDebouncer<string>(PREVIEW_DEBOUNCE_MS, (key) => {
      this.changeEmitter.fire(vscode.Uri.parse(key));
    });
    this.disposables.push(
      this.changeEmitter,
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (e.contentChanges.length > 0) {
          this.sourceChanged(e.document.uri);
        }
      }),
      vscode.workspace.onDidSaveTextDocument((doc) => this.sourceChanged(doc.uri)),
      vscode.workspace.onDidCloseTextDocument((doc) => {
        if (doc.uri.scheme === PREVIEW_SCHEME) {
          const key = doc.uri.toString();
          this.lineMaps.delete(key);
          this.debouncer.cancel(key);
        }
      }),
      server.onDidStart(() => this.refreshAll()),
    );
  }

  /** Open previews, as documents the editor holds. */
  private openPreviews(): vscode.TextDocument[] {
    return vscode.workspace.textDocuments.filter((d) => d.uri.scheme === PREVIEW_SCHEME && !d.isClosed);
  }

  /**
   * A file changed. Its own preview is re-rendered, and so are all others: a
   * data file, a partial or makejinja.toml can change any template's output.
   */
  private sourceChanged(uri: vscode.Uri): void {
    if (uri.scheme !== 'file') {
      return;
    }
    for (const doc of this.openPreviews()) {
      this.debouncer.trigger(doc.uri.toString());
    }
  }

  refreshAll(): void {
    for (const doc of this.openPreviews()) {
      this.debouncer.trigger(doc.uri.toString());
    }
  }

  async provideTextDocumentContent(uri: vscode.Uri, token: vscode.CancellationToken): Promise<string> {
    const key = uri.toString();
    const source = fromPreviewUri(key);
    if (!source) {
      return previewErrorText(uri.path, 'this preview address does not name a template');
    }
    const name = basename(source);
    try {
      const client = await this.server.runningClient();
      const params: UriParams = { uri: client.code2ProtocolConverter.asUri(vscode.Uri.parse(source)) };
      const raw = await client.sendRequest(RENDERED_PREVIEW, params, token);
      const preview = parseRenderedPreview(raw);
      this.lineMaps.set(key, preview.lineMap);
      return preview.text;
    } catch (err) {
      this.lineMaps.set(key, []);
      return previewErrorText(name, err);
    }
  }

  /** The template line behind a line of an open preview, from its last lineMap. */
  templateLineFor(previewUri: vscode.Uri, line: number): SourceLine | null {
    const map = this.lineMaps.get(previewUri.toString());
    return map ? lookupLine(map, line) : null;
  }

  /** Opens (or reveals) the preview of a template beside it. */
  async show(templateUri: vscode.Uri): Promise<void> {
    const previewUri = vscode.Uri.parse(toPreviewUri(templateUri.toString()));
    let doc = await vscode.workspace.openTextDocument(previewUri);
    const language = previewLanguage(templateUri.toString());
    if (language && doc.languageId !== language) {
      try {
        doc = await vscode.languages.setTextDocumentLanguage(doc, language);
      } catch {
        // that language is not installed; plain text is fine
      }
    }
    await vscode.window.showTextDocument(doc, {
      viewColumn: vscode.ViewColumn.Beside,
      preserveFocus: true,
      preview: false,
    });
  }

  dispose(): void {
    this.debouncer.dispose();
    for (const d of this.disposables) {
      d.dispose();
    }
  }
}
