// Helpers for the browser tests: the real `mailsink` binary on loopback ports, a tiny SMTP
// client, a MIME builder, a "remote server" that records every request it gets, and headless
// Chromium (Debian's `chromium`, driven by playwright-core; never a downloaded browser).

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

/** The workspace root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const TARGET = process.env.CARGO_TARGET_DIR || join(ROOT, 'target');

/** Where screenshots go (the Rust wrapper passes its own target dir). */
export const SCREENSHOTS = process.env.MAILSINK_SCREENSHOTS || join(TARGET, 'browser-screenshots');

/** The `mailsink` binary: $MAILSINK_BIN, else target/debug/mailsink, built when missing. */
export function mailsinkBinary() {
  if (process.env.MAILSINK_BIN) return process.env.MAILSINK_BIN;
  const bin = join(TARGET, 'debug', 'mailsink');
  if (!existsSync(bin)) {
    const built = spawnSync('cargo', ['build', '--quiet', '-p', 'smtp-bin', '--bin', 'mailsink'], {
      cwd: ROOT,
      stdio: 'inherit',
    });
    if (built.status !== 0) throw new Error('building mailsink failed');
  }
  return bin;
}

/**
 * Starts `mailsink` on free loopback ports (port 0, read back from its log) with only PATH and
 * `env` in its environment, so no MP_* variable of the caller leaks in.
 */
export async function startMailsink(args = [], env = {}) {
  const child = spawn(mailsinkBinary(), ['--smtp', '127.0.0.1:0', '--listen', '127.0.0.1:0', ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mailsink did not start:\n${log}`)), 20_000);
    const onData = (chunk) => {
      log += chunk;
      const http = /\[http\] starting on (\S+)/.exec(log);
      const smtp = /\[smtpd\] starting on (\S+)/.exec(log);
      if (http && smtp) {
        clearTimeout(timer);
        resolve({ http: `http://${http[1]}`, smtpPort: Number(smtp[1].split(':').pop()) });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mailsink exited (${code}):\n${log}`));
    });
  });
  const addresses = await ready;
  return {
    ...addresses,
    log: () => log,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A bare SMTP client over one connection: EHLO once, then any number of messages. */
export class SmtpClient {
  static async connect(port) {
    const client = new SmtpClient(connect(port, '127.0.0.1'));
    await client.#expect(220, 'connect');
    await client.#command('EHLO browser-test.local', 250);
    return client;
  }

  #socket;
  #buffer = '';
  #waiting = [];
  #failure;

  constructor(socket) {
    this.#socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => {
      this.#buffer += chunk;
      this.#deliver();
    });
    this.#failure = new Promise((_, reject) => {
      socket.once('error', reject);
      socket.setTimeout(15_000, () => reject(new Error('SMTP timeout')));
    });
    this.#failure.catch(() => {});
  }

  /** Sends one message (MAIL, RCPT, DATA); returns the ID from "queued as ID". */
  async send({ from, to, data }) {
    await this.#command(`MAIL FROM:<${from}>`, 250);
    for (const rcpt of to) await this.#command(`RCPT TO:<${rcpt}>`, 250);
    await this.#command('DATA', 354);
    const body = data.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
    this.#socket.write(`${body}${body.endsWith('\r\n') ? '' : '\r\n'}.\r\n`);
    const queued = await this.#expect(250, 'message data');
    return /queued as (\S+)/.exec(queued)?.[1];
  }

  async quit() {
    try {
      await this.#command('QUIT', 221);
    } finally {
      this.#socket.destroy();
    }
  }

  #deliver() {
    for (;;) {
      const end = /^\d{3} [^\r\n]*\r\n/m.exec(this.#buffer);
      if (!end || !this.#waiting.length) return;
      const reply = this.#buffer.slice(0, end.index + end[0].length);
      this.#buffer = this.#buffer.slice(reply.length);
      this.#waiting.shift()(reply);
    }
  }

  async #expect(code, sent) {
    const reply = new Promise((resolve) => {
      this.#waiting.push(resolve);
      this.#deliver();
    });
    const text = await Promise.race([reply, this.#failure]);
    if (!text.startsWith(String(code))) throw new Error(`after ${sent}: ${text.trim()}`);
    return text;
  }

  #command(line, code) {
    this.#socket.write(`${line}\r\n`);
    return this.#expect(code, line);
  }
}

/** Sends one message over its own SMTP connection; returns its ID. */
export async function sendMail(port, message) {
  const client = await SmtpClient.connect(port);
  try {
    return await client.send(message);
  } finally {
    await client.quit();
  }
}

/**
 * A message as text: multipart/alternative when it has both bodies, wrapped in
 * multipart/mixed when it has attachments ({ name, type, content: string or Buffer, cid? }; one
 * with a cid is an inline part).
 */
export function mime({ from, to, subject, text, html, attachments = [], headers = {} }) {
  const head = [
    `From: ${from}`,
    `To: ${to.join(', ')}`,
    `Subject: ${subject}`,
    'Date: Fri, 27 Nov 2026 21:30:00 +0000',
    'MIME-Version: 1.0',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  const b64 = (content) => Buffer.from(content).toString('base64').replace(/.{76}/g, '$&\r\n');
  const textPart = text !== undefined ? ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: base64', '', b64(text)].join('\r\n') : null;
  const htmlPart = html !== undefined ? ['Content-Type: text/html; charset=utf-8', 'Content-Transfer-Encoding: base64', '', b64(html)].join('\r\n') : null;
  const multipart = (kind, boundary, parts) => [
    `Content-Type: multipart/${kind}; boundary="${boundary}"`, '',
    ...parts.map((p) => `--${boundary}\r\n${p}`), `--${boundary}--`, '',
  ].join('\r\n');
  let body = textPart && htmlPart ? multipart('alternative', 'alt-b0undary', [textPart, htmlPart]) : (htmlPart || textPart);
  if (attachments.length) {
    const files = attachments.map((a) => [
      `Content-Type: ${a.type}; name="${a.name}"`,
      `Content-Disposition: ${a.cid ? 'inline' : 'attachment'}; filename="${a.name}"`,
      ...(a.cid ? [`Content-ID: <${a.cid}>`] : []),
      'Content-Transfer-Encoding: base64', '', b64(a.content),
    ].join('\r\n'));
    body = multipart('mixed', 'mixed-b0undary', [body, ...files]);
  }
  return `${head.join('\r\n')}\r\n${body}`;
}

/** An HTTP server standing in for the internet: answers everything, remembers every request. */
export async function startTrap() {
  const requests = [];
  // A 1x1 transparent PNG, so an allowed remote image really loads.
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.url.endsWith('.png')) res.writeHead(200, { 'Content-Type': 'image/png' }).end(png);
    else if (req.url.endsWith('.css')) res.writeHead(200, { 'Content-Type': 'text/css' }).end('p { color: red }');
    else res.writeHead(200, { 'Content-Type': 'text/plain' }).end('trap');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    requests,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Headless Debian Chromium in a fresh profile, through playwright-core (`options` are
 * Playwright context options, e.g. httpCredentials). */
export async function launchBrowser(options = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'mailsink-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    ...options,
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a screenshot under SCREENSHOTS and returns its path. */
export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** Polls `check` until it returns a truthy value (or throws after `timeout` ms). */
export async function eventually(check, { timeout = 10_000, interval = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

/** GET a JSON endpoint of the API. */
export async function apiJson(base, path) {
  const response = await fetch(`${base}${path}`);
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}
