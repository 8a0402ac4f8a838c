// The web page end to end: the real `mailsink` binary, mail sent over SMTP, the page in headless
// Chromium. Run with `node --test tests/browser/` (tests/e2e/browser.rs does, from cargo test).
// Screenshots land in target/browser-screenshots/.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { NEVER, OTHERS, WELCOME, bulk, hostile } from './fixtures.mjs';
import {
  SmtpClient,
  apiJson,
  eventually,
  launchBrowser,
  screenshot,
  sendMail,
  startMailsink,
  startTrap,
} from './support.mjs';

const rows = (page) => page.locator('#list li');
const row = (page, subject) => page.locator('#list li', { hasText: subject });
const subjects = (page) => page.locator('#list li .subject').allTextContents();

/** Waits until the list shows exactly these subjects, in this order. */
async function listShows(page, expected) {
  await eventually(async () => JSON.stringify(await subjects(page)) === JSON.stringify(expected), {
    what: `the list ${JSON.stringify(expected)}`,
  }).catch(async (err) => {
    throw new Error(`${err.message}; it shows ${JSON.stringify(await subjects(page))}`);
  });
}

const ALL = ['Build ✔ passed on main (f3a9c1e)', 'Reset your password', 'Your invoice #1042', 'Welcome aboard, Bob!'];

/**
 * Errors the page reported about itself: uncaught exceptions, and console errors from its own
 * code at `origin`. Left out: what the message frame (about:srcdoc) or its remote resources
 * log, and reports of the policy blocking a hostile message, which Chrome also logs for the
 * inert copy the page parses; they are the protection working. (Were the page's own script
 * refused, nothing would render and the first test fails.)
 */
function watchErrors(page, origin) {
  const errors = [];
  page.on('pageerror', (err) => errors.push(`exception: ${err.message}`));
  page.on('console', (msg) => {
    const blockedByPolicy = /violates the following Content Security Policy directive/.test(msg.text());
    const fromPage = (msg.location().url || '').startsWith(`${origin}/`);
    if (msg.type() === 'error' && fromPage && !blockedByPolicy) errors.push(`console: ${msg.text()}`);
  });
  return errors;
}

