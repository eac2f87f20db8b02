"""Replay sends the headers the exporter of that signal sends, no others.

The OTLP exporters take ``OTEL_EXPORTER_OTLP_{SIGNAL}_HEADERS`` *instead of*
``OTEL_EXPORTER_OTLP_HEADERS`` when it is set (upstream's ``_resolve_headers``
and the gRPC exporters alike). Replay merged the two: with a generic
``Authorization`` meant for one backend and the traces' own headers for
another, the replayed traces carried the generic credential to an endpoint
the app's own exports never sent it to.
"""

from __future__ import annotations

import pytest

from otel_llm.exporters._replay_http import headers_for

GENERIC = {"authorization": "Bearer for-the-other-backend"}


@pytest.mark.parametrize(("traces_headers", "sent"), [
    ("x-tenant=t1", {"x-tenant": "t1"}),  # the signal's own variable, alone
    ("", GENERIC),  # set but empty: the generic one, as the exporters read it
])
def test_replay_sends_the_headers_the_exporter_sends(
    monkeypatch: pytest.MonkeyPatch, traces_headers: str, sent: dict[str, str]
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20for-the-other-backend")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", traces_headers)
    replayed = {k.lower(): v for k, v in headers_for("traces").items() if k.lower() != "content-type"}
    assert replayed == sent
