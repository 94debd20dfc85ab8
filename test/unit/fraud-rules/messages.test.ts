import {
  buildMessage,
  type ChatbotNotification,
  chatbotNotification,
  emailText,
  subjectLine,
} from '../../../services/fraud-rules/messages.js';
import type { Alert } from '../../../services/fraud-rules/rules.js';
import { T0 } from '../../helpers/records.js';

const alert: Alert = {
  alertId: 'largePurchase#evt-42',
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
  it('uses MessageStructure json with exactly a default (Chatbot) and an email body, and filterable attributes', () => {
    const { subject, message, attributes } = buildMessage(alert, 'prod', 15);
    const bodies = JSON.parse(message) as Record<string, string>;
    expect(Object.keys(bodies).sort()).toEqual(['default', 'email']);
    expect(JSON.parse(bodies.default as string)).toEqual(chatbotNotification(alert, 'prod'));
    expect(bodies.email).toBe(emailText(alert, 'prod', 15));
    expect(subject).toBe('[Pulse prod] HIGH fraud alert: Large purchase - user user-7');
    expect(attributes).toEqual({
      severity: { DataType: 'String', StringValue: 'high' },
      rule: { DataType: 'String', StringValue: 'largePurchase' },
      environment: { DataType: 'String', StringValue: 'prod' },
      alertId: { DataType: 'String', StringValue: 'largePurchase#evt-42' },
    });
  });

  it('email is plain text saying what happened, to whom, and against which threshold', () => {
    expect(emailText(alert, 'prod', 15)).toBe(
      [
        'Pulse fraud alert (prod): Large purchase',
        '',
        'What happened: A purchase of 1,500.00 USD is above the large-purchase threshold of 1,000.00.',
        '',
        'Rule:            Large purchase (largePurchase)',
        'Severity:        HIGH',
        'Threshold:       amount > 1,000.00',
        'User:            user-7',
        'Amount:          1,500.00 USD',
        'Order:           order-9',
        'Country:         US',
        'Event time:      2026-11-25T12:00:00.000Z',
        'Event id:        evt-42',
        'Alert id:        largePurchase#evt-42',
        'Environment:     prod',
        'Stream position: shardId-000000000001 / 4965',
        '',
        'Next steps:',
        '- Check the order against the user’s purchase history and payment method.',
        '- Hold fulfilment of the order if the payment looks unusual.',
        '',
        'Pulse sends at most one largePurchase alert per user every 15 minutes (event time); further matches in that window are not sent.',
      ].join('\n'),
    );
  });

  it('default body is an AWS Chatbot custom notification document', () => {
    const doc: ChatbotNotification = chatbotNotification(
      { ...alert, severity: 'medium', rule: 'spendVelocity' },
      'dev',
    );
    expect(doc.version).toBe('1.0');
    expect(doc.source).toBe('custom');
    expect(doc.id).toBe('largePurchase#evt-42');
    expect(doc.content.textType).toBe('client-markdown');
    expect(doc.content.title).toBe(':warning: MEDIUM fraud alert (dev): Spend velocity');
    expect(doc.content.description.split('\n')).toEqual([
      alert.reason,
      '',
      '*User:* `user-7`',
      '*Amount:* 1,500.00 USD  *Order:* `order-9`  *Country:* US',
      '*Rule:* spendVelocity (amount > 1,000.00)',
      '*Event:* `evt-42` at 2026-11-25T12:00:00.000Z',
    ]);
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
    expect(chatbotNotification(alert, 'prod').content.title).toBe(
      ':rotating_light: HIGH fraud alert (prod): Large purchase',
    );
    expect(emailText(noCountry, 'prod', 15)).toContain('\nCountry:         not given\n');
    expect(chatbotNotification(noCountry, 'prod').content.description).not.toContain('Country');
  });

  it('keeps the SNS subject within 100 printable ASCII characters', () => {
    const subject = subjectLine({ ...alert, userId: `ü${'x'.repeat(200)}` }, 'prod');
    expect(subject).toHaveLength(100);
    expect(subject).toMatch(/^\[Pulse prod\] HIGH fraud alert: Large purchase - user \?x+\.\.\.$/);
  });
});
