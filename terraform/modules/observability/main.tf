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

# --- alarms -------------------------------------------------------------------------------------
# One table of alarms (per function, then pipeline-wide) and one resource over it, so every alarm
# gets the same actions and tags. Each entry states what a missing datapoint means for it
# (`missing`): most of these metrics exist only while the function runs or data flows, so silence
# is read as OK there, and the per-function "stalled" alarms below are what turns a silent,
# stopped consumer into an alarm.

locals {
  function_alarms = merge([
    for key, fn in var.functions : {
      "${key}/iterator-age" = {
        name        = "${fn.function_name}-iterator-age"
        description = "${key} is falling behind the stream (IteratorAge of its EFO mapping above ${local.t.iterator_age_ms} ms)."
        namespace   = "AWS/Lambda"
        metric      = "IteratorAge"
        dimensions  = { FunctionName = fn.function_name }
        statistic   = "Maximum"
        period      = local.t.iterator_age_period_s
        evaluations = local.t.evaluation_periods
        datapoints  = local.t.datapoints_to_alarm
        threshold   = local.t.iterator_age_ms
        missing     = "notBreaching" # no invocations, no IteratorAge: the stalled alarm covers that
      }
      "${key}/errors" = {
        name        = "${fn.function_name}-errors"
        description = "${key} invocations failed (batches are retried, bisected, then sent to the on-failure queue)."
        namespace   = "AWS/Lambda"
        metric      = "Errors"
        dimensions  = { FunctionName = fn.function_name }
        statistic   = "Sum"
        period      = local.t.error_alarm_period_s
        evaluations = 1
        datapoints  = 1
        threshold   = local.t.function_errors
        missing     = "notBreaching" # no invocations, no errors
      }
      "${key}/throttles" = {
        name        = "${fn.function_name}-throttles"
        description = "${key} is throttled (account or reserved concurrency)."
        namespace   = "AWS/Lambda"
        metric      = "Throttles"
        dimensions  = { FunctionName = fn.function_name }
        statistic   = "Sum"
        period      = local.t.error_alarm_period_s
        evaluations = 1
        datapoints  = 1
        threshold   = local.t.function_throttles
        missing     = "notBreaching" # no invocations, no throttles
      }
      "${key}/on-failure-depth" = {
        name        = "${fn.on_failure_queue_name}-depth"
        description = "Batches ${key} gave up on (retries/record age exhausted) are waiting in its on-failure queue."
        namespace   = "AWS/SQS"
        metric      = "ApproximateNumberOfMessagesVisible"
        dimensions  = { QueueName = fn.on_failure_queue_name }
        statistic   = "Maximum"
        period      = 300
        evaluations = 1
        datapoints  = 1
        threshold   = local.t.on_failure_messages
        missing     = "notBreaching" # SQS stops reporting an idle, empty queue
      }
      "${key}/parked-user-age" = {
        name        = "${fn.function_name}-parked-user-age"
        description = "${key} has set a user aside for over ${local.t.parked_user_age_s} s and the automatic re-drive has not healed it: that user's state is frozen (docs/operations.md)."
        namespace   = local.ns
        metric      = local.parked_user_age_metric
        dimensions  = { FunctionName = fn.function_name }
        statistic   = "Maximum"
        period      = 300
        evaluations = 1
        datapoints  = 1
        threshold   = local.t.parked_user_age_s
        missing     = "notBreaching" # written by each re-drive run; none yet means nothing was ever parked
      }
    }
  ]...)

  # services/shared/parked-metric.ts PARKED_METRIC.oldestAge: an EMF line of each re-drive run.
  parked_user_age_metric = "OldestParkedUserAgeSeconds"

  pipeline_alarms = {
    events-per-minute = {
      name        = "${var.name_prefix}-events-per-minute"
      description = "More than ${local.t.events_per_minute} events per minute in ${var.environment}."
      namespace   = local.ns
      metric      = "Events"
      dimensions  = local.env
      statistic   = "Sum"
      period      = local.t.events_alarm_period_s
      evaluations = 1
      datapoints  = 1
      threshold   = local.t.events_per_minute * local.t.events_alarm_period_s / 60
      missing     = "notBreaching" # no traffic is below any rate
    }
    invalid-records = {
      name        = "${var.name_prefix}-invalid-records"
      description = "Records failed JSON/schema validation and went to the invalid-records queue."
      namespace   = local.ns
      metric      = "InvalidRecords"
      dimensions  = local.env
      statistic   = "Sum"
      period      = local.t.invalid_alarm_period_s
      evaluations = 1
      datapoints  = 1
      threshold   = local.t.invalid_records
      missing     = "notBreaching" # published only for minutes that had invalid records
    }
    alerts-failed = {
      name        = "${var.name_prefix}-alerts-failed"
      description = "fraud-rules parked an alert as FAILED after SNS refused it repeatedly: list them with `pulse alerts pending --status FAILED`."
      namespace   = local.ns
      metric      = local.alerts_failed.metric
      # Per function, so environments sharing an account never set off each other's alarm.
      dimensions  = { FunctionName = var.functions["fraud-rules"].function_name }
      statistic   = "Sum"
      period      = 300
      evaluations = 1
      datapoints  = 1
      threshold   = 0
      missing     = "notBreaching" # a datapoint exists only when an alert was parked
    }
  }
}

