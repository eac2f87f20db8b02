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
--     its last value; a value setting several members is read as the first it
--     sets of string, int, double, bool, array, kvlist, bytes
--     (_attribute_entries.VALUE_MEMBERS), and both are named in the ingest report.
--   * `spans` is a view over the table `span_rows`, which stores span attributes
--     as two aligned lists, `attr_keys` and `attr_values`: building a DuckDB MAP
--     costs ~3 us per row (about a third of the whole ingest), so `spans` builds
--     `attributes` only for queries that read it. On large stores the lists are
--     the fast path:  attr_values[list_position(attr_keys, 'user.id')]  (the
--     `spans` view exposes both lists too).
--   * Typed columns are read from the first present spelling of each producer
--     (otel-llm / GenAI semconv, OpenLLMetry, OpenLIT, OpenInference); the
--     spelling table lives in _spellings.py (SPELLINGS), and what is mapped
--     rather than spelled (a span's kind, the provider's semconv name, the
--     requested model in invocation parameters, a usable cost) in
--     _producers.py. A value present but unreadable as its column's type (a
--     token count "many") is NULL, and the ingest report names it with file
--     and line.
--   * Each resource is stored once, in `resources` (resource_id, resource_hash,
--     resource_attributes); span_rows keeps its number (a MAP per span cost ~40% of
--     the span insert), and `spans` / `llm_calls` show it as `resource_attributes`
--     (resource_attributes_of below). A store made by
--     an older version, with the MAP on every span, is converted when opened for
--     writing (_rows.create_tables).
--   * The tables themselves - span_rows, span_events, span_links,
--     metric_points, metric_exemplars, logs, resources - are defined once, column by
--     column with their notes, in _rows.py (TABLES), which creates them before
--     this file runs (and adds new columns to a store made by an older version).
--     Each column's note is its DuckDB comment:
--     `SELECT column_name, comment FROM duckdb_columns() WHERE table_name = 'span_rows'`.
--   * No PRIMARY KEY (it makes bulk loads several times slower): ingest keeps
--     spans unique on (trace_id, span_id, start_time) itself (events and links
--     follow their span), and logs / metric points unique on `row_key`: a hash of everything
--     that makes two records differ (time, body, event name, scope, attributes,
--     resource, ...; exemplars follow their point through `point_key`).

-- The attributes of resource number `id` (span_rows.resource_id): one list of every
-- resource, made once per query, indexed by number. Free for a query that does not
-- read it (a join would cost every query over spans ~10 ms per 1M spans: DuckDB does
-- not drop an unused join), and no dearer than a join for one that does. It is why
-- resources are numbered 1, 2, 3, ... without gaps.
CREATE OR REPLACE MACRO resource_attributes_of(id) AS
    (SELECT list(resource_attributes ORDER BY resource_id) FROM resources)[id];

CREATE OR REPLACE VIEW spans AS
SELECT * EXCLUDE (attr_keys, attr_values, resource_id, source_file),
       map(attr_keys, attr_values) AS attributes,
       resource_attributes_of(resource_id) AS resource_attributes, attr_keys, attr_values, source_file
FROM span_rows;

-- What ingest has read, one row per file (device, inode). A file is resumed at
-- `bytes_read` only while it provably is the file read up to there: the same
-- inode (a rename keeps it: rotated backups resume), the same first `head_len`
-- bytes (`identity`) and the same `tail_digest` of the bytes just before
-- `bytes_read`. Anything else (a copy, a file rewritten in place) is read from
-- the start, and de-duplication drops what is already stored.
CREATE TABLE IF NOT EXISTS ingested_files (
    identity    VARCHAR NOT NULL,     -- SHA-256 of the first head_len bytes
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
ALTER TABLE ingested_files ADD COLUMN IF NOT EXISTS tail_digest VARCHAR;  -- SHA-256 of the 4 KB before bytes_read

-- What ingest last derived over the whole store, so later ingests derive only for
-- the spans they read: 'nesting' = the version of the rule the nesting columns
-- (wrapper_span_id, wrapped_calls) were derived by; 'pricing' = a fingerprint of
-- the price tables every stored call without a cost was last priced with (other
-- tables - a pricing file changed, a new genai-prices - re-price the whole store);
-- 'unfinished_ingest' = the highest span rowid before an ingest that has not yet
-- priced, paired and walked the rows it stored (an interrupted one: _unfinished.py).
CREATE TABLE IF NOT EXISTS ingest_state (
    name  VARCHAR NOT NULL,
    value VARCHAR
);

-- The views (llm_calls, evaluations, daily_usage, trace_summary) are in views.sql.
