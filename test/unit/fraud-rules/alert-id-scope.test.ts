/**
 * eventIds are unique per user only (the producer keeps a client's), so an alert id must name the
 * user: otherwise a second user's purchase with the same eventId finds the first user's alert
 * already recorded (SENT or PENDING) and is never alerted on — suppressible at will.
 */
import { alertIdOf } from '../../../services/fraud-rules/rules.js';
import { aPurchase, aRecord } from '../../helpers/records.js';
import { harness, onlyRules } from './support.js';

describe('alert ids are scoped by user', () => {
  it('two users with a large purchase each raise two alerts, whatever their eventIds', async () => {
    const h = harness(onlyRules({ largePurchase: { threshold: 1000 } }));
    await h.run([aRecord(aPurchase({ userId: 'mule-1', eventId: 'fixed-id', amount: 5000 }))]);
    await h.run([aRecord(aPurchase({ userId: 'mule-2', eventId: 'fixed-id', amount: 900000 }))]);
    const users = h.sns.published.map(
      (p) => JSON.parse(p.Message as string).metadata.additionalContext.userId,
    );
    expect(users).toEqual(['mule-1', 'mule-2']);
  });

  it('are deterministic and unambiguous even when the userId contains the separator', () => {
    expect(alertIdOf('largePurchase', 'u-1', 'e-1')).toBe('largePurchase#u-1#e-1');
    expect(alertIdOf('largePurchase', 'u-1', 'e-1')).toBe(alertIdOf('largePurchase', 'u-1', 'e-1'));
    expect(alertIdOf('largePurchase', 'a#b', 'c')).not.toBe(alertIdOf('largePurchase', 'a', 'b#c'));
    expect(alertIdOf('largePurchase', 'a%23b', 'c')).not.toBe(alertIdOf('largePurchase', 'a#b', 'c'));
  });
});

describe('alert id escaping (pinned: a mutant here lets two users share alert ids)', () => {
  it('escapes the separator and the escape character, each to its own code', () => {
    expect(alertIdOf('largePurchase', 'a#b', 'e')).toBe('largePurchase#a%23b#e');
    expect(alertIdOf('largePurchase', 'a%b', 'e')).toBe('largePurchase#a%25b#e');
    expect(alertIdOf('largePurchase', '#%#%', 'e')).toBe('largePurchase#%23%25%23%25#e');
    expect(alertIdOf('largePurchase', 'a%23b', 'e')).toBe('largePurchase#a%2523b#e');
  });

  it('users a#b and a%b never share an alert id', () => {
    const users = ['a#b', 'a%b', 'a%23b', 'a%25b', 'a#', 'a%', 'ab'];
    const ids = users.map((u) => alertIdOf('purchaseVelocity', u, 'evt-1'));
    expect(new Set(ids).size).toBe(users.length);
  });
});
