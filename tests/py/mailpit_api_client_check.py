"""Drives the PyPI package `mailpit-api-client`, unchanged, against a running mailsink.

Usage: python3 mailpit_api_client_check.py BASE_URL SMTP_PORT

tests/e2e/api.rs delivers one message with an attachment over SMTP first (subject "From
Python", a `Delivered-To:` header, which the client's header model requires), then runs this
script; it exits non-zero with the failed assertion otherwise.
"""

import smtplib
import sys

from mailpit.client.api import API

api = API(sys.argv[1], timeout=10)

messages = api.get_messages()
assert messages.total == 1, messages
assert messages.unread == 1, messages
assert messages.count == 1, messages
summary = messages.messages[0]
assert summary.subject == "From Python", summary
assert summary.from_.address == "py@example.com", summary
assert summary.attachments == 1, summary
assert not summary.read, summary

message = api.get_message(summary.id)
assert message.id == summary.id, message
assert message.subject == "From Python", message
assert "python body" in message.text, message
assert [a.file_name for a in message.attachments] == ["data.csv"], message
assert api.get_messages().unread == 0

headers = api.get_message_headers(summary.id)
assert headers.delivered_to == ["rcpt@example.com"], headers
assert headers.from_ == ["Py Sender <py@example.com>"], headers
assert headers.message_id == ["<py-1@example.com>"], headers

attachment = api.get_message_attachment(summary.id, message.attachments[0].part_id)
assert attachment == "a,b\n1,2\n", repr(attachment)

# delete_messages([id]) sends form-encoded `ids`: only that message goes (Mailpit would
# delete everything here).
with smtplib.SMTP("127.0.0.1", int(sys.argv[2])) as smtp:
    smtp.sendmail("py@example.com", ["rcpt@example.com"], b"Subject: second\r\n\r\nkeep\r\n")
assert api.get_messages().total == 2
api.delete_messages([summary.id])
remaining = api.get_messages()
assert remaining.total == 1, remaining
assert remaining.messages[0].subject == "second", remaining

api.delete_messages([])
assert api.get_messages().total == 0

print("mailpit-api-client: all checks passed")
