/** Shared assertions and fixtures for the core tests. */
import assert from 'node:assert/strict';
import type { ProjectFiles } from '../../lib/detect.js';
import { UserError } from '../../lib/types.js';

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

/** A ProjectFiles over a path → content Map; directories are derived from the keys. */
export function filesOf(map: ReadonlyMap<string, string>): ProjectFiles {
  return {
    read: (rel) => map.get(rel.replace(/^\.\//, '')) ?? null,
    dirs: (rel) => {
      const prefix = rel === '.' || rel === '' ? '' : `${rel.replace(/\/$/, '')}/`;
      const out = new Set<string>();
      for (const key of map.keys()) {
        if (!key.startsWith(prefix)) continue;
        const rest = key.slice(prefix.length);
        const slash = rest.indexOf('/');
        if (slash > 0) out.add(rest.slice(0, slash));
      }
      return [...out].sort();
    },
  };
}
