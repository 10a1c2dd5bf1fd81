/** `arches-storage migrate`: its options, as data (the bin's --help and the README table read them). */
import type { CommandDefinition } from '../../lib/command.js';
import {
  ARCHES_VERSION,
  DRY_RUN,
  JSON_OUTPUT,
  PROJECT,
  PYTHON,
  SKIP_PROMPTS,
  type OptionDecl,
} from '../../lib/options.js';

export const MIGRATE_SOURCES = ['local', 'aws', 's3-compatible', 'gcs', 'azure'] as const;

export const FROM: OptionDecl = {
  name: 'from',
  kind: 'string',
  description:
    'The storage to copy from: local, aws, s3-compatible, gcs or azure (default: the one .yo-rc.json records as previous, else local)',
  key: 'from',
  env: 'ARCHES_STORAGE_FROM',
  persist: false,
  choices: MIGRATE_SOURCES.map((id) => ({ value: id, name: id })),
  validate: (v) =>
    (MIGRATE_SOURCES as readonly string[]).includes(String(v))
      ? undefined
      : `--from must be one of ${MIGRATE_SOURCES.join(', ')}`,
};

export const MEDIA_ROOT: OptionDecl = {
  name: 'media-root',
  kind: 'string',
  description:
    "Where the local files are (default: MEDIA_ROOT from the project's settings through its Python, else <project>/<package>/)",
  key: 'mediaRoot',
  env: 'ARCHES_STORAGE_MEDIA_ROOT',
  persist: false,
};

export const OVERWRITE: OptionDecl = {
  name: 'overwrite',
  kind: 'boolean',
  description: 'Replace destination objects that differ from the source (never done otherwise)',
  key: 'overwrite',
  persist: false,
  fallback: () => false,
};

export const VERIFY_EXISTING: OptionDecl = {
  name: 'verify-existing',
  kind: 'boolean',
  description:
    'Read back and compare destination objects of the same size that no verified run copied (else counted as unverified)',
  key: 'verifyExisting',
  persist: false,
  fallback: () => false,
};

export const CONCURRENCY: OptionDecl = {
  name: 'concurrency',
  kind: 'string',
  description: 'Files copied at once (default 4)',
  key: 'concurrency',
  env: 'ARCHES_STORAGE_CONCURRENCY',
  persist: false,
  fallback: () => '4',
  validate: (v) =>
    /^[1-9]\d{0,2}$/.test(String(v)) ? undefined : '--concurrency must be a whole number from 1 to 999',
};

const command: CommandDefinition = {
  id: 'migrate',
  summary: 'Copy every stored file from the previous storage to the current one, keeping each key, verified',
  options: [
    PROJECT,
    ARCHES_VERSION,
    FROM,
    MEDIA_ROOT,
    OVERWRITE,
    VERIFY_EXISTING,
    CONCURRENCY,
    JSON_OUTPUT,
    PYTHON,
    DRY_RUN,
    SKIP_PROMPTS,
  ],
};

export default command;
