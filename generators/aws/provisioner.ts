/**
 * AWS: a private bucket and a least-privilege IAM user for Arches, planned from read-only calls, then applied
 * as a dependency graph. Every step is idempotent or adopts what a previous run made (recorded in
 * .yo-rc.json, or recognised by its tags), so a run that failed halfway is completed by the next one.
 *
 * Ownership is proved, not assumed: every bucket call carries ExpectedBucketOwner (the caller's account), so
 * a bucket of another account answers 403 however readable it is. An existing bucket is adopted additively:
 * its configuration is read first, the owner's tags, encryption, bucket policy and CORS rules are kept (ours
 * merged in, or the run refuses and says why), lifecycle, logging and versioning are never touched, and the
 * state records in typed fields exactly what this generator put, so teardown removes only that.
 */
import { isDeepStrictEqual } from 'node:util';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  GetUserCommand,
  ListAccessKeysCommand,
  GetUserPolicyCommand,
  ListUserPoliciesCommand,
  ListUserTagsCommand,
  PutUserPolicyCommand,
  type IAMClient,
  type Tag as IamTag,
} from '@aws-sdk/client-iam';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketCorsCommand,
  DeleteBucketPolicyCommand,
  DeleteBucketTaggingCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketCorsCommand,
  GetBucketEncryptionCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutBucketCorsCommand,
  PutBucketEncryptionCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutPublicAccessBlockCommand,
  type CORSRule,
  type PublicAccessBlockConfiguration,
  type S3Client,
  type Tag,
} from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import {
  awsPublicReadBucketPolicy,
  awsUserPolicy,
  partitionForRegion,
  s3CorsConfiguration,
} from '../../lib/policies.js';
import { UserError, type StorageAnswers } from '../../lib/types.js';
import { isCredentialProblem, signInError } from '../../lib/provision/clients.js';
import { probeBucket, PROBE_KEY, type ProbeOptions } from '../../lib/provision/probe.js';
import {
  adoptedBucketKept,
  describeError,
  errorName,
  httpStatus,
  type RunnableStep,
} from '../../lib/provision/runner.js';
import {
  orderedBucket,
  type AccessKey,
  type AwsClients,
  type BucketState,
  type PlannedCall,
  type ProvisionPlan,
  type ProvisionedState,
  type StepId,
} from '../../lib/provision/types.js';

export const MANAGED_BY = { Key: 'managed-by', Value: 'generator-arches-storage' } as const;
export const PROJECT_TAG = 'arches-project';
export const USER_POLICY_NAME = 'arches-storage-media';
/** The ID of the CORS rule this generator puts, so it can find (and remove) exactly its own rule. */
export const CORS_RULE_ID = 'arches-storage';
/** AWS limits: CORS rules per bucket, tags per bucket, bucket policy size. */
const MAX_CORS_RULES = 100;
const MAX_BUCKET_TAGS = 50;
const MAX_POLICY_BYTES = 20 * 1024;

export interface AwsInput {
  answers: StorageAnswers;
  pkg: string;
  state: ProvisionedState;
  rotateKey: boolean;
  /** --adopt-user: an existing user not tagged as this project's may get the policy and a key. */
  adoptUser?: boolean;
  /** --profile, named in the sign-in message. */
  profile?: string;
  /** The app key found in settings_local.py or the secrets file, to probe with when no new key is made. */
  knownKey?: AccessKey;
  probe?: ProbeOptions;
}

interface PolicyDocument {
  Version?: string;
  Id?: string;
  Statement: Array<Record<string, unknown>>;
}

/** An existing bucket's configuration, read before planning (undefined fields: none set). */
export interface BucketConfig {
  tags: Tag[];
  cors: CORSRule[];
  /** Whether the service answers CORS calls at all (S3-compatible services may not). */
  corsSupported: boolean;
  policy?: PolicyDocument;
  publicAccessBlock?: PublicAccessBlockConfiguration;
  ownership?: string;
  encryption?: { algorithm: string; kmsKeyId?: string };
}

/** What read-only calls found. */
export interface AwsDiscovery {
  accountId: string;
  callerArn: string;
  bucket: 'free' | 'ours';
  /** Read only for a bucket that exists. */
  config?: BucketConfig;
  user: {
    exists: boolean;
    arn?: string;
    keys: Array<{ id: string; created?: Date }>;
    policies: string[];
    /** Our inline policy's document as IAM holds it, when the user has one by our name. */
    policyDocument?: unknown;
    tags: IamTag[];
    /** Tagged as made by this generator for this project. */
    ours: boolean;
  };
}

/** Hooks the generator gives: persist state at once (so a failure keeps it), store a new secret at once. */
export interface AwsHooks {
  saveState(state: ProvisionedState): void;
  saveSecret(key: AccessKey): void;
  warn(message: string): void;
  /** The probe passed after this many seconds (reported, not recorded: it differs every run). */
  verified(seconds: number): void;
}

const owner = (accountId: string | undefined): { ExpectedBucketOwner?: string } =>
  accountId ? { ExpectedBucketOwner: accountId } : {};

const isNotFound = (e: unknown, ...names: string[]): boolean =>
  names.includes(errorName(e)) || httpStatus(e) === 404;

const unsupported = (e: unknown): boolean =>
  ['NotImplemented', 'MethodNotAllowed', 'XNotImplemented'].includes(errorName(e)) ||
  httpStatus(e) === 501 ||
  httpStatus(e) === 405;

/**
 * HeadBucket with ExpectedBucketOwner: 200 ours, 404 free, 403 another account's (or one we may not read:
 * the same for us, since a bucket we cannot prove is ours is never written to).
 */
export async function bucketStatus(
  s3: S3Client,
  bucket: string,
  accountId?: string,
): Promise<'free' | 'ours' | 'taken'> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket, ...owner(accountId) }));
    return 'ours';
  } catch (error) {
    if (errorName(error) === 'NotFound' || errorName(error) === 'NoSuchBucket' || httpStatus(error) === 404)
      return 'free';
    if (httpStatus(error) === 403 || errorName(error) === 'Forbidden') return 'taken';
    throw error;
  }
}

async function suggestFreeName(s3: S3Client, bucket: string, accountId: string): Promise<string | undefined> {
  const suffix = `-${accountId.slice(-6)}`;
  const candidate = bucket.slice(0, 63 - suffix.length).replace(/[.-]+$/, '') + suffix;
  return (await bucketStatus(s3, candidate, accountId).catch(() => 'taken')) === 'free'
    ? candidate
    : undefined;
}

/** One read of the bucket's configuration; "not set" answers become undefined, a denial names the action. */
async function readOne<T>(
  bucket: string,
  action: string,
  read: () => Promise<T>,
  absent: string[],
): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (isNotFound(error, ...absent)) return undefined;
    if (errorName(error) === 'AccessDenied' || httpStatus(error) === 403) {
      throw new UserError(
        `Reading bucket ${bucket}'s configuration was denied (${action}: ${describeError(error)}). The ` +
          `generator reads an existing bucket's settings before changing anything, so it never overwrites ` +
          `them: allow ${action} to the credentials you provision with (see the operator policy in the README). ` +
          `Nothing was created.`,
        'bucket',
        1,
      );
    }
    throw error;
  }
}

