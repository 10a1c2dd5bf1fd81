/**
 * A loopback HTTP fake of AWS — STS, IAM and the S3 control plane — that real SDK clients (and the real bin,
 * a child process) talk to over the wire, pointed at it by AWS_ENDPOINT_URL_STS / _IAM / _S3. The SDK's own
 * serialisation, signing, retry strategy, region redirects and credential chain all run for real.
 *
 * - STS and IAM speak the query protocol (form POST, XML answers, AWS's ErrorResponse with Type/Code/Message).
 * - S3 speaks REST-XML, path style (the SDK uses path style for an IP endpoint). The control plane (buckets and
 *   their settings, ListObjectVersions, DeleteObjects) is modelled here; the data plane (objects, listing,
 *   multipart) is PROXIED to a real s3rver, whose bucket this fake creates and deletes with its own.
 * - Authentication like AWS: the access key id in the Authorization header (or a presigned URL's
 *   X-Amz-Credential) must be known — an operator key the test set up, or an app key this fake issued and that
 *   has propagated — and a temporary key must carry its session token. Signatures are parsed but NOT verified
 *   cryptographically: a wrong secret with a known key id passes (SignatureDoesNotMatch is not modelled).
 * - Authorization like AWS: an app key's requests are allowed only if its user's inline policies allow them
 *   (evaluated with @cloud-copilot/iam-simulate), as they were `policyPropagationMs` ago; the operator is
 *   allowed everything unless the test gives it a policy. Buckets of another account answer 403, and so does
 *   any bucket call whose `x-amz-expected-bucket-owner` is not the owner.
 * - Eventual consistency, limits and faults: a new key answers InvalidAccessKeyId (InvalidClientTokenId on
 *   STS/IAM) for `keyPropagationMs`; two keys per user; per-call latency; faults per (service, operation), N
 *   times or for ever, before or after the call took effect.
 *
 * The control surface (seed, read state, calls, faults) is an in-process API on the object: the test owns the
 * server. Not modelled: object versions made by the data plane (a PUT over an existing key in a versioned
 * bucket keeps no noncurrent version; seedVersions adds them), bucket policies granting other accounts,
 * ACL subresources (501), virtual-hosted addressing.
 */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { authorize as decide, s3Action } from './aws-authz.js';
import { startS3rver, S3RVER_KEY, type RunningS3 } from './s3rver.js';

// ---------------------------------------------------------------------------------------------------------
// Public types.

export type Service = 'sts' | 'iam' | 's3';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface AwsHttpOptions {
  /** The account the operator and every IAM user live in. Default '123456789012'. */
  accountId?: string;
  /** A running s3rver to proxy the data plane to; default: the fake starts (and stops) its own. */
  s3rver?: RunningS3;
  /** A new access key is unknown to S3, STS and IAM for this long. Default 0. */
  keyPropagationMs?: number;
  /** A new or changed inline policy applies after this long (the previous version applies meanwhile). Default 0. */
  policyPropagationMs?: number;
  /** Added before every answer: a number, or per call. Default 0. */
  latencyMs?: number | ((service: Service, operation: string) => number);
  /** The operator's key is temporary (an ASIA… id with a session token), as from SSO or an assumed role. */
  temporaryOperator?: boolean;
  /** An identity policy for the operator (e.g. the README's awsOperatorPolicy); default: allowed everything. */
  operatorPolicy?: unknown;
}

export type FaultKind = 'InternalError' | 'SlowDown' | 'Throttling' | 'ECONNRESET' | 'AccessDenied';

export interface FaultSpec {
  kind: FaultKind;
  /** How many calls fail (default 1); ignored when persistent. */
  times?: number;
  /** Every call fails until clearFaults(). */
  persistent?: boolean;
  /** The call takes effect, then its answer is lost (the fault replaces it). */
  afterEffect?: boolean;
}

/** One call the fake answered (or dropped), in arrival order. */
export interface AwsCall {
  service: Service;
  operation: string;
  /** The access key id that signed it ('' when anonymous). */
  accessKeyId: string;
  /** Query params (form fields but Action/Version) for STS/IAM; Bucket, Key, subresource query and headers for S3. */
  params: Record<string, string | undefined>;
  status: number;
  /** AWS's error code when the answer was an error ('ECONNRESET' for a dropped connection). */
  code?: string;
  /** Date.now() when it arrived and when it was answered. */
  at: number;
  doneAt: number;
}

export interface SeedBucket {
  /** Default: the fake's account. Another id makes a bucket that belongs to someone else. */
  owner?: string;
  region?: string;
  encryption?: {
    algorithm: 'AES256' | 'aws:kms' | 'aws:kms:dsse';
    kmsKeyId?: string;
    bucketKeyEnabled?: boolean;
  };
  tags?: Record<string, string>;
  policy?: unknown;
  /** CORS rules in S3's XML shape: [{ AllowedMethod: ['GET'], AllowedOrigin: ['https://…'], … }]. */
  cors?: XObj[];
  /** Lifecycle rules in S3's XML shape: [{ ID, Status, Filter: { Prefix }, Expiration: { Days } }]. */
  lifecycle?: XObj[];
  /** BucketLoggingStatus.LoggingEnabled in S3's XML shape: { TargetBucket, TargetPrefix }. */
  logging?: XObj;
  versioning?: 'Enabled' | 'Suspended';
  /** null: no PublicAccessBlock configuration at all (a bucket from before 2023). Default: all four on. */
  publicAccessBlock?: Partial<PublicAccessBlock> | null;
  /** null: no ownership controls (ACLs enabled). Default BucketOwnerEnforced. */
  ownership?: string | null;
}

export interface PublicAccessBlock {
  BlockPublicAcls: boolean;
  IgnorePublicAcls: boolean;
  BlockPublicPolicy: boolean;
  RestrictPublicBuckets: boolean;
}

/** A bucket as the test reads it: deterministic, JSON-comparable. */
export interface BucketView {
  owner: string;
  region: string;
  publicAccessBlock: PublicAccessBlock | null;
  ownership: string | null;
  encryption: XObj;
  tags: Record<string, string> | null;
  policy: unknown;
  cors: XObj[] | null;
  lifecycle: XObj[] | null;
  logging: XObj | null;
  versioning: string | null;
  objects: string[];
  versions: number;
}

export interface UserView {
  arn: string;
  tags: Record<string, string>;
  /** Inline policies as IAM answers GetUserPolicy now (parsed), by name. */
  policies: Record<string, unknown>;
  keys: Array<{ id: string; status: string }>;
}

/** XML-shaped JSON: element name → text, nested object, or (for repeatable elements) an array. */
export type XObj = { [name: string]: XVal };
export type XVal = string | XObj | XVal[];

// ---------------------------------------------------------------------------------------------------------
// A small XML reader and writer for the documents S3 and the query protocol exchange.

interface XNode {
  name: string;
  children: XNode[];
  text: string;
}

const decodeEntities = (s: string): string =>
  s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, e: string) => {
    const l = e.toLowerCase();
    if (l === 'amp') return '&';
    if (l === 'lt') return '<';
    if (l === 'gt') return '>';
    if (l === 'quot') return '"';
    if (l === 'apos') return "'";
    return String.fromCodePoint(l.startsWith('#x') ? parseInt(l.slice(2), 16) : Number(l.slice(1)));
  });
const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

class MalformedXml extends Error {}

function parseXml(text: string): XNode {
  const source = text.replace(/<\?[\s\S]*?\?>/g, '').replace(/<!--[\s\S]*?-->/g, '');
  const root: XNode = { name: '#root', children: [], text: '' };
  const stack: XNode[] = [root];
  const token = /<(\/?)([A-Za-z_][\w.:-]*)[^>]*?(\/?)>|([^<]+)/g;
  for (const m of source.matchAll(token)) {
    const top = stack.at(-1)!;
    if (m[4] !== undefined) {
      top.text += decodeEntities(m[4]);
      continue;
    }
    const name = m[2]!.replace(/^.*:/, '');
    if (m[1]) {
      if (top.name !== name || stack.length === 1) throw new MalformedXml(`unexpected </${name}>`);
      stack.pop();
      continue;
    }
    const node: XNode = { name, children: [], text: '' };
    top.children.push(node);
    if (!m[3]) stack.push(node);
  }
  if (stack.length !== 1 || root.children.length !== 1) throw new MalformedXml('not one root element');
  return root.children[0]!;
}

/** Elements S3 repeats (flattened lists): always arrays in XML-shaped JSON. */
const REPEATED = new Set([
  'CORSRule',
  'AllowedMethod',
  'AllowedOrigin',
  'AllowedHeader',
  'ExposeHeader',
  'Rule',
  'Tag',
  'Object',
  'Transition',
  'NoncurrentVersionTransition',
  'Grant',
]);

function toObj(node: XNode): XVal {
  if (!node.children.length) return node.text.trim();
  const out: XObj = {};
  for (const c of node.children) {
    const v = toObj(c);
    const prev = out[c.name];
    if (REPEATED.has(c.name)) out[c.name] = [...((prev as XVal[] | undefined) ?? []), v];
    else if (prev !== undefined) out[c.name] = [...(Array.isArray(prev) ? prev : [prev]), v];
    else out[c.name] = v;
  }
  return out;
}

function xml(name: string, value: XVal | number | boolean | Date | undefined): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.map((v) => xml(name, v)).join('');
  if (value instanceof Date) return `<${name}>${value.toISOString()}</${name}>`;
  if (typeof value === 'object')
    return `<${name}>${Object.entries(value)
      .map(([k, v]) => xml(k, v))
      .join('')}</${name}>`;
  return `<${name}>${esc(String(value))}</${name}>`;
}

