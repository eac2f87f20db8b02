"""A real OTLP gRPC server in the test's own process, serving the servicers a test gives."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from typing import Any


@contextmanager
def otlp_grpc_server(*services: tuple[Any, Any], workers: int = 4) -> Iterator[str]:
    """Serve each ``(add_XServicer_to_server, servicer)`` pair on a free local port; yields its ``http://`` URL
    (what ``configure(endpoint=...)`` takes) and stops the server at once on exit."""
    import grpc

    server = grpc.server(futures.ThreadPoolExecutor(workers))
    for add, servicer in services:
        add(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop(0)