/** Reads tags, CORS, policy, public access block, ownership and encryption of an existing bucket. */
export async function readBucketConfig(
  s3: S3Client,
  bucket: string,
  accountId?: string,
): Promise<BucketConfig> {
  const o = { Bucket: bucket, ...owner(accountId) };
  let corsSupported = true;
  const [tags, cors, policy, pab, ownership, encryption] = await Promise.all([
    readOne(
      bucket,
      's3:GetBucketTagging',
      async () => (await s3.send(new GetBucketTaggingCommand(o))).TagSet ?? [],
      ['NoSuchTagSet'],
    ),
    readOne(
      bucket,
      's3:GetBucketCORS',
      async () => {
        try {
          return (await s3.send(new GetBucketCorsCommand(o))).CORSRules ?? [];
        } catch (error) {
          if (!unsupported(error)) throw error;
          corsSupported = false;
          return [];
        }
      },
      ['NoSuchCORSConfiguration'],
    ),
    readOne(
      bucket,
      's3:GetBucketPolicy',
      async () => JSON.parse((await s3.send(new GetBucketPolicyCommand(o))).Policy ?? '{}') as PolicyDocument,
      ['NoSuchBucketPolicy'],
    ),
    readOne(
      bucket,
      's3:GetBucketPublicAccessBlock',
      async () => (await s3.send(new GetPublicAccessBlockCommand(o))).PublicAccessBlockConfiguration,
      ['NoSuchPublicAccessBlockConfiguration'],
    ),
    readOne(
      bucket,
      's3:GetBucketOwnershipControls',
      async () =>
        (await s3.send(new GetBucketOwnershipControlsCommand(o))).OwnershipControls?.Rules?.[0]
          ?.ObjectOwnership,
      ['OwnershipControlsNotFoundError'],
    ),
    readOne(
      bucket,
      's3:GetEncryptionConfiguration',
      async () => {
        const rule = (await s3.send(new GetBucketEncryptionCommand(o))).ServerSideEncryptionConfiguration
          ?.Rules?.[0]?.ApplyServerSideEncryptionByDefault;
        return rule?.SSEAlgorithm
          ? { algorithm: String(rule.SSEAlgorithm), kmsKeyId: rule.KMSMasterKeyID }
          : undefined;
      },
      ['ServerSideEncryptionConfigurationNotFoundError'],
    ),
  ]);
  return {
    tags: tags ?? [],
    cors: cors ?? [],
    corsSupported,
    ...(policy && Array.isArray(policy.Statement) ? { policy } : {}),
    ...(pab ? { publicAccessBlock: pab } : {}),
    ...(ownership ? { ownership } : {}),
    ...(encryption ? { encryption } : {}),
  };
}

const tagsOurs = (tags: readonly IamTag[], pkg: string): boolean =>
  tags.some((t) => t.Key === MANAGED_BY.Key && t.Value === MANAGED_BY.Value) &&
  tags.some((t) => t.Key === PROJECT_TAG && t.Value === pkg);

const tagText = (tags: readonly IamTag[]): string =>
  tags.length ? tags.map((t) => `${t.Key}=${t.Value}`).join(', ') : 'none';

function foreignUser(userName: string, pkg: string, tags: readonly IamTag[], when: string): UserError {
  return new UserError(
    `IAM user "${userName}" ${when} but was not created by this generator for project ${pkg} (its tags: ` +
      `${tagText(tags)}; ours are ${MANAGED_BY.Key}=${MANAGED_BY.Value} and ${PROJECT_TAG}=${pkg}). It is never ` +
      `given a policy or a key: choose another name with --iam-user, or pass --adopt-user to let the generator ` +
      `use it. Nothing was created.`,
    'iam-user',
    1,
  );
}

async function userTags(iam: IAMClient, userName: string): Promise<IamTag[]> {
  return (await iam.send(new ListUserTagsCommand({ UserName: userName }))).Tags ?? [];
}

/** An inline policy document as GetUserPolicy returns it: URL-encoded JSON (undefined if unreadable). */
function parsePolicyDocument(document: string): unknown {
  try {
    return JSON.parse(decodeURIComponent(document)) as unknown;
  } catch {
    return undefined;
  }
}

export async function discoverAws(clients: AwsClients, input: AwsInput): Promise<AwsDiscovery> {
  const { answers: a } = input;
  const bucket = a.bucket!;
  const userName = a.iamUser!;
  const identity = await clients.sts.send(new GetCallerIdentityCommand({})).catch((error: unknown) => {
    if (isCredentialProblem(error)) throw signInError(error, 'AWS', input.profile);
    throw error;
  });
  const accountId = identity.Account!;
  if (input.state.accountId && input.state.accountId !== accountId) {
    throw new UserError(
      `These credentials are for AWS account ${accountId}, but .yo-rc.json records resources in account ` +
        `${input.state.accountId}. Use --profile to pick the right account. Nothing was created.`,
      'profile',
    );
  }
  const found = await bucketStatus(clients.s3, bucket, accountId);
  if (found === 'taken') {
    const free = await suggestFreeName(clients.s3, bucket, accountId);
    throw new UserError(
      `Bucket name "${bucket}" is taken by another AWS account or not readable by you (HeadBucket with ` +
        `ExpectedBucketOwner=${accountId} answered 403). Bucket names are global: choose another with ` +
        `--bucket${free ? `, e.g. --bucket ${free} (free right now)` : ''}. Nothing was created.`,
      'bucket',
      2,
    );
  }
  const config = found === 'ours' ? await readBucketConfig(clients.s3, bucket, accountId) : undefined;
  let user: AwsDiscovery['user'] = { exists: false, keys: [], policies: [], tags: [], ours: false };
  try {
    const got = await clients.iam.send(new GetUserCommand({ UserName: userName }));
    const tags = await userTags(clients.iam, userName);
    const ours = tagsOurs(tags, input.pkg);
    if (!ours && !input.adoptUser) throw foreignUser(userName, input.pkg, tags, 'exists');
    const keys = await clients.iam.send(new ListAccessKeysCommand({ UserName: userName }));
    const policies = await clients.iam.send(new ListUserPoliciesCommand({ UserName: userName }));
    // Read, so that a re-run whose policy is already in place changes nothing (IAM answers it URL-encoded).
    const document = (policies.PolicyNames ?? []).includes(USER_POLICY_NAME)
      ? (
          await clients.iam.send(
            new GetUserPolicyCommand({ UserName: userName, PolicyName: USER_POLICY_NAME }),
          )
        ).PolicyDocument
      : undefined;
    user = {
      exists: true,
      arn: got.User?.Arn,
      keys: (keys.AccessKeyMetadata ?? []).map((k) => ({ id: k.AccessKeyId!, created: k.CreateDate })),
      policies: policies.PolicyNames ?? [],
      ...(document ? { policyDocument: parsePolicyDocument(document) } : {}),
      tags,
      ours,
    };
  } catch (error) {
    if (errorName(error) !== 'NoSuchEntityException' && errorName(error) !== 'NoSuchEntity') throw error;
  }
  return { accountId, callerArn: identity.Arn!, bucket: found, ...(config ? { config } : {}), user };
}

