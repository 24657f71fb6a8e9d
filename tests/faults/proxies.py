"""Small loopback proxies that inject network faults between wikibridge and a real server.

- :class:`CuttingProxy` forwards TCP both ways and cuts both connections in the middle of the
  server's answer: after the n-th time a marker passed (e.g. an IMAP FETCH literal), once a
  given number of further bytes went through.
- :class:`HttpFaultProxy` forwards HTTP requests to a server (the test wiki) and, for requests
  a rule matches, answers 5xx or maxlag itself, or forwards the request and then drops the
  connection instead of answering (an edit saved whose answer is lost).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def _close(*socks: socket.socket) -> None:
    for s in socks:
        with contextlib.suppress(OSError):
            s.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            s.close()


class CuttingProxy:
    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self.marker = b""
        self.occurrence = 1  # cut at the n-th marker seen (over all connections)
        self.extra = 0  # bytes let through after the marker
        self.cuts = 0
        self._seen = 0
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def cut_after(self, marker: bytes, occurrence: int = 1, extra: int = 0) -> None:
        with self._lock:
            self.marker, self.occurrence, self.extra, self._seen = marker, occurrence, extra, 0

    def close(self) -> None:
        _close(self._listener)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            threading.Thread(target=self._pump, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, True), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, from_server: bool) -> None:
        tail = b""
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if from_server and self.marker:
                    cut_at = self._cut_position(tail, data)
                    tail = (tail + data)[-len(self.marker) :]
                    if cut_at is not None:
                        dst.sendall(data[:cut_at])
                        self.cuts += 1
                        break
                dst.sendall(data)
        except OSError:
            pass
        _close(src, dst)

    def _cut_position(self, tail: bytes, data: bytes) -> int | None:
        with self._lock:
            window = tail + data
            start = 0
            while (i := window.find(self.marker, start)) >= 0:
                self._seen += 1
                if self._seen == self.occurrence:
                    end = i + len(self.marker) - len(tail)
                    self.marker = b""  # once
                    return max(0, min(len(data), end + self.extra))
                start = i + 1
        return None


@dataclass
class Fault:
    mode: str  # "503", "500", "maxlag", "drop" (forward, then no answer), "refuse" (no answer)
    match: Callable[[str, str, bytes], bool]  # method, path, body
    times: int = 1


@dataclass
class Seen:
    method: str
    path: str
    body: bytes
    fault: str = ""


@dataclass
class _State:
    target: tuple[str, int]
    faults: list[Fault] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fault_for(self, method: str, path: str, body: bytes) -> str:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.match(method, path, body):
                    fault.times -= 1
                    self.seen.append(Seen(method, path, body, fault.mode))
                    return fault.mode
            self.seen.append(Seen(method, path, body))
        return ""


_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self._handle()

    def do_POST(self) -> None:  # noqa: N802
        self._handle()

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        mode = self.server.state.fault_for(self.command, self.path, body)
        if mode == "refuse":
            self.close_connection = True
            _close(self.connection)
            return
        if mode in ("500", "502", "503"):
            self._answer(int(mode), {"Content-Type": "text/html"}, b"<h1>Service Unavailable</h1>")
            return
        if mode == "maxlag":
            info = {"error": {"code": "maxlag", "info": "Waiting for db2: 7 seconds lagged"}}
            headers = {
                "Content-Type": "application/json",
                "X-Database-Lag": "7",
                "Retry-After": "1",
            }
            self._answer(200, headers, json.dumps(info).encode())
            return
        status, headers, data = self._forward(body)
        if mode == "drop":  # the server did it; its answer never arrives
            self.close_connection = True
            _close(self.connection)
            return
        self._answer(status, headers, data)

    def _forward(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(*self.server.state.target, timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
        headers["Host"] = f"{self.server.state.target[0]}:{self.server.state.target[1]}"
        headers["Accept-Encoding"] = "identity"
        conn.request(self.command, self.path, body=body or None, headers=headers)
        response = conn.getresponse()
        data = response.read()
        out: dict[str, str] = {}
        for k, v in response.getheaders():
            if k.lower() == "set-cookie":
                out.setdefault("__cookies", "")
                out["__cookies"] += v + "\0"
            elif k.lower() not in _HOP:
                out[k] = v
        conn.close()
        return response.status, out, data

    def _answer(self, status: int, headers: dict[str, str], data: bytes) -> None:
        self.send_response(status)
        for k, v in headers.items():
            if k == "__cookies":
                for cookie in filter(None, v.split("\0")):
                    self.send_header("Set-Cookie", cookie)
            else:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: _State


class HttpFaultProxy:
    def __init__(self, target: tuple[str, int], port: int = 0) -> None:
        self.state = _State(target)
        self.port = port
        self._server: _Server | None = None
        self.start()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api.php"

    def start(self) -> None:
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.state = self.state
        self.port = int(server.server_address[1])
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def inject(self, mode: str, match: Callable[[str, str, bytes], bool], times: int = 1) -> None:
        with self.state.lock:
            self.state.faults.append(Fault(mode, match, times))

    def injected(self, mode: str) -> int:
        return sum(1 for s in self.state.seen if s.fault == mode)


def api_action(action: str) -> Callable[[str, str, bytes], bool]:
    """Matches API requests of this action (POST form bodies and GET query strings)."""
    needle = f"action={action}".encode()

    def match(method: str, path: str, body: bytes) -> bool:
        return needle in body or needle in path.encode()

    return match


def any_request(method: str, path: str, body: bytes) -> bool:
    return True
