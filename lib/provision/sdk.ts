/**
 * The SDK commands a plan may hold, by service and name, and the one `send` per client that turns a planned
 * call (data: service, command name, input) into `new <Command>(input)` and sends it. Also how SDK errors are
 * told apart: by the SDK's exception classes where it exports one, by the error code where it has none.
 * Loaded only when a run provisions: it imports the AWS SDK.
 */
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  ListAccessKeysCommand,
  ListUserPoliciesCommand,
  ListUserTagsCommand,
  PutUserPolicyCommand,
  type $Command as IamCommand,
  type IAMClient,
  type IAMClientResolvedConfig,
  type ServiceInputTypes as IamIn,
  type ServiceOutputTypes as IamOut,
} from '@aws-sdk/client-iam';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketCorsCommand,
  DeleteBucketLifecycleCommand,
  DeleteBucketPolicyCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketCorsCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketCorsCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  S3ServiceException,
  type $Command as S3Command,
  type S3Client,
  type S3ClientResolvedConfig,
  type ServiceInputTypes as S3In,
  type ServiceOutputTypes as S3Out,
} from '@aws-sdk/client-s3';
import {
  GetCallerIdentityCommand,
  type $Command as StsCommand,
  type STSClient,
  type STSClientResolvedConfig,
  type ServiceInputTypes as StsIn,
  type ServiceOutputTypes as StsOut,
} from '@aws-sdk/client-sts';
import type { AwsClients, IamApi, OutputOfCall, S3Api, SdkCall, StsApi } from './types.js';

/**
 * One command class, as a function that sends it through a client: the client's `send` typed by that
 * command. The command gets a copy of the input: the SDK's middleware adds fields to a command's input (a
 * checksum algorithm), and a plan's data stays as it was planned.
 */
const s3 =
  <I extends S3In, O extends S3Out>(
    Command: new (input: I) => S3Command<I, O, S3ClientResolvedConfig, S3In, S3Out>,
  ) =>
  (client: S3Client, input: I): Promise<O> =>
    client.send(new Command({ ...input }));
const iam =
  <I extends IamIn, O extends IamOut>(
    Command: new (input: I) => IamCommand<I, O, IAMClientResolvedConfig, IamIn, IamOut>,
  ) =>
  (client: IAMClient, input: I): Promise<O> =>
    client.send(new Command({ ...input }));
const sts =
  <I extends StsIn, O extends StsOut>(
    Command: new (input: I) => StsCommand<I, O, STSClientResolvedConfig, StsIn, StsOut>,
  ) =>
  (client: STSClient, input: I): Promise<O> =>
    client.send(new Command({ ...input }));

/** Every S3 command a plan, a discovery or the probe sends, by the name the plan gives it. */
export const S3_COMMANDS = {
  HeadBucket: s3(HeadBucketCommand),
  CreateBucket: s3(CreateBucketCommand),
  DeleteBucket: s3(DeleteBucketCommand),
  GetBucketTagging: s3(GetBucketTaggingCommand),
  PutBucketTagging: s3(PutBucketTaggingCommand),
  DeleteBucketTagging: s3(DeleteBucketTaggingCommand),
  GetBucketCors: s3(GetBucketCorsCommand),
  PutBucketCors: s3(PutBucketCorsCommand),
  DeleteBucketCors: s3(DeleteBucketCorsCommand),
  GetBucketLifecycleConfiguration: s3(GetBucketLifecycleConfigurationCommand),
  PutBucketLifecycleConfiguration: s3(PutBucketLifecycleConfigurationCommand),
  DeleteBucketLifecycle: s3(DeleteBucketLifecycleCommand),
  GetBucketPolicy: s3(GetBucketPolicyCommand),
  PutBucketPolicy: s3(PutBucketPolicyCommand),
  DeleteBucketPolicy: s3(DeleteBucketPolicyCommand),
  GetPublicAccessBlock: s3(GetPublicAccessBlockCommand),
  PutPublicAccessBlock: s3(PutPublicAccessBlockCommand),
  GetBucketOwnershipControls: s3(GetBucketOwnershipControlsCommand),
  PutBucketOwnershipControls: s3(PutBucketOwnershipControlsCommand),
  GetBucketEncryption: s3(GetBucketEncryptionCommand),
  PutBucketEncryption: s3(PutBucketEncryptionCommand),
  ListObjectVersions: s3(ListObjectVersionsCommand),
  ListObjectsV2: s3(ListObjectsV2Command),
  DeleteObjects: s3(DeleteObjectsCommand),
  PutObject: s3(PutObjectCommand),
  GetObject: s3(GetObjectCommand),
  DeleteObject: s3(DeleteObjectCommand),
};

