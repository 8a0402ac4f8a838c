// Drives the npm package `mailpit-api`, unchanged, against a running mailsink.
//
// Usage: node mailpit-api.mjs BASE_URL [USER PASSWORD]
//
// tests/e2e/api.rs delivers two messages over SMTP first ("SMTP one" with a text body, then
// "SMTP two"), then runs this script; it exits non-zero with the failed assertion otherwise.

import assert from "node:assert/strict";
import { MailpitClient } from "mailpit-api";

const [base, user, password] = process.argv.slice(2);
const options = user ? { auth: { username: user, password } } : undefined;
const mailpit = new MailpitClient(base, options);

// list
const list = await mailpit.listMessages();
assert.equal(list.total, 2);
assert.equal(list.unread, 2);
assert.equal(list.messages_count, 2);
assert.deepEqual(
  list.messages.map((m) => m.Subject),
  ["SMTP two", "SMTP one"],
);
const [two, one] = list.messages;
assert.equal(one.From.Address, "sender@example.com");
assert.equal(one.To[0].Address, "rcpt@example.com");
assert.match(one.Created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);

// get (by ID and latest), which marks read
const latest = await mailpit.getMessageSummary();
assert.equal(latest.ID, two.ID);
const first = await mailpit.getMessageSummary(one.ID);
assert.equal(first.Subject, "SMTP one");
assert.match(first.Text, /first body/);
assert.equal((await mailpit.listMessages()).unread, 0);

// headers and raw source
const headers = await mailpit.getMessageHeaders(one.ID);
assert.deepEqual(headers.Subject, ["SMTP one"]);
assert.ok(headers["Received"].length >= 1);
const raw = await mailpit.getMessageSource(one.ID);
assert.match(raw, /^Return-Path: <sender@example\.com>\r\n/);
assert.match(raw, /Subject: SMTP one\r\n/);

// read status and search
await mailpit.setReadStatus({ IDs: [one.ID], Read: false });
const unread = await mailpit.searchMessages({ query: "is:unread" });
assert.deepEqual(unread.messages.map((m) => m.ID), [one.ID]);
const bySubject = await mailpit.searchMessages({ query: 'subject:"smtp one"' });
assert.equal(bySubject.messages_count, 1);
assert.equal(bySubject.total, 2);

// send, then find it, its attachment and its rendered views
const sent = await mailpit.sendMessage({
  From: { Email: "app@example.com", Name: "The App" },
  To: [{ Email: "user@example.com", Name: "A User" }],
  Subject: "Sent through the API",
  Text: "api text body",
  HTML: "<p>api <b>html</b> body</p>",
  Tags: ["api"],
  Attachments: [{ Content: Buffer.from("attached text").toString("base64"), Filename: "note.txt" }],
});
assert.match(sent.ID, /^[0-9A-Z]{26}$/);
const found = await mailpit.waitForMessage({ query: 'subject:"Sent through the API"' });
assert.equal(found.ID, sent.ID);
assert.equal(found.From.Name, "The App");
assert.deepEqual(found.Tags, ["api"]);
assert.equal(found.Attachments.length, 1);
assert.equal(found.Attachments[0].FileName, "note.txt");
const blob = await mailpit.getMessageAttachment(sent.ID, found.Attachments[0].PartID);
assert.equal(await blob.text(), "attached text");
assert.match(await mailpit.renderMessageHTML(sent.ID), /<b>html<\/b>/);
assert.match(await mailpit.renderMessageText(sent.ID), /api text body/);
const info = await mailpit.getInfo();
assert.equal(info.Messages, 3);
assert.equal(info.Tags.api, 1);

// delete by search, by ID, then everything
await mailpit.deleteMessagesBySearch({ query: "subject:one" });
assert.equal((await mailpit.listMessages()).total, 2);
await mailpit.deleteMessages({ IDs: [sent.ID] });
assert.deepEqual((await mailpit.listMessages()).messages.map((m) => m.ID), [two.ID]);
await mailpit.deleteMessages();
assert.equal((await mailpit.listMessages()).total, 0);
await assert.rejects(mailpit.getMessageSummary(), /404/);

console.log("mailpit-api: all checks passed");