const call = (
  service: PlannedCall['service'],
  command: string,
  input: Record<string, unknown>,
): PlannedCall => ({
  service,
  command,
  input,
});

/** A JSON form that ignores key order, to compare documents. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

const list = (v: unknown): string[] =>
  Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)];
const covers = (have: unknown, want: readonly string[]): boolean => {
  const set = new Set(list(have));
  return set.has('*') || want.every((w) => set.has(w));
};

/** Our CORS rule, with its ID so that a later run (and teardown) finds exactly it. */
export function ourCorsRule(origins: readonly string[]): CORSRule {
  return { ID: CORS_RULE_ID, ...s3CorsConfiguration(origins).CORSRules[0]! } as CORSRule;
}

export interface CorsMerge {
  /** The configuration to put, or undefined when nothing needs to change. */
  rules?: CORSRule[];
  origin: 'created' | 'merged';
  /** What the plan says about it. */
  fact: string;
}

/**
 * Our rule merged into the owner's: replaced by ID, nothing to do when an existing rule already allows what
 * ours does, appended otherwise; refused (UserError) when S3's limit of 100 rules leaves no room.
 */
export function mergeCors(
  bucket: string,
  existing: readonly CORSRule[],
  ours: CORSRule,
  legacyOurs: boolean,
): CorsMerge {
  const origin: 'created' | 'merged' = existing.length ? 'merged' : 'created';
  const byId = existing.findIndex((r) => r.ID === CORS_RULE_ID);
  if (byId >= 0) {
    if (canonical(existing[byId]) === canonical(ours))
      return { origin, fact: `CORS: our rule is in place (${existing.length} rule(s))` };
    const rules = existing.map((r, i) => (i === byId ? ours : r));
    return { rules, origin, fact: `CORS: our rule "${CORS_RULE_ID}" is updated, the other rules are kept` };
  }
  const wanted = ours.AllowedOrigins ?? [];
  const covering = existing.find(
    (r) =>
      covers(r.AllowedOrigins, wanted) &&
      covers(r.AllowedMethods, ours.AllowedMethods ?? []) &&
      covers(r.AllowedHeaders, ['*']) &&
      covers(r.ExposeHeaders, ours.ExposeHeaders ?? []),
  );
  if (covering && !legacyOurs)
    return { origin, fact: `CORS: an existing rule already allows GET/HEAD from ${wanted.join(', ')}: kept` };
  if (legacyOurs && existing.length === 1 && !existing[0]!.ID) {
    // A rule this generator put before rules had an ID: the whole configuration is ours.
    return {
      rules: [ours],
      origin: 'created',
      fact: 'CORS: our earlier rule is replaced by one with an ID',
    };
  }
  if (existing.length >= MAX_CORS_RULES) {
    throw new UserError(
      `Bucket ${bucket} already has ${existing.length} CORS rules, the most S3 allows, and none allows GET/HEAD ` +
        `from ${wanted.join(', ')}: ours cannot be added without removing one of yours. Add these origins to ` +
        `one of your rules yourself (see arches-storage/cors.json), then run again. Nothing was created.`,
      'cors-origin',
      1,
    );
  }
  return {
    rules: [...existing, ours],
    origin,
    fact: existing.length
      ? `CORS: ${existing.length} existing rule(s) kept, ours added`
      : 'CORS: the bucket has none: ours is put',
  };
}

/** Our tags added to the owner's: theirs kept (a different value on one of our keys is kept, with a warning). */
export function mergeTags(
  existing: readonly Tag[],
  ours: readonly Tag[],
): { tags?: Tag[]; added: string[]; conflicts: string[] } {
  const have = new Map(existing.map((t) => [t.Key, t.Value]));
  const added = ours.filter((t) => !have.has(t.Key)).map((t) => t.Key!);
  const conflicts = ours.filter((t) => have.has(t.Key) && have.get(t.Key) !== t.Value).map((t) => t.Key!);
  if (!added.length) return { added, conflicts };
  return {
    tags: [...existing, ...ours.filter((t) => added.includes(t.Key!))].map((t) => ({
      Key: t.Key,
      Value: t.Value,
    })),
    added,
    conflicts,
  };
}

const samePab = (a: PublicAccessBlockConfiguration | undefined, b: PublicAccessBlockConfiguration): boolean =>
  !!a &&
  (['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'] as const).every(
    (k) => (a[k] ?? false) === b[k],
  );

function pabChange(a: PublicAccessBlockConfiguration | undefined, b: PublicAccessBlockConfiguration): string {
  if (!a) return 'none set → all four set as planned';
  return (['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'] as const)
    .filter((k) => (a[k] ?? false) !== b[k])
    .map((k) => `${k} ${a[k] ? 'on' : 'off'} → ${b[k] ? 'on' : 'off'}`)
    .join(', ');
}

