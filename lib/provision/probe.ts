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
import { AccessDenied, type S3Client } from '@aws-sdk/client-s3';
import { STSServiceException, type STSClient } from '@aws-sdk/client-sts';
import { describeError, httpStatus, s3Code, sendS3, sendSts } from './sdk.js';
import { call } from './types.js';

export const PROBE_KEY = 'uploadedfiles/.arches-storage-probe';

/**
 * A key IAM is still propagating answers InvalidAccessKeyId or SignatureDoesNotMatch (S3) and
 * InvalidClientTokenId (STS): codes the SDK has no exception class for.
 */
const notYetValid = (e: unknown): boolean =>
  s3Code(e, 'InvalidAccessKeyId', 'SignatureDoesNotMatch') ||
  (e instanceof STSServiceException && e.name === 'InvalidClientTokenId');
/** A valid key a policy does not (yet) allow: AccessDenied has a class; Forbidden, AllAccessDisabled do not. */
const denied = (e: unknown): boolean =>
  e instanceof AccessDenied || s3Code(e, 'Forbidden', 'AllAccessDisabled');

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

const describe = describeError;

/** The probe's calls as a plan shows them (PutObject's body, a timestamped line, is added when sent). */
export function probeCalls(target: Pick<ProbeTarget, 'bucket' | 'expectedOwner'>) {
  const object = {
    Bucket: target.bucket,
    Key: PROBE_KEY,
    ...(target.expectedOwner ? { ExpectedBucketOwner: target.expectedOwner } : {}),
  };
  return {
    put: call('s3', 'PutObject', { ...object, ContentType: 'text/plain' }),
    get: call('s3', 'GetObject', object),
    del: call('s3', 'DeleteObject', object),
  };
}

async function roundTrip(s3: S3Client, target: ProbeTarget): Promise<void> {
  const { put, get, del } = probeCalls(target);
  const body = `arches-storage probe ${new Date().toISOString()}`;
  await sendS3(s3, put.command, { ...put.input, Body: body });
  const got = await sendS3(s3, get.command, get.input);
  const text = await got.Body?.transformToString();
  if (text !== body)
    throw new ProbeFailed(`the probe object read back differs from what was written`, undefined);
  await sendS3(s3, del.command, del.input);
}

/** A 403 without a code (a HEAD-less answer the SDK names 'Unknown') counts as a denial. */
function classify(error: unknown): 'not-yet-valid' | 'denied' | 'other' {
  if (notYetValid(error)) return 'not-yet-valid';
  if (denied(error) || httpStatus(error) === 403) return 'denied';
  return 'other';
}

/** Whether STS knows the key: true valid, false not yet valid, undefined could not tell. */
async function keyIsValid(sts: STSClient | undefined): Promise<boolean | undefined> {
  if (!sts) return undefined;
  try {
    await sendSts(sts, 'GetCallerIdentity', {});
    return true;
  } catch (error) {
    return notYetValid(error) || httpStatus(error) === 403 ? false : undefined;
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
