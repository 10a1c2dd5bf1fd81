/**
 * Provider differences as data: the django-storages backend per settings style, the settings each one needs,
 * where its secrets go, and the S3-compatible presets.
 */
import type { ProviderId, S3Service, SettingsStyle, StorageAnswers, StorageSecrets } from './types.js';

/** A Python value we write into settings. */
export type PyValue = string | number | boolean | null;

/** One storage setting: its STORAGES OPTIONS key and its DEFAULT_FILE_STORAGE-era global name. */
export interface StorageSetting {
  option: string;
  global: string;
  value: PyValue;
}

export interface S3ServicePreset {
  title: string;
  /** Endpoint template: `{region}` and `{account}` are filled in from the answers. */
  endpoint?: string;
  defaultRegion?: string;
  /** Path-style addressing (MinIO and unknown servers); the others take virtual-hosted style. */
  pathStyle: boolean;
  note?: string;
}

export const S3_SERVICE_PRESETS: Record<S3Service, S3ServicePreset> = {
  digitalocean: {
    title: 'DigitalOcean Spaces',
    endpoint: 'https://{region}.digitaloceanspaces.com',
    defaultRegion: 'nyc3',
    pathStyle: false,
  },
  wasabi: {
    title: 'Wasabi',
    endpoint: 'https://s3.{region}.wasabisys.com',
    defaultRegion: 'us-east-1',
    pathStyle: false,
  },
  backblaze: {
    title: 'Backblaze B2',
    endpoint: 'https://s3.{region}.backblazeb2.com',
    defaultRegion: 'us-west-004',
    pathStyle: false,
    note: 'Backblaze B2 has no object ACLs; the overlay sends none.',
  },
  r2: {
    title: 'Cloudflare R2',
    endpoint: 'https://{account}.r2.cloudflarestorage.com',
    defaultRegion: 'auto',
    pathStyle: false,
    note: 'Cloudflare R2 has no ACLs and takes region "auto".',
  },
  minio: { title: 'MinIO', defaultRegion: 'us-east-1', pathStyle: true },
  other: { title: 'another S3-compatible server', defaultRegion: 'us-east-1', pathStyle: true },
};

/** The endpoint a preset implies, or the one given; undefined when neither is known yet. */
export function resolveEndpoint(
  a: Pick<StorageAnswers, 'endpoint' | 'service' | 'region' | 'account'>,
): string | undefined {
  if (a.endpoint) return a.endpoint.replace(/\/$/, '');
  const preset = a.service ? S3_SERVICE_PRESETS[a.service] : undefined;
  if (!preset?.endpoint) return undefined;
  if (preset.endpoint.includes('{account}') && !a.account) return undefined;
  const region = a.region ?? preset.defaultRegion ?? '';
  return preset.endpoint.replace('{region}', region).replace('{account}', a.account ?? '');
}

export interface ProviderSpec {
  id: ProviderId;
  title: string;
  backend: Record<SettingsStyle, string> | null;
  settings(a: StorageAnswers): StorageSetting[];
  /** Settings globals that hold secrets, for settings_local.py. */
  secrets(s: StorageSecrets): Array<[global: string, value: string]>;
  /** Environment defaults the block sets (`os.environ.setdefault`), for client quirks. */
  environment(a: StorageAnswers): Array<[name: string, value: string]>;
  /** The environment variables a deployment can set instead of settings_local.py. */
  secretEnvironment: readonly string[];
}

const S3_BACKEND = {
  DEFAULT_FILE_STORAGE: 'storages.backends.s3boto3.S3Boto3Storage',
  STORAGES: 'storages.backends.s3.S3Storage',
} as const;

function s3Common(a: StorageAnswers): StorageSetting[] {
  return [
    { option: 'bucket_name', global: 'AWS_STORAGE_BUCKET_NAME', value: a.bucket ?? null },
    { option: 'region_name', global: 'AWS_S3_REGION_NAME', value: a.region ?? null },
    // Buckets made since 2023 have ACLs disabled: any ACL on upload fails.
    { option: 'default_acl', global: 'AWS_DEFAULT_ACL', value: null },
    // Arches keeps a file's name; never overwrite another upload with the same name.
    { option: 'file_overwrite', global: 'AWS_S3_FILE_OVERWRITE', value: false },
    // A private bucket needs signed URLs; a public-read bucket serves plain ones.
    { option: 'querystring_auth', global: 'AWS_QUERYSTRING_AUTH', value: !a.publicRead },
    { option: 'signature_version', global: 'AWS_S3_SIGNATURE_VERSION', value: 's3v4' },
  ];
}

