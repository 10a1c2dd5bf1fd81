/**
 * Policy and CORS documents, one small pure function per document (in the style of simonw/s3-credentials).
 * Generators write these to files and send them to provider APIs; the key order of every object is fixed
 * so that `JSON.stringify` output is stable byte for byte.
 */

/** AWS partitions, as they appear in ARNs (`arn:<partition>:s3:::bucket`). */
export type AwsPartition =
  'aws' | 'aws-cn' | 'aws-us-gov' | 'aws-iso' | 'aws-iso-b' | 'aws-iso-e' | 'aws-iso-f' | 'aws-eusc';

/** A statement of an IAM identity policy: never has a Principal (IAM refuses one as MalformedPolicyDocument). */
export interface IamIdentityStatement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: string[];
}

/** A statement of a resource (bucket) policy: always has a Principal. */
export interface IamResourceStatement {
  Sid: string;
  Effect: 'Allow' | 'Deny';
  Principal: '*' | { AWS: string[] };
  Action: string[];
  Resource: string[];
}

export interface IamIdentityPolicy {
  Version: '2012-10-17';
  Statement: IamIdentityStatement[];
}

export interface IamResourcePolicy {
  Version: '2012-10-17';
  Statement: IamResourceStatement[];
}

/** One rule of S3 PutBucketCors `CORSConfiguration` (compatible with @aws-sdk/client-s3's `CORSRule`). */
export interface S3CorsRule {
  AllowedOrigins: string[];
  AllowedMethods: string[];
  AllowedHeaders: string[];
  ExposeHeaders: string[];
  MaxAgeSeconds: number;
}

export interface S3CorsConfiguration {
  CORSRules: S3CorsRule[];
}

/**
 * One rule of S3 PutBucketLifecycleConfiguration `LifecycleConfiguration` (compatible with
 * @aws-sdk/client-s3's `LifecycleRule`): by prefix, expiring objects or aborting incomplete multipart uploads.
 */
export interface S3LifecycleRule {
  ID: string;
  Status: 'Enabled';
  Filter: { Prefix: string };
  Expiration?: { Days: number };
  AbortIncompleteMultipartUpload?: { DaysAfterInitiation: number };
}

export interface S3LifecycleConfiguration {
  Rules: S3LifecycleRule[];
}

/** One entry of @google-cloud/storage `bucket.setCorsConfiguration([...])` (its `Cors` type). */
export interface GcsCorsRule {
  origin: string[];
  method: string[];
  responseHeader: string[];
  maxAgeSeconds: number;
}

/** One binding of a GCS bucket IAM policy. */
export interface GcsIamBinding {
  role: string;
  members: string[];
}

/** Bucket metadata for @google-cloud/storage `createBucket(name, metadata)` / `bucket.setMetadata(...)`. */
export interface GcsBucketSettings {
  iamConfiguration: {
    uniformBucketLevelAccess: { enabled: true };
    publicAccessPrevention: 'enforced' | 'inherited';
  };
}

/** One entry of @azure/storage-blob `setProperties({ cors: [...] })` (its `CorsRule` type). */
export interface AzureCorsRule {
  allowedOrigins: string;
  allowedMethods: string;
  allowedHeaders: string;
  exposedHeaders: string;
  maxAgeInSeconds: number;
}

const POLICY_VERSION = '2012-10-17';

/**
 * The partition an AWS region belongs to, by its name's prefix. A table rather than the SDK's public
 * `partition()` (@aws-sdk/core/client): that costs about 0.1 s to load, and this runs on every AWS overlay and
 * under --help, where no SDK is loaded. test/generators/aws/partition.test.ts holds it to the SDK's data.
 */
export function partitionForRegion(region: string): AwsPartition {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  if (region.startsWith('us-isof-')) return 'aws-iso-f';
  if (region.startsWith('eu-isoe-')) return 'aws-iso-e';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('eusc-')) return 'aws-eusc';
  return 'aws';
}

/**
 * Refuses names that would change an ARN's meaning in a policy (wildcards, separators, variables). Full
 * naming rules are validate.ts's job; this only keeps a policy from granting more than one bucket.
 */
function assertPlainBucket(bucket: string): void {
  if (bucket === '' || /[*?/:${}\s]/.test(bucket)) {
    throw new Error(`refusing to write a policy for bucket name ${JSON.stringify(bucket)}`);
  }
}

