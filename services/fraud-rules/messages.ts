/**
 * What people read. One SNS message per alert with `MessageStructure: 'json'`: `email` (and
 * `email-json` subscribers fall back to `default`) gets plain text; `default` is an AWS Chatbot
 * (Amazon Q Developer in chat applications) custom-notification document, which Slack renders.
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
  /** The JSON string passed as `Message` with `MessageStructure: 'json'`. */
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

export function emailText(alert: Alert, environment: string, cooldownMinutes: number): string {
  const rows: [string, string][] = [
    ['Rule', `${RULE_TITLES[alert.rule]} (${alert.rule})`],
    ['Severity', alert.severity.toUpperCase()],
    ['Threshold', alert.threshold],
    ['User', alert.userId],
    ['Amount', `${money(alert.amount)} ${alert.currency}`],
    ['Order', alert.orderId],
    ['Country', alert.country ?? 'not given'],
    ['Event time', iso(alert.eventTime)],
    ['Event id', alert.eventId],
    ['Alert id', alert.alertId],
    ['Environment', environment],
    ['Stream position', `${alert.shardId} / ${alert.sequenceNumber}`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  return [
    `Pulse fraud alert (${environment}): ${RULE_TITLES[alert.rule]}`,
    '',
    `What happened: ${alert.reason}`,
    '',
    ...rows.map(([label, value]) => `${`${label}:`.padEnd(width)}${value}`),
    '',
    'Next steps:',
    ...NEXT_STEPS[alert.rule].map((step) => `- ${step}`),
    '',
    `Pulse sends at most one ${alert.rule} alert per user every ${cooldownMinutes} minutes (event time); further matches in that window are not sent.`,
  ].join('\n');
}

export function chatbotNotification(alert: Alert, environment: string): ChatbotNotification {
  const icon = alert.severity === 'high' ? ':rotating_light:' : ':warning:';
  const title = `${icon} ${alert.severity.toUpperCase()} fraud alert (${environment}): ${RULE_TITLES[alert.rule]}`;
  const description = [
    alert.reason,
    '',
    `*User:* \`${alert.userId}\``,
    `*Amount:* ${money(alert.amount)} ${alert.currency}  *Order:* \`${alert.orderId}\`${alert.country ? `  *Country:* ${alert.country}` : ''}`,
    `*Rule:* ${alert.rule} (${alert.threshold})`,
    `*Event:* \`${alert.eventId}\` at ${iso(alert.eventTime)}`,
  ].join('\n');
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
    message: JSON.stringify({
      default: JSON.stringify(chatbotNotification(alert, environment)),
      email: emailText(alert, environment, cooldownMinutes),
    }),
    // alertId lets subscribers drop the duplicate an SDK retry of Publish can cause (README).
    attributes: {
      severity: text(alert.severity),
      rule: text(alert.rule),
      environment: text(environment),
      alertId: text(alert.alertId),
    },
  };
}