# --- parked alerts --------------------------------------------------------------------------------
# fraud-rules logs one ERROR with this exact message (ALERT_PARKED_MESSAGE in
# services/fraud-rules/alerts.ts; the wiring test compares the two) when it parks an alert as
# FAILED. The metric has no Environment dimension: a metric filter takes dimension values only from
# log fields (the Powertools logs carry none for the environment) and cannot combine dimensions
# with the default value, and the 0 default is what keeps the metric alive between failures.

locals {
  alerts_failed = {
    metric  = "AlertsFailed"
    message = "alert parked as FAILED: SNS refused it repeatedly"
  }
}

resource "aws_cloudwatch_log_metric_filter" "alerts_failed" {
  name           = "${var.name_prefix}-alerts-failed"
  log_group_name = var.fraud_rules_log_group_name
  pattern        = "{ ($.level = \"ERROR\") && ($.message = \"${local.alerts_failed.message}\") }"

  metric_transformation {
    name      = local.alerts_failed.metric
    namespace = local.ns
    value     = "1"
    # The function name (pulse-<env>-fraud-rules) comes from the log line itself. CloudWatch takes
    # no default value on a filter with dimensions, hence no zeros between parkings.
    dimensions = { FunctionName = "$.function_name" }
  }
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = merge(local.function_alarms, local.pipeline_alarms)

  alarm_name          = each.value.name
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  period              = each.value.period
  evaluation_periods  = each.value.evaluations
  datapoints_to_alarm = each.value.datapoints
  comparison_operator = "GreaterThanThreshold"
  threshold           = each.value.threshold
  treat_missing_data  = each.value.missing
  alarm_actions       = local.alarm_common.alarm_actions
  ok_actions          = local.alarm_common.ok_actions
  tags                = var.tags
}

# --- stalled consumers ---------------------------------------------------------------------------
# A disabled mapping, a KMS or IAM failure, or a broken EFO consumer stops the batches a
# function's stream mapping delivers, and then IteratorAge/Errors/Throttles simply stop existing.
# This alarm fires when records keep arriving on the stream while the mapping delivers no batch at
# all, for stalled_periods consecutive periods (3 x 5 min = 15 min by default).
#
# "Delivers a batch" is the SampleCount of AWS/Lambda IteratorAge: Lambda reports one IteratorAge
# sample per stream batch and none for any other invocation. Invocations would not do: it also
# counts scheduled invocations (fraud-rules republishes pending alerts every 5 minutes), which
# keep coming while the stream mapping is dead.

