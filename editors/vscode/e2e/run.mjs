// The real VS Code test: code-server (VS Code OSS) with the packaged .vsix
// installed, driven through Debian's chromium by puppeteer-core, on a scratch
// copy of a corpus. Every check reads the workbench's DOM, as a user sees it.
//
//   node e2e/run.mjs --vsix FILE --corpus DIR --out DIR [--server BIN]
//
// Needs the environment e2e/setup.sh prints (E2E_PACKAGES, E2E_CHROMIUM,
// HOME and XDG_* inside the cache). --server sets homelabLsp.server.path;
// without it the extension finds the server itself (the bundled one in a
// platform .vsix). Screenshots of failed checks and the logs go to --out.
// Each check prints PASS or FAIL; the last line is "N passed, N failed".
// Timeouts (ms) through the environment: HOMELAB_E2E_STARTUP_MS (180000),
// HOMELAB_E2E_WAIT_MS (60000).

import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

import { pick } from './pick.mjs';

const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, '../../..');

function args() {
  const a = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) usage(`bad argument ${argv[i]}`);
    a[argv[i].slice(2)] = argv[i + 1];
  }
  for (const need of ['vsix', 'corpus', 'out']) if (!a[need]) usage(`--${need} is missing`);
  return a;
}

function usage(msg) {
  console.log(`ERROR: ${msg}\nusage: node e2e/run.mjs --vsix FILE --corpus DIR --out DIR [--server BIN]\n0 passed, 1 failed`);
  process.exit(2);
}

const opt = args();
const STARTUP_MS = Number(process.env.HOMELAB_E2E_STARTUP_MS) || 180000;
const WAIT_MS = Number(process.env.HOMELAB_E2E_WAIT_MS) || 60000;
const packages = process.env.E2E_PACKAGES;
const chromium = process.env.E2E_CHROMIUM || '/usr/bin/chromium';
if (!packages) usage('E2E_PACKAGES is not set (eval "$(editors/vscode/e2e/setup.sh)")');

const out = path.resolve(opt.out);
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });
const log = (s) => console.log(s);

// --- the scratch repository: corpus, its data files, its generated output -----
const corpus = path.resolve(opt.corpus).replace(/\/$/, '');
const name = path.basename(corpus);
const repo = path.join(out, 'repo');
fs.cpSync(corpus, repo, { recursive: true });
const dataDir = path.join(root, 'tests', 'corpora-data', name);
if (fs.existsSync(dataDir)) fs.cpSync(dataDir, repo, { recursive: true });
if (fs.existsSync(`${corpus}.rendered`)) fs.cpSync(`${corpus}.rendered`, repo, { recursive: true });
execFileSync('chmod', ['-R', 'u+w', repo]);

const target = pick(repo);
if (typeof target === 'string') usage(target);
log(`homelab-lsp VS Code test (code-server + chromium)\n  repo:     ${repo}\n  template: ${target.template}\n  output:   ${target.output}`);
log(`  value:    ${target.ident} = ${target.value} (template line ${target.rendered.tpl + 1}, output line ${target.rendered.out + 1})`);

// --- code-server ---------------------------------------------------------------
const codeServer = path.join(packages, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const userData = path.join(out, 'user-data');
const extensions = path.join(out, 'extensions');
const settings = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'chat.disableAIFeatures': true,
  'window.restoreWindows': 'none',
  'files.hotExit': 'off',
  'files.autoSave': 'off', // on by default in a browser: the broken line below must never reach the disk
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  // Typed text stays as typed: no auto-closed delimiters, no suggestions taking Enter.
  'editor.autoClosingBrackets': 'never',
  'editor.autoClosingQuotes': 'never',
  'editor.autoIndent': 'none',
  'editor.quickSuggestions': { other: false, comments: false, strings: false },
  'editor.suggestOnTriggerCharacters': false,
  'editor.acceptSuggestionOnEnter': 'off',
  'editor.inlayHints.enabled': 'on',
  'editor.hover.delay': 100,
  'homelabLsp.plugins.run': 'never',
  ...(opt.server ? { 'homelabLsp.server.path': path.resolve(opt.server) } : {}),
};
// code-server's window is a remote one: machine-scoped settings (homelabLsp.server.path
// is machine-overridable) count only in the remote's Machine settings, the rest in User.
for (const scope of ['User', 'Machine']) {
  fs.mkdirSync(path.join(userData, scope), { recursive: true });
  fs.writeFileSync(path.join(userData, scope, 'settings.json'), JSON.stringify(settings, null, 2));
}