function bucketArn(bucket: string, partition: AwsPartition): string {
  return `arn:${partition}:s3:::${bucket}`;
}

function objectsArn(bucket: string, partition: AwsPartition): string {
  return `arn:${partition}:s3:::${bucket}/*`;
}

/**
 * Least-privilege identity policy for the app user: list the bucket (django-storages needs it, or a
 * HeadObject on a missing key answers 403) and read, write and delete its objects.
 */
export function awsUserPolicy(bucket: string, partition: AwsPartition = 'aws'): IamIdentityPolicy {
  assertPlainBucket(bucket);
  return {
    Version: POLICY_VERSION,
    Statement: [
      {
        Sid: 'ListBucket',
        Effect: 'Allow',
        Action: ['s3:ListBucket', 's3:GetBucketLocation'],
        Resource: [bucketArn(bucket, partition)],
      },
      {
        Sid: 'ReadWriteObjects',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
        Resource: [objectsArn(bucket, partition)],
      },
    ],
  };
}

/** Bucket policy for `--public-read` only: anyone may GET objects; nothing else. */
export function awsPublicReadBucketPolicy(
  bucket: string,
  partition: AwsPartition = 'aws',
): IamResourcePolicy {
  assertPlainBucket(bucket);
  return {
    Version: POLICY_VERSION,
    Statement: [
      {
        Sid: 'PublicReadGetObject',
        Effect: 'Allow',
        Principal: '*',
        Action: ['s3:GetObject'],
        Resource: [objectsArn(bucket, partition)],
      },
    ],
  };
}

function assertOrigins(origins: readonly string[]): void {
  if (origins.length === 0) {
    throw new Error('a CORS configuration needs at least one origin');
  }
}

/** The `CORSConfiguration` for S3 PutBucketCors: browsers on `origins` may GET/HEAD objects. */
export function s3CorsConfiguration(origins: readonly string[]): S3CorsConfiguration {
  assertOrigins(origins);
  return {
    CORSRules: [
      {
        AllowedOrigins: [...origins],
        AllowedMethods: ['GET', 'HEAD'],
        AllowedHeaders: ['*'],
        ExposeHeaders: ['ETag'],
        MaxAgeSeconds: 3000,
      },
    ],
  };
}

/** Where Arches keeps temporary files in the storage: uploads being processed, and its temp folder. */
export const ARCHES_TEMP_PREFIXES = ['uploadedfiles/tmp/', 'archestemp/'] as const;
/** Days before a temporary object expires, and before an incomplete multipart upload is aborted. */
export const LIFECYCLE_DAYS = 7;
/** The prefix of the IDs of the lifecycle rules this generator puts, so it finds (and removes) only them. */
export const LIFECYCLE_RULE_PREFIX = 'arches-storage-';

/**
 * Bucket hygiene, for S3 PutBucketLifecycleConfiguration: Arches' temporary prefixes expire after 7 days and
 * incomplete multipart uploads (anywhere in the bucket) are aborted after 7 days. Each rule has its own ID, so
 * that on an adopted bucket they are added to the owner's rules and taken back without touching them.
 */
export function s3LifecycleRules(): S3LifecycleConfiguration {
  return {
    Rules: [
      ...ARCHES_TEMP_PREFIXES.map((prefix): S3LifecycleRule => ({
        ID: `${LIFECYCLE_RULE_PREFIX}expire-${prefix.replace(/\/$/, '').replace(/\//g, '-')}`,
        Status: 'Enabled',
        Filter: { Prefix: prefix },
        Expiration: { Days: LIFECYCLE_DAYS },
      })),
      {
        ID: `${LIFECYCLE_RULE_PREFIX}abort-incomplete-uploads`,
        Status: 'Enabled',
        Filter: { Prefix: '' },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: LIFECYCLE_DAYS },
      },
    ],
  };
}

/** The array @google-cloud/storage `bucket.setCorsConfiguration()` takes. */
export function gcsCorsConfiguration(origins: readonly string[]): GcsCorsRule[] {
  assertOrigins(origins);
  return [
    {
      origin: [...origins],
      method: ['GET', 'HEAD'],
      responseHeader: ['Content-Type', 'ETag'],
      maxAgeSeconds: 3600,
    },
  ];
}

