// Rewrites the script hash in index.html's Content-Security-Policy after the inline <script>
// changed: `node ui/csp-hash.mjs` (from crates/smtp-http). `--check` only verifies it (exit 1
// when stale). No dependencies; the page itself needs no build step.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('./index.html', import.meta.url);
const html = readFileSync(file, 'utf8');
const scripts = [...html.matchAll(/^<script>([\s\S]*?)<\/script>/gm)];
if (scripts.length !== 1) {
  console.error(`expected exactly one inline <script>, found ${scripts.length}`);
  process.exit(1);
}
const hash = `'sha256-${createHash('sha256').update(scripts[0][1], 'utf8').digest('base64')}'`;
const pattern = /script-src '(sha256-[A-Za-z0-9+/=]+)'/;
const current = pattern.exec(html);
if (!current) {
  console.error("no script-src 'sha256-...' in the page's Content-Security-Policy");
  process.exit(1);
}
if (`'${current[1]}'` === hash) {
  console.log(`up to date: ${hash}`);
} else if (process.argv.includes('--check')) {
  console.error(`stale script hash: the policy has '${current[1]}', the script is ${hash}`);
  process.exit(1);
} else {
  writeFileSync(file, html.replace(pattern, `script-src ${hash}`));
  console.log(`updated to ${hash}`);
}
