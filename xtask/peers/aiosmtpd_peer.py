"""A reference peer for `cargo xtask bench`: aiosmtpd keeping every message in memory.

Usage: python aiosmtpd_peer.py HOST:PORT [--starttls CERT KEY | --implicit CERT KEY]

Plain SMTP; with --starttls it offers STARTTLS; with --implicit the port is TLS first.
Stops on SIGTERM or SIGINT.
"""

import asyncio
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP


class Keep:
    """Keeps each message's content, as a mail catcher does."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content)
        return "250 2.0.0 Ok: queued"


def tls_context(cert, key):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


async def serve(host, port, mode, context):
    handler = Keep()
    loop = asyncio.get_running_loop()

    def factory():
        starttls = context if mode == "--starttls" else None
        return SMTP(handler, tls_context=starttls, hostname="aiosmtpd")

    server = await loop.create_server(
        factory,
        host=host,
        port=port,
        ssl=context if mode == "--implicit" else None,
        backlog=1024,
    )
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set_result, None)
    await stop
    server.close()


def main():
    if len(sys.argv) not in (2, 5) or ":" not in sys.argv[1]:
        sys.exit(__doc__)
    host, port = sys.argv[1].rsplit(":", 1)
    mode, context = None, None
    if len(sys.argv) == 5:
        mode = sys.argv[2]
        if mode not in ("--starttls", "--implicit"):
            sys.exit(__doc__)
        context = tls_context(sys.argv[3], sys.argv[4])
    asyncio.run(serve(host, int(port), mode, context))


if __name__ == "__main__":
    main()
