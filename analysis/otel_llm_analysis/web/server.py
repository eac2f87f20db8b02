"""``otel-llm serve``: the report's views as a live page and JSON endpoints (FastAPI on uvicorn).

Every view of :data:`views.VIEWS` is ``GET /api/<name>``; ``/api/traces/{trace_id}``
gives one span tree, ``/api/export/<name>.csv|json`` a view's rows as a file,
``/api/choices`` the filter choices, ``/api/status`` what the page polls to
refresh. The OpenAPI description is ``/openapi.json`` (the interactive docs page
is off: it would load its script from a CDN). While the watcher ingests, every
answer is of the data before the ingest, whole (``live``); each view's answer
names its version of the data in the ``X-Otel-Llm-Version`` header, the version
``/api/status`` gives, so a page draws views of one version together.

Validation: parameters are typed (FastAPI), dates go through ``Filters.of``,
groupings through the analyses' own whitelist, unknown parameter names are
refused, and so is one given twice (but the repeatable ``by``) — all as 400 with a message naming the
parameter, never a 500. A path under ``/api/`` no endpoint serves is a 404 naming the endpoints. A project or
model the store does not hold (``project=`` empty included, unless a project is named
so) is a 404 naming those it holds, as the CLI refuses it: never a page of zeros that
reads as "no spend". No value reaches SQL except as a bound parameter (the analyses' rule).

On loopback (the default) the server answers only requests addressed to a
loopback name (the Host header), so a web page cannot read it through DNS rebinding.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import replace
from typing import Annotated, Any, Awaitable, Callable, Collection, Literal, MutableMapping, Optional, Sequence

from fastapi import Depends, FastAPI, HTTPException, Path, Request
from fastapi import Query as Param
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response

from otel_llm_analysis import Filters
from otel_llm_analysis._catalog import catalog
from otel_llm_analysis.export import to_csv, to_json
from otel_llm_analysis.logs import SEVERITY_LEVELS
from otel_llm_analysis.store import StoreError
from otel_llm_analysis.web.choices import choices
from otel_llm_analysis.web.live import LiveStore
from otel_llm_analysis.web.static import render_page
from otel_llm_analysis.web.store_file import StoreFile
from otel_llm_analysis.web.views import TRACE_PAGE, TRACE_PAGE_MAX, VIEWS, Query, describe, table_rows, trace_detail

TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
#: the response header naming the version of the data a view was computed from (``LiveStore.data_version``)
VERSION_HEADER = "X-Otel-Llm-Version"
FILTER_PARAMS = ("since", "until", "project", "model")
#: what each view accepts besides the filters
VIEW_PARAMS = {"trends": ("period",), "traces": ("top",), "compare": ("by",),
               "logs": ("limit", "service", "logger", "trace_id", "text", "severity"), "processes": ("period",)}


class ORJSONResponse(JSONResponse):
    """JSON the way the analyses export it: naive timestamps marked UTC, numpy-free."""

    def render(self, content: Any) -> bytes:
        import orjson

        return orjson.dumps(content, option=orjson.OPT_NAIVE_UTC | orjson.OPT_NON_STR_KEYS, default=str)


def _bad(message: str) -> HTTPException:
    return HTTPException(status_code=400, detail=message)


#: the query parameters a request may repeat (each one more value); any other given twice is refused
REPEATABLE = frozenset({"by"})


def _only(allowed: Sequence[str]) -> Callable[[Request], None]:
    """A dependency refusing query parameters the endpoint does not know (a typo is not silently ignored),
    and one given twice that takes one value (the framework would keep the last in silence)."""
    known = set(allowed)

    def check(request: Request) -> None:
        unknown = sorted(set(request.query_params) - known)
        if unknown:
            raise _bad(f"unknown query parameter {', '.join(unknown)}; this endpoint takes: "
                       f"{', '.join(sorted(known)) or 'none'}")
        for name in sorted(set(request.query_params) - REPEATABLE):
            given = len(request.query_params.getlist(name))
            if given > 1:
                raise _bad(f"{name} given {given} times; it takes one value")

    return check


#: The longest project or model name a filter takes: a bound on what a request carries, far above real
#: names (a model named by its cloud resource path runs to ~150 characters), so every name the page
#: offers can be chosen.
NAME_MAX = 4096

#: the names a request to a loopback dashboard may be addressed to
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def is_loopback(host: str) -> bool:
    """``host`` (as given to ``--host``) names this machine only."""
    try:
        return host.strip("[]") == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(header: str) -> str:
    """The name in a Host header, without its port (``[::1]:8765`` -> ``::1``), lower-cased."""
    if header.startswith("["):
        return header[1:].split("]", 1)[0].lower()
    return header.rsplit(":", 1)[0].lower() if header.count(":") == 1 else header.lower()


def create_app(live: LiveStore, base: Query, *, source: str = "", refresh_ms: int = 2000,
               hosts: Collection[str] = ()) -> FastAPI:
    """The ASGI app serving ``live``'s store; ``base`` holds the command line's filters, budgets and groupings.

    With ``hosts``, a request whose Host header names another host is refused (400):
    a page in the user's browser could otherwise point its own domain at 127.0.0.1
    (DNS rebinding) and read a loopback dashboard as its own origin. ``source`` names the store (its path,
    when a file): ``/api/status`` says when the file there is no longer the one opened (``store_file``).
    """
    opened = StoreFile(source)
    app = FastAPI(title="otel-llm dashboard", version="1", docs_url=None, redoc_url=None,
                  default_response_class=ORJSONResponse,
                  description="The views of the otel-llm report as JSON. Dates are ISO 8601 (naive = UTC) or "
                              "relative (7d, 24h); since is inclusive, until exclusive.")

    if hosts:
        allowed = {name.strip("[]").lower() for name in hosts}

        @app.middleware("http")
        async def addressed_here(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
            header = request.headers.get("host", "")
            if host_name(header) not in allowed:
                return JSONResponse(status_code=400, content={
                    "detail": f"this dashboard answers requests to {', '.join(sorted(allowed))}, "
                              f"not to Host {header!r}"})
            return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:]) or 'request'}: {e['msg']}"
                             for e in exc.errors())
        return JSONResponse(status_code=400, content={"detail": problems})

    @app.exception_handler(StoreError)
    async def unavailable(_: Request, exc: StoreError) -> JSONResponse:
        return JSONResponse(status_code=503, content={"detail": str(exc)})

    def filters(
        since: Annotated[Optional[str], Param(description="Start, inclusive: 2026-11-01, 2026-11-01T08:00 "
                                                          "or 7d.")] = None,
        until: Annotated[Optional[str], Param(description="End, exclusive; same forms as since.")] = None,
        project: Annotated[Optional[str], Param(max_length=NAME_MAX)] = None,
        model: Annotated[Optional[str], Param(max_length=NAME_MAX)] = None,
    ) -> Filters:
        try:
            asked = Filters.of(since, until, project=project, model=model)
        except ValueError as exc:
            raise _bad(str(exc)) from None
        if asked.since and asked.until and asked.since >= asked.until:
            raise _bad(f"since ({since}) must be before until ({until})")
        if asked.project is not None or asked.model is not None:
            with live.sharing() as (store, shared):
                problem = shared.call(catalog, store).unknown(project=asked.project, model=asked.model)
            if problem:  # as `otel-llm summary --project nosuch`: said, never answered with $0
                empty = [name for name in ("project", "model") if getattr(asked, name) == ""]
                raise HTTPException(status_code=404, detail=problem + "".join(
                    f"; {name}= is empty: to see every {name}, leave it out" for name in empty))
        given = {k: getattr(asked, k) for k in FILTER_PARAMS if getattr(asked, k) is not None}
        return replace(base.filters, **given)

    def run(name: str, query: Query, headers: MutableMapping[str, str]) -> Any:
        """The view, computed from one version of the data, which ``headers`` gain (``VERSION_HEADER``)."""
        with live.sharing() as (store, shared):
            headers[VERSION_HEADER] = str(live.data_version)
            try:
                return VIEWS[name].compute(store, replace(query, shared=shared))
            except ValueError as exc:  # an unknown grouping, a bad month: the analyses' own messages
                raise _bad(str(exc)) from None

    def options(
        period: Annotated[Optional[Literal["hour", "day", "week"]], Param(description="Trends: bucket size.")] = None,
        top: Annotated[int, Param(ge=1, le=200, description="Traces: how many per ranking.")] = base.top,
        by: Annotated[Optional[list[str]], Param(max_length=20, description="Compare: model or run_config.<key>; "
                                                                            "repeatable.")] = None,
        limit: Annotated[int, Param(ge=1, le=1000, description="Logs: patterns, and records, to return.")] = base.log_limit,
        service: Annotated[Optional[str], Param(max_length=NAME_MAX, description="Logs: one service's records "
                                                                                 "(service.name).")] = None,
        logger: Annotated[Optional[str], Param(max_length=NAME_MAX, description="Logs: one logger's records "
                                                                               "(its scope name).")] = None,
        trace_id: Annotated[Optional[str], Param(pattern="^[0-9a-f]{32}$", description="Logs: one trace's "
                                                 "records (32 lowercase hex digits).")] = None,
        text: Annotated[Optional[str], Param(max_length=NAME_MAX, description="Logs: records whose message holds "
                                                                             "these words (any case).")] = None,
        severity: Annotated[Literal[tuple(SEVERITY_LEVELS)], Param(  # type: ignore[valid-type]
            description="Logs: the lowest severity of the records and patterns.")] = base.log_severity,
    ) -> dict[str, Any]:
        chosen: dict[str, Any] = {"period": period, "top": top, "log_limit": limit, "log_service": service,
                                  "log_logger": logger, "log_trace_id": trace_id, "log_text": text or None,
                                  "log_severity": severity}
        if by:
            chosen["compare_by"] = tuple(by)
        return chosen

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> HTMLResponse:
        with live.reading() as store:
            offered = choices(store, base.filters).as_json()
            unfinished, coverage = getattr(store, "unfinished", None), getattr(store, "span_coverage", None)
            version = live.data_version  # views fetched later are of this data or newer: a poll saying otherwise reloads
        meta = {"mode": "live", "version": version, "source": source, "views": describe(), "choices": offered,
                "combined": True, "refresh_ms": refresh_ms,
                "filters": {k: getattr(base.filters, k) for k in FILTER_PARAMS}, "unfinished": unfinished,
                "span_coverage": coverage, "ingesting": live.ingesting}
        return HTMLResponse(render_page("otel-llm dashboard", {"meta": meta}, live=True))

    @app.get("/api/status", dependencies=[Depends(_only(()))], summary="What the page polls to refresh")
    def status() -> dict[str, Any]:
        from otel_llm_analysis import totals

        with live.reading() as store:
            spans = totals(store, base.filters, partial=False).spans
            unfinished, coverage = getattr(store, "unfinished", None), getattr(store, "span_coverage", None)
            version = live.data_version
        return {"version": version, "spans": spans, "watching": live.watch, "ingesting": live.ingesting,
                "ingesting_for": live.ingesting_for,
                "rounds": live.rounds, "last_ingest": live.last_ingest,
                "last_error": live.last_error, "unfinished": unfinished, "span_coverage": coverage,
                "problems": live.problems, "recent_problems": live.recent_problems,
                "store_file": opened.change()}

    @app.get("/api/choices", dependencies=[Depends(_only(()))], summary="Date ranges, projects and models")
    def filter_choices() -> dict[str, Any]:
        with live.reading() as store:
            return choices(store, base.filters).as_json()

    @app.get("/api/traces/{trace_id}", dependencies=[Depends(_only(("offset", "limit")))],
             summary="One trace's span tree, a page at a time")
    def trace(trace_id: Annotated[str, Path(description="32 lowercase hex digits")],
              offset: Annotated[int, Param(ge=0, description="Spans of the tree (pre-order) to pass over.")] = 0,
              limit: Annotated[int, Param(ge=1, le=TRACE_PAGE_MAX, description="Spans to return.")] = TRACE_PAGE,
              ) -> dict[str, Any]:
        if not TRACE_ID.match(trace_id):
            raise _bad(f"trace_id must be 32 lowercase hex digits, not {trace_id!r}")
        with live.reading() as store:
            tree = trace_detail(store, trace_id, offset, limit)
        if tree is None:
            raise HTTPException(status_code=404, detail=f"no trace {trace_id}")
        return tree

    def add_view(name: str) -> None:
        view = VIEWS[name]
        allowed = (*FILTER_PARAMS, *VIEW_PARAMS.get(name, ()))

        def endpoint(response: Response, f: Filters = Depends(filters), o: dict[str, Any] = Depends(options)) -> Any:
            return run(name, replace(base, filters=f, **o), response.headers)

        def export(fmt: Annotated[Literal["csv", "json"], Path(description="csv or json")],
                   f: Filters = Depends(filters), o: dict[str, Any] = Depends(options)) -> Response:
            said: dict[str, str] = {}
            rows = table_rows(name, run(name, replace(base, filters=f, **o), said))
            if fmt == "json":
                return Response(to_json(rows), media_type="application/json", headers=said)
            return Response(to_csv(rows), media_type="text/csv", headers={
                **said, "Content-Disposition": f'attachment; filename="otel-llm-{name}.csv"'})

        doc = (view.compute.__doc__ or view.title).strip().splitlines()[0]
        app.get(f"/api/{name}", dependencies=[Depends(_only(allowed))], summary=view.title, description=doc,
                operation_id=f"view_{name}")(endpoint)
        app.get(f"/api/export/{name}.{{fmt}}", dependencies=[Depends(_only(allowed))],
                summary=f"{view.title} as CSV or JSON", operation_id=f"export_{name}")(export)

    for name in VIEWS:
        add_view(name)

    endpoints = ", ".join(["/api/status", "/api/choices", *(f"/api/{name}" for name in VIEWS),
                           "/api/traces/{trace_id}", "/api/export/{view}.csv|json", "/openapi.json"])

    @app.get("/api/{rest:path}", include_in_schema=False)
    def unknown(rest: str) -> None:  # registered last: only a path no endpoint serves comes here
        raise HTTPException(status_code=404, detail=f"no endpoint /api/{rest}; the endpoints: {endpoints}")

    return app


def listen(host: str, port: int) -> socket.socket:
    """A TCP socket listening on ``host``:``port`` (0: a free port the OS picks).

    Bound here rather than by uvicorn so that a host that does not resolve or a
    port in use is an ``OSError`` before anything starts, and so that the URL
    announced names the port actually taken.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except UnicodeError as exc:  # the IDNA codec refuses the name (a label too long, a control character)
        raise OSError(f"not a host name ({exc})") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)  # uvicorn's default backlog
    except OSError:
        sock.close()
        raise
    return sock


