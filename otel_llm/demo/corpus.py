"""The demo's knowledge base and the questions its simulated users ask.

Why built in: the demo must run on a fresh machine with no network and no data
download, and the retrieval must still find something relevant for most
questions (and nothing for a few), so the traces show both paths.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Document:
    """One knowledge-base article; ``id`` is stable so runs can be compared."""

    id: str
    title: str
    text: str


DOCUMENTS: tuple[Document, ...] = (
    Document(
        "kb-001",
        "Configuring the file exporter",
        "Call otel_llm.configure with exporter set to file and an output_dir. Traces, metrics "
        "and logs are written as OTLP JSON lines to traces.jsonl, metrics.jsonl and logs.jsonl, "
        "one export request per line, exactly like the collector file exporter.",
    ),
    Document(
        "kb-002",
        "Sending telemetry to a collector",
        "Set exporter to otlp and point endpoint at the collector, for example "
        "http://localhost:4318. The OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_EXPORTER_OTLP_PROTOCOL "
        "environment variables are honoured, and http/protobuf is the default protocol.",
    ),
    Document(
        "kb-003",
        "How cost is calculated",
        "Cost is computed from token usage and a dated price table per model. Cached input "
        "tokens are priced at the cache read rate, output tokens at the output rate. A model "
        "missing from every price table gets no cost attribute and a single warning.",
    ),
    Document(
        "kb-004",
        "Custom model prices",
        "Pass pricing to configure as a dict or a path to a JSON or YAML file with input, "
        "output, cache_read and cache_write prices in USD per million tokens. User prices win "
        "over the bundled table, which records its source on every span.",
    ),
    Document(
        "kb-005",
        "Tracing graph nodes",
        "Decorate each node of an agent graph with graph_node. Nested nodes become child spans, "
        "so a slow retrieve step or an expensive generate step is visible inside the chat turn "
        "that triggered it.",
    ),
    Document(
        "kb-006",
        "Vector store operations",
        "The vector_op decorator records the database system, the operation, the collection "
        "name, the requested top_k and the number of rows returned for every search or insert "
        "against a vector store.",
    ),
    Document(
        "kb-007",
        "Streaming responses",
        "When an LLM call returns a stream, the span stays open until the stream is exhausted, "
        "closed or garbage collected. The first chunk is recorded as a first token event and "
        "the usage of the final chunk gives the token counts.",
    ),
    Document(
        "kb-008",
        "Capturing prompt content",
        "Prompt and completion text is not captured by default. Enable capture_content or the "
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT variable, and pass a redact function "
        "to mask emails, keys or other secrets before text is exported.",
    ),
    Document(
        "kb-009",
        "Sessions, users and run configurations",
        "Wrap a conversation in otel_llm.session with a thread id, a user id and a run_config "
        "such as temperature and max_retries. Every span inside carries them, so runs can be "
        "compared by configuration later.",
    ),
    Document(
        "kb-010",
        "Recording evaluations",
        "Call record_evaluation with a name, a score and a label such as pass, warning or fail. "
        "It adds a gen_ai.evaluation.result event to the current span, which the analysis "
        "turns into pass rates per model and per run configuration.",
    ),
    Document(
        "kb-011",
        "Budgets and alerts",
        "The budget command compares monthly spend with a budget per project or model, "
        "projects month end spend from the current burn rate and exits non zero when a budget "
        "is critical, so it can gate a CI job.",
    ),
    Document(
        "kb-012",
        "Retries and errors",
        "A failed LLM call ends its span with ERROR status and an exception event. When the "
        "application retries, every attempt is its own span, so the error rate and the cost of "
        "retries are both visible.",
    ),
    Document(
        "kb-013",
        "Analysing traces with DuckDB",
        "The ingest command loads the JSON lines files into a DuckDB database incrementally. "
        "Summary, trends, compare and traces commands then report tokens, cost, latency "
        "percentiles and the most expensive traces.",
    ),
    Document(
        "kb-014",
        "Python logging",
        "With the file exporter, Python logging records are bridged to OpenTelemetry logs and "
        "written to logs.jsonl with the trace id and span id of the span that was active when "
        "the record was emitted.",
    ),
)

# Questions the simulated users ask, most answerable from the knowledge base.
QUESTIONS: tuple[str, ...] = (
    "How do I write traces to local files?",
    "Which environment variable sets the collector endpoint?",
    "How are cached input tokens priced?",
    "Can I override the price of a model with my own table?",
    "How do graph nodes show up in a trace?",
    "What does the vector_op decorator record for a search?",
    "How is time to first token measured for streaming responses?",
    "Is prompt text captured by default and how do I redact secrets?",
    "How do I compare runs with different temperature settings?",
    "How do I record a pass or fail quality check on an answer?",
    "Can a monthly budget fail my CI job?",
    "What happens to the span when an LLM call raises an error?",
    "How do I load the trace files into DuckDB?",
    "Do Python log records keep the trace id?",
    "What if my model is missing from the price table?",
    "How do I send spans to an OpenTelemetry collector over http?",
)

# Small talk the classifier should route past retrieval.
CHITCHAT: tuple[str, ...] = (
    "Hi there!",
    "Thanks, that helps.",
    "Hello, who are you?",
    "Great, thank you!",
)

# Questions nothing in the knowledge base answers (retrieval finds little).
OUT_OF_SCOPE: tuple[str, ...] = (
    "What is the weather like in Lisbon tomorrow?",
    "Can you recommend a good pizza recipe?",
)