const common = ['--user-data-dir', userData, '--extensions-dir', extensions];
log(`  installing ${opt.vsix}`);
execFileSync(process.execPath, [codeServer, ...common, '--install-extension', path.resolve(opt.vsix)], { stdio: 'inherit' });

const port = await new Promise((resolve) => {
  const s = net.createServer();
  s.listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const serverLog = fs.openSync(path.join(out, 'code-server.log'), 'w');
// Without --server, no homelab-lsp on PATH may stand in for the bundled one.
const env = { ...process.env };
if (!opt.server) {
  env.PATH = (env.PATH ?? '').split(':').filter((d) => d && !fs.existsSync(path.join(d, 'homelab-lsp'))).join(':');
}
const cs = spawn(process.execPath, [codeServer, ...common, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`,
  '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override', repo], {
  stdio: ['ignore', serverLog, serverLog],
  detached: true,
  env,
});

let browser;
let passed = 0;
let failed = 0;
async function finish(code) {
  log(`${passed} passed, ${failed} failed`);
  try {
    await browser?.close();
  } catch {}
  try {
    process.kill(-cs.pid, 'SIGTERM');
  } catch {}
  process.exit(code);
}
const startedAt = Date.now();
const deadline = setTimeout(() => {
  log(`FAIL the test did not finish within ${STARTUP_MS * 4} ms`);
  failed++;
  finish(1);
}, STARTUP_MS * 4);
deadline.unref();

async function until(what, fn, timeout = WAIT_MS, every = 250) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e.message;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}${last ? ` (last: ${String(last).slice(0, 300)})` : ''}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

await until('code-server to answer', async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, STARTUP_MS, 500);

// --- chromium ------------------------------------------------------------------
const require = createRequire(path.join(packages, 'package.json'));
const puppeteer = (await import(pathToFileURL(require.resolve('puppeteer-core')).href)).default;
browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', `--user-data-dir=${path.join(out, 'chromium')}`,
    '--window-size=1400,900'],
  defaultViewport: { width: 1400, height: 900 },
});
const page = await browser.newPage();
const consoleLog = fs.createWriteStream(path.join(out, 'browser-console.log'));
page.on('console', (m) => consoleLog.write(`${m.type()}: ${m.text()}\n`));
await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(repo)}`, { waitUntil: 'domcontentloaded' });

// --- DOM helpers -----------------------------------------------------------------
const dom = (fn, ...a) => page.evaluate(fn, ...a);
const statusItem = (id) => dom((id) => {
  const e = document.getElementById(id);
  return e ? `${e.textContent?.trim() ?? ''}|${e.querySelector('[aria-label]')?.getAttribute('aria-label') ?? e.getAttribute('aria-label') ?? ''}` : null;
}, id);
// The tab's aria-label is "NAME" or "NAME, …" (its .label-name may drop a second extension).
const activeTab = () => dom(() => document.querySelector('.editor-group-container.active .tab.active')?.getAttribute('aria-label')?.split(',')[0].trim() ?? null);
async function cursor() {
  const s = await statusItem('status.editor.selection');
  const m = s?.match(/Ln (\d+), Col (\d+)/);
  return m ? { line: Number(m[1]), col: Number(m[2]) } : null;
}
/** The text of the active editor's line under the cursor, as drawn (inlay hints included). */
const cursorLineText = () => dom(() => {
  const ed = document.querySelector('.editor-group-container.active .monaco-editor.focused') ||
    document.querySelector('.editor-group-container.active .monaco-editor');
  const cur = ed?.querySelector('.view-overlays .current-line');
  if (!cur) return null;
  const top = cur.parentElement.style.top || cur.style.top;
  const line = [...ed.querySelectorAll('.view-lines .view-line')].find((l) => l.style.top === top);
  return line ? line.textContent.replace(/\u00a0/g, ' ') : null;
});
const quickInputOpen = () => dom(() => {
  const w = document.querySelector('.quick-input-widget');
  return !!w && w.style.display !== 'none' && getComputedStyle(w).display !== 'none';
});

async function key(chord) {
  const parts = chord.split('+');
  for (const p of parts.slice(0, -1)) await page.keyboard.down(p);
  await page.keyboard.press(parts.at(-1));
  for (const p of parts.slice(0, -1).reverse()) await page.keyboard.up(p);
}

async function closeQuickInput() {
  if (await quickInputOpen()) {
    await page.keyboard.press('Escape');
    await until('the quick input to close', async () => !(await quickInputOpen()), 5000);
  }
}

/**
 * Ctrl+P, type the path, move the selection to the row for exactly that file
 * and press Enter. Results arrive late on a fresh profile and rows re-render as
 * they do, so rows are found by their data-index and the choice is checked
 * before Enter; a wrong or missing result means another try.
 */
async function openFile(rel) {
  const base = path.basename(rel);
  const dir = path.dirname(rel);
  const rowOf = () => dom((base, dir) => {
    const rows = [...document.querySelectorAll('.quick-input-list .monaco-list-row')];
    const is = (r) => {
      const label = r.querySelector('.label-name')?.textContent?.trim();
      const desc = r.querySelector('.label-description')?.textContent?.trim() ?? '';
      return label === base && (desc === dir || desc.endsWith(dir) || dir === '.');
    };
    const want = rows.find(is);
    const focused = rows.find((r) => r.classList.contains('focused'));
    return want ? { want: Number(want.dataset.index), focused: Number(focused?.dataset.index ?? -1), ok: !!focused && is(focused) } : null;
  }, base, dir);
  for (let attempt = 1; ; attempt++) {
    try {
      await closeQuickInput();
      await key('Control+KeyP');
      await until('quick open', quickInputOpen, 10000);
      await page.keyboard.type(rel, { delay: 5 });
      await until(`the quick-open result for ${rel} selected`, async () => {
        const r = await rowOf();
        if (!r) return null;
        if (r.ok) return r;
        for (let i = r.focused; i < r.want; i++) await page.keyboard.press('ArrowDown');
        for (let i = r.focused; i > r.want; i--) await page.keyboard.press('ArrowUp');
        return null;
      }, 30000, 300);
      await page.keyboard.press('Enter');
      await until(`${base} to be the active tab`, async () => (await activeTab()) === base, 10000);
      break;
    } catch (e) {
      if (attempt >= 4) throw e;
    }
  }
  await until(`the editor of ${base} to have focus`, () => dom(() => !!document.querySelector('.editor-group-container.active .monaco-editor.focused')), 10000);
}

/** Ctrl+G to a 1-based line and column; waits until the status bar says the cursor is there. */
async function goTo(line, col = 1) {
  await closeQuickInput();
  await key('Control+KeyG');
  await until('the go-to-line input', quickInputOpen, 10000);
  await page.keyboard.type(`${line}:${col}`);
  await page.keyboard.press('Enter');
  await until(`the cursor at Ln ${line}, Col ${col}`, async () => {
    const c = await cursor();
    return c && c.line === line && c.col === col;
  }, 10000);
}

/** F1, the command's title, Enter. */
async function runCommand(title) {
  await closeQuickInput();
  await key('F1');
  await until('the command palette', quickInputOpen, 10000);
  await page.keyboard.type(title);
  await until(`the command "${title}" in the palette`, () => dom((title) => [...document.querySelectorAll('.quick-input-list .monaco-list-row')]
    .some((r) => (r.getAttribute('aria-label') ?? r.textContent ?? '').includes(title)), title), 20000);
  await page.keyboard.press('Enter');
}

function problems(s) {
  // "Errors: 1, Warnings: 2, Infos: 0" / "No Problems" in the aria-label; the numbers in the text.
  const nums = (re) => Number((s?.match(re) ?? [])[1] ?? 0);
  return { errors: nums(/Errors?: (\d+)/i), warnings: nums(/Warnings?: (\d+)/i), raw: s };
}

let shot = 0;
async function check(name, fn) {
  const t0 = Date.now();
  try {
    const note = await fn();
    passed++;
    log(`PASS ${name}${note ? `: ${note}` : ''} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
  } catch (e) {
    failed++;
    const file = path.join(out, `failure-${++shot}.png`);
    await page.screenshot({ path: file }).catch(() => {});
    log(`FAIL ${name}: ${e.message}\n    screenshot: ${file}`);
  }
}

// --- the checks ------------------------------------------------------------------
const t = target;
const tplBase = path.basename(t.template);
const outBase = path.basename(t.output);
const indent = (s) => s.match(/^\s*/)[0].length;

await check('the workbench loads with the repository open', async () => {
  await until('the workbench', () => dom(() => !!document.querySelector('.monaco-workbench .part.statusbar')), STARTUP_MS, 500);
  await until('the explorer to list makejinja.toml', () => dom(() => [...document.querySelectorAll('.explorer-folders-view .label-name')]
    .some((e) => e.textContent === 'makejinja.toml')), STARTUP_MS, 500);
});

await check(`${tplBase} opens in language mode makejinja`, async () => {
  await openFile(t.template);
  const mode = await until('the language mode in the status bar', async () => {
    const s = await statusItem('status.editor.mode');
    return s && s.toLowerCase().includes('makejinja') ? s : null;
  }, 20000);
  return mode.split('|')[0];
});

await check(`hover on ${t.ident} shows its value and the rendered line`, async () => {
  await goTo(t.rendered.tpl + 1, t.rendered.expr.col + 2);
  const want = t.rendered.text.trim();
  // The server may still be indexing: ask again until the hover says it all.
  const text = await until(`a hover with "${t.value}" and "${want}"`, async () => {
    await closeQuickInput();
    await key('Control+KeyK');
    await key('Control+KeyI');
    return await until('a hover', () => dom((v, w) => {
      const h = [...document.querySelectorAll('.monaco-hover')].find((e) => e.offsetParent !== null && e.textContent.trim() !== '');
      const s = h?.textContent ?? '';
      return s.includes(v) && s.includes(w) ? s : null;
    }, t.value, want), 3000).catch(() => null);
  }, STARTUP_MS, 1000);
  await page.keyboard.press('Escape');
  return `${text.replace(/\s+/g, ' ').slice(0, 160)}`;
});

await check(`an inlay hint on ${t.ident}'s line shows ${t.value}`, async () => {
  await goTo(t.rendered.tpl + 1, 1);
  const drawn = await until(`an inlay hint with ${t.value}`, async () => {
    const s = await cursorLineText();
    return s && s.includes(t.value) ? s : null;
  }, WAIT_MS);
  return drawn.trim();
});

await check('a broken template line raises the problems count; reverting lowers it', async () => {
  const before = problems(await statusItem('status.problems'));
  await key('Control+End');
  await page.keyboard.press('Enter');
  await page.keyboard.type(`${t.cfg.blockStart} if true`);
  const broken = await until('more errors in the problems count', async () => {
    const p = problems(await statusItem('status.problems'));
    return p.errors > before.errors ? p : null;
  }, WAIT_MS);
  await runCommand('File: Revert File');
  const after = await until('the problems count back where it was', async () => {
    const p = problems(await statusItem('status.problems'));
    return p.errors === before.errors ? p : null;
  }, WAIT_MS);
  return `errors ${before.errors} -> ${broken.errors} -> ${after.errors}`;
});

await check('"Homelab: Show rendered preview" opens the rendered YAML beside', async () => {
  await openFile(t.template);
  await runCommand('Homelab: Show rendered preview');
  const label = await until('a "Preview" tab in a second editor group', () => dom(() => {
    const tab = document.querySelectorAll('.editor-group-container').length >= 2 && document.querySelector('.tab[aria-label^="Preview "]');
    return tab ? tab.getAttribute('aria-label') : null;
  }), WAIT_MS);
  // The preview opens without taking focus: click its tab (found afresh, tabs re-render).
  await until('the preview tab clicked', async () => {
    const tab = await page.$('.tab[aria-label^="Preview "]');
    return tab && (await tab.click().then(() => true, () => false));
  }, 10000);
  await until('the preview focused, in YAML mode', async () => ((await statusItem('status.editor.mode')) ?? '').toLowerCase().startsWith('yaml'), WAIT_MS);
  await goTo(t.rendered.out + 1, 1);
  const line = await until(`the preview's line ${t.rendered.out + 1} to read ${t.rendered.text.trim()}`, async () => {
    const s = await cursorLineText();
    return s && s.trim() === t.rendered.text.trim() ? s : null;
  }, WAIT_MS);
  await runCommand('View: Close All Editor Groups');
  await until('no editor open', () => dom(() => document.querySelectorAll('.tab').length === 0), 10000);
  return `${label.split(',')[0]}: line ${t.rendered.out + 1}: ${line.trim()}`;
});

for (const [what, p] of [['a line copied from the template', t.static], [`the line rendered from ${t.ident}`, t.rendered]]) {
  await check(`go to definition on ${what} in ${outBase} lands on template line ${p.tpl + 1}`, async () => {
    await runCommand('View: Close All Editor Groups');
    await until('no editor open', () => dom(() => document.querySelectorAll('.tab').length === 0), 10000);
    await openFile(t.output);
    await goTo(p.out + 1, indent(p.text) + 1);
    await page.keyboard.press('F12');
    const c = await until(`${tplBase} at Ln ${p.tpl + 1}`, async () => {
      const c = await cursor();
      return (await activeTab()) === tplBase && c?.line === p.tpl + 1 ? c : null;
    }, WAIT_MS);
    return `${t.output}:${p.out + 1} -> ${t.template}:${c.line}`;
  });
}

await check(opt.server ? `the server came from homelabLsp.server.path` : 'the server that answered is the one bundled in the .vsix', async () => {
  const logs = [];
  const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).forEach((e) =>
    e.isDirectory() ? walk(path.join(d, e.name)) : e.name.endsWith('Homelab LSP.log') && logs.push(path.join(d, e.name)));
  walk(path.join(userData, 'logs'));
  const started = logs.flatMap((f) => fs.readFileSync(f, 'utf8').split('\n')).filter((l) => l.includes('[client] starting'));
  const want = opt.server ? path.resolve(opt.server) : extensions;
  const hit = started.find((l) => (opt.server ? l.includes(want) : l.includes(want) && l.includes('(bundled with the extension)')));
  if (!hit) throw new Error(`the extension's log (${logs.join(', ') || 'none found'}) says: ${started.join(' / ') || 'no "[client] starting" line'}`);
  return hit.replace(/^.*\[client\] /, '');
});

log(`took ${((Date.now() - startedAt) / 1000).toFixed(0)}s; logs in ${out}`);
await finish(failed ? 1 : 0);
