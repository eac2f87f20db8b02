-- The SQL contract of otel-llm's analysis store (DuckDB). User SQL, the
-- analyses and the README rely on these names; add columns, never rename.
--
-- Conventions
--   * Times are TIMESTAMP in naive UTC (microseconds); durations are DOUBLE ms.
--   * Ids are lowercase hex VARCHAR (trace 32 chars, span 16); "" parents -> NULL.
--   * `attributes` is MAP(VARCHAR, VARCHAR) holding every attribute of the span
--     (event / point / log) itself; `resource_attributes` those of its resource
--     (service.name, deployment.environment.name, host.name, ...), kept apart
--     as OpenTelemetry does (and as the collector's ClickHouse exporter does).
--     Values are text: strings as-is, ints '42', doubles as written ('0.7'),
--     bools 'true'/'false'; arrays and key-value lists keep their OTLP JSON
--     ('{"values":[{"stringValue":"stop"}]}': read them with
--     json_extract_string(attributes['k'], '$.values[*].*') -> VARCHAR[]).
--     Query:  attributes['otel_llm.run_config.temperature']  (NULL when absent),
--     cast as needed:  TRY_CAST(attributes['x'] AS DOUBLE). A repeated key keeps
--     its last value.
--   * `spans` is a view over the table `span_rows`, which stores span attributes
--     as two aligned lists, `attr_keys` and `attr_values`: building a DuckDB MAP
--     costs ~3 us per row (about a third of the whole ingest), so `spans` builds
--     `attributes` only for queries that read it. On large stores the lists are
--     the fast path:  attr_values[list_position(attr_keys, 'user.id')]  (the
--     `spans` view exposes both lists too).
--   * Typed columns are read from the first present spelling of each producer
--     (otel-llm / GenAI semconv, OpenLLMetry, OpenLIT, OpenInference); the
--     spelling table lives in _decode.py (SPELLINGS).
--   * No PRIMARY KEY (it makes bulk loads several times slower): ingest keeps
--     spans unique on (trace_id, span_id) itself, and logs / metric points unique
--     on `row_key` (a hash of their content).

CREATE TABLE IF NOT EXISTS span_rows (
    trace_id            VARCHAR NOT NULL,
    span_id             VARCHAR NOT NULL,
    parent_span_id      VARCHAR,
    name                VARCHAR,
    span_kind           VARCHAR,      -- INTERNAL | SERVER | CLIENT | PRODUCER | CONSUMER | UNSPECIFIED
    service_name        VARCHAR,      -- resource service.name
    scope_name          VARCHAR,      -- instrumentation scope
    project             VARCHAR,      -- otel_llm.project
    otel_kind           VARCHAR,      -- chat | graph_node | vector_op | llm_call | tool | agent: otel_llm.kind,
                                      -- else mapped from the producer's kind (_producers.KIND_SOURCES)
    start_time          TIMESTAMP,
    end_time            TIMESTAMP,
    duration_ms         DOUBLE,
    status_code         INTEGER,      -- OTLP: 0 unset, 1 ok, 2 error
    status_message      VARCHAR,
    error_type          VARCHAR,      -- error.type
    operation           VARCHAR,      -- gen_ai.operation.name
    provider            VARCHAR,      -- gen_ai.provider.name, gen_ai.system, llm.provider, as the semconv
                                      -- value (OpenAI, azure -> openai, azure.ai.openai: _producers.PROVIDER_NAMES)
    model               VARCHAR,      -- the model asked for: request model, else response model
    request_model       VARCHAR,
    response_model      VARCHAR,
    input_tokens        BIGINT,       -- all input tokens, cached included
    output_tokens       BIGINT,       -- reasoning included
    cache_read_tokens   BIGINT,
    cache_write_tokens  BIGINT,
    reasoning_tokens    BIGINT,
    cost_usd            DOUBLE,       -- NULL when unknown, never a made-up 0 (see cost_source)
    cost_source         VARCHAR,      -- sdk | producer | ingest | NULL (no cost): who priced the call
    cost_table          VARCHAR,      -- the price table: user | genai-prices@<version> (sdk, ingest)
    finish_reasons      VARCHAR[],
    stream_ttft_ms      DOUBLE,       -- first llm.first_token event - start_time
    conversation_id     VARCHAR,      -- gen_ai.conversation.id
    user_id             VARCHAR,      -- user.id
    graph_node          VARCHAR,      -- otel_llm.graph.node
    db_system           VARCHAR,      -- db.system.name
    db_operation        VARCHAR,      -- db.operation.name
    db_collection       VARCHAR,      -- db.collection.name
    wrapper_span_id     VARCHAR,      -- LLM spans: the LLM span this one sits directly in (derived after
                                      -- each ingest, see _nesting.py; llm_calls counts such a pair once)
    wrapped_calls       INTEGER,      -- LLM spans: how many LLM spans sit directly in this one (derived)
    attr_keys           VARCHAR[],    -- span attributes: names ...
    attr_values         VARCHAR[],    -- ... and values, aligned, keys unique
    resource_attributes MAP(VARCHAR, VARCHAR),
    source_file         VARCHAR
);

CREATE OR REPLACE VIEW spans AS
SELECT * EXCLUDE (attr_keys, attr_values, resource_attributes, source_file),
       map(attr_keys, attr_values) AS attributes,
       resource_attributes, attr_keys, attr_values, source_file
FROM span_rows;

CREATE TABLE IF NOT EXISTS span_events (
    trace_id    VARCHAR NOT NULL,
    span_id     VARCHAR NOT NULL,
    time        TIMESTAMP,
    name        VARCHAR,
    attributes  MAP(VARCHAR, VARCHAR),
    eval_name   VARCHAR,              -- gen_ai.evaluation.name (gen_ai.evaluation.result events)
    eval_score  DOUBLE,               -- gen_ai.evaluation.score.value
    eval_label  VARCHAR               -- gen_ai.evaluation.score.label: pass | warning | fail | ...
);

CREATE TABLE IF NOT EXISTS metric_points (
    time            TIMESTAMP,
    start_time      TIMESTAMP,
    metric_name     VARCHAR,
    metric_type     VARCHAR,          -- gauge | sum | histogram | exponential_histogram | summary
    unit            VARCHAR,
    temporality     VARCHAR,          -- cumulative | delta | NULL
    is_monotonic    BOOLEAN,
    service_name    VARCHAR,
    scope_name      VARCHAR,
    attributes      MAP(VARCHAR, VARCHAR),   -- the point's own
    resource_attributes MAP(VARCHAR, VARCHAR),
    value           DOUBLE,           -- gauge / sum
    count           BIGINT,           -- histogram / summary
    sum             DOUBLE,
    min             DOUBLE,
    max             DOUBLE,
    bucket_counts   BIGINT[],         -- histogram: len(explicit_bounds) + 1 buckets
    explicit_bounds DOUBLE[],
    row_key         UBIGINT,          -- content hash used for de-duplication
    source_file     VARCHAR
);

CREATE TABLE IF NOT EXISTS logs (
    time            TIMESTAMP,        -- timeUnixNano, else observedTimeUnixNano
    severity_number INTEGER,
    severity_text   VARCHAR,
    body            VARCHAR,
    trace_id        VARCHAR,
    span_id         VARCHAR,
    service_name    VARCHAR,
    attributes      MAP(VARCHAR, VARCHAR),
    resource_attributes MAP(VARCHAR, VARCHAR),
    row_key         UBIGINT,
    source_file     VARCHAR
);

-- What ingest has read. A file is known by `identity` (hash of its first
-- `head_len` bytes), not by its path, so a rotated backup (renamed) is resumed
-- at `bytes_read` instead of re-read, and a copy of a read file adds nothing.
CREATE TABLE IF NOT EXISTS ingested_files (
    identity    VARCHAR NOT NULL,
    head_len    BIGINT NOT NULL,
    path        VARCHAR,              -- where it was last seen
    format      VARCHAR,              -- jsonl | zstd | zstd-framed
    device      BIGINT,
    inode       BIGINT,
    size        BIGINT,               -- file size when last read
    bytes_read  BIGINT,               -- bytes consumed (decompressed for zstd, raw for framed)
    lines       BIGINT,               -- lines (frames) consumed, for located reports
    mtime       TIMESTAMP,
    ingested_at TIMESTAMP
);

-- The views (llm_calls, evaluations, daily_usage, trace_summary) are in views.sql.
