"""Free loopback ports for the processes the tests start (collectors, servers, endpoints nobody serves).

Why not just ``bind(("127.0.0.1", 0))`` each time: the kernel may hand the same
free port out again as soon as the probing socket closes, so a collector's
three ports picked one after another could come out equal (seen once: "OTLP
gRPC and health check both listen on port 59111"). :func:`free_port` never
returns a port twice in one test process; a port taken meanwhile by another
process still fails loudly, with the collector's own message naming it.
"""

from __future__ import annotations

import socket

_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A loopback TCP port free now and not returned before by this process."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


def closed_port() -> int:
    """A loopback port nothing listens on (a collector or ClickHouse that is down): a free port, never one
    this process hands a collector or server."""
    return free_port()
