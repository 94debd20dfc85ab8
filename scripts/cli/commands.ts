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

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'invalid',
    summary: 'Read the invalid-records queue: reasons and decoded payloads (export, delete)',
    load: () => import('./invalid.js'),
  },
];
