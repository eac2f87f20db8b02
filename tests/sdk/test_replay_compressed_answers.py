"""The spool's replay reads an answer the endpoint compressed (``Content-Encoding: gzip``/``deflate``).

``urllib`` hands the body over as it came; a gzip-compressed ``partial_success``
read as JSON said nothing, so the items the endpoint rejected were lost without
a word, and a compressed error answer lost the endpoint's reason.
"""

from __future__ import annotations

import gzip
import http.server
import json
import threading
import zlib
from collections.abc import Iterator

import pytest

from otel_llm.exporters._replay_http import Outcome, post

MESSAGE = "3 spans are too old"
_ENCODERS = {"gzip": gzip.compress, "deflate": zlib.compress}


class _Compressed(http.server.BaseHTTPRequestHandler):
    status = 200
    encoding = "gzip"

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("content-length", 0)))
        answer = ({"partialSuccess": {"rejectedSpans": "3", "errorMessage": MESSAGE}} if self.status == 200
                  else {"code": 3, "message": MESSAGE})
        body = _ENCODERS[self.encoding](json.dumps(answer).encode())
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Encoding", self.encoding)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[http.server.ThreadingHTTPServer]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Compressed)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compressed_partial_success_is_read(server: http.server.ThreadingHTTPServer, encoding: str) -> None:
    _Compressed.status, _Compressed.encoding = 200, encoding
    reply = post(f"http://127.0.0.1:{server.server_address[1]}/v1/traces", {"Content-Type": "application/json"},
                 b'{"resourceSpans":[]}')
    assert reply.outcome is Outcome.DELIVERED
    assert reply.rejected is not None and (reply.rejected.count, reply.rejected.message) == (3, MESSAGE)


def test_a_compressed_refusal_gives_the_endpoints_reason(server: http.server.ThreadingHTTPServer) -> None:
    _Compressed.status, _Compressed.encoding = 400, "gzip"
    reply = post(f"http://127.0.0.1:{server.server_address[1]}/v1/traces", {"Content-Type": "application/json"},
                 b'{"resourceSpans":[]}')
    assert reply.outcome is Outcome.REFUSED and MESSAGE in reply.why, reply
