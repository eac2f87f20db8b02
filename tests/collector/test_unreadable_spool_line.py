"""A spooled line that is not OTLP-JSON (a damaged segment, a file put there by hand) is set aside *and said*.

The replayer moves it to the dead-letter file, as it should; but the notice
counted the line's items, and a line that is not JSON holds none, so nothing
was said: data moved out of the spool in silence. Such a line is not sent at
all (no endpoint can take it): it is set aside at once, naming the segment and
line it was read from.
"""

from __future__ import annotations

import http.server
from pathlib import Path

import pytest

from otel_llm.exporters._spool_segments import segment_files
from otel_llm.exporters.spool import dead_letter_path

from ._replay import replay_left_behind
from .test_spool import _number, record


class AnswersWhatIsNotJson(http.server.BaseHTTPRequestHandler):
    """Takes OTLP-JSON (noting every body in ``posts``, each request's first span number in ``taken``) and
    answers anything else ``refusal``: 400, as a collector; 502, as a gateway whose backend failed on it."""

    refusal = 400
    posts: list[bytes] = []
    taken: list[int] = []

    def do_POST(self) -> None:  # noqa: N802 — http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).posts.append(body)
        readable = body.startswith(b"{")
        if readable and body != b"{}":
            type(self).taken.append(_number(body))
        self.send_response(200 if readable else type(self).refusal)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_a_line_that_is_not_otlp_json_is_set_aside_and_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spool = tmp_path / "spool"
    AnswersWhatIsNotJson.refusal, AnswersWhatIsNotJson.posts = 400, []
    replay_left_behind(spool, b"damaged \x00 bytes, not JSON", AnswersWhatIsNotJson, monkeypatch)
    dead = dead_letter_path(spool, "traces")
    assert dead.read_bytes() == b"damaged \x00 bytes, not JSON\n"
    err = capsys.readouterr().err
    said = [line for line in err.splitlines() if str(dead) in line]
    assert said and "not OTLP-JSON" in said[0] and ".pending line 1" in said[0], err
    assert AnswersWhatIsNotJson.posts == [b"{}"], "the endpoint is not asked to take it"


DAMAGED = b"\x00" * 40 + b'"pad":"xxxx"}]}]}]}'  # a record whose start a crash zeroed


def test_a_damaged_line_mid_segment_is_set_aside_where_it_is_and_the_rest_delivered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The endpoint answered the damaged line "busy" (502), so it waited for ever, and every line behind it
    with it. A line that is not JSON is never sent: it is set aside at once, saying in which segment and
    where, and replay goes on."""
    spool = tmp_path / "spool"
    AnswersWhatIsNotJson.refusal, AnswersWhatIsNotJson.taken = 502, []
    replay_left_behind(spool, [record(0, size=100), DAMAGED, record(1, size=100)], AnswersWhatIsNotJson,
                       monkeypatch)
    assert sorted(AnswersWhatIsNotJson.taken) == [0, 1], AnswersWhatIsNotJson.taken
    assert segment_files(spool) == []
    dead = dead_letter_path(spool, "traces")
    assert dead.read_bytes() == DAMAGED + b"\n"
    err = capsys.readouterr().err
    said = [line for line in err.splitlines() if str(dead) in line]
    assert said and "not OTLP-JSON" in said[0], err
    assert ".pending line 2" in said[0], said[0]


def test_what_waits_at_exit_is_not_called_zero_spans_when_it_cannot_be_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Left in the spool with the collector down, a damaged line was announced as "0 spans spooled to ...":
    something waits, and it is not nothing."""
    from otel_llm.exporters._spool_segments import SegmentStore
    from otel_llm.exporters.spool import spooled

    from .conftest import free_port
    from .test_spool import FlakyInner

    spool = tmp_path / "spool"
    store = SegmentStore(spool / "traces", max_bytes=1 << 20, root=spool)
    store.append(b"damaged, not JSON")
    store.close()
    monkeypatch.setenv("OTEL_LLM_SPOOL_REPLAY_ENDPOINT", f"http://127.0.0.1:{free_port()}")  # nobody listens
    spooled(FlakyInner(), "traces", spool, 1 << 20).shutdown()
    said = [line for line in capsys.readouterr().err.splitlines() if "spooled to" in line]
    assert said and " 0 spans" not in said[0] and "18 bytes" in said[0], said


def test_every_line_that_is_not_json_is_counted_and_located_not_only_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only the first damaged line was said; the later ones went to the dead-letter file without a word. Each
    is counted, and the notice names where the first few were (a bounded list)."""
    spool = tmp_path / "spool"
    AnswersWhatIsNotJson.refusal, AnswersWhatIsNotJson.taken = 400, []
    lines = [record(0, size=100), DAMAGED, record(1, size=100), *[DAMAGED] * 6, record(2, size=100)]
    replay_left_behind(spool, lines, AnswersWhatIsNotJson, monkeypatch)
    assert sorted(AnswersWhatIsNotJson.taken) == [0, 1, 2], AnswersWhatIsNotJson.taken
    dead = dead_letter_path(spool, "traces")
    assert dead.read_bytes() == (DAMAGED + b"\n") * 7
    err = capsys.readouterr().err
    said = [line for line in err.splitlines() if str(dead) in line and "7 spooled lines" in line]
    assert said, err
    assert ".pending line 2" in said[0] and ".pending line 4" in said[0] and ".pending line 9" not in said[0], said
