#!/usr/bin/python3
"""aiosmtpd-sink PORT: aiosmtpd (Debian's python3-aiosmtpd) on 127.0.0.1:PORT as a sink, a peer
for bench/compare: every message is answered 250 and thrown away; the library's own defaults
otherwise (one asyncio event loop, one process). Ends on SIGTERM or SIGINT."""
import asyncio
import signal
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


async def main(port):
    loop = asyncio.get_running_loop()
    handler = Sink()
    server = await loop.create_server(lambda: SMTP(handler, hostname="aiosmtpd.bench.test"),
                                      host="127.0.0.1", port=port)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"aiosmtpd-sink listening on 127.0.0.1:{port}", file=sys.stderr, flush=True)
    await stop.wait()
    server.close()


if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        sys.exit("usage: aiosmtpd-sink.py PORT")
    asyncio.run(main(int(sys.argv[1])))
