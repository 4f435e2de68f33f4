#!/usr/bin/python3
"""A real SMTP server on loopback for the delivery tests (Debian's aiosmtpd).

Usage: smtp_sink.py DIR. Prints the port on stdout once it listens, then
stores each accepted message as DIR/NNNN.eml. While DIR/refuse exists it
answers every message with a temporary failure (451). Stops on SIGTERM.
"""
import os
import signal
import socket
import sys
import threading

from aiosmtpd.controller import Controller


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


def main():
    directory = sys.argv[1]
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    controller = Controller(Sink(directory), hostname="127.0.0.1", port=port)
    controller.start()
    print(port, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
