/**
 * An AWS that behaves like AWS, in process, for the calls the generator makes (generators/aws/provisioner.ts,
 * generators/s3-compatible/provisioner.ts, lib/provision/probe.ts) and no others.
 *
 * The clients are real SDK clients. A middleware of this class (initialize step, outside the SDK's retry loop)
 * sees every command first and adds latency, faults, races, access-key checks and ownership checks. Then:
 * - S3 calls s3rver implements (buckets, CORS, objects, ListObjectsV2) go on to s3rver, with AWS's answers where s3rver's
 *   differ;
 * - STS, IAM and the S3 control-plane calls s3rver lacks (public access block, ownership controls, encryption,
 *   tagging, bucket policy, lifecycle, ListObjectVersions, DeleteObjects) are answered here, from state this
 *   class keeps;
 * - anything else is refused: the fake models only what the generator sends.
 * Answers use AWS's error names, codes, HTTP statuses and messages, built as the SDK surfaces them (FACTS.md,
 * "AWS S3 and IAM in 2026"). Whether an app key may make a call is decided by @cloud-copilot/iam-simulate
 * from its user's inline policies (and scpDeny), as in aws-http.ts (see aws-authz.ts).
 */
import { createHash, randomInt, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import * as IAM from '@aws-sdk/client-iam';
import * as S3 from '@aws-sdk/client-s3';
import * as STS from '@aws-sdk/client-sts';
import type { AccessKey, AwsClients } from '../../lib/provision/types.js';
import { authorize, notAuthorizedMessage, s3Action } from './aws-authz.js';
import { S3RVER_KEY } from './s3rver.js';

export interface FakeAwsOptions {
  s3rverEndpoint: string;
  /** Added to every call. */
  latencyMs?: number;
  /**
   * A new access key answers InvalidAccessKeyId (403) on S3 for this long after creation, then AccessDenied
   * for a further third of it, then works. Default 0.
   */
  keyPropagationMs?: number;
  /**
   * Who the operator's credentials are: an IAM user (default), an SSO role session (temporary credentials),
   * an expired session (STS answers ExpiredToken), or none at all (the SDK's chain finds nothing).
   */
  operator?: 'user' | 'sso-role' | 'expired-session' | 'no-credentials';
}

export type FaultKind = 'AccessDenied' | 'InternalError' | 'Throttling' | 'ECONNRESET';

export interface FakeAccessKey {
  id: string;
  secret: string;
  status: 'Active' | 'Inactive';
  created: Date;
}

/** An IAM user. Only deterministic fields are enumerable, so two runs' states compare equal as JSON. */
export interface FakeIamUser {
  arn: string;
  tags: IAM.Tag[];
  /** Inline policies: name → the document exactly as put. */
  policies: Map<string, string>;
  keys: FakeAccessKey[];
}

/** The control-plane state of a bucket; an absent field means AWS's default for a new bucket. */
export interface FakeBucket {
  /** Unset: a new bucket behaves as if all four flags were true. */
  publicAccessBlock?: S3.PublicAccessBlockConfiguration;
  /** Unset: BucketOwnerEnforced. */
  ownership?: S3.OwnershipControls;
  /** Unset: SSE-S3 (AES256). */
  encryption?: S3.ServerSideEncryptionConfiguration;
  tags?: S3.Tag[];
  policy?: string;
  /** Lifecycle rules, as put (unset: no lifecycle configuration, GetBucketLifecycleConfiguration → 404). */
  lifecycle?: S3.LifecycleRule[];
  /**
   * The owner's settings the generator never touches: tests seed them and check they are unchanged. No call
   * of this fake reads or changes them (a call for them is refused, and recorded in `calls`).
   */
  logging?: S3.LoggingEnabled;
  versioning?: 'Enabled' | 'Suspended';
}

/** An owner's bucket as a test seeds it: created in s3rver, its control-plane state set. */
export interface SeedBucket extends Partial<FakeBucket> {
  cors?: S3.CORSRule[];
  /** Another account owns it: readable (HeadBucket without ExpectedBucketOwner answers 200), not writable. */
  owner?: string;
  /** No public access block configuration at all (GetPublicAccessBlock answers 404). */
  noPublicAccessBlock?: boolean;
  /** No ownership controls (an ACL-era bucket). */
  noOwnershipControls?: boolean;
}

/** A version or delete marker the fake keeps beside s3rver's (unversioned) objects. */
interface FakeVersion {
  key: string;
  versionId: string;
  deleteMarker: boolean;
  lastModified: Date;
}

/** One call as made, reads included. */
export interface FakeAwsRequest {
  service: Service;
  operation: string;
  input: Record<string, unknown>;
}

type Service = 's3' | 'iam' | 'sts';
type Input = Record<string, unknown>;
type Output = Record<string, unknown>;
/** The SDK's response metadata (its @smithy/types type, reached through the S3 client's exceptions). */
type ResponseMetadata = S3.S3ServiceException['$metadata'];
type Handler = (input: Input) => Output | Promise<Output>;

interface UserMeta {
  name: string;
  userId: string;
  created: Date;
}

interface BucketMeta {
  region: string;
  publicAccessBlockDeleted: boolean;
  ownershipDeleted: boolean;
}

const ACCOUNT = '123456789012';
/** The clients' region. */
const REGION = 'us-east-1';
/** The SDK's default; reported in $metadata.attempts for faults that exhaust retries. */
const SDK_MAX_ATTEMPTS = 3;
const IAM_XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';
const OPERATOR_KEY: AccessKey = { accessKeyId: 'AKIAOPERATOR00000000', secretAccessKey: 'operator-secret' };
const ALL_BLOCKED: S3.PublicAccessBlockConfiguration = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
};
const MUTATING = /^(Create|Put|Delete|Update|Tag|Untag|Attach|Detach|Upload|Complete|Abort|Copy|Restore|Set)/;
/** The S3 calls that go on to s3rver. */
const PASSED_TO_S3RVER = new Set([
  'CreateBucket',
  'HeadBucket',
  'DeleteBucket',
  'GetBucketCors',
  'PutBucketCors',
  'DeleteBucketCors',
  'ListObjectsV2',
  'PutObject',
  'GetObject',
  'DeleteObject',
]);
/** Condition keys that pin a wildcard principal to fixed values, which makes a policy non-public. */
const RESTRICTING_CONDITION_KEYS = new Set(
  [
    'aws:SourceIp',
    'aws:SourceVpc',
    'aws:SourceVpce',
    'aws:SourceAccount',
    'aws:SourceArn',
    'aws:SourceOwner',
    'aws:PrincipalAccount',
    'aws:PrincipalArn',
    'aws:PrincipalOrgID',
    'aws:PrincipalOrgPaths',
    'aws:userid',
    's3:DataAccessPointAccount',
    's3:DataAccessPointArn',
  ].map((k) => k.toLowerCase()),
);

// ---------------------------------------------------------------------------------------------------------
// Errors, shaped as the SDK surfaces them (checked against SDK 3.117x deserializing AWS's XML).

interface ErrorSpec {
  code: string;
  message: string;
  status: number;
  extra?: Record<string, unknown>;
  /** Attempts the SDK would report: SDK_MAX_ATTEMPTS for retryable faults. */
  attempts?: number;
}

type ExceptionClass = new (options: { message?: string; $metadata: ResponseMetadata }) => Error;

function modeledException(namespace: object, name: string, base: abstract new (...args: never[]) => Error) {
  const candidate = (namespace as Record<string, unknown>)[name];
  return typeof candidate === 'function' && candidate.prototype instanceof base
    ? (candidate as ExceptionClass)
    : undefined;
}

const faultOf = (status: number): 'client' | 'server' => (status >= 500 ? 'server' : 'client');
const upperAlnum = (length: number): string =>
  Array.from({ length }, () => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[randomInt(36)]).join('');

