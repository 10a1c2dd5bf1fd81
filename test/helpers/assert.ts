/** Shared assertions for the core tests. */
import assert from 'node:assert/strict';
import { UserError } from '../../src/core/types.js';

/** Runs fn, expecting a UserError whose message contains every part (string) or matches it (RegExp). */
export function throwsUser(fn: () => unknown, ...parts: (string | RegExp)[]): UserError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof UserError, `expected a UserError, got ${String(caught)}`);
  for (const p of parts) {
    if (typeof p === 'string')
      assert.ok(caught.message.includes(p), `message lacks ${JSON.stringify(p)}:\n${caught.message}`);
    else assert.match(caught.message, p);
  }
  return caught;
}
