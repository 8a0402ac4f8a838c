// Static checks of the page file itself, before any browser: a stale script hash or an external
// resource would otherwise show up only as a blank page or a failed load on a machine offline.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { ROOT } from './support.mjs';

const UI = join(ROOT, 'crates/smtp-http/ui');
const html = readFileSync(join(UI, 'index.html'), 'utf8');

describe('crates/smtp-http/ui/index.html', () => {
  it('allows its one inline script by hash (run `node ui/csp-hash.mjs` after editing it)', () => {
    execFileSync(process.execPath, [join(UI, 'csp-hash.mjs'), '--check'], { stdio: 'pipe' });
  });

  it('loads nothing from elsewhere: no external script, style, font or image', () => {
    const markup = html.replace(/^<script>[\s\S]*?<\/script>/m, '');
    const external = markup.match(/\b(?:src|href)\s*=\s*["']?(?:https?:)?\/\/[^"'\s>]*/gi) || [];
    assert.deepEqual(external, []);
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? '';
    assert.doesNotMatch(style, /@import|url\(/i);
    assert.equal((html.match(/<script\b/g) || []).length, 1, 'one inline script, no src');
  });

  it('sets a policy with no unsafe script source, and sandboxes the message frame', () => {
    const policy = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1] ?? '';
    const script = /script-src ([^;]+)/.exec(policy)?.[1] ?? '';
    assert.match(script, /^'sha256-[A-Za-z0-9+/=]+'$/);
    assert.match(policy, /default-src 'none'/);
    assert.match(policy, /require-trusted-types-for 'script'/);
    const sandbox = /setAttribute\('sandbox', '([^']*)'\)/.exec(html)?.[1];
    assert.equal(sandbox, 'allow-popups allow-popups-to-escape-sandbox');
  });
});
