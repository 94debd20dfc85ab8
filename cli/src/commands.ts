/**
 * Every `pulse` subcommand, one line each: its word, its one-line summary (for `pulse --help`,
 * without loading the module) and its module, loaded only when the subcommand runs so one
 * command does not pay for every other's SDK clients. A module exports `command: Command`.
 */
import type { Command } from './command.js';

export interface CommandEntry {
  name: string;
  summary: string;
  load: () => Promise<{ command: Command }>;
}

// biome-ignore format: one line per command, so adding one is a one-line change.
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'status', summary: 'Per function: mapping state, lag, on-failure depth; invalid records; PENDING alerts', load: () => import('./status.js') },
  { name: 'user', summary: "One user's open and recent sessions, viewed products, fraud state and alerts", load: () => import('./user.js') },
  { name: 'invalid', summary: 'Read the invalid-records queue: reasons and decoded payloads (export, delete)', load: () => import('./invalid.js') },
  { name: 'alerts', summary: 'PENDING fraud alerts: list them, republish them (each at most once)', load: () => import('./alerts.js') },
  { name: 'replay', summary: 'Re-drive what a function set aside, now, exactly once', load: () => import('./replay.js') },
  { name: 'erase', summary: 'Forget users everywhere (tables, invalid records, archive) so nothing comes back; --list the erasures', load: () => import('./erase.js') },
  { name: 'archive', summary: 'The event archive: SQL queries, replay past the stream, try fraud rules on past traffic', load: () => import('./archive.js') },
  { name: 'plan', summary: 'Size a deployment: shards, concurrency, DynamoDB units, dollars a month, Flink', load: () => import('./plan.js') },
];
