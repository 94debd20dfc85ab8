-- One user's events in order, each once. Parameters: user id, first day, last day (YYYY-MM-DD).
WITH deduped AS (
  SELECT event_time, event_type, event_id, data, arrival_time,
         row_number() OVER (PARTITION BY user_id, event_id ORDER BY arrival_time, sequence_number) AS copy
  FROM ${events}
  WHERE user_id = ? AND dt BETWEEN ? AND ?
)
SELECT event_time, event_type, event_id, data, arrival_time
FROM deduped
WHERE copy = 1
ORDER BY event_time, event_id