locals {
  stalled_alarms = {
    for key, fn in var.functions : key => {
      name        = "${fn.function_name}-stalled"
      description = "${key} gets no batches from ${var.stream_name} although records arrive on it (mapping disabled, permission/KMS failure or consumer broken)."
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "stalled" {
  for_each = local.stalled_alarms

  alarm_name          = each.value.name
  alarm_description   = each.value.description
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  evaluation_periods  = local.t.stalled_periods
  datapoints_to_alarm = local.t.stalled_periods
  # No stream data at all means nothing arrived: nothing to process, not stalled.
  treat_missing_data = "notBreaching"
  alarm_actions      = local.alarm_common.alarm_actions
  ok_actions         = local.alarm_common.ok_actions
  tags               = var.tags

  metric_query {
    id          = "stalled"
    label       = "records in while ${each.key} gets no stream batches"
    expression  = "IF(FILL(records, 0) > 0, IF(FILL(batches, 0) == 0, 1, 0), 0)"
    return_data = true
  }

  metric_query {
    id = "records"

    metric {
      namespace   = "AWS/Kinesis"
      metric_name = "IncomingRecords"
      dimensions  = { StreamName = var.stream_name }
      stat        = "Sum"
      period      = local.t.stalled_period_s
    }
  }

  # Stream batches delivered to the function: one IteratorAge sample each (see above).
  metric_query {
    id = "batches"

    metric {
      namespace   = "AWS/Lambda"
      metric_name = "IteratorAge"
      dimensions  = { FunctionName = var.functions[each.key].function_name }
      stat        = "SampleCount"
      period      = local.t.stalled_period_s
    }
  }
}

# --- saved Logs Insights queries -----------------------------------------------------------------
# The query text lives in queries/*.logsinsights (reviewed like code, pasted as is into the
# console); field names are those of the services' structured logs.

locals {
  queries = {
    errors-by-function = "Errors and warnings of every function, counted by function and message"
    user-events        = "Everything the pipeline logged about one user (edit the user id in the filter)"
    batch-lifecycle    = "One invocation from START to REPORT (edit the request id in the filter)"
  }
}

resource "aws_cloudwatch_query_definition" "this" {
  for_each = local.queries

  name            = "${var.name_prefix}/${each.key}"
  log_group_names = [for f in values(var.functions) : f.log_group_name]
  query_string    = file("${path.module}/queries/${each.key}.logsinsights")
}

# --- dashboard ----------------------------------------------------------------------------------

locals {
  search = {
    events_by_type = "SEARCH('{${local.ns},Environment,EventType} MetricName=\"Events\" Environment=\"${var.environment}\"', 'Sum', 60)"
    lag_by_fn      = "SEARCH('{${local.ns},Environment,Function} MetricName=\"PipelineLagMs\" Environment=\"${var.environment}\"', 'Maximum', 60)"
    # Money is never added across currencies: Revenue and OrderValue carry a Currency dimension,
    # and each search returns one line per currency that had purchases.
    revenue_by_currency   = "SEARCH('{${local.ns},Currency,Environment} MetricName=\"Revenue\" Environment=\"${var.environment}\"', 'Sum', 60)"
    avg_order_by_currency = "SEARCH('{${local.ns},Currency,Environment} MetricName=\"OrderValue\" Environment=\"${var.environment}\"', 'Average', 60)"
    max_order_by_currency = "SEARCH('{${local.ns},Currency,Environment} MetricName=\"OrderValue\" Environment=\"${var.environment}\"', 'Maximum', 60)"
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
      title = "Revenue per minute, by currency"
      metrics = [
        [{ expression = local.search.revenue_by_currency, id = "rev", label = "" }],
        [local.ns, "Purchases", "Environment", var.environment, { stat = "Sum", label = "purchases (all currencies)", yAxis = "right" }],
      ]
    },
    {
      # OrderValue holds one sample per purchase, so its Average is Revenue / purchases of that
      # currency, computed by CloudWatch per currency without metric math across series.
      title = "Average order value, by currency"
      metrics = [
        [{ expression = local.search.avg_order_by_currency, id = "aov", label = "" }],
        [{ expression = local.search.max_order_by_currency, id = "maxov", label = "largest order", yAxis = "right" }],
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
