/**
 * What every S3-protocol provider (Amazon S3 and the S3-compatible services) shares: the django-storages
 * backend, its settings, where the keys go, and the packages.
 */
import type { ProviderPackages, StorageSetting } from './provider.js';
import type { StorageAnswers, StorageSecrets } from './types.js';

export const S3_BACKEND = {
  DEFAULT_FILE_STORAGE: 'storages.backends.s3boto3.S3Boto3Storage',
  STORAGES: 'storages.backends.s3.S3Storage',
} as const;

export function s3Settings(a: StorageAnswers): StorageSetting[] {
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

export const s3Secrets = (s: StorageSecrets): Array<[string, string]> =>
  s.accessKeyId && s.secretAccessKey
    ? [
        ['AWS_ACCESS_KEY_ID', s.accessKeyId],
        ['AWS_SECRET_ACCESS_KEY', s.secretAccessKey],
      ]
    : [];

export const S3_SECRET_ENVIRONMENT = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;

export const s3Packages: ProviderPackages = {
  extra: 's3',
  client: { name: 'boto3', specifier: '>=1.26,<2', accept: '>=1.4.4' },
};