/** The plan, with each step's SDK calls; `run` closures carry them out. */
export function planAws(
  clients: AwsClients,
  input: AwsInput,
  found: AwsDiscovery,
  hooks: AwsHooks,
): { plan: ProvisionPlan; steps: RunnableStep[]; state: ProvisionedState } {
  const a = input.answers;
  const bucket = a.bucket!;
  const region = a.region!;
  const userName = a.iamUser!;
  const partition = partitionForRegion(region);
  const bucketArn = `arn:${partition}:s3:::${bucket}`;
  const o = owner(found.accountId);
  const state: ProvisionedState = {
    ...input.state,
    accountId: found.accountId,
    callerArn: found.callerArn,
    region,
  };
  const save = (): void => {
    if (state.bucket) state.bucket = orderedBucket(state.bucket);
    hooks.saveState(structuredClone(state));
  };
  const recorded: BucketState | undefined =
    input.state.bucket?.name === bucket ? input.state.bucket : undefined;
  /** Ours to configure as we like: we create it now, or our state says we created it. */
  const mine = found.bucket === 'free' || recorded?.created === true;
  /** Old state (before typed fields): everything on a bucket we created was put by us. */
  const legacy = mine && recorded !== undefined && recorded.publicAccessBlock === undefined;
  const config = found.config;
  const record = (patch: Partial<BucketState>): void => {
    state.bucket = { ...state.bucket!, ...patch };
    save();
  };
  const facts: string[] = [`AWS account ${found.accountId} (${found.callerArn})`];
  const tags = [
    { Key: PROJECT_TAG, Value: input.pkg },
    { Key: MANAGED_BY.Key, Value: MANAGED_BY.Value },
  ];
  const userPolicy = awsUserPolicy(bucket, partition);
  /** The user already holds exactly this policy under our name: nothing to put. */
  const policyInPlace =
    found.user.policyDocument !== undefined && isDeepStrictEqual(found.user.policyDocument, userPolicy);
  const publicPolicy = a.publicRead ? awsPublicReadBucketPolicy(bucket, partition) : undefined;
  const steps: RunnableStep[] = [];
  const add = (
    id: StepId,
    title: string,
    needs: StepId[],
    calls: PlannedCall[],
    run: () => Promise<void>,
  ): void => {
    steps.push({ id, title, needs, calls, run });
  };
  /** Fields known at plan time to be kept as they are (recorded when the bucket step finishes). */
  const kept: Partial<BucketState> = {};

  if (found.bucket === 'ours') {
    facts.push(
      mine
        ? `bucket ${bucket} exists and was created by this generator`
        : `bucket ${bucket} exists and is yours (ExpectedBucketOwner=${found.accountId}): adopted, its settings are kept; only additions below`,
    );
    if (!mine) facts.push('lifecycle rules, logging and versioning are never touched');
  } else facts.push(`bucket ${bucket} is free`);

  // The bucket first: a name taken meanwhile stops the run before the user exists.
  const createInput: Record<string, unknown> = {
    Bucket: bucket,
    ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region } }),
  };
  add(
    'create-bucket',
    found.bucket === 'ours' ? `Adopt bucket ${bucket}` : `Create bucket ${bucket} in ${region}`,
    [],
    found.bucket === 'ours'
      ? [call('s3', 'HeadBucket', { Bucket: bucket, ...o })]
      : [call('s3', 'CreateBucket', createInput)],
    async () => {
      if (found.bucket !== 'ours') {
        try {
          await clients.s3.send(new CreateBucketCommand(createInput as never));
        } catch (error) {
          if (errorName(error) === 'BucketAlreadyExists') {
            throw new UserError(
              `Bucket name "${bucket}" was taken by another AWS account meanwhile: choose another with --bucket.`,
              'bucket',
              2,
            );
          }
          if (errorName(error) !== 'BucketAlreadyOwnedByYou') throw error;
        }
      } else {
        // Still ours: between discovery and now it could have changed hands.
        await clients.s3.send(new HeadBucketCommand({ Bucket: bucket, ...o }));
      }
      state.bucket = {
        ...recorded,
        ...kept,
        name: bucket,
        arn: bucketArn,
        created: recorded?.created ?? found.bucket !== 'ours',
      };
      delete state.bucket.configured;
      save();
    },
  );

  // Public access block: what we want is always at least as private as before, except the two flags
  // --public-read relaxes (and only with it).
  const pab = {
    BlockPublicAcls: true,
    IgnorePublicAcls: true,
    BlockPublicPolicy: !a.publicRead,
    RestrictPublicBuckets: !a.publicRead,
  };
  const pabNeeded =
    !config || !samePab(config.publicAccessBlock, pab) || (mine && recorded?.publicAccessBlock === undefined);
  if (config && !pabNeeded) kept.publicAccessBlock = recorded?.publicAccessBlock ?? 'kept';
  else if (config) facts.push(`public access block: ${pabChange(config.publicAccessBlock, pab) || 'set'}`);

  // The bucket policy: ours is one statement (Sid), merged into the owner's policy, removed by Sid.
  const ourSids = recorded?.policySids ?? [];
  const ourStatement = publicPolicy?.Statement[0] as unknown as Record<string, unknown> | undefined;
  const existingPolicy = config?.policy;
  let policyPut: PolicyDocument | undefined;
  let policyDelete = false;
  let policyOrigin: 'created' | 'merged' | undefined;
  if (ourStatement) {
    const sid = String(ourStatement.Sid);
    if (!existingPolicy) {
      policyPut = publicPolicy as unknown as PolicyDocument;
      policyOrigin = 'created';
    } else {
      const at = existingPolicy.Statement.findIndex((s) => s.Sid === sid);
      if (at >= 0 && canonical(existingPolicy.Statement[at]) === canonical(ourStatement)) {
        facts.push(`bucket policy: the statement ${sid} is in place`);
      } else if (at >= 0 && !ourSids.includes(sid)) {
        throw new UserError(
          `Bucket ${bucket}'s policy already has a statement "${sid}" that this generator did not write: it is ` +
            `kept, so --public-read cannot add its own. Rename or remove that statement, or run without ` +
            `--public-read. Nothing was created.`,
          'public-read',
          1,
        );
      } else {
        const statements = [...existingPolicy.Statement];
        if (at >= 0) statements[at] = ourStatement;
        else statements.push(ourStatement);
        policyPut = { ...existingPolicy, Statement: statements };
        policyOrigin = recorded?.policy ?? 'merged';
        facts.push(
          `bucket policy: ${existingPolicy.Statement.length} existing statement(s) kept, ${sid} ${at >= 0 ? 'updated' : 'added'}`,
        );
      }
      if (policyPut && JSON.stringify(policyPut).length > MAX_POLICY_BYTES) {
        throw new UserError(
          `Bucket ${bucket}'s policy would exceed S3's 20 KB limit with the public-read statement added: it is ` +
            `kept as it is. Make room in it, or run without --public-read. Nothing was created.`,
          'public-read',
          1,
        );
      }
    }
  } else if (existingPolicy) {
    // Back to private: remove only statements we wrote (by recorded Sid; old state: our exact statement).
    const legacyStatement = awsPublicReadBucketPolicy(bucket, partition).Statement[0] as unknown as Record<
      string,
      unknown
    >;
    const rest = existingPolicy.Statement.filter(
      (s) =>
        !(ourSids.includes(String(s.Sid)) || (legacy && mine && canonical(s) === canonical(legacyStatement))),
    );
    if (rest.length !== existingPolicy.Statement.length) {
      if (rest.length) policyPut = { ...existingPolicy, Statement: rest };
      else policyDelete = true;
      facts.push(
        `bucket policy: our public-read statement is removed${rest.length ? `, ${rest.length} other statement(s) kept` : ''}`,
      );
    } else facts.push('bucket policy: kept as it is (none of its statements is ours)');
  }
  const policyStep = policyPut !== undefined || policyDelete;
  // Going private removes our public statement before access is blocked again; going public needs the
  // block relaxed first.
  const relaxing = ourStatement !== undefined;
  if (policyStep) {
    add(
      'bucket-policy',
      policyDelete
        ? 'Delete our public-read bucket policy'
        : relaxing
          ? 'Put the public-read bucket policy statement'
          : 'Remove our public-read statement from the bucket policy',
      relaxing && pabNeeded ? ['create-bucket', 'public-access-block'] : ['create-bucket'],
      [
        policyDelete
          ? call('s3', 'DeleteBucketPolicy', { Bucket: bucket, ...o })
          : call('s3', 'PutBucketPolicy', { Bucket: bucket, Policy: policyPut, ...o }),
      ],
      async () => {
        if (policyDelete) await clients.s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket, ...o }));
        else
          await clients.s3.send(
            new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policyPut), ...o }),
          );
        if (relaxing)
          record({ policy: policyOrigin, policySids: [...new Set([...ourSids, String(ourStatement.Sid)])] });
        else record({ policy: undefined, policySids: undefined });
      },
    );
  }
  if (pabNeeded) {
    add(
      'public-access-block',
      a.publicRead ? 'Block public ACLs (public policy allowed: --public-read)' : 'Block all public access',
      policyStep && !relaxing ? ['create-bucket', 'bucket-policy'] : ['create-bucket'],
      [call('s3', 'PutPublicAccessBlock', { Bucket: bucket, PublicAccessBlockConfiguration: pab, ...o })],
      async () => {
        await clients.s3.send(
          new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: pab, ...o }),
        );
        record({ publicAccessBlock: 'set' });
      },
    );
  }

  // Ownership: ACLs off (BucketOwnerEnforced) is the most private setting; anything else is tightened.
  const ownership = { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' as const }] };
  const ownershipNeeded =
    !config || config.ownership !== 'BucketOwnerEnforced' || (mine && recorded?.ownership === undefined);
  if (config && !ownershipNeeded) kept.ownership = recorded?.ownership ?? 'kept';
  else if (config) facts.push(`object ownership: ${config.ownership ?? 'none set'} → BucketOwnerEnforced`);
  if (ownershipNeeded) {
    add(
      'ownership',
      'Disable ACLs (BucketOwnerEnforced)',
      ['create-bucket'],
      [call('s3', 'PutBucketOwnershipControls', { Bucket: bucket, OwnershipControls: ownership, ...o })],
      async () => {
        await clients.s3.send(
          new PutBucketOwnershipControlsCommand({ Bucket: bucket, OwnershipControls: ownership, ...o }),
        );
        record({ ownership: 'set' });
      },
    );
  }

  // Default encryption: a bucket that has one keeps it (SSE-KMS stays SSE-KMS).
  const encryption = { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' as const } }] };
  const existingEncryption = config?.encryption;
  const encryptionNeeded =
    !config ||
    !existingEncryption ||
    (mine &&
      recorded?.encryption === undefined &&
      existingEncryption.algorithm === 'AES256' &&
      !existingEncryption.kmsKeyId);
  if (!encryptionNeeded) {
    kept.encryption = recorded?.encryption ?? 'kept';
    facts.push(
      `default encryption ${existingEncryption!.algorithm}${existingEncryption!.kmsKeyId ? ` (${existingEncryption!.kmsKeyId})` : ''}: kept`,
    );
  }
  if (encryptionNeeded) {
    add(
      'encryption',
      'Default encryption (SSE-S3)',
      ['create-bucket'],
      [
        call('s3', 'PutBucketEncryption', {
          Bucket: bucket,
          ServerSideEncryptionConfiguration: encryption,
          ...o,
        }),
      ],
      async () => {
        await clients.s3.send(
          new PutBucketEncryptionCommand({
            Bucket: bucket,
            ServerSideEncryptionConfiguration: encryption,
            ...o,
          }),
        );
        record({ encryption: 'set' });
      },
    );
  }

  // CORS: our rule merged into the owner's.
  const corsRule = ourCorsRule(a.corsOrigins);
  const cors = mergeCors(bucket, config?.cors ?? [], corsRule, legacy && recorded?.corsRuleId === undefined);
  if (config) facts.push(cors.fact);
  if (cors.rules) {
    const configuration = { CORSRules: cors.rules };
    add(
      'cors',
      `CORS for ${a.corsOrigins.join(', ')}`,
      ['create-bucket'],
      [call('s3', 'PutBucketCors', { Bucket: bucket, CORSConfiguration: configuration, ...o })],
      async () => {
        await clients.s3.send(
          new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: configuration, ...o }),
        );
        record({ cors: recorded?.cors ?? cors.origin, corsRuleId: CORS_RULE_ID });
      },
    );
  }

  // Tags: ours added, theirs kept.
  const merged = mergeTags(config?.tags ?? [], tags);
  for (const k of merged.conflicts)
    hooks.warn(`bucket ${bucket} already has tag ${k} with another value: it is kept as it is`);
  if (merged.tags && merged.tags.length > MAX_BUCKET_TAGS) {
    hooks.warn(`bucket ${bucket} has ${config?.tags.length} tags: ours would exceed S3's 50; not tagged`);
  } else if (merged.tags) {
    const tagging = { TagSet: merged.tags };
    if (config?.tags.length)
      facts.push(`tags: ${config.tags.length} existing kept, ours added (${merged.added.join(', ')})`);
    add(
      'tags',
      'Tag the bucket',
      ['create-bucket'],
      [call('s3', 'PutBucketTagging', { Bucket: bucket, Tagging: tagging, ...o })],
      async () => {
        await clients.s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: tagging, ...o }));
        record({ tags: [...new Set([...(recorded?.tags ?? []), ...merged.added])] });
      },
    );
  }

  // The app identity, while the bucket is being configured.
  const recordedUser = input.state.user?.name === userName ? input.state.user : undefined;
  add(
    'create-user',
    found.user.exists ? `Adopt IAM user ${userName}` : `Create IAM user ${userName}`,
    ['create-bucket'],
    found.user.exists
      ? [call('iam', 'GetUser', { UserName: userName })]
      : [call('iam', 'CreateUser', { UserName: userName, Tags: tags })],
    async () => {
      let arn = found.user.arn;
      let created = found.user.exists ? (recordedUser?.created ?? found.user.ours) : true;
      if (!found.user.exists) {
        try {
          arn = (await clients.iam.send(new CreateUserCommand({ UserName: userName, Tags: tags }))).User?.Arn;
        } catch (error) {
          if (errorName(error) !== 'EntityAlreadyExistsException') throw error;
          // Someone made it between discovery and now: ours only if its tags say so.
          const theirs = await userTags(clients.iam, userName);
          const ours = tagsOurs(theirs, input.pkg);
          if (!ours && !input.adoptUser)
            throw foreignUser(userName, input.pkg, theirs, 'was created meanwhile');
          created = ours;
          arn = (await clients.iam.send(new GetUserCommand({ UserName: userName }))).User?.Arn;
        }
      }
      state.user = {
        name: userName,
        arn: arn ?? `arn:${partition}:iam::${found.accountId}:user/${userName}`,
        created,
        ...(state.user?.policyName || policyInPlace ? { policyName: USER_POLICY_NAME } : {}),
      };
      save();
    },
  );
  if (!policyInPlace)
    add(
      'user-policy',
      `Attach the least-privilege policy ${USER_POLICY_NAME}`,
      ['create-user'],
      [
        call('iam', 'PutUserPolicy', {
          UserName: userName,
          PolicyName: USER_POLICY_NAME,
          PolicyDocument: userPolicy,
        }),
      ],
      async () => {
        await clients.iam.send(
          new PutUserPolicyCommand({
            UserName: userName,
            PolicyName: USER_POLICY_NAME,
            PolicyDocument: JSON.stringify(userPolicy),
          }),
        );
        state.user = { ...state.user!, policyName: USER_POLICY_NAME };
        save();
      },
    );

  // Keys: keep the recorded one unless --rotate-key; never a third (AWS allows two per user).
  const has = (id: string | undefined): string | undefined =>
    id && found.user.keys.some((k) => k.id === id) ? id : undefined;
  const current = has(state.accessKeyId);
  /** The key a failed rotation left: ours, deleted once the current key is verified. */
  const previous = has(state.previousAccessKeyId) !== current ? has(state.previousAccessKeyId) : undefined;
  const needKey = !current || input.rotateKey;
  const unrecorded = found.user.keys
    .filter((k) => k.id !== current && k.id !== previous)
    .sort((x, y) => (x.created?.getTime() ?? 0) - (y.created?.getTime() ?? 0));
  // A new key must leave at most two: delete our previous key first, then unrecorded keys (oldest first, only
  // with --rotate-key), never the current one before the new key is verified.
  const mustDelete = needKey ? Math.max(0, found.user.keys.length - 1) : 0;
  const candidates = [...(previous ? [{ id: previous }] : []), ...(input.rotateKey ? unrecorded : [])];
  if (mustDelete > candidates.length) {
    throw new UserError(
      `IAM user ${userName} already has ${found.user.keys.length} access keys (${found.user.keys.map((k) => k.id).join(', ')}) ` +
        `and none is the one recorded in .yo-rc.json; AWS allows two. Run with --rotate-key to let the generator ` +
        `replace them, or delete one yourself. Nothing was created.`,
      'rotate-key',
    );
  }
  const toDelete = candidates.slice(0, mustDelete);
  for (const k of unrecorded.filter((k) => !toDelete.some((d) => d.id === k.id))) {
    hooks.warn(
      `IAM user ${userName} has an access key this generator did not record (${k.id}); it is left alone.`,
    );
  }
  if (toDelete.length) {
    add(
      'delete-orphan-keys',
      `Delete ${toDelete.length} unrecorded access key(s) to stay within the limit of two`,
      ['create-user'],
      toDelete.map((k) => call('iam', 'DeleteAccessKey', { UserName: userName, AccessKeyId: k.id })),
      async () => {
        for (const k of toDelete)
          await clients.iam.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: k.id }));
        if (toDelete.some((k) => k.id === state.previousAccessKeyId)) {
          delete state.previousAccessKeyId;
          save();
        }
      },
    );
  }
  let newKey: AccessKey | undefined;
  if (needKey) {
    add(
      'create-access-key',
      current ? 'Create a new access key (--rotate-key)' : 'Create the app access key',
      toDelete.length ? ['create-user', 'delete-orphan-keys'] : ['create-user'],
      [call('iam', 'CreateAccessKey', { UserName: userName })],
      async () => {
        const made = await clients.iam.send(new CreateAccessKeyCommand({ UserName: userName }));
        newKey = {
          accessKeyId: made.AccessKey!.AccessKeyId!,
          secretAccessKey: made.AccessKey!.SecretAccessKey!,
        };
        // The secret exists only in this answer: store it before anything else can fail.
        hooks.saveSecret(newKey);
        if (current) state.previousAccessKeyId = current;
        state.accessKeyId = newKey.accessKeyId;
        save();
      },
    );
  }
  const verifyNeeds: StepId[] = steps.filter((s) => s.id !== 'delete-orphan-keys').map((s) => s.id);
  const asApp = { Bucket: bucket, Key: PROBE_KEY, ...o, as: 'app key' };
  add(
    'verify',
    `Verify: put, read and delete a probe object with the app key`,
    verifyNeeds,
    [call('s3', 'PutObject', asApp), call('s3', 'GetObject', asApp), call('s3', 'DeleteObject', asApp)],
    async () => {
      const key = newKey ?? (input.knownKey?.accessKeyId === state.accessKeyId ? input.knownKey : undefined);
      if (!key) {
        hooks.warn(
          `Not verified: the secret of access key ${state.accessKeyId} is not in settings_local.py or the secrets file. ` +
            `Run with --rotate-key to make a new key the generator can check.`,
        );
        return;
      }
      const result = await probeBucket(
        clients.s3WithKey(key),
        {
          bucket,
          expectedOwner: found.accountId,
          propagation: true,
          sts: clients.stsWithKey?.(key),
          policyHint: `the inline policy ${USER_POLICY_NAME} of IAM user ${userName} (arches-storage/aws-user-policy.json)`,
        },
        input.probe,
      );
      hooks.verified(Math.round(result.seconds * 10) / 10);
      record({ verified: true });
    },
  );
  const oldKey = needKey && current ? current : previous;
  if (oldKey) {
    add(
      'delete-old-key',
      `Delete the previous access key ${oldKey}`,
      ['verify'],
      [call('iam', 'DeleteAccessKey', { UserName: userName, AccessKeyId: oldKey })],
      async () => {
        await clients.iam.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: oldKey }));
        delete state.previousAccessKeyId;
        save();
      },
    );
  }

  facts.push(
    found.user.exists
      ? found.user.ours
        ? `IAM user ${userName} exists (made by this generator for ${input.pkg}), ${found.user.keys.length} access key(s)`
        : `IAM user ${userName} exists, NOT tagged as this project's (${tagText(found.user.tags)}): adopted with --adopt-user, never tagged or deleted by the generator`
      : `IAM user ${userName} does not exist yet`,
  );
  const documents: Record<string, unknown> = {
    'aws-user-policy.json': userPolicy,
    'cors.json': { CORSRules: [corsRule] },
  };
  if (publicPolicy) documents['aws-bucket-policy.json'] = publicPolicy;
  return {
    plan: { provider: 'aws', steps: steps.map(({ run: _run, ...s }) => s), facts, documents },
    steps,
    state,
  };
}

