/**
 * The probe: with the app's own key, put, read back and delete an object under uploadedfiles/ — what Arches
 * does with an upload. A new IAM key answers InvalidAccessKeyId, then AccessDenied, for a while (AWS has no
 * waiter for it), so the probe polls with the SDK's own waiter (exponential backoff with jitter) and gives
 * up after `maxWaitSeconds` (2 minutes by default, as Terraform does for IAM).
 */
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createWaiter, WaiterState } from '@smithy/util-waiter';

export const PROBE_KEY = 'uploadedfiles/.arches-storage-probe';

/** Errors a key answers while IAM propagates it. */
const PROPAGATING = new Set(['InvalidAccessKeyId', 'AccessDenied', 'SignatureDoesNotMatch', 'Forbidden']);

export interface ProbeOptions {
  maxWaitSeconds?: number;
  minDelaySeconds?: number;
  maxDelaySeconds?: number;
}

export interface ProbeResult {
  seconds: number;
  attempts: number;
}

export class ProbeFailed extends Error {
  constructor(
    message: string,
    readonly lastError: unknown,
  ) {
    super(message);
    this.name = 'ProbeFailed';
  }
}

async function roundTrip(s3: S3Client, bucket: string): Promise<void> {
  const body = `arches-storage probe ${new Date().toISOString()}`;
  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: PROBE_KEY, Body: body, ContentType: 'text/plain' }),
  );
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: PROBE_KEY }));
  const text = await got.Body?.transformToString();
  if (text !== body)
    throw new ProbeFailed(`the probe object read back differs from what was written`, undefined);
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: PROBE_KEY }));
}

export async function probeBucket(
  s3: S3Client,
  bucket: string,
  options: ProbeOptions = {},
): Promise<ProbeResult> {
  const started = Date.now();
  let attempts = 0;
  let lastError: unknown;
  const result = await createWaiter(
    {
      client: s3,
      maxWaitTime: options.maxWaitSeconds ?? 120,
      minDelay: options.minDelaySeconds ?? 1,
      maxDelay: options.maxDelaySeconds ?? 10,
    },
    bucket,
    async (client, name) => {
      attempts++;
      try {
        await roundTrip(client, name);
        return { state: WaiterState.SUCCESS };
      } catch (error) {
        lastError = error;
        if (PROPAGATING.has((error as Error).name)) return { state: WaiterState.RETRY, reason: error };
        return { state: WaiterState.FAILURE, reason: error };
      }
    },
  );
  const seconds = (Date.now() - started) / 1000;
  if (result.state !== WaiterState.SUCCESS) {
    const why = lastError instanceof Error ? `${lastError.name}: ${lastError.message}` : String(lastError);
    throw new ProbeFailed(
      result.state === WaiterState.TIMEOUT
        ? `the app key still cannot use bucket ${bucket} after ${Math.round(seconds)} s (${attempts} attempts; last: ${why}). ` +
            `IAM usually propagates within a minute: run again to retry the check.`
        : `the probe failed: ${why}`,
      lastError,
    );
  }
  return { seconds, attempts };
}
