/**
 * AWS: a private bucket and a least-privilege IAM user for Arches, planned from read-only calls, then applied
 * as a dependency graph. Every step is idempotent or adopts what a previous run made (recorded in
 * .yo-rc.json, or recognised by its tags), so a run that failed halfway is completed by the next one.
 */
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  GetUserCommand,
  ListAccessKeysCommand,
  ListUserPoliciesCommand,
  ListUserTagsCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectsCommand,
  HeadBucketCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutBucketCorsCommand,
  PutBucketEncryptionCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import {
  awsPublicReadBucketPolicy,
  awsUserPolicy,
  partitionForRegion,
  s3CorsConfiguration,
} from '../policies.js';
import { UserError, type StorageAnswers } from '../types.js';
import { probeBucket, type ProbeOptions } from './probe.js';
import { errorName, httpStatus, type RunnableStep } from './runner.js';
import type { AccessKey, AwsClients, PlannedCall, ProvisionPlan, ProvisionedState, StepId } from './types.js';

export const MANAGED_BY = { Key: 'managed-by', Value: 'generator-arches-storage' } as const;
export const USER_POLICY_NAME = 'arches-storage-media';

export interface AwsInput {
  answers: StorageAnswers;
  pkg: string;
  state: ProvisionedState;
  rotateKey: boolean;
  /** The app key found in settings_local.py or the secrets file, to probe with when no new key is made. */
  knownKey?: AccessKey;
  probe?: ProbeOptions;
}

/** What read-only calls found. */
export interface AwsDiscovery {
  accountId: string;
  callerArn: string;
  bucket: 'free' | 'ours';
  user: { exists: boolean; arn?: string; keys: Array<{ id: string; created?: Date }>; policies: string[] };
}

/** Hooks the generator gives: persist state at once (so a failure keeps it), store a new secret at once. */
export interface AwsHooks {
  saveState(state: ProvisionedState): void;
  saveSecret(key: AccessKey): void;
  warn(message: string): void;
  /** The probe passed after this many seconds (reported, not recorded: it differs every run). */
  verified(seconds: number): void;
}

/** HeadBucket: 200 ours, 404 free, 403 someone else's (or no right to look: the same for us). */
async function bucketStatus(s3: S3Client, bucket: string): Promise<'free' | 'ours' | 'taken'> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
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
  return (await bucketStatus(s3, candidate).catch(() => 'taken')) === 'free' ? candidate : undefined;
}

