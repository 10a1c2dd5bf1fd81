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

/** The SDK clients a provisioner uses; tests hand in clients pointed at s3rver and mocked where needed. */
export interface AwsClients {
  /** S3 with the operator's credentials, in the bucket's region (or at the S3-compatible endpoint). */
  s3: S3Client;
  iam: IAMClient;
  sts: STSClient;
  /** S3 signed with the app's own key, for the probe. */
  s3WithKey(key: AccessKey): S3Client;
}

/** What exists because of this generator, by name and ARN: never a secret. Kept in .yo-rc.json. */
export interface ProvisionedState {
  accountId?: string;
  callerArn?: string;
  region?: string;
  endpoint?: string;
  bucket?: { name: string; arn?: string; created: boolean; configured?: boolean };
  user?: { name: string; arn: string; policyName?: string };
  accessKeyId?: string;
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
  | 'delete-bucket';

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
  provider: 'aws' | 's3-compatible';
  steps: PlanStep[];
  /** Facts found by read-only calls before planning (account, whether the bucket/user exist). */
  facts: string[];
  /** Documents applied, in full (user policy, bucket policy, CORS). */
  documents: Record<string, unknown>;
}

/** What a finished (or failed) run reports. */
export interface ProvisionSummary {
  ok: boolean;
  provider: 'aws' | 's3-compatible';
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
