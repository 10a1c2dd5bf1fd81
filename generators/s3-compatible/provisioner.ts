/**
 * S3-compatible services (MinIO, DigitalOcean Spaces, Wasabi, Backblaze B2, Cloudflare R2...): create or
 * adopt the bucket, merge our CORS rule into the bucket's where the service supports it, and verify with the
 * app's key. They have no IAM API: the user supplies the app key (or, with --use-operator-key, the
 * provisioning credentials serve as the app key). No key propagation either: a denial fails at once.
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  GetBucketCorsCommand,
  HeadBucketCommand,
  PutBucketCorsCommand,
  type CORSRule,
} from '@aws-sdk/client-s3';
import { UserError, type StorageAnswers } from '../../lib/types.js';
import {
  bucketIsEmpty,
  CORS_RULE_ID,
  emptyBucket,
  mergeCors,
  ourCorsRule,
  restoreAdoptedBucket,
} from '../aws/provisioner.js';
import { probeBucket, PROBE_KEY, type ProbeOptions } from '../../lib/provision/probe.js';
import { adoptedBucketKept, errorName, httpStatus, type RunnableStep } from '../../lib/provision/runner.js';
import {
  orderedBucket,
  type AccessKey,
  type AwsClients,
  type BucketState,
  type ProvisionPlan,
  type ProvisionedState,
} from '../../lib/provision/types.js';

export interface S3CompatibleInput {
  answers: StorageAnswers;
  endpoint: string;
  state: ProvisionedState;
  appKey: AccessKey;
  probe?: ProbeOptions;
}

const unsupported = (e: unknown): boolean =>
  ['NotImplemented', 'MethodNotAllowed'].includes(errorName(e)) ||
  httpStatus(e) === 501 ||
  httpStatus(e) === 405;

export async function planS3Compatible(
  clients: Pick<AwsClients, 's3' | 's3WithKey'>,
  input: S3CompatibleInput,
  hooks: {
    saveState(state: ProvisionedState): void;
    warn(message: string): void;
    verified(seconds: number): void;
  },
): Promise<{ plan: ProvisionPlan; steps: RunnableStep[] }> {
  const a = input.answers;
  const bucket = a.bucket!;
  const state: ProvisionedState = { ...input.state, endpoint: input.endpoint, region: a.region };
  const save = (): void => {
    if (state.bucket) state.bucket = orderedBucket(state.bucket);
    hooks.saveState(structuredClone(state));
  };
  const recorded: BucketState | undefined =
    input.state.bucket?.name === bucket ? input.state.bucket : undefined;
  let exists = false;
  try {
    await clients.s3.send(new HeadBucketCommand({ Bucket: bucket }));
    exists = true;
  } catch (error) {
    if (httpStatus(error) === 403) {
      throw new UserError(
        `Bucket "${bucket}" at ${input.endpoint} is taken by another account or not readable by you ` +
          `(HeadBucket answered 403): choose another --bucket, or credentials that own it. Nothing was created.`,
        'bucket',
        2,
      );
    }
    if (httpStatus(error) !== 404 && errorName(error) !== 'NotFound') throw error;
  }
  // An existing bucket's CORS rules are read first and kept; ours is merged in.
  let existing: CORSRule[] = [];
  let corsSupported = true;
  if (exists) {
    try {
      existing = (await clients.s3.send(new GetBucketCorsCommand({ Bucket: bucket }))).CORSRules ?? [];
    } catch (error) {
      if (unsupported(error)) corsSupported = false;
      else if (errorName(error) !== 'NoSuchCORSConfiguration' && httpStatus(error) !== 404) throw error;
    }
  }
  const mine = !exists || recorded?.created === true;
  const rule = ourCorsRule(a.corsOrigins);
  const legacy = mine && recorded !== undefined && recorded.corsRuleId === undefined;
  const cors = corsSupported
    ? mergeCors(bucket, existing, rule, legacy)
    : { origin: 'created' as const, fact: 'CORS: not supported by the service' };
  const configuration = cors.rules ? { CORSRules: cors.rules } : undefined;
  const steps: RunnableStep[] = [
    {
      id: 'create-bucket',
      title: exists ? `Adopt bucket ${bucket}` : `Create bucket ${bucket}`,
      needs: [],
      calls: [{ service: 's3', command: exists ? 'HeadBucket' : 'CreateBucket', input: { Bucket: bucket } }],
      run: async () => {
        if (!exists) {
          try {
            await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
          } catch (error) {
            if (errorName(error) !== 'BucketAlreadyOwnedByYou') throw error;
          }
        }
        state.bucket = { ...recorded, name: bucket, created: recorded?.created ?? !exists };
        delete state.bucket.configured;
        save();
      },
    },
  ];
  if (configuration) {
    steps.push({
      id: 'cors',
      title: `CORS for ${a.corsOrigins.join(', ')}`,
      needs: ['create-bucket'],
      calls: [
        {
          service: 's3',
          command: 'PutBucketCors',
          input: { Bucket: bucket, CORSConfiguration: configuration },
        },
      ],
      run: async () => {
        try {
          await clients.s3.send(
            new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: configuration }),
          );
          state.bucket = {
            ...state.bucket!,
            cors: recorded?.cors ?? cors.origin,
            corsRuleId: CORS_RULE_ID,
          };
          save();
        } catch (error) {
          if (!unsupported(error)) throw error;
          hooks.warn(
            `${input.endpoint} does not support bucket CORS (NotImplemented): set it in the service's console.`,
          );
        }
      },
    });
  } else if (!corsSupported) {
    hooks.warn(
      `${input.endpoint} does not support bucket CORS (NotImplemented): set it in the service's console.`,
    );
  }
  steps.push({
    id: 'verify',
    title: 'Verify: put, read and delete a probe object with the app key',
    needs: configuration ? ['create-bucket', 'cors'] : ['create-bucket'],
    calls: [
      {
        service: 's3',
        command: 'PutObject/GetObject/DeleteObject',
        input: { Bucket: bucket, Key: PROBE_KEY },
      },
    ],
    run: async () => {
      const result = await probeBucket(
        clients.s3WithKey(input.appKey),
        {
          bucket,
          propagation: false,
          policyHint: `that access key ${input.appKey.accessKeyId} may read, write and delete objects in ${bucket}`,
        },
        input.probe,
      );
      hooks.verified(Math.round(result.seconds * 10) / 10);
      state.bucket = { ...state.bucket!, verified: true };
      save();
    },
  });
  return {
    plan: {
      provider: 's3-compatible',
      steps: steps.map(({ run: _run, ...s }) => s),
      facts: [
        `endpoint ${input.endpoint}`,
        exists
          ? mine
            ? `bucket ${bucket} exists and was created by this generator`
            : `bucket ${bucket} exists: adopted, its settings are kept`
          : `bucket ${bucket} is free`,
        ...(exists ? [cors.fact] : []),
      ],
      documents: { 'cors.json': { CORSRules: [rule] } },
    },
    steps,
  };
}

export async function planS3CompatibleDestroy(
  clients: Pick<AwsClients, 's3'>,
  state: ProvisionedState,
  options: { deleteBucket: boolean; deleteObjects: boolean },
  hooks: { saveState(state: ProvisionedState): void },
): Promise<{ plan: ProvisionPlan; steps: RunnableStep[] }> {
  const recorded = state.bucket;
  const bucket = recorded?.name;
  const steps: RunnableStep[] = [];
  const facts: string[] = [];
  const left: ProvisionedState = structuredClone(state);
  const save = (): void => hooks.saveState(structuredClone(left));
  if (recorded && bucket && options.deleteBucket) {
    if (!recorded.created) {
      throw adoptedBucketKept(bucket);
    }
    const empty = await bucketIsEmpty(clients.s3, bucket);
    if (empty === 'gone') {
      facts.push(`bucket ${bucket} is already gone`);
      delete left.bucket;
      hooks.saveState(structuredClone(left));
    } else {
      facts.push(`bucket ${bucket} is ${empty ? 'empty' : 'NOT empty'}`);
      if (!empty && !options.deleteObjects) {
        throw new UserError(
          `Bucket ${bucket} still holds objects: empty it first, or add --delete-objects to delete every object ` +
            `and the bucket. Nothing was deleted.`,
          'delete-objects',
        );
      }
      if (!empty) {
        steps.push({
          id: 'empty-bucket',
          title: `Delete every object in ${bucket} (--delete-objects)`,
          needs: [],
          calls: [
            { service: 's3', command: 'ListObjectVersions + DeleteObjects', input: { Bucket: bucket } },
          ],
          run: () => emptyBucket(clients.s3, bucket),
        });
      }
      steps.push({
        id: 'delete-bucket',
        title: `Delete bucket ${bucket}`,
        needs: empty ? [] : ['empty-bucket'],
        calls: [{ service: 's3', command: 'DeleteBucket', input: { Bucket: bucket } }],
        run: async () => {
          await clients.s3.send(new DeleteBucketCommand({ Bucket: bucket }));
          delete left.bucket;
          save();
        },
      });
    }
  } else if (recorded && bucket) {
    facts.push(`bucket ${bucket} is kept (add --delete-bucket to delete it)`);
    if (!recorded.created) steps.push(...restoreAdoptedBucket(clients.s3, recorded, undefined, left, save));
  }
  return {
    plan: { provider: 's3-compatible', steps: steps.map(({ run: _run, ...s }) => s), facts, documents: {} },
    steps,
  };
}
