/**
 * AWS: a private bucket and a least-privilege IAM user for Arches, planned from read-only calls, then applied
 * as a dependency graph. Every step is idempotent or adopts what a previous run made (recorded in
 * .yo-rc.json, or recognised by its tags), so a run that failed halfway is completed by the next one.
 *
 * Ownership is proved, not assumed: every bucket call carries ExpectedBucketOwner (the caller's account), so
 * a bucket of another account answers 403 however readable it is. An existing bucket is adopted additively:
 * its configuration is read first, the owner's tags, encryption, bucket policy, CORS and lifecycle rules are
 * kept (ours merged in, or the run refuses and says why), logging and versioning are never touched, and the
 * state records in typed fields exactly what this generator put, so teardown removes only that.
 *
 * The plan is data: each step holds the calls it sends and the state it records; only the CreateUser race,
 * key creation (the secret is stored the moment it exists) and the probe are code.
 */
import { isDeepStrictEqual } from 'node:util';
import {
  DeleteConflictException,
  EntityAlreadyExistsException,
  NoSuchEntityException,
  type Tag as IamTag,
} from '@aws-sdk/client-iam';
import {
  BucketAlreadyExists,
  BucketAlreadyOwnedByYou,
  NoSuchBucket,
  NotFound,
  type BucketLocationConstraint,
  type CORSRule,
  type PublicAccessBlockConfiguration,
  type S3Client,
  type Tag,
} from '@aws-sdk/client-s3';
import {
  awsPublicReadBucketPolicy,
  awsUserPolicy,
  partitionForRegion,
  s3LifecycleRules,
} from '../../lib/policies.js';
import { UserError } from '../../lib/types.js';
import {
  adoptedBucketKept,
  canonical,
  discoverBucketTeardown,
  mergeCors,
  mergeLifecycle,
  ourCorsRule,
  ourLifecycleRules,
  owner,
  planBucketTeardown,
  readCors,
  readLifecycle,
  readOne,
  readPolicy,
  readTags,
  CORS_RULE_ID,
  type BucketTeardownFound,
  type LifecycleConfig,
  type PolicyDocument,
} from '../../lib/provision/bucket.js';
import { isCredentialProblem, signInError } from '../../lib/provision/clients.js';
import { applyChange } from '../../lib/provision/journal.js';
import { probeBucket, probeCalls } from '../../lib/provision/probe.js';
import { httpStatus, sendIam, sendS3, sendSts } from '../../lib/provision/sdk.js';
import {
  call,
  type AwsClients,
  type BucketState,
  type PlannedResource,
  type ProvisionedState,
  type ProvisionPlan,
  type ProvisionRequest,
  type Provisioner,
  type StateChange,
  type Step,
  type StepId,
} from '../../lib/provision/types.js';

export const MANAGED_BY = { Key: 'managed-by', Value: 'generator-arches-storage' } as const;
export const PROJECT_TAG = 'arches-project';
export const USER_POLICY_NAME = 'arches-storage-media';
/** AWS limits: tags per bucket, bucket policy size. */
const MAX_BUCKET_TAGS = 50;
const MAX_POLICY_BYTES = 20 * 1024;

/** An existing bucket's configuration, read before planning (undefined fields: none set). */
export interface BucketConfig {
  tags: Tag[];
  cors: CORSRule[];
  /** Whether the service answers CORS calls at all. */
  corsSupported: boolean;
  /** The lifecycle rules (none: []), or 'unsupported' where the service has no lifecycle API. */
  lifecycle: LifecycleConfig | 'unsupported';
  policy?: PolicyDocument;
  publicAccessBlock?: PublicAccessBlockConfiguration;
  ownership?: string;
  encryption?: { algorithm: string; kmsKeyId?: string };
}

