data "aws_region" "current" {}

locals {
  ns     = var.metrics_namespace
  env    = { Environment = var.environment }
  t      = var.thresholds
  region = data.aws_region.current.region
  # OK notifications only where "it is over" is news someone waits for (a stalled consumer runs
  # again, a lag is caught up, revenue is back in its band). Every other alarm clears itself within
  # a period or two, and each new alarm moving from INSUFFICIENT_DATA to OK on the first deploy
  # would otherwise mail every ops subscriber once per alarm.
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
        notify_ok   = true           # "caught up" ends the incident
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
        notify_ok   = false
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
        notify_ok   = false
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
        notify_ok   = false
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
        notify_ok   = false          # the re-drive heals by itself; only the age is news
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
      notify_ok   = false
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
      notify_ok   = false
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
      notify_ok   = false
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
  ok_actions          = each.value.notify_ok ? local.alarm_common.ok_actions : []
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
#
# A period where the function got no batch has no IteratorAge datapoint at all. The expression does
# not rely on FILL() to turn that into 0 (undocumented for a series with no data in the window):
# `0*records + batches` is batches wherever it exists and 0 where only records exist, because
# metric math arithmetic between two series treats a missing value as 0 at a timestamp the other
# series has. No records and no batches: no datapoint, which treat_missing_data reads as OK.

locals {
  stalled_expression = "IF(records > 0 AND (0 * records + batches) == 0, 1, 0)"
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
  ok_actions         = local.alarm_common.ok_actions # "it runs again" ends the incident
  tags               = var.tags

  metric_query {
    id          = "stalled"
    label       = "records in while ${each.key} gets no stream batches"
    expression  = local.stalled_expression
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

# --- anomaly detection: what the business notices first --------------------------------------------
# A fixed threshold cannot tell a quiet Sunday night from a broken checkout at 8 pm on a Friday.
# These alarms compare each period with the band CloudWatch learns for that hour and weekday
# (ANOMALY_DETECTION_BAND over a metric math expression) and fire on a drop below it or a spike
# above it. Per series, in metric math:
#   value   = 0 * records + <metric>   the metric, 0 where the stream had records but the metric
#                                       had no datapoint (no purchase at all is a drop, not silence)
#   floored = IF(value < minimum, minimum, value)
#             below the minimum volume every value looks the same, so small numbers at night cannot
#             leave the band, while a fall from normal volume to nothing still does
#   band    = ANOMALY_DETECTION_BAND(floored, band_width)
# No record on the stream at all leaves no datapoint (treat_missing_data: not breaching); the
# stalled alarms cover records that arrive without being processed.

locals {
  a = var.anomaly
  anomaly_records = {
    namespace   = "AWS/Kinesis"
    metric_name = "IncomingRecords"
    dimensions  = { StreamName = var.stream_name }
  }
  anomaly_alarms = merge(
    {
      events = {
        name        = "${var.name_prefix}-events-anomaly"
        what        = "Events"
        description = "Events in ${var.environment} left their usual band for this hour and weekday (band ${local.a.events.band_width} standard deviations; quiet below ${local.a.events.minimum} events per ${local.a.period_s / 60} min)."
        metric_name = "Events"
        dimensions  = local.env
        band_width  = local.a.events.band_width
        minimum     = local.a.events.minimum
      }
      purchases = {
        name        = "${var.name_prefix}-purchases-anomaly"
        what        = "Purchases"
        description = "Purchases in ${var.environment} left their usual band for this hour and weekday (band ${local.a.purchases.band_width} standard deviations; quiet below ${local.a.purchases.minimum} purchases per ${local.a.period_s / 60} min): a checkout or payment problem, or a campaign."
        metric_name = "Purchases"
        dimensions  = local.env
        band_width  = local.a.purchases.band_width
        minimum     = local.a.purchases.minimum
      }
    },
    # Revenue is never added across currencies: one alarm per currency series.
    {
      for currency, r in local.a.revenue : "revenue-${currency}" => {
        name        = "${var.name_prefix}-revenue-${lower(currency)}-anomaly"
        what        = "Revenue ${currency}"
        description = "Revenue in ${currency} in ${var.environment} left its usual band for this hour and weekday (band ${r.band_width} standard deviations; quiet below ${r.minimum} ${currency} per ${local.a.period_s / 60} min)."
        metric_name = "Revenue"
        dimensions  = merge(local.env, { Currency = currency })
        band_width  = r.band_width
        minimum     = r.minimum
      }
    },
  )
  anomaly_expressions = {
    for k, x in local.anomaly_alarms : k => {
      value   = "0 * records + metric"
      floored = "IF(value < ${x.minimum}, ${x.minimum}, value)"
      band    = "ANOMALY_DETECTION_BAND(floored, ${x.band_width})"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "anomaly" {
  for_each = local.anomaly_alarms

  alarm_name          = each.value.name
  alarm_description   = each.value.description
  comparison_operator = "LessThanLowerOrGreaterThanUpperThreshold" # a drop and a spike
  threshold_metric_id = "band"
  evaluation_periods  = local.a.evaluation_periods
  datapoints_to_alarm = local.a.datapoints_to_alarm
  treat_missing_data  = "notBreaching" # no record on the stream at all: nothing to compare
  alarm_actions       = local.alarm_common.alarm_actions
  ok_actions          = local.alarm_common.ok_actions # "back in its band" ends the incident
  tags                = var.tags

  metric_query {
    id          = "band"
    label       = "expected ${each.value.what}"
    expression  = local.anomaly_expressions[each.key].band
    return_data = true
  }

  metric_query {
    id          = "floored"
    label       = "${each.value.what} (at least ${each.value.minimum})"
    expression  = local.anomaly_expressions[each.key].floored
    return_data = true
  }

  metric_query {
    id         = "value"
    expression = local.anomaly_expressions[each.key].value
  }

  metric_query {
    id = "metric"

    metric {
      namespace   = local.ns
      metric_name = each.value.metric_name
      dimensions  = each.value.dimensions
      stat        = "Sum"
      period      = local.a.period_s
    }
  }

  metric_query {
    id = "records"

    metric {
      namespace   = local.anomaly_records.namespace
      metric_name = local.anomaly_records.metric_name
      dimensions  = local.anomaly_records.dimensions
      stat        = "Sum"
      period      = local.a.period_s
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

# The anomaly alarms as they see it: the compared series and its band, one graph per alarm.
locals {
  anomaly_widgets = [
    for k, x in local.anomaly_alarms : {
      title  = "${x.what} against its expected band (${x.name})"
      period = local.a.period_s
      metrics = [
        [{ expression = local.anomaly_expressions[k].band, id = "band", label = "expected (band ${x.band_width} sd)" }],
        [{ expression = local.anomaly_expressions[k].floored, id = "floored", label = "${x.what}, at least ${x.minimum}" }],
        [{ expression = local.anomaly_expressions[k].value, id = "value", visible = false }],
        concat([local.ns, x.metric_name], flatten([for d, v in x.dimensions : [d, v]]), [{ id = "metric", stat = "Sum", visible = false }]),
        ["AWS/Kinesis", "IncomingRecords", "StreamName", var.stream_name, { id = "records", stat = "Sum", visible = false }],
      ]
    }
  ]
  all_widgets = concat([for w in local.widgets : merge(w, { period = 60 })], local.anomaly_widgets)
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name_prefix
  dashboard_body = jsonencode({
    widgets = [
      for i, w in local.all_widgets : {
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
          period  = w.period
          metrics = w.metrics
        }
      }
    ]
  })
}