describe('the web page', () => {
  let server;
  let trap;
  let browser;
  let page;
  let errors;
  /** Every URL the browser requested, from any page or frame. */
  const requested = [];
  const ids = {};

  before(async () => {
    server = await startMailsink();
    trap = await startTrap();
    browser = await launchBrowser();
    browser.context.on('request', (request) => requested.push(request.url()));
    page = await browser.context.newPage();
    errors = watchErrors(page, server.http);
    await page.goto(`${server.http}/`);
  });

  after(async () => {
    await browser?.close();
    await trap?.close();
    await server?.stop();
  });

  it('starts with an empty mailbox, its script allowed by its own policy', async () => {
    await page.locator('#empty', { hasText: 'No messages yet' }).waitFor();
    assert.equal(await page.locator('#counts').textContent(), '0 messages, 0 unread');
    assert.deepEqual(errors, []);
  });

  it('shows a message sent over SMTP without a reload', async () => {
    await page.evaluate(() => { window.sameDocument = true; });
    ids.welcome = await sendMail(server.smtpPort, WELCOME);
    const welcome = row(page, 'Welcome aboard, Bob!');
    await welcome.waitFor({ timeout: 10_000 });
    assert.equal(await page.evaluate(() => window.sameDocument), true, 'the page was reloaded');
    assert.match(await welcome.textContent(), /Ada Lovelace → Bob Builder/);
    assert.match(await welcome.textContent(), /Hello from the text part|Hello from the HTML part/);
    assert.equal(await welcome.getAttribute('class'), 'unread');
    assert.equal(await welcome.locator('svg.clip').getAttribute('aria-label'), '1 attachment');
    assert.equal(await welcome.locator('.subject').textContent(), 'Welcome aboard, Bob!');
    assert.equal(await page.locator('#counts').textContent(), '1 message, 1 unread');
    assert.equal(await page.title(), '(1) mailsink');
  });

  it('opens it: the HTML in a sandboxed frame, text, headers, raw, attachments, SMTP facts', async () => {
    await row(page, 'Welcome aboard, Bob!').click();
    const frame = page.frameLocator('#html-frame');
    assert.equal(await frame.locator('#greeting').textContent(), 'Hello from the HTML part');
    // The inline image (cid:) is fetched from the message's own parts.
    const logo = await eventually(() => frame.locator('#logo').evaluate((img) => img.complete && img.naturalWidth), { what: 'the inline image' });
    assert.equal(logo, 12);
    const sandbox = await page.locator('#html-frame').getAttribute('sandbox');
    assert.equal(sandbox, 'allow-popups allow-popups-to-escape-sandbox');
    assert.equal(await page.locator('#subject').textContent(), 'Welcome aboard, Bob!');
    assert.match(await page.locator('#fields').textContent(), /Ada Lovelace <ada@example.com>/);
    // Opening marked it read, through the API.
    await eventually(async () => (await apiJson(server.http, '/api/v1/messages')).unread === 0, { what: 'read' });
    await eventually(async () => (await rows(page).first().getAttribute('class')).includes('read'));

    await page.locator('#smtp-details summary').click();
    const smtp = await page.locator('#smtp').textContent();
    assert.match(smtp, /Envelope from<ada@example.com>/);
    assert.match(smtp, /Envelope tobob@example.org/);
    assert.match(smtp, /Clientbrowser-test.local \[127.0.0.1\]/);
    assert.match(smtp, /TLSno, plain text/);
    assert.match(smtp, /Authenticatedno/);
    await screenshot(page, 'message');

    await page.locator('#tab-text').click();
    assert.match(await page.locator('#text-body').textContent(), /Hello from the text part/);
    const link = page.locator('#text-body a');
    assert.equal(await link.getAttribute('href'), 'https://app.example.com/confirm?t=abc123');
    assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');

    await page.locator('#tab-headers').click();
    assert.match(await page.locator('#headers-table').textContent(), /SubjectWelcome aboard, Bob!/);

    await page.locator('#tab-raw').click();
    await page.locator('#raw-body', { hasText: 'Content-Type: multipart/alternative' }).waitFor();

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('#attachments a', { hasText: 'report.csv' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'report.csv');
    const { readFile } = await import('node:fs/promises');
    assert.equal(await readFile(await download.path(), 'utf8'), 'week,signups\n47,1204\n48,1377\n');
    await page.locator('#tab-html').click();
  });

  it('search finds it, with the API\'s search syntax', async () => {
    for (const message of OTHERS) await sendMail(server.smtpPort, message);
    await listShows(page, ALL);
    await page.keyboard.press('Escape');
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'search');
    await page.keyboard.type('subject:welcome');
    await page.keyboard.press('Enter');
    await listShows(page, ['Welcome aboard, Bob!']);
    assert.equal(await page.locator('#counts').textContent(), '1 match of 4');

    await page.locator('#search').fill('is:unread has:attachment');
    await page.keyboard.press('Enter');
    await listShows(page, ['Your invoice #1042']);

    await page.locator('#search').fill('-from:ci@build.example -subject:invoice');
    await page.keyboard.press('Enter');
    await listShows(page, ['Reset your password', 'Welcome aboard, Bob!']);

    await page.locator('#brand').click();
    await listShows(page, ALL);
    assert.equal(await page.locator('#search').inputValue(), '');
  });

  it('moves with j/k, opens with Enter, toggles read with u', async () => {
    await page.locator('#list').focus();
    await page.keyboard.press('Escape');
    const selected = () => page.locator('#list li[aria-selected="true"]').textContent();
    await page.keyboard.press('k');
    await page.keyboard.press('k');
    assert.match(await selected(), /Build ✔ passed on main/);
    await page.keyboard.press('j');
    assert.match(await selected(), /Reset your password/);
    await page.keyboard.press('ArrowDown');
    assert.match(await selected(), /Your invoice #1042/);
    await page.keyboard.press('Enter');
    await page.locator('#subject', { hasText: 'Your invoice #1042' }).waitFor();
    const invoice = (await apiJson(server.http, '/api/v1/search?query=invoice')).messages[0];
    await eventually(async () => (await apiJson(server.http, `/api/v1/message/${invoice.ID}`)).Read);
    await page.keyboard.press('u');
    await eventually(async () => (await apiJson(server.http, '/api/v1/search?query=invoice')).messages[0].Read === false, { what: 'unread' });
    // The page relabels the button once its own request has returned, which may be after the
    // API already shows the change.
    await page.locator('#toggle-read', { hasText: /^Mark read$/ }).waitFor({ timeout: 5_000 });
    await page.keyboard.press('u');
    await eventually(async () => (await apiJson(server.http, '/api/v1/search?query=invoice')).messages[0].Read, { what: 'read again' });
    // With a message open, j/k step to the next one.
    await page.keyboard.press('j');
    await page.locator('#subject', { hasText: 'Welcome aboard, Bob!' }).waitFor();
    await page.keyboard.press('Escape');
    await page.locator('#placeholder').waitFor();
  });

  it('shows hostile mail without running its script or fetching anything', async () => {
    await sendMail(server.smtpPort, hostile(trap.url));
    await row(page, 'Totally harmless newsletter').waitFor({ timeout: 10_000 });
    const before = requested.length;
    await row(page, 'Totally harmless newsletter').click();
    const frame = page.frameLocator('#html-frame');
    await frame.locator('#hostile').waitFor();
    assert.equal(await frame.locator('#tracker').getAttribute('src'), null, 'remote src kept');
    // Time for anything that would load or run to do so.
    await page.waitForTimeout(1500);
    assert.deepEqual(trap.requests, [], 'the message reached the network');
    const leaked = requested.slice(before).filter((url) => !url.startsWith(`${server.http}/`));
    assert.deepEqual(leaked, [], 'the browser requested something outside the API');
    const effects = await page.evaluate(() => ({
      pwned: window.pwned ?? null,
      storage: localStorage.getItem('pwned'),
      title: document.title.includes('pwned'),
    }));
    assert.deepEqual(effects, { pwned: null, storage: null, title: false });
    assert.equal((await apiJson(server.http, '/api/v1/messages')).total, 5, 'the script deleted mail');
    const banner = await page.locator('#remote-banner').textContent();
    const blocked = Number(/blocked \((\d+) items\)/.exec(banner)?.[1]);
    assert.ok(blocked >= 8, `only ${blocked} remote items counted: ${banner}`);
    await screenshot(page, 'hostile-blocked');

    // The control: once allowed, remote images do load, so the trap would have seen a leak.
    await page.locator('#load-remote').click();
    await eventually(() => trap.requests.includes('GET /tracker.png'), { what: 'the allowed remote image' });
    await page.waitForTimeout(1000);
    const never = trap.requests.filter((r) => NEVER.some((path) => r.includes(path)));
    assert.deepEqual(never, [], 'script, a handler, a plugin or a navigation ran');
    assert.equal(await page.evaluate(() => localStorage.getItem('pwned')), null);
    assert.ok(!(await page.title()).includes('pwned'));
    assert.ok(await page.locator('#remote-banner').isHidden());
  });

  it('deletes the open message with the Delete key', async () => {
    await row(page, 'Welcome aboard, Bob!').click();
    await page.locator('#subject', { hasText: 'Welcome aboard, Bob!' }).waitFor();
    await page.locator('#list').focus();
    await page.keyboard.press('Delete');
    await eventually(async () => (await row(page, 'Welcome aboard, Bob!').count()) === 0, { what: 'the row to go' });
    const gone = await fetch(`${server.http}/api/v1/message/${ids.welcome}`);
    assert.equal(gone.status, 404);
    assert.equal(await rows(page).count(), 4);
    await page.locator('#placeholder').waitFor();
  });

  it('fits a phone screen: one pane at a time, no sideways scrolling', async () => {
    const phone = await browser.context.newPage();
    const phoneErrors = watchErrors(phone, server.http);
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${server.http}/`);
    await rows(phone).first().waitFor();
    const overflow = () => phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.equal(await overflow(), 0);
    await screenshot(phone, 'phone-list');
    await row(phone, 'Your invoice #1042').click();
    await phone.frameLocator('#html-frame').locator('b', { hasText: '1042' }).waitFor();
    assert.ok(await phone.locator('#list-pane').isHidden());
    assert.equal(await overflow(), 0);
    await screenshot(phone, 'phone-message');
    await phone.locator('#back').click();
    await phone.locator('#list-pane').waitFor();
    assert.ok(await phone.locator('#message').isHidden());
    assert.deepEqual(phoneErrors, []);
    await phone.close();
  });

  it('deletes everything only after confirmation', async () => {
    await screenshot(page, 'list');
    await page.locator('#delete-all').click();
    await page.locator('#confirm').waitFor();
    assert.match(await page.locator('#confirm-text').textContent(), /Delete all 4 messages\?/);
    await page.locator('#confirm-cancel').click();
    assert.equal((await apiJson(server.http, '/api/v1/messages')).total, 4);
    await page.locator('#delete-all').click();
    await page.locator('#confirm-ok').click();
    await page.locator('#empty', { hasText: 'No messages yet' }).waitFor();
    assert.equal((await apiJson(server.http, '/api/v1/messages')).total, 0);
    assert.deepEqual(errors, []);
  });
});

describe('with 10,000 messages', () => {
  const COUNT = 10_000;
  let server;
  let browser;
  let page;

  before(async () => {
    server = await startMailsink(['--max', '0']);
    // Eight connections, each sending its share back to back.
    await Promise.all(Array.from({ length: 8 }, async (_, lane) => {
      const client = await SmtpClient.connect(server.smtpPort);
      for (let n = lane; n < COUNT; n += 8) await client.send(bulk(n));
      await client.quit();
    }));
    browser = await launchBrowser();
    page = await browser.context.newPage();
    await page.goto(`${server.http}/`);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('renders one page of 50 rows and pages through', async () => {
    await page.locator('#counts', { hasText: '10,000 messages' }).waitFor();
    assert.equal(await rows(page).count(), 50);
    await screenshot(page, 'list-10000');
    assert.equal(await page.locator('#range').textContent(), '1–50 of 10,000');
    const newest = (await apiJson(server.http, '/api/v1/messages?limit=51')).messages;
    const subject = (locator) => locator.locator('.subject').textContent();
    assert.equal(await subject(rows(page).first()), newest[0].Subject);
    await page.locator('#list').focus();
    await page.keyboard.press('n');
    await page.locator('#range', { hasText: '51–100 of 10,000' }).waitFor();
    assert.equal(await rows(page).count(), 50);
    assert.equal(await subject(rows(page).first()), newest[50].Subject);
    // k on the first row of a page steps back onto the last row of the page before.
    await page.keyboard.press('k');
    await page.locator('#range', { hasText: '1–50 of 10,000' }).waitFor();
    assert.equal(await subject(page.locator('#list li[aria-selected="true"]')), newest[49].Subject);
  });

  it('polls with one-message requests while nothing changes', async () => {
    const api = [];
    const record = (request) => {
      const url = new URL(request.url());
      if (url.pathname.startsWith('/api/')) api.push(`${url.pathname}${url.search}`);
    };
    page.on('request', record);
    await page.waitForTimeout(5000);
    page.off('request', record);
    assert.ok(api.length >= 2, `expected polls, saw ${api.join(', ')}`);
    assert.deepEqual([...new Set(api)], ['/api/v1/messages?limit=1']);
  });

  it('shows new mail at the top, refetching only then', async () => {
    await page.keyboard.press('Escape');
    await page.locator('#brand').click();
    await sendMail(server.smtpPort, bulk('newest'));
    await page.locator('#list li', { hasText: 'Bulk newest' }).first().waitFor({ timeout: 10_000 });
    assert.match(await rows(page).first().textContent(), /Bulk newest/);
    assert.equal(await page.locator('#range').textContent(), '1–50 of 10,001');
  });
});

describe('behind Basic authentication (MP_UI_AUTH)', () => {
  let server;
  let browser;

  before(async () => {
    server = await startMailsink([], { MP_UI_AUTH: 'tester:s3cret-pass' });
    browser = await launchBrowser({ httpCredentials: { username: 'tester', password: 's3cret-pass' } });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('refuses without credentials, and works with them, inline images included', async () => {
    assert.equal((await fetch(`${server.http}/`)).status, 401);
    assert.equal((await fetch(`${server.http}/api/v1/messages`)).status, 401);
    const page = await browser.context.newPage();
    const errors = watchErrors(page, server.http);
    await page.goto(`${server.http}/`);
    await sendMail(server.smtpPort, WELCOME);
    await row(page, 'Welcome aboard, Bob!').click();
    const logo = page.frameLocator('#html-frame').locator('#logo');
    assert.equal(await eventually(() => logo.evaluate((img) => img.complete && img.naturalWidth), { what: 'the inline image' }), 12);
    assert.deepEqual(errors, []);
  });
});