function responseMetadata(service: Service, status: number, attempts = 1): ResponseMetadata {
  return {
    httpStatusCode: status,
    requestId: service === 's3' ? upperAlnum(16) : randomUUID(),
    extendedRequestId:
      service === 's3' ? createHash('sha256').update(randomUUID()).digest('base64') : undefined,
    cfId: undefined,
    attempts,
    totalRetryDelay: attempts > 1 ? 100 * (2 ** (attempts - 1) - 1) : 0,
  };
}

/** An S3 error as the SDK deserializes AWS's REST-XML error body. */
function s3Error(spec: ErrorSpec): Error {
  const $metadata = responseMetadata('s3', spec.status, spec.attempts);
  const Modeled = modeledException(S3, spec.code, S3.S3ServiceException);
  const error = Modeled
    ? new Modeled({ message: spec.message, $metadata })
    : new S3.S3ServiceException({
        name: spec.code,
        $fault: faultOf(spec.status),
        $metadata,
        message: spec.message,
      });
  return Object.assign(error, {
    Code: spec.code,
    ...spec.extra,
    RequestId: $metadata.requestId,
    HostId: $metadata.extendedRequestId,
  });
}

const accessDenied = (message = 'Access Denied'): Error =>
  s3Error({ code: 'AccessDenied', message, status: 403 });

/**
 * A HEAD request's error: AWS sends no body, so the SDK has only the status. 404 is the modeled NotFound;
 * anything else (403 included) surfaces as name 'Unknown', message 'UnknownError'.
 */
function s3HeadError(status: number, attempts = 1): Error {
  const $metadata = responseMetadata('s3', status, attempts);
  if (status === 404) return new S3.NotFound({ message: 'UnknownError', $metadata });
  return new S3.S3ServiceException({
    name: 'Unknown',
    $fault: faultOf(status),
    $metadata,
    message: 'UnknownError',
  });
}

/** An IAM or STS error as the SDK deserializes AWS's query-protocol error body. */
function queryError(service: 'iam' | 'sts', spec: ErrorSpec): Error {
  const $metadata = responseMetadata(service, spec.status, spec.attempts);
  const base = service === 'iam' ? IAM.IAMServiceException : STS.STSServiceException;
  const Modeled = modeledException(service === 'iam' ? IAM : STS, `${spec.code}Exception`, base);
  const error = Modeled
    ? new Modeled({ message: spec.message, $metadata })
    : new base({
        name: spec.code,
        $fault: faultOf(spec.status),
        $metadata,
        message: spec.message,
      });
  const type = spec.status >= 500 ? 'Receiver' : 'Sender';
  return Object.assign(error, {
    Type: type,
    Code: spec.code,
    Error: { Type: type, Code: spec.code, Message: spec.message },
    ...(Modeled ? { RequestId: $metadata.requestId, xmlns: IAM_XMLNS } : {}),
    ...spec.extra,
  });
}

const iamError = (code: string, message: string, status: number): Error =>
  queryError('iam', { code, message, status });

/** A connection reset, after the SDK retried it (it is a transient error) until it gave up. */
function connectionReset(): Error {
  return Object.assign(new Error('read ECONNRESET'), {
    errno: -104,
    code: 'ECONNRESET',
    syscall: 'read',
    $metadata: { attempts: SDK_MAX_ATTEMPTS, totalRetryDelay: 300 },
  });
}

// ---------------------------------------------------------------------------------------------------------
// Policy documents.

interface Statement {
  Effect?: unknown;
  Principal?: unknown;
  NotPrincipal?: unknown;
  Action?: unknown;
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: unknown;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const asArray = (value: unknown): unknown[] =>
  Array.isArray(value) ? value : value === undefined ? [] : [value];

function statementsOf(document: Record<string, unknown>): Statement[] {
  return asArray(document.Statement).filter(isObject);
}

function isWildcardPrincipal(principal: unknown): boolean {
  if (principal === '*') return true;
  return isObject(principal) && asArray(principal.AWS).includes('*');
}

function hasRestrictingCondition(condition: unknown): boolean {
  if (!isObject(condition)) return false;
  return Object.values(condition).some(
    (block) =>
      isObject(block) && Object.keys(block).some((k) => RESTRICTING_CONDITION_KEYS.has(k.toLowerCase())),
  );
}

/** S3's notion of a public bucket policy: an Allow to everyone, not pinned by a fixed-value condition. */
function isPublicPolicy(text: string): boolean {
  try {
    const document: unknown = JSON.parse(text);
    return (
      isObject(document) &&
      statementsOf(document).some(
        (s) =>
          s.Effect === 'Allow' && isWildcardPrincipal(s.Principal) && !hasRestrictingCondition(s.Condition),
      )
    );
  } catch {
    return false;
  }
}

/** IAM's checks on an identity policy (PutUserPolicy). */
function validateIdentityPolicy(text: string): void {
  const malformed = (message: string) => iamError('MalformedPolicyDocument', message, 400);
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw malformed('Syntax errors in policy.');
  }
  if (!isObject(document) || document.Statement === undefined) throw malformed('Syntax errors in policy.');
  if (
    document.Version !== undefined &&
    document.Version !== '2012-10-17' &&
    document.Version !== '2008-10-17'
  )
    throw malformed('The policy failed legacy parsing');
  for (const s of asArray(document.Statement)) {
    if (!isObject(s)) throw malformed('Syntax errors in policy.');
    if ('Principal' in s || 'NotPrincipal' in s)
      throw malformed('Policy document should not specify a principal.');
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw malformed('Syntax errors in policy.');
    const actions = s.Action ?? s.NotAction;
    if (actions === undefined) throw malformed('Policy statement must contain actions.');
    for (const a of asArray(actions)) {
      if (typeof a !== 'string' || (a !== '*' && !/^[a-zA-Z0-9-]+:[a-zA-Z0-9*?]+$/.test(a)))
        throw malformed('Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.');
    }
    const resources = s.Resource ?? s.NotResource;
    if (resources === undefined) throw malformed('Policy statement must contain resources.');
    for (const r of asArray(resources)) {
      if (typeof r !== 'string' || (r !== '*' && !r.startsWith('arn:')))
        throw malformed(`Resource ${String(r)} must be in ARN format or "*".`);
    }
  }
}

/** RFC 3986 encoding, as IAM returns policy documents (the JS SDK does not decode them). */
const rfc3986 = (text: string): string =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const nonWhitespaceLength = (text: string): number => text.replace(/\s/g, '').length;

function validBucketName(name: string): boolean {
  return (
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) &&
    !name.includes('..') &&
    !/^\d{1,3}(\.\d{1,3}){3}$/.test(name) &&
    !/^(xn--|sthree-|amzn-s3-demo-)/.test(name) &&
    !/(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(name)
  );
}

