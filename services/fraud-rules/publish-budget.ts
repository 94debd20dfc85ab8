/**
 * The time budget of one alert Publish. Its own module because both the outbox (alerts.ts) and the
 * cold-start check of the lease (config.ts) need it, and alerts.ts already imports config.ts's types.
 */
import { maxCallMs, snsClientConfig } from '../shared/clients.js';

/** The longest one Publish takes with the SNS client settings every deliverer uses. */
export const PUBLISH_BUDGET_MS = maxCallMs(snsClientConfig);

/** The end of a lease kept free of Publish: the conditional mark SENT is sent within it. */
export const MARK_SENT_RESERVE_MS = 5_000;
