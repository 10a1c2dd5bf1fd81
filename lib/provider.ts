/**
 * What makes a provider that provider, as one object: its options, its django-storages settings, its
 * packages, the documents it writes and how NOTES.md describes them, and (loaded only when a run needs it)
 * its provisioner. Each lives in `generators/<id>/provider.ts`; `generators/registry.ts` lists them. The core
 * takes a StorageProvider as data and never names a provider itself.
 */
import type { OptionDecl, PartialAnswers } from './options.js';
import type { Provisioner } from './provision/types.js';
import type { SettingsStyle, StorageAnswers, StorageSecrets } from './types.js';

/** A Python value we write into settings. */
export type PyValue = string | number | boolean | null;

/** One storage setting: its STORAGES OPTIONS key and its DEFAULT_FILE_STORAGE-era global name. */
export interface StorageSetting {
  option: string;
  global: string;
  value: PyValue;
}

/** The django-storages extra and the client library django-storages drives for this provider. */
export interface ProviderPackages {
  extra: string;
  /** The client we write (`specifier`) and what an existing declaration must intersect (django-storages' own extra floor). */
  client: { name: string; specifier: string; accept: string };
}

/** A JSON document the overlay writes to arches-storage/ (what the provisioner applies, or would). */
export interface ProviderDocument {
  /** File name in arches-storage/. */
  name: string;
  /** What NOTES.md says it is. */
  description: string;
  /** A pure function's result (lib/policies.ts), serialised in one place by the overlay. */
  content: unknown;
}

export interface StorageProvider {
  id: string;
  /** The label of the provider question, e.g. "Amazon S3". */
  label: string;
  /** How notes and messages name the storage, e.g. "Amazon S3". */
  title: string;
  /** One line for `arches-storage --help`. */
  summary: string;
  /** Every option this provider's generator takes, in prompt order. */
  options: readonly OptionDecl[];
  /** The django-storages backend per settings style; null for Django's own FileSystemStorage. */
  backend: Record<SettingsStyle, string> | null;
  settings(a: StorageAnswers): StorageSetting[];
  /** Settings the block reads from the environment because the backend reads them from settings only. */
  settingsFromEnvironment?: readonly string[];
  /** Environment defaults the block sets (`os.environ.setdefault`) for client quirks, and why. */
  environment?(a: StorageAnswers): { why: string; values: Array<[name: string, value: string]> } | undefined;
  /** Settings globals that hold secrets, for settings_local.py or the dotenv file. */
  secrets(s: StorageSecrets): Array<[global: string, value: string]>;
  /** The environment variables a deployment can set instead of settings_local.py. */
  secretEnvironment: readonly string[];
  packages: ProviderPackages | null;
  /** Every document name this provider may write (so switching away removes them). */
  documentNames: readonly string[];
  documents(a: StorageAnswers): ProviderDocument[];
  /** NOTES.md "What was configured": the provider's own lines (Markdown, without the leading "- "). */
  configured(a: StorageAnswers): string[];
  /** Extra NOTES.md sections (a service's quirks). */
  noteSections?(a: StorageAnswers): Array<{ title: string; text: string }>;
  /** Warnings about the answers that do not stop the run (a bucket name some tools dislike). */
  warnings?(a: StorageAnswers): string[];
  /** Cross-option checks the single-option validators cannot make. */
  validateAnswers?(a: PartialAnswers): string[];
  /** What else can supply a missing option, appended to the "Missing required option" line. */
  missingHints?: Readonly<Record<string, string>>;
  /** CORS rules match origins exactly: a `*.` subdomain wildcard is refused. */
  exactCorsOrigins?: boolean;
  /** Loads the provisioner (and with it the SDK) when a run creates resources; none: only --no-provision. */
  provisioner?: () => Promise<Provisioner>;
}
