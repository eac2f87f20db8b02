"""A ClickHouse HTTP interface over chdb, for tests: the collector's exporter writes into it.

No ClickHouse server can be installed here, but chdb is the ClickHouse engine in
process. This serves the small part of ClickHouse's HTTP protocol that the
clickhouse-go driver (inside the collector's ClickHouse exporter) uses, and runs
every statement in one chdb session:

* the driver's hello (``SELECT displayName(), version(), revision(), timezone()``),
  answered with chdb's own version and protocol revision 0, so later results are
  plain ``Native`` blocks exactly as chdb writes them;
* DDL and queries (the SQL in the request body) -> chdb, the result in the request's
  ``default_format`` (TabSeparated when absent, as a server does; the driver asks Native);
* inserts (``query=INSERT … FORMAT Native`` in the URL, Native blocks as the body,
  chunked; or, as clickhouse-connect sends them, the statement and a newline before
  the blocks in the body) -> the blocks are inserted through chdb's ``file(…, 'Native')``;
* the request's ``database`` parameter is the statement's current database.

A statement chdb rejects answers HTTP 500 with ClickHouse's message, as a server
would. ``down()``/``up()`` simulate an outage (the port refuses connections).
Test support only: it binds 127.0.0.1 and trusts its client.
"""

from __future__ import annotations

import re
import shutil
import socket
import struct
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import chdb.session

_HELLO = "SELECT displayName(), version(), revision(), timezone()"
_INSERT = re.compile(r"^\s*INSERT\s+INTO\s+(?P<table>\S+)\s*(?P<columns>\(.*?\))?\s*(?:FORMAT\s+Native|VALUES)?\s*$",
                     re.S | re.I)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _string(text: str) -> bytes:
    raw = text.encode()
    return _varint(len(raw)) + raw


def hello_block(version: str, revision: int, timezone: str) -> bytes:
    """The hello answer as a Native block of protocol revision >= 54454 (what the driver reads it with):
    block info, then per column name, type, a "no custom serialization" byte and the data."""
    info = b"\x01\x00" + b"\x02" + struct.pack("<i", -1) + b"\x00"
    columns = [("displayName()", "String", _string("chdb")), ("version()", "String", _string(version)),
               ("revision()", "UInt32", struct.pack("<I", revision)), ("timezone()", "String", _string(timezone))]
    body = b"".join(_string(name) + _string(kind) + b"\x00" + data for name, kind, data in columns)
    return info + _varint(len(columns)) + _varint(1) + body


class ChdbHttpServer:
    """``with ChdbHttpServer() as server: server.url`` -> ``http://127.0.0.1:<port>``."""

    def __init__(self, session: chdb.session.Session | None = None) -> None:
        self.session = session or chdb.session.Session()
        self._own_session = session is None
        self._lock = threading.Lock()
        self._spool = Path(tempfile.mkdtemp(prefix="chdb-http-"))
        self._inserts = 0
        self.statements: list[str] = []  # every statement run, for assertions
        self._connections: set[socket.socket] = set()  # open keep-alive connections, cut by down()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self.up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def query(self, sql: str, fmt: str = "JSONEachRow") -> str:
        """Run SQL in the same engine (for the test's own reads)."""
        with self._lock:
            return self.session.query(sql, fmt).bytes().decode()

    def up(self) -> None:
        """Serve (again) on the same port: the end of an outage."""
        if self._httpd is not None:
            return
        handler = type("Handler", (_Handler,), {"backend": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def down(self) -> None:
        """Stop serving, as in a ClickHouse outage: new connections are refused and the
        driver's open keep-alive connections are cut (else they would go on being served)."""
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        self._httpd = None
        with self._lock:
            for connection in list(self._connections):
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # already closed by the client
            self._connections.clear()

    def close(self) -> None:
        """Stop serving, close the engine session it made and remove its spool of inserts."""
        self.down()
        if self._own_session:
            self.session.close()
        shutil.rmtree(self._spool, ignore_errors=True)

    def __enter__(self) -> ChdbHttpServer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def run(self, sql: str, data: bytes | None, default_format: str = "TabSeparated", database: str = "") -> bytes:
        """One request: an insert with Native data, the hello, or a statement -> its result.
        ``database`` (the request's ``database`` parameter, as clickhouse-connect sends it) is the
        current database of the statement, as on a server."""
        with self._lock:
            self.session.query(f"USE `{database or 'default'}`")
            if sql.strip() == _HELLO:
                version = self.session.query("SELECT version()", "TSVRaw").bytes().decode().strip()
                return hello_block(version, 0, "UTC")
            if data:
                match = _INSERT.match(sql)
                if not match:
                    raise ValueError(f"unsupported insert: {sql[:200]}")
                self._inserts += 1
                path = self._spool / f"insert-{self._inserts}.native"
                path.write_bytes(data)
                statement = (f"INSERT INTO {match['table']} {match['columns'] or ''} "
                             f"SELECT * FROM file('{path}', 'Native')")
                self.statements.append(statement)
                self.session.query(statement)
                path.unlink()
                return b""
            self.statements.append(sql)
            return self.session.query(sql, default_format).bytes()


class _Handler(BaseHTTPRequestHandler):
    backend: ChdbHttpServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet: the test reads statements instead
        pass

    def setup(self) -> None:
        super().setup()
        with self.backend._lock:
            self.backend._connections.add(self.connection)

    def finish(self) -> None:
        with self.backend._lock:
            self.backend._connections.discard(self.connection)
        super().finish()

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        params = parse_qs(urlsplit(self.path).query)
        body = self._body()
        if "query" in params:
            sql, data = params["query"][0], body
        elif body[:6].upper() == b"INSERT" and b"\n" in body:
            # clickhouse-connect: the statement, a newline, then the Native data, all in the body
            statement, data = body.split(b"\n", 1)
            sql = statement.decode()
        else:
            sql, data = body.decode(), None
        default_format = params.get("default_format", ["TabSeparated"])[0]
        database = params.get("database", [""])[0]
        try:
            payload, status = self.backend.run(sql, data, default_format, database), 200
        except Exception as exc:  # noqa: BLE001 — a server answers any failure with its message
            payload, status = str(exc).encode(), 500
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(payload)))
        if status != 200:
            self.send_header("X-ClickHouse-Exception-Code", "1")
        self.end_headers()
        self.wfile.write(payload)

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""
