-- LLM calls per {period} between $start (inclusive) and $end (exclusive), with
-- every period present: periods without calls get zeros, not gaps, so charts and
-- spike detection see quiet days as quiet. Calls are `llm_calls` rows; the cost is
-- of the priced ones, and the unpriced ones (tokens, no price) are counted apart.
WITH periods AS (
    SELECT range AS period FROM range($start, $end, INTERVAL 1 {period})
), calls AS (
    SELECT
        date_trunc('{period}', start_time) AS period,
        count(*) AS calls,
        coalesce(sum(input_tokens), 0) AS input_tokens,
        coalesce(sum(output_tokens), 0) AS output_tokens,
        coalesce(sum(cost_usd), 0.0) AS cost_usd,
        count(*) FILTER (WHERE {is_error}) AS errors,
        count(cost_usd) AS priced_calls,
        count(*) FILTER (WHERE {is_unpriced}) AS unpriced_calls,
        quantile_cont(duration_ms, 0.95) AS p95_ms
    FROM llm_calls
    WHERE {where}
    GROUP BY 1
)
SELECT
    p.period,
    coalesce(c.calls, 0) AS calls,
    coalesce(c.input_tokens, 0) AS input_tokens,
    coalesce(c.output_tokens, 0) AS output_tokens,
    coalesce(c.cost_usd, 0.0) AS cost_usd,
    coalesce(c.errors, 0) AS errors,
    c.p95_ms,
    coalesce(c.priced_calls, 0) AS priced_calls,
    coalesce(c.unpriced_calls, 0) AS unpriced_calls
FROM periods p
LEFT JOIN calls c USING (period)
ORDER BY p.period
