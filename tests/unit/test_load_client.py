"""The load scenario's HTTP client resends a request its kept-alive connection dropped unanswered.

The server here does what gunicorn does when its keep-alive time runs out just as the client sends: it reads the
request on the idle connection and closes it without an answer. A plain ``requests.Session`` reports
``RemoteDisconnected`` (the scenario's failure of 2026-12-04, on ``GET school analysis``); the scenario's client
sends the request again on a new connection.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
import requests

from tests.http_support import resend_on_dropped_connection

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


def _read_request(connection: socket.socket) -> bytes:
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = connection.recv(4096)
        if not chunk:
            break
        received += chunk
    return received


class ClosingServer:
    """Answers the first request of its first connection and keeps it open, then closes that connection on the
    next request without answering; every later connection gets its answer."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.requests: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}/"

    def _serve(self) -> None:
        first, _ = self.listener.accept()
        self.requests.append(_read_request(first))
        first.sendall(ANSWER)
        self.requests.append(_read_request(first))
        first.close()
        while True:
            try:
                later, _ = self.listener.accept()
            except OSError:
                return
            with later:
                self.requests.append(_read_request(later))
                later.sendall(ANSWER)

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def server() -> Iterator[ClosingServer]:
    running = ClosingServer()
    yield running
    running.close()


def test_a_plain_session_fails_when_the_kept_alive_connection_is_closed_unanswered(server: ClosingServer) -> None:
    with requests.Session() as client:
        assert client.get(server.url, timeout=5).text == "ok"
        with pytest.raises(requests.ConnectionError, match="RemoteDisconnected"):
            client.get(server.url, timeout=5)


def test_the_scenarios_client_sends_the_request_again_on_a_new_connection(server: ClosingServer) -> None:
    with resend_on_dropped_connection(requests.Session()) as client:
        assert client.get(server.url, timeout=5).text == "ok"
        assert client.get(server.url, timeout=5).text == "ok"
        assert client.post(server.url, json={}, headers={"Idempotency-Key": "k"}, timeout=5).text == "ok"
    assert [request.split(b" ", 1)[0] for request in server.requests] == [b"GET", b"GET", b"GET", b"POST"]
