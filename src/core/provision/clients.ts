/**
 * Real SDK clients for a provisioning run. Credentials come from the SDK's default chain (environment,
 * shared config and credentials files, SSO, instance roles); `profile` picks a named profile. Transient
 * failures (5xx, throttling, resets) are retried by the SDK's standard retry strategy.
 */
import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import type { AccessKey, AwsClients } from './types.js';

export interface ClientOptions {
  region: string;
  profile?: string;
  /** S3-compatible endpoint; unset for AWS. */
  endpoint?: string;
  pathStyle?: boolean;
  /** Operator credentials given explicitly (S3-compatible services), instead of the default chain. */
  credentials?: AccessKey;
}

/** Creates the clients; a test hands its own factory to the generator instead. */
export type ClientFactory = (options: ClientOptions) => AwsClients;

export const MAX_ATTEMPTS = 5;

export const createClients: ClientFactory = (options) => {
  const credentials =
    options.credentials ?? fromNodeProviderChain(options.profile ? { profile: options.profile } : {});
  const s3Config = (creds: S3ClientConfig['credentials']): S3ClientConfig => ({
    region: options.region,
    credentials: creds,
    maxAttempts: MAX_ATTEMPTS,
    followRegionRedirects: true,
    ...(options.endpoint
      ? {
          endpoint: options.endpoint,
          forcePathStyle: options.pathStyle ?? false,
          // boto3/SDK checksums that most S3-compatible services reject (FACTS.md).
          requestChecksumCalculation: 'WHEN_REQUIRED' as const,
          responseChecksumValidation: 'WHEN_REQUIRED' as const,
        }
      : {}),
  });
  return {
    s3: new S3Client(s3Config(credentials)),
    iam: new IAMClient({ region: options.region, credentials, maxAttempts: MAX_ATTEMPTS }),
    sts: new STSClient({ region: options.region, credentials, maxAttempts: MAX_ATTEMPTS }),
    s3WithKey: (key) =>
      new S3Client(s3Config({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey })),
  };
};

/** The operator's own key, resolved from the chain: an S3-compatible service's app key when none is given. */
export async function resolveOperatorKey(profile?: string): Promise<AccessKey | undefined> {
  try {
    const c = await fromNodeProviderChain(profile ? { profile } : {})();
    return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey };
  } catch {
    return undefined;
  }
}
