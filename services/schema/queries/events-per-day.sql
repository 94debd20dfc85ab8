-- Events per day and type, each event once (a producer duplicate or a re-delivered row counted once).
-- Parameters: first day, last day (YYYY-MM-DD, inclusive); only those days' partitions are read.
WITH deduped AS (
  SELECT dt, event_type,
         row_number() OVER (PARTITION BY user_id, event_id ORDER BY arrival_time, sequence_number) AS copy
  FROM ${events}
  WHERE dt BETWEEN ? AND ?
)
SELECT dt AS day, event_type, count(*) AS events
FROM deduped
WHERE copy = 1
GROUP BY dt, event_type
ORDER BY dt, event_type
