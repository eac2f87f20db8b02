"""Monthly budgets: spent, remaining, status and when the money runs out.

Status, a traffic light: ``ok`` below 70 % used, ``warning`` from 70 %
up to (not including) 90 %, ``critical`` from 90 % (overspent included),
decided on the exact share used. ``percent_used`` is that share cut (never
rounded up) to the tenth of a percent every view prints, so what is printed
never reads across a threshold from its status (89.96 % is "89.9%", warning,
not "90.0%"), nor 100 % while money remains.

Projection uses the month's *current burn rate*: spent / days elapsed (as-of day
included) times the days of the month. Days are counted from ``data_since``: the
month's first day, or the store's first span's day when the store begins later
in the month (the days before it are unknown, not $0 days), and the projection
is then the burn rate times the days from that day to the month's end. The run-out day is the day the cumulative
spend reached the budget when it already has, else the first day on which
spent + burn rate x days after as-of reaches it; ``None`` when that is after the
month's end (or nothing is being spent).

Spent is the cost of the calls that carry one: a call of a model without a
price, or whose usage is only a total, has none. Each status counts its
month's ``calls`` (through the as-of day), ``priced_calls`` and
``unpriced_calls`` (``summaries``' definitions), so a spend that leaves calls
out says how many, and ``no_usage_calls`` those with no usage recorded at all. A
budget whose calls all lack a cost (none priced), or whose month's calls only
GenAI metric points record (``cost_unknown``: spans sampled out or not shipped),
has a spend that is unknown, not $0: its status is ``unknown``
(:func:`any_unknown`: ``otel-llm budget`` exits 3), never ``ok`` - as
``otel-llm check --max-cost``. A month with some days whose calls only
metric points record (``unrecorded_days``) has spent *at least* the spans'
spend: that lower bound is shown, its status is ``critical`` when the lower
bound alone reaches 90 % (more spend only adds to it) and ``unknown`` below
(the days left out may carry it across any threshold), and the burn rate,
projection and run-out day, read off days of unknown spend, are unknown (None).

A budgets file (YAML or JSON) is either a list of budgets or a mapping::

    monthly: 50              # overall
    each_project: 100        # every project with calls in the month, unless it has its own
    projects: {rag-bot: 20}  # per project
    models: {gpt-4o: 10}     # per model
    budgets:                 # or explicitly, optionally both project and model
      - {name: rag on 4o, monthly: 5, project: rag-bot, model: gpt-4o}
"""

from __future__ import annotations

import json
import math
from contextlib import nullcontext
from decimal import ROUND_FLOOR, Decimal
from dataclasses import dataclass, field
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Iterable, Literal, Mapping

from otel_llm_analysis._filters import Filters, fetch_dicts, keeping, remembering
from otel_llm_analysis._unrecorded import unrecorded_cost
from otel_llm_analysis.summaries import summary
from otel_llm_analysis.trends import daily_points, data_since, month_window, spend_lower_bound

Status = Literal["ok", "warning", "critical", "unknown"]
WARNING_PERCENT = 70.0
CRITICAL_PERCENT = 90.0


@dataclass(frozen=True, slots=True)
class Budget:
    """A monthly limit in USD over all spans, or one project and/or model.

    ``each_project`` makes it a default: :func:`budget_status` gives it, as a budget of
    its own, to every project with LLM calls in the month that has no project budget.
    """

    monthly_usd: float
    project: str | None = None
    model: str | None = None
    name: str | None = None
    each_project: bool = False

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        parts = [f"project={self.project}" if self.project else "", f"model={self.model}" if self.model else ""]
        return " ".join(p for p in parts if p) or "overall"


@dataclass(slots=True)
class BudgetStatus:
    """A budget evaluated for one month as of one day."""

    budget: str
    project: str | None
    model: str | None
    month: str
    as_of: date
    monthly_usd: float
    #: the priced calls' cost; a lower bound when the month has calls in spans and ``unrecorded_days`` has days
    #: (``percent_used`` too; ``remaining``: an upper bound)
    spent: float
    remaining: float
    #: the share of ``monthly_usd`` spent, in percent, cut to one decimal (:func:`shown_percent`): ``status``
    #: is decided on the exact share (``spent / monthly_usd * 100``)
    percent_used: float
    status: Status
    #: None (unknown) when ``spent`` is such a lower bound: a rate of a spend that leaves days out
    burn_rate_per_day: float | None
    projected_month_end: float | None
    runs_out_on: date | None
    #: the month's LLM calls through the as-of day, those whose cost ``spent`` holds, and those
    #: with tokens but no cost (no price, or usage only as a total): not in ``spent``
    calls: int = 0
    priced_calls: int = 0
    unpriced_calls: int = 0
    #: ``unpriced_calls`` by reason (``summaries.SummaryRow.unpriced_reasons``)
    unpriced_reasons: dict[str, int] = field(default_factory=dict)
    #: calls with neither tokens nor a cost (a stream read without its usage chunk, a failure before an
    #: answer): not in ``spent`` either
    no_usage_calls: int = 0
    #: the first day the burn rate counts: the month's first, or the store's first span's day when later
    data_since: date | None = None
    #: why the spend is unknown though no call lacks a cost: the month's calls are only in metric points
    #: (``_unrecorded.unrecorded_cost``); ``status`` is then ``unknown``. Or why it is a lower bound: some days'
    #: calls are only in metric points (``trends.spend_lower_bound``, ``unrecorded_days``)
    cost_unknown: str | None = None
    #: the days whose spans hold no LLM call while GenAI metric points count calls there: not in ``spent``
    unrecorded_days: list[date] = field(default_factory=list)


