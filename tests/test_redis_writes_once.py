"""A write to Redis is sent once: when its reply is lost (the connection drops or times out), the command ends with a
one-line error instead of being sent again, which could store a posting twice (an APPEND executed twice).

A small fake server stands in for Redis: it answers the client's greeting and INFO, and drops the connection on
APPEND without replying, counting how often the command arrived."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from detector.errors import DatabaseError
from detector.store.redis_link import Link, parse_target

pytest.importorskip("redis")


def _bulk(text: str) -> bytes:
    data = text.encode()
    return b"$%d\r\n%s\r\n" % (len(data), data)


def _commands(buffer: bytes):
    """(command name, rest of the buffer) of each complete RESP array in the buffer."""
    while buffer.startswith(b"*"):
        head, _, rest = buffer.partition(b"\r\n")
        parts = []
        for _ in range(int(head[1:])):
            size, _, rest = rest.partition(b"\r\n")
            length = int(size[1:])
            if len(rest) < length + 2:
                return
            parts.append(rest[:length])
            rest = rest[length + 2 :]
        yield parts[0].upper().decode(), rest
        buffer = rest


class FakeRedis:
    """Answers HELLO (RESP3), CLIENT, INFO and PING; closes the connection on APPEND, without a reply."""

    def __init__(self):
        self.appends = 0
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen()
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        buffer = b""
        with conn:
            while data := conn.recv(65536):
                buffer += data
                for name, rest in list(_commands(buffer)):
                    buffer = rest
                    if name == "APPEND":
                        self.appends += 1
                        return  # the reply is lost
                    if name == "HELLO":
                        conn.sendall(b"%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n")
                    elif name == "INFO":
                        conn.sendall(_bulk("# Cluster\r\ncluster_enabled:0\r\n"))
                    elif name == "PING":
                        conn.sendall(b"+PONG\r\n")
                    else:
                        conn.sendall(b"+OK\r\n")

    def close(self):
        self.server.close()


def test_a_write_whose_reply_is_lost_is_not_sent_again():
    server = FakeRedis()
    try:
        link = Link(parse_target(f"redis://127.0.0.1:{server.port}/archive"))
        started = time.monotonic()
        with pytest.raises(DatabaseError, match="writing stopped"):
            link.write(link.client.append, "k", "v")
        time.sleep(0.2)
        assert server.appends == 1
        assert time.monotonic() - started < 3  # no retries with backoff before the error
    finally:
        server.close()
