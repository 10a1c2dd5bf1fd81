/**
 * The options every provider shares, declared once as data. The same declaration serves the Yeoman CLI flag,
 * the prompt, the ARCHES_STORAGE_* environment variable, the remembered answer in .yo-rc.json, the no-prompt
 * check, `arches-storage --help` and the README's option table. A provider's own options live in its folder
 * (generators/<id>/provider.ts), which lists every option it takes. No Yeoman import here: the package bin
 * reads these to answer --help fast.
 */
import type { StorageProvider } from './provider.js';
import type { StorageAnswers } from './types.js';
import { normalizeCorsOrigins, validateCorsOriginFor } from './validate.js';

export type OptionValue = string | boolean | string[];

/** The answers being gathered, for defaults and conditions that depend on other answers. */
export type PartialAnswers = Partial<StorageAnswers> & {
  pkg?: string;
  /** The site's origins as the project's settings name them (lib/pysettings.ts originsFromSettings). */
  projectOrigins?: readonly string[];
  /** The run flags questions depend on, as given so far (undefined: the flag's fallback). */
  provision?: boolean;
  destroy?: boolean;
  useOperatorKey?: boolean;
  /** The secret options given so far, by key (accessKeyId…): never their values. */
  secretsGiven?: readonly string[];
  /** The settings names of the secrets the project already keeps for the app (settings_local.py or the secrets file). */
  secretsStored?: readonly string[];
};

export interface OptionDecl {
  /** The CLI name, kebab-case: `--cors-origin`. */
  name: string;
  kind: 'string' | 'boolean' | 'list';
  description: string;
  /** Where the answer goes in StorageAnswers (or secrets / run flags). */
  key: string;
  /** ARCHES_STORAGE_* variable that may supply it. */
  env?: string;
  /** Remembered in .yo-rc.json (never for secrets or run flags). */
  persist: boolean;
  /** Never stored, never logged; asked with a password prompt unless `masked` says otherwise. */
  secret?: boolean;
  /** Must have a value for this provider before anything is written. */
  required?: (a: PartialAnswers) => boolean;
  /** A value used when none is given, in every mode (interactive runs offer it as the default answer). */
  fallback?: (a: PartialAnswers) => OptionValue | undefined;
  /** A default offered at the prompt only: a no-prompt run must be told this value. */
  suggest?: (a: PartialAnswers) => OptionValue | undefined;
  /** Prompt wording; options without one are flags only. */
  question?: string;
  /**
   * Whether an interactive run asks the question (never when the option already has a value). Without it: when
   * the option is required, or has a default to offer.
   */
  when?: (a: PartialAnswers) => boolean;
  /** The answer is typed blind (a password prompt, never echoed). Default: `secret`. */
  masked?: boolean;
  /** A select question: each choice's value and the label shown. */
  choices?: readonly { value: string; name: string }[];
  validate?: (value: OptionValue, a: PartialAnswers) => string | undefined;
}

export const str = (v: OptionValue): string => (Array.isArray(v) ? v.join(',') : String(v));
const list = (v: OptionValue): string[] => normalizeCorsOrigins(Array.isArray(v) ? v : [String(v)]);

/** Options of every generator, the `app` generator included. */
export const PROJECT: OptionDecl = {
  name: 'project',
  kind: 'string',
  description: 'The Arches project root (default: the current directory)',
  key: 'project',
  env: 'ARCHES_STORAGE_PROJECT',
  persist: false,
};

export const ARCHES_VERSION: OptionDecl = {
  name: 'arches-version',
  kind: 'string',
  description: 'The Arches release, e.g. 7.4.3, when the project does not say it exactly (6.2.x, 7.0–7.3)',
  key: 'archesVersion',
  env: 'ARCHES_STORAGE_ARCHES_VERSION',
  persist: true,
};

/** The bucket name, validated by the provider's own naming rules. */
export function bucketOption(validate: (name: string) => string | undefined): OptionDecl {
  return {
    name: 'bucket',
    kind: 'string',
    description: 'Bucket name (S3: 3–63 lowercase letters, digits, "-", "."; GCS also "_")',
    key: 'bucket',
    env: 'ARCHES_STORAGE_BUCKET',
    persist: true,
    required: () => true,
    suggest: (a) => (a.pkg ? `${a.pkg.replace(/_/g, '-').toLowerCase()}-media` : undefined),
    question: 'Bucket name',
    validate: (v) => validate(str(v)),
  };
}

/** The region: each S3 provider says when it is needed and what is valid. */
export const REGION_DESCRIPTION =
  'Region: AWS (e.g. eu-west-2) or the S3-compatible service’s (nyc3, us-west-004, auto…)';

/** The site's origins; `rules` says whether the provider's CORS takes `*.` subdomain wildcards. */
export function corsOriginOption(rules: Pick<StorageProvider, 'title' | 'exactCorsOrigins'>): OptionDecl {
  return {
    name: 'cors-origin',
    kind: 'list',
    description:
      'An origin the Arches site is served from, e.g. https://arches.example.org (repeatable, or comma-separated)',
    key: 'corsOrigins',
    env: 'ARCHES_STORAGE_CORS_ORIGINS',
    persist: true,
    required: () => true,
    // The same default in every mode: the origins the project's settings name (PUBLIC_SERVER_ADDRESS,
    // CSRF_TRUSTED_ORIGINS, ALLOWED_HOSTS); a no-prompt run stops only when there are none.
    fallback: (a) => (a.projectOrigins?.length ? [...a.projectOrigins] : undefined),
    suggest: () => ['http://localhost:8000'],
    question: 'Origins the Arches site is served from (comma-separated)',
    validate: (v) =>
      list(v).length === 0
        ? 'at least one CORS origin is needed'
        : list(v)
            .map((origin) => validateCorsOriginFor(rules, origin))
            .find((m) => m !== undefined),
  };
}

export const PUBLIC_READ: OptionDecl = {
  name: 'public-read',
  kind: 'boolean',
  description: 'Let anyone download objects by URL (opt-in; private with signed URLs otherwise)',
  key: 'publicRead',
  env: 'ARCHES_STORAGE_PUBLIC_READ',
  persist: true,
  fallback: () => false,
};

export const ACCESS_KEY_ID: OptionDecl = {
  name: 'access-key-id',
  kind: 'string',
  description:
    'Access key id the app uses (written only to a git-ignored file: settings_local.py, or --secrets-file)',
  key: 'accessKeyId',
  env: 'ARCHES_STORAGE_ACCESS_KEY_ID',
  persist: false,
  secret: true,
};

export const SECRET_ACCESS_KEY: OptionDecl = {
  name: 'secret-access-key',
  kind: 'string',
  description:
    'Secret access key the app uses (written only to a git-ignored file: settings_local.py, or --secrets-file)',
  key: 'secretAccessKey',
  env: 'ARCHES_STORAGE_SECRET_ACCESS_KEY',
  persist: false,
  secret: true,
};

export const PROVISION: OptionDecl = {
  name: 'provision',
  kind: 'boolean',
  description: 'Create or adopt the bucket, CORS and app identity (--no-provision: only write the overlay)',
  key: 'provision',
  env: 'ARCHES_STORAGE_PROVISION',
  persist: false,
  fallback: () => true,
};

export const PROFILE: OptionDecl = {
  name: 'profile',
  kind: 'string',
  description:
    'Named profile of the AWS shared config/credentials files to provision with (default: the SDK’s chain)',
  key: 'profile',
  env: 'ARCHES_STORAGE_PROFILE',
  persist: true,
};

export const SECRETS_FILE: OptionDecl = {
  name: 'secrets-file',
  kind: 'string',
  description:
    "Write the app's keys (given or created) to this git-ignored dotenv file (mode 0600) instead of settings_local.py",
  key: 'secretsFile',
  env: 'ARCHES_STORAGE_SECRETS_FILE',
  persist: true,
};

export const SHOW_SECRET: OptionDecl = {
  name: 'show-secret',
  kind: 'boolean',
  description: 'Print the new secret access key in the summary (it is never printed otherwise)',
  key: 'showSecret',
  persist: false,
  fallback: () => false,
};

export const JSON_OUTPUT: OptionDecl = {
  name: 'json',
  kind: 'boolean',
  description:
    'Print one JSON document on stdout, on success or failure (ok, changes, the failed step); progress goes to stderr',
  key: 'json',
  env: 'ARCHES_STORAGE_JSON',
  persist: false,
  fallback: () => false,
};

export const DESTROY: OptionDecl = {
  name: 'destroy',
  kind: 'boolean',
  description:
    'Remove what .yo-rc.json says the generator created (keys, policy, user), then switch to local',
  key: 'destroy',
  persist: false,
  fallback: () => false,
};

export const DELETE_BUCKET: OptionDecl = {
  name: 'delete-bucket',
  kind: 'boolean',
  description: 'With --destroy: also delete the bucket, if it is empty',
  key: 'deleteBucket',
  persist: false,
  fallback: () => false,
};

export const DELETE_OBJECTS: OptionDecl = {
  name: 'delete-objects',
  kind: 'boolean',
  description:
    'With --destroy --delete-bucket: delete every object (all versions) in the bucket first (never implied by --force)',
  key: 'deleteObjects',
  persist: false,
  fallback: () => false,
};

/** A string value that is not empty, else undefined. */
export const optionText = (v: OptionValue | undefined): string | undefined =>
  typeof v === 'string' && v ? v : undefined;