type XIn = { [name: string]: XIn | XIn[] | string[] | string | number | boolean | Date | undefined };
const doc = (root: string, xmlns: string, body: XIn): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${xmlns}">${Object.entries(body)
    .map(([k, v]) => xml(k, v as XVal))
    .join('')}</${root}>`;

const asObj = (v: XVal | undefined): XObj => (v && typeof v === 'object' && !Array.isArray(v) ? v : {});
const asList = (v: XVal | undefined): XVal[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const asText = (v: XVal | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

// ---------------------------------------------------------------------------------------------------------
// Errors.

class AwsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, string> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const IAM_NS = 'https://iam.amazonaws.com/doc/2010-05-08/';
const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const DEFAULT_ACCOUNT = '123456789012';
const ALL_BLOCKED: PublicAccessBlock = {
  BlockPublicAcls: true,
  IgnorePublicAcls: true,
  BlockPublicPolicy: true,
  RestrictPublicBuckets: true,
};
const SSE_S3: XObj = {
  Rule: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: 'false' }],
};

const noSuchBucket = (bucket: string): AwsError =>
  new AwsError(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
const accessDenied = (message = 'Access Denied'): AwsError => new AwsError(403, 'AccessDenied', message);
const malformedXml = (): AwsError =>
  new AwsError(
    400,
    'MalformedXML',
    'The XML you provided was not well-formed or did not validate against our published schema',
  );
const iamError = (status: number, code: string, message: string): AwsError =>
  new AwsError(status, code, message);
const noSuchUser = (name: string): AwsError =>
  iamError(404, 'NoSuchEntity', `The user with name ${name} cannot be found.`);

// ---------------------------------------------------------------------------------------------------------
// Policies.

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const arrayOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/** S3's notion of a public policy: an Allow to everyone not pinned by a fixed-value condition key. */
function isPublicPolicy(text: string | undefined): boolean {
  if (!text) return false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return false;
  }
  if (!isRecord(parsed)) return false;
  const restricting =
    /^(aws:(SourceIp|SourceVpce?|SourceAccount|SourceArn|SourceOwner|PrincipalAccount|PrincipalArn|PrincipalOrgID|PrincipalOrgPaths|userid)|s3:DataAccessPoint(Account|Arn))$/i;
  return arrayOf(parsed.Statement).some((s) => {
    if (!isRecord(s) || s.Effect !== 'Allow') return false;
    const p = s.Principal;
    const everyone = p === '*' || (isRecord(p) && arrayOf(p.AWS).includes('*'));
    const pinned =
      isRecord(s.Condition) &&
      Object.values(s.Condition).some((b) => isRecord(b) && Object.keys(b).some((k) => restricting.test(k)));
    return everyone && !pinned;
  });
}

function validateIdentityPolicy(text: string): void {
  const bad = (m: string) => iamError(400, 'MalformedPolicyDocument', m);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw bad('Syntax errors in policy.');
  }
  if (!isRecord(parsed) || parsed.Statement === undefined) throw bad('Syntax errors in policy.');
  if (parsed.Version !== undefined && parsed.Version !== '2012-10-17' && parsed.Version !== '2008-10-17')
    throw bad('The policy failed legacy parsing');
  for (const s of arrayOf(parsed.Statement)) {
    if (!isRecord(s)) throw bad('Syntax errors in policy.');
    if ('Principal' in s || 'NotPrincipal' in s) throw bad('Policy document should not specify a principal.');
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw bad('Syntax errors in policy.');
    const actions = s.Action ?? s.NotAction;
    if (actions === undefined) throw bad('Policy statement must contain actions.');
    for (const a of arrayOf(actions))
      if (typeof a !== 'string' || (a !== '*' && !/^[a-zA-Z0-9-]+:[a-zA-Z0-9*?]+$/.test(a)))
        throw bad('Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.');
    const resources = s.Resource ?? s.NotResource;
    if (resources === undefined) throw bad('Policy statement must contain resources.');
    for (const r of arrayOf(resources))
      if (typeof r !== 'string' || (r !== '*' && !r.startsWith('arn:')))
        throw bad(`Resource ${String(r)} must be in ARN format or "*".`);
  }
}

/** RFC 3986 encoding, as IAM returns policy documents. */
const rfc3986 = (text: string): string =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function validBucketName(name: string): boolean {
  return (
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) &&
    !name.includes('..') &&
    !/^\d{1,3}(\.\d{1,3}){3}$/.test(name) &&
    !/^(xn--|sthree-|amzn-s3-demo-)/.test(name) &&
    !/(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(name)
  );
}

// ---------------------------------------------------------------------------------------------------------
// State.

interface Principal {
  accountId: string;
  arn: string;
  userId: string;
  /** The IAM user behind an app key. */
  user?: User;
}

interface OperatorKey extends Credentials {
  principal: Principal;
  expired: boolean;
}

interface Key {
  id: string;
  secret: string;
  status: 'Active' | 'Inactive';
  created: Date;
  validAt: number;
}

interface PolicyVersion {
  document: string | null;
  at: number;
}

interface User {
  name: string;
  userId: string;
  arn: string;
  created: Date;
  tags: Array<{ Key: string; Value: string }>;
  policies: Map<string, PolicyVersion[]>;
  keys: Key[];
}

interface NoncurrentVersion {
  versionId: string;
  deleteMarker: boolean;
  lastModified: Date;
  size: number;
}

interface Bucket {
  name: string;
  owner: string;
  region: string;
  created: Date;
  publicAccessBlock: PublicAccessBlock | null;
  ownership: string | null;
  encryption: XObj;
  tags: Array<{ Key: string; Value: string }> | null;
  policy: string | null;
  cors: XObj[] | null;
  lifecycle: XObj[] | null;
  logging: XObj | null;
  versioning: string | null;
  /** Keys under legal hold / object lock: deleting them answers AccessDenied. */
  locked: Set<string>;
  /** Noncurrent versions and delete markers, by key (the current version is s3rver's object). */
  versions: Map<string, NoncurrentVersion[]>;
}

interface Fault extends FaultSpec {
  left: number;
}

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

interface Auth {
  accessKeyId: string;
  region: string;
  service: string;
  sessionToken?: string;
}

interface Request {
  service: Service;
  operation: string;
  auth?: Auth;
  principal?: Principal;
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: Buffer;
  form: URLSearchParams;
  bucket?: string;
  key?: string;
}

const upper = (n: number): string =>
  Array.from({ length: n }, () => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[randomInt(32)]).join('');
const requestId = (): string => randomUUID();

// ---------------------------------------------------------------------------------------------------------

export class AwsHttpFake {
  readonly accountId: string;
  /** The operator's credentials: what the test hands the bin (AWS_ACCESS_KEY_ID…). */
  readonly operator: Credentials;
  readonly calls: AwsCall[] = [];
  url = '';

  private server?: http.Server;
  private s3rver?: RunningS3;
  private ownS3rver = false;
  private keyPropagationMs: number;
  private policyPropagationMs: number;
  private latency: (service: Service, operation: string) => number;
  private readonly operatorPolicy?: unknown;
  private readonly operators = new Map<string, OperatorKey>();
  private readonly users = new Map<string, User>();
  private readonly buckets = new Map<string, Bucket>();
  private readonly faults = new Map<string, Fault>();
  private configDir?: string;

  constructor(private readonly options: AwsHttpOptions = {}) {
    this.accountId = options.accountId ?? DEFAULT_ACCOUNT;
    this.keyPropagationMs = options.keyPropagationMs ?? 0;
    this.policyPropagationMs = options.policyPropagationMs ?? 0;
    this.latency = this.latencyFn(options.latencyMs);
    this.operatorPolicy = options.operatorPolicy;
    this.operator = options.temporaryOperator
      ? {
          accessKeyId: `ASIA${upper(16)}`,
          secretAccessKey: randomBytes(30).toString('base64'),
          sessionToken: randomBytes(96).toString('base64'),
        }
      : { accessKeyId: `AKIA${upper(16)}`, secretAccessKey: randomBytes(30).toString('base64') };
    this.operators.set(this.operator.accessKeyId, {
      ...this.operator,
      expired: false,
      principal: options.temporaryOperator
        ? {
            accountId: this.accountId,
            arn: `arn:aws:sts::${this.accountId}:assumed-role/Operator/operator-session`,
            userId: `AROA${upper(17)}:operator-session`,
          }
        : {
            accountId: this.accountId,
            arn: `arn:aws:iam::${this.accountId}:user/operator`,
            userId: `AIDA${upper(17)}`,
          },
    });
  }

  /** Starts the server (and s3rver unless one was given). */
  async start(): Promise<this> {
    if (this.options.s3rver) this.s3rver = this.options.s3rver;
    else {
      this.s3rver = await startS3rver();
      this.ownS3rver = true;
    }
    const server = http.createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(String(error));
        else res.destroy();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    server.keepAliveTimeout = 5000;
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    if (this.server) {
      this.server.closeAllConnections();
      await new Promise<void>((resolve) => this.server!.close(() => resolve()));
      this.server = undefined;
    }
    if (this.ownS3rver) await this.s3rver?.stop();
    if (this.configDir) rmSync(this.configDir, { recursive: true, force: true });
  }

  /**
   * The environment that points a process at this fake with the operator's credentials: endpoints, keys, and
   * empty shared config/credentials files so the machine's own AWS configuration never leaks in.
   */
  env(): Record<string, string | undefined> {
    this.configDir ??= mkdtempSync(path.join(tmpdir(), 'aws-http-config-'));
    const config = path.join(this.configDir, 'config');
    const credentials = path.join(this.configDir, 'credentials');
    writeFileSync(config, '');
    writeFileSync(credentials, '');
    return {
      AWS_ENDPOINT_URL_STS: this.url,
      AWS_ENDPOINT_URL_IAM: this.url,
      AWS_ENDPOINT_URL_S3: this.url,
      AWS_ENDPOINT_URL: undefined,
      AWS_ACCESS_KEY_ID: this.operator.accessKeyId,
      AWS_SECRET_ACCESS_KEY: this.operator.secretAccessKey,
      AWS_SESSION_TOKEN: this.operator.sessionToken,
      AWS_CONFIG_FILE: config,
      AWS_SHARED_CREDENTIALS_FILE: credentials,
      AWS_PROFILE: undefined,
      AWS_DEFAULT_PROFILE: undefined,
      AWS_REGION: undefined,
      AWS_DEFAULT_REGION: undefined,
      AWS_ROLE_ARN: undefined,
      AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
      AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      AWS_MAX_ATTEMPTS: undefined,
      AWS_RETRY_MODE: undefined,
    };
  }

  // -------------------------------------------------------------------------------------------------------
  // Control surface.

  setLatency(latency: AwsHttpOptions['latencyMs']): void {
    this.latency = this.latencyFn(latency);
  }

  setPropagation(options: { keyMs?: number; policyMs?: number }): void {
    if (options.keyMs !== undefined) this.keyPropagationMs = options.keyMs;
    if (options.policyMs !== undefined) this.policyPropagationMs = options.policyMs;
  }

  /** Calls of that service/operation fail as specified (see FaultSpec). */
  fault(service: Service, operation: string, spec: FaultSpec): void {
    this.faults.set(`${service}:${operation}`, { ...spec, left: spec.times ?? 1 });
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /** The operator's session token has expired: every call answers ExpiredToken. */
  expireSession(): void {
    for (const k of this.operators.values()) if (k.sessionToken) k.expired = true;
  }

  /** Credentials of a principal in another account (for seeding what someone else does). */
  otherAccount(accountId: string): Credentials {
    const key: OperatorKey = {
      accessKeyId: `AKIA${upper(16)}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      expired: false,
      principal: { accountId, arn: `arn:aws:iam::${accountId}:user/someone`, userId: `AIDA${upper(17)}` },
    };
    this.operators.set(key.accessKeyId, key);
    return { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
  }

  callsOf(service: Service, operation?: string): AwsCall[] {
    return this.calls.filter((c) => c.service === service && (!operation || c.operation === operation));
  }

  /** Calls that change something (by operation name), in order. */
  mutations(): AwsCall[] {
    return this.calls.filter((c) =>
      /^(Create|Put|Delete|Update|Tag|Untag|Upload|Complete|Abort|Copy)/.test(c.operation),
    );
  }

  async seedBucket(name: string, seed: SeedBucket = {}): Promise<void> {
    const bucket = this.newBucket(name, seed.owner ?? this.accountId, seed.region ?? 'us-east-1');
    if (seed.encryption)
      bucket.encryption = {
        Rule: [
          {
            ApplyServerSideEncryptionByDefault: {
              SSEAlgorithm: seed.encryption.algorithm,
              ...(seed.encryption.kmsKeyId ? { KMSMasterKeyID: seed.encryption.kmsKeyId } : {}),
            },
            BucketKeyEnabled: String(seed.encryption.bucketKeyEnabled ?? false),
          },
        ],
      };
    if (seed.tags) bucket.tags = Object.entries(seed.tags).map(([Key, Value]) => ({ Key, Value }));
    if (seed.policy !== undefined)
      bucket.policy = typeof seed.policy === 'string' ? seed.policy : JSON.stringify(seed.policy);
    if (seed.cors) bucket.cors = structuredClone(seed.cors);
    if (seed.lifecycle) bucket.lifecycle = structuredClone(seed.lifecycle);
    if (seed.logging) bucket.logging = structuredClone(seed.logging);
    if (seed.versioning) bucket.versioning = seed.versioning;
    if (seed.publicAccessBlock !== undefined)
      bucket.publicAccessBlock =
        seed.publicAccessBlock === null ? null : { ...ALL_BLOCKED, ...seed.publicAccessBlock };
    if (seed.ownership !== undefined) bucket.ownership = seed.ownership;
    await this.s3rverBucket('create', name);
    this.buckets.set(name, bucket);
  }

  /** An object in a bucket (through s3rver); `locked`: under legal hold, so deleting it is denied. */
  async seedObject(
    bucket: string,
    key: string,
    body = 'seeded',
    options: { locked?: boolean } = {},
  ): Promise<void> {
    const b = this.requireBucket(bucket);
    const r = await this.s3rverRequest('PUT', `/${bucket}/${encodeKey(key)}`, {}, Buffer.from(body));
    if (r.status !== 200) throw new Error(`s3rver PUT ${key}: ${r.status}`);
    if (options.locked) b.locked.add(key);
  }

  /** `count` noncurrent versions of a key (and a delete marker as the newest, if asked). */
  seedVersions(bucket: string, key: string, count: number, options: { deleteMarker?: boolean } = {}): void {
    const b = this.requireBucket(bucket);
    const list = b.versions.get(key) ?? [];
    for (let i = 0; i < count; i++)
      list.push({
        versionId: upper(32),
        deleteMarker: false,
        lastModified: new Date(Date.now() - 1000 * (count - i)),
        size: 6,
      });
    if (options.deleteMarker)
      list.push({ versionId: upper(32), deleteMarker: true, lastModified: new Date(), size: 0 });
    b.versions.set(key, list);
  }

  /** An IAM user with tags, inline policies and `keys` access keys (valid at once); returns the keys. */
  seedUser(
    name: string,
    seed: { tags?: Record<string, string>; policies?: Record<string, unknown>; keys?: number } = {},
  ): Credentials[] {
    const user = this.newUser(
      name,
      Object.entries(seed.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
    );
    for (const [p, d] of Object.entries(seed.policies ?? {}))
      user.policies.set(p, [{ document: typeof d === 'string' ? d : JSON.stringify(d), at: 0 }]);
    const out: Credentials[] = [];
    for (let i = 0; i < (seed.keys ?? 0); i++) {
      const k = this.newKey(user);
      k.validAt = 0;
      k.created = new Date(Date.now() - 86_400_000 * (10 - i));
      out.push({ accessKeyId: k.id, secretAccessKey: k.secret });
    }
    return out;
  }

  hasBucket(name: string): boolean {
    return this.buckets.has(name);
  }

  async bucket(name: string): Promise<BucketView | undefined> {
    const b = this.buckets.get(name);
    if (!b) return undefined;
    const tags = b.tags
      ? Object.fromEntries(
          [...b.tags].sort((x, y) => x.Key.localeCompare(y.Key)).map((t) => [t.Key, t.Value]),
        )
      : null;
    return {
      owner: b.owner,
      region: b.region,
      publicAccessBlock: b.publicAccessBlock ? { ...b.publicAccessBlock } : null,
      ownership: b.ownership,
      encryption: structuredClone(b.encryption),
      tags,
      policy: b.policy === null ? null : (JSON.parse(b.policy) as unknown),
      cors: b.cors ? structuredClone(b.cors) : null,
      lifecycle: b.lifecycle ? structuredClone(b.lifecycle) : null,
      logging: b.logging ? structuredClone(b.logging) : null,
      versioning: b.versioning,
      objects: await this.s3rverKeys(name),
      versions: [...b.versions.values()].reduce((n, l) => n + l.length, 0),
    };
  }

  user(name: string): UserView | undefined {
    const u = this.findUser(name);
    if (!u) return undefined;
    const policies: Record<string, unknown> = {};
    for (const [p, versions] of [...u.policies].sort(([a], [b]) => a.localeCompare(b))) {
      const d = versions.at(-1)!.document;
      if (d !== null) policies[p] = JSON.parse(d) as unknown;
    }
    return {
      arn: u.arn,
      tags: Object.fromEntries(u.tags.map((t) => [t.Key, t.Value])),
      policies,
      keys: u.keys.map((k) => ({ id: k.id, status: k.status })),
    };
  }

  userNames(): string[] {
    return [...this.users.values()].map((u) => u.name).sort();
  }

  bucketNames(): string[] {
    return [...this.buckets.keys()].sort();
  }

  /** When an issued key became (or becomes) valid, Date.now() scale. */
  keyValidAt(accessKeyId: string): number | undefined {
    for (const u of this.users.values()) for (const k of u.keys) if (k.id === accessKeyId) return k.validAt;
    return undefined;
  }

  /** Everything, deterministic and JSON-comparable: key ids replaced by their position. */
  async state(): Promise<{ buckets: Record<string, BucketView>; users: Record<string, UserView> }> {
    const buckets: Record<string, BucketView> = {};
    for (const name of this.bucketNames()) buckets[name] = (await this.bucket(name))!;
    const users: Record<string, UserView> = {};
    for (const name of this.userNames()) {
      const v = this.user(name)!;
      users[name] = { ...v, keys: v.keys.map((k, i) => ({ id: `key-${i + 1}`, status: k.status })) };
    }
    return { buckets, users };
  }

  // -------------------------------------------------------------------------------------------------------
  // The wire.

  private latencyFn(l: AwsHttpOptions['latencyMs']): (service: Service, operation: string) => number {
    return typeof l === 'function' ? l : () => l ?? 0;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const auth = parseAuth(req.headers, url);
    const contentType = String(req.headers['content-type'] ?? '');
    const form =
      req.method === 'POST' && contentType.startsWith('application/x-www-form-urlencoded')
        ? new URLSearchParams(body.toString('utf8'))
        : new URLSearchParams();
    let service: Service;
    if (auth?.service === 'sts' || auth?.service === 'iam') service = auth.service;
    else if (!auth && form.has('Action')) service = form.get('Version') === '2011-06-15' ? 'sts' : 'iam';
    else service = 's3';
    const r: Request = {
      service,
      operation: '',
      auth,
      method: req.method ?? 'GET',
      url,
      headers: req.headers,
      body,
      form,
    };
    if (service === 's3') this.classifyS3(r);
    else r.operation = form.get('Action') ?? 'Unknown';

    const call: AwsCall = {
      service,
      operation: r.operation,
      accessKeyId: auth?.accessKeyId ?? '',
      params: this.paramsOf(r),
      status: 0,
      at,
      doneAt: 0,
    };
    this.calls.push(call);
    const delay = this.latency(service, r.operation);
    if (delay > 0) await sleep(delay);

    const fault = this.takeFault(service, r.operation);
    let reply: Reply;
    if (fault && !fault.afterEffect) {
      if (fault.kind === 'ECONNRESET') return this.reset(req, res, call);
      reply = this.errorReply(r, this.faultError(r, fault.kind));
    } else {
      try {
        reply = await this.dispatch(r);
      } catch (error) {
        if (!(error instanceof AwsError)) throw error;
        reply = this.errorReply(r, error);
      }
      if (fault) {
        if (fault.kind === 'ECONNRESET') return this.reset(req, res, call);
        reply = this.errorReply(r, this.faultError(r, fault.kind));
      }
    }
    call.status = reply.status;
    call.doneAt = Date.now();
    const headers: Record<string, string> = {
      'x-amz-request-id': upper(16),
      ...(service === 's3'
        ? { 'x-amz-id-2': randomBytes(48).toString('base64') }
        : { 'x-amzn-requestid': requestId() }),
      ...reply.headers,
    };
    const payload = r.method === 'HEAD' ? undefined : reply.body;
    if (payload !== undefined && !headers['content-length'])
      headers['content-length'] = String(Buffer.byteLength(payload));
    if (!payload && r.method !== 'HEAD') headers['content-length'] = '0';
    res.writeHead(reply.status, headers);
    res.end(payload);
  }

  private reset(req: IncomingMessage, res: ServerResponse, call: AwsCall): void {
    call.status = 0;
    call.code = 'ECONNRESET';
    call.doneAt = Date.now();
    res.destroy();
    req.socket.destroy();
  }

  private takeFault(service: Service, operation: string): Fault | undefined {
    const key = `${service}:${operation}`;
    const f = this.faults.get(key);
    if (!f) return undefined;
    if (!f.persistent && --f.left <= 0) this.faults.delete(key);
    return f;
  }

  private faultError(r: Request, kind: FaultKind): AwsError {
    if (kind === 'AccessDenied') {
      const caller =
        r.principal?.arn ?? this.operators.get(r.auth?.accessKeyId ?? '')?.principal.arn ?? 'anonymous';
      const action = `${r.service}:${r.operation}`;
      return accessDenied(
        `User: ${caller} is not authorized to perform: ${action} because no identity-based policy allows the ${action} action`,
      );
    }
    if (r.service === 's3') {
      return kind === 'InternalError'
        ? new AwsError(500, 'InternalError', 'We encountered an internal error. Please try again.')
        : new AwsError(503, 'SlowDown', 'Please reduce your request rate.');
    }
    if (kind === 'Throttling' || kind === 'SlowDown') return iamError(400, 'Throttling', 'Rate exceeded');
    return r.service === 'iam'
      ? iamError(
          500,
          'ServiceFailure',
          'The request processing has failed because of an unknown error, exception or failure.',
        )
      : iamError(
          500,
          'InternalFailure',
          'The request processing has failed because of an unknown error, exception or failure.',
        );
  }

  private errorReply(r: Request, e: AwsError): Reply {
    if (r.service === 's3') {
      return {
        status: e.status,
        headers: { 'content-type': 'application/xml', ...e.headers },
        body:
          '<?xml version="1.0" encoding="UTF-8"?>\n' +
          xml('Error', {
            Code: e.code,
            Message: e.message,
            ...e.extra,
            RequestId: upper(16),
            HostId: randomBytes(24).toString('base64'),
          }),
      };
    }
    const type = e.status >= 500 ? 'Receiver' : 'Sender';
    return {
      status: e.status,
      headers: { 'content-type': 'text/xml' },
      body: doc('ErrorResponse', r.service === 'iam' ? IAM_NS : STS_NS, {
        Error: { Type: type, Code: e.code, Message: e.message },
        RequestId: requestId(),
      }),
    };
  }

  private paramsOf(r: Request): Record<string, string | undefined> {
    if (r.service !== 's3') {
      const out: Record<string, string | undefined> = {};
      for (const [k, v] of r.form) if (k !== 'Action' && k !== 'Version') out[k] = v;
      return out;
    }
    const query = [...r.url.searchParams.keys()].filter(
      (k) => !k.startsWith('X-Amz-') && !k.startsWith('x-id'),
    );
    return {
      Bucket: r.bucket,
      Key: r.key,
      ...(query.length ? { query: query.join('&') } : {}),
      ExpectedBucketOwner: header(r.headers, 'x-amz-expected-bucket-owner'),
      ...(r.url.searchParams.get('versionId') ? { VersionId: r.url.searchParams.get('versionId')! } : {}),
    };
  }

  // -------------------------------------------------------------------------------------------------------
  // Authentication.

  /** The caller, or AWS's error for an unknown, unpropagated, expired or token-less key. */
  private authenticate(r: Request): Principal | undefined {
    const s3 = r.service === 's3';
    if (!r.auth) {
      if (s3) return undefined; // anonymous: S3 decides per request
      throw new AwsError(403, 'MissingAuthenticationToken', 'Request is missing Authentication Token');
    }
    const unknown = (): AwsError =>
      s3
        ? new AwsError(
            403,
            'InvalidAccessKeyId',
            'The AWS Access Key Id you provided does not exist in our records.',
            {
              AWSAccessKeyId: r.auth!.accessKeyId,
            },
          )
        : new AwsError(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    const operator = this.operators.get(r.auth.accessKeyId);
    if (operator) {
      if (operator.sessionToken) {
        if (!r.auth.sessionToken) throw unknown();
        if (r.auth.sessionToken !== operator.sessionToken)
          throw s3
            ? new AwsError(400, 'InvalidToken', 'The provided token is malformed or otherwise invalid.')
            : unknown();
        if (operator.expired)
          throw s3
            ? new AwsError(400, 'ExpiredToken', 'The provided token has expired.')
            : new AwsError(403, 'ExpiredToken', 'The security token included in the request is expired');
      }
      return operator.principal;
    }
    for (const user of this.users.values()) {
      const key = user.keys.find((k) => k.id === r.auth!.accessKeyId);
      if (!key) continue;
      if (key.status !== 'Active' || Date.now() < key.validAt) throw unknown();
      return { accountId: this.accountId, arn: user.arn, userId: user.userId, user };
    }
    throw unknown();
  }

  /** Whether the caller's identity policies allow action on resource (operator: everything unless given a policy). */
  private async allowed(
    p: Principal,
    action: string,
    resource: string,
    resourceAccount: string,
  ): Promise<boolean> {
    let policies: unknown[];
    if (p.user) policies = this.effectivePolicies(p.user);
    else if (p.accountId === this.accountId && this.operatorPolicy !== undefined)
      policies = [this.operatorPolicy];
    else return true;
    const denial = await decide({
      principal: p.arn,
      action,
      resource,
      resourceAccount,
      identityPolicies: policies,
    });
    return denial === undefined;
  }

  private effectivePolicies(user: User): unknown[] {
    const cutoff = Date.now() - this.policyPropagationMs;
    const out: unknown[] = [];
    for (const versions of user.policies.values()) {
      const applied = [...versions].reverse().find((v) => v.at <= cutoff);
      if (applied?.document) out.push(JSON.parse(applied.document) as unknown);
    }
    return out;
  }

  private async authorize(
    p: Principal,
    action: string,
    resource: string,
    resourceAccount: string,
  ): Promise<void> {
    if (await this.allowed(p, action, resource, resourceAccount)) return;
    throw accessDenied(
      `User: ${p.arn} is not authorized to perform: ${action} on resource: "${resource}" because no identity-based policy allows the ${action} action`,
    );
  }

  // -------------------------------------------------------------------------------------------------------
  // Dispatch.

  private async dispatch(r: Request): Promise<Reply> {
    r.principal = this.authenticate(r);
    if (r.service === 'sts') return this.sts(r);
    if (r.service === 'iam') return this.iam(r);
    return this.s3(r);
  }

  private sts(r: Request): Reply {
    if (r.operation !== 'GetCallerIdentity')
      throw iamError(400, 'InvalidAction', `Could not find operation ${r.operation} for version 2011-06-15`);
    const p = r.principal!;
    return this.queryReply('sts', r.operation, { Arn: p.arn, UserId: p.userId, Account: p.accountId });
  }

  private queryReply(service: 'sts' | 'iam', action: string, result?: XIn): Reply {
    return {
      status: 200,
      headers: { 'content-type': 'text/xml' },
      body: doc(`${action}Response`, service === 'iam' ? IAM_NS : STS_NS, {
        ...(result ? { [`${action}Result`]: result } : {}),
        ResponseMetadata: { RequestId: requestId() },
      }),
    };
  }

  // IAM ----------------------------------------------------------------------------------------------------

  private findUser(name: string | null | undefined): User | undefined {
    return name ? this.users.get(name.toLowerCase()) : undefined;
  }

  private requireUser(name: string | null): User {
    const u = this.findUser(name);
    if (!u) throw noSuchUser(String(name));
    return u;
  }

  private newUser(name: string, tags: Array<{ Key: string; Value: string }>): User {
    const user: User = {
      name,
      userId: `AIDA${upper(17)}`,
      arn: `arn:aws:iam::${this.accountId}:user/${name}`,
      created: new Date(),
      tags,
      policies: new Map(),
      keys: [],
    };
    this.users.set(name.toLowerCase(), user);
    return user;
  }

  private newKey(user: User): Key {
    const key: Key = {
      id: `AKIA${upper(16)}`,
      secret: randomBytes(30).toString('base64'),
      status: 'Active',
      created: new Date(),
      validAt: Date.now() + this.keyPropagationMs,
    };
    user.keys.push(key);
    return key;
  }

  private userXml(u: User, withTags: boolean): XIn {
    return {
      Path: '/',
      UserName: u.name,
      UserId: u.userId,
      Arn: u.arn,
      CreateDate: u.created,
      ...(withTags && u.tags.length ? { Tags: { member: u.tags.map((t) => ({ ...t })) } } : {}),
    };
  }

  private tagsFrom(form: URLSearchParams): Array<{ Key: string; Value: string }> {
    const out: Array<{ Key: string; Value: string }> = [];
    for (let i = 1; form.has(`Tags.member.${i}.Key`); i++)
      out.push({ Key: form.get(`Tags.member.${i}.Key`)!, Value: form.get(`Tags.member.${i}.Value`) ?? '' });
    return out;
  }

  private validateTags(tags: Array<{ Key: string; Value: string }>): void {
    if (tags.length > 50)
      throw iamError(409, 'LimitExceeded', 'The number of tags has reached the maximum limit.');
    const seen = new Set<string>();
    for (const t of tags) {
      const k = t.Key.toLowerCase();
      if (seen.has(k))
        throw iamError(
          400,
          'InvalidInput',
          'Duplicate tag keys found. Please note that Tag keys are case insensitive.',
        );
      seen.add(k);
    }
  }

  private validateName(value: string | null, field: string, max: number): string {
    const name = value ?? '';
    if (name.length < 1 || name.length > max || !/^[\w+=,.@-]+$/.test(name))
      throw iamError(
        400,
        'ValidationError',
        `1 validation error detected: Value '${name}' at '${field}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ and have length between 1 and ${max}`,
      );
    return name;
  }

  private async iam(r: Request): Promise<Reply> {
    const f = r.form;
    const p = r.principal!;
    const userName = f.get('UserName');
    const action = r.operation;
    const resource = userName ? `arn:aws:iam::${this.accountId}:user/${userName}` : p.arn;
    await this.authorize(p, `iam:${action}`, resource, this.accountId);
    const ok = (result?: XIn): Reply => this.queryReply('iam', action, result);
    switch (action) {
      case 'GetUser': {
        if (!userName) {
          if (p.user) return ok({ User: this.userXml(p.user, true) });
          return ok({
            User: { Path: '/', UserName: 'operator', UserId: p.userId, Arn: p.arn, CreateDate: new Date(0) },
          });
        }
        return ok({ User: this.userXml(this.requireUser(userName), true) });
      }
      case 'CreateUser': {
        const name = this.validateName(userName, 'userName', 64);
        if (this.findUser(name))
          throw iamError(409, 'EntityAlreadyExists', `User with name ${name} already exists.`);
        const tags = this.tagsFrom(f);
        this.validateTags(tags);
        if (tags.length) await this.authorize(p, 'iam:TagUser', resource, this.accountId);
        return ok({ User: this.userXml(this.newUser(name, tags), true) });
      }
      case 'ListUserTags':
        return ok({
          Tags: { member: this.requireUser(userName).tags.map((t) => ({ ...t })) },
          IsTruncated: false,
        });
      case 'TagUser': {
        const u = this.requireUser(userName);
        const merged = new Map(u.tags.map((t) => [t.Key.toLowerCase(), t]));
        for (const t of this.tagsFrom(f)) merged.set(t.Key.toLowerCase(), t);
        const tags = [...merged.values()];
        this.validateTags(tags);
        u.tags = tags;
        return ok();
      }
      case 'UntagUser': {
        const u = this.requireUser(userName);
        const drop = new Set<string>();
        for (let i = 1; f.has(`TagKeys.member.${i}`); i++)
          drop.add(f.get(`TagKeys.member.${i}`)!.toLowerCase());
        u.tags = u.tags.filter((t) => !drop.has(t.Key.toLowerCase()));
        return ok();
      }
      case 'ListAccessKeys': {
        const u = userName ? this.requireUser(userName) : p.user;
        return ok({
          AccessKeyMetadata: {
            member: (u?.keys ?? []).map((k) => ({
              UserName: u!.name,
              AccessKeyId: k.id,
              Status: k.status,
              CreateDate: k.created,
            })),
          },
          IsTruncated: false,
        });
      }
      case 'CreateAccessKey': {
        const u = userName ? this.requireUser(userName) : p.user;
        if (!u) throw iamError(400, 'ValidationError', 'The fake models the access keys of IAM users only');
        if (u.keys.length >= 2)
          throw iamError(409, 'LimitExceeded', 'Cannot exceed quota for AccessKeysPerUser: 2');
        const k = this.newKey(u);
        return ok({
          AccessKey: {
            UserName: u.name,
            AccessKeyId: k.id,
            Status: k.status,
            SecretAccessKey: k.secret,
            CreateDate: k.created,
          },
        });
      }
      case 'UpdateAccessKey': {
        const { key } = this.requireKey(userName, f.get('AccessKeyId'));
        const status = f.get('Status');
        if (status !== 'Active' && status !== 'Inactive')
          throw iamError(
            400,
            'ValidationError',
            `1 validation error detected: Value '${status}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]`,
          );
        key.status = status;
        return ok();
      }
      case 'DeleteAccessKey': {
        const { user, key } = this.requireKey(userName, f.get('AccessKeyId'));
        user.keys = user.keys.filter((k) => k !== key);
        return ok();
      }
      case 'PutUserPolicy': {
        const u = this.requireUser(userName);
        const name = this.validateName(f.get('PolicyName'), 'policyName', 128);
        const document = f.get('PolicyDocument') ?? '';
        validateIdentityPolicy(document);
        const size = (t: string) => t.replace(/\s/g, '').length;
        let total = size(document);
        for (const [n, versions] of u.policies) {
          const d = versions.at(-1)!.document;
          if (n !== name && d) total += size(d);
        }
        if (total > 2048)
          throw iamError(
            409,
            'LimitExceeded',
            `Maximum policy size of 2048 bytes exceeded for user ${u.name}`,
          );
        const versions = u.policies.get(name) ?? [];
        versions.push({ document, at: Date.now() });
        u.policies.set(name, versions);
        return ok();
      }
      case 'GetUserPolicy': {
        const u = this.requireUser(userName);
        const name = f.get('PolicyName') ?? '';
        const d = u.policies.get(name)?.at(-1)?.document;
        if (!d) throw iamError(404, 'NoSuchEntity', `The user policy with name ${name} cannot be found.`);
        return ok({ UserName: u.name, PolicyName: name, PolicyDocument: rfc3986(d) });
      }
      case 'ListUserPolicies': {
        const u = this.requireUser(userName);
        const names = [...u.policies].filter(([, v]) => v.at(-1)!.document !== null).map(([n]) => n);
        return ok({ PolicyNames: { member: names }, IsTruncated: false });
      }
      case 'DeleteUserPolicy': {
        const u = this.requireUser(userName);
        const name = f.get('PolicyName') ?? '';
        const versions = u.policies.get(name);
        if (!versions || versions.at(-1)!.document === null)
          throw iamError(404, 'NoSuchEntity', `The user policy with name ${name} cannot be found.`);
        versions.push({ document: null, at: Date.now() });
        return ok();
      }
      case 'DeleteUser': {
        const u = this.requireUser(userName);
        if (u.keys.length)
          throw iamError(409, 'DeleteConflict', 'Cannot delete entity, must delete access keys first.');
        if ([...u.policies.values()].some((v) => v.at(-1)!.document !== null))
          throw iamError(409, 'DeleteConflict', 'Cannot delete entity, must delete policies first.');
        this.users.delete(u.name.toLowerCase());
        return ok();
      }
      default:
        throw iamError(400, 'InvalidAction', `Could not find operation ${action} for version 2010-05-08`);
    }
  }

  private requireKey(userName: string | null, id: string | null): { user: User; key: Key } {
    const user = this.requireUser(userName);
    const key = user.keys.find((k) => k.id === id);
    if (!key) throw iamError(404, 'NoSuchEntity', `The Access Key with id ${String(id)} cannot be found.`);
    return { user, key };
  }

  // S3 -----------------------------------------------------------------------------------------------------

  private classifyS3(r: Request): void {
    const parts = r.url.pathname.split('/').slice(1);
    const bucket = parts[0] ? decodeURIComponent(parts[0]) : undefined;
    const key =
      parts.length > 1 && parts.slice(1).join('/') ? decodeURIComponent(parts.slice(1).join('/')) : undefined;
    r.bucket = bucket;
    r.key = key;
    const q = r.url.searchParams;
    const m = r.method;
    if (!bucket) {
      r.operation = 'ListBuckets';
      return;
    }
    if (key !== undefined) {
      if (m === 'PUT')
        r.operation = r.headers['x-amz-copy-source']
          ? 'CopyObject'
          : q.has('uploadId')
            ? 'UploadPart'
            : 'PutObject';
      else if (m === 'GET') r.operation = q.has('uploadId') ? 'ListParts' : 'GetObject';
      else if (m === 'HEAD') r.operation = 'HeadObject';
      else if (m === 'DELETE') r.operation = q.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
      else if (m === 'POST')
        r.operation = q.has('uploads') ? 'CreateMultipartUpload' : 'CompleteMultipartUpload';
      else r.operation = 'Unknown';
      return;
    }
    const sub: Record<string, [string, string, string?]> = {
      publicAccessBlock: ['PutPublicAccessBlock', 'GetPublicAccessBlock', 'DeletePublicAccessBlock'],
      ownershipControls: [
        'PutBucketOwnershipControls',
        'GetBucketOwnershipControls',
        'DeleteBucketOwnershipControls',
      ],
      encryption: ['PutBucketEncryption', 'GetBucketEncryption', 'DeleteBucketEncryption'],
      tagging: ['PutBucketTagging', 'GetBucketTagging', 'DeleteBucketTagging'],
      policy: ['PutBucketPolicy', 'GetBucketPolicy', 'DeleteBucketPolicy'],
      cors: ['PutBucketCors', 'GetBucketCors', 'DeleteBucketCors'],
      lifecycle: [
        'PutBucketLifecycleConfiguration',
        'GetBucketLifecycleConfiguration',
        'DeleteBucketLifecycle',
      ],
      logging: ['PutBucketLogging', 'GetBucketLogging'],
      versioning: ['PutBucketVersioning', 'GetBucketVersioning'],
      policyStatus: ['', 'GetBucketPolicyStatus'],
      location: ['', 'GetBucketLocation'],
      acl: ['PutBucketAcl', 'GetBucketAcl'],
    };
    for (const [name, ops] of Object.entries(sub)) {
      if (!q.has(name)) continue;
      r.operation =
        (m === 'PUT' ? ops[0] : m === 'GET' ? ops[1] : m === 'DELETE' ? ops[2] : undefined) || 'Unknown';
      return;
    }
    if (m === 'GET' && q.has('versions')) r.operation = 'ListObjectVersions';
    else if (m === 'GET' && q.has('uploads')) r.operation = 'ListMultipartUploads';
    else if (m === 'GET') r.operation = q.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
    else if (m === 'POST' && q.has('delete')) r.operation = 'DeleteObjects';
    else if (m === 'PUT') r.operation = 'CreateBucket';
    else if (m === 'HEAD') r.operation = 'HeadBucket';
    else if (m === 'DELETE') r.operation = 'DeleteBucket';
    else r.operation = 'Unknown';
  }

  /** The IAM action an S3 operation needs, on the bucket (or object) ARN. */
  private s3Action(r: Request): [string, string] {
    return s3Action(r.operation, r.bucket ?? '', r.key ?? '', {
      versionId: r.url.searchParams.has('versionId'),
    });
  }

  private requireBucket(name: string): Bucket {
    const b = this.buckets.get(name);
    if (!b) throw noSuchBucket(name);
    return b;
  }

  private newBucket(name: string, owner: string, region: string): Bucket {
    return {
      name,
      owner,
      region,
      created: new Date(),
      publicAccessBlock: { ...ALL_BLOCKED },
      ownership: 'BucketOwnerEnforced',
      encryption: structuredClone(SSE_S3),
      tags: null,
      policy: null,
      cors: null,
      lifecycle: null,
      logging: null,
      versioning: null,
      locked: new Set(),
      versions: new Map(),
    };
  }

  private async s3(r: Request): Promise<Reply> {
    const p = r.principal;
    if (r.operation === 'Unknown' || r.operation === 'PutBucketAcl' || r.operation === 'GetBucketAcl')
      throw new AwsError(
        501,
        'NotImplemented',
        'A header or query you provided implies functionality that is not implemented.',
      );
    if (r.operation === 'ListBuckets') {
      if (!p) throw accessDenied();
      await this.authorize(p, 's3:ListAllMyBuckets', '*', p.accountId);
      const mine = [...this.buckets.values()].filter((b) => b.owner === p.accountId);
      return this.s3Xml('ListAllMyBucketsResult', {
        Owner: { ID: p.accountId },
        Buckets: {
          Bucket: mine.map((b) => ({ Name: b.name, CreationDate: b.created, BucketRegion: b.region })),
        },
      });
    }
    if (r.operation === 'CreateBucket') return this.createBucket(r);
    const b = this.requireBucket(r.bucket!);
    const region = r.auth?.region;
    if (region && region !== b.region) {
      // The SDK follows this (followRegionRedirects) to the bucket's region.
      throw new AwsError(
        301,
        'PermanentRedirect',
        'The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.',
        { Bucket: b.name, Endpoint: `s3.${b.region}.amazonaws.com` },
        { 'x-amz-bucket-region': b.region },
      );
    }
    const expected = header(r.headers, 'x-amz-expected-bucket-owner');
    if (expected !== undefined && expected !== b.owner) throw accessDenied();
    const [action, resource] = this.s3Action(r);
    if (!p) {
      // Anonymous: only a public GetObject on a bucket whose public policy is not restricted.
      const open =
        (r.operation === 'GetObject' || r.operation === 'HeadObject') &&
        isPublicPolicy(b.policy ?? undefined) &&
        !b.publicAccessBlock?.RestrictPublicBuckets;
      if (!open) throw accessDenied();
    } else {
      if (p.accountId !== b.owner) throw accessDenied();
      if (r.operation !== 'DeleteObjects') await this.authorize(p, action, resource, b.owner);
    }
    if (r.key !== undefined || ['ListObjects', 'ListObjectsV2', 'ListMultipartUploads'].includes(r.operation))
      return this.dataPlane(r, b);
    return this.controlPlane(r, b);
  }

  private s3Xml(root: string, body: XIn, status = 200): Reply {
    return { status, headers: { 'content-type': 'application/xml' }, body: doc(root, S3_NS, body) };
  }

  private bodyXml(r: Request): XObj {
    try {
      const node = parseXml(r.body.toString('utf8'));
      return asObj(toObj(node));
    } catch {
      throw malformedXml();
    }
  }

  private async createBucket(r: Request): Promise<Reply> {
    const p = r.principal;
    if (!p) throw accessDenied();
    const name = r.bucket!;
    await this.authorize(p, 's3:CreateBucket', `arn:aws:s3:::${name}`, p.accountId);
    if (!validBucketName(name))
      throw new AwsError(400, 'InvalidBucketName', 'The specified bucket is not valid.', {
        BucketName: name,
      });
    const signing = r.auth?.region ?? 'us-east-1';
    const constraint = r.body.length ? asText(this.bodyXml(r).LocationConstraint) || undefined : undefined;
    let region: string;
    if (signing === 'us-east-1') {
      if (constraint === 'us-east-1')
        throw new AwsError(
          400,
          'InvalidLocationConstraint',
          'The specified location-constraint is not valid',
          { LocationConstraint: constraint },
        );
      region = constraint ?? 'us-east-1';
    } else if (!constraint) {
      throw new AwsError(
        400,
        'IllegalLocationConstraintException',
        'The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.',
      );
    } else if (constraint !== signing) {
      throw new AwsError(
        400,
        'IllegalLocationConstraintException',
        `The ${constraint} location constraint is incompatible for the region specific endpoint this request was sent to.`,
      );
    } else region = constraint;
    const existing = this.buckets.get(name);
    if (existing) {
      if (existing.owner !== p.accountId)
        throw new AwsError(
          409,
          'BucketAlreadyExists',
          'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.',
          { BucketName: name },
        );
      if (existing.region === 'us-east-1' && region === 'us-east-1')
        return { status: 200, headers: { location: `/${name}` } };
      throw new AwsError(
        409,
        'BucketAlreadyOwnedByYou',
        'Your previous request to create the named bucket succeeded and you already own it.',
        { BucketName: name },
      );
    }
    const ownership = header(r.headers, 'x-amz-object-ownership') ?? 'BucketOwnerEnforced';
    const acl = header(r.headers, 'x-amz-acl');
    if (acl && acl !== 'private' && ownership === 'BucketOwnerEnforced')
      throw new AwsError(
        400,
        'InvalidBucketAclWithObjectOwnership',
        "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
      );
    await this.s3rverBucket('create', name);
    const b = this.newBucket(name, p.accountId, region);
    b.ownership = ownership;
    this.buckets.set(name, b);
    return { status: 200, headers: { location: `/${name}` } };
  }

  private async controlPlane(r: Request, b: Bucket): Promise<Reply> {
    const done: Reply = { status: 200 };
    const none: Reply = { status: 204 };
    const missing = (code: string, message: string) =>
      new AwsError(404, code, message, { BucketName: b.name });
    switch (r.operation) {
      case 'HeadBucket':
        return {
          status: 200,
          headers: { 'x-amz-bucket-region': b.region, 'x-amz-access-point-alias': 'false' },
        };
      case 'GetBucketLocation':
        return {
          status: 200,
          headers: { 'content-type': 'application/xml' },
          body: `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="${S3_NS}">${b.region === 'us-east-1' ? '' : b.region}</LocationConstraint>`,
        };
      case 'DeleteBucket': {
        if ((await this.s3rverKeys(b.name)).length || [...b.versions.values()].some((l) => l.length))
          throw new AwsError(409, 'BucketNotEmpty', 'The bucket you tried to delete is not empty', {
            BucketName: b.name,
          });
        await this.s3rverBucket('delete', b.name);
        this.buckets.delete(b.name);
        return none;
      }
      case 'PutPublicAccessBlock': {
        const c = this.bodyXml(r);
        const flag = (k: keyof PublicAccessBlock) => asText(c[k]) === 'true';
        b.publicAccessBlock = {
          BlockPublicAcls: flag('BlockPublicAcls'),
          IgnorePublicAcls: flag('IgnorePublicAcls'),
          BlockPublicPolicy: flag('BlockPublicPolicy'),
          RestrictPublicBuckets: flag('RestrictPublicBuckets'),
        };
        return done;
      }
      case 'GetPublicAccessBlock':
        if (!b.publicAccessBlock)
          throw missing(
            'NoSuchPublicAccessBlockConfiguration',
            'The public access block configuration was not found',
          );
        return this.s3Xml('PublicAccessBlockConfiguration', { ...b.publicAccessBlock });
      case 'DeletePublicAccessBlock':
        b.publicAccessBlock = null;
        return none;
      case 'PutBucketOwnershipControls': {
        const rules = asList(this.bodyXml(r).Rule);
        const value = asText(asObj(rules[0]).ObjectOwnership);
        if (
          rules.length !== 1 ||
          !['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter'].includes(value ?? '')
        )
          throw malformedXml();
        b.ownership = value!;
        return done;
      }
      case 'GetBucketOwnershipControls':
        if (!b.ownership)
          throw missing('OwnershipControlsNotFoundError', 'The bucket ownership controls were not found');
        return this.s3Xml('OwnershipControls', { Rule: { ObjectOwnership: b.ownership } });
      case 'DeleteBucketOwnershipControls':
        b.ownership = null;
        return none;
      case 'PutBucketEncryption': {
        const c = this.bodyXml(r);
        const rules = asList(c.Rule);
        const by = asObj(asObj(rules[0]).ApplyServerSideEncryptionByDefault);
        const algorithm = asText(by.SSEAlgorithm);
        if (rules.length !== 1 || !['AES256', 'aws:kms', 'aws:kms:dsse'].includes(algorithm ?? ''))
          throw malformedXml();
        if (by.KMSMasterKeyID !== undefined && algorithm === 'AES256')
          throw new AwsError(
            400,
            'InvalidArgument',
            'a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse',
          );
        b.encryption = {
          Rule: [
            { ...asObj(rules[0]), BucketKeyEnabled: asText(asObj(rules[0]).BucketKeyEnabled) ?? 'false' },
          ],
        };
        return done;
      }
      case 'GetBucketEncryption':
        return this.s3Xml('ServerSideEncryptionConfiguration', b.encryption as XIn);
      case 'DeleteBucketEncryption':
        // Since 2023 every bucket is encrypted: deleting the configuration restores SSE-S3.
        b.encryption = structuredClone(SSE_S3);
        return none;
      case 'PutBucketTagging': {
        const tags = asList(asObj(this.bodyXml(r).TagSet).Tag).map((t) => ({
          Key: asText(asObj(t).Key) ?? '',
          Value: asText(asObj(t).Value) ?? '',
        }));
        if (tags.length > 50)
          throw new AwsError(400, 'BadRequest', 'Bucket tag count cannot be greater than 50');
        if (new Set(tags.map((t) => t.Key)).size !== tags.length)
          throw new AwsError(400, 'InvalidTag', 'Cannot provide multiple Tags with the same key');
        if (tags.some((t) => t.Key.toLowerCase().startsWith('aws:')))
          throw new AwsError(400, 'InvalidTag', 'System tags cannot be added/updated by requester');
        b.tags = tags;
        return none;
      }
      case 'GetBucketTagging':
        if (!b.tags) throw missing('NoSuchTagSet', 'The TagSet does not exist');
        return this.s3Xml('Tagging', { TagSet: { Tag: b.tags.map((t) => ({ ...t })) } });
      case 'DeleteBucketTagging':
        b.tags = null;
        return none;
      case 'PutBucketPolicy': {
        const text = r.body.toString('utf8');
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          throw new AwsError(400, 'MalformedPolicy', 'This policy contains invalid Json');
        }
        if (!isRecord(parsed) || parsed.Statement === undefined)
          throw new AwsError(400, 'MalformedPolicy', 'Missing required field Statement');
        for (const s of arrayOf(parsed.Statement)) {
          if (!isRecord(s) || (s.Principal === undefined && s.NotPrincipal === undefined))
            throw new AwsError(400, 'MalformedPolicy', 'Missing required field Principal');
          const arn = `arn:aws:s3:::${b.name}`;
          if (
            arrayOf(s.Resource ?? s.NotResource).some(
              (x) => typeof x !== 'string' || (x !== arn && !x.startsWith(`${arn}/`)),
            )
          )
            throw new AwsError(400, 'MalformedPolicy', 'Policy has invalid resource');
        }
        if (isPublicPolicy(text) && b.publicAccessBlock?.BlockPublicPolicy)
          throw accessDenied(
            `User: ${r.principal?.arn} is not authorized to perform: s3:PutBucketPolicy on resource: "arn:aws:s3:::${b.name}" because public policies are blocked by the BlockPublicPolicy block public access setting.`,
          );
        b.policy = text;
        return none;
      }
      case 'GetBucketPolicy':
        if (b.policy === null) throw missing('NoSuchBucketPolicy', 'The bucket policy does not exist');
        return { status: 200, headers: { 'content-type': 'application/json' }, body: b.policy };
      case 'DeleteBucketPolicy':
        b.policy = null;
        return none;
      case 'GetBucketPolicyStatus':
        if (b.policy === null) throw missing('NoSuchBucketPolicy', 'The bucket policy does not exist');
        return this.s3Xml('PolicyStatus', {
          IsPublic: isPublicPolicy(b.policy) && !b.publicAccessBlock?.RestrictPublicBuckets,
        });
      case 'PutBucketCors': {
        const rules = asList(this.bodyXml(r).CORSRule).map(asObj);
        if (!rules.length || rules.length > 100) throw malformedXml();
        for (const rule of rules) {
          const methods = asList(rule.AllowedMethod).map(asText);
          if (!methods.length || !asList(rule.AllowedOrigin).length) throw malformedXml();
          for (const m of methods) {
            // An element with children where a method's text belongs is not a CORS configuration.
            if (m === undefined) throw malformedXml();
            if (!['GET', 'PUT', 'HEAD', 'POST', 'DELETE'].includes(m))
              throw new AwsError(
                400,
                'InvalidRequest',
                `Found unsupported HTTP method in CORS config. Unsupported method is ${m}`,
              );
          }
        }
        b.cors = rules;
        return done;
      }
      case 'GetBucketCors':
        if (!b.cors) throw missing('NoSuchCORSConfiguration', 'The CORS configuration does not exist');
        return this.s3Xml('CORSConfiguration', { CORSRule: b.cors as XIn[] });
      case 'DeleteBucketCors':
        b.cors = null;
        return none;
      case 'PutBucketLifecycleConfiguration': {
        const rules = asList(this.bodyXml(r).Rule).map(asObj);
        if (!rules.length || rules.some((x) => !['Enabled', 'Disabled'].includes(asText(x.Status) ?? '')))
          throw malformedXml();
        if (rules.length > 1000)
          throw new AwsError(
            400,
            'InvalidRequest',
            'The number of lifecycle rules must not exceed the allowed limit of 1000 rules',
          );
        const ids = rules.map((x) => asText(x.ID)).filter((id) => id !== undefined);
        if (new Set(ids).size !== ids.length)
          throw new AwsError(
            400,
            'InvalidRequest',
            'Rule ID must be unique. Found same ID for more than one rule',
          );
        b.lifecycle = rules;
        return done;
      }
      case 'GetBucketLifecycleConfiguration':
        if (!b.lifecycle)
          throw missing('NoSuchLifecycleConfiguration', 'The lifecycle configuration does not exist');
        return {
          ...this.s3Xml('LifecycleConfiguration', { Rule: b.lifecycle as XIn[] }),
          headers: {
            'content-type': 'application/xml',
            'x-amz-transition-default-minimum-object-size': 'all_storage_classes_128K',
          },
        };
      case 'DeleteBucketLifecycle':
        b.lifecycle = null;
        return none;
      case 'PutBucketLogging': {
        const enabled = this.bodyXml(r).LoggingEnabled;
        b.logging = enabled === undefined ? null : asObj(enabled);
        return done;
      }
      case 'GetBucketLogging':
        return this.s3Xml('BucketLoggingStatus', b.logging ? { LoggingEnabled: b.logging as XIn } : {});
      case 'PutBucketVersioning': {
        const status = asText(this.bodyXml(r).Status);
        if (status !== 'Enabled' && status !== 'Suspended') throw malformedXml();
        b.versioning = status;
        return done;
      }
      case 'GetBucketVersioning':
        return this.s3Xml('VersioningConfiguration', b.versioning ? { Status: b.versioning } : {});
      case 'ListObjectVersions':
        return this.listObjectVersions(r, b);
      case 'DeleteObjects':
        return this.deleteObjects(r, b);
      default:
        throw new AwsError(
          501,
          'NotImplemented',
          'A header or query you provided implies functionality that is not implemented.',
        );
    }
  }

  /** Every version in the bucket, S3's order: by key, newest first. */
  private async allVersions(
    b: Bucket,
  ): Promise<Array<{ key: string; v: NoncurrentVersion; latest: boolean }>> {
    const current = new Map<string, { size: number; lastModified: Date }>();
    for (const o of await this.s3rverObjects(b.name)) current.set(o.key, o);
    const keys = [...new Set([...current.keys(), ...b.versions.keys()])].sort();
    const out: Array<{ key: string; v: NoncurrentVersion; latest: boolean }> = [];
    for (const key of keys) {
      const older = [...(b.versions.get(key) ?? [])].reverse();
      const now = current.get(key);
      if (now)
        out.push({
          key,
          v: { versionId: 'null', deleteMarker: false, lastModified: now.lastModified, size: now.size },
          latest: true,
        });
      older.forEach((v, i) => out.push({ key, v, latest: !now && i === 0 }));
    }
    return out;
  }

  private async listObjectVersions(r: Request, b: Bucket): Promise<Reply> {
    const q = r.url.searchParams;
    const prefix = q.get('prefix') ?? '';
    const keyMarker = q.get('key-marker') ?? '';
    const versionMarker = q.get('version-id-marker') ?? '';
    const maxKeys = Math.min(1000, Math.max(0, Number(q.get('max-keys') ?? 1000)));
    let all = (await this.allVersions(b)).filter((e) => e.key.startsWith(prefix));
    if (keyMarker) {
      const i = versionMarker
        ? all.findIndex((e) => e.key === keyMarker && e.v.versionId === versionMarker)
        : -1;
      all = i >= 0 ? all.slice(i + 1) : all.filter((e) => e.key > keyMarker);
    }
    const page = all.slice(0, maxKeys);
    const truncated = all.length > page.length;
    const last = page.at(-1);
    const entry = (e: (typeof page)[number]): XIn => ({
      Key: e.key,
      VersionId: e.v.versionId,
      IsLatest: e.latest,
      LastModified: e.v.lastModified,
      ...(e.v.deleteMarker
        ? {}
        : { ETag: '"d41d8cd98f00b204e9800998ecf8427e"', Size: e.v.size, StorageClass: 'STANDARD' }),
      Owner: { ID: b.owner },
    });
    return this.s3Xml('ListVersionsResult', {
      Name: b.name,
      Prefix: prefix,
      KeyMarker: keyMarker,
      VersionIdMarker: versionMarker,
      MaxKeys: maxKeys,
      IsTruncated: truncated,
      ...(truncated && last ? { NextKeyMarker: last.key, NextVersionIdMarker: last.v.versionId } : {}),
      Version: page.filter((e) => !e.v.deleteMarker).map(entry),
      DeleteMarker: page.filter((e) => e.v.deleteMarker).map(entry),
    });
  }

  private async deleteObjects(r: Request, b: Bucket): Promise<Reply> {
    const body = this.bodyXml(r);
    const objects = asList(body.Object).map(asObj);
    if (!objects.length || objects.length > 1000) throw malformedXml();
    const quiet = asText(body.Quiet) === 'true';
    const deleted: XIn[] = [];
    const errors: XIn[] = [];
    for (const o of objects) {
      const key = asText(o.Key) ?? '';
      const versionId = asText(o.VersionId);
      const action = versionId ? 's3:DeleteObjectVersion' : 's3:DeleteObject';
      const fail = (Code: string, Message: string) =>
        errors.push({ Key: key, ...(versionId ? { VersionId: versionId } : {}), Code, Message });
      if (
        r.principal &&
        !(await this.allowed(r.principal, action, `arn:aws:s3:::${b.name}/${key}`, b.owner))
      ) {
        fail('AccessDenied', 'Access Denied');
        continue;
      }
      if (b.locked.has(key)) {
        fail('AccessDenied', 'Access Denied because object protected by object lock.');
        continue;
      }
      await this.deleteOne(b, key, versionId);
      if (!quiet) deleted.push({ Key: key, ...(versionId ? { VersionId: versionId } : {}) });
    }
    return this.s3Xml('DeleteResult', { Deleted: deleted, Error: errors });
  }

  /** Deletes a version (or, without one, the current object: a versioned bucket keeps it as noncurrent). */
  private async deleteOne(b: Bucket, key: string, versionId: string | undefined): Promise<void> {
    if (versionId && versionId !== 'null') {
      const list = b.versions.get(key) ?? [];
      b.versions.set(
        key,
        list.filter((v) => v.versionId !== versionId),
      );
      if (!b.versions.get(key)!.length) b.versions.delete(key);
      return;
    }
    const exists = (await this.s3rverRequest('HEAD', `/${b.name}/${encodeKey(key)}`)).status === 200;
    if (exists) await this.s3rverRequest('DELETE', `/${b.name}/${encodeKey(key)}`);
    if (!versionId && b.versioning === 'Enabled') {
      const list = b.versions.get(key) ?? [];
      if (exists) list.push({ versionId: upper(32), deleteMarker: false, lastModified: new Date(), size: 0 });
      list.push({ versionId: upper(32), deleteMarker: true, lastModified: new Date(), size: 0 });
      b.versions.set(key, list);
    }
  }

  /** Objects, listing and multipart: s3rver answers, after this fake authorized the call. */
  private async dataPlane(r: Request, b: Bucket): Promise<Reply> {
    if (r.operation === 'DeleteObject') {
      if (b.locked.has(r.key!)) throw accessDenied('Access Denied because object protected by object lock.');
      if (b.versioning === 'Enabled' || r.url.searchParams.has('versionId')) {
        await this.deleteOne(b, r.key!, r.url.searchParams.get('versionId') ?? undefined);
        return { status: 204 };
      }
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.headers)) {
      if (v === undefined || ['host', 'connection', 'content-length', 'transfer-encoding'].includes(k))
        continue;
      headers[k] = Array.isArray(v) ? v.join(',') : v;
    }
    let body = r.body;
    if ((headers['x-amz-content-sha256'] ?? '').startsWith('STREAMING-')) {
      // aws-chunked framing (the SDK's default for checksummed uploads): s3rver would store it verbatim.
      body = decodeAwsChunked(body);
      for (const h of ['x-amz-decoded-content-length', 'x-amz-trailer', 'content-encoding'])
        delete headers[h];
      headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
    }
    if (headers.authorization)
      headers.authorization = headers.authorization.replace(
        /Credential=[^/]+\//,
        `Credential=${S3RVER_KEY.accessKeyId}/`,
      );
    delete headers['x-amz-security-token'];
    const search = new URLSearchParams(r.url.searchParams);
    const credential = search.get('X-Amz-Credential');
    if (credential) search.set('X-Amz-Credential', credential.replace(/^[^/]+/, S3RVER_KEY.accessKeyId));
    search.delete('X-Amz-Security-Token');
    const qs = search.toString();
    const answer = await this.s3rverRequest(
      r.method,
      `${r.url.pathname}${qs ? `?${qs}` : ''}`,
      headers,
      body,
    );
    if (
      answer.status === 404 &&
      (r.operation === 'GetObject' || r.operation === 'HeadObject') &&
      r.principal &&
      !(await this.allowed(r.principal, 's3:ListBucket', `arn:aws:s3:::${b.name}`, b.owner))
    )
      throw accessDenied(); // without s3:ListBucket, S3 does not tell a missing key from a forbidden one
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(answer.headers)) {
      if (v === undefined || ['connection', 'transfer-encoding', 'keep-alive', 'date'].includes(k)) continue;
      out[k] = Array.isArray(v) ? v.join(',') : v;
    }
    return { status: answer.status, headers: out, body: answer.body };
  }

  // -------------------------------------------------------------------------------------------------------
  // s3rver.

  private s3rverRequest(
    method: string,
    pathAndQuery: string,
    headers: Record<string, string> = {},
    body?: Buffer,
  ): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> {
    const target = new URL(this.s3rver!.endpoint);
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: target.hostname,
          port: target.port,
          method,
          path: pathAndQuery,
          headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 500, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  private async s3rverBucket(what: 'create' | 'delete', name: string): Promise<void> {
    const r = await this.s3rverRequest(what === 'create' ? 'PUT' : 'DELETE', `/${name}`);
    if (r.status >= 300 && !(what === 'create' && r.status === 409))
      throw new Error(`s3rver ${what} bucket ${name}: ${r.status} ${r.body.toString()}`);
  }

  /** Every object s3rver holds in the bucket (ListObjects v1 with markers: s3rver's v2 tokens break past 1000). */
  private async s3rverObjects(
    bucket: string,
  ): Promise<Array<{ key: string; size: number; lastModified: Date }>> {
    const out: Array<{ key: string; size: number; lastModified: Date }> = [];
    let marker = '';
    for (;;) {
      const r = await this.s3rverRequest(
        'GET',
        `/${bucket}?max-keys=1000${marker ? `&marker=${encodeURIComponent(marker)}` : ''}`,
      );
      if (r.status === 404) return out;
      if (r.status !== 200) throw new Error(`s3rver list ${bucket}: ${r.status}`);
      const listed = asObj(toObj(parseXml(r.body.toString('utf8'))));
      const contents = asList(listed.Contents).map(asObj);
      for (const c of contents)
        out.push({
          key: asText(c.Key) ?? '',
          size: Number(asText(c.Size) ?? 0),
          lastModified: new Date(asText(c.LastModified) ?? 0),
        });
      if (asText(listed.IsTruncated) !== 'true' || !contents.length) return out;
      marker = out.at(-1)!.key;
    }
  }

  private async s3rverKeys(bucket: string): Promise<string[]> {
    return (await this.s3rverObjects(bucket)).map((o) => o.key);
  }
}

