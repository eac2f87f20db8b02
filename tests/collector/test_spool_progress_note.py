"""A replay progress note that cannot be read (emptied by a crash before it reached the disk).

Replay notes in ``<segment>.offset`` how far a segment was delivered. A note a
crash left empty (or garbage) read as "nothing delivered": the segment was
replayed from its start and the lines delivered before went to the collector a
second time, without a word. It is still replayed from its start (the lines
after the note must not be lost), and the notice says which note and that
those lines arrive twice.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from otel_llm.exporters._spool_segments import OFFSET, segment_files

from ._replay import leave_behind, replay_spool
from .test_spool import record
from .test_unreadable_spool_line import AnswersWhatIsNotJson as Takes  # takes OTLP-JSON, notes each


def test_an_unreadable_progress_note_is_said_before_its_lines_are_sent_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spool = tmp_path / "spool"
    leave_behind(spool, [record(0, size=100), record(1, size=100)])
    (segment,) = segment_files(spool / "traces")
    note = segment.with_name(segment.name + OFFSET)
    note.write_text("")  # the first line was delivered; the crash lost what the note said
    Takes.taken = []
    replay_spool(spool, Takes, monkeypatch)
    assert Takes.taken == [0], "both lines, in one merged request: nothing after the note is lost"
    assert segment_files(spool) == []
    said = [line for line in capsys.readouterr().err.splitlines() if str(note) in line]
    assert said and "twice" in said[0], said
