"""A local HTTP endpoint that answers every POST as a test says, for the delivery tests."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Answering(http.server.BaseHTTPRequestHandler):
    """Reads each POST, notes its path in ``posts`` and sends what :meth:`answer` returns."""

    posts: list[str] = []

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        """``(status, headers, body)`` for the request just read."""
        raise NotImplementedError

    def do_POST(self) -> None:  # noqa: N802 — http.server's name
        self.rfile.read(int(self.headers.get("content-length", 0)))
        type(self).posts.append(self.path)
        status, headers, body = self.answer()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def serving(handler: type[Answering]) -> Iterator[str]:
    """Serve ``handler`` on 127.0.0.1 for the block; yields its base URL."""
    handler.posts = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
