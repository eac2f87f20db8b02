"""A replay POST whose answer breaks off (a collector restarted mid-answer, the gRPC port by mistake).

``http.client`` raises ``HTTPException`` subclasses -- not ``OSError`` -- for a
status line that is not HTTP/1.x (``OTEL_LLM_SPOOL_REPLAY_ENDPOINT`` pointing at
the gRPC port), a body cut short (``IncompleteRead``) and a URL it cannot use.
They escaped ``post()``: each attempt became an "otel-llm internal error"
traceback in the application's log instead of a failed attempt.
"""

from __future__ import annotations

import socket
import threading

import pytest

from otel_llm.exporters._replay_http import Outcome, post

ANSWERS = {
    "not HTTP/1.x": b"\x00\x00\x12\x04\x00\x00\x00\x00\x00",
    "accepted, body cut short": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    "refused, body cut short": b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                               b"Content-Length: 100\r\n\r\n{",
}


def answering(raw: bytes) -> int:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def serve() -> None:
        while True:
            conn, _ = server.accept()
            conn.recv(65536)
            conn.sendall(raw)
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return server.getsockname()[1]


@pytest.mark.parametrize(("answer", "outcome"), [
    ("not HTTP/1.x", Outcome.FAILED),
    ("accepted, body cut short", Outcome.DELIVERED),  # the status said it was taken
    ("refused, body cut short", Outcome.BUSY),
])
def test_a_broken_answer_is_an_outcome_not_an_exception(answer: str, outcome: Outcome) -> None:
    port = answering(ANSWERS[answer])
    assert post(f"http://127.0.0.1:{port}/v1/traces", {}, b"{}").outcome is outcome


def test_an_unusable_url_is_a_failed_attempt() -> None:
    reply = post("http://not a host:4318/v1/traces", {}, b"{}")
    assert reply.outcome is Outcome.FAILED and "not a host" in reply.why
