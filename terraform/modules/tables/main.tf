locals {
  # Every key attribute of a table and of its indexes is declared once (DynamoDB rejects duplicate
  # and unused attribute definitions), all strings.
  attributes = {
    for k, t in var.tables : k => distinct(compact(concat(
      [t.hash_key, t.range_key],
      flatten([for i in t.global_secondary_indexes : [i.hash_key, i.range_key]]),
    )))
  }
}

resource "aws_dynamodb_table" "this" {
  for_each = var.tables

  name                        = "${var.name_prefix}-${each.key}"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = each.value.hash_key
  range_key                   = each.value.range_key
  deletion_protection_enabled = var.deletion_protection

  dynamic "attribute" {
    for_each = local.attributes[each.key]
    content {
      name = attribute.value
      type = "S"
    }
  }

  # Sparse indexes: an item appears in an index only while it has the index's key attributes
  # (e.g. the alerts outbox index holds PENDING alerts only). Projection ALL so a query needs no
  # second read of the table.
  dynamic "global_secondary_index" {
    for_each = each.value.global_secondary_indexes
    iterator = gsi
    content {
      name            = gsi.value.name
      projection_type = "ALL"

      key_schema {
        attribute_name = gsi.value.hash_key
        key_type       = "HASH"
      }

      dynamic "key_schema" {
        for_each = gsi.value.range_key == null ? [] : [gsi.value.range_key]
        content {
          attribute_name = key_schema.value
          key_type       = "RANGE"
        }
      }
    }
  }

  dynamic "ttl" {
    for_each = each.value.ttl_attribute == null ? [] : [each.value.ttl_attribute]
    content {
      attribute_name = ttl.value
      enabled        = true
    }
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = merge(var.tags, { Name = "${var.name_prefix}-${each.key}" })
}
