#!/usr/bin/python3
"""A real SMTP server on loopback for the delivery tests (Debian's aiosmtpd).

Usage: smtp_sink.py DIR. Prints the port on stdout once it listens, then
stores each accepted message as DIR/NNNN.eml. While DIR/refuse exists it
answers every message with a temporary failure (451). Stops on SIGTERM.
"""
import asyncio
import os
import signal
import socket
import sys
import threading

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if os.path.exists(os.path.join(self.directory, "refuse")):
            return "451 4.3.0 try again later"
        with self.lock:
            self.count += 1
            name = os.path.join(self.directory, "%04d.eml" % self.count)
        with open(name + ".tmp", "wb") as f:
            f.write(b"X-Envelope-To: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n")
            f.write(envelope.original_content or envelope.content)
        os.rename(name + ".tmp", name)
        return "250 OK"


async def serve(directory):
    # Our own listening socket, bound to port 0 and kept open: no other
    # process can take the port between choosing and listening.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    loop = asyncio.get_running_loop()
    handler = Sink(directory)
    server = await loop.create_server(lambda: SMTP(handler), sock=sock)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    # One write, then stdout is done with: the parent may close its end.
    os.write(1, b"%d\n" % sock.getsockname()[1])
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    await stop.wait()
    server.close()


def main():
    asyncio.run(serve(sys.argv[1]))


if __name__ == "__main__":
    main()
