/**
 * Google Cloud Storage: uniform bucket-level access, public access prevention, CORS, and the app's service
 * account bound to the bucket only. Today this provider writes the overlay for a bucket that exists
 * (--no-provision).
 */
import {
  bucketOption,
  corsOriginOption,
  LEADING,
  PROVISION,
  PUBLIC_READ,
  TRAILING,
} from '../../lib/options.js';
import {
  gcsBucketSettings,
  gcsCorsConfiguration,
  gcsIamBinding,
  gcsPublicReadBinding,
} from '../../lib/policies.js';
import type { StorageProvider } from '../../lib/provider.js';
import { validateGcsBucketName } from '../../lib/validate.js';

const title = 'Google Cloud Storage';

const gcs: StorageProvider = {
  id: 'gcs',
  label: 'Google Cloud Storage',
  title,
  summary: 'Google Cloud Storage',
  options: [
    ...LEADING,
    bucketOption(validateGcsBucketName),
    corsOriginOption({ title, exactCorsOrigins: true }),
    PUBLIC_READ,
    PROVISION,
    ...TRAILING,
  ],
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
  secretEnvironment: ['GOOGLE_APPLICATION_CREDENTIALS'],
  packages: {
    extra: 'google',
    client: { name: 'google-cloud-storage', specifier: '>=2.10,<4', accept: '>=1.27' },
  },
  documentNames: ['gcs-cors.json', 'gcs-iam-binding.json', 'gcs-bucket-settings.json'],
  documents: (a) => [
    {
      name: 'gcs-cors.json',
      description: `CORS for ${a.corsOrigins.join(', ')}`,
      content: gcsCorsConfiguration(a.corsOrigins),
    },
    {
      name: 'gcs-bucket-settings.json',
      description: '',
      content: gcsBucketSettings({ publicRead: a.publicRead }),
    },
    {
      name: 'gcs-iam-binding.json',
      description: '',
      content: [
        gcsIamBinding(a.bucket ?? '', `${a.iamUser ?? 'arches-storage'}@PROJECT_ID.iam.gserviceaccount.com`),
        ...(a.publicRead ? [gcsPublicReadBinding()] : []),
      ],
    },
  ],
  configured: (a) => [`Bucket \`${a.bucket}\`${a.region ? ` in \`${a.region}\`` : ''}.`],
  exactCorsOrigins: true,
};

export default gcs;
