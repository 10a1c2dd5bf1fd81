/**
 * The probe: with the app's own key, put, read back and delete an object under uploadedfiles/ — what Arches
 * does with an upload. Quick to succeed and quick to fail:
 *
 * - It polls at a fixed short interval (at most 1 s), so a key that starts working is noticed within a second.
 * - A new IAM key answers InvalidAccessKeyId (or SignatureDoesNotMatch) until IAM has propagated it: that is
 *   waited out, up to `maxWaitSeconds` (2 minutes by default, as Terraform does for IAM).
 * - AccessDenied is different: once the key is known to be valid (STS GetCallerIdentity with the key itself
 *   answers as soon as it is), a denial that outlasts a short grace for policy propagation fails within
 *   seconds, naming the policy to check.
 * - S3-compatible services have no IAM propagation (`propagation: false`): any denial fails at once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { errorName, httpStatus } from './runner.js';

export const PROBE_KEY = 'uploadedfiles/.arches-storage-probe';

/** Errors a key answers while IAM propagates it: the key is not valid yet. */
const NOT_YET_VALID = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidClientTokenId']);
/** Errors a valid key answers when a policy does not (yet) allow the call. */
const DENIED = new Set(['AccessDenied', 'Forbidden', 'AllAccessDisabled']);

export interface ProbeOptions {
  /** How long a key that is not valid yet is waited for (seconds; default 120). */
  maxWaitSeconds?: number;
  /** The first poll interval (seconds; default 0.25). */
  minDelaySeconds?: number;
  /** The poll interval it grows to (seconds; default 0.5, and never more than 1). */
  maxDelaySeconds?: number;
  /** How long a valid key may still be denied, for policy propagation (seconds; default 8, at most 10). */
  denialGraceSeconds?: number;
}

export interface ProbeTarget {
  bucket: string;
  /** ExpectedBucketOwner on every call (AWS): the probe never writes into another account's bucket. */
  expectedOwner?: string;
  /** Whether the service propagates new keys (AWS IAM); S3-compatible services do not. */
  propagation: boolean;
  /** STS with the app key, to tell "not valid yet" from "valid but denied" (AWS). */
  sts?: STSClient;
  /** Named in the message on a persistent denial: what to check. */
  policyHint?: string;
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

const describe = (e: unknown): string =>
  e instanceof Error
    ? `${e.name}${httpStatus(e) ? ` (HTTP ${httpStatus(e)})` : ''}: ${e.message}`
    : String(e);

async function roundTrip(s3: S3Client, target: ProbeTarget): Promise<void> {
  const owner = target.expectedOwner ? { ExpectedBucketOwner: target.expectedOwner } : {};
  const body = `arches-storage probe ${new Date().toISOString()}`;
  await s3.send(
    new PutObjectCommand({
      Bucket: target.bucket,
      Key: PROBE_KEY,
      Body: body,
      ContentType: 'text/plain',
      ...owner,
    }),
  );
  const got = await s3.send(new GetObjectCommand({ Bucket: target.bucket, Key: PROBE_KEY, ...owner }));
  const text = await got.Body?.transformToString();
  if (text !== body)
    throw new ProbeFailed(`the probe object read back differs from what was written`, undefined);
  await s3.send(new DeleteObjectCommand({ Bucket: target.bucket, Key: PROBE_KEY, ...owner }));
}

/** A HEAD-less 403 without a name (the SDK's 'Unknown') counts as a denial. */
function classify(error: unknown): 'not-yet-valid' | 'denied' | 'other' {
  const name = errorName(error);
  if (NOT_YET_VALID.has(name)) return 'not-yet-valid';
  if (DENIED.has(name) || (httpStatus(error) === 403 && !name.includes('Signature'))) return 'denied';
  return 'other';
}

/** Whether STS knows the key: true valid, false not yet valid, undefined could not tell. */
async function keyIsValid(sts: STSClient | undefined): Promise<boolean | undefined> {
  if (!sts) return undefined;
  try {
    await sts.send(new GetCallerIdentityCommand({}));
    return true;
  } catch (error) {
    return NOT_YET_VALID.has(errorName(error)) || httpStatus(error) === 403 ? false : undefined;
  }
}

export async function probeBucket(
  s3: S3Client,
  target: ProbeTarget,
  options: ProbeOptions = {},
): Promise<ProbeResult> {
  const started = Date.now();
  const maxWaitMs = (options.maxWaitSeconds ?? 120) * 1000;
  const capMs = Math.min(1, options.maxDelaySeconds ?? 0.5) * 1000;
  let delayMs = Math.min(capMs, (options.minDelaySeconds ?? 0.25) * 1000);
  const graceMs = Math.min(10, options.denialGraceSeconds ?? 8) * 1000;
  let attempts = 0;
  /** When the key was first known valid while S3 still denied it. */
  let validSince: number | undefined;
  const elapsed = (): number => (Date.now() - started) / 1000;
  for (;;) {
    attempts++;
    let error: unknown;
    try {
      await roundTrip(s3, target);
      return { seconds: elapsed(), attempts };
    } catch (e) {
      error = e;
    }
    if (error instanceof ProbeFailed) throw error;
    const kind = classify(error);
    if (kind === 'other') throw new ProbeFailed(`the probe failed: ${describe(error)}`, error);
    if (!target.propagation) {
      throw new ProbeFailed(
        `the app key cannot use bucket ${target.bucket} (${describe(error)}). This service has no key ` +
          `propagation to wait for: check the key${target.policyHint ? ` and ${target.policyHint}` : ''}.`,
        error,
      );
    }
    if (kind === 'denied') {
      if (validSince === undefined) {
        const valid = await keyIsValid(target.sts);
        // Without STS to ask, the first denial starts the grace: a denied key answered, so it exists.
        if (valid !== false) validSince = Date.now();
      }
      if (validSince !== undefined && Date.now() - validSince >= graceMs) {
        throw new ProbeFailed(
          `the app key is valid but S3 still denies it on bucket ${target.bucket} after ` +
            `${Math.round((Date.now() - validSince) / 1000)} s (${describe(error)}). ` +
            `Check ${target.policyHint ?? 'the policy that grants the key access'}` +
            ` (and any permissions boundary, service control policy or bucket policy that denies it).`,
          error,
        );
      }
    }
    if (Date.now() - started + delayMs > maxWaitMs) {
      throw new ProbeFailed(
        `the app key still cannot use bucket ${target.bucket} after ${Math.round(elapsed())} s ` +
          `(${attempts} attempts; last: ${describe(error)}). IAM usually propagates a new key within a minute: ` +
          `run again to retry the check (ARCHES_STORAGE_PROBE_TIMEOUT sets the wait in seconds).`,
        error,
      );
    }
    await sleep(delayMs);
    delayMs = Math.min(capMs, delayMs * 2);
  }
}