const s3Secrets = (s: StorageSecrets): Array<[string, string]> =>
  s.accessKeyId && s.secretAccessKey
    ? [
        ['AWS_ACCESS_KEY_ID', s.accessKeyId],
        ['AWS_SECRET_ACCESS_KEY', s.secretAccessKey],
      ]
    : [];

export const PROVIDER_SPECS: Record<ProviderId, ProviderSpec> = {
  aws: {
    id: 'aws',
    title: 'Amazon S3',
    backend: S3_BACKEND,
    settings: s3Common,
    secrets: s3Secrets,
    environment: () => [],
    secretEnvironment: ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'],
  },
  's3-compatible': {
    id: 's3-compatible',
    title: 'S3-compatible storage',
    backend: S3_BACKEND,
    settings: (a) => {
      const preset = a.service ? S3_SERVICE_PRESETS[a.service] : S3_SERVICE_PRESETS.other;
      return [
        ...s3Common(a),
        { option: 'endpoint_url', global: 'AWS_S3_ENDPOINT_URL', value: resolveEndpoint(a) ?? null },
        ...(preset.pathStyle
          ? [{ option: 'addressing_style', global: 'AWS_S3_ADDRESSING_STYLE', value: 'path' }]
          : []),
      ];
    },
    secrets: s3Secrets,
    // boto3 >= 1.36 sends checksums that MinIO, B2 and others reject; older boto3 ignores these variables.
    environment: () => [
      ['AWS_REQUEST_CHECKSUM_CALCULATION', 'when_required'],
      ['AWS_RESPONSE_CHECKSUM_VALIDATION', 'when_required'],
    ],
    secretEnvironment: ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'],
  },
  gcs: {
    id: 'gcs',
    title: 'Google Cloud Storage',
    backend: {
      DEFAULT_FILE_STORAGE: 'storages.backends.gcloud.GoogleCloudStorage',
      STORAGES: 'storages.backends.gcloud.GoogleCloudStorage',
    },
    settings: (a) => [
      { option: 'bucket_name', global: 'GS_BUCKET_NAME', value: a.bucket ?? null },
      // Uniform bucket-level access refuses object ACLs (HTTP 400): public read is an IAM binding instead.
      { option: 'default_acl', global: 'GS_DEFAULT_ACL', value: null },
      { option: 'file_overwrite', global: 'GS_FILE_OVERWRITE', value: false },
      { option: 'querystring_auth', global: 'GS_QUERYSTRING_AUTH', value: !a.publicRead },
    ],
    secrets: () => [],
    environment: () => [],
    secretEnvironment: ['GOOGLE_APPLICATION_CREDENTIALS'],
  },
  azure: {
    id: 'azure',
    title: 'Azure Blob Storage',
    backend: {
      DEFAULT_FILE_STORAGE: 'storages.backends.azure_storage.AzureStorage',
      STORAGES: 'storages.backends.azure_storage.AzureStorage',
    },
    settings: (a) => [
      { option: 'account_name', global: 'AZURE_ACCOUNT_NAME', value: a.account ?? null },
      { option: 'azure_container', global: 'AZURE_CONTAINER', value: a.container ?? null },
      { option: 'overwrite_files', global: 'AZURE_OVERWRITE_FILES', value: false },
      // New storage accounts forbid public blobs: hand out SAS URLs valid for an hour.
      { option: 'expiration_secs', global: 'AZURE_URL_EXPIRATION_SECS', value: a.publicRead ? null : 3600 },
    ],
    secrets: (s) => (s.accountKey ? [['AZURE_ACCOUNT_KEY', s.accountKey]] : []),
    environment: () => [],
    secretEnvironment: ['AZURE_ACCOUNT_KEY'],
  },
  local: {
    id: 'local',
    title: 'local files (Django FileSystemStorage)',
    backend: null,
    settings: () => [],
    secrets: () => [],
    environment: () => [],
    secretEnvironment: [],
  },
};
