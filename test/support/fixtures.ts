import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const eventsDirectory = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'events');

/** The text of a fixture under test/fixtures/events. */
export function fixtureText(name: string): string {
  return readFileSync(join(eventsDirectory, name), 'utf8');
}

/** A fresh parsed copy of a fixture, safe to modify in a test. */
export function fixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(fixtureText(name)) as T;
}
