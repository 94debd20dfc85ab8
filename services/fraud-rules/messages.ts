/**
 * What people read. One SNS message per alert, with the default (String) message structure: SNS
 * sends message attributes only then, not with `MessageStructure: 'json'`, and the subscription
 * filter policies (severity, environment) and the `alertId` attribute depend on them. So every
 * protocol gets the same body: an AWS Chatbot (Amazon Q Developer in chat applications)
 * custom-notification document, which Slack renders, indented so that email readers, who get it
 * as it is, can read it; its description is a plain-text summary, no markup.
 */
import type { MessageAttributeValue } from '@aws-sdk/client-sns';
import { formatMicros, toMicros } from '../shared/money.js';
import type { Alert, RuleName } from './rules.js';

export const RULE_TITLES: Record<RuleName, string> = {
  largePurchase: 'Large purchase',
  purchaseVelocity: 'Purchase velocity',
  spendVelocity: 'Spend velocity',
  countryHop: 'Country change between purchases',
};

const NEXT_STEPS: Record<RuleName, string[]> = {
  largePurchase: [
    'Check the order against the user’s purchase history and payment method.',
    'Hold fulfilment of the order if the payment looks unusual.',
  ],
  purchaseVelocity: [
    'Review the user’s recent orders for card testing or account takeover.',
    'Consider rate-limiting checkout for this user.',
  ],
  spendVelocity: [
    'Review the user’s recent orders and total exposure.',
    'Hold fulfilment of pending orders if the spend is out of pattern.',
  ],
  countryHop: [
    'Check whether the user is travelling or the account is shared.',
    'Check for account takeover (password reset, new device, new payment method).',
  ],
};

export interface AlertMessage {
  subject: string;
  /** The Chatbot document as indented JSON, passed as `Message` (String structure). */
  message: string;
  attributes: Record<string, MessageAttributeValue>;
}

export interface ChatbotNotification {
  version: '1.0';
  source: 'custom';
  id: string;
  content: {
    textType: 'client-markdown';
    title: string;
    description: string;
    nextSteps: string[];
    keywords: string[];
  };
  metadata: {
    threadId: string;
    summary: string;
    eventType: string;
    additionalContext: Record<string, string>;
  };
}

const iso = (ms: number): string => new Date(ms).toISOString();
// Exact: the amount as the event gave it, never rounded to cents (1.005 KWD stays 1.005).
const money = (value: number): string => formatMicros(toMicros(value));

/** SNS subjects: ASCII, no line breaks, at most 100 characters. */
export function subjectLine(alert: Alert, environment: string): string {
  const raw = `[Pulse ${environment}] ${alert.severity.toUpperCase()} fraud alert: ${RULE_TITLES[alert.rule]} - user ${alert.userId}`;
  const ascii = raw.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length <= 100 ? ascii : `${ascii.slice(0, 97)}...`;
}

/**
 * The readable summary: plain sentences on one line, so it reads the same in Slack and inside the
 * JSON an email reader gets (where a line break would show as \n).
 */
export function summaryText(alert: Alert, environment: string, cooldownMinutes: number): string {
  return [
    alert.reason,
    `User ${alert.userId}, order ${alert.orderId}, amount ${money(alert.amount)} ${alert.currency}, country ${alert.country ?? 'not given'}.`,
    `Rule ${RULE_TITLES[alert.rule]} (${alert.rule}), severity ${alert.severity.toUpperCase()}: ${alert.threshold}.`,
    `Event ${alert.eventId} at ${iso(alert.eventTime)}, stream position ${alert.shardId} / ${alert.sequenceNumber}.`,
    `Alert ${alert.alertId} in ${environment}.`,
    `Pulse sends at most one ${alert.rule} alert per user every ${cooldownMinutes} minutes (event time); further matches in that window are not sent.`,
  ].join(' ');
}

export function chatbotNotification(
  alert: Alert,
  environment: string,
  cooldownMinutes: number,
): ChatbotNotification {
  const icon = alert.severity === 'high' ? ':rotating_light:' : ':warning:';
  const title = `${icon} ${alert.severity.toUpperCase()} fraud alert (${environment}): ${RULE_TITLES[alert.rule]}`;
  const description = summaryText(alert, environment, cooldownMinutes);
  return {
    version: '1.0',
    source: 'custom',
    id: alert.alertId,
    content: {
      textType: 'client-markdown',
      title,
      description,
      nextSteps: NEXT_STEPS[alert.rule],
      keywords: [environment, alert.rule, alert.severity],
    },
    metadata: {
      // One Slack thread per user and environment keeps a user's alerts together.
      threadId: `pulse-${environment}-fraud-${alert.userId}`,
      summary: `${RULE_TITLES[alert.rule]} alert for user ${alert.userId}: ${alert.reason}`,
      eventType: 'PulseFraudAlert',
      additionalContext: {
        alertId: alert.alertId,
        rule: alert.rule,
        severity: alert.severity,
        environment,
        userId: alert.userId,
        eventId: alert.eventId,
        orderId: alert.orderId,
        amount: String(alert.amount),
        currency: alert.currency,
        eventTime: iso(alert.eventTime),
      },
    },
  };
}

export function buildMessage(alert: Alert, environment: string, cooldownMinutes: number): AlertMessage {
  const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });
  return {
    subject: subjectLine(alert, environment),
    message: JSON.stringify(chatbotNotification(alert, environment, cooldownMinutes), null, 2),
    // alertId lets subscribers drop the duplicate an SDK retry of Publish can cause (docs/delivery-semantics.md).
    attributes: {
      severity: text(alert.severity),
      rule: text(alert.rule),
      environment: text(environment),
      alertId: text(alert.alertId),
    },
  };
}