/** Teardown's reads and deletes of objects, shared with S3-compatible services. */
export interface EmptyOptions {
  /** ExpectedBucketOwner (AWS). */
  expectedOwner?: string;
  /** Passes over the bucket before giving up (each pass lists everything once). Default 3. */
  maxPasses?: number;
  /** Keys named in the message when some cannot be deleted. Default 10. */
  nameFirst?: number;
}

interface Failure {
  key: string;
  versionId?: string;
  code: string;
  message: string;
}

const RETRYABLE = new Set(['InternalError', 'SlowDown', 'ServiceUnavailable', 'RequestTimeout']);

/** Whether the bucket holds any object (any version or delete marker where the service has versions). */
export async function bucketIsEmpty(
  s3: S3Client,
  bucket: string,
  expectedOwner?: string,
): Promise<boolean | 'gone'> {
  const o = { Bucket: bucket, ...owner(expectedOwner) };
  try {
    try {
      const v = await s3.send(new ListObjectVersionsCommand({ ...o, MaxKeys: 1 }));
      return !(v.Versions?.length || v.DeleteMarkers?.length);
    } catch (error) {
      if (!unsupported(error)) throw error;
      const l = await s3.send(new ListObjectsV2Command({ ...o, MaxKeys: 1 }));
      return !(l.Contents?.length ?? 0);
    }
  } catch (error) {
    if (errorName(error) === 'NoSuchBucket') return 'gone';
    throw error;
  }
}

