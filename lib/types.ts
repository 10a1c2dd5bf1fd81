/**
 * Types shared by the core modules. The core imports nothing from Yeoman: generators hand it plain data
 * and write what it returns.
 */

/**
 * A registered provider's id (generators/registry.ts): `aws`, `s3-compatible`, `gcs`, `azure`, `local`
 * (back to Django's FileSystemStorage). The core never names one: it is handed the provider's data.
 */
export type ProviderId = string;

/** How the Django version of an Arches line configures the default storage. */
export type SettingsStyle = 'DEFAULT_FILE_STORAGE' | 'STORAGES';

/** Where the project keeps (or the overlay puts) its Python dependencies. */
export type DependencyTarget =
  { kind: 'pyproject'; path: string } | { kind: 'requirements'; path: string; created: boolean };

/** One package the overlay needs declared. */
export interface NeededPackage {
  /** Distribution name as we write it, e.g. `Django`, `django-storages`, `boto3`. */
  name: string;
  /** Extras written with the name, e.g. `["s3"]`. */
  extras: readonly string[];
  /** PEP 440 specifier written when the project does not declare the package, e.g. `==3.2.25`. */
  specifier: string;
  /**
   * PEP 440 specifier that an existing declaration must be able to satisfy. A declaration whose versions
   * do not intersect this range cannot work and is refused.
   */
  accept: string;
  /** Why: shown in conflict messages, e.g. `Arches 7.4.2 requires Django==3.2.21`. */
  reason: string;
}

/** A file change the overlay wants; `after: null` deletes the file. */
export interface FileChange {
  /** Path relative to the project root, with forward slashes. */
  path: string;
  before: string | null;
  after: string | null;
  /** The file holds a secret: written with mode 0600 from its first byte. */
  secret?: boolean;
}

/** An error the user caused (bad input, conflicting pin, edited markers): reported without a stack trace. */
export class UserError extends Error {
  constructor(
    message: string,
    /** The option or file the message is about, for machine-readable output. */
    readonly subject?: string,
    /** Process exit code: 2 for missing or invalid input, 1 for a refusal (conflict, tampered markers). */
    readonly exitCode = 1,
    /** Machine-readable facts for `--json` (the failed step, what exists now, where the secret went). */
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** What the user chose: everything the overlay is built from. Never holds a secret. */
export interface StorageAnswers {
  provider: ProviderId;
  bucket?: string;
  region?: string;
  endpoint?: string;
  /** The S3-compatible service preset (generators/s3-compatible/services.ts). */
  service?: string;
  /** Azure storage account, or the Cloudflare account id for the r2 preset. */
  account?: string;
  container?: string;
  corsOrigins: string[];
  iamUser?: string;
  publicRead: boolean;
}

/** The message of whatever was thrown (an Error's message, else its string form). */
export const errorMessage = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/** The access key the run was given (both halves: validation makes them come in pairs), if any. */
export function givenKey(s: StorageSecrets): { accessKeyId: string; secretAccessKey: string } | undefined {
  return s.accessKeyId && s.secretAccessKey
    ? { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey }
    : undefined;
}

/** Secrets: written only to a git-ignored file (the settings_local.py block or --secrets-file), never to .yo-rc.json or logs. */
export interface StorageSecrets {
  accessKeyId?: string;
  secretAccessKey?: string;
  accountKey?: string;
}
