"""Is a listen address free, and who holds it when it is not.

``otel-llm collector start`` on a port another process holds would launch the
collector, which logs a dozen lines and exits with "bind: address already in
use" buried among them. Trying the bind first (as the collector will: Go sets
``SO_REUSEADDR`` on listeners) turns that into one line naming the port, its
holder when this machine says so cheaply (Linux ``/proc``: the listening
socket's inode, then the process holding it), and the option that moves it.
The collector's own log is read for the same message when the port was taken
between the check and its start (:func:`in_use_in_log`).
"""

from __future__ import annotations

import errno
import os
import re
import socket
from pathlib import Path

#: Each listen address of the collector: what it is, and the ``collector start`` option that sets it.
ROLES = {"grpc": ("OTLP gRPC", "--grpc-endpoint"), "http": ("OTLP HTTP", "--http-endpoint"),
         "health": ("health check", "--health-endpoint")}
_LOG_IN_USE = re.compile(r"listen tcp (\S+): bind: address already in use")


def split(endpoint: str) -> tuple[str, int] | None:
    """``host:port`` (``[::1]:4317``, ``:4317``) as ``(host, port)``; None when there is no numeric port."""
    host, sep, port = endpoint.rpartition(":")
    if not sep or not port.isdigit():
        return None
    return host.strip("[]"), int(port)


def in_use(endpoint: str) -> bool:
    """True when binding ``endpoint`` fails because the address is taken."""
    parts = split(endpoint)
    if parts is None:
        return False
    host, port = parts
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except (OSError, UnicodeError):  # a name that does not resolve: the collector says so itself
        return False
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


def holder(port: int) -> str | None:
    """``pid 123 (python3)``: the process listening on TCP ``port``, when ``/proc`` shows it; else None."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    if not inodes:
        return None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) in inodes for fd in (proc / "fd").iterdir()):
                name = (proc / "comm").read_text().strip()
                return f"pid {proc.name} ({name})"
        except OSError:  # another user's process, or one that just ended
            continue
    return None


def in_use_message(role: str, endpoint: str, *, own_config: bool = False) -> str:
    """One line: which address of the collector is taken, by whom if known, and how to choose another."""
    what, option = ROLES[role]
    parts = split(endpoint)
    port = parts[1] if parts else endpoint
    by = holder(parts[1]) if parts else None
    host = parts[0] if parts and parts[0] else "localhost"
    move = ("change its endpoint in your --config" if own_config
            else f"choose another port with {option} {host}:PORT")
    return (f"port {port} ({what}, {endpoint}) is already in use{f' by {by}' if by else ''}: "
            f"stop that process, or {move}")


def problem(listens: dict[str, str | None], *, own_config: bool = False) -> str | None:
    """Why the collector could not listen on ``listens`` (role -> ``host:port``), in one line, or None.

    Two roles on one port, or a port another process holds, are found before anything starts.
    """
    seen: dict[int, str] = {}
    for role, endpoint in listens.items():
        parts = split(endpoint) if endpoint else None
        if endpoint is None or parts is None:
            continue
        if parts[1] in seen:
            first = seen[parts[1]]
            return (f"{ROLES[first][0]} and {ROLES[role][0]} both listen on port {parts[1]}: give each its own "
                    f"({ROLES[first][1]}, {ROLES[role][1]})")
        seen[parts[1]] = role
        if in_use(endpoint):
            return in_use_message(role, endpoint, own_config=own_config)
    return None


def in_use_in_log(log: str, listens: dict[str, str | None], *, own_config: bool = False) -> str | None:
    """:func:`in_use_message` for the address a collector's log says it could not bind, else None."""
    found = _LOG_IN_USE.search(log)
    if found is None:
        return None
    port = split(found.group(1))
    for role, endpoint in listens.items():
        parts = split(endpoint) if endpoint else None
        if endpoint and parts and port and parts[1] == port[1]:
            return in_use_message(role, endpoint, own_config=own_config)
    return f"port {found.group(1)} is already in use: stop that process, or choose other endpoints"
