import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  basename,
  fromPreviewUri,
  isPreviewUri,
  isTemplateUri,
  parseUri,
  previewLanguage,
  previewTitle,
  stripJinjaSuffix,
  toPreviewUri,
} from '../src/lib/previewUri';

const TEMPLATE =
  'file:///home/me/cluster/bootstrap/templates/kubernetes/apps/network/cloudflared/app/helmrelease.yaml.j2';

test('preview URI keeps the directory, names the output and carries the source in the query', () => {
  const preview = toPreviewUri(TEMPLATE);
  assert.equal(
    preview,
    'homelab-preview:/home/me/cluster/bootstrap/templates/kubernetes/apps/network/cloudflared/app/Preview%20helmrelease.yaml?' +
      encodeURIComponent(TEMPLATE),
  );
  assert.equal(isPreviewUri(preview), true);
  assert.equal(fromPreviewUri(preview), TEMPLATE);
});

test('round trip through awkward file names', () => {
  const uris = [
    'file:///tmp/a%20b/c%23d/x.yaml.j2',
    'file:///c%3A/Users/me/repo/templates/config/.sops.yaml.j2',
    'file:///repo/%C3%A9t%C3%A9/values.yaml.gotmpl.j2',
    'file:///repo/x.yaml.j2.j2',
    'file://server/share/repo/app.yaml.j2',
    'file:///repo/with%3Fquestion/and%26amp.yaml.j2',
    'untitled:Untitled-1',
  ];
  for (const uri of uris) {
    const preview = toPreviewUri(uri);
    assert.equal(fromPreviewUri(preview), uri, `round trip of ${uri} via ${preview}`);
    // The preview itself must parse as a URI with our scheme and no fragment.
    const parsed = parseUri(preview);
    assert.ok(parsed);
    assert.equal(parsed.scheme, 'homelab-preview');
    assert.equal(parsed.fragment, '');
  }
});

test('decoding survives an editor re-encoding the query', () => {
  // VS Code's Uri.toString() percent-encodes ':' and '/' in the query; some
  // serialisers leave them alone. Both must decode to the same source.
  const loose = 'homelab-preview:/repo/Preview%20x.yaml?file:///repo/x.yaml.j2';
  assert.equal(fromPreviewUri(loose), 'file:///repo/x.yaml.j2');
  const strict = 'homelab-preview:/repo/Preview%20x.yaml?file%3A%2F%2F%2Frepo%2Fa%2520b.yaml.j2';
  assert.equal(fromPreviewUri(strict), 'file:///repo/a%20b.yaml.j2');
});

test('non-preview URIs decode to undefined', () => {
  assert.equal(fromPreviewUri(TEMPLATE), undefined);
  assert.equal(fromPreviewUri('homelab-preview:/repo/x.yaml'), undefined);
  assert.equal(fromPreviewUri('homelab-preview:/repo/x.yaml?%E0%A4%A'), undefined);
  assert.equal(fromPreviewUri('homelab-preview:/repo/x.yaml?not a uri'), undefined);
  assert.equal(fromPreviewUri('not a uri at all'), undefined);
  assert.equal(isPreviewUri(TEMPLATE), false);
});

test('toPreviewUri rejects garbage', () => {
  assert.throws(() => toPreviewUri('no scheme here'), /not a URI/);
});

test('names: only the last .j2 goes', () => {
  assert.equal(stripJinjaSuffix('helmrelease.yaml.j2'), 'helmrelease.yaml');
  assert.equal(stripJinjaSuffix('x.yaml.j2.j2'), 'x.yaml.j2');
  assert.equal(stripJinjaSuffix('values.yaml.gotmpl.j2'), 'values.yaml.gotmpl');
  assert.equal(stripJinjaSuffix('plain.yaml'), 'plain.yaml');
  assert.equal(stripJinjaSuffix('.j2'), '.j2');
  assert.equal(basename('file:///a/b/%C3%A9.yaml.j2'), '\u00e9.yaml.j2');
  assert.equal(previewTitle(TEMPLATE), 'Preview helmrelease.yaml');
  assert.equal(isTemplateUri(TEMPLATE), true);
  assert.equal(isTemplateUri('file:///a/kustomization.yaml'), false);
});

test('preview language follows the output name', () => {
  assert.equal(previewLanguage(TEMPLATE), 'yaml');
  assert.equal(previewLanguage('file:///r/talenv.yml.j2'), 'yaml');
  assert.equal(previewLanguage('file:///r/.sops.yaml.j2'), 'yaml');
  assert.equal(previewLanguage('file:///r/cluster.json.j2'), 'json');
  assert.equal(previewLanguage('file:///r/values.yaml.gotmpl.j2'), undefined);
});
