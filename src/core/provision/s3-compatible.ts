/**
 * S3-compatible services (MinIO, DigitalOcean Spaces, Wasabi, Backblaze B2, Cloudflare R2...): create or
 * adopt the bucket, set CORS where the service supports it, and verify with the app's key. They have no IAM
 * API: the user supplies the app key (or the provisioning credentials serve as the app key).
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutBucketCorsCommand,
} from '@aws-sdk/client-s3';
import { s3CorsConfiguration } from '../policies.js';
import { UserError, type StorageAnswers } from '../types.js';
import { probeBucket, type ProbeOptions } from './probe.js';
import { errorName, httpStatus, type RunnableStep } from './runner.js';
import type { AccessKey, AwsClients, ProvisionPlan, ProvisionedState } from './types.js';

export interface S3CompatibleInput {
  answers: StorageAnswers;
  endpoint: string;
  state: ProvisionedState;
  appKey: AccessKey;
  probe?: ProbeOptions;
}

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
  const save = (): void => hooks.saveState(structuredClone(state));
  let exists = false;
  try {
    await clients.s3.send(new HeadBucketCommand({ Bucket: bucket }));
    exists = true;
  } catch (error) {
    if (httpStatus(error) === 403) {
      throw new UserError(
        `Bucket "${bucket}" exists at ${input.endpoint} but these credentials may not use it (HeadBucket answered 403): ` +
          `choose another --bucket or other credentials. Nothing was created.`,
        'bucket',
        2,
      );
    }
    if (httpStatus(error) !== 404 && errorName(error) !== 'NotFound') throw error;
  }
  const cors = s3CorsConfiguration(a.corsOrigins);
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
        state.bucket = { name: bucket, created: state.bucket?.created ?? !exists };
        save();
      },
    },
    {
      id: 'cors',
      title: `CORS for ${a.corsOrigins.join(', ')}`,
      needs: ['create-bucket'],
      calls: [
        { service: 's3', command: 'PutBucketCors', input: { Bucket: bucket, CORSConfiguration: cors } },
      ],
      run: async () => {
        try {
          await clients.s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: cors }));
        } catch (error) {
          if (errorName(error) !== 'NotImplemented' && httpStatus(error) !== 501) throw error;
          hooks.warn(
            `${input.endpoint} does not support bucket CORS (NotImplemented): set it in the service's console.`,
          );
        }
      },
    },
    {
      id: 'verify',
      title: 'Verify: put, read and delete a probe object with the app key',
      needs: ['create-bucket', 'cors'],
      calls: [
        {
          service: 's3',
          command: 'PutObject/GetObject/DeleteObject',
          input: { Bucket: bucket, Key: 'uploadedfiles/.arches-storage-probe' },
        },
      ],
      run: async () => {
        const result = await probeBucket(clients.s3WithKey(input.appKey), bucket, input.probe);
        hooks.verified(Math.round(result.seconds * 10) / 10);
        state.bucket = { ...state.bucket!, configured: true };
        save();
      },
    },
  ];
  return {
    plan: {
      provider: 's3-compatible',
      steps: steps.map(({ run: _run, ...s }) => s),
      facts: [
        `endpoint ${input.endpoint}`,
        exists ? `bucket ${bucket} exists: adopted` : `bucket ${bucket} is free`,
      ],
      documents: { 'cors.json': cors },
    },
    steps,
  };
}

export async function planS3CompatibleDestroy(
  clients: Pick<AwsClients, 's3'>,
  state: ProvisionedState,
  options: { deleteBucket: boolean; force: boolean },
  hooks: { saveState(state: ProvisionedState): void },
): Promise<{ plan: ProvisionPlan; steps: RunnableStep[] }> {
  const bucket = state.bucket?.name;
  const steps: RunnableStep[] = [];
  const facts: string[] = [];
  if (bucket && options.deleteBucket) {
    const listed = await clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1000 }));
    const keys = (listed.Contents ?? []).map((o) => o.Key!);
    facts.push(`bucket ${bucket} holds ${keys.length}${listed.IsTruncated ? '+' : ''} object(s)`);
    if (keys.length && !options.force) {
      throw new UserError(
        `Bucket ${bucket} still holds objects: empty it first, or add --force. Nothing was deleted.`,
        'force',
      );
    }
    steps.push({
      id: 'delete-bucket',
      title: `Delete bucket ${bucket}${keys.length ? ' and its objects (--force)' : ''}`,
      needs: [],
      calls: [{ service: 's3', command: 'DeleteBucket', input: { Bucket: bucket } }],
      run: async () => {
        for (;;) {
          const page = await clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1000 }));
          if (!page.Contents?.length) break;
          for (const o of page.Contents)
            await clients.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key! }));
        }
        await clients.s3.send(new DeleteBucketCommand({ Bucket: bucket }));
        hooks.saveState({ ...state, bucket: undefined });
      },
    });
  } else if (bucket) {
    facts.push(`bucket ${bucket} is kept (add --delete-bucket to delete it)`);
  }
  return {
    plan: { provider: 's3-compatible', steps: steps.map(({ run: _run, ...s }) => s), facts, documents: {} },
    steps,
  };
}