export async function discoverAws(clients: AwsClients, input: AwsInput): Promise<AwsDiscovery> {
  const { answers: a } = input;
  const bucket = a.bucket!;
  const userName = a.iamUser!;
  const identity = await clients.sts.send(new GetCallerIdentityCommand({}));
  const accountId = identity.Account!;
  if (input.state.accountId && input.state.accountId !== accountId) {
    throw new UserError(
      `These credentials are for AWS account ${accountId}, but .yo-rc.json records resources in account ` +
        `${input.state.accountId}. Use --profile to pick the right account. Nothing was created.`,
      'profile',
    );
  }
  const found = await bucketStatus(clients.s3, bucket);
  if (found === 'taken') {
    const free = await suggestFreeName(clients.s3, bucket, accountId);
    throw new UserError(
      `Bucket name "${bucket}" is taken by another AWS account (HeadBucket answered 403). Bucket names are ` +
        `global: choose another with --bucket${free ? `, e.g. --bucket ${free} (free right now)` : ''}. Nothing was created.`,
      'bucket',
      2,
    );
  }
  let user: AwsDiscovery['user'] = { exists: false, keys: [], policies: [] };
  try {
    const got = await clients.iam.send(new GetUserCommand({ UserName: userName }));
    const tags = await clients.iam.send(new ListUserTagsCommand({ UserName: userName }));
    const ours =
      input.state.user?.name === userName ||
      (tags.Tags ?? []).some((t) => t.Key === MANAGED_BY.Key && t.Value === MANAGED_BY.Value);
    if (!ours) {
      throw new UserError(
        `IAM user "${userName}" exists and was not made by this generator (no ${MANAGED_BY.Key} tag): ` +
          `choose another name with --iam-user. Nothing was created.`,
        'iam-user',
        2,
      );
    }
    const keys = await clients.iam.send(new ListAccessKeysCommand({ UserName: userName }));
    const policies = await clients.iam.send(new ListUserPoliciesCommand({ UserName: userName }));
    user = {
      exists: true,
      arn: got.User?.Arn,
      keys: (keys.AccessKeyMetadata ?? []).map((k) => ({ id: k.AccessKeyId!, created: k.CreateDate })),
      policies: policies.PolicyNames ?? [],
    };
  } catch (error) {
    if (errorName(error) !== 'NoSuchEntityException' && errorName(error) !== 'NoSuchEntity') throw error;
  }
  return { accountId, callerArn: identity.Arn!, bucket: found, user };
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
  const state: ProvisionedState = {
    ...input.state,
    accountId: found.accountId,
    callerArn: found.callerArn,
    region,
  };
  const save = (): void => hooks.saveState(structuredClone(state));
  const tags = [
    { Key: 'arches-project', Value: input.pkg },
    { Key: MANAGED_BY.Key, Value: MANAGED_BY.Value },
  ];
  const userPolicy = awsUserPolicy(bucket, partition);
  const bucketPolicy = a.publicRead ? awsPublicReadBucketPolicy(bucket, partition) : undefined;
  const cors = s3CorsConfiguration(a.corsOrigins);
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
      ? [call('s3', 'HeadBucket', { Bucket: bucket })]
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
      }
      state.bucket = {
        name: bucket,
        arn: bucketArn,
        created: state.bucket?.created ?? found.bucket !== 'ours',
      };
      save();
    },
  );
  const pab = {
    BlockPublicAcls: true,
    IgnorePublicAcls: true,
    BlockPublicPolicy: !a.publicRead,
    RestrictPublicBuckets: !a.publicRead,
  };
  const wasPublic = state.bucket?.configured && bucketPolicy === undefined;
  if (wasPublic || bucketPolicy) {
    // Going private removes the public policy before access is blocked again; going public needs the block relaxed first.
    add(
      'bucket-policy',
      bucketPolicy ? 'Put the public-read bucket policy' : 'Delete any public bucket policy',
      bucketPolicy ? ['create-bucket', 'public-access-block'] : ['create-bucket'],
      [
        bucketPolicy
          ? call('s3', 'PutBucketPolicy', { Bucket: bucket, Policy: bucketPolicy })
          : call('s3', 'DeleteBucketPolicy', { Bucket: bucket }),
      ],
      async () => {
        if (bucketPolicy)
          await clients.s3.send(
            new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(bucketPolicy) }),
          );
        else await clients.s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
      },
    );
  }
  add(
    'public-access-block',
    a.publicRead ? 'Block public ACLs (public policy allowed: --public-read)' : 'Block all public access',
    bucketPolicy || !wasPublic ? ['create-bucket'] : ['create-bucket', 'bucket-policy'],
    [call('s3', 'PutPublicAccessBlock', { Bucket: bucket, PublicAccessBlockConfiguration: pab })],
    async () => {
      await clients.s3.send(
        new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: pab }),
      );
    },
  );
  const ownership = { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' as const }] };
  add(
    'ownership',
    'Disable ACLs (BucketOwnerEnforced)',
    ['create-bucket'],
    [call('s3', 'PutBucketOwnershipControls', { Bucket: bucket, OwnershipControls: ownership })],
    async () => {
      await clients.s3.send(
        new PutBucketOwnershipControlsCommand({ Bucket: bucket, OwnershipControls: ownership }),
      );
    },
  );
  const encryption = { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' as const } }] };
  add(
    'encryption',
    'Default encryption (SSE-S3)',
    ['create-bucket'],
    [call('s3', 'PutBucketEncryption', { Bucket: bucket, ServerSideEncryptionConfiguration: encryption })],
    async () => {
      await clients.s3.send(
        new PutBucketEncryptionCommand({ Bucket: bucket, ServerSideEncryptionConfiguration: encryption }),
      );
    },
  );
  add(
    'cors',
    `CORS for ${a.corsOrigins.join(', ')}`,
    ['create-bucket'],
    [call('s3', 'PutBucketCors', { Bucket: bucket, CORSConfiguration: cors })],
    async () => {
      await clients.s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: cors }));
    },
  );
  add(
    'tags',
    'Tag the bucket',
    ['create-bucket'],
    [call('s3', 'PutBucketTagging', { Bucket: bucket, Tagging: { TagSet: tags } })],
    async () => {
      await clients.s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: tags } }));
    },
  );

  // The app identity, while the bucket is being configured.
  add(
    'create-user',
    found.user.exists ? `Adopt IAM user ${userName}` : `Create IAM user ${userName}`,
    ['create-bucket'],
    found.user.exists
      ? [call('iam', 'GetUser', { UserName: userName })]
      : [call('iam', 'CreateUser', { UserName: userName, Tags: tags })],
    async () => {
      let arn = found.user.arn;
      if (!found.user.exists) {
        try {
          arn = (await clients.iam.send(new CreateUserCommand({ UserName: userName, Tags: tags }))).User?.Arn;
        } catch (error) {
          // Made by a run whose answer was lost: ours if tagged, which GetUser checks.
          if (errorName(error) !== 'EntityAlreadyExistsException') throw error;
          arn = (await clients.iam.send(new GetUserCommand({ UserName: userName }))).User?.Arn;
        }
      }
      state.user = {
        name: userName,
        arn: arn ?? `arn:${partition}:iam::${found.accountId}:user/${userName}`,
        policyName: state.user?.policyName,
      };
      save();
    },
  );
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
  const recorded =
    state.accessKeyId && found.user.keys.some((k) => k.id === state.accessKeyId)
      ? state.accessKeyId
      : undefined;
  const needKey = !recorded || input.rotateKey;
  const orphans = found.user.keys
    .filter((k) => k.id !== recorded)
    .sort((x, y) => (x.created?.getTime() ?? 0) - (y.created?.getTime() ?? 0));
  // A new key must leave at most two: delete unrecorded keys (oldest first), never the recorded one before the
  // new key is verified. Deleting keys the generator did not record needs the user's word (--rotate-key).
  const mustDelete = needKey ? Math.max(0, found.user.keys.length - 1) : 0;
  if (mustDelete > 0 && !input.rotateKey) {
    throw new UserError(
      `IAM user ${userName} already has ${found.user.keys.length} access keys (${found.user.keys.map((k) => k.id).join(', ')}) ` +
        `and none is the one recorded in .yo-rc.json; AWS allows two. Run with --rotate-key to let the generator ` +
        `replace them, or delete one yourself. Nothing was created.`,
      'rotate-key',
    );
  }
  const toDelete = orphans.slice(0, mustDelete);
  for (const k of orphans.slice(mustDelete)) {
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
      },
    );
  }
  let newKey: AccessKey | undefined;
  if (needKey) {
    add(
      'create-access-key',
      recorded ? 'Create a new access key (--rotate-key)' : 'Create the app access key',
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
        state.accessKeyId = newKey.accessKeyId;
        save();
      },
    );
  }
  const verifyNeeds: StepId[] = steps.filter((s) => s.id !== 'delete-orphan-keys').map((s) => s.id);
  add(
    'verify',
    `Verify: put, read and delete a probe object with the app key`,
    verifyNeeds,
    [
      call('s3', 'PutObject', { Bucket: bucket, Key: 'uploadedfiles/.arches-storage-probe', as: 'app key' }),
      call('s3', 'GetObject', { Bucket: bucket, Key: 'uploadedfiles/.arches-storage-probe', as: 'app key' }),
      call('s3', 'DeleteObject', {
        Bucket: bucket,
        Key: 'uploadedfiles/.arches-storage-probe',
        as: 'app key',
      }),
    ],
    async () => {
      const key = newKey ?? (input.knownKey?.accessKeyId === state.accessKeyId ? input.knownKey : undefined);
      if (!key) {
        hooks.warn(
          `Not verified: the secret of access key ${state.accessKeyId} is not in settings_local.py or the secrets file. ` +
            `Run with --rotate-key to make a new key the generator can check.`,
        );
        return;
      }
      const result = await probeBucket(clients.s3WithKey(key), bucket, input.probe);
      hooks.verified(Math.round(result.seconds * 10) / 10);
      state.bucket = { ...state.bucket!, configured: true };
      save();
    },
  );
  if (needKey && recorded) {
    add(
      'delete-old-key',
      `Delete the previous access key ${recorded}`,
      ['verify'],
      [call('iam', 'DeleteAccessKey', { UserName: userName, AccessKeyId: recorded })],
      async () => {
        await clients.iam.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: recorded }));
      },
    );
  }

  const facts = [
    `AWS account ${found.accountId} (${found.callerArn})`,
    found.bucket === 'ours' ? `bucket ${bucket} exists and is yours: adopted` : `bucket ${bucket} is free`,
    found.user.exists
      ? `IAM user ${userName} exists (made by this generator), ${found.user.keys.length} access key(s)`
      : `IAM user ${userName} does not exist yet`,
  ];
  const documents: Record<string, unknown> = { 'aws-user-policy.json': userPolicy, 'cors.json': cors };
  if (bucketPolicy) documents['aws-bucket-policy.json'] = bucketPolicy;
  return {
    plan: { provider: 'aws', steps: steps.map(({ run: _run, ...s }) => s), facts, documents },
    steps,
    state,
  };
}

