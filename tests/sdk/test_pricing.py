"""Pricing: hand-computed table, cache rates, tiers, user entries win, unknown -> None once."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import genai_prices
import pytest
from genai_prices import Usage as GUsage
from genai_prices import calc_price, data_snapshot

from otel_llm._usage import Usage
from otel_llm.pricing import Cost, PriceBook

GENAI = f"genai-prices@{genai_prices.__version__}"
USER = {"my-model": {"input": 2.0, "output": 8.0, "cache_read": 0.5, "cache_write": 2.5},
        "cheap": {"input": 1.0, "output": 1.0}}

# (model, provider, usage, expected USD computed by hand from USD-per-1M rates, source)
TABLE = [
    # user: 5000 uncached*2 + 4000 read*0.5 + 1000 write*2.5 + 2000 out*8 = 30500 / 1e6
    ("my-model", None, Usage(10_000, 2_000, 4_000, 1_000), 0.0305, "user"),
    # user without cache rates: cached tokens fall back to the input rate (1000*1 + 10*1)
    ("cheap", None, Usage(1_000, 10, 600), 0.00101, "user"),
    # gpt-4o 2.5/10, cache read 1.25: 600*2.5 + 400*1.25 + 100*10 = 3000 / 1e6
    ("gpt-4o", "openai", Usage(1_000, 100, 400), 0.003, GENAI),
    # dated name resolves to its family, provider inferred
    ("gpt-4o-2024-08-06", None, Usage(1_000, 100, 400), 0.003, GENAI),
    # no cached tokens: 1000*2.5 + 100*10 = 3500
    ("gpt-4o", "openai", Usage(1_000, 100), 0.0035, GENAI),
    # Anthropic, base tier: 800*3 + 100*0.3 + 100*3.75 + 10*15 = 2955
    ("claude-sonnet-4-5", "anthropic", Usage(1_000, 10, 100, 100), 0.002955, GENAI),
    # above 200k input the whole call moves to the long-context tier:
    # 190000*6 + 50000*0.6 + 10000*7.5 + 1000*22.5 = 1_267_500
    ("claude-sonnet-4-5", "anthropic", Usage(250_000, 1_000, 50_000, 10_000), 1.2675, GENAI),
    # semconv provider name mapped to genai-prices' id
    ("gpt-4o-mini", "openai", Usage(1_000_000, 1_000_000), 0.75, GENAI),
]


@pytest.mark.parametrize(("model", "provider", "usage", "usd", "source"), TABLE)
def test_cost_table(model: str, provider: str | None, usage: Usage, usd: float, source: str) -> None:
    cost = PriceBook.load(USER).cost(model, usage, provider)
    assert cost is not None
    assert cost.usd == pytest.approx(usd, rel=1e-12)
    assert cost.source == source


@pytest.mark.parametrize(
    ("model", "provider", "usage"),
    [("gpt-4o", "openai", Usage(1_234, 567, 200)),
     ("claude-sonnet-4-5", "anthropic", Usage(300_000, 4_000, 20_000, 5_000)),
     ("gemini-2.5-pro", "gcp.gemini", Usage(250_000, 3_000, 10_000)),
     ("claude-3-5-haiku-20241022", None, Usage(5_000, 300, 1_000, 500))],
)
def test_cached_rates_agree_with_genai_prices_calc_price(model: str, provider: str | None, usage: Usage) -> None:
    ours = PriceBook.load(None).cost(model, usage, provider)
    pid = {"gcp.gemini": "google"}.get(provider or "", provider)
    theirs = calc_price(
        GUsage(input_tokens=usage.input_tokens, output_tokens=usage.output_tokens,
               cache_read_tokens=usage.cache_read_tokens, cache_write_tokens=usage.cache_write_tokens),
        model, provider_id=pid)
    assert ours is not None
    assert ours.usd == pytest.approx(float(theirs.total_price), rel=1e-9)


def test_user_entry_wins_over_genai_prices() -> None:
    book = PriceBook.load({"gpt-4o": {"input": 1.0, "output": 1.0}})
    assert book.cost("gpt-4o", Usage(1_000_000, 1_000_000), "openai") == Cost(2.0, "user")
    # ... also for the dated variant of the user's family name
    assert book.cost("GPT-4o-2024-08-06", Usage(1_000_000, 0), "openai") == Cost(1.0, "user")


def test_unknown_model_gives_none_and_warns_once(capsys: pytest.CaptureFixture[str]) -> None:
    book = PriceBook.load(None)
    for _ in range(3):
        assert book.cost("totally-made-up-model", Usage(10, 10), "openai") is None
    assert book.cost("another-unknown", Usage(10, 10)) is None
    # on stderr whatever the logging setup (otel_llm._notices), once per model
    warned = [line for line in capsys.readouterr().err.splitlines() if "no price for model" in line]
    assert len(warned) == 2
    assert "totally-made-up-model" in warned[0] and "another-unknown" in warned[1]


def test_nothing_to_price_gives_none_without_warning(caplog: pytest.LogCaptureFixture) -> None:
    book = PriceBook.load(None)
    with caplog.at_level(logging.WARNING):
        assert book.cost(None, Usage(10, 10)) is None
        assert book.cost("gpt-4o", Usage()) is None
    assert not caplog.records


def test_zero_tokens_cost_zero_not_none() -> None:
    assert PriceBook.load(None).cost("gpt-4o", Usage(0, 0), "openai") == Cost(0.0, GENAI)


def test_rates_resolved_once_per_model(monkeypatch: pytest.MonkeyPatch) -> None:
    snapshot = data_snapshot.get_snapshot()
    calls: list[str] = []
    real = snapshot.find_provider_model

    def counting(model_ref, *args):  # type: ignore[no-untyped-def]
        calls.append(model_ref)
        return real(model_ref, *args)

    monkeypatch.setattr(snapshot, "find_provider_model", counting)
    book = PriceBook.load(None)
    for _ in range(50):
        book.cost("gpt-4o", Usage(10, 10), "openai")
    book.cost("made-up", Usage(1, 1), "openai")
    book.cost("made-up", Usage(1, 1), "openai")
    assert calls.count("gpt-4o") == 1
    assert 1 <= calls.count("made-up") <= 2  # one miss (with and without the provider hint), cached


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_pricing_from_file(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"prices{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps(USER))
    else:
        import yaml

        path.write_text(yaml.safe_dump(USER))
    assert PriceBook.load(path).cost("my-model", Usage(10_000, 2_000, 4_000, 1_000)) == Cost(
        pytest.approx(0.0305), "user")  # type: ignore[arg-type]
    assert PriceBook.load(str(path)).cost("cheap", Usage(1_000_000, 0)) == Cost(1.0, "user")


def test_bad_pricing_is_reported_not_raised(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert PriceBook.load(tmp_path / "missing.json").cost("gpt-4o", Usage(0, 0), "openai") is not None
    book = PriceBook.load({"a": {"input": -1, "output": 1}, "b": "free", "c": {"inptu": 1}, "ok": {"output": 3}})
    assert book.rates("a") is None or book.rates("a").source != "user"  # type: ignore[union-attr]
    assert book.rates("b") is None or book.rates("b").source != "user"  # type: ignore[union-attr]
    assert book.cost("ok", Usage(0, 1_000_000)) == Cost(3.0, "user")
    assert book.cost("ok", Usage(1_000_000, 1_000_000)) is None  # input it has no rate for: no cost that omits it
    messages = " ".join(line for line in capsys.readouterr().err.splitlines() if line.startswith("otel-llm: "))
    for bad in ("missing.json", "'a'", "'b'", "'c'"):
        assert bad in messages


@pytest.mark.parametrize(("model", "provider", "same_as"), [
    # OpenRouter's (and litellm's) vendor/model ids through the openai client: the vendor's own list price...
    ("openai/gpt-4o", "openai", ("gpt-4o", "openai")),
    ("anthropic/claude-sonnet-4.5", "openai", ("claude-sonnet-4-5", "anthropic")),
    ("anthropic/claude-sonnet-4-5", None, ("claude-sonnet-4-5", "anthropic")),
    ("gemini/gemini-2.5-flash", "litellm", ("gemini-2.5-flash", "gcp.gemini")),  # litellm's prefix for Google's
    # ... or, for a vendor genai-prices has no table of, OpenRouter's listing of the id.
    ("meta-llama/llama-3.3-70b-instruct", "openai", ("meta-llama/llama-3.3-70b-instruct", "openrouter")),
])
def test_a_vendor_prefixed_model_id_is_priced(model: str, provider: str | None, same_as: tuple[str, str]) -> None:
    usage = Usage(10_000, 1_000, 2_000)
    book = PriceBook.load(None, notify_unknown=False)
    cost, expected = book.cost(model, usage, provider), book.cost(same_as[0], usage, same_as[1])
    assert expected is not None and cost == expected


@pytest.mark.parametrize(("model", "provider", "usage", "usd", "source"),
                         [row for row in TABLE if row[0] != "claude-sonnet-4-5"])  # its rates are tiered
def test_usual_cost_is_the_general_price_bit_for_bit(
    model: str, provider: str | None, usage: Usage, usd: float, source: str
) -> None:
    """The llm_call kind prices the usual call from the counts it has read (``usual_cost``): the same bits
    as the rates' term-by-term price, and the same as ``cost``."""
    book = PriceBook.load(USER)
    rates = book.rates(model, provider)
    assert rates is not None
    usual = book.usual_cost(model, provider, usage.input_tokens, usage.output_tokens,  # type: ignore[arg-type]
                            usage.cache_read_tokens, usage.cache_write_tokens)
    assert usual == (rates.price(usage), source)
    assert usual == tuple(book.cost(model, usage, provider))[:2]  # type: ignore[arg-type]