def run(store: Any, query: Query, listener: socket.socket, *, host: str = "127.0.0.1", watch: Sequence[str] = (),
        interval: float = 1.0, source: str = "", problems: Sequence[str] = ()) -> None:
    """Serve on ``listener`` (see :func:`listen`; ``host`` is how the URL names it) until interrupted.

    The watcher (if any) ingests in the background meanwhile, the directories' backlog
    first: the page answers from the start, with the data as it was before each ingest
    until that ingest ends (never half of one; ``live``). ``problems``
    are lines an earlier ingest could not load (file:line: reason): the page says them
    as the watcher's.
    """
    import uvicorn

    def announce(report: Any) -> None:
        print(f"ingested {report.summary()}", flush=True)
        for problem in report.bad_lines:  # as `otel-llm ingest` reports them: file, line, reason
            print(f"bad line {problem}", flush=True)

    live = LiveStore(store, watch, interval, on_ingest=announce)
    live.note_problems(problems)
    app = create_app(live, query, source=source, hosts=LOOPBACK_NAMES | {host} if is_loopback(host) else ())
    live.start()
    shown = f"[{host}]" if ":" in host else host
    port = listener.getsockname()[1]
    print(f"otel-llm dashboard on http://{shown}:{port}/ (Ctrl+C to stop)"
          + (f"; watching {', '.join(watch)} (what they hold is ingested first; meanwhile the page "
             "shows the data as it was before, and says an ingest runs)" if watch else ""), flush=True)
    try:
        uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[listener])
    finally:
        live.stop()


__all__ = ["LOOPBACK_NAMES", "create_app", "host_name", "is_loopback", "listen", "run"]
