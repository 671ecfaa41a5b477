-- The alert rules' states (processor/src/alerts/state-store.ts), so a restarted processor carries
-- on where it stopped: an alert that was firing is not announced (and POSTed) again, a pending one
-- keeps its clock. One row per rule and transition; the newest (updated_at) wins.
CREATE TABLE IF NOT EXISTS alert_states
(
    rule       String,
    kind       LowCardinality(String),
    state      LowCardinality(String),
    since      DateTime64(3, 'UTC'),
    value      Nullable(Float64),
    threshold  Nullable(Float64),
    message    String,
    updated_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY rule;
