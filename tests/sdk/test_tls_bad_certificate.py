"""An endpoint whose TLS certificate is not trusted is named as such, not called unreachable.

A collector behind a private CA (or a self-signed certificate) answers the TCP
connection and fails the handshake. The spool kept the spans, but said
"collector unreachable at https://...", sending the operator to look for a
collector that runs; nothing said the certificate was the cause, nor which
setting trusts it. Now the notice names the TLS failure in the handshake's
own words and ``OTEL_EXPORTER_OTLP_CERTIFICATE``, for direct exports (HTTP
and gRPC) and for replay, and the spans still wait in the spool.

Real processes: an HTTPS endpoint on 127.0.0.1 with a self-signed certificate
(``openssl``), the app trusting only the system's CAs.
"""

from __future__ import annotations

import ssl
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from otel_llm.exporters._replay_http import Outcome, post
from otel_llm.exporters._spool_segments import segment_files

from ._http_answers import Answering, serving
from ._spooled import run_app


class _Taking(Answering):
    def answer(self) -> tuple[int, dict[str, str], bytes]:
        return 200, {}, b""


@pytest.fixture
def untrusted(tmp_path: Path) -> Iterator[str]:
    """An HTTPS endpoint (HTTP/1.1) whose certificate is its own CA; yields its base URL."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    with serving(_Taking, tls=context) as url:
        yield url


APP = textwrap.dedent("""
    import sys, otel_llm
    from opentelemetry import trace
    endpoint, spool, protocol = sys.argv[1:4]
    otel_llm.configure(exporter="otlp", endpoint=endpoint, protocol=protocol, spool_dir=spool,
                       service_name="tls", logs=False, shutdown_timeout_s=3)
    for i in range(3):
        with trace.get_tracer("app").start_as_current_span(f"span {i}"):
            pass
    otel_llm.flush(3)
    otel_llm.shutdown()
""")


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_an_untrusted_certificate_is_named_and_the_spans_wait(tmp_path: Path, untrusted: str, protocol: str) -> None:
    spool = tmp_path / "spool"
    # A gRPC exporter's replay goes to the same endpoint.
    done = run_app(APP, untrusted, str(spool), protocol, OTEL_EXPORTER_OTLP_TIMEOUT="2",
                   OTEL_LLM_SPOOL_REPLAY_ENDPOINT=untrusted)
    assert "unreachable" not in done.stderr, done.stderr
    assert "TLS" in done.stderr and "OTEL_EXPORTER_OTLP_CERTIFICATE" in done.stderr, done.stderr
    assert "certificate" in done.stderr.replace("OTEL_EXPORTER_OTLP_CERTIFICATE", ""), done.stderr
    assert "3 spans spooled" in done.stderr, done.stderr
    assert segment_files(spool / "traces"), done.stderr
    assert not _Taking.posts


def test_replay_names_an_untrusted_certificate(untrusted: str) -> None:
    reply = post(f"{untrusted}/v1/traces", {"Content-Type": "application/json"}, b"{}")
    assert reply.outcome is Outcome.FAILED
    assert reply.answer is not None and "certificate" in str(reply.answer), reply
