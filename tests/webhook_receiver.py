"""A webhook receiver on 127.0.0.1 for tests: answers from a script of status codes, records every request."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class Receiver:
    """``failures`` requests are answered 500 (then 200), or every one with ``always`` if set.

    ``stall="hang"`` holds every request unanswered, ``stall="trickle"`` answers one byte of the status
    line every 50 ms, both until :meth:`close`; ``arrived`` counts the requests that came in either way.
    """

    failures: int = 0
    always: int | None = None
    stall: str | None = None
    requests: list[Received] = field(default_factory=list)
    arrived: int = 0
    condition: threading.Condition = field(default_factory=threading.Condition)
    released: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.condition:
                    receiver.arrived += 1
                    receiver.condition.notify_all()
                if receiver.stall == "hang":
                    receiver.released.wait()
                    return
                if receiver.stall == "trickle":
                    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"y" * 100_000:
                        if receiver.released.wait(0.05):
                            return
                        try:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                        except OSError:  # the sender gave up: what the test wants
                            return
                    return
                with receiver.condition:
                    if receiver.always is not None:
                        status = receiver.always
                    elif receiver.failures > 0:
                        receiver.failures -= 1
                        status = 500
                    else:
                        status = 200
                    receiver.requests.append(Received(dict(self.headers), body, status))
                    receiver.condition.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def delivered(self) -> list[Received]:
        with self.condition:
            return [r for r in self.requests if r.status == 200]

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()
