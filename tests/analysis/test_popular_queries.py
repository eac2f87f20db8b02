"""``otel-llm queries``: the users' most frequent messages, from real apps' chat turns ingested by ``otel-llm ingest``.

One app captures content (with a redact hook), one does not: only the first
one's messages are counted, the second's are said to carry no text.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
from tests.support.app_store import cli as run, ingest, run_app

QUESTIONS = ["What is my balance?", "  what IS my   balance? ", "Reset my password", "What is my balance?",
             "reset my password", "Card 4111 is lost", "Opening hours?"]
APP = """
import json, sys
import otel_llm
capture = sys.argv[2] == "capture"
otel_llm.configure(service_name=sys.argv[1], capture_content=capture,
                   redact=lambda text: text.replace("4111", "****"))

@otel_llm.chat
def answer(question: str, thread_id: str) -> str:
    return "ok"

with otel_llm.session(user_id="u-" + sys.argv[1]):
    for i, question in enumerate(json.loads(sys.argv[3])):
        answer(question, thread_id=f"t{i % 3}")
otel_llm.shutdown()
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("queries")
    for service, capture in (("helpdesk", "capture"), ("private", "off")):
        out = run_app(root, APP, service, capture, json.dumps(QUESTIONS))
    return ingest(root, out)


def test_the_most_frequent_messages_folded_by_case_and_spaces(store: str) -> None:
    result = run("queries", "--db", store, "-f", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    folded = Counter(" ".join(q.replace("4111", "****").lower().split()) for q in QUESTIONS)
    assert [(" ".join(r["query"].lower().split()), r["turns"]) for r in rows] == sorted(
        folded.items(), key=lambda item: -item[1])[:2] + [(q, n) for q, n in folded.items() if n == 1][::-1]
    top = rows[0]
    assert top["query"] == "What is my balance?"  # the first spelling sent
    assert top["turns"] == 3 and top["share"] == pytest.approx(3 / len(QUESTIONS))
    threads = {f"t{i % 3}" for i, q in enumerate(QUESTIONS) if " ".join(q.lower().split()) == "what is my balance?"}
    assert top["users"] == 1 and top["conversations"] == len(threads) == 2
    assert "Card **** is lost" in [r["query"] for r in rows]  # as the app's redact hook left it
    assert all("4111" not in r["query"] for r in rows)


def test_messages_without_captured_text_are_counted_apart(store: str) -> None:
    table = run("queries", "--db", store, "--top", "1")
    assert table.exit_code == 0, table.output
    assert (f"{len(QUESTIONS)} of {2 * len(QUESTIONS)} user messages carry no text" in
            " ".join(table.output.split()))
    assert len(json.loads(run("queries", "--db", store, "--top", "1", "-f", "json").stdout)["rows"]) == 1
