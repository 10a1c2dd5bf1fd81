/**
 * Real SDK clients for a provisioning run. Credentials come from the SDK's default chain (environment,
 * shared config and credentials files, SSO, instance roles); `profile` picks a named profile. Transient
 * failures (5xx, throttling, resets) are retried by the SDK's standard retry strategy.
 */
import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { ExpiredTokenException, STSClient } from '@aws-sdk/client-sts';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { UserError } from '../types.js';
import type { AwsClients, ResolvedCredentials } from './types.js';

export interface ClientOptions {
  region: string;
  profile?: string;
  /** S3-compatible endpoint; unset for AWS. */
  endpoint?: string;
  pathStyle?: boolean;
  /** Operator credentials given explicitly (S3-compatible services), instead of the default chain. */
  credentials?: ResolvedCredentials;
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
    stsWithKey: (key) =>
      new STSClient({
        region: options.region,
        credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
        maxAttempts: MAX_ATTEMPTS,
      }),
  };
};

/** Temporary credentials: a session token, or an access key id AWS issues for sessions (ASIA…). */
export const isTemporary = (c: { accessKeyId: string; sessionToken?: string }): boolean =>
  Boolean(c.sessionToken) || /^ASIA[A-Z0-9]{12,}$/.test(c.accessKeyId);

/**
 * Errors that mean the operator's credentials are missing, expired or not valid, told by name because the
 * SDK exports no class for them: CredentialsProviderError and TokenProviderError come from the credential
 * chain's @smithy packages (not a dependency of this package), and ExpiredToken (S3), InvalidClientTokenId,
 * UnrecognizedClientException, TokenRefreshRequired and RequestExpired are codes without a modeled exception.
 * STS's ExpiredTokenException has a class and is told by it.
 */
const UNMODELED_CREDENTIAL_ERRORS = new Set([
  'CredentialsProviderError',
  'TokenProviderError',
  'ExpiredToken',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'TokenRefreshRequired',
  'RequestExpired',
]);

/** Whether an SDK error says the operator cannot sign in (no credentials, expired SSO session or token). */
export function isCredentialProblem(error: unknown): boolean {
  if (error instanceof ExpiredTokenException) return true;
  if (!(error instanceof Error)) return false;
  if (UNMODELED_CREDENTIAL_ERRORS.has(error.name)) return true;
  return /could not load credentials|sso session|aws sso login|token (is|has) expired|security token .* (is )?(invalid|expired)/i.test(
    error.message,
  );
}

/**
 * The message for an operator who cannot sign in: how to (SSO, a profile, the environment), and that
 * --no-provision writes the overlay alone. Never "run the same command again": it would fail the same way.
 */
export function signInError(error: unknown, where: string, profile?: string): UserError {
  const e = error instanceof Error ? error : new Error(String(error));
  const first = e.message.split('\n')[0]!.trim();
  const expired = /expired|sso login|refresh/i.test(first) || /Expired/.test(e.name);
  const p = profile ?? '<name>';
  return new UserError(
    `${expired ? 'The sign-in for' : 'No usable credentials for'} ${where} (${e.name}: ${first}). ` +
      `Sign in first: \`aws sso login --profile ${p}\` for an SSO profile, or pass --profile ${p} ` +
      `(a profile in ~/.aws/config or ~/.aws/credentials), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY ` +
      `(and AWS_SESSION_TOKEN) in the environment. To write only the storage overlay, for resources that ` +
      `exist, add --no-provision. Nothing was created.`,
    'profile',
    2,
  );
}

/**
 * The operator's credentials, resolved from the chain (session token included), or undefined when the chain
 * has none. An expired SSO session is not "none": it is reported with how to sign in again.
 */
export async function resolveOperatorCredentials(
  profile: string | undefined,
  where: string,
): Promise<ResolvedCredentials | undefined> {
  try {
    const c = await fromNodeProviderChain(profile ? { profile } : {})();
    return {
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}),
      ...(c.expiration ? { expiration: c.expiration } : {}),
    };
  } catch (error) {
    // A named profile that cannot be used, or an SSO session that expired, is a sign-in problem to report;
    // an empty chain (no profile asked, nothing configured) is "no operator credentials".
    if (profile || /sso|expired|refresh/i.test(error instanceof Error ? error.message : ''))
      throw signInError(error, where, profile);
    return undefined;
  }
}