def status_for(percent_used: float) -> Status:
    """``ok`` < 70 % <= ``warning`` < 90 % <= ``critical``.

    Rounded to 9 decimals first so 35/50 is exactly 70 % even if the float
    division lands a hair below.
    """
    percent = round(percent_used, 9)
    if percent >= CRITICAL_PERCENT:
        return "critical"
    if percent >= WARNING_PERCENT:
        return "warning"
    return "ok"


def shown_percent(percent_used: float) -> float:
    """``percent_used`` cut to one decimal, the precision the views print: it lies on the same side of
    every threshold (70, 90, 100: tenths) as the exact value ``status_for`` judges, where rounding to
    the nearest tenth would carry 89.96 to 90.0. Cut after ``status_for``'s 9-decimal rounding, so a
    float a hair below 70 that ``status_for`` counts as 70 is shown as 70.0."""
    if not math.isfinite(percent_used) or abs(percent_used) >= 1e15:  # beyond tenths a float can hold
        return percent_used
    return float(Decimal(repr(round(percent_used, 9))).quantize(Decimal("0.1"), rounding=ROUND_FLOOR))


def budget_status(
    store: Any,
    budgets: Iterable[Budget],
    month: str | date | None = None,
    as_of: date | None = None,
) -> list[BudgetStatus]:
    """Evaluate each budget over ``month`` (``YYYY-MM``, default current) as of ``as_of``.

    Its statements are kept for the call (``_filters.remembering``, unless a caller's block keeps them already):
    a budget whose month's calls only GenAI metric points record asks the points' growth per day (its days of
    unknown spend) and over the month (why the spend is unknown), one statement (``_unrecorded._GROWTH``) read once.
    """
    with nullcontext() if keeping() else remembering({}):
        return _statuses(store, list(budgets), month, as_of)


def _statuses(store: Any, budgets: list[Budget], month: str | date | None, as_of: date | None) -> list[BudgetStatus]:
    """:func:`budget_status`'s statuses."""
    first, end, as_of = month_window(month, as_of)
    since = data_since(store, first, as_of)
    elapsed, days_counted = (as_of - since).days + 1, (end - since).days
    results = []
    for budget in _each_project(store, budgets, first, as_of):
        if not (math.isfinite(budget.monthly_usd) and budget.monthly_usd > 0):
            raise ValueError(f"budget {budget.label!r} must be a positive number of USD, got {budget.monthly_usd}")
        scope = Filters(project=budget.project, model=budget.model)
        days = daily_points(store, first, as_of, scope)
        costs = [p.cost_usd or 0.0 for p in days]
        window = replace(scope, since=datetime.combine(first, datetime.min.time()),
                         until=datetime.combine(as_of + timedelta(days=1), datetime.min.time()))
        calls = _calls(store, window)
        unrecorded = unrecorded_cost(store, window, calls["calls"])
        lower_bound = None if unrecorded else spend_lower_bound(days)
        spent = sum(costs)
        burn = spent / elapsed
        percent = spent / budget.monthly_usd * 100.0
        status = status_for(percent)
        if unrecorded or (calls["calls"] and not calls["priced_calls"]) or (lower_bound and status != "critical"):
            status = "unknown"
        results.append(
            BudgetStatus(
                budget=budget.label,
                project=budget.project,
                model=budget.model,
                month=first.strftime("%Y-%m"),
                as_of=as_of,
                monthly_usd=budget.monthly_usd,
                spent=spent,
                remaining=budget.monthly_usd - spent,
                percent_used=shown_percent(percent),
                status=status,
                burn_rate_per_day=None if lower_bound else burn,
                projected_month_end=None if lower_bound else burn * days_counted,
                runs_out_on=None if lower_bound else _runs_out_on(costs, budget.monthly_usd, first, as_of, end, burn),
                **calls,
                data_since=since,
                cost_unknown=unrecorded or lower_bound,
                unrecorded_days=[p.period.date() for p in days if p.unrecorded_points],
            )
        )
    return results


