"""A Gemini model named by its resource name (``models/gemini-2.5-pro``) is priced as ``gemini-2.5-pro``.

google-genai's ``model_version`` and the REST API's ``modelVersion`` (and apps
passing ``model="models/..."``) carry the ``models/`` resource prefix. Read as a
``vendor/model`` id, such a name was priced by whatever genai-prices happened to
match (``gemini-1.5-flash``, not a user's own entry for it) or not at all
(``gemini-2.5-pro``). The span keeps the name as reported.
"""

from __future__ import annotations

from typing import Any

import pytest

import otel_llm
from otel_llm import semconv as sc
from otel_llm._usage import Usage
from otel_llm.pricing import PriceBook
from otel_llm.testing import Capture

USAGE = Usage(input_tokens=1000, output_tokens=100)


@pytest.mark.parametrize("model", ["gemini-2.5-pro", "gemini-1.5-flash", "gemini-2.0-flash-001", "gemini-2.5-flash"])
@pytest.mark.parametrize("provider", ["gcp.gemini", "gcp.vertex_ai", None])
def test_a_resource_name_is_priced_as_its_model(model: str, provider: str | None) -> None:
    book = PriceBook.load(None, notify_unknown=False)
    plain = book.cost(model, USAGE, provider)
    assert plain is not None
    assert book.cost(f"models/{model}", USAGE, provider) == plain


def test_a_users_price_for_the_model_prices_its_resource_name() -> None:
    book = PriceBook.load({"gemini-1.5-flash": {"input": 1.0, "output": 2.0}})
    cost = book.cost("models/gemini-1.5-flash", USAGE, "gcp.gemini")
    assert cost is not None and cost.source == "user" and cost.usd == pytest.approx(1000e-6 + 200e-6)


def test_a_gemini_rest_answer_with_a_resource_name_is_priced_and_keeps_its_name() -> None:
    @otel_llm.llm_call(provider="gcp.gemini")
    def ask() -> dict[str, Any]:
        return {"modelVersion": "models/gemini-2.5-pro", "responseId": "r-1",
                "candidates": [{"finishReason": "STOP"}],
                "usageMetadata": {"promptTokenCount": 1000, "candidatesTokenCount": 100}}

    with Capture(project="p") as cap:
        ask()
    (span,) = cap.spans()
    attrs = span.attributes
    assert attrs[sc.GEN_AI_RESPONSE_MODEL] == "models/gemini-2.5-pro"
    expected = PriceBook.load(None).cost("gemini-2.5-pro", USAGE, "gcp.gemini")
    assert expected is not None and attrs[sc.GEN_AI_USAGE_COST] == pytest.approx(expected.usd)


def test_a_vertex_full_resource_name_is_priced_as_its_model() -> None:
    book = PriceBook.load(None, notify_unknown=False)
    name = "projects/my-project/locations/us-central1/publishers/google/models/gemini-2.5-pro"
    assert book.cost(name, USAGE, "gcp.vertex_ai") == book.cost("gemini-2.5-pro", USAGE, "gcp.vertex_ai") != None  # noqa: E711