/** Starts a fake (with its own s3rver unless given one). */
export async function startAwsHttp(options: AwsHttpOptions = {}): Promise<AwsHttpFake> {
  return new AwsHttpFake(options).start();
}

// ---------------------------------------------------------------------------------------------------------

function header(headers: IncomingMessage['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

const encodeKey = (key: string): string => key.split('/').map(encodeURIComponent).join('/');

/** SigV4 from the Authorization header or a presigned URL's query (parsed, not verified). */
function parseAuth(headers: IncomingMessage['headers'], url: URL): Auth | undefined {
  const authorization = header(headers, 'authorization');
  let credential: string | undefined;
  let token = header(headers, 'x-amz-security-token');
  if (authorization?.startsWith('AWS4-HMAC-SHA256 ')) {
    credential = /Credential=([^,\s]+)/.exec(authorization)?.[1];
  } else if (url.searchParams.get('X-Amz-Algorithm') === 'AWS4-HMAC-SHA256') {
    credential = url.searchParams.get('X-Amz-Credential') ?? undefined;
    token ??= url.searchParams.get('X-Amz-Security-Token') ?? undefined;
  }
  if (!credential) return undefined;
  const [accessKeyId = '', , region = 'us-east-1', service = 's3'] = credential.split('/');
  return { accessKeyId, region, service, sessionToken: token };
}

/** Decodes aws-chunked framing: `<hex size>[;chunk-signature=…]\r\n<data>\r\n` … `0…\r\n[trailers]\r\n`. */
function decodeAwsChunked(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let i = 0;
  while (i < body.length) {
    const eol = body.indexOf('\r\n', i);
    if (eol < 0) break;
    const size = parseInt(body.subarray(i, eol).toString('latin1').split(';')[0]!, 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(body.subarray(eol + 2, eol + 2 + size));
    i = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
