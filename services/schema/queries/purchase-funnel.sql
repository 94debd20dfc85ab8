-- Purchase funnel over a range of days: users who viewed a product, then (at or after their first
-- view) added to cart, then (at or after that) purchased. Parameters: first day, last day.
WITH deduped AS (
  SELECT user_id, event_type, event_time,
         row_number() OVER (PARTITION BY user_id, event_id ORDER BY arrival_time, sequence_number) AS copy
  FROM ${events}
  WHERE dt BETWEEN ? AND ? AND event_type IN ('product_view', 'add_to_cart', 'purchase')
),
viewed AS (
  SELECT user_id, min(event_time) AS at FROM deduped
  WHERE copy = 1 AND event_type = 'product_view' GROUP BY user_id
),
carted AS (
  SELECT d.user_id, min(d.event_time) AS at FROM deduped d JOIN viewed v ON d.user_id = v.user_id
  WHERE d.copy = 1 AND d.event_type = 'add_to_cart' AND d.event_time >= v.at GROUP BY d.user_id
),
purchased AS (
  SELECT d.user_id, min(d.event_time) AS at FROM deduped d JOIN carted c ON d.user_id = c.user_id
  WHERE d.copy = 1 AND d.event_type = 'purchase' AND d.event_time >= c.at GROUP BY d.user_id
)
SELECT (SELECT count(*) FROM viewed) AS viewed_product,
       (SELECT count(*) FROM carted) AS added_to_cart,
       (SELECT count(*) FROM purchased) AS purchased