export const IAM_COMMANDS = {
  GetUser: iam(GetUserCommand),
  CreateUser: iam(CreateUserCommand),
  DeleteUser: iam(DeleteUserCommand),
  ListUserTags: iam(ListUserTagsCommand),
  ListUserPolicies: iam(ListUserPoliciesCommand),
  GetUserPolicy: iam(GetUserPolicyCommand),
  PutUserPolicy: iam(PutUserPolicyCommand),
  DeleteUserPolicy: iam(DeleteUserPolicyCommand),
  ListAccessKeys: iam(ListAccessKeysCommand),
  CreateAccessKey: iam(CreateAccessKeyCommand),
  DeleteAccessKey: iam(DeleteAccessKeyCommand),
};

export const STS_COMMANDS = { GetCallerIdentity: sts(GetCallerIdentityCommand) };

// The tables typed per command name, so that a generic name K takes K's input and answers K's output.
const S3_BY_NAME: {
  [K in keyof S3Api]: (client: S3Client, input: S3Api[K]['input']) => Promise<S3Api[K]['output']>;
} = S3_COMMANDS;
const IAM_BY_NAME: {
  [K in keyof IamApi]: (client: IAMClient, input: IamApi[K]['input']) => Promise<IamApi[K]['output']>;
} = IAM_COMMANDS;
const STS_BY_NAME: {
  [K in keyof StsApi]: (client: STSClient, input: StsApi[K]['input']) => Promise<StsApi[K]['output']>;
} = STS_COMMANDS;

/** Sends one S3 command, given as data, through this client. */
export function sendS3<K extends keyof S3Api>(
  client: S3Client,
  command: K,
  input: S3Api[K]['input'],
): Promise<S3Api[K]['output']> {
  return S3_BY_NAME[command](client, input);
}

export function sendIam<K extends keyof IamApi>(
  client: IAMClient,
  command: K,
  input: IamApi[K]['input'],
): Promise<IamApi[K]['output']> {
  return IAM_BY_NAME[command](client, input);
}

export function sendSts<K extends keyof StsApi>(
  client: STSClient,
  command: K,
  input: StsApi[K]['input'],
): Promise<StsApi[K]['output']> {
  return STS_BY_NAME[command](client, input);
}

/** Sends a planned call exactly as the plan holds it, through the client of its service. */
export async function sendCall<C extends SdkCall>(
  clients: Pick<AwsClients, 's3' | 'iam' | 'sts'>,
  planned: C,
): Promise<OutputOfCall<C>> {
  const c: SdkCall = planned;
  let output: unknown;
  if (c.service === 's3') output = await sendS3(clients.s3, c.command, c.input);
  else if (c.service === 'iam') output = await sendIam(clients.iam, c.command, c.input);
  else output = await sendSts(clients.sts, c.command, c.input);
  // The answer to the call's own command (the senders are typed per command; the union is not).
  return output as OutputOfCall<C>;
}

// ---------------------------------------------------------------------------------------------------------
// Errors.

/** The HTTP status an SDK error carries, if any. */
export const httpStatus = (e: unknown): number | undefined =>
  e instanceof Error
    ? (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode
    : undefined;

/**
 * An S3 error code the SDK has no exception class for: it surfaces them as S3ServiceException named by the
 * code. These are NoSuchTagSet, NoSuchCORSConfiguration, NoSuchLifecycleConfiguration, NoSuchBucketPolicy,
 * NoSuchPublicAccessBlockConfiguration, OwnershipControlsNotFoundError,
 * ServerSideEncryptionConfigurationNotFoundError, NotImplemented, MethodNotAllowed, XNotImplemented,
 * InvalidAccessKeyId, SignatureDoesNotMatch, AllAccessDisabled and Forbidden.
 */
export const s3Code = (e: unknown, ...codes: string[]): boolean =>
  e instanceof S3ServiceException && codes.includes(e.name);

/** The service does not implement the call (S3-compatible services without CORS, lifecycle, versions or DeleteObjects). */
export const unsupported = (e: unknown): boolean =>
  s3Code(e, 'NotImplemented', 'MethodNotAllowed', 'XNotImplemented') ||
  httpStatus(e) === 501 ||
  httpStatus(e) === 405;

/** "Not set" answers: the code the SDK has no class for, or a 404. */
export const notSet = (e: unknown, ...codes: string[]): boolean =>
  s3Code(e, ...codes) || httpStatus(e) === 404;

/** An SDK or network error as one line: its name, message and HTTP status. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const status = httpStatus(error);
  const name = error.name !== 'Error' ? error.name : typeof code === 'string' ? code : 'Error';
  return `${name}${status ? ` (HTTP ${status})` : ''}: ${error.message}`;
}