/**
 * Deletes every object of the bucket: pages through versions and delete markers (KeyMarker/VersionIdMarker;
 * ListObjectsV2 continuation where the service has no versions), deletes in batches of at most 1000, reads
 * every DeleteObjects `Errors` entry, and stops with a UserError naming what it cannot delete. Bounded: at
 * most `maxPasses` listings of the bucket, and a page whose marker does not advance ends the pass.
 */
export async function emptyBucket(s3: S3Client, bucket: string, options: EmptyOptions = {}): Promise<void> {
  const o = { Bucket: bucket, ...owner(options.expectedOwner) };
  const maxPasses = options.maxPasses ?? 3;
  let versions = true;
  let bulk = true;
  let failures: Failure[] = [];
  let seen = 0;
  for (let pass = 1; pass <= maxPasses; pass++) {
    failures = [];
    seen = 0;
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    let token: string | undefined;
    const markers = new Set<string>();
    for (;;) {
      let objects: Array<{ Key: string; VersionId?: string }>;
      let next: string | undefined;
      if (versions) {
        let page;
        try {
          page = await s3.send(
            new ListObjectVersionsCommand({
              ...o,
              MaxKeys: 1000,
              ...(keyMarker !== undefined ? { KeyMarker: keyMarker } : {}),
              ...(versionMarker !== undefined ? { VersionIdMarker: versionMarker } : {}),
            }),
          );
        } catch (error) {
          if (!unsupported(error) || keyMarker !== undefined) throw error;
          versions = false;
          continue;
        }
        objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({
          Key: v.Key!,
          ...(v.VersionId && v.VersionId !== 'null' ? { VersionId: v.VersionId } : {}),
        }));
        if (page.IsTruncated && page.NextKeyMarker !== undefined) {
          keyMarker = page.NextKeyMarker;
          versionMarker = page.NextVersionIdMarker;
          next = `${keyMarker}\u0000${versionMarker ?? ''}`;
        }
      } else {
        const page = await s3.send(
          new ListObjectsV2Command({ ...o, MaxKeys: 1000, ...(token ? { ContinuationToken: token } : {}) }),
        );
        objects = (page.Contents ?? []).map((c) => ({ Key: c.Key! }));
        if (page.IsTruncated && page.NextContinuationToken) {
          token = page.NextContinuationToken;
          next = token;
        }
      }
      seen += objects.length;
      for (let i = 0; i < objects.length; i += 1000)
        failures.push(...(await deleteBatch(s3, o, objects.slice(i, i + 1000), () => (bulk = false), bulk)));
      // The last page, or a service whose marker does not advance: the pass ends either way.
      if (next === undefined || markers.has(next)) break;
      markers.add(next);
    }
    if (seen === 0) return;
    if (failures.length && failures.every((f) => !RETRYABLE.has(f.code))) break;
  }
  const first = options.nameFirst ?? 10;
  const codes = new Map<string, { n: number; message: string }>();
  for (const f of failures) {
    const c = codes.get(f.code) ?? { n: 0, message: f.message };
    c.n++;
    codes.set(f.code, c);
  }
  const named = failures
    .slice(0, first)
    .map((f) => `${f.key}${f.versionId ? ` (version ${f.versionId})` : ''}`)
    .join(', ');
  throw new UserError(
    failures.length
      ? `Bucket ${bucket} cannot be emptied: ${failures.length} object version(s) could not be deleted ` +
          `(${[...codes].map(([code, c]) => `${code} ×${c.n}: ${c.message}`).join('; ')}): ${named}` +
          `${failures.length > first ? ` and ${failures.length - first} more` : ''}. Remove their legal hold or ` +
          `retention, or delete them with credentials that may, then run the teardown again. The bucket is kept.`
      : `Bucket ${bucket} still holds objects after ${maxPasses} passes that deleted ${seen} at the last one: ` +
          `something keeps writing to it (is Arches still running against it?). Stop the writer, then run the ` +
          `teardown again. The bucket is kept.`,
    'delete-objects',
    1,
  );
}

