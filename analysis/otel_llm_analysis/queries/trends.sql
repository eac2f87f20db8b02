-- LLM calls per {period} between $start (inclusive) and $end (exclusive), with
-- every period present: periods without calls get zeros, not gaps, so charts and
-- spike detection see quiet days as quiet. Calls are `llm_calls` rows; the cost is
-- of the priced ones, and the unpriced ones (tokens, no price) are counted apart.
-- Many windows at once (trends._counted_sets): {periods} reads each set's periods (set_start to
-- set_end), {sets} joins the sets (set_id and the set's bounds, which {where} then reads) and {set_id} /
-- {by_set} / {p_set} carry set_id through; for one window they read $start and $end, or are empty.
WITH periods AS (
    {periods}
), calls AS (
    SELECT
        date_trunc('{period}', start_time) AS period, {set_id}
        count(*) AS calls,
        coalesce(sum(input_tokens), 0) AS input_tokens,
        coalesce(sum(output_tokens), 0) AS output_tokens,
        coalesce(sum(cost_usd), 0.0) AS cost_usd,
        count(*) FILTER (WHERE {is_error}) AS errors,
        count(cost_usd) AS priced_calls,
        count(*) FILTER (WHERE {is_unpriced}) AS unpriced_calls,
        quantile_cont(duration_ms, 0.95) AS p95_ms
    FROM llm_calls{sets}
    WHERE {where}
    GROUP BY 1{by_set}
)
SELECT
    {p_set}p.period,
    coalesce(c.calls, 0) AS calls,
    coalesce(c.input_tokens, 0) AS input_tokens,
    coalesce(c.output_tokens, 0) AS output_tokens,
    coalesce(c.cost_usd, 0.0) AS cost_usd,
    coalesce(c.errors, 0) AS errors,
    c.p95_ms,
    coalesce(c.priced_calls, 0) AS priced_calls,
    coalesce(c.unpriced_calls, 0) AS unpriced_calls
FROM periods p
LEFT JOIN calls c USING (period{by_set})
ORDER BY {p_set}p.period
