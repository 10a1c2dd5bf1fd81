/** `arches-storage audit`: orphans and broken links between the storage and the files table, as data. */
import { DEFAULT_PREFIXES, parseMinAge } from '../../lib/audit-input.js';
import type { CommandDefinition } from '../../lib/command.js';
import {
  DRY_RUN,
  JSON_OUTPUT,
  PROJECT,
  PYTHON,
  SKIP_PROMPTS,
  str,
  type OptionDecl,
} from '../../lib/options.js';
import { UserError } from '../../lib/types.js';

export const DELETE_ORPHANS: OptionDecl = {
  name: 'delete-orphans',
  kind: 'boolean',
  description:
    'Delete the orphans older than --min-age, after listing them and asking (no prompt: the flag is the consent)',
  key: 'deleteOrphans',
  persist: false,
  fallback: () => false,
};

export const MIN_AGE: OptionDecl = {
  name: 'min-age',
  kind: 'string',
  description: 'With --delete-orphans: only orphans at least this old (7d, 12h, 30m; default 7d)',
  key: 'minAge',
  env: 'ARCHES_STORAGE_MIN_AGE',
  persist: false,
  fallback: () => '7d',
  validate: (v) => {
    try {
      parseMinAge(str(v));
      return undefined;
    } catch (error) {
      return error instanceof UserError ? error.message : String(error);
    }
  },
};

export const PREFIX: OptionDecl = {
  name: 'prefix',
  kind: 'list',
  description: `Also list (and with --delete-orphans, clean) this folder of the storage, besides ${DEFAULT_PREFIXES.join(', ')} (repeatable)`,
  key: 'prefix',
  persist: false,
};

const audit: CommandDefinition = {
  id: 'audit',
  summary: 'List stored objects no files row references (orphans) and rows whose object is missing',
  options: [PROJECT, DELETE_ORPHANS, MIN_AGE, PREFIX, JSON_OUTPUT, PYTHON, DRY_RUN, SKIP_PROMPTS],
};

export default audit;
