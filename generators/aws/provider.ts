/**
 * Amazon S3: a private bucket with CORS, a least-privilege IAM user for the app (its key written only where
 * git ignores it), signed URLs. The provisioner (./provisioner.ts) is loaded only when a run provisions.
 */
import {
  ACCESS_KEY_ID,
  bucketOption,
  corsOriginOption,
  LEADING,
  PROFILE,
  PROVISION,
  PROVISIONING_TRAILING,
  PUBLIC_READ,
  REGION_DESCRIPTION,
  SECRET_ACCESS_KEY,
  str,
  type OptionDecl,
} from '../../lib/options.js';
import {
  awsPublicReadBucketPolicy,
  awsUserPolicy,
  partitionForRegion,
  s3CorsConfiguration,
  s3LifecycleRules,
} from '../../lib/policies.js';
import type { StorageProvider } from '../../lib/provider.js';
import {
  s3BucketNameWarning,
  validateAwsRegion,
  validateIamUserName,
  validateS3BucketName,
} from '../../lib/validate.js';
import { S3_BACKEND, s3Packages, s3Secrets, s3Settings, S3_SECRET_ENVIRONMENT } from '../../lib/s3.js';

const REGION: OptionDecl = {
  name: 'region',
  kind: 'string',
  description: REGION_DESCRIPTION,
  key: 'region',
  env: 'ARCHES_STORAGE_REGION',
  persist: true,
  required: () => true,
  suggest: () => 'us-east-1',
  question: 'Region',
  validate: (v) => validateAwsRegion(str(v)),
};

const IAM_USER: OptionDecl = {
  name: 'iam-user',
  kind: 'string',
  description: 'IAM user the app signs in as (default: arches-<package>-media)',
  key: 'iamUser',
  env: 'ARCHES_STORAGE_IAM_USER',
  persist: true,
  fallback: (a) => (a.pkg ? `arches-${a.pkg.replace(/_/g, '-')}-media` : undefined),
  question: 'IAM user for the app',
  validate: (v) => validateIamUserName(str(v)),
};

const ROTATE_KEY: OptionDecl = {
  name: 'rotate-key',
  kind: 'boolean',
  description: 'Make a new access key for the app user, verify it, then delete the old one',
  key: 'rotateKey',
  persist: false,
  fallback: () => false,
};

const ADOPT_USER: OptionDecl = {
  name: 'adopt-user',
  kind: 'boolean',
  description:
    'Let the app use an existing IAM user the generator did not create for this project (its tags say so)',
  key: 'adoptUser',
  persist: false,
  fallback: () => false,
};

const title = 'Amazon S3';

const aws: StorageProvider = {
  id: 'aws',
  label: 'Amazon S3',
  title,
  summary: 'Amazon S3, with a least-privilege IAM user policy',
  options: [
    ...LEADING,
    bucketOption(validateS3BucketName),
    REGION,
    corsOriginOption({ title }),
    IAM_USER,
    PUBLIC_READ,
    ACCESS_KEY_ID,
    SECRET_ACCESS_KEY,
    PROVISION,
    PROFILE,
    ROTATE_KEY,
    ADOPT_USER,
    ...PROVISIONING_TRAILING,
  ],
  backend: S3_BACKEND,
  settings: s3Settings,
  secrets: s3Secrets,
  secretEnvironment: S3_SECRET_ENVIRONMENT,
  packages: s3Packages,
  documentNames: ['aws-user-policy.json', 'aws-bucket-policy.json', 'cors.json', 'lifecycle.json'],
  documents: (a) => {
    const bucket = a.bucket ?? '';
    const partition = partitionForRegion(a.region ?? 'us-east-1');
    return [
      {
        name: 'aws-user-policy.json',
        description: 'the IAM policy for the app user (list the bucket; read, write, delete objects in it)',
        content: awsUserPolicy(bucket, partition),
      },
      ...(a.publicRead
        ? [
            {
              name: 'aws-bucket-policy.json',
              description: 'the public-read bucket policy',
              content: awsPublicReadBucketPolicy(bucket, partition),
            },
          ]
        : []),
      {
        name: 'cors.json',
        description: `CORS for ${a.corsOrigins.join(', ')}`,
        content: s3CorsConfiguration(a.corsOrigins),
      },
      {
        name: 'lifecycle.json',
        description:
          'the bucket lifecycle rules (Arches’ temporary files and incomplete uploads expire after 7 days)',
        content: s3LifecycleRules(),
      },
    ];
  },
  configured: (a) => [`Bucket \`${a.bucket}\`${a.region ? ` in \`${a.region}\`` : ''}.`],
  warnings: (a) => [a.bucket ? s3BucketNameWarning(a.bucket) : undefined].filter((w): w is string => !!w),
  provisioner: () => import('./provisioner.js').then((m) => m.awsProvisioner),
};

export default aws;
