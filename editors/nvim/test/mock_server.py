#!/usr/bin/env python3
"""A stand-in LSP server for checking the Neovim test harness itself.

This is NOT homelab-lsp and tests nothing about it. It answers just enough of
the server contract (initialize, Indexing progress, completion, hover,
definition, diagnostics, homelab/renderedPreview, homelab/generatedFile,
homelab/templateSource) with crude logic so that `selftest.sh` can show that
run.lua drives Neovim's client correctly and reports failures clearly.

MOCK_BREAK=<feature> (hover, completion, definition, diagnostics, progress,
preview) makes that feature misbehave, to see the harness fail on it.
Standard library only.
"""

import json
import os
import re
import sys
import tomllib
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

BREAK = os.environ.get("MOCK_BREAK", "")
docs: dict[str, str] = {}
root: Path | None = None
config: dict = {}
next_id = 1000


def send(msg: dict) -> None:
    body = json.dumps(msg).encode()
    sys.stdout.buffer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    sys.stdout.buffer.flush()


def read() -> dict | None:
    length = None
    while True:
        line = sys.stdin.buffer.readline()
        if not line:
            return None
        line = line.strip()
        if not line:
            break
        k, _, v = line.decode().partition(":")
        if k.lower() == "content-length":
            length = int(v)
    return json.loads(sys.stdin.buffer.read(length))


def to_path(uri: str) -> Path:
    return Path(unquote(urlparse(uri).path))


def to_uri(path: Path) -> str:
    return "file://" + quote(str(path))


def text_of(uri: str) -> str:
    if uri in docs:
        return docs[uri]
    try:
        return to_path(uri).read_text()
    except OSError:
        return ""


def mj() -> dict:
    return config.get("makejinja", {})


def delims() -> tuple[str, str]:
    d = mj().get("delimiter", {})
    return d.get("variable_start", "{{"), d.get("variable_end", "}}")


def output_of(template: Path) -> Path | None:
    for inp in mj().get("inputs", []):
        base = (root / inp).resolve()
        try:
            rel = template.resolve().relative_to(base)
        except ValueError:
            continue
        name = str(rel)
        suffix = mj().get("jinja_suffix", ".j2")
        if name.endswith(suffix):
            name = name[: -len(suffix)]
        return (root / mj().get("output", "./") / name).resolve()
    return None


def template_of(output: Path) -> Path | None:
    for inp in mj().get("inputs", []):
        for t in (root / inp).rglob("*.j2"):
            if output_of(t) == output.resolve():
                return t.resolve()
    return None


def line_in(lines: list[str], text: str) -> int:
    for i, l in enumerate(lines):
        if l == text:
            return i
    return 0


def word_at(text: str, line: int, ch: int) -> str:
    lines = text.split("\n")
    if line >= len(lines):
        return ""
    s = lines[line]
    for m in re.finditer(r"[A-Za-z_][A-Za-z0-9_]*", s):
        if m.start() <= ch <= m.end():
            return m.group(0)
    return ""


def publish(uri: str) -> None:
    diags = []
    if BREAK != "diagnostics":
        for i, l in enumerate(text_of(uri).split("\n")):
            if "broken_expression(" in l:
                diags.append({
                    "range": {"start": {"line": i, "character": 0}, "end": {"line": i, "character": len(l)}},
                    "severity": 1, "code": "template-syntax", "source": "mock", "message": "unclosed '('",
                })
    send({"jsonrpc": "2.0", "method": "textDocument/publishDiagnostics", "params": {"uri": uri, "diagnostics": diags}})


def handle(msg: dict) -> None:
    global root, config, next_id
    method = msg.get("method")
    params = msg.get("params") or {}
    mid = msg.get("id")

    def reply(result):
        send({"jsonrpc": "2.0", "id": mid, "result": result})

    if method == "initialize":
        root = to_path(params["rootUri"])
        config = tomllib.loads((root / "makejinja.toml").read_text())
        reply({"capabilities": {
            "textDocumentSync": 1, "completionProvider": {}, "hoverProvider": True, "definitionProvider": True,
        }, "serverInfo": {"name": "mock"}})
    elif method == "initialized":
        if BREAK != "progress":
            send({"jsonrpc": "2.0", "id": next_id, "method": "window/workDoneProgress/create", "params": {"token": "idx"}})
            next_id += 1
            send({"jsonrpc": "2.0", "method": "$/progress", "params": {"token": "idx", "value": {"kind": "begin", "title": "Indexing"}}})
            send({"jsonrpc": "2.0", "method": "$/progress", "params": {"token": "idx", "value": {"kind": "end"}}})
    elif method == "textDocument/didOpen":
        docs[params["textDocument"]["uri"]] = params["textDocument"]["text"]
        publish(params["textDocument"]["uri"])
    elif method == "textDocument/didChange":
        docs[params["textDocument"]["uri"]] = params["contentChanges"][-1]["text"]
        publish(params["textDocument"]["uri"])
    elif method == "textDocument/completion":
        vs, _ = delims()
        names = sorted(set(re.findall(re.escape(vs) + r"[-+]?\s*([A-Za-z_]\w*)", text_of(params["textDocument"]["uri"]))))
        reply([] if BREAK == "completion" else [{"label": n, "kind": 6} for n in names])
    elif method == "textDocument/hover":
        p = params["position"]
        w = word_at(text_of(params["textDocument"]["uri"]), p["line"], p["character"])
        reply(None if BREAK == "hover" or not w else {"contents": {"kind": "markdown", "value": f"`{w}` (mock)"}})
    elif method == "textDocument/definition":
        out = to_path(params["textDocument"]["uri"])
        t = template_of(out)
        if t is None or BREAK == "definition":
            reply(None)
            return
        line = text_of(params["textDocument"]["uri"]).split("\n")[params["position"]["line"]]
        tl = line_in(t.read_text().split("\n"), line)
        reply({"uri": to_uri(t), "range": {"start": {"line": tl, "character": 0}, "end": {"line": tl, "character": 0}}})
    elif method == "homelab/renderedPreview":
        uri = params["uri"]
        vs, ve = delims()
        lines = text_of(uri).split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        rendered = [re.sub(re.escape(vs) + ".*?" + re.escape(ve), "X", l) for l in lines]
        lmap = [{"uri": uri, "line": i} for i in range(len(rendered))]
        if BREAK == "preview":
            lmap = lmap[:1]
        reply({"text": "\n".join(rendered) + "\n", "lineMap": lmap})
    elif method == "homelab/generatedFile":
        o = output_of(to_path(params["uri"]))
        reply({"uri": to_uri(o)} if o else None)
    elif method == "homelab/templateSource":
        out = to_path(params["uri"])
        t = template_of(out)
        if t is None:
            reply(None)
            return
        line = text_of(params["uri"]).split("\n")[params["line"]]
        reply({"uri": to_uri(t), "line": line_in(t.read_text().split("\n"), line)})
    elif method == "shutdown":
        reply(None)
    elif method == "exit":
        sys.exit(0)
    elif mid is not None and method is not None:
        send({"jsonrpc": "2.0", "id": mid, "error": {"code": -32601, "message": f"mock: no {method}"}})


def main() -> None:
    while True:
        msg = read()
        if msg is None:
            return
        handle(msg)


if __name__ == "__main__":
    main()
