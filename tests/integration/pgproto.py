# SPDX-License-Identifier: MIT
"""A minimal PostgreSQL v3 frontend on a raw socket, for tests that need to see or send exactly
the bytes of the protocol: row-limited Execute, Flush, malformed messages."""

import socket
import struct

PROTOCOL_3_0 = 196608
SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104


class ProtocolError(AssertionError):
    pass


def cstr(s):
    return s.encode() + b"\0"


def error_fields(body):
    """An ErrorResponse/NoticeResponse body as {code letter: text}."""
    fields = {}
    for part in body.split(b"\0"):
        if part:
            fields[chr(part[0])] = part[1:].decode()
    return fields


class Raw:
    """One connection: host and port for TCP, or path for a Unix socket."""

    def __init__(self, host="127.0.0.1", port=None, path=None, timeout=15):
        if path:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(path)
        else:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    # -- sending

    def send_raw(self, data):
        self.sock.sendall(data)

    def send_startup(self, params, version=PROTOCOL_3_0):
        body = struct.pack("!I", version)
        for key, value in params.items():
            body += cstr(key) + cstr(value)
        body += b"\0"
        self.send_raw(struct.pack("!I", len(body) + 4) + body)

    def send_request(self, code):
        self.send_raw(struct.pack("!II", 8, code))

    @staticmethod
    def msg(kind, body=b""):
        return kind.encode() + struct.pack("!I", len(body) + 4) + body

    def send(self, kind, body=b""):
        self.send_raw(self.msg(kind, body))

    # -- receiving

    def _fill(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed after %d bytes of %d" % (len(self.buf), n))
            self.buf += chunk

    def recv_byte(self):
        self._fill(1)
        b, self.buf = self.buf[:1], self.buf[1:]
        return b

    def recv(self):
        """The next message as (type letter, body)."""
        self._fill(5)
        kind = chr(self.buf[0])
        (length,) = struct.unpack("!I", self.buf[1:5])
        self._fill(1 + length)
        body = self.buf[5:1 + length]
        self.buf = self.buf[1 + length:]
        return kind, body

    def recv_until(self, kind="Z", count=1):
        """Messages up to and including the count-th one of type kind."""
        out = []
        seen = 0
        while seen < count:
            m = self.recv()
            out.append(m)
            if m[0] == kind:
                seen += 1
        return out

    def at_eof(self):
        """True when the peer closed the connection (after any bytes still buffered)."""
        try:
            self._fill(len(self.buf) + 1)
        except (EOFError, ConnectionResetError):
            return True
        return False

    # -- login

    def login(self, user, database, password=None, params=None):
        """Startup and authentication (cleartext password or trust). Returns the messages
        from AuthenticationOk to ReadyForQuery."""
        p = {"user": user, "database": database}
        p.update(params or {})
        self.send_startup(p)
        while True:
            kind, body = self.recv()
            if kind == "E":
                raise ProtocolError("login failed: %r" % error_fields(body))
            if kind == "R":
                (code,) = struct.unpack("!I", body[:4])
                if code == 0:
                    break
                if code == 3:
                    if password is None:
                        raise ProtocolError("asked for a password but none given")
                    self.send("p", cstr(password))
                    continue
                raise ProtocolError("unsupported authentication request %d" % code)
        return [("R", b"\0\0\0\0")] + self.recv_until("Z")


# -- frontend message bodies


def parse(name, query, types=()):
    return Raw.msg("P", cstr(name) + cstr(query) + struct.pack("!H", len(types)) +
                   b"".join(struct.pack("!I", t) for t in types))


def bind(portal, stmt, params=(), formats=(), result_formats=()):
    body = cstr(portal) + cstr(stmt)
    body += struct.pack("!H", len(formats)) + b"".join(struct.pack("!h", f) for f in formats)
    body += struct.pack("!H", len(params))
    for p in params:
        if p is None:
            body += struct.pack("!i", -1)
        else:
            body += struct.pack("!i", len(p)) + p
    body += struct.pack("!H", len(result_formats))
    body += b"".join(struct.pack("!h", f) for f in result_formats)
    return Raw.msg("B", body)


def describe(kind, name):
    return Raw.msg("D", kind.encode() + cstr(name))


def execute(portal, max_rows=0):
    return Raw.msg("E", cstr(portal) + struct.pack("!i", max_rows))


def close(kind, name):
    return Raw.msg("C", kind.encode() + cstr(name))


def query(sql):
    return Raw.msg("Q", cstr(sql))


SYNC = Raw.msg("S")
FLUSH = Raw.msg("H")
TERMINATE = Raw.msg("X")
COPY_DONE = Raw.msg("c")


def copy_data(data):
    return Raw.msg("d", data)