def test_usual_cost_leaves_the_rest_to_cost() -> None:
    """``None`` (``cost`` decides) for a tiered price, an unresolved model, cache counts beyond the input and
    a price beyond the most a call may cost."""
    book = PriceBook.load(USER)
    assert book.usual_cost("my-model", None, 1_000, 10, 0, 0) is None  # not resolved yet
    book.rates("my-model")
    book.rates("claude-sonnet-4-5", "anthropic")
    assert book.usual_cost("my-model", None, 1_000, 10, None, None) == (1_000 * 2e-6 + 10 * 8e-6, "user")
    assert book.usual_cost("claude-sonnet-4-5", "anthropic", 1_000, 10, None, None) is None
    assert book.usual_cost("my-model", None, 1_000, 10, 800, 300) is None
    assert book.usual_cost("my-model", None, 10**12, 10, None, None) is None


@pytest.mark.parametrize(("model", "provider"), [("my-model", None), ("cheap", None), ("gpt-4o", "openai"),
                                                 ("claude-sonnet-4-5", "anthropic"), ("gemini-2.5-pro", "gcp.gemini")])
def test_per_token_rates_price_a_call_as_price_does_on_each_side_of_every_tier(model: str, provider: str | None
                                                                                ) -> None:
    """The rates the analysis prices summed counts with are, on either side of each tier's start, the terms
    ``price`` sums: the same bits for one call."""
    rates = PriceBook.load(USER).rates(model, provider)
    assert rates is not None
    starts = rates.tier_starts
    assert bool(starts) == (model in ("claude-sonnet-4-5", "gemini-2.5-pro"))
    for total in [1_000, *[s + d for s in starts for d in (0, 1)]]:
        for usage in (Usage(total, 700, total // 5, total // 10), Usage(total, 0), Usage(total, None, total, 0),
                      Usage(total, 9, total, total)):  # the last: more cached than input, uncached counts 0
            read, write = usage.cache_read_tokens or 0, usage.cache_write_tokens or 0
            counts = (max(total - read - write, 0), read, write, usage.output_tokens or 0)
            terms = [n * rate for n, rate in zip(counts, rates.per_token(total))]
            assert terms[0] + terms[1] + terms[2] + terms[3] == rates.price(usage), (total, usage)