/** Teardown: the keys, the inline policy, the user, and with --delete-bucket the bucket (empty, or emptied with --force). */
export async function planAwsDestroy(
  clients: AwsClients,
  state: ProvisionedState,
  options: { deleteBucket: boolean; force: boolean },
  hooks: Pick<AwsHooks, 'saveState'>,
): Promise<{ plan: ProvisionPlan; steps: RunnableStep[] }> {
  const steps: RunnableStep[] = [];
  const facts: string[] = [];
  const left: ProvisionedState = structuredClone(state);
  const save = (): void => hooks.saveState(structuredClone(left));
  const userName = state.user?.name;
  if (userName) {
    let keys: string[] = [];
    let policies: string[] = [];
    try {
      keys = (
        (await clients.iam.send(new ListAccessKeysCommand({ UserName: userName }))).AccessKeyMetadata ?? []
      ).map((k) => k.AccessKeyId!);
      policies =
        (await clients.iam.send(new ListUserPoliciesCommand({ UserName: userName }))).PolicyNames ?? [];
      facts.push(
        `IAM user ${userName}: ${keys.length} access key(s), inline policies ${policies.join(', ') || 'none'}`,
      );
    } catch (error) {
      if (errorName(error) !== 'NoSuchEntityException') throw error;
      facts.push(`IAM user ${userName} is already gone`);
    }
    if (facts.at(-1)!.startsWith('IAM user') && !facts.at(-1)!.endsWith('gone')) {
      steps.push({
        id: 'delete-access-keys',
        title: `Delete ${keys.length} access key(s)`,
        needs: [],
        calls: keys.map((k) => call('iam', 'DeleteAccessKey', { UserName: userName, AccessKeyId: k })),
        run: async () => {
          for (const k of keys)
            await clients.iam.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: k }));
          delete left.accessKeyId;
          save();
        },
      });
      steps.push({
        id: 'delete-user-policy',
        title: `Delete inline policies ${policies.join(', ') || '(none)'}`,
        needs: [],
        calls: policies.map((p) => call('iam', 'DeleteUserPolicy', { UserName: userName, PolicyName: p })),
        run: async () => {
          for (const p of policies)
            await clients.iam.send(new DeleteUserPolicyCommand({ UserName: userName, PolicyName: p }));
        },
      });
      steps.push({
        id: 'delete-user',
        title: `Delete IAM user ${userName}`,
        needs: ['delete-access-keys', 'delete-user-policy'],
        calls: [call('iam', 'DeleteUser', { UserName: userName })],
        run: async () => {
          await clients.iam.send(new DeleteUserCommand({ UserName: userName }));
          delete left.user;
          save();
        },
      });
    } else {
      delete left.user;
      delete left.accessKeyId;
    }
  }
  const bucket = state.bucket?.name;
  if (bucket && options.deleteBucket) {
    const listed = await clients.s3
      .send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1 }))
      .catch((e: unknown) => {
        if (errorName(e) === 'NoSuchBucket') return undefined;
        throw e;
      });
    if (!listed) {
      facts.push(`bucket ${bucket} is already gone`);
      delete left.bucket;
    } else {
      const empty = (listed.KeyCount ?? 0) === 0;
      facts.push(`bucket ${bucket} is ${empty ? 'empty' : 'NOT empty'}`);
      if (!empty && !options.force) {
        throw new UserError(
          `Bucket ${bucket} still holds objects (Arches' uploaded files). Refusing to delete it: empty it first, ` +
            `or add --force to delete every object and the bucket. Nothing was deleted.`,
          'force',
        );
      }
      if (!empty) {
        steps.push({
          id: 'empty-bucket',
          title: `Delete every object in ${bucket} (--force)`,
          needs: [],
          calls: [call('s3', 'ListObjectVersions + DeleteObjects', { Bucket: bucket })],
          run: () => emptyBucket(clients.s3, bucket),
        });
      }
      steps.push({
        id: 'delete-bucket',
        title: `Delete bucket ${bucket}`,
        needs: empty ? [] : ['empty-bucket'],
        calls: [call('s3', 'DeleteBucket', { Bucket: bucket })],
        run: async () => {
          await clients.s3.send(new DeleteBucketCommand({ Bucket: bucket }));
          delete left.bucket;
          save();
        },
      });
    }
  } else if (bucket) {
    facts.push(`bucket ${bucket} is kept (add --delete-bucket to delete it)`);
  }
  return {
    plan: { provider: 'aws', steps: steps.map(({ run: _run, ...s }) => s), facts, documents: {} },
    steps,
  };
}

async function emptyBucket(s3: S3Client, bucket: string): Promise<void> {
  for (;;) {
    const versions = await s3
      .send(new ListObjectVersionsCommand({ Bucket: bucket, MaxKeys: 1000 }))
      .catch(() => undefined);
    let objects = [...(versions?.Versions ?? []), ...(versions?.DeleteMarkers ?? [])].map((v) => ({
      Key: v.Key!,
      VersionId: v.VersionId && v.VersionId !== 'null' ? v.VersionId : undefined,
    }));
    if (!versions) {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1000 }));
      objects = (listed.Contents ?? []).map((o) => ({ Key: o.Key!, VersionId: undefined }));
    }
    if (!objects.length) return;
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }));
  }
}
