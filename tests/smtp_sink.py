#!/usr/bin/python3
"""A real SMTP server on loopback for the delivery tests (Debian's aiosmtpd).

Usage: smtp_sink.py DIR [CERT KEY USER PASSWORD]. Prints the port on stdout
once it listens, then stores each accepted message as DIR/NNNN.eml. While
DIR/refuse exists it answers every message with a temporary failure (451).
With CERT, KEY, USER and PASSWORD it is a provider's relay: STARTTLS is
required before anything else, and so is AUTH (PLAIN or LOGIN) as USER with
PASSWORD. Stops on SIGTERM.
"""
import asyncio
import os
import signal
import socket
import ssl
import sys
import threading

from aiosmtpd.smtp import SMTP, AuthResult


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


def relay(handler, cert, key, user, password):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (getattr(auth_data, "login", b"") == user.encode()
              and getattr(auth_data, "password", b"") == password.encode())
        return AuthResult(success=ok, handled=False)

    return lambda: SMTP(handler, tls_context=context, require_starttls=True, authenticator=authenticator,
                        auth_required=True, auth_require_tls=True)


async def serve(directory, relay_args):
    # Our own listening socket, bound to port 0 and kept open: no other
    # process can take the port between choosing and listening.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    loop = asyncio.get_running_loop()
    handler = Sink(directory)
    factory = relay(handler, *relay_args) if relay_args else (lambda: SMTP(handler))
    server = await loop.create_server(factory, sock=sock)
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
    asyncio.run(serve(sys.argv[1], sys.argv[2:6] if len(sys.argv) >= 6 else None))


if __name__ == "__main__":
    main()
