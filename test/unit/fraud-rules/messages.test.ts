import {
  buildMessage,
  type ChatbotNotification,
  chatbotNotification,
  subjectLine,
  summaryText,
} from '../../../services/fraud-rules/messages.js';
import type { Alert } from '../../../services/fraud-rules/rules.js';
import { T0 } from '../../helpers/records.js';

const alert: Alert = {
  alertId: 'largePurchase#user-7#evt-42',
  rule: 'largePurchase',
  severity: 'high',
  userId: 'user-7',
  eventId: 'evt-42',
  orderId: 'order-9',
  amount: 1500,
  currency: 'USD',
  country: 'US',
  eventTime: T0,
  shardId: 'shardId-000000000001',
  sequenceNumber: '4965',
  reason: 'A purchase of 1,500.00 USD is above the large-purchase threshold of 1,000.00.',
  threshold: 'amount > 1,000.00',
};

describe('alert messages', () => {
  // SNS sends message attributes only with the String structure (not 'json'), and the severity
  // filter policies and the alertId attribute need them: one body for every protocol.
  it('is one body, the Chatbot document as indented JSON, with the filterable attributes', () => {
    const { subject, message, attributes } = buildMessage(alert, 'prod', 15);
    expect(JSON.parse(message)).toEqual(chatbotNotification(alert, 'prod', 15));
    expect(message).toBe(JSON.stringify(chatbotNotification(alert, 'prod', 15), null, 2));
    expect(subject).toBe('[Pulse prod] HIGH fraud alert: Large purchase - user user-7');
    expect(attributes).toEqual({
      severity: { DataType: 'String', StringValue: 'high' },
      rule: { DataType: 'String', StringValue: 'largePurchase' },
      environment: { DataType: 'String', StringValue: 'prod' },
      alertId: { DataType: 'String', StringValue: 'largePurchase#user-7#evt-42' },
    });
  });

  it('the description is a plain-text summary: what happened, to whom, against which threshold', () => {
    expect(summaryText(alert, 'prod', 15)).toBe(
      [
        'A purchase of 1,500.00 USD is above the large-purchase threshold of 1,000.00.',
        'User user-7, order order-9, amount 1,500.00 USD, country US.',
        'Rule Large purchase (largePurchase), severity HIGH: amount > 1,000.00.',
        'Event evt-42 at 2026-11-25T12:00:00.000Z, stream position shardId-000000000001 / 4965.',
        'Alert largePurchase#user-7#evt-42 in prod.',
        'Pulse sends at most one largePurchase alert per user every 15 minutes (event time); further matches in that window are not sent.',
      ].join(' '),
    );
    // One line: inside the JSON an email reader gets, a line break would show as \n.
    expect(summaryText(alert, 'prod', 15)).not.toContain('\n');
    expect(summaryText(alert, 'prod', 15)).not.toMatch(/[*`]/);
  });

  it('the body is an AWS Chatbot custom notification document', () => {
    const doc: ChatbotNotification = chatbotNotification(
      { ...alert, severity: 'medium', rule: 'spendVelocity' },
      'dev',
      15,
    );
    expect(doc.version).toBe('1.0');
    expect(doc.source).toBe('custom');
    expect(doc.id).toBe('largePurchase#user-7#evt-42');
    expect(doc.content.textType).toBe('client-markdown');
    expect(doc.content.title).toBe(':warning: MEDIUM fraud alert (dev): Spend velocity');
    expect(doc.content.description).toBe(
      summaryText({ ...alert, severity: 'medium', rule: 'spendVelocity' }, 'dev', 15),
    );
    expect(doc.content.nextSteps).toHaveLength(2);
    expect(doc.content.keywords).toEqual(['dev', 'spendVelocity', 'medium']);
    expect(doc.metadata.threadId).toBe('pulse-dev-fraud-user-7');
    expect(doc.metadata.eventType).toBe('PulseFraudAlert');
    // Chatbot requires additionalContext values to be strings.
    expect(Object.values(doc.metadata.additionalContext).every((v) => typeof v === 'string')).toBe(true);
    expect(doc.metadata.additionalContext).toMatchObject({
      userId: 'user-7',
      amount: '1500',
      environment: 'dev',
    });
  });

  it('high severity gets the siren; a missing country is said, not hidden', () => {
    const { country: _country, ...noCountry } = alert;
    expect(chatbotNotification(alert, 'prod', 15).content.title).toBe(
      ':rotating_light: HIGH fraud alert (prod): Large purchase',
    );
    expect(chatbotNotification(noCountry, 'prod', 15).content.description).toContain(', country not given.');
  });

  it('keeps the SNS subject within 100 printable ASCII characters', () => {
    const subject = subjectLine({ ...alert, userId: `ü${'x'.repeat(200)}` }, 'prod');
    expect(subject).toHaveLength(100);
    expect(subject).toMatch(/^\[Pulse prod\] HIGH fraud alert: Large purchase - user \?x+\.\.\.$/);
  });
});
