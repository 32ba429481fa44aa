# SPDX-License-Identifier: MIT
"""A TCP relay in front of the upstream on 127.0.0.1: it delays every byte by a fixed time in
each direction (a far upstream, without netem), and can cut every connection and refuse new
ones (an upstream that went away) until it is restored."""

import collections
import socket
import threading
import time


class Relay:
    def __init__(self, target_port, delay=0.0, host="127.0.0.1"):
        self.target = (host, target_port)
        self.delay = delay
        self.down = False
        self.lock = threading.Lock()
        self.conns = set()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((host, 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.closed = False
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    # -- control

    def cut(self):
        """Closes every connection and refuses new ones (they are closed at once)."""
        with self.lock:
            self.down = True
            conns, self.conns = self.conns, set()
        for s in conns:
            _close(s)

    def restore(self):
        with self.lock:
            self.down = False

    def close(self):
        self.closed = True
        self.cut()
        _close(self.listener)

    # -- relaying

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                down = self.down
            if down:
                _close(client)
                continue
            try:
                server = socket.create_connection(self.target, timeout=10)
            except OSError:
                _close(client)
                continue
            for s in (client, server):
                s.settimeout(None)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.conns.update((client, server))
                self.accepted += 1
            for src, dst in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src, dst):
        if self.delay <= 0:
            while True:
                try:
                    data = src.recv(65536)
                    if not data:
                        break
                    dst.sendall(data)
                except OSError:
                    break
            self._end(src, dst)
            return
        # bytes leave delay seconds after they came, in order
        queue = collections.deque()
        cond = threading.Condition()

        def send():
            while True:
                with cond:
                    while not queue:
                        cond.wait()
                    due, data = queue.popleft()
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                if data is None:
                    break
                try:
                    dst.sendall(data)
                except OSError:
                    break
            self._end(src, dst)

        threading.Thread(target=send, daemon=True).start()
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            with cond:
                queue.append((time.monotonic() + self.delay, data or None))
                cond.notify()
            if not data:
                return

    def _end(self, src, dst):
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        with self.lock:
            # both directions done (or cut): the sockets go
            if src in self.conns and dst in self.conns:
                self.conns.discard(src)
                return
        _close(src)
        _close(dst)


def _close(s):
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass
