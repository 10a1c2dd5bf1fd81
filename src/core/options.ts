/**
 * Every option, declared once as data. The same declaration serves the Yeoman CLI flag, the prompt, the
 * ARCHES_STORAGE_* environment variable, the remembered answer in .yo-rc.json, the no-prompt check and
 * `arches-storage --help`. No Yeoman import here: the package bin reads this file to answer --help fast.
 */
import { S3_SERVICE_PRESETS } from './providers.js';
import { PROVIDERS, S3_SERVICES, type ProviderId, type S3Service, type StorageAnswers } from './types.js';
import {
  normalizeCorsOrigins,
  validateAwsRegion,
  validateAzureAccountName,
  validateAzureContainerName,
  validateCorsOriginFor,
  validateEndpointUrl,
  validateGcsBucketName,
  validateIamUserName,
  validateRegionFor,
  validateS3BucketName,
} from './validate.js';

export type OptionValue = string | boolean | string[];

/** The answers being gathered, for defaults and conditions that depend on other answers. */
export type PartialAnswers = Partial<StorageAnswers> & {
  pkg?: string;
  /** The site's origins as the project's settings name them (core/pysettings.ts originsFromSettings). */
  projectOrigins?: readonly string[];
};

export interface OptionDecl {
  /** The CLI name, kebab-case: `--cors-origin`. */
  name: string;
  kind: 'string' | 'boolean' | 'list';
  description: string;
  /** The generators that declare it; `app` declares every option so it can forward them. */
  providers: readonly ProviderId[];
  /** Where the answer goes in StorageAnswers (or secrets / run flags). */
  key: string;
  /** ARCHES_STORAGE_* variable that may supply it. */
  env?: string;
  /** Remembered in .yo-rc.json (never for secrets or run flags). */
  persist: boolean;
  /** Never stored, never logged, asked with a password prompt. */
  secret?: boolean;
  /** Must have a value for this provider before anything is written. */
  required?: (a: PartialAnswers) => boolean;
  /** A value used when none is given, in every mode (interactive runs offer it as the default answer). */
  fallback?: (a: PartialAnswers) => OptionValue | undefined;
  /** A default offered at the prompt only: a no-prompt run must be told this value. */
  suggest?: (a: PartialAnswers) => OptionValue | undefined;
  /** Prompt wording; options without one are flags only. */
  question?: string;
  choices?: readonly string[];
  validate?: (value: OptionValue, a: PartialAnswers) => string | undefined;
}

const regionPicksEndpoint = (a: PartialAnswers): boolean =>
  a.provider === 's3-compatible' &&
  (a.service === 'digitalocean' || a.service === 'wasabi' || a.service === 'backblaze');

const ALL: readonly ProviderId[] = PROVIDERS;
const CLOUD: readonly ProviderId[] = ['aws', 's3-compatible', 'gcs', 'azure'];
const S3: readonly ProviderId[] = ['aws', 's3-compatible'];
const str = (v: OptionValue): string => (Array.isArray(v) ? v.join(',') : String(v));
const list = (v: OptionValue): string[] => normalizeCorsOrigins(Array.isArray(v) ? v : [String(v)]);

export const OPTIONS: readonly OptionDecl[] = [
  {
    name: 'project',
    kind: 'string',
    description: 'The Arches project root (default: the current directory)',
    providers: ALL,
    key: 'project',
    env: 'ARCHES_STORAGE_PROJECT',
    persist: false,
  },
  {
    name: 'arches-version',
    kind: 'string',
    description: 'The Arches release, e.g. 7.4.3, when the project does not say it exactly (6.2.x, 7.0–7.3)',
    providers: ALL,
    key: 'archesVersion',
    env: 'ARCHES_STORAGE_ARCHES_VERSION',
    persist: true,
  },
  {
    name: 'bucket',
    kind: 'string',
    description: 'Bucket name (S3: 3–63 lowercase letters, digits, "-", "."; GCS also "_")',
    providers: ['aws', 's3-compatible', 'gcs'],
    key: 'bucket',
    env: 'ARCHES_STORAGE_BUCKET',
    persist: true,
    required: () => true,
    suggest: (a) => (a.pkg ? `${a.pkg.replace(/_/g, '-').toLowerCase()}-media` : undefined),
    question: 'Bucket name',
    validate: (v, a) => (a.provider === 'gcs' ? validateGcsBucketName(str(v)) : validateS3BucketName(str(v))),
  },
  {
    name: 'region',
    kind: 'string',
    description: 'Region: AWS (e.g. eu-west-2) or the S3-compatible service’s (nyc3, us-west-004, auto…)',
    providers: S3,
    key: 'region',
    env: 'ARCHES_STORAGE_REGION',
    persist: true,
    // The endpoint of DigitalOcean, Wasabi and Backblaze depends on the region: it must be said.
    required: (a) => a.provider === 'aws' || regionPicksEndpoint(a),
    fallback: (a) =>
      a.provider === 's3-compatible' && !regionPicksEndpoint(a)
        ? S3_SERVICE_PRESETS[a.service ?? 'other'].defaultRegion
        : undefined,
    suggest: (a) =>
      a.provider === 's3-compatible' ? S3_SERVICE_PRESETS[a.service ?? 'other'].defaultRegion : 'us-east-1',
    question: 'Region',
    validate: (v, a) =>
      a.provider === 'aws' ? validateAwsRegion(str(v)) : validateRegionFor(a.service ?? 'other', str(v)),
  },
  {
    name: 'service',
    kind: 'string',
    description: `S3-compatible service preset: ${S3_SERVICES.join(', ')} (fills in the endpoint form and quirks)`,
    providers: ['s3-compatible'],
    key: 'service',
    env: 'ARCHES_STORAGE_SERVICE',
    persist: true,
    required: () => true,
    fallback: (a) => (a.endpoint ? 'other' : undefined),
    question: 'Which S3-compatible service?',
    choices: S3_SERVICES,
    validate: (v) =>
      (S3_SERVICES as readonly string[]).includes(str(v))
        ? undefined
        : `--service "${str(v)}" is not one of ${S3_SERVICES.join(', ')}`,
  },
  {
    name: 'endpoint',
    kind: 'string',
    description: 'S3-compatible endpoint URL (https://host[:port], no bucket in it); presets fill it in',
    providers: ['s3-compatible'],
    key: 'endpoint',
    env: 'ARCHES_STORAGE_ENDPOINT',
    persist: true,
    required: (a) => a.service === 'minio' || a.service === 'other' || (a.service === 'r2' && !a.account),
    question: 'Endpoint URL',
    validate: (v) => validateEndpointUrl(str(v)),
  },
  {
    name: 'account',
    kind: 'string',
    description:
      'Azure storage account name (3–24 lowercase letters and digits), or the Cloudflare account id for --service r2',
    providers: ['azure', 's3-compatible'],
    key: 'account',
    env: 'ARCHES_STORAGE_ACCOUNT',
    persist: true,
    required: (a) => a.provider === 'azure',
    question: 'Storage account name',
    validate: (v, a) =>
      a.provider === 'azure'
        ? validateAzureAccountName(str(v))
        : /^[0-9a-f]{32}$/.test(str(v))
          ? undefined
          : `--account "${str(v)}" is not a Cloudflare account id (32 hexadecimal characters)`,
  },
  {
    name: 'container',
    kind: 'string',
    description: 'Azure blob container (3–63 lowercase letters, digits, single hyphens)',
    providers: ['azure'],
    key: 'container',
    env: 'ARCHES_STORAGE_CONTAINER',
    persist: true,
    required: () => true,
    fallback: () => 'media',
    question: 'Blob container name',
    validate: (v) => validateAzureContainerName(str(v)),
  },
  {
    name: 'cors-origin',
    kind: 'list',
    description:
      'An origin the Arches site is served from, e.g. https://arches.example.org (repeatable, or comma-separated)',
    providers: CLOUD,
    key: 'corsOrigins',
    env: 'ARCHES_STORAGE_CORS_ORIGINS',
    persist: true,
    required: () => true,
    // The same default in every mode: the origins the project's settings name (PUBLIC_SERVER_ADDRESS,
    // CSRF_TRUSTED_ORIGINS, ALLOWED_HOSTS); a no-prompt run stops only when there are none.
    fallback: (a) => (a.projectOrigins?.length ? [...a.projectOrigins] : undefined),
    suggest: () => ['http://localhost:8000'],
    question: 'Origins the Arches site is served from (comma-separated)',
    validate: (v, a) =>
      list(v).length === 0
        ? 'at least one CORS origin is needed'
        : list(v)
            .map((origin) => validateCorsOriginFor(a.provider ?? 'aws', origin))
            .find((m) => m !== undefined),
  },
  {
    name: 'iam-user',
    kind: 'string',
    description: 'IAM user the app signs in as (default: arches-<package>-media)',
    providers: ['aws'],
    key: 'iamUser',
    env: 'ARCHES_STORAGE_IAM_USER',
    persist: true,
    fallback: (a) => (a.pkg ? `arches-${a.pkg.replace(/_/g, '-')}-media` : undefined),
    question: 'IAM user for the app',
    validate: (v) => validateIamUserName(str(v)),
  },
  {
    name: 'public-read',
    kind: 'boolean',
    description: 'Let anyone download objects by URL (opt-in; private with signed URLs otherwise)',
    providers: ['aws', 's3-compatible', 'gcs'],
    key: 'publicRead',
    env: 'ARCHES_STORAGE_PUBLIC_READ',
    persist: true,
    fallback: () => false,
  },
  {
    name: 'access-key-id',
    kind: 'string',
    description: 'Access key id the app uses (written only to the git-ignored settings_local.py)',
    providers: S3,
    key: 'accessKeyId',
    env: 'ARCHES_STORAGE_ACCESS_KEY_ID',
    persist: false,
    secret: true,
  },
  {
    name: 'secret-access-key',
    kind: 'string',
    description: 'Secret access key the app uses (written only to the git-ignored settings_local.py)',
    providers: S3,
    key: 'secretAccessKey',
    env: 'ARCHES_STORAGE_SECRET_ACCESS_KEY',
    persist: false,
    secret: true,
  },
  {
    name: 'account-key',
    kind: 'string',
    description: 'Azure storage account key (written only to the git-ignored settings_local.py)',
    providers: ['azure'],
    key: 'accountKey',
    env: 'ARCHES_STORAGE_ACCOUNT_KEY',
    persist: false,
    secret: true,
  },
  {
    name: 'provision',
    kind: 'boolean',
    description: 'Create or adopt the bucket, CORS and app identity (--no-provision: only write the overlay)',
    providers: CLOUD,
    key: 'provision',
    env: 'ARCHES_STORAGE_PROVISION',
    persist: false,
    fallback: () => true,
  },
  {
    name: 'profile',
    kind: 'string',
    description:
      'Named profile of the AWS shared config/credentials files to provision with (default: the SDK’s chain)',
    providers: S3,
    key: 'profile',
    env: 'ARCHES_STORAGE_PROFILE',
    persist: true,
  },
  {
    name: 'rotate-key',
    kind: 'boolean',
    description: 'Make a new access key for the app user, verify it, then delete the old one',
    providers: ['aws'],
    key: 'rotateKey',
    persist: false,
    fallback: () => false,
  },
  {
    name: 'adopt-user',
    kind: 'boolean',
    description:
      'Let the app use an existing IAM user the generator did not create for this project (its tags say so)',
    providers: ['aws'],
    key: 'adoptUser',
    persist: false,
    fallback: () => false,
  },
  {
    name: 'use-operator-key',
    kind: 'boolean',
    description:
      'S3-compatible: the credentials you provision with become the app’s key too (long-term keys only)',
    providers: ['s3-compatible'],
    key: 'useOperatorKey',
    persist: false,
    fallback: () => false,
  },
  {
    name: 'secrets-file',
    kind: 'string',
    description:
      "Write the app's keys (given or created) to this git-ignored dotenv file (mode 0600) instead of settings_local.py",
    providers: ['aws', 's3-compatible', 'azure'],
    key: 'secretsFile',
    env: 'ARCHES_STORAGE_SECRETS_FILE',
    persist: true,
  },
  {
    name: 'show-secret',
    kind: 'boolean',
    description: 'Print the new secret access key in the summary (it is never printed otherwise)',
    providers: S3,
    key: 'showSecret',
    persist: false,
    fallback: () => false,
  },
  {
    name: 'json',
    kind: 'boolean',
    description:
      'Print one JSON document on stdout, on success or failure (ok, changes, the failed step); progress goes to stderr',
    providers: ALL,
    key: 'json',
    env: 'ARCHES_STORAGE_JSON',
    persist: false,
    fallback: () => false,
  },
  {
    name: 'destroy',
    kind: 'boolean',
    description:
      'Remove what .yo-rc.json says the generator created (keys, policy, user), then switch to local',
    providers: S3,
    key: 'destroy',
    persist: false,
    fallback: () => false,
  },
  {
    name: 'delete-bucket',
    kind: 'boolean',
    description: 'With --destroy: also delete the bucket, if it is empty',
    providers: S3,
    key: 'deleteBucket',
    persist: false,
    fallback: () => false,
  },
  {
    name: 'delete-objects',
    kind: 'boolean',
    description:
      'With --destroy --delete-bucket: delete every object (all versions) in the bucket first (never implied by --force)',
    providers: S3,
    key: 'deleteObjects',
    persist: false,
    fallback: () => false,
  },
  {
    name: 'python',
    kind: 'string',
    description:
      "The project's Python (default: $VIRTUAL_ENV, then .venv, venv, ENV): imports a dry copy of the settings to check the storage block's effect",
    providers: ALL,
    key: 'python',
    env: 'ARCHES_STORAGE_PYTHON',
    // A path on this machine: not remembered for the next one.
    persist: false,
  },
  {
    name: 'dry-run',
    kind: 'boolean',
    description: 'Print the plan and the file changes; write nothing',
    providers: ALL,
    key: 'dryRun',
    persist: false,
    fallback: () => false,
  },
  {
    name: 'skip-prompts',
    kind: 'boolean',
    description:
      'Never prompt (also when CI=true or stdin is not a terminal); --no-skip-prompts forces prompts',
    providers: ALL,
    key: 'skipPrompts',
    env: 'ARCHES_STORAGE_SKIP_PROMPTS',
    persist: false,
  },
];

