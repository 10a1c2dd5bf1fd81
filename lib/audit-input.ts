/**
 * What the audit command's options need at declaration time, without the audit itself (which loads the
 * Python runner): the bin's --help reads these.
 */
import { UserError } from './types.js';

/** The subtrees Arches writes to under the storage's location (MEDIA_ROOT for local files). */
export const DEFAULT_PREFIXES: readonly string[] = ['uploadedfiles/', 'concepts/', 'archestemp/'];

export const UNITS = { m: 60, h: 3600, d: 86_400 } as const;

/** `7d`, `12h`, `30m` → seconds; anything else is bad input (exit 2). */
export function parseMinAge(text: string): number {
  const m = /^\s*(\d+)\s*([dhm])\s*$/.exec(text);
  if (!m)
    throw new UserError(
      `--min-age "${text}" is not a duration: give a whole number of days, hours or minutes (7d, 12h, 30m).`,
      'min-age',
      2,
    );
  return Number(m[1]) * UNITS[m[2] as keyof typeof UNITS];
}