export const MIGRATE: OptionDecl = {
  name: 'migrate',
  kind: 'boolean',
  description:
    'Copy the files stored before this switch to the new storage: copy, switch the settings, then copy what arrived meanwhile (interactive runs ask; --no-migrate: do not)',
  key: 'migrate',
  env: 'ARCHES_STORAGE_MIGRATE',
  persist: false,
};

export const VERIFY_AFTER: OptionDecl = {
  name: 'verify',
  kind: 'boolean',
  description:
    "After a run that created resources or copied files, prove the storage through the project's Python when one is found, as `arches-storage verify` does (--no-verify: skip)",
  key: 'verifyAfter',
  env: 'ARCHES_STORAGE_VERIFY',
  persist: false,
  fallback: () => true,
};

/** How a switch treats what is stored already, and the proof at its end (providers that can copy). */
export const SWITCHING: readonly OptionDecl[] = [MIGRATE, VERIFY_AFTER];

export const PYTHON: OptionDecl = {
  name: 'python',
  kind: 'string',
  description:
    "The project's Python (default: $VIRTUAL_ENV, then .venv, venv, ENV): imports a dry copy of the settings to check the storage block's effect",
  key: 'python',
  env: 'ARCHES_STORAGE_PYTHON',
  // A path on this machine: not remembered for the next one.
  persist: false,
};

export const DRY_RUN: OptionDecl = {
  name: 'dry-run',
  kind: 'boolean',
  description: 'Print the plan and the file changes; write nothing',
  key: 'dryRun',
  persist: false,
  fallback: () => false,
};

export const SKIP_PROMPTS: OptionDecl = {
  name: 'skip-prompts',
  kind: 'boolean',
  description:
    'Never prompt (also when CI=true or stdin is not a terminal); --no-skip-prompts forces prompts',
  key: 'skipPrompts',
  env: 'ARCHES_STORAGE_SKIP_PROMPTS',
  persist: false,
};

/** The options before a provider's own (where the project is) and after them (how the run behaves). */
export const LEADING: readonly OptionDecl[] = [PROJECT, ARCHES_VERSION];
export const TRAILING: readonly OptionDecl[] = [JSON_OUTPUT, PYTHON, DRY_RUN, SKIP_PROMPTS];

/**
 * How a run of a provider that creates resources behaves, after its own options: where the app's keys go, the
 * output, teardown, copying what is stored and the proof, then TRAILING's rest (the order of --help).
 */
export const PROVISIONING_TRAILING: readonly OptionDecl[] = [
  SECRETS_FILE,
  SHOW_SECRET,
  JSON_OUTPUT,
  DESTROY,
  DELETE_BUCKET,
  DELETE_OBJECTS,
  ...SWITCHING,
  ...TRAILING.filter((o) => o !== JSON_OUTPUT),
];

export const camel = (name: string): string => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Parses an environment variable's text for an option's kind; undefined for unset or empty. */
export function fromEnvironment(o: OptionDecl, env: NodeJS.ProcessEnv): OptionValue | undefined {
  const raw = o.env ? env[o.env] : undefined;
  if (raw === undefined || raw === '') return undefined;
  if (o.kind === 'boolean') return /^(1|true|yes|on)$/i.test(raw);
  if (o.kind === 'list') return list(raw);
  return raw;
}

/**
 * A CLI or stored value as text. An object (a hand-edited .yo-rc.json) is shown as its JSON, so the check that
 * rejects it names what is there rather than "[object Object]".
 */
function asText(value: unknown): string {
  return typeof value === 'string'
    ? value
    : typeof value === 'number' || typeof value === 'boolean'
      ? String(value)
      : (JSON.stringify(value) ?? '');
}

/** Coerces a CLI or stored value to the option's kind. */
export function coerce(o: OptionDecl, value: unknown): OptionValue | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (o.kind === 'boolean')
    return typeof value === 'boolean' ? value : /^(1|true|yes|on)$/i.test(asText(value));
  const items: unknown[] = Array.isArray(value) ? value : [value];
  if (o.kind === 'list') return list(items.map(asText));
  const text = asText(items.at(-1));
  return text === '' ? undefined : text;
}

/** The `app` generator's provider question, built from the registered providers. */
export function appProviderOption(providers: readonly Pick<StorageProvider, 'id' | 'label'>[]): OptionDecl {
  const ids = providers.map((p) => p.id);
  return {
    name: 'provider',
    kind: 'string',
    description: `Where uploaded files go: ${ids.join(', ')}`,
    key: 'provider',
    env: 'ARCHES_STORAGE_PROVIDER',
    persist: true,
    required: () => true,
    question: 'Where should Arches keep uploaded files?',
    choices: providers.map((p) => ({ value: p.id, name: p.label })),
    validate: (v) =>
      ids.includes(str(v)) ? undefined : `--provider "${str(v)}" is not one of ${ids.join(', ')}`,
  };
}