export const APP_OPTIONS: OptionDecl = {
  name: 'provider',
  kind: 'string',
  description: `Where uploaded files go: ${PROVIDERS.join(', ')}`,
  providers: ALL,
  key: 'provider',
  env: 'ARCHES_STORAGE_PROVIDER',
  persist: true,
  required: () => true,
  question: 'Where should Arches keep uploaded files?',
  choices: PROVIDERS,
  validate: (v) =>
    (PROVIDERS as readonly string[]).includes(str(v))
      ? undefined
      : `--provider "${str(v)}" is not one of ${PROVIDERS.join(', ')}`,
};

export function optionsFor(provider: ProviderId | 'app'): OptionDecl[] {
  if (provider === 'app') return [APP_OPTIONS, ...OPTIONS];
  return OPTIONS.filter((o) => o.providers.includes(provider));
}

export const camel = (name: string): string => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Parses an environment variable's text for an option's kind; undefined for unset or empty. */
export function fromEnvironment(o: OptionDecl, env: NodeJS.ProcessEnv): OptionValue | undefined {
  const raw = o.env ? env[o.env] : undefined;
  if (raw === undefined || raw === '') return undefined;
  if (o.kind === 'boolean') return /^(1|true|yes|on)$/i.test(raw);
  if (o.kind === 'list') return list(raw);
  return raw;
}

/** Coerces a CLI or stored value to the option's kind. */
export function coerce(o: OptionDecl, value: unknown): OptionValue | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (o.kind === 'boolean')
    return typeof value === 'boolean' ? value : /^(1|true|yes|on)$/i.test(String(value));
  if (o.kind === 'list') return list(Array.isArray(value) ? value.map(String) : [String(value)]);
  return Array.isArray(value) ? String(value.at(-1)) : String(value);
}

export const SERVICE_OF = (v: OptionValue | undefined): S3Service | undefined =>
  typeof v === 'string' && (S3_SERVICES as readonly string[]).includes(v) ? (v as S3Service) : undefined;