/** Grants the app's service account read/write/delete on objects of the bucket (bucket-level binding). */
export function gcsIamBinding(bucket: string, serviceAccountEmail: string): GcsIamBinding {
  if (!/^[^@\s:]+@[^@\s:]+\.[^@\s:]+$/.test(serviceAccountEmail)) {
    throw new Error(
      `refusing to bind ${JSON.stringify(serviceAccountEmail)} on bucket ${JSON.stringify(bucket)}: ` +
        'expected a service account email like app@project.iam.gserviceaccount.com',
    );
  }
  return {
    role: 'roles/storage.objectAdmin',
    members: [`serviceAccount:${serviceAccountEmail}`],
  };
}

/** `--public-read` on GCS: anyone may read objects (needs `gcsBucketSettings({ publicRead: true })`). */
export function gcsPublicReadBinding(): GcsIamBinding {
  return {
    role: 'roles/storage.objectViewer',
    members: ['allUsers'],
  };
}

/**
 * Bucket metadata: uniform bucket-level access (no object ACLs) and public access prevention enforced,
 * unless `publicRead` asks for `inherited` so that a public binding can be added.
 */
export function gcsBucketSettings(options: { publicRead?: boolean } = {}): GcsBucketSettings {
  return {
    iamConfiguration: {
      uniformBucketLevelAccess: { enabled: true },
      publicAccessPrevention: options.publicRead === true ? 'inherited' : 'enforced',
    },
  };
}

/** The `cors` array for @azure/storage-blob `BlobServiceClient.setProperties({ cors })`. */
export function azureCorsRules(origins: readonly string[]): AzureCorsRule[] {
  assertOrigins(origins);
  return [
    {
      allowedOrigins: origins.join(','),
      allowedMethods: 'GET,HEAD',
      allowedHeaders: '*',
      exposedHeaders: 'ETag',
      maxAgeInSeconds: 3600,
    },
  ];
}

/**
 * What the person running the generator needs, and no more: set up (and tear down) one bucket and one IAM
 * user. `account` may be "*" when the policy is written before the account is known.
 */
export function awsOperatorPolicy(
  bucket: string,
  userName: string,
  account: string,
  partition: AwsPartition = 'aws',
): IamIdentityPolicy {
  assertPlainBucket(bucket);
  return {
    Version: POLICY_VERSION,
    Statement: [
      {
        Sid: 'ManageTheMediaBucket',
        Effect: 'Allow',
        Action: [
          's3:CreateBucket',
          's3:ListBucket',
          's3:ListBucketVersions',
          // Read first, so that an existing bucket is adopted without overwriting its owner's settings.
          's3:GetBucketTagging',
          's3:GetBucketCORS',
          's3:GetBucketPolicy',
          's3:GetBucketPublicAccessBlock',
          's3:GetBucketOwnershipControls',
          's3:GetEncryptionConfiguration',
          's3:GetLifecycleConfiguration',
          's3:PutBucketPublicAccessBlock',
          's3:PutBucketOwnershipControls',
          's3:PutEncryptionConfiguration',
          's3:PutBucketCORS',
          // PutBucketLifecycleConfiguration and DeleteBucketLifecycle both need this one.
          's3:PutLifecycleConfiguration',
          's3:PutBucketTagging',
          's3:PutBucketPolicy',
          's3:DeleteBucketPolicy',
          's3:DeleteBucket',
        ],
        Resource: [bucketArn(bucket, partition)],
      },
      {
        Sid: 'EmptyTheBucketOnForcedTeardown',
        Effect: 'Allow',
        Action: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
        Resource: [objectsArn(bucket, partition)],
      },
      {
        Sid: 'ManageTheAppUser',
        Effect: 'Allow',
        Action: [
          'iam:CreateUser',
          'iam:GetUser',
          'iam:TagUser',
          'iam:ListUserTags',
          'iam:PutUserPolicy',
          'iam:GetUserPolicy',
          'iam:ListUserPolicies',
          'iam:DeleteUserPolicy',
          'iam:CreateAccessKey',
          'iam:ListAccessKeys',
          'iam:DeleteAccessKey',
          'iam:DeleteUser',
        ],
        Resource: [`arn:${partition}:iam::${account}:user/${userName}`],
      },
    ],
  };
}