async function deleteBatch(
  s3: S3Client,
  o: { Bucket: string; ExpectedBucketOwner?: string },
  objects: Array<{ Key: string; VersionId?: string }>,
  noBulk: () => void,
  bulk: boolean,
): Promise<Failure[]> {
  if (!objects.length) return [];
  if (bulk) {
    try {
      const result = await s3.send(
        new DeleteObjectsCommand({ ...o, Delete: { Objects: objects, Quiet: true } }),
      );
      return (result.Errors ?? []).map((e) => ({
        key: e.Key ?? '?',
        ...(e.VersionId && e.VersionId !== 'null' ? { versionId: e.VersionId } : {}),
        code: e.Code ?? 'Error',
        message: e.Message ?? '',
      }));
    } catch (error) {
      if (!unsupported(error)) throw error;
      noBulk();
    }
  }
  const failures: Failure[] = [];
  for (const obj of objects) {
    try {
      await s3.send(
        new DeleteObjectCommand({
          ...o,
          Key: obj.Key,
          ...(obj.VersionId ? { VersionId: obj.VersionId } : {}),
        }),
      );
    } catch (error) {
      failures.push({
        key: obj.Key,
        ...(obj.VersionId ? { versionId: obj.VersionId } : {}),
        code: errorName(error) || 'Error',
        message: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return failures;
}

/** Teardown of what this generator added to a bucket it adopted and keeps: our tags, CORS rule, policy statements. */
export function restoreAdoptedBucket(
  s3: S3Client,
  recorded: BucketState,
  expectedOwner: string | undefined,
  left: ProvisionedState,
  save: () => void,
): RunnableStep[] {
  const bucket = recorded.name;
  const o = { Bucket: bucket, ...owner(expectedOwner) };
  const steps: RunnableStep[] = [];
  const forget = (patch: Partial<BucketState>): void => {
    if (left.bucket) left.bucket = { ...left.bucket, ...patch };
    save();
  };
  if (recorded.tags?.length) {
    const ours = recorded.tags;
    steps.push({
      id: 'restore-tags',
      title: `Remove our tags (${ours.join(', ')}) from bucket ${bucket}; the owner's are kept`,
      needs: [],
      calls: [call('s3', 'PutBucketTagging', { ...o, without: ours })],
      run: async () => {
        const have =
          (await readOne(
            bucket,
            's3:GetBucketTagging',
            async () => (await s3.send(new GetBucketTaggingCommand(o))).TagSet ?? [],
            ['NoSuchTagSet'],
          )) ?? [];
        const rest = have.filter((t) => !ours.includes(t.Key!));
        if (rest.length === have.length) {
          // Nothing of ours is left.
        } else if (rest.length)
          await s3.send(new PutBucketTaggingCommand({ ...o, Tagging: { TagSet: rest } }));
        else await s3.send(new DeleteBucketTaggingCommand(o));
        forget({ tags: undefined });
      },
    });
  }
  if (recorded.cors) {
    const id = recorded.corsRuleId ?? CORS_RULE_ID;
    steps.push({
      id: 'restore-cors',
      title: `Remove our CORS rule "${id}" from bucket ${bucket}; the owner's rules are kept`,
      needs: [],
      calls: [call('s3', 'PutBucketCors', { ...o, without: id })],
      run: async () => {
        const have =
          (await readOne(
            bucket,
            's3:GetBucketCORS',
            async () => (await s3.send(new GetBucketCorsCommand(o))).CORSRules ?? [],
            ['NoSuchCORSConfiguration'],
          )) ?? [];
        const rest = have.filter((r) => r.ID !== id);
        if (rest.length === have.length) {
          // Already gone.
        } else if (rest.length)
          await s3.send(new PutBucketCorsCommand({ ...o, CORSConfiguration: { CORSRules: rest } }));
        else await s3.send(new DeleteBucketCorsCommand(o));
        forget({ cors: undefined, corsRuleId: undefined });
      },
    });
  }
  if (recorded.policySids?.length) {
    const sids = recorded.policySids;
    steps.push({
      id: 'restore-policy',
      title: `Remove our bucket-policy statement(s) ${sids.join(', ')} from bucket ${bucket}; the owner's are kept`,
      needs: [],
      calls: [call('s3', 'PutBucketPolicy', { ...o, without: sids })],
      run: async () => {
        const have = await readOne(
          bucket,
          's3:GetBucketPolicy',
          async () =>
            JSON.parse((await s3.send(new GetBucketPolicyCommand(o))).Policy ?? '{}') as PolicyDocument,
          ['NoSuchBucketPolicy'],
        );
        const statements = have?.Statement ?? [];
        const rest = statements.filter((s) => !sids.includes(String(s.Sid)));
        if (rest.length === statements.length) {
          // Already gone.
        } else if (rest.length)
          await s3.send(
            new PutBucketPolicyCommand({ ...o, Policy: JSON.stringify({ ...have, Statement: rest }) }),
          );
        else await s3.send(new DeleteBucketPolicyCommand(o));
        forget({ policy: undefined, policySids: undefined });
      },
    });
  }
  return steps;
}

/**
 * Teardown: our keys and our inline policy, the user if this generator created it (and nothing of someone
 * else's is on it), and with --delete-bucket the bucket this generator created (empty, or emptied with
 * --delete-objects). A bucket kept that was adopted loses only what we added to it.
 */
export async function planAwsDestroy(
  clients: AwsClients,
  state: ProvisionedState,
  options: { deleteBucket: boolean; deleteObjects: boolean },
  hooks: Pick<AwsHooks, 'saveState'> & { warn?(message: string): void },
): Promise<{ plan: ProvisionPlan; steps: RunnableStep[] }> {
  const steps: RunnableStep[] = [];
  const facts: string[] = [];
  const left: ProvisionedState = structuredClone(state);
  const save = (): void => hooks.saveState(structuredClone(left));
  const o = owner(state.accountId);
  const userName = state.user?.name;
  if (userName) {
    let keys: string[] | undefined;
    let policies: string[] = [];
    try {
      keys = (
        (await clients.iam.send(new ListAccessKeysCommand({ UserName: userName }))).AccessKeyMetadata ?? []
      ).map((k) => k.AccessKeyId!);
      policies =
        (await clients.iam.send(new ListUserPoliciesCommand({ UserName: userName }))).PolicyNames ?? [];
    } catch (error) {
      if (errorName(error) !== 'NoSuchEntityException') throw error;
      facts.push(`IAM user ${userName} is already gone`);
    }
    if (keys) {
      const ourKeys = keys.filter((k) => k === state.accessKeyId || k === state.previousAccessKeyId);
      const ourPolicy = state.user?.policyName ?? USER_POLICY_NAME;
      const ourPolicies = policies.filter((p) => p === ourPolicy);
      const theirs = [
        ...keys.filter((k) => !ourKeys.includes(k)).map((k) => `access key ${k}`),
        ...policies.filter((p) => !ourPolicies.includes(p)).map((p) => `inline policy ${p}`),
      ];
      const created = state.user?.created !== false;
      facts.push(
        `IAM user ${userName}: ${ourKeys.length} access key(s) and ${ourPolicies.length} policy of ours` +
          (theirs.length ? `; not ours, left alone: ${theirs.join(', ')}` : ''),
      );
      steps.push({
        id: 'delete-access-keys',
        title: `Delete our ${ourKeys.length} access key(s)`,
        needs: [],
        calls: ourKeys.map((k) => call('iam', 'DeleteAccessKey', { UserName: userName, AccessKeyId: k })),
        run: async () => {
          for (const k of ourKeys)
            await clients.iam.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: k }));
          delete left.accessKeyId;
          delete left.previousAccessKeyId;
          save();
        },
      });
      steps.push({
        id: 'delete-user-policy',
        title: `Delete our inline policy ${ourPolicies.join(', ') || '(none)'}`,
        needs: [],
        calls: ourPolicies.map((p) => call('iam', 'DeleteUserPolicy', { UserName: userName, PolicyName: p })),
        run: async () => {
          for (const p of ourPolicies)
            await clients.iam.send(new DeleteUserPolicyCommand({ UserName: userName, PolicyName: p }));
        },
      });
      if (created && !theirs.length) {
        steps.push({
          id: 'delete-user',
          title: `Delete IAM user ${userName}`,
          needs: ['delete-access-keys', 'delete-user-policy'],
          calls: [call('iam', 'DeleteUser', { UserName: userName })],
          run: async () => {
            try {
              await clients.iam.send(new DeleteUserCommand({ UserName: userName }));
            } catch (error) {
              // Something not ours (a managed policy, a group, an MFA device...) is attached: keep the user.
              if (errorName(error) !== 'DeleteConflictException') throw error;
              hooks.warn?.(
                `IAM user ${userName} is kept: ${error instanceof Error ? error.message : String(error)} (not made by this generator)`,
              );
            }
            delete left.user;
            save();
          },
        });
      } else {
        facts.push(
          created
            ? `IAM user ${userName} is kept: it holds what this generator did not make`
            : `IAM user ${userName} was adopted (--adopt-user): it is kept`,
        );
      }
    }
    if (!keys) {
      delete left.user;
      delete left.accessKeyId;
      delete left.previousAccessKeyId;
    }
  }
  const recorded = state.bucket;
  const bucket = recorded?.name;
  if (recorded && bucket && options.deleteBucket) {
    if (!recorded.created) {
      throw adoptedBucketKept(bucket);
    }
    const empty = await bucketIsEmpty(clients.s3, bucket, state.accountId);
    if (empty === 'gone') {
      facts.push(`bucket ${bucket} is already gone`);
      delete left.bucket;
    } else {
      facts.push(`bucket ${bucket} is ${empty ? 'empty' : 'NOT empty'}`);
      if (!empty && !options.deleteObjects) {
        throw new UserError(
          `Bucket ${bucket} still holds objects (Arches' uploaded files). Refusing to delete it: empty it first, ` +
            `or add --delete-objects to delete every object (all versions) and the bucket. Nothing was deleted.`,
          'delete-objects',
        );
      }
      if (!empty) {
        steps.push({
          id: 'empty-bucket',
          title: `Delete every object and version in ${bucket} (--delete-objects)`,
          needs: [],
          calls: [
            call('s3', 'ListObjectVersions', { Bucket: bucket, ...o }),
            call('s3', 'DeleteObjects', { Bucket: bucket, ...o, batch: '≤1000' }),
          ],
          run: () => emptyBucket(clients.s3, bucket, { expectedOwner: state.accountId }),
        });
      }
      steps.push({
        id: 'delete-bucket',
        title: `Delete bucket ${bucket}`,
        needs: empty ? [] : ['empty-bucket'],
        calls: [call('s3', 'DeleteBucket', { Bucket: bucket, ...o })],
        run: async () => {
          await clients.s3.send(new DeleteBucketCommand({ Bucket: bucket, ...o }));
          delete left.bucket;
          save();
        },
      });
    }
  } else if (recorded && bucket) {
    facts.push(`bucket ${bucket} is kept (add --delete-bucket to delete it)`);
    if (!recorded.created)
      steps.push(...restoreAdoptedBucket(clients.s3, recorded, state.accountId, left, save));
  }
  return {
    plan: { provider: 'aws', steps: steps.map(({ run: _run, ...s }) => s), facts, documents: {} },
    steps,
  };
}