/** What read-only calls found. */
export interface AwsDiscovery {
  clients: AwsClients;
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

/** What teardown's read-only calls found. */
export interface AwsTeardownFound {
  clients: AwsClients;
  /** The recorded user's keys and inline policies, or 'gone'. */
  user?: { keys: string[]; policies: string[] } | 'gone';
  bucket?: BucketTeardownFound;
}

/**
 * HeadBucket with ExpectedBucketOwner: 200 ours, 404 free, 403 another account's (or one we may not read:
 * the same for us, since a bucket we cannot prove is ours is never written to). A HEAD answer has no body:
 * the SDK has NotFound for 404 and only the status for 403.
 */
export async function bucketStatus(
  s3: S3Client,
  bucket: string,
  accountId?: string,
): Promise<'free' | 'ours' | 'taken'> {
  try {
    await sendS3(s3, 'HeadBucket', { Bucket: bucket, ...owner(accountId) });
    return 'ours';
  } catch (error) {
    if (error instanceof NotFound || error instanceof NoSuchBucket || httpStatus(error) === 404)
      return 'free';
    if (httpStatus(error) === 403) return 'taken';
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

/** Reads tags, CORS, lifecycle, policy, public access block, ownership and encryption of an existing bucket. */
export async function readBucketConfig(
  s3: S3Client,
  bucket: string,
  accountId?: string,
): Promise<BucketConfig> {
  const o = owner(accountId);
  const b = { Bucket: bucket, ...o };
  const [tags, cors, lifecycle, policy, pab, ownership, encryption] = await Promise.all([
    readTags(s3, bucket, o),
    readCors(s3, bucket, o),
    readLifecycle(s3, bucket, o),
    readPolicy(s3, bucket, o),
    readOne(
      bucket,
      's3:GetBucketPublicAccessBlock',
      async () => (await sendS3(s3, 'GetPublicAccessBlock', b)).PublicAccessBlockConfiguration,
      'NoSuchPublicAccessBlockConfiguration',
    ),
    readOne(
      bucket,
      's3:GetBucketOwnershipControls',
      async () =>
        (await sendS3(s3, 'GetBucketOwnershipControls', b)).OwnershipControls?.Rules?.[0]?.ObjectOwnership,
      'OwnershipControlsNotFoundError',
    ),
    readOne(
      bucket,
      's3:GetEncryptionConfiguration',
      async () => {
        const rule = (await sendS3(s3, 'GetBucketEncryption', b)).ServerSideEncryptionConfiguration
          ?.Rules?.[0]?.ApplyServerSideEncryptionByDefault;
        return rule?.SSEAlgorithm
          ? { algorithm: String(rule.SSEAlgorithm), kmsKeyId: rule.KMSMasterKeyID }
          : undefined;
      },
      'ServerSideEncryptionConfigurationNotFoundError',
    ),
  ]);
  return {
    tags: tags ?? [],
    cors: Array.isArray(cors) ? cors : [],
    corsSupported: cors !== 'unsupported',
    lifecycle,
    ...(policy ? { policy } : {}),
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

/** An inline policy document as GetUserPolicy returns it: URL-encoded JSON (undefined if unreadable). */
function parsePolicyDocument(document: string): unknown {
  try {
    return JSON.parse(decodeURIComponent(document)) as unknown;
  } catch {
    return undefined;
  }
}

/** The operator's identity (a sign-in problem said as one), refusing an account other than the recorded one. */
async function identify(
  clients: AwsClients,
  request: ProvisionRequest,
): Promise<{ accountId: string; arn: string }> {
  const identity = await sendSts(clients.sts, 'GetCallerIdentity', {}).catch((error: unknown) => {
    if (isCredentialProblem(error)) throw signInError(error, 'AWS', request.flags.profile);
    throw error;
  });
  const accountId = identity.Account!;
  if (request.state.accountId && request.state.accountId !== accountId) {
    throw new UserError(
      `These credentials are for AWS account ${accountId}, but .yo-rc.json records resources in account ` +
        `${request.state.accountId}. Use --profile to pick the right account. Nothing was created.`,
      'profile',
    );
  }
  return { accountId, arn: identity.Arn! };
}

export async function discoverAws(request: ProvisionRequest): Promise<AwsDiscovery> {
  const a = request.answers;
  const bucket = a.bucket!;
  const userName = a.iamUser!;
  const clients = request.factory({ region: a.region!, profile: request.flags.profile });
  const { accountId, arn: callerArn } = await identify(clients, request);
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
    const got = await sendIam(clients.iam, 'GetUser', { UserName: userName });
    const tags = (await sendIam(clients.iam, 'ListUserTags', { UserName: userName })).Tags ?? [];
    const ours = tagsOurs(tags, request.pkg);
    if (!ours && !request.flags.adoptUser) throw foreignUser(userName, request.pkg, tags, 'exists');
    const keys = await sendIam(clients.iam, 'ListAccessKeys', { UserName: userName });
    const policies =
      (await sendIam(clients.iam, 'ListUserPolicies', { UserName: userName })).PolicyNames ?? [];
    // Read, so that a re-run whose policy is already in place changes nothing (IAM answers it URL-encoded).
    const document = policies.includes(USER_POLICY_NAME)
      ? (await sendIam(clients.iam, 'GetUserPolicy', { UserName: userName, PolicyName: USER_POLICY_NAME }))
          .PolicyDocument
      : undefined;
    user = {
      exists: true,
      arn: got.User?.Arn,
      keys: (keys.AccessKeyMetadata ?? []).map((k) => ({ id: k.AccessKeyId!, created: k.CreateDate })),
      policies,
      ...(document ? { policyDocument: parsePolicyDocument(document) } : {}),
      tags,
      ours,
    };
  } catch (error) {
    if (!(error instanceof NoSuchEntityException)) throw error;
  }
  return { clients, accountId, callerArn, bucket: found, ...(config ? { config } : {}), user };
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

const PAB_FLAGS = [
  'BlockPublicAcls',
  'IgnorePublicAcls',
  'BlockPublicPolicy',
  'RestrictPublicBuckets',
] as const;

const samePab = (a: PublicAccessBlockConfiguration | undefined, b: PublicAccessBlockConfiguration): boolean =>
  !!a && PAB_FLAGS.every((k) => (a[k] ?? false) === b[k]);

function pabChange(a: PublicAccessBlockConfiguration | undefined, b: PublicAccessBlockConfiguration): string {
  if (!a) return 'none set → all four set as planned';
  return PAB_FLAGS.filter((k) => (a[k] ?? false) !== b[k])
    .map((k) => `${k} ${a[k] ? 'on' : 'off'} → ${b[k] ? 'on' : 'off'}`)
    .join(', ');
}

/**
 * The region as CreateBucket's LocationConstraint. The SDK's enum lists the regions known when it was
 * released; S3 takes any region's name (validated as one by lib/validate.ts), so a newer region is passed on.
 */
const locationConstraint = (region: string): BucketLocationConstraint => region as BucketLocationConstraint;

/** The plan: a pure function of the request and what discovery found (refusals are thrown as UserError). */
export function planAws(request: ProvisionRequest, found: AwsDiscovery): ProvisionPlan {
  const a = request.answers;
  const bucket = a.bucket!;
  const region = a.region!;
  const userName = a.iamUser!;
  const partition = partitionForRegion(region);
  const bucketArn = `arn:${partition}:s3:::${bucket}`;
  const o = owner(found.accountId);
  const b = { Bucket: bucket, ...o };
  const state: ProvisionedState = {
    ...request.state,
    accountId: found.accountId,
    callerArn: found.callerArn,
    region,
  };
  const recorded: BucketState | undefined =
    request.state.bucket?.name === bucket ? request.state.bucket : undefined;
  /** Ours to configure as we like: we create it now, or our state says we created it. */
  const mine = found.bucket === 'free' || recorded?.created === true;
  /** Old state (before typed fields): everything on a bucket we created was put by us. */
  const legacy = mine && recorded !== undefined && recorded.publicAccessBlock === undefined;
  const config = found.config;
  const facts: string[] = [`AWS account ${found.accountId} (${found.callerArn})`];
  const resources: PlannedResource[] = [];
  const tags = [
    { Key: PROJECT_TAG, Value: request.pkg },
    { Key: MANAGED_BY.Key, Value: MANAGED_BY.Value },
  ];
  const userPolicy = awsUserPolicy(bucket, partition);
  /** The user already holds exactly this policy under our name: nothing to put. */
  const policyInPlace =
    found.user.policyDocument !== undefined && isDeepStrictEqual(found.user.policyDocument, userPolicy);
  const publicPolicy = a.publicRead ? awsPublicReadBucketPolicy(bucket, partition) : undefined;
  const steps: Step[] = [];
  const bucketChange = (patch: NonNullable<StateChange['bucket']>): StateChange => ({ bucket: patch });
  /** Fields known at plan time to be kept as they are (recorded when the bucket step finishes). */
  const kept: Partial<BucketState> = {};

  if (found.bucket === 'ours') {
    facts.push(
      mine
        ? `bucket ${bucket} exists and was created by this generator`
        : `bucket ${bucket} exists and is yours (ExpectedBucketOwner=${found.accountId}): adopted, its settings are kept; only additions below`,
    );
    if (!mine) {
      facts.push('logging and versioning are never touched');
      resources.push({ kind: 'bucket', name: bucket, outcome: 'adopted', note: 'its settings are kept' });
    }
  } else {
    facts.push(`bucket ${bucket} is free`);
    resources.push({ kind: 'bucket', name: bucket, outcome: 'created' });
  }

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
  const ourStatement: Record<string, unknown> | undefined = publicPolicy?.Statement[0] && {
    ...publicPolicy.Statement[0],
  };
  const existingPolicy = config?.policy;
  let policyPut: PolicyDocument | undefined;
  let policyDelete = false;
  let policyOrigin: 'created' | 'merged' | undefined;
  if (publicPolicy && ourStatement) {
    const sid = String(ourStatement.Sid);
    if (!existingPolicy) {
      policyPut = { ...publicPolicy, Statement: [ourStatement] };
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
    const legacyStatement = { ...awsPublicReadBucketPolicy(bucket, partition).Statement[0] };
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

  // Ownership: ACLs off (BucketOwnerEnforced) is the most private setting; anything else is tightened.
  const ownership = { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' as const }] };
  const ownershipNeeded =
    !config || config.ownership !== 'BucketOwnerEnforced' || (mine && recorded?.ownership === undefined);
  if (config && !ownershipNeeded) kept.ownership = recorded?.ownership ?? 'kept';
  else if (config) facts.push(`object ownership: ${config.ownership ?? 'none set'} → BucketOwnerEnforced`);

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
  if (!encryptionNeeded && existingEncryption) {
    kept.encryption = recorded?.encryption ?? 'kept';
    facts.push(
      `default encryption ${existingEncryption.algorithm}${existingEncryption.kmsKeyId ? ` (${existingEncryption.kmsKeyId})` : ''}: kept`,
    );
  }

  // Lifecycle: our rules (Arches' temporary files, incomplete uploads) merged into the owner's, by ID.
  const existingLifecycle = config?.lifecycle ?? { rules: [] };
  const lifecycle =
    existingLifecycle === 'unsupported'
      ? undefined
      : mergeLifecycle(bucket, existingLifecycle.rules, ourLifecycleRules(), recorded?.lifecycleRuleIds);
  if (existingLifecycle === 'unsupported')
    request.warn(
      `bucket ${bucket}: the service has no lifecycle API; Arches' temporary files are not expired`,
    );
  if (config && lifecycle) facts.push(lifecycle.fact);
  if (lifecycle?.warning) request.warn(lifecycle.warning);
  if (lifecycle && !lifecycle.rules && !lifecycle.warning && recorded?.lifecycleRuleIds === undefined) {
    // Ours were already there (a run whose state was lost): recorded with the bucket, nothing put.
    kept.lifecycle = lifecycle.origin;
    kept.lifecycleRuleIds = lifecycle.ids;
  }

  // The bucket first: a name taken meanwhile stops the run before the user exists. Adopting sends HeadBucket
  // again: between discovery and now it could have changed hands.
  const bucketRecord: BucketState = {
    ...recorded,
    ...kept,
    name: bucket,
    arn: bucketArn,
    created: recorded?.created ?? found.bucket !== 'ours',
  };
  delete bucketRecord.configured;
  steps.push({
    id: 'create-bucket',
    title: found.bucket === 'ours' ? `Adopt bucket ${bucket}` : `Create bucket ${bucket} in ${region}`,
    needs: [],
    calls: [
      found.bucket === 'ours'
        ? call('s3', 'HeadBucket', b)
        : call('s3', 'CreateBucket', {
            Bucket: bucket,
            ...(region === 'us-east-1'
              ? {}
              : { CreateBucketConfiguration: { LocationConstraint: locationConstraint(region) } }),
          }),
    ],
    errors: [
      { when: (e) => e instanceof BucketAlreadyOwnedByYou, then: 'done' },
      {
        when: (e) => e instanceof BucketAlreadyExists,
        then: new UserError(
          `Bucket name "${bucket}" was taken by another AWS account meanwhile: choose another with --bucket.`,
          'bucket',
          2,
        ),
      },
    ],
    record: { set: { bucket: bucketRecord } },
  });

  if (policyStep) {
    steps.push({
      id: 'bucket-policy',
      title: policyDelete
        ? 'Delete our public-read bucket policy'
        : relaxing
          ? 'Put the public-read bucket policy statement'
          : 'Remove our public-read statement from the bucket policy',
      needs: relaxing && pabNeeded ? ['create-bucket', 'public-access-block'] : ['create-bucket'],
      calls: [
        policyDelete
          ? call('s3', 'DeleteBucketPolicy', b)
          : call('s3', 'PutBucketPolicy', { Bucket: bucket, Policy: JSON.stringify(policyPut), ...o }),
      ],
      record: relaxing
        ? bucketChange({
            policy: policyOrigin,
            policySids: [...new Set([...ourSids, String(ourStatement.Sid)])],
          })
        : bucketChange({ policy: null, policySids: null }),
    });
  }
  if (pabNeeded) {
    steps.push({
      id: 'public-access-block',
      title: a.publicRead
        ? 'Block public ACLs (public policy allowed: --public-read)'
        : 'Block all public access',
      needs: policyStep && !relaxing ? ['create-bucket', 'bucket-policy'] : ['create-bucket'],
      calls: [
        call('s3', 'PutPublicAccessBlock', { Bucket: bucket, PublicAccessBlockConfiguration: pab, ...o }),
      ],
      record: bucketChange({ publicAccessBlock: 'set' }),
    });
  }
  if (ownershipNeeded) {
    steps.push({
      id: 'ownership',
      title: 'Disable ACLs (BucketOwnerEnforced)',
      needs: ['create-bucket'],
      calls: [
        call('s3', 'PutBucketOwnershipControls', { Bucket: bucket, OwnershipControls: ownership, ...o }),
      ],
      record: bucketChange({ ownership: 'set' }),
    });
  }
  if (encryptionNeeded) {
    steps.push({
      id: 'encryption',
      title: 'Default encryption (SSE-S3)',
      needs: ['create-bucket'],
      calls: [
        call('s3', 'PutBucketEncryption', {
          Bucket: bucket,
          ServerSideEncryptionConfiguration: encryption,
          ...o,
        }),
      ],
      record: bucketChange({ encryption: 'set' }),
    });
  }

  // CORS: our rule merged into the owner's.
  const corsRule = ourCorsRule(a.corsOrigins);
  const cors = mergeCors(bucket, config?.cors ?? [], corsRule, legacy && recorded?.corsRuleId === undefined);
  if (config) facts.push(cors.fact);
  if (cors.rules) {
    steps.push({
      id: 'cors',
      title: `CORS for ${a.corsOrigins.join(', ')}`,
      needs: ['create-bucket'],
      calls: [
        call('s3', 'PutBucketCors', { Bucket: bucket, CORSConfiguration: { CORSRules: cors.rules }, ...o }),
      ],
      record: bucketChange({ cors: recorded?.cors ?? cors.origin, corsRuleId: CORS_RULE_ID }),
    });
  }

  if (lifecycle?.rules) {
    const size = existingLifecycle !== 'unsupported' && existingLifecycle.transitionDefaultMinimumObjectSize;
    steps.push({
      id: 'lifecycle',
      title: 'Lifecycle: expire Arches’ temporary files and abort incomplete uploads after 7 days',
      needs: ['create-bucket'],
      calls: [
        call('s3', 'PutBucketLifecycleConfiguration', {
          Bucket: bucket,
          LifecycleConfiguration: { Rules: lifecycle.rules },
          ...(size ? { TransitionDefaultMinimumObjectSize: size } : {}),
          ...o,
        }),
      ],
      record: bucketChange({
        lifecycle: recorded?.lifecycle ?? lifecycle.origin,
        lifecycleRuleIds: lifecycle.ids,
      }),
    });
  }

  // Tags: ours added, theirs kept.
  const merged = mergeTags(config?.tags ?? [], tags);
  for (const k of merged.conflicts)
    request.warn(`bucket ${bucket} already has tag ${k} with another value: it is kept as it is`);
  if (merged.tags && merged.tags.length > MAX_BUCKET_TAGS) {
    request.warn(`bucket ${bucket} has ${config?.tags.length} tags: ours would exceed S3's 50; not tagged`);
  } else if (merged.tags) {
    if (config?.tags.length)
      facts.push(`tags: ${config.tags.length} existing kept, ours added (${merged.added.join(', ')})`);
    steps.push({
      id: 'tags',
      title: 'Tag the bucket',
      needs: ['create-bucket'],
      calls: [call('s3', 'PutBucketTagging', { Bucket: bucket, Tagging: { TagSet: merged.tags }, ...o })],
      record: bucketChange({ tags: [...new Set([...(recorded?.tags ?? []), ...merged.added])] }),
    });
  }

  // The app identity, while the bucket is being configured.
  const recordedUser = request.state.user?.name === userName ? request.state.user : undefined;
  const userArn = `arn:${partition}:iam::${found.accountId}:user/${userName}`;
  const policyName = recordedUser?.policyName || policyInPlace ? { policyName: USER_POLICY_NAME } : {};
  if (found.user.exists) {
    steps.push({
      id: 'create-user',
      title: `Adopt IAM user ${userName}`,
      needs: ['create-bucket'],
      calls: [call('iam', 'GetUser', { UserName: userName })],
      record: {
        set: {
          user: {
            name: userName,
            arn: found.user.arn ?? userArn,
            created: recordedUser?.created ?? found.user.ours,
            ...policyName,
          },
        },
      },
    });
    resources.push(
      found.user.ours
        ? {
            kind: 'iam-user',
            name: userName,
            outcome: 'adopted',
            note: `made by this generator for ${request.pkg}`,
          }
        : {
            kind: 'iam-user',
            name: userName,
            outcome: 'adopted',
            note: '--adopt-user: not tagged as this project’s',
          },
    );
  } else {
    const create = call('iam', 'CreateUser', { UserName: userName, Tags: tags });
    steps.push({
      id: 'create-user',
      title: `Create IAM user ${userName}`,
      needs: ['create-bucket'],
      calls: [create],
      // Code: a user made by someone else between discovery and now is ours only if its tags say so.
      run: async (ctx) => {
        let arn: string | undefined;
        let created = true;
        try {
          arn = (await ctx.send(create)).User?.Arn;
        } catch (error) {
          if (!(error instanceof EntityAlreadyExistsException)) throw error;
          const theirs = (await ctx.send(call('iam', 'ListUserTags', { UserName: userName }))).Tags ?? [];
          const ours = tagsOurs(theirs, request.pkg);
          if (!ours && !request.flags.adoptUser)
            throw foreignUser(userName, request.pkg, theirs, 'was created meanwhile');
          created = ours;
          arn = (await ctx.send(call('iam', 'GetUser', { UserName: userName }))).User?.Arn;
        }
        return { set: { user: { name: userName, arn: arn ?? userArn, created, ...policyName } } };
      },
    });
    resources.push({ kind: 'iam-user', name: userName, outcome: 'created' });
  }
  if (!policyInPlace)
    steps.push({
      id: 'user-policy',
      title: `Attach the least-privilege policy ${USER_POLICY_NAME}`,
      needs: ['create-user'],
      calls: [
        call('iam', 'PutUserPolicy', {
          UserName: userName,
          PolicyName: USER_POLICY_NAME,
          PolicyDocument: JSON.stringify(userPolicy),
        }),
      ],
      record: { user: { policyName: USER_POLICY_NAME } },
    });

  // Keys: keep the recorded one unless --rotate-key; never a third (AWS allows two per user).
  const has = (id: string | undefined): string | undefined =>
    id && found.user.keys.some((k) => k.id === id) ? id : undefined;
  const current = has(state.accessKeyId);
  /** The key a failed rotation left: ours, deleted once the current key is verified. */
  const previous = has(state.previousAccessKeyId) !== current ? has(state.previousAccessKeyId) : undefined;
  const needKey = !current || request.flags.rotateKey;
  const unrecorded = found.user.keys
    .filter((k) => k.id !== current && k.id !== previous)
    .sort((x, y) => (x.created?.getTime() ?? 0) - (y.created?.getTime() ?? 0));
  // A new key must leave at most two: delete our previous key first, then unrecorded keys (oldest first, only
  // with --rotate-key), never the current one before the new key is verified.
  const mustDelete = needKey ? Math.max(0, found.user.keys.length - 1) : 0;
  const candidates = [
    ...(previous ? [{ id: previous }] : []),
    ...(request.flags.rotateKey ? unrecorded : []),
  ];
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
    request.warn(
      `IAM user ${userName} has an access key this generator did not record (${k.id}); it is left alone.`,
    );
  }
  if (toDelete.length) {
    steps.push({
      id: 'delete-orphan-keys',
      title: `Delete ${toDelete.length} unrecorded access key(s) to stay within the limit of two`,
      needs: ['create-user'],
      calls: toDelete.map((k) => call('iam', 'DeleteAccessKey', { UserName: userName, AccessKeyId: k.id })),
      ...(toDelete.some((k) => k.id === state.previousAccessKeyId)
        ? { record: { set: { previousAccessKeyId: null } } }
        : {}),
    });
  }
  if (needKey) {
    const create = call('iam', 'CreateAccessKey', { UserName: userName });
    steps.push({
      id: 'create-access-key',
      title: current ? 'Create a new access key (--rotate-key)' : 'Create the app access key',
      needs: toDelete.length ? ['create-user', 'delete-orphan-keys'] : ['create-user'],
      calls: [create],
      // Code: the secret exists only in this answer, so it is stored before anything else can fail.
      run: async (ctx) => {
        const made = (await ctx.send(create)).AccessKey!;
        ctx.saveSecret({ accessKeyId: made.AccessKeyId!, secretAccessKey: made.SecretAccessKey! });
        return {
          set: { accessKeyId: made.AccessKeyId!, ...(current ? { previousAccessKeyId: current } : {}) },
        };
      },
    });
    resources.push({ kind: 'access-key', outcome: 'created' });
  }
  const verifyNeeds: StepId[] = steps.filter((s) => s.id !== 'delete-orphan-keys').map((s) => s.id);
  const probeTarget = { bucket, expectedOwner: found.accountId };
  steps.push({
    id: 'verify',
    title: `Verify: put, read and delete a probe object with the app key`,
    needs: verifyNeeds,
    calls: Object.values(probeCalls(probeTarget)),
    maySend: [call('sts', 'GetCallerIdentity', {})],
    note:
      'all signed with the app key; PutObject writes a timestamped line; repeated until IAM has propagated ' +
      'the key; GetCallerIdentity only on a denial, to tell a key not valid yet from a policy that denies it',
    // Code: the probe waits out key propagation and tells a key not valid yet from a policy that denies it.
    run: async (ctx) => {
      const recordedId = ctx.state().accessKeyId;
      const known = request.storedKey?.accessKeyId === recordedId ? request.storedKey : undefined;
      const key = ctx.savedKey() ?? known;
      if (!key) {
        ctx.warn(
          `Not verified: the secret of access key ${recordedId} is not in settings_local.py or the secrets file. ` +
            `Run with --rotate-key to make a new key the generator can check.`,
        );
        return undefined;
      }
      const result = await probeBucket(
        ctx.clients.s3WithKey(key),
        {
          ...probeTarget,
          propagation: true,
          sts: ctx.clients.stsWithKey?.(key),
          policyHint: `the inline policy ${USER_POLICY_NAME} of IAM user ${userName} (arches-storage/aws-user-policy.json)`,
        },
        request.probe,
      );
      ctx.verified(Math.round(result.seconds * 10) / 10);
      return bucketChange({ verified: true });
    },
  });
  const oldKey = needKey && current ? current : previous;
  if (oldKey) {
    steps.push({
      id: 'delete-old-key',
      title: `Delete the previous access key ${oldKey}`,
      needs: ['verify'],
      calls: [call('iam', 'DeleteAccessKey', { UserName: userName, AccessKeyId: oldKey })],
      record: { set: { previousAccessKeyId: null } },
    });
  }

  facts.push(
    found.user.exists
      ? found.user.ours
        ? `IAM user ${userName} exists (made by this generator for ${request.pkg}), ${found.user.keys.length} access key(s)`
        : `IAM user ${userName} exists, NOT tagged as this project's (${tagText(found.user.tags)}): adopted with --adopt-user, never tagged or deleted by the generator`
      : `IAM user ${userName} does not exist yet`,
  );
  const documents: Record<string, unknown> = {
    'aws-user-policy.json': userPolicy,
    'cors.json': { CORSRules: [corsRule] },
    'lifecycle.json': s3LifecycleRules(),
  };
  if (publicPolicy) documents['aws-bucket-policy.json'] = publicPolicy;
  return {
    provider: 'aws',
    title: `Plan for AWS account ${found.accountId}, region ${region}:`,
    facts,
    steps,
    documents,
    state,
    resources,
    clients: found.clients,
  };
}

/** Read-only, before the teardown plan: the recorded user's keys and policies, and the bucket's state. */
export async function discoverAwsTeardown(request: ProvisionRequest): Promise<AwsTeardownFound> {
  const state = request.state;
  const clients = request.factory({
    region: state.region ?? request.answers.region ?? 'us-east-1',
    profile: request.flags.profile,
  });
  const recorded = state.bucket;
  // Refused before any call.
  if (recorded && request.flags.deleteBucket && !recorded.created) throw adoptedBucketKept(recorded.name);
  let user: AwsTeardownFound['user'];
  const userName = state.user?.name;
  if (userName) {
    try {
      const keys = (
        (await sendIam(clients.iam, 'ListAccessKeys', { UserName: userName })).AccessKeyMetadata ?? []
      ).map((k) => k.AccessKeyId!);
      const policies =
        (await sendIam(clients.iam, 'ListUserPolicies', { UserName: userName })).PolicyNames ?? [];
      user = { keys, policies };
    } catch (error) {
      if (!(error instanceof NoSuchEntityException)) throw error;
      user = 'gone';
    }
  }
  const bucket = recorded
    ? await discoverBucketTeardown(clients.s3, recorded, request.flags, state.accountId)
    : undefined;
  return { clients, ...(user ? { user } : {}), ...(bucket ? { bucket } : {}) };
}

/**
 * Teardown: our keys and our inline policy, the user if this generator created it (and nothing of someone
 * else's is on it), and with --delete-bucket the bucket this generator created (empty, or emptied with
 * --delete-objects). A bucket kept that was adopted loses only what we added to it.
 */
export function planAwsTeardown(request: ProvisionRequest, found: AwsTeardownFound): ProvisionPlan {
  const state = request.state;
  const steps: Step[] = [];
  const facts: string[] = [];
  let left: ProvisionedState = structuredClone(state);
  const userName = state.user?.name;
  const user = found.user;
  if (userName && user === 'gone') {
    facts.push(`IAM user ${userName} is already gone`);
    delete left.user;
    delete left.accessKeyId;
    delete left.previousAccessKeyId;
  } else if (userName && user !== undefined && user !== 'gone') {
    const { keys, policies } = user;
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
      record: { set: { accessKeyId: null, previousAccessKeyId: null } },
    });
    steps.push({
      id: 'delete-user-policy',
      title: `Delete our inline policy ${ourPolicies.join(', ') || '(none)'}`,
      needs: [],
      calls: ourPolicies.map((p) => call('iam', 'DeleteUserPolicy', { UserName: userName, PolicyName: p })),
    });
    if (created && !theirs.length) {
      steps.push({
        id: 'delete-user',
        title: `Delete IAM user ${userName}`,
        needs: ['delete-access-keys', 'delete-user-policy'],
        calls: [call('iam', 'DeleteUser', { UserName: userName })],
        errors: [
          {
            // Something not ours (a managed policy, a group, an MFA device...) is attached: keep the user.
            when: (e) => e instanceof DeleteConflictException,
            then: {
              warn: `IAM user ${userName} is kept: something not made by this generator is attached`,
              record: true,
            },
          },
        ],
        record: { set: { user: null } },
      });
    } else {
      facts.push(
        created
          ? `IAM user ${userName} is kept: it holds what this generator did not make`
          : `IAM user ${userName} was adopted (--adopt-user): it is kept`,
      );
    }
  }
  const recorded = state.bucket;
  if (recorded && found.bucket) {
    const bucketPart = planBucketTeardown(recorded, found.bucket, request.flags, state.accountId);
    steps.push(...bucketPart.steps);
    facts.push(...bucketPart.facts);
    left = applyChange(left, bucketPart.forget);
  }
  return {
    provider: 'aws',
    title: 'Teardown plan:',
    facts,
    steps,
    documents: {},
    state: left,
    resources: [],
    clients: found.clients,
  };
}

export const awsProvisioner: Provisioner<AwsDiscovery, AwsTeardownFound> = {
  discover: discoverAws,
  plan: planAws,
  discoverTeardown: discoverAwsTeardown,
  planTeardown: planAwsTeardown,
};
