"""The spool's replay reads an answer the endpoint compressed (``Content-Encoding: gzip``/``deflate``).

``urllib`` hands the body over as it came; a gzip-compressed ``partial_success``
read as JSON said nothing, so the items the endpoint rejected were lost without
a word, and a compressed error answer lost the endpoint's reason.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator

import pytest

from otel_llm.exporters._replay_http import Outcome, post

from ._http_answers import Answering, serving

MESSAGE = "3 spans are too old"
_ENCODERS = {"gzip": gzip.compress, "deflate": zlib.compress}


class _Compressed(Answering):
    status = 200
    encoding = "gzip"

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        answer = ({"partialSuccess": {"rejectedSpans": "3", "errorMessage": MESSAGE}} if self.status == 200
                  else {"code": 3, "message": MESSAGE})
        body = _ENCODERS[self.encoding](json.dumps(answer).encode())
        return self.status, {"Content-Type": "application/json", "Content-Encoding": self.encoding}, body


@pytest.fixture
def server() -> Iterator[str]:
    with serving(_Compressed) as url:
        yield url


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compressed_partial_success_is_read(server: str, encoding: str) -> None:
    _Compressed.status, _Compressed.encoding = 200, encoding
    reply = post(f"{server}/v1/traces", {"Content-Type": "application/json"},
                 b'{"resourceSpans":[]}')
    assert reply.outcome is Outcome.DELIVERED
    assert reply.rejected is not None and (reply.rejected.count, reply.rejected.message) == (3, MESSAGE)


def test_a_compressed_refusal_gives_the_endpoints_reason(server: str) -> None:
    _Compressed.status, _Compressed.encoding = 400, "gzip"
    reply = post(f"{server}/v1/traces", {"Content-Type": "application/json"},
                 b'{"resourceSpans":[]}')
    assert reply.outcome is Outcome.REFUSED and MESSAGE in reply.why, reply