def _each_project(store: Any, budgets: list[Budget], first: date, as_of: date) -> list[Budget]:
    """``budgets`` with each ``each_project`` default replaced by a budget per project that has LLM calls
    from ``first`` through ``as_of`` and no project budget of its own (project only, no model) in the list."""
    if not any(b.each_project for b in budgets):
        return budgets
    own = {b.project for b in budgets if b.project is not None and b.model is None and not b.each_project}
    rows = fetch_dicts(store, "SELECT DISTINCT project FROM llm_calls WHERE project IS NOT NULL "
                              "AND start_time >= $since AND start_time < $until ORDER BY project",
                       {"since": datetime.combine(first, datetime.min.time()),
                        "until": datetime.combine(as_of + timedelta(days=1), datetime.min.time())})
    projects = [row["project"] for row in rows if row["project"] not in own]
    expanded: list[Budget] = []
    for budget in budgets:
        if budget.each_project:
            expanded += [Budget(budget.monthly_usd, project=p, model=budget.model) for p in projects]
        else:
            expanded.append(budget)
    return expanded


def _calls(store: Any, window: Filters) -> dict[str, Any]:
    """The calls in ``window``: all of them, the priced and the unpriced ones, those without usage."""
    rows = summary(store, None, replace(window, calls_only=True), traces=False)
    row = rows[0] if rows else None
    return {"calls": row.llm_calls if row else 0, "priced_calls": row.priced_calls if row else 0,
            "unpriced_calls": row.unpriced_calls if row else 0, "unpriced_reasons": row.unpriced_reasons if row else {},
            "no_usage_calls": row.no_usage_calls if row else 0}


def _runs_out_on(costs: list[float], limit: float, first: date, as_of: date, end: date, burn: float) -> date | None:
    cumulative = 0.0
    for offset, cost in enumerate(costs):
        cumulative += cost
        if cumulative >= limit:
            return first + timedelta(days=offset)
    if burn <= 0:
        return None
    days = math.ceil((limit - cumulative) / burn)
    if days >= (end - as_of).days:  # after the month (a tiny burn rate reaches past any calendar)
        return None
    return as_of + timedelta(days=days)


def any_unknown(statuses: Iterable[BudgetStatus]) -> bool:
    """True when a budget's spend is unknown (its calls have no price): the CLI then exits 3."""
    return any(s.status == "unknown" for s in statuses)


def any_critical(statuses: Iterable[BudgetStatus]) -> bool:
    """True when a budget is critical: the CLI then exits 1 to fail a CI job."""
    return any(s.status == "critical" for s in statuses)


def load_budgets(path: str | Path) -> list[Budget]:
    """Budgets from a YAML (``.yaml``/``.yml``) or JSON file; see the module doc for the shape."""
    text = Path(path).read_text("utf-8")
    if str(path).endswith((".yaml", ".yml")):
        import yaml

        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    return parse_budgets(data)


def parse_budgets(data: Any) -> list[Budget]:
    """Budgets from already-parsed YAML/JSON data (a list, or the mapping shape)."""
    if data is None:
        return []
    if isinstance(data, list):
        return [_budget(item) for item in data]
    if not isinstance(data, Mapping):
        raise ValueError("a budgets file holds a list of budgets or a mapping")
    budgets: list[Budget] = []
    if data.get("monthly") is not None:
        budgets.append(Budget(float(data["monthly"])))
    if data.get("each_project") is not None:
        budgets.append(Budget(float(data["each_project"]), each_project=True))
    budgets += [Budget(float(v), project=str(k)) for k, v in (data.get("projects") or {}).items()]
    budgets += [Budget(float(v), model=str(k)) for k, v in (data.get("models") or {}).items()]
    budgets += [_budget(item) for item in data.get("budgets") or []]
    unknown = set(data) - {"monthly", "each_project", "projects", "models", "budgets"}
    if unknown:
        raise ValueError(f"unknown keys in budgets file: {', '.join(sorted(unknown))}")
    return budgets


def _budget(item: Any) -> Budget:
    if not isinstance(item, Mapping) or "monthly" not in item:
        raise ValueError(f"a budget needs a 'monthly' amount: {item!r}")
    unknown = set(item) - {"monthly", "project", "model", "name"}
    if unknown:
        raise ValueError(f"unknown budget keys: {', '.join(sorted(unknown))}")
    return Budget(float(item["monthly"]), item.get("project"), item.get("model"), item.get("name"))


__all__ = ["Budget", "BudgetStatus", "any_critical", "any_unknown", "budget_status", "load_budgets", "parse_budgets",
           "shown_percent", "status_for"]