const operationOf = (name: string): string => name.replace(/Command$/, '');
const isHead = (operation: string): boolean => operation.startsWith('Head');
const statusOf = (error: unknown): number | undefined =>
  (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
const nameOf = (error: unknown): string => (error instanceof Error ? error.name : '');

/** The IAM actions and resources an S3 call needs (DeleteObjects: one per object). */
function s3Authorizations(operation: string, input: Input): Array<[string, string]> {
  const bucket = String(input.Bucket);
  if (operation === 'DeleteObjects')
    return ((input.Delete as S3.Delete | undefined)?.Objects ?? []).map((o) =>
      s3Action('DeleteObject', bucket, String(o.Key), { versionId: Boolean(o.VersionId) }),
    );
  return [s3Action(operation, bucket, typeof input.Key === 'string' ? input.Key : '')];
}

// ---------------------------------------------------------------------------------------------------------

export class FakeAws {
  readonly accountId = ACCOUNT;
  /** Bucket names owned by another account: HeadBucket → 403, CreateBucket → BucketAlreadyExists (409). */
  takenBuckets = new Set<string>();
  /** Every mutating call made (attempted), in order, from every client of this fake. */
  readonly calls: Array<[string, Record<string, unknown>]> = [];
  /** Every call made, reads included. */
  readonly requests: FakeAwsRequest[] = [];
  /** IAM users by name. */
  readonly iam = new Map<string, FakeIamUser>();
  /** S3 buckets this fake has seen (created through it, or touched by a control-plane call), by name. */
  readonly s3 = new Map<string, FakeBucket>();
  /** Buckets owned by another account that exist (in s3rver): readable, but ExpectedBucketOwner → 403. */
  readonly bucketOwners = new Map<string, string>();
  /** Keys under legal hold, per bucket: every version of them answers AccessDenied to a delete. */
  readonly legalHolds = new Map<string, Set<string>>();
  /** Actions a service control policy denies to app keys (iam-simulate weighs it with their policies). */
  readonly scpDeny = new Set<string>();

  private readonly endpoint: string;
  private readonly latencyMs: number;
  private readonly keyPropagationMs: number;
  private readonly operator: NonNullable<FakeAwsOptions['operator']>;
  private readonly operatorArn: string;
  private readonly operatorUserId: string;
  private readonly userMeta = new WeakMap<FakeIamUser, UserMeta>();
  private readonly bucketMeta = new Map<string, BucketMeta>();
  private readonly faults = new Map<string, FaultKind[]>();
  private readonly before = new Map<string, Array<() => Promise<void> | void>>();
  private readonly versions = new Map<string, FakeVersion[]>();
  private versionCounter = 0;
  private readonly made: Array<{ destroy(): void }> = [];
  /** A client without this fake's middleware, for its own look-ups in s3rver. */
  private readonly raw: S3.S3Client;
  private restored = false;
  private readonly s3Handlers: Readonly<
    Record<string, (input: Input, key: AccessKey | undefined) => Output | Promise<Output>>
  >;
  private readonly iamHandlers: Readonly<Record<string, Handler>>;

  constructor(options: FakeAwsOptions) {
    this.endpoint = options.s3rverEndpoint;
    this.latencyMs = options.latencyMs ?? 0;
    this.keyPropagationMs = options.keyPropagationMs ?? 0;
    this.operator = options.operator ?? 'user';
    this.operatorArn =
      this.operator === 'sso-role'
        ? `arn:aws:sts::${this.accountId}:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/alice`
        : `arn:aws:iam::${this.accountId}:user/operator`;
    this.operatorUserId = this.stableUserId('operator');
    this.raw = new S3.S3Client(this.s3Config(S3RVER_KEY));
    this.s3Handlers = {
      PutPublicAccessBlock: (i) => this.putPublicAccessBlock(i),
      GetPublicAccessBlock: (i) => this.getPublicAccessBlock(i),
      PutBucketOwnershipControls: (i) => this.putOwnership(i),
      GetBucketOwnershipControls: (i) => this.getOwnership(i),
      PutBucketEncryption: (i) => this.putEncryption(i),
      GetBucketEncryption: (i) => this.getEncryption(i),
      PutBucketTagging: (i) => this.putTagging(i),
      GetBucketTagging: (i) => this.getTagging(i),
      DeleteBucketTagging: (i) => this.deleteTagging(i),
      PutBucketPolicy: (i, key) => this.putBucketPolicy(i, key),
      GetBucketPolicy: (i) => this.getBucketPolicy(i),
      DeleteBucketPolicy: (i) => this.deleteBucketPolicy(i),
      PutBucketLifecycleConfiguration: (i) => this.putLifecycle(i),
      GetBucketLifecycleConfiguration: (i) => this.getLifecycle(i),
      DeleteBucketLifecycle: (i) => this.deleteLifecycle(i),
      ListObjectVersions: (i) => this.listObjectVersions(i),
      DeleteObjects: (i) => this.deleteObjects(i),
    };
    this.iamHandlers = {
      CreateUser: (i) => this.createUser(i),
      GetUser: (i) => ({ User: this.userView(this.requireUser(i.UserName)) }),
      DeleteUser: (i) => this.deleteUser(i),
      ListUserTags: (i) => ({
        Tags: this.requireUser(i.UserName).tags.map((t) => ({ ...t })),
        IsTruncated: false,
      }),
      PutUserPolicy: (i) => this.putUserPolicy(i),
      GetUserPolicy: (i) => this.getUserPolicy(i),
      ListUserPolicies: (i) => ({
        PolicyNames: [...this.requireUser(i.UserName).policies.keys()],
        IsTruncated: false,
      }),
      DeleteUserPolicy: (i) => this.deleteUserPolicy(i),
      CreateAccessKey: (i) => this.createAccessKey(i),
      ListAccessKeys: (i) => this.listAccessKeys(i),
      DeleteAccessKey: (i) => this.deleteAccessKey(i),
    };
  }

  /** Fresh clients that go through this fake. */
  clients(): AwsClients {
    return {
      s3: this.s3Client(undefined),
      iam: this.iamClient(),
      sts: this.stsClient(undefined),
      s3WithKey: (key) => this.s3Client(key),
      stsWithKey: (key) => this.stsClient(key),
    };
  }

  /** The operations this fake answers, per service; it refuses any other. */
  modelled(): Record<Service, string[]> {
    return {
      s3: [...PASSED_TO_S3RVER, ...Object.keys(this.s3Handlers)],
      iam: Object.keys(this.iamHandlers),
      sts: ['GetCallerIdentity'],
    };
  }

  /** Runs fn (once) just before the next call of that operation takes effect: a race with the generator. */
  onceBefore(operation: string, fn: () => Promise<void> | void): void {
    const op = operationOf(operation);
    this.before.set(op, [...(this.before.get(op) ?? []), fn]);
  }

  /**
   * An owner's bucket: created in s3rver (CORS there too), its control-plane state set as given. With
   * `owner`, another account owns it: readable, but every call with our ExpectedBucketOwner answers 403.
   */
  async seedBucket(name: string, seed: SeedBucket = {}): Promise<void> {
    await this.raw.send(new S3.CreateBucketCommand({ Bucket: name }));
    const { cors, owner, noPublicAccessBlock, noOwnershipControls, ...control } = seed;
    if (cors)
      await this.raw.send(
        new S3.PutBucketCorsCommand({ Bucket: name, CORSConfiguration: { CORSRules: cors } }),
      );
    this.s3.set(name, { ...this.newBucket(), ...structuredClone(control) });
    this.bucketMeta.set(name, {
      region: REGION,
      publicAccessBlockDeleted: noPublicAccessBlock === true,
      ownershipDeleted: noOwnershipControls === true,
    });
    if (owner) this.bucketOwners.set(name, owner);
  }

  /** Adds `count` versions of a key (and `deleteMarkers` delete markers), as a versioned bucket keeps them. */
  addVersions(bucket: string, key: string, count: number, deleteMarkers = 0): void {
    const list = this.versions.get(bucket) ?? [];
    for (let i = 0; i < count + deleteMarkers; i++)
      list.push({
        key,
        versionId: `v${String(++this.versionCounter).padStart(8, '0')}${upperAlnum(8)}`,
        deleteMarker: i >= count,
        lastModified: new Date(Date.now() + this.versionCounter),
      });
    this.versions.set(bucket, list);
  }

  /** Versions and delete markers left (beside s3rver's objects). */
  versionsLeft(bucket: string): number {
    return this.versions.get(bucket)?.length ?? 0;
  }

  /** Puts a legal hold on a key: deleting any version of it answers AccessDenied, as object lock does. */
  legalHold(bucket: string, key: string): void {
    this.legalHolds.set(bucket, new Set([...(this.legalHolds.get(bucket) ?? []), key]));
  }

  /**
   * The next call of that operation (from any client of this fake) fails once with that fault, before it
   * takes effect. Retryable faults (InternalError, Throttling, ECONNRESET) come as the SDK reports them once
   * its retries are spent ($metadata.attempts = 3): the fault is raised above the SDK's retry middleware, so
   * the one failure is final. Service names per service: S3 answers InternalError (500) and SlowDown (503);
   * IAM ServiceFailureException (500) and Throttling (400); STS InternalFailure (500) and Throttling (400).
   */
  failOnce(operation: string, fault: FaultKind): void {
    const op = operationOf(operation);
    this.faults.set(op, [...(this.faults.get(op) ?? []), fault]);
  }

  /** Closes every client this fake made; calls on them fail from now on (call in after()). */
  restore(): void {
    if (this.restored) return;
    this.restored = true;
    for (const client of this.made) client.destroy();
    this.raw.destroy();
  }

  // -------------------------------------------------------------------------------------------------------
  // Wiring.

  private s3Config(credentials: AccessKey): S3.S3ClientConfig {
    return {
      endpoint: this.endpoint,
      region: REGION,
      forcePathStyle: true,
      credentials,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    };
  }

  private s3Client(key: AccessKey | undefined): S3.S3Client {
    const client = new S3.S3Client(this.s3Config(key ?? OPERATOR_KEY));
    this.made.push(client);
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const operation = operationOf(String(context.commandName));
        const input = args.input as Input;
        const handler = this.s3Handlers[operation];
        if (handler) {
          const { output, $metadata } = await this.call('s3', operation, input, key, () =>
            this.answerS3(operation, input, key, handler),
          );
          return { output: { ...output, $metadata }, response: undefined };
        }
        return this.call('s3', operation, input, key, () =>
          this.passThrough(operation, input, key, () => next(args)),
        );
      },
      { step: 'initialize', priority: 'high', name: 'fakeAws' },
    );
    // s3rver knows one key id (S3RVER) but checks no SigV4 signature: the client signs with its own key (the
    // fake has checked it above), and the signed request names S3RVER on its way to s3rver.
    client.middlewareStack.add(
      (next) => async (args) => {
        const headers = (args.request as { headers?: Record<string, string> }).headers;
        if (headers?.authorization)
          headers.authorization = headers.authorization.replace(
            /Credential=[^/]+\//,
            `Credential=${S3RVER_KEY.accessKeyId}/`,
          );
        return next(args);
      },
      { step: 'deserialize', priority: 'low', name: 'fakeAwsS3rverCredential' },
    );
    return client;
  }

  private iamClient(): IAM.IAMClient {
    const client = new IAM.IAMClient({ region: REGION, credentials: OPERATOR_KEY });
    this.made.push(client);
    client.middlewareStack.add(
      (_next, context) => async (args) => {
        const operation = operationOf(String(context.commandName));
        const output = await this.call('iam', operation, args.input as Input, undefined, (input) => {
          const handler = this.iamHandlers[operation];
          if (!handler) throw new Error(`FakeAws does not model IAM ${operation}`);
          return handler(input);
        });
        return { output: { ...output, $metadata: responseMetadata('iam', 200) }, response: undefined };
      },
      { step: 'initialize', priority: 'high', name: 'fakeAws' },
    );
    return client;
  }

  /** STS for the operator, or signed with an app key: valid once IAM has propagated the key. */
  private stsClient(key: AccessKey | undefined): STS.STSClient {
    const client = new STS.STSClient({ region: REGION, credentials: key ?? OPERATOR_KEY });
    this.made.push(client);
    client.middlewareStack.add(
      (_next, context) => async (args) => {
        const operation = operationOf(String(context.commandName));
        const input = key ? { ...(args.input as Input), as: key.accessKeyId } : (args.input as Input);
        const output = await this.call('sts', operation, input, undefined, () => {
          if (operation !== 'GetCallerIdentity') throw new Error(`FakeAws does not model STS ${operation}`);
          return key ? this.appIdentity(key) : this.operatorIdentity();
        });
        return { output: { ...output, $metadata: responseMetadata('sts', 200) }, response: undefined };
      },
      { step: 'initialize', priority: 'high', name: 'fakeAws' },
    );
    return client;
  }

  // -------------------------------------------------------------------------------------------------------
  // Every call: recorded, delayed, raced, faulted, and for an app key on S3, authenticated and authorized.

  private async call<T>(
    service: Service,
    operation: string,
    input: Input,
    key: AccessKey | undefined,
    answer: (input: Input) => T | Promise<T>,
  ): Promise<T> {
    if (this.restored) throw new Error('FakeAws was restored: its clients are closed');
    const copy = { ...input };
    this.requests.push({ service, operation, input: copy });
    if (MUTATING.test(operation)) this.calls.push([operation, copy]);
    if (this.latencyMs > 0) await sleep(this.latencyMs);
    const hooks = this.before.get(operation);
    if (hooks?.length) {
      this.before.delete(operation);
      for (const fn of hooks) await fn();
    }
    const fault = this.faults.get(operation)?.shift();
    if (fault) throw this.faultError(service, operation, input, fault, key);
    if (service === 's3') {
      if (key) await this.authorizeKey(key, operation, input);
      this.checkBucketAccess(operation, input);
    }
    return answer(input);
  }

  /** A control-plane call answered here, on a bucket s3rver has. */
  private async answerS3(
    operation: string,
    input: Input,
    key: AccessKey | undefined,
    handler: (input: Input, key: AccessKey | undefined) => Output | Promise<Output>,
  ): Promise<{ output: Output; $metadata: ResponseMetadata }> {
    await this.requireBucket(String(input.Bucket));
    const output = await handler(input, key);
    const status = /^(Delete|PutBucketPolicy$|PutBucketTagging$)/.test(operation) ? 204 : 200;
    return { output, $metadata: responseMetadata('s3', status) };
  }

  /** A command on its way to s3rver: AWS's rules around it, and AWS's answers where s3rver's differ. */
  private async passThrough<T>(
    operation: string,
    input: Input,
    key: AccessKey | undefined,
    next: () => Promise<T>,
  ): Promise<T> {
    if (!PASSED_TO_S3RVER.has(operation)) throw new Error(`FakeAws does not model S3 ${operation}`);
    const bucket = String(input.Bucket);
    if (operation === 'DeleteObject' && this.legalHolds.get(bucket)?.has(String(input.Key)))
      throw accessDenied('Access Denied because object protected by object lock.');
    if (operation === 'DeleteBucket' && this.versionsLeft(bucket) > 0)
      throw s3Error({
        code: 'BucketNotEmpty',
        message: 'The bucket you tried to delete is not empty. You must delete all versions in the bucket.',
        status: 409,
        extra: { BucketName: bucket },
      });
    let createdRegion = operation === 'CreateBucket' ? this.checkCreateBucket(input) : undefined;
    let result: T;
    try {
      result = await next();
    } catch (error) {
      if (operation === 'CreateBucket' && nameOf(error) === 'BucketAlreadyExists') {
        // s3rver says BucketAlreadyExists for our own bucket; AWS says BucketAlreadyOwnedByYou, or 200 in us-east-1.
        if ((this.bucketMeta.get(bucket)?.region ?? REGION) !== 'us-east-1')
          throw s3Error({
            code: 'BucketAlreadyOwnedByYou',
            message: 'Your previous request to create the named bucket succeeded and you already own it.',
            status: 409,
            extra: { BucketName: bucket },
          });
        result = { output: { Location: `/${bucket}`, $metadata: responseMetadata('s3', 200) } } as T;
        createdRegion = undefined;
      } else if (
        operation === 'GetObject' &&
        statusOf(error) === 404 &&
        (await this.deniesListing(key, input))
      ) {
        // Without s3:ListBucket, S3 does not tell a missing key from a forbidden one.
        throw accessDenied();
      } else if (nameOf(error) === 'BucketNotEmpty') {
        throw s3Error({
          code: 'BucketNotEmpty',
          message: 'The bucket you tried to delete is not empty',
          status: 409,
          extra: { BucketName: bucket },
        });
      } else {
        throw error;
      }
    }
    if (createdRegion !== undefined) {
      this.s3.set(bucket, this.newBucket());
      this.bucketMeta.set(bucket, {
        region: createdRegion,
        publicAccessBlockDeleted: false,
        ownershipDeleted: false,
      });
    }
    if (operation === 'DeleteBucket') {
      this.s3.delete(bucket);
      this.bucketMeta.delete(bucket);
    }
    if (operation === 'HeadBucket') {
      const output = (result as { output?: Output }).output;
      if (output) output.BucketRegion = this.bucketMeta.get(bucket)?.region ?? REGION;
    }
    return result;
  }

  /**
   * Who may touch the bucket: a name another account holds (takenBuckets) answers 403 (CreateBucket:
   * BucketAlreadyExists), and so does another account's bucket to a call naming our account as
   * ExpectedBucketOwner (HEAD: a bare 403); without it, another account's bucket may be read, not changed.
   */
  private checkBucketAccess(operation: string, input: Input): void {
    const bucket = String(input.Bucket);
    const denied = () => (isHead(operation) ? s3HeadError(403) : accessDenied());
    if (operation === 'CreateBucket' && (this.takenBuckets.has(bucket) || this.bucketOwners.has(bucket)))
      throw s3Error({
        code: 'BucketAlreadyExists',
        message:
          'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.',
        status: 409,
        extra: { BucketName: bucket },
      });
    if (this.takenBuckets.has(bucket)) throw denied();
    const owner = this.bucketOwners.get(bucket) ?? this.accountId;
    const expected = input.ExpectedBucketOwner;
    if (expected !== undefined && (typeof expected !== 'string' || !/^\d{12}$/.test(expected)))
      throw s3Error({ code: 'InvalidArgument', message: 'Invalid expected bucket owner', status: 400 });
    if (expected !== undefined && expected !== owner) throw denied();
    if (owner !== this.accountId && (MUTATING.test(operation) || operation.startsWith('GetBucket')))
      throw denied();
  }

  private faultError(
    service: Service,
    operation: string,
    input: Input,
    kind: FaultKind,
    key: AccessKey | undefined,
  ): Error {
    if (kind === 'ECONNRESET') return connectionReset();
    const caller = (key && this.findKey(key.accessKeyId)?.user.arn) ?? this.operatorArn;
    if (service === 's3') {
      if (isHead(operation))
        return s3HeadError(
          kind === 'AccessDenied' ? 403 : kind === 'Throttling' ? 503 : 500,
          SDK_MAX_ATTEMPTS,
        );
      if (kind === 'AccessDenied') {
        const [action, resource] = s3Authorizations(operation, input)[0] ?? [`s3:${operation}`, '*'];
        return accessDenied(notAuthorizedMessage(caller, action, resource, 'no-identity-allow'));
      }
      return kind === 'Throttling'
        ? s3Error({
            code: 'SlowDown',
            message: 'Please reduce your request rate.',
            status: 503,
            attempts: SDK_MAX_ATTEMPTS,
          })
        : s3Error({
            code: 'InternalError',
            message: 'We encountered an internal error. Please try again.',
            status: 500,
            attempts: SDK_MAX_ATTEMPTS,
          });
    }
    if (kind === 'AccessDenied') {
      const action = `${service}:${operation}`;
      const resource =
        typeof input.UserName === 'string' ? `arn:aws:iam::${this.accountId}:user/${input.UserName}` : '*';
      return queryError(service, {
        code: 'AccessDenied',
        message: `User: ${caller} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`,
        status: 403,
      });
    }
    if (kind === 'Throttling')
      return queryError(service, {
        code: 'Throttling',
        message: 'Rate exceeded',
        status: 400,
        attempts: SDK_MAX_ATTEMPTS,
      });
    return queryError(service, {
      code: service === 'iam' ? 'ServiceFailure' : 'InternalFailure',
      message: 'The request processing has failed because of an unknown error, exception or failure.',
      status: 500,
      attempts: SDK_MAX_ATTEMPTS,
    });
  }

  // -------------------------------------------------------------------------------------------------------
  // Identities and app keys.

  private operatorIdentity(): Output {
    if (this.operator === 'no-credentials')
      // What the SDK's default chain throws before any request when it finds nothing.
      throw Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
        tryNextLink: false,
      });
    if (this.operator === 'expired-session')
      throw queryError('sts', {
        code: 'ExpiredToken',
        message: 'The security token included in the request is expired',
        status: 400,
      });
    return {
      UserId: this.operator === 'sso-role' ? `AROAEXAMPLEROLEID0000:alice` : this.operatorUserId,
      Account: this.accountId,
      Arn: this.operatorArn,
    };
  }

  /** GetCallerIdentity signed with an app key: InvalidClientTokenId until IAM has propagated the key. */
  private appIdentity(key: AccessKey): Output {
    const found = this.findKey(key.accessKeyId);
    if (
      !found ||
      found.key.status !== 'Active' ||
      found.key.secret !== key.secretAccessKey ||
      Date.now() - found.key.created.getTime() < this.keyPropagationMs
    )
      throw queryError('sts', {
        code: 'InvalidClientTokenId',
        message: 'The security token included in the request is invalid.',
        status: 403,
      });
    return { UserId: this.userMeta.get(found.user)!.userId, Account: this.accountId, Arn: found.user.arn };
  }

  private findKey(id: string): { user: FakeIamUser; key: FakeAccessKey } | undefined {
    for (const user of this.iam.values()) {
      const key = user.keys.find((k) => k.id === id);
      if (key) return { user, key };
    }
    return undefined;
  }

  /** The user's inline policies, parsed (PutUserPolicy only stores valid JSON). */
  private policiesOf(user: FakeIamUser): unknown[] {
    return [...user.policies.values()].map((text) => JSON.parse(text) as unknown);
  }

  /**
   * What S3 says to a request signed with an app key: unknown or propagating (the fake's clocks), or not
   * allowed (iam-simulate, from the user's inline policies and scpDeny).
   */
  private async authorizeKey(key: AccessKey, operation: string, input: Input): Promise<void> {
    const head = isHead(operation);
    const deny = (code: string, message: string, extra?: Record<string, unknown>) =>
      head ? s3HeadError(403) : s3Error({ code, message, status: 403, extra });
    const unknown = () =>
      deny('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', {
        AWSAccessKeyId: key.accessKeyId,
      });
    const found = this.findKey(key.accessKeyId);
    if (!found || found.key.status !== 'Active') throw unknown();
    if (found.key.secret !== key.secretAccessKey)
      throw deny(
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
        { AWSAccessKeyId: key.accessKeyId },
      );
    const age = Date.now() - found.key.created.getTime();
    if (age < this.keyPropagationMs) throw unknown();
    if (age < (this.keyPropagationMs * 4) / 3) throw deny('AccessDenied', 'Access Denied');
    const identityPolicies = this.policiesOf(found.user);
    for (const [action, resource] of s3Authorizations(operation, input)) {
      const denial = await authorize({
        principal: found.user.arn,
        action,
        resource,
        resourceAccount: this.bucketOwners.get(String(input.Bucket)) ?? this.accountId,
        identityPolicies,
        scpDenies: this.scpDeny,
      });
      if (denial) throw deny('AccessDenied', notAuthorizedMessage(found.user.arn, action, resource, denial));
    }
  }

  /** Whether an app key may not list the bucket (iam-simulate): then S3 answers a missing key with 403. */
  private async deniesListing(key: AccessKey | undefined, input: Input): Promise<boolean> {
    const user = key && this.findKey(key.accessKeyId)?.user;
    if (!user) return false;
    const [action, resource] = s3Action('ListBucket', String(input.Bucket));
    const denial = await authorize({
      principal: user.arn,
      action,
      resource,
      resourceAccount: this.accountId,
      identityPolicies: this.policiesOf(user),
      scpDenies: this.scpDeny,
    });
    return denial !== undefined;
  }

  // -------------------------------------------------------------------------------------------------------
  // Buckets.

  private newBucket(): FakeBucket {
    // Every field present from the start, so JSON of the state has one key order whatever order calls came in.
    return {
      publicAccessBlock: undefined,
      ownership: undefined,
      encryption: undefined,
      tags: undefined,
      policy: undefined,
    };
  }

  /** AWS's CreateBucket rules s3rver does not apply; returns the new bucket's region. */
  private checkCreateBucket(input: Input): string {
    const bucket = String(input.Bucket);
    if (!validBucketName(bucket))
      throw s3Error({
        code: 'InvalidBucketName',
        message: 'The specified bucket is not valid.',
        status: 400,
        extra: { BucketName: bucket },
      });
    const constraint = (input.CreateBucketConfiguration as { LocationConstraint?: string } | undefined)
      ?.LocationConstraint;
    // The clients are in us-east-1, where a LocationConstraint names another region, never us-east-1 itself.
    if (constraint === 'us-east-1')
      throw s3Error({
        code: 'InvalidLocationConstraint',
        message: 'The specified location-constraint is not valid',
        status: 400,
        extra: { LocationConstraint: constraint },
      });
    return constraint ?? 'us-east-1';
  }

  /** The bucket's state, if s3rver has the bucket (asked for real each time); NoSuchBucket otherwise. */
  private async requireBucket(name: string): Promise<FakeBucket> {
    const exists = await this.raw.send(new S3.HeadBucketCommand({ Bucket: name })).then(
      () => true,
      (error: unknown) => {
        if (statusOf(error) === 404) return false;
        throw error;
      },
    );
    if (!exists) {
      this.s3.delete(name);
      this.bucketMeta.delete(name);
      throw s3Error({
        code: 'NoSuchBucket',
        message: 'The specified bucket does not exist',
        status: 404,
        extra: { BucketName: name },
      });
    }
    let bucket = this.s3.get(name);
    if (!bucket) {
      bucket = this.newBucket();
      this.s3.set(name, bucket);
    }
    if (!this.bucketMeta.has(name))
      this.bucketMeta.set(name, { region: REGION, publicAccessBlockDeleted: false, ownershipDeleted: false });
    return bucket;
  }

  /** Only called after requireBucket, so both exist. */
  private state(input: Input): { bucket: FakeBucket; meta: BucketMeta; name: string } {
    const name = String(input.Bucket);
    return { bucket: this.s3.get(name)!, meta: this.bucketMeta.get(name)!, name };
  }

  private malformedXml(): Error {
    return s3Error({
      code: 'MalformedXML',
      message: 'The XML you provided was not well-formed or did not validate against our published schema',
      status: 400,
    });
  }

  private putPublicAccessBlock(input: Input): Output {
    const { bucket, meta } = this.state(input);
    const config = input.PublicAccessBlockConfiguration as S3.PublicAccessBlockConfiguration | undefined;
    if (!config) throw this.malformedXml();
    bucket.publicAccessBlock = {
      BlockPublicAcls: config.BlockPublicAcls ?? false,
      IgnorePublicAcls: config.IgnorePublicAcls ?? false,
      BlockPublicPolicy: config.BlockPublicPolicy ?? false,
      RestrictPublicBuckets: config.RestrictPublicBuckets ?? false,
    };
    meta.publicAccessBlockDeleted = false;
    return {};
  }

  private effectivePublicAccessBlock(name: string): S3.PublicAccessBlockConfiguration | undefined {
    const set = this.s3.get(name)?.publicAccessBlock;
    if (set) return set;
    return this.bucketMeta.get(name)?.publicAccessBlockDeleted ? undefined : ALL_BLOCKED;
  }

  private getPublicAccessBlock(input: Input): Output {
    const config = this.effectivePublicAccessBlock(String(input.Bucket));
    if (!config)
      throw s3Error({
        code: 'NoSuchPublicAccessBlockConfiguration',
        message: 'The public access block configuration was not found',
        status: 404,
        extra: { BucketName: input.Bucket },
      });
    return { PublicAccessBlockConfiguration: { ...config } };
  }

  private putOwnership(input: Input): Output {
    const { bucket, meta } = this.state(input);
    const rules = (input.OwnershipControls as S3.OwnershipControls | undefined)?.Rules;
    const value = rules?.[0]?.ObjectOwnership;
    if (
      rules?.length !== 1 ||
      !['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter'].includes(String(value))
    )
      throw this.malformedXml();
    bucket.ownership = { Rules: [{ ObjectOwnership: value }] };
    meta.ownershipDeleted = false;
    return {};
  }

  private getOwnership(input: Input): Output {
    const { bucket, meta } = this.state(input);
    if (!bucket.ownership && meta.ownershipDeleted)
      throw s3Error({
        code: 'OwnershipControlsNotFoundError',
        message: 'The bucket ownership controls were not found',
        status: 404,
        extra: { BucketName: input.Bucket },
      });
    return {
      OwnershipControls: structuredClone(
        bucket.ownership ?? { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      ),
    };
  }

  private putEncryption(input: Input): Output {
    const { bucket } = this.state(input);
    const config = input.ServerSideEncryptionConfiguration as
      S3.ServerSideEncryptionConfiguration | undefined;
    if (!config?.Rules?.length) throw this.malformedXml();
    for (const rule of config.Rules) {
      const byDefault = rule.ApplyServerSideEncryptionByDefault;
      if (!byDefault || !['AES256', 'aws:kms', 'aws:kms:dsse'].includes(String(byDefault.SSEAlgorithm)))
        throw this.malformedXml();
      if (byDefault.SSEAlgorithm === 'AES256' && byDefault.KMSMasterKeyID)
        throw s3Error({
          code: 'InvalidArgument',
          message:
            'a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse',
          status: 400,
        });
    }
    bucket.encryption = structuredClone(config);
    return {};
  }

  private getEncryption(input: Input): Output {
    const { bucket } = this.state(input);
    return {
      ServerSideEncryptionConfiguration: structuredClone(
        bucket.encryption ?? {
          Rules: [
            { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false },
          ],
        },
      ),
    };
  }

  private putTagging(input: Input): Output {
    const { bucket } = this.state(input);
    const tags = (input.Tagging as S3.Tagging | undefined)?.TagSet;
    if (!tags) throw this.malformedXml();
    const invalid = (message: string) => s3Error({ code: 'InvalidTag', message, status: 400 });
    if (tags.length > 50) throw invalid('Bucket tag count cannot be greater than 50');
    const seen = new Set<string>();
    for (const t of tags) {
      const k = String(t.Key ?? '');
      if (seen.has(k)) throw invalid('Cannot provide multiple Tags with the same key');
      seen.add(k);
      if (k.length < 1 || k.length > 128) throw invalid('The TagKey you have provided is invalid');
      if (String(t.Value ?? '').length > 256) throw invalid('The TagValue you have provided is invalid');
      if (k.toLowerCase().startsWith('aws:'))
        throw invalid('System tags cannot be added/updated by requester');
    }
    bucket.tags = tags.map((t) => ({ Key: t.Key, Value: t.Value }));
    return {};
  }

  private getTagging(input: Input): Output {
    const { bucket } = this.state(input);
    if (!bucket.tags)
      throw s3Error({
        code: 'NoSuchTagSet',
        message: 'The TagSet does not exist',
        status: 404,
        extra: { BucketName: input.Bucket },
      });
    return { TagSet: bucket.tags.map((t) => ({ ...t })) };
  }

  private deleteTagging(input: Input): Output {
    this.state(input).bucket.tags = undefined;
    return {};
  }

  /** S3's checks on a lifecycle configuration (the ones a generator could trip). */
  private putLifecycle(input: Input): Output {
    const { bucket } = this.state(input);
    const rules = (input.LifecycleConfiguration as S3.BucketLifecycleConfiguration | undefined)?.Rules;
    if (!rules?.length) throw this.malformedXml();
    const invalid = (message: string) => s3Error({ code: 'InvalidRequest', message, status: 400 });
    if (rules.length > 1000)
      throw invalid('The number of lifecycle rules must not exceed the allowed limit of 1000 rules');
    const ids = new Set<string>();
    for (const rule of rules) {
      if (rule.Status !== 'Enabled' && rule.Status !== 'Disabled') throw this.malformedXml();
      if (rule.ID !== undefined) {
        if (rule.ID.length > 255)
          throw s3Error({
            code: 'InvalidArgument',
            message: 'ID length should not exceed allowed limit of 255',
            status: 400,
          });
        if (ids.has(rule.ID)) throw invalid('Rule ID must be unique. Found same ID for more than one rule');
        ids.add(rule.ID);
      }
      if (
        !rule.Expiration &&
        !rule.AbortIncompleteMultipartUpload &&
        !rule.Transitions?.length &&
        !rule.NoncurrentVersionExpiration &&
        !rule.NoncurrentVersionTransitions?.length
      )
        throw invalid('At least one action needs to be specified in a rule');
      const tagged = Boolean(rule.Filter?.Tag || rule.Filter?.And?.Tags?.length);
      if (rule.AbortIncompleteMultipartUpload && tagged)
        throw invalid('AbortIncompleteMultipartUpload cannot be specified with Tags.');
    }
    bucket.lifecycle = structuredClone(rules);
    return { TransitionDefaultMinimumObjectSize: 'all_storage_classes_128K' };
  }

  private getLifecycle(input: Input): Output {
    const { bucket } = this.state(input);
    if (!bucket.lifecycle)
      throw s3Error({
        code: 'NoSuchLifecycleConfiguration',
        message: 'The lifecycle configuration does not exist',
        status: 404,
        extra: { BucketName: input.Bucket },
      });
    return {
      Rules: structuredClone(bucket.lifecycle),
      TransitionDefaultMinimumObjectSize: 'all_storage_classes_128K',
    };
  }

  private deleteLifecycle(input: Input): Output {
    this.state(input).bucket.lifecycle = undefined;
    return {};
  }

  private putBucketPolicy(input: Input, key: AccessKey | undefined): Output {
    const { bucket, name } = this.state(input);
    const text = typeof input.Policy === 'string' ? input.Policy : '';
    const malformed = (message: string) => s3Error({ code: 'MalformedPolicy', message, status: 400 });
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      throw malformed(
        text.trimStart().startsWith('{')
          ? 'This policy contains invalid Json'
          : "Policies must be valid JSON and the first byte must be '{'",
      );
    }
    if (!isObject(document)) throw malformed("Policies must be valid JSON and the first byte must be '{'");
    if (document.Statement === undefined) throw malformed('Missing required field Statement');
    for (const s of asArray(document.Statement)) {
      if (!isObject(s)) throw malformed('Statement is not well-formed');
      if (s.Effect === undefined) throw malformed('Missing required field Effect');
      if (s.Effect !== 'Allow' && s.Effect !== 'Deny')
        throw malformed(
          `Invalid effect: ${typeof s.Effect === 'string' ? s.Effect : JSON.stringify(s.Effect)}`,
        );
      if (s.Principal === undefined && s.NotPrincipal === undefined)
        throw malformed('Missing required field Principal');
      const actions = s.Action ?? s.NotAction;
      if (actions === undefined) throw malformed('Missing required field Action');
      if (asArray(actions).some((a) => typeof a !== 'string' || (a !== '*' && !/^s3:[A-Za-z*?]+$/i.test(a))))
        throw malformed('Policy has invalid action');
      const resources = s.Resource ?? s.NotResource;
      if (resources === undefined) throw malformed('Missing required field Resource');
      const arn = `arn:aws:s3:::${name}`;
      if (asArray(resources).some((r) => typeof r !== 'string' || (r !== arn && !r.startsWith(`${arn}/`))))
        throw malformed('Policy has invalid resource');
    }
    if (isPublicPolicy(text) && this.effectivePublicAccessBlock(name)?.BlockPublicPolicy) {
      const caller = (key && this.findKey(key.accessKeyId)?.user.arn) ?? this.operatorArn;
      throw accessDenied(
        `User: ${caller} is not authorized to perform: s3:PutBucketPolicy on resource: "arn:aws:s3:::${name}" because public policies are blocked by the BlockPublicPolicy block public access setting.`,
      );
    }
    bucket.policy = text;
    return {};
  }

  private getBucketPolicy(input: Input): Output {
    const { bucket } = this.state(input);
    if (bucket.policy === undefined)
      throw s3Error({
        code: 'NoSuchBucketPolicy',
        message: 'The bucket policy does not exist',
        status: 404,
        extra: { BucketName: input.Bucket },
      });
    return { Policy: bucket.policy };
  }

  private deleteBucketPolicy(input: Input): Output {
    this.state(input).bucket.policy = undefined;
    return {};
  }

  /**
   * s3rver answers 405: the versions are s3rver's objects (VersionId "null") and the fake's own versions and
   * delete markers, in key order (newest version first), paged by KeyMarker/VersionIdMarker as S3 does (at
   * most 1000 per page).
   */
  private async listObjectVersions(input: Input): Promise<Output> {
    const bucket = String(input.Bucket);
    const entries: FakeVersion[] = [];
    let token: string | undefined;
    do {
      const page = await this.raw.send(
        new S3.ListObjectsV2Command({
          Bucket: bucket,
          Prefix: input.Prefix as string | undefined,
          ContinuationToken: token,
        }),
      );
      for (const o of page.Contents ?? [])
        entries.push({
          key: o.Key!,
          versionId: 'null',
          deleteMarker: false,
          lastModified: o.LastModified ?? new Date(0),
        });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const prefix = typeof input.Prefix === 'string' ? input.Prefix : '';
    entries.push(...(this.versions.get(bucket) ?? []).filter((v) => v.key.startsWith(prefix)));
    entries.sort((a, b) =>
      a.key !== b.key ? (a.key < b.key ? -1 : 1) : b.lastModified.getTime() - a.lastModified.getTime(),
    );
    let from = 0;
    const keyMarker = typeof input.KeyMarker === 'string' && input.KeyMarker ? input.KeyMarker : undefined;
    if (keyMarker !== undefined) {
      const versionMarker = input.VersionIdMarker as string | undefined;
      const at = versionMarker
        ? entries.findIndex((e) => e.key === keyMarker && e.versionId === versionMarker)
        : -1;
      from = at >= 0 ? at + 1 : entries.findIndex((e) => e.key > keyMarker);
      if (from < 0) from = entries.length;
    }
    const max = Math.min(1000, typeof input.MaxKeys === 'number' ? input.MaxKeys : 1000);
    const page = entries.slice(from, from + max);
    const truncated = from + max < entries.length;
    const latest = new Set<string>();
    const view = page.map((e) => {
      const isLatest = !latest.has(e.key) && entries.findIndex((x) => x.key === e.key) === entries.indexOf(e);
      latest.add(e.key);
      return { e, isLatest };
    });
    const versions = view
      .filter(({ e }) => !e.deleteMarker)
      .map(({ e, isLatest }) => ({
        Key: e.key,
        VersionId: e.versionId,
        IsLatest: isLatest,
        LastModified: e.lastModified,
        StorageClass: 'STANDARD',
      }));
    const markers = view
      .filter(({ e }) => e.deleteMarker)
      .map(({ e, isLatest }) => ({
        Key: e.key,
        VersionId: e.versionId,
        IsLatest: isLatest,
        LastModified: e.lastModified,
      }));
    return {
      Name: bucket,
      Prefix: prefix,
      KeyMarker: keyMarker ?? '',
      MaxKeys: max,
      IsTruncated: truncated,
      ...(truncated ? { NextKeyMarker: page.at(-1)!.key, NextVersionIdMarker: page.at(-1)!.versionId } : {}),
      ...(versions.length ? { Versions: versions } : {}),
      ...(markers.length ? { DeleteMarkers: markers } : {}),
    };
  }

  /**
   * DeleteObjects as S3 answers it: at most 1000 keys (MalformedXML beyond), a per-key `Errors` entry for
   * what cannot be deleted (a legal hold: AccessDenied), versions removed from the fake, "null" versions
   * from s3rver.
   */
  private async deleteObjects(input: Input): Promise<Output> {
    const bucket = String(input.Bucket);
    const del = input.Delete as S3.Delete | undefined;
    const objects = del?.Objects ?? [];
    if (!objects.length || objects.length > 1000) throw this.malformedXml();
    const deleted: S3.DeletedObject[] = [];
    const errors: S3._Error[] = [];
    const held = this.legalHolds.get(bucket);
    for (const o of objects) {
      const key = String(o.Key);
      const version = o.VersionId;
      if (held?.has(key)) {
        errors.push({
          Key: key,
          ...(version ? { VersionId: version } : {}),
          Code: 'AccessDenied',
          Message: 'Access Denied because object protected by object lock.',
        });
        continue;
      }
      const list = this.versions.get(bucket) ?? [];
      const at =
        version && version !== 'null' ? list.findIndex((v) => v.key === key && v.versionId === version) : -1;
      if (at >= 0) list.splice(at, 1);
      else await this.raw.send(new S3.DeleteObjectCommand({ Bucket: bucket, Key: key }));
      deleted.push({ Key: key, ...(version ? { VersionId: version } : {}) });
    }
    return { ...(del?.Quiet ? {} : { Deleted: deleted }), ...(errors.length ? { Errors: errors } : {}) };
  }

  // -------------------------------------------------------------------------------------------------------
  // IAM.

  private stableUserId(name: string): string {
    const digest = createHash('sha256').update(`${this.accountId}:${name.toLowerCase()}`).digest();
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
    return `AIDA${Array.from(digest.subarray(0, 17), (b) => alphabet[b % 32]).join('')}`;
  }

  private findUser(name: unknown): [string, FakeIamUser] | undefined {
    if (typeof name !== 'string') return undefined;
    const lower = name.toLowerCase();
    for (const entry of this.iam) if (entry[0].toLowerCase() === lower) return entry;
    return undefined;
  }

  private requireUser(name: unknown): FakeIamUser {
    const found = this.findUser(name);
    if (!found) throw iamError('NoSuchEntity', `The user with name ${String(name)} cannot be found.`, 404);
    return found[1];
  }

  private userView(user: FakeIamUser): Output {
    const meta = this.userMeta.get(user)!;
    return {
      Path: '/',
      UserName: meta.name,
      UserId: meta.userId,
      Arn: user.arn,
      CreateDate: meta.created,
      ...(user.tags.length ? { Tags: user.tags.map((t) => ({ ...t })) } : {}),
    };
  }

  private validateName(value: unknown, field: string, max: number): string {
    const name = typeof value === 'string' ? value : '';
    const problem =
      name.length < 1 || name.length > max
        ? `Member must have length ${name.length < 1 ? 'greater than or equal to 1' : `less than or equal to ${max}`}`
        : !/^[\w+=,.@-]+$/.test(name)
          ? 'Member must satisfy regular expression pattern: [\\w+=,.@-]+'
          : undefined;
    if (problem)
      throw iamError(
        'ValidationError',
        `1 validation error detected: Value '${name}' at '${field}' failed to satisfy constraint: ${problem}`,
        400,
      );
    return name;
  }

  private validateTags(tags: IAM.Tag[]): void {
    if (tags.length > 50)
      throw iamError('LimitExceeded', 'The number of tags has reached the maximum limit.', 409);
    const seen = new Set<string>();
    for (const t of tags) {
      const k = String(t.Key ?? '').toLowerCase();
      if (seen.has(k))
        throw iamError(
          'InvalidInput',
          'Duplicate tag keys found. Please note that Tag keys are case insensitive.',
          400,
        );
      seen.add(k);
      if (k.length < 1 || k.length > 128 || String(t.Value ?? '').length > 256)
        throw iamError(
          'ValidationError',
          "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 128",
          400,
        );
    }
  }

  private createUser(input: Input): Output {
    const name = this.validateName(input.UserName, 'userName', 64);
    if (this.findUser(name))
      throw iamError('EntityAlreadyExists', `User with name ${name} already exists.`, 409);
    const tags = ((input.Tags as IAM.Tag[] | undefined) ?? []).map((t) => ({ Key: t.Key, Value: t.Value }));
    this.validateTags(tags);
    const user: FakeIamUser = {
      arn: `arn:aws:iam::${this.accountId}:user/${name}`,
      tags,
      policies: new Map(),
      keys: [],
    };
    this.iam.set(name, user);
    this.userMeta.set(user, { name, userId: this.stableUserId(name), created: new Date() });
    return { User: this.userView(user) };
  }

  private deleteUser(input: Input): Output {
    const user = this.requireUser(input.UserName);
    if (user.keys.length)
      throw iamError('DeleteConflict', 'Cannot delete entity, must delete access keys first.', 409);
    if (user.policies.size)
      throw iamError('DeleteConflict', 'Cannot delete entity, must delete policies first.', 409);
    this.iam.delete(this.userMeta.get(user)!.name);
    return {};
  }

  private putUserPolicy(input: Input): Output {
    const user = this.requireUser(input.UserName);
    const policyName = this.validateName(input.PolicyName, 'policyName', 128);
    const document = typeof input.PolicyDocument === 'string' ? input.PolicyDocument : '';
    validateIdentityPolicy(document);
    let total = nonWhitespaceLength(document);
    for (const [name, other] of user.policies) if (name !== policyName) total += nonWhitespaceLength(other);
    if (total > 2048)
      throw iamError(
        'LimitExceeded',
        `Maximum policy size of 2048 bytes exceeded for user ${this.userMeta.get(user)!.name}`,
        409,
      );
    user.policies.set(policyName, document);
    return {};
  }

  private getUserPolicy(input: Input): Output {
    const user = this.requireUser(input.UserName);
    const document = user.policies.get(String(input.PolicyName));
    if (document === undefined)
      throw iamError(
        'NoSuchEntity',
        `The user policy with name ${String(input.PolicyName)} cannot be found.`,
        404,
      );
    return {
      UserName: this.userMeta.get(user)!.name,
      PolicyName: input.PolicyName,
      PolicyDocument: rfc3986(document),
    };
  }

  private deleteUserPolicy(input: Input): Output {
    const user = this.requireUser(input.UserName);
    if (!user.policies.delete(String(input.PolicyName)))
      throw iamError(
        'NoSuchEntity',
        `The user policy with name ${String(input.PolicyName)} cannot be found.`,
        404,
      );
    return {};
  }

  private createAccessKey(input: Input): Output {
    const user = this.requireUser(input.UserName);
    if (user.keys.length >= 2)
      throw iamError('LimitExceeded', 'Cannot exceed quota for AccessKeysPerUser: 2', 409);
    const secretAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const key: FakeAccessKey = {
      id: `AKIA${upperAlnum(16)}`,
      secret: Array.from({ length: 40 }, () => secretAlphabet[randomInt(secretAlphabet.length)]).join(''),
      status: 'Active',
      created: new Date(),
    };
    user.keys.push(key);
    return {
      AccessKey: {
        UserName: this.userMeta.get(user)!.name,
        AccessKeyId: key.id,
        Status: key.status,
        SecretAccessKey: key.secret,
        CreateDate: key.created,
      },
    };
  }

  private listAccessKeys(input: Input): Output {
    const user = this.requireUser(input.UserName);
    const name = this.userMeta.get(user)!.name;
    return {
      AccessKeyMetadata: user.keys.map((k) => ({
        UserName: name,
        AccessKeyId: k.id,
        Status: k.status,
        CreateDate: k.created,
      })),
      IsTruncated: false,
    };
  }

  private deleteAccessKey(input: Input): Output {
    const user = this.requireUser(input.UserName);
    const key = user.keys.find((k) => k.id === input.AccessKeyId);
    if (!key)
      throw iamError(
        'NoSuchEntity',
        `The Access Key with id ${String(input.AccessKeyId)} cannot be found.`,
        404,
      );
    user.keys = user.keys.filter((k) => k !== key);
    return {};
  }
}
