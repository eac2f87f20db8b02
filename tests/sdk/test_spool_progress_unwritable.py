"""Replay on a disk that takes no more writes: each spooled span is delivered once, not once per attempt.

Replay records how far a segment was delivered in a small ``.offset`` file.
When that note cannot be written (the disk full, a file-size limit, a
read-only remount), the error escaped the replay attempt after the POST had
succeeded; the replayer retried the attempt and sent the same lines again, and
again at every retry until the process ended: the collector got each span
many times. A segment that could not be deleted either (a read-only
directory) failed every replay attempt after it as an internal error, with
a traceback on the app's stderr. Now the progress is
kept in memory for the rest of the process and written at exit if there is
room again; if not, the exit says which segment's lines the next process sends
again, and how many.

Real processes: one spools while nothing listens; the next one, whose files
may not grow past 2 bytes (``RLIMIT_FSIZE``, as on a full disk), replays to a
local HTTP endpoint that records every span it is sent.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from otel_llm.exporters._spool_segments import segment_files

from ._http_answers import Answering, Recording, _carried, recording, serving
from ._spooled import run_app, spool_while_down

SPANS = 40


@pytest.fixture
def endpoint() -> Iterator[str]:
    with recording() as url:
        yield url


REPLAY_APP = textwrap.dedent("""
    import errno, os, resource, signal, sys, time, otel_llm
    from opentelemetry import trace
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead of killing
    resource.setrlimit(resource.RLIMIT_FSIZE, (2, 2))
    endpoint, spool, read_only = sys.argv[1], sys.argv[2], sys.argv[3] == "read-only"
    unlink = os.unlink

    def read_only_unlink(path, *args, **kwargs):  # a directory remounted read-only: nothing goes
        if read_only and str(path).startswith(spool):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return unlink(path, *args, **kwargs)

    os.unlink = read_only_unlink
    otel_llm.configure(exporter="otlp", endpoint=endpoint, spool_dir=spool, service_name="replaying", logs=False,
                       shutdown_timeout_s=3)
    time.sleep(6)  # the replayer's attempts, with their backoff
    with trace.get_tracer("app").start_as_current_span("after"):  # the backlog delivered: sent directly
        pass
    otel_llm.shutdown()
""")


@pytest.mark.parametrize("disk", ["full", "read-only"])
def test_replay_sends_each_span_once_when_its_progress_cannot_be_written(tmp_path: Path, endpoint: str,
                                                                          disk: str) -> None:
    spool = tmp_path / "spool"
    spooled = spool_while_down(spool, SPANS)
    assert segment_files(spool / "traces"), spooled

    replayed = run_app(REPLAY_APP, endpoint, str(spool), disk)
    assert "Traceback" not in replayed.stderr and "internal error" not in replayed.stderr, replayed.stderr
    sent = Counter(Recording.names)
    assert set(sent) == {f"span {i}" for i in range(SPANS)} | {"after"}, (sorted(sent), replayed.stderr)
    assert {name: n for name, n in sent.items() if n > 1} == {}, replayed.stderr


def test_a_delivered_segment_that_cannot_be_deleted_is_said_to_be_sent_again(tmp_path: Path, endpoint: str) -> None:
    """A directory that takes no change keeps the delivered segment: the next process starting with this
    spool sends it again -- every span twice, and nothing said so."""
    spool = tmp_path / "spool"
    spool_while_down(spool, SPANS)
    (segment,) = segment_files(spool / "traces")
    replayed = run_app(REPLAY_APP, endpoint, str(spool), "read-only")
    said = [line for line in replayed.stderr.splitlines() if segment.name in line]
    assert said and "twice" in said[0], replayed.stderr
    run_app(REPLAY_APP.replace("read_only = sys.argv[3]", "read_only = False and sys.argv[3]"), endpoint,
            str(spool), "writable")
    assert Counter(Recording.names)["span 0"] == 2, "what was said: the next process sent it again"


class TakesTwoLinesThenBusy(Answering):
    """Takes the first two single-line requests (10 spans or fewer), then answers 503 for ever; a merged request
    (more spans) is answered 413, so the replayer goes line by line and its progress is noted mid-segment."""

    taken: list[str] = []

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        return 200, {}, b"{}"

    def do_POST(self) -> None:  # noqa: N802 — http.server's name
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        type(self).posts.append(self.path)
        names = _carried(self.path, body, "json" in (self.headers.get("content-type") or ""))
        if len(names) > 10:
            status = 413
        elif not names or len(type(self).taken) < 20:
            status = 200
            type(self).taken += names
        else:
            status = 503
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


def test_progress_kept_only_in_memory_at_exit_is_said_with_the_lines_sent_again(tmp_path: Path) -> None:
    """The disk full, the endpoint busy mid-segment: the lines delivered so far were noted in memory only, and
    the next process sent them again without a word. The exit says which segment, and how many lines (and
    spans) the next process sends again -- exactly those it then sends twice."""
    spool = tmp_path / "spool"
    spool_while_down(spool, SPANS)
    (segment,) = segment_files(spool / "traces")
    TakesTwoLinesThenBusy.taken = []
    with serving(TakesTwoLinesThenBusy) as url:
        replayed = run_app(REPLAY_APP, url, str(spool), "full")
    assert len(TakesTwoLinesThenBusy.taken) == 20, (TakesTwoLinesThenBusy.taken, replayed.stderr)
    said = [line for line in replayed.stderr.splitlines() if segment.name in line and "again" in line]
    assert said and "20 spans" in said[0], replayed.stderr
    with recording() as url:
        run_app(REPLAY_APP, url, str(spool), "writable")
    twice = {name for name, n in Counter(Recording.names + TakesTwoLinesThenBusy.taken).items() if n > 1}
    assert len(twice) == 20, (sorted(twice), said)


def test_progress_kept_in_memory_is_written_at_exit_when_space_returned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The note could not be written while the disk was full; by the exit there is room again: the note is
    written then, and the next process resumes after the delivered lines (nothing said, nothing sent twice)."""
    from otel_llm.exporters import _spool_segments

    store = _spool_segments.SegmentStore(tmp_path / "traces", max_bytes=1 << 20, root=tmp_path)
    for i in range(3):
        store.append(b'{"line":%d}' % i, items=1)
    store.seal()
    (segment,) = store.pending()
    write = _spool_segments._write_offset

    def disk_full(path: Path, offset: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_spool_segments, "_write_offset", disk_full)
    (_, first_end), *_ = segment.lines()
    segment.mark_delivered(first_end)
    assert not segment.path.with_name(segment.path.name + ".offset").exists()
    monkeypatch.setattr(_spool_segments, "_write_offset", write)  # room again
    store.close()
    assert "again" not in capsys.readouterr().err
    _spool_segments._progress_in_memory.clear()  # the next process knows only what is on disk
    (resumed,) = _spool_segments.SegmentStore(tmp_path / "traces", max_bytes=1 << 20, root=tmp_path).pending()
    assert [line for line, _ in resumed.lines()] == [b'{"line":1}', b'{"line":2}']
