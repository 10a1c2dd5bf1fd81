/**
 * Provisioning: the plan of SDK calls that creates (or adopts) a bucket and the app identity, and the state
 * a run records in .yo-rc.json so the next run resumes instead of duplicating. Types only: the provisioners
 * that import the AWS SDK are loaded only when a run provisions.
 */
import type { IAMClient } from '@aws-sdk/client-iam';
import type { S3Client } from '@aws-sdk/client-s3';
import type { STSClient } from '@aws-sdk/client-sts';

export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
}

/** Credentials as the SDK's chain resolved them: a session token means temporary (SSO, an assumed role). */
export interface ResolvedCredentials extends AccessKey {
  sessionToken?: string;
  expiration?: Date;
}

/** The SDK clients a provisioner uses; tests hand in clients pointed at s3rver and mocked where needed. */
export interface AwsClients {
  /** S3 with the operator's credentials, in the bucket's region (or at the S3-compatible endpoint). */
  s3: S3Client;
  iam: IAMClient;
  sts: STSClient;
  /** S3 signed with the app's own key, for the probe. */
  s3WithKey(key: AccessKey): S3Client;
  /** STS signed with the app's own key: GetCallerIdentity answers as soon as the key is valid (AWS only). */
  stsWithKey?(key: AccessKey): STSClient;
}

/** Who put a bucket setting: this generator ('set'), or it was already as wanted and left alone ('kept'). */
export type SettingOrigin = 'set' | 'kept';

/**
 * The bucket, and per setting what this generator did to it: teardown and later runs change or remove only
 * what these fields say is ours. A bucket recorded before these fields existed has only name/arn/created.
 */
export interface BucketState {
  name: string;
  arn?: string;
  /** CreateBucket made it (false: it existed and was adopted). */
  created: boolean;
  /** Old state: the probe passed once. Read, never written. */
  configured?: boolean;
  /** The probe passed with the app key. */
  verified?: boolean;
  publicAccessBlock?: SettingOrigin;
  ownership?: SettingOrigin;
  /** 'kept': the bucket had default encryption (SSE-KMS stays SSE-KMS). */
  encryption?: SettingOrigin;
  /** Tag keys this generator added (the owner's tags are never listed, never removed). */
  tags?: string[];
  /** 'created': the bucket had no CORS configuration; 'merged': our rule was added to the owner's rules. */
  cors?: 'created' | 'merged';
  /** The ID of our CORS rule (absent in old state: a rule equal to ours, without ID). */
  corsRuleId?: string;
  /** 'created': the bucket had no policy; 'merged': our statements were added to the owner's policy. */
  policy?: 'created' | 'merged';
  /** Sids of the bucket-policy statements this generator wrote. */
  policySids?: string[];
}

export interface UserState {
  name: string;
  arn: string;
  /** CreateUser made it (false: adopted with --adopt-user). Old state lacks it: such users were ours. */
  created?: boolean;
  policyName?: string;
}

/** What exists because of this generator, by name and ARN: never a secret. Kept in .yo-rc.json. */
export interface ProvisionedState {
  accountId?: string;
  callerArn?: string;
  region?: string;
  endpoint?: string;
  bucket?: BucketState;
  user?: UserState;
  /** The app's access key, made by this generator. */
  accessKeyId?: string;
  /** The key a rotation replaces, until it is deleted (so a failed rotation leaves no unrecorded key). */
  previousAccessKeyId?: string;
}

export type StepId =
  | 'identify'
  | 'create-bucket'
  | 'public-access-block'
  | 'ownership'
  | 'encryption'
  | 'cors'
  | 'tags'
  | 'bucket-policy'
  | 'create-user'
  | 'user-policy'
  | 'delete-orphan-keys'
  | 'create-access-key'
  | 'verify'
  | 'delete-old-key'
  | 'delete-access-keys'
  | 'delete-user-policy'
  | 'delete-user'
  | 'empty-bucket'
  | 'delete-bucket'
  | 'restore-tags'
  | 'restore-cors'
  | 'restore-policy';

/** One SDK call, as the plan shows it. */
export interface PlannedCall {
  service: 'sts' | 's3' | 'iam';
  command: string;
  input: Record<string, unknown>;
}

export interface PlanStep {
  id: StepId;
  title: string;
  /** Steps that must finish first; the others run concurrently. */
  needs: StepId[];
  calls: PlannedCall[];
}

export interface ProvisionPlan {
  provider: string;
  steps: PlanStep[];
  /** Facts found by read-only calls before planning (account, whether the bucket/user exist). */
  facts: string[];
  /** Documents applied, in full (user policy, bucket policy, CORS). */
  documents: Record<string, unknown>;
}

/** What a finished (or failed) run reports. */
export interface ProvisionSummary {
  ok: boolean;
  provider: string;
  accountId?: string;
  created: string[];
  adopted: string[];
  deleted: string[];
  /** Where the new secret went, if one was made. */
  secretDestination?: string;
  accessKeyId?: string;
  verifiedAfterSeconds?: number;
  failedStep?: StepId;
  error?: string;
  wallSeconds: number;
}

const BUCKET_KEYS: ReadonlyArray<keyof BucketState> = [
  'name',
  'arn',
  'created',
  'configured',
  'publicAccessBlock',
  'ownership',
  'encryption',
  'tags',
  'cors',
  'corsRuleId',
  'policy',
  'policySids',
  'verified',
];

/**
 * The bucket record in one key order, whatever order concurrent steps finished in, so that the same end
 * state writes the same .yo-rc.json; unset fields are left out.
 */
export function orderedBucket(bucket: BucketState): BucketState {
  const out: Record<string, unknown> = {};
  for (const k of BUCKET_KEYS) if (bucket[k] !== undefined) out[k] = bucket[k];
  return out as unknown as BucketState;
}
