// The messages the browser tests send: ordinary mail a person would look at, and one hostile
// message that tries every way out of the viewer it can.

import { mime } from './support.mjs';

/** A 12x12 blue square (PNG), shown inline through its Content-ID. */
const LOGO = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAwAAAAMCAIAAADZF8uwAAAAE0lEQVR4nGNQTX5NEDGMKhqMigCViNCxKWWwCQAAAABJRU5ErkJggg==',
  'base64',
);

/** The message the main flow follows: HTML and text bodies, an attachment, one recipient. */
export const WELCOME = {
  from: 'ada@example.com',
  to: ['bob@example.org'],
  data: mime({
    from: 'Ada Lovelace <ada@example.com>',
    to: ['Bob Builder <bob@example.org>'],
    subject: 'Welcome aboard, Bob!',
    text: 'Hello from the text part.\n\nConfirm your address: https://app.example.com/confirm?t=abc123\n',
    html: `<!DOCTYPE html><html><head><style>
      body { font-family: Georgia, serif; color: #222; margin: 0; }
      .card { max-width: 520px; margin: 24px auto; padding: 24px 28px; border: 1px solid #e3e3e3; border-radius: 10px; }
      h1 { color: #0b5cad; font-size: 26px; margin-top: 0; }
      .cta { display: inline-block; background: #0b5cad; color: #fff; padding: 10px 18px; border-radius: 6px; text-decoration: none; }
      </style></head><body><div class="card">
      <p><img id="logo" src="cid:logo@example.com" width="48" height="48" alt="logo"></p>
      <h1 id="greeting">Hello from the HTML part</h1>
      <p>Thanks for signing up. Your workspace <b>bob-builders</b> is ready.</p>
      <p><a class="cta" href="https://app.example.com/confirm?t=abc123">Confirm your address</a></p>
      <p style="color:#777;font-size:13px">You received this because you signed up at example.com.</p>
      </div></body></html>`,
    attachments: [
      { name: 'report.csv', type: 'text/csv', content: 'week,signups\n47,1204\n48,1377\n' },
      { name: 'logo.png', type: 'image/png', content: LOGO, cid: 'logo@example.com' },
    ],
  }),
};

/** More ordinary mail, so the list and search have something to tell apart. */
export const OTHERS = [
  {
    from: 'billing@shop.example',
    to: ['carol@example.net'],
    data: mime({
      from: 'Shop Billing <billing@shop.example>',
      to: ['carol@example.net'],
      subject: 'Your invoice #1042',
      text: 'Invoice 1042 for November: 49.00 EUR. The PDF is attached.',
      html: '<p>Invoice <b>1042</b> for November: <b>49.00 EUR</b>.</p><p>The PDF is attached.</p>',
      attachments: [{ name: 'invoice-1042.pdf', type: 'application/pdf', content: '%PDF-1.4\n% tiny\n' }],
    }),
  },
  {
    from: 'no-reply@auth.example',
    to: ['dave@example.com'],
    data: mime({
      from: 'Example Accounts <no-reply@auth.example>',
      to: ['dave@example.com'],
      subject: 'Reset your password',
      text: 'Someone asked to reset the password of dave@example.com.\nUse this link within 30 minutes: https://auth.example/reset/Zx81\n',
    }),
  },
  {
    from: 'ci@build.example',
    to: ['team@example.com', 'erin@example.com'],
    data: mime({
      from: 'CI <ci@build.example>',
      to: ['team@example.com', 'erin@example.com'],
      subject: '=?UTF-8?Q?Build_=E2=9C=94_passed_on_main_(f3a9c1e)?=',
      text: 'All 812 tests passed in 4m 12s.',
      html: '<p>All <b>812</b> tests passed in 4m 12s.</p>',
    }),
  },
];

/** Where the hostile message points everything: the test's recording server. */
export function hostile(trap) {
  const html = `<!DOCTYPE html><html><head>
<meta http-equiv="refresh" content="0;url=${trap}/refresh">
<base href="${trap}/base/">
<link rel="stylesheet" href="${trap}/style.css">
<link rel="preload" as="image" href="${trap}/preload.png">
<link rel="prefetch" href="${trap}/prefetch">
<link rel="icon" href="${trap}/icon.png">
<style>
@import url("${trap}/import.css");
body { background: #fff url(${trap}/background.png); }
@font-face { font-family: Remote; src: url('${trap}/font.woff2'); }
.remote-font { font-family: Remote, serif; }
</style>
<script>
window.parent.pwned = 'script';
localStorage.setItem('pwned', 'script');
document.title = 'pwned';
fetch('/api/v1/messages', { method: 'DELETE' });
new Image().src = '${trap}/script.png';
</script>
</head>
<body onload="fetch('${trap}/onload')">
<h1 id="hostile">Totally harmless newsletter</h1>
<p class="remote-font">Set in a remote font.</p>
<img id="tracker" src="${trap}/tracker.png" alt="tracking pixel">
<img src="does-not-exist" onerror="localStorage.setItem('pwned','onerror'); fetch('${trap}/onerror')">
<img srcset="${trap}/srcset.png 2x" alt="">
<svg onload="fetch('${trap}/svg-onload')" width="10" height="10"><image href="${trap}/svg-image.png" width="10" height="10"/></svg>
<iframe src="${trap}/iframe"></iframe>
<object data="${trap}/object"></object>
<video poster="${trap}/poster.png"></video>
<table background="${trap}/table.png"><tr><td style="background-image: url('${trap}/inline-style.png')">cell</td></tr></table>
<a id="js-link" href="javascript:fetch('${trap}/javascript')">a javascript: link</a>
<a href="${trap}/link" ping="${trap}/ping">an ordinary link</a>
<form action="/api/v1/messages" method="post"><input name="x" value="y"><button>Send</button></form>
</body></html>`;
  return {
    from: 'mallory@evil.example',
    to: ['victim@example.com'],
    data: mime({
      from: 'Mallory <mallory@evil.example>',
      to: ['victim@example.com'],
      subject: 'Totally harmless newsletter',
      text: 'Nothing to see here.',
      html,
    }),
  };
}

/** What only script, a handler, a navigation or a plugin would request: never, not even when
 * remote content is allowed. */
export const NEVER = ['/script.png', '/onload', '/onerror', '/svg-onload', '/javascript', '/iframe', '/object', '/refresh', '/ping', '/base/'];

/** A small message for bulk runs. */
export function bulk(n) {
  return {
    from: 'bulk@example.com',
    to: ['load@example.com'],
    data: `From: bulk@example.com\r\nTo: load@example.com\r\nSubject: Bulk ${n}\r\n\r\nMessage number ${n}.\r\n`,
  };
}
