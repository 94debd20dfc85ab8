data "aws_region" "current" {}

locals {
  ns     = var.metrics_namespace
  env    = { Environment = var.environment }
  t      = var.thresholds
  region = data.aws_region.current.region
  alarm_common = {
    alarm_actions = [var.alarm_topic_arn]
    ok_actions    = [var.alarm_topic_arn]
  }
}

# --- per-function alarms ------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "iterator_age" {
  for_each = var.functions

  alarm_name          = "${each.value.function_name}-iterator-age"
  alarm_description   = "${each.key} is falling behind the stream (IteratorAge of its EFO mapping above ${local.t.iterator_age_ms} ms)."
  namespace           = "AWS/Lambda"
  metric_name         = "IteratorAge"
  dimensions          = { FunctionName = each.value.function_name }
  statistic           = "Maximum"
  period              = local.t.iterator_age_period_s
  evaluation_periods  = local.t.evaluation_periods
  datapoints_to_alarm = local.t.datapoints_to_alarm
  comparison_operator = "GreaterThanThreshold"
  threshold           = local.t.iterator_age_ms
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_common.alarm_actions
  ok_actions          = local.alarm_common.ok_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  for_each = var.functions

  alarm_name          = "${each.value.function_name}-errors"
  alarm_description   = "${each.key} invocations failed (batches are retried, bisected, then sent to the on-failure queue)."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = each.value.function_name }
  statistic           = "Sum"
  period              = local.t.error_alarm_period_s
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = local.t.function_errors
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_common.alarm_actions
  ok_actions          = local.alarm_common.ok_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "throttles" {
  for_each = var.functions

  alarm_name          = "${each.value.function_name}-throttles"
  alarm_description   = "${each.key} is throttled (account or reserved concurrency)."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = each.value.function_name }
  statistic           = "Sum"
  period              = local.t.error_alarm_period_s
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = local.t.function_throttles
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_common.alarm_actions
  ok_actions          = local.alarm_common.ok_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "on_failure_depth" {
  for_each = var.functions

  alarm_name          = "${each.value.on_failure_queue_name}-depth"
  alarm_description   = "Batches ${each.key} gave up on (retries/record age exhausted) are waiting in its on-failure queue."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = each.value.on_failure_queue_name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = local.t.on_failure_messages
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_common.alarm_actions
  ok_actions          = local.alarm_common.ok_actions
  tags                = var.tags
}

# --- pipeline alarms (metrics the services publish) --------------------------------------------

resource "aws_cloudwatch_metric_alarm" "events_per_minute" {
  alarm_name          = "${var.name_prefix}-events-per-minute"
  alarm_description   = "More than ${local.t.events_per_minute} events per minute in ${var.environment}."
  namespace           = local.ns
  metric_name         = "Events"
  dimensions          = local.env
  statistic           = "Sum"
  period              = local.t.events_alarm_period_s
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = local.t.events_per_minute * local.t.events_alarm_period_s / 60
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_common.alarm_actions
  ok_actions          = local.alarm_common.ok_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "invalid_records" {
  alarm_name          = "${var.name_prefix}-invalid-records"
  alarm_description   = "Records failed JSON/schema validation and went to the invalid-records queue."
  namespace           = local.ns
  metric_name         = "InvalidRecords"
  dimensions          = local.env
  statistic           = "Sum"
  period              = local.t.invalid_alarm_period_s
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = local.t.invalid_records
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_common.alarm_actions
  ok_actions          = local.alarm_common.ok_actions
  tags                = var.tags
}

# --- dashboard ----------------------------------------------------------------------------------

locals {
  search = {
    events_by_type = "SEARCH('{${local.ns},Environment,EventType} MetricName=\"Events\" Environment=\"${var.environment}\"', 'Sum', 60)"
    lag_by_fn      = "SEARCH('{${local.ns},Environment,Function} MetricName=\"PipelineLagMs\" Environment=\"${var.environment}\"', 'Maximum', 60)"
  }
  fn_metrics = {
    for m in ["Errors", "Throttles", "IteratorAge"] : m => [
      for k, f in var.functions : ["AWS/Lambda", m, "FunctionName", f.function_name, { label = "${k} ${m}", stat = m == "IteratorAge" ? "Maximum" : "Sum" }]
    ]
  }
  widget = { width = 12, height = 6 }
  widgets = [
    {
      title   = "Throughput: events per minute by type"
      metrics = [[{ expression = local.search.events_by_type, id = "e1", label = "" }], [local.ns, "Events", "Environment", var.environment, { id = "m1", label = "all events", stat = "Sum" }]]
    },
    {
      title   = "Revenue per minute"
      metrics = [[local.ns, "Revenue", "Environment", var.environment, { stat = "Sum", label = "revenue" }], [local.ns, "Purchases", "Environment", var.environment, { stat = "Sum", label = "purchases", yAxis = "right" }]]
    },
    {
      title = "Average order value (Revenue / Purchases)"
      metrics = [
        [local.ns, "Revenue", "Environment", var.environment, { id = "rev", stat = "Sum", visible = false }],
        [local.ns, "Purchases", "Environment", var.environment, { id = "pur", stat = "Sum", visible = false }],
        [{ expression = "IF(pur > 0, rev / pur)", id = "aov", label = "average order value" }],
        [local.ns, "OrderValue", "Environment", var.environment, { stat = "Maximum", label = "largest order", yAxis = "right" }],
      ]
    },
    {
      title   = "Lag: pipeline lag (ms, by function) and iterator age"
      metrics = concat([[{ expression = local.search.lag_by_fn, id = "lag", label = "" }]], local.fn_metrics.IteratorAge)
    },
    {
      title = "Errors: function errors, throttles, invalid records, on-failure queues"
      metrics = concat(
        local.fn_metrics.Errors,
        local.fn_metrics.Throttles,
        [[local.ns, "InvalidRecords", "Environment", var.environment, { stat = "Sum", label = "invalid records" }]],
        [for k, f in var.functions : ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", f.on_failure_queue_name, { stat = "Maximum", label = "${k} on-failure queue", yAxis = "right" }]],
      )
    },
    {
      title = "Fraud alerts published / stream input"
      metrics = [
        ["AWS/SNS", "NumberOfMessagesPublished", "TopicName", var.alerts_topic_name, { stat = "Sum", label = "alerts published" }],
        ["AWS/Kinesis", "IncomingRecords", "StreamName", var.stream_name, { stat = "Sum", label = "records in", yAxis = "right" }],
      ]
    },
  ]
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name_prefix
  dashboard_body = jsonencode({
    widgets = [
      for i, w in local.widgets : {
        type   = "metric"
        x      = (i % 2) * local.widget.width
        y      = floor(i / 2) * local.widget.height
        width  = local.widget.width
        height = local.widget.height
        properties = {
          title   = w.title
          region  = local.region
          view    = "timeSeries"
          stacked = false
          period  = 60
          metrics = w.metrics
        }
      }
    ]
  })
}
