/**
 * What provisioning an S3-protocol bucket shares between Amazon S3 and the S3-compatible services: reading an
 * existing bucket's configuration before changing anything, our CORS rule merged into the owner's, and
 * teardown (empty, delete, or take back from an adopted bucket only what we added). Loaded only when a run
 * provisions: it imports the AWS SDK.
 */
import {
  AccessDenied,
  NoSuchBucket,
  type CORSRule,
  type LifecycleRule,
  type S3Client,
  type Tag,
  type TransitionDefaultMinimumObjectSize,
} from '@aws-sdk/client-s3';
import { s3CorsConfiguration, s3LifecycleRules } from '../policies.js';
import { errorMessage, UserError } from '../types.js';
import { describeError, httpStatus, notSet, sendS3, unsupported } from './sdk.js';
import { call, type BucketState, type ProvisionFlags, type StateChange, type Step } from './types.js';

/** The ID of the CORS rule this generator puts, so it can find (and remove) exactly its own rule. */
export const CORS_RULE_ID = 'arches-storage';
/** S3's limit of CORS rules per bucket. */
const MAX_CORS_RULES = 100;
/** S3's limit of lifecycle rules per bucket. */
const MAX_LIFECYCLE_RULES = 1000;

export interface PolicyDocument {
  Version?: string;
  Id?: string;
  Statement: Array<Record<string, unknown>>;
}

/** ExpectedBucketOwner, on every bucket call where the owner is known (AWS). */
export const owner = (accountId: string | undefined): { ExpectedBucketOwner?: string } =>
  accountId ? { ExpectedBucketOwner: accountId } : {};

/** A JSON form that ignores key order, to compare documents. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

// ---------------------------------------------------------------------------------------------------------
// Reading an existing bucket.

/**
 * One read of the bucket's configuration: a "not set" answer (the code the SDK has no class for, or 404)
 * is undefined, a denial stops the run naming the action to allow.
 */
export async function readOne<T>(
  bucket: string,
  action: string,
  read: () => Promise<T>,
  absent: string,
): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    if (notSet(error, absent)) return undefined;
    if (error instanceof AccessDenied || httpStatus(error) === 403) {
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

export const readTags = (s3: S3Client, bucket: string, o: { ExpectedBucketOwner?: string }) =>
  readOne(
    bucket,
    's3:GetBucketTagging',
    async () => (await sendS3(s3, 'GetBucketTagging', { Bucket: bucket, ...o })).TagSet ?? [],
    'NoSuchTagSet',
  );

/** The bucket's CORS rules ([] for none), or 'unsupported' where the service has no CORS API. */
export const readCors = (s3: S3Client, bucket: string, o: { ExpectedBucketOwner?: string }) =>
  readOne(
    bucket,
    's3:GetBucketCORS',
    async (): Promise<CORSRule[] | 'unsupported'> => {
      try {
        return (await sendS3(s3, 'GetBucketCors', { Bucket: bucket, ...o })).CORSRules ?? [];
      } catch (error) {
        if (unsupported(error)) return 'unsupported';
        throw error;
      }
    },
    'NoSuchCORSConfiguration',
  );

/** A bucket's lifecycle configuration as read: its rules, and the setting S3 keeps beside them. */
export interface LifecycleConfig {
  rules: LifecycleRule[];
  /** Answered with the rules, and put back with them, so that a merge or a restore keeps it as it was. */
  transitionDefaultMinimumObjectSize?: TransitionDefaultMinimumObjectSize;
}

/** The bucket's lifecycle rules (none: []), or 'unsupported' where the service has no lifecycle API. */
export const readLifecycle = async (
  s3: S3Client,
  bucket: string,
  o: { ExpectedBucketOwner?: string },
): Promise<LifecycleConfig | 'unsupported'> =>
  (await readOne(
    bucket,
    's3:GetLifecycleConfiguration',
    async (): Promise<LifecycleConfig | 'unsupported'> => {
      try {
        const got = await sendS3(s3, 'GetBucketLifecycleConfiguration', { Bucket: bucket, ...o });
        return {
          rules: got.Rules ?? [],
          ...(got.TransitionDefaultMinimumObjectSize
            ? { transitionDefaultMinimumObjectSize: got.TransitionDefaultMinimumObjectSize }
            : {}),
        };
      } catch (error) {
        if (unsupported(error)) return 'unsupported';
        throw error;
      }
    },
    'NoSuchLifecycleConfiguration',
  )) ?? { rules: [] };

export const readPolicy = async (
  s3: S3Client,
  bucket: string,
  o: { ExpectedBucketOwner?: string },
): Promise<PolicyDocument | undefined> => {
  const policy = await readOne(
    bucket,
    's3:GetBucketPolicy',
    async () =>
      JSON.parse(
        (await sendS3(s3, 'GetBucketPolicy', { Bucket: bucket, ...o })).Policy ?? '{}',
      ) as PolicyDocument,
    'NoSuchBucketPolicy',
  );
  return policy && Array.isArray(policy.Statement) ? policy : undefined;
};

// ---------------------------------------------------------------------------------------------------------
// CORS.

/** Whether a rule's list (the SDK gives every CORS list as an array, a single item too) holds all of `want`. */
const covers = (have: readonly string[] | undefined, want: readonly string[]): boolean => {
  const set = new Set(have);
  return set.has('*') || want.every((w) => set.has(w));
};

/** Our CORS rule, with its ID so that a later run (and teardown) finds exactly it. */
export function ourCorsRule(origins: readonly string[]): CORSRule {
  return { ID: CORS_RULE_ID, ...s3CorsConfiguration(origins).CORSRules[0]! };
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

// ---------------------------------------------------------------------------------------------------------
// Lifecycle.

/** Our lifecycle rules (lib/policies.ts s3LifecycleRules), as the SDK types them. */
export const ourLifecycleRules = (): LifecycleRule[] => s3LifecycleRules().Rules;

/**
 * A rule as compared: an empty prefix filter is the same as an empty filter (S3 may answer either), and
 * fields the SDK leaves undefined do not count.
 */
function ruleKey(rule: LifecycleRule): string {
  const f = rule.Filter;
  const whole = f && Object.entries(f).every(([k, v]) => v === undefined || (k === 'Prefix' && v === ''));
  return canonical({ ...rule, ...(f ? { Filter: whole ? {} : f } : {}) });
}

export interface LifecycleMerge {
  /** The configuration to put, or undefined when nothing needs to change. */
  rules?: LifecycleRule[];
  origin: 'created' | 'merged';
  /** The IDs of our rules, as the state records them. */
  ids: string[];
  /** What the plan says about it. */
  fact: string;
  /** Why our rules cannot be added (S3's limit of 1000 rules): said as a warning, nothing is put. */
  warning?: string;
}

/**
 * Our rules merged into the owner's: each of ours replaced by its ID or appended, the owner's kept exactly as
 * read and in their order, rules we recorded earlier under IDs we no longer use removed; nothing to do when
 * every one of ours is in place.
 */
export function mergeLifecycle(
  bucket: string,
  existing: readonly LifecycleRule[],
  ours: readonly LifecycleRule[],
  recordedIds: readonly string[] = [],
): LifecycleMerge {
  const ids = ours.map((r) => r.ID!);
  const stale = recordedIds.filter((id) => !ids.includes(id));
  const theirs = existing.filter((r) => !ids.includes(r.ID ?? '') && !stale.includes(r.ID ?? ''));
  const origin: 'created' | 'merged' = theirs.length ? 'merged' : 'created';
  const have = new Map(existing.filter((r) => ids.includes(r.ID ?? '')).map((r) => [r.ID!, r]));
  const inPlace = ours.every((r) => have.has(r.ID!) && ruleKey(have.get(r.ID!)!) === ruleKey(r));
  if (inPlace && theirs.length + ours.length === existing.length)
    return {
      origin,
      ids,
      fact: `lifecycle: our ${ours.length} rules are in place (${existing.length} rule(s))`,
    };
  // The owner's rules where they are, ours where they were (replaced), the new ones of ours at the end.
  const rules: LifecycleRule[] = [];
  for (const r of existing) {
    if (stale.includes(r.ID ?? '')) continue;
    const mine = ours.find((o) => o.ID === r.ID);
    rules.push(mine ? { ...mine } : r);
  }
  for (const r of ours) if (!have.has(r.ID!)) rules.push({ ...r });
  if (rules.length > MAX_LIFECYCLE_RULES)
    return {
      origin,
      ids,
      fact: `lifecycle: ${existing.length} existing rule(s) kept; ours do not fit`,
      warning:
        `bucket ${bucket} has ${existing.length} lifecycle rules: ours would exceed S3's ${MAX_LIFECYCLE_RULES}, so ` +
        `they are not added (Arches' temporary files and incomplete uploads are not cleaned up; see ` +
        `arches-storage/lifecycle.json)`,
    };
  return {
    rules,
    origin,
    ids,
    fact: theirs.length
      ? `lifecycle: ${theirs.length} existing rule(s) kept, ours ${have.size ? 'updated' : 'added'}`
      : existing.length
        ? 'lifecycle: our rules are updated'
        : 'lifecycle: the bucket has none: ours are put',
  };
}

// ---------------------------------------------------------------------------------------------------------
// Teardown.

/** --delete-bucket on a bucket the generator adopted: refused, whatever the provider. */
export function adoptedBucketKept(bucket: string): UserError {
  return new UserError(
    `Bucket ${bucket} was not created by this generator (it was adopted), so --delete-bucket never deletes ` +
      `it: delete it yourself if you mean to, or run --destroy without --delete-bucket. Nothing was deleted.`,
    'delete-bucket',
    1,
  );
}

/** What teardown reads of the recorded bucket before planning. */
export interface BucketTeardownFound {
  /** --delete-bucket: whether the bucket holds any object, or is already gone. */
  empty?: boolean | 'gone';
  /** A kept adopted bucket: its tags, CORS rules and policy as they are now, to take back only ours. */
  tags?: Tag[];
  cors?: CORSRule[];
  policy?: PolicyDocument;
  lifecycle?: LifecycleConfig;
}

/** Whether the bucket holds any object (any version or delete marker where the service has versions). */
export async function bucketIsEmpty(
  s3: S3Client,
  bucket: string,
  expectedOwner?: string,
): Promise<boolean | 'gone'> {
  const o = { Bucket: bucket, ...owner(expectedOwner) };
  try {
    try {
      const v = await sendS3(s3, 'ListObjectVersions', { ...o, MaxKeys: 1 });
      return !(v.Versions?.length || v.DeleteMarkers?.length);
    } catch (error) {
      if (!unsupported(error)) throw error;
      const l = await sendS3(s3, 'ListObjectsV2', { ...o, MaxKeys: 1 });
      return !(l.Contents?.length ?? 0);
    }
  } catch (error) {
    if (error instanceof NoSuchBucket) return 'gone';
    throw error;
  }
}

/**
 * Read-only, before the teardown plan: with --delete-bucket, whether the bucket is empty (refused before
 * any call when it was adopted); for a kept adopted bucket, its current tags, CORS, policy and lifecycle where we
 * recorded something of ours in them.
 */
export async function discoverBucketTeardown(
  s3: S3Client,
  recorded: BucketState,
  flags: Pick<ProvisionFlags, 'deleteBucket'>,
  expectedOwner: string | undefined,
): Promise<BucketTeardownFound> {
  const bucket = recorded.name;
  if (flags.deleteBucket) {
    if (!recorded.created) throw adoptedBucketKept(bucket);
    return { empty: await bucketIsEmpty(s3, bucket, expectedOwner) };
  }
  if (recorded.created) return {};
  const o = owner(expectedOwner);
  const [tags, cors, policy, lifecycle] = await Promise.all([
    recorded.tags?.length ? readTags(s3, bucket, o) : undefined,
    recorded.cors ? readCors(s3, bucket, o) : undefined,
    recorded.policySids?.length ? readPolicy(s3, bucket, o) : undefined,
    recorded.lifecycleRuleIds?.length ? readLifecycle(s3, bucket, o) : undefined,
  ]);
  return {
    ...(tags ? { tags } : {}),
    ...(Array.isArray(cors) ? { cors } : {}),
    ...(policy ? { policy } : {}),
    ...(lifecycle && lifecycle !== 'unsupported' ? { lifecycle } : {}),
  };
}

/**
 * The bucket's part of a teardown plan: with --delete-bucket, empty it (--delete-objects) and delete it;
 * otherwise keep it, and on an adopted bucket put back the owner's tags, CORS rules, policy and lifecycle
 * rules without ours.
 * `forget` is what the state loses without any call (a bucket already gone, nothing of ours left).
 */
export function planBucketTeardown(
  recorded: BucketState,
  found: BucketTeardownFound,
  flags: Pick<ProvisionFlags, 'deleteBucket' | 'deleteObjects'>,
  expectedOwner: string | undefined,
): { steps: Step[]; facts: string[]; forget: StateChange } {
  const bucket = recorded.name;
  const o = { Bucket: bucket, ...owner(expectedOwner) };
  const steps: Step[] = [];
  const facts: string[] = [];
  if (flags.deleteBucket) {
    if (found.empty === 'gone')
      return { steps, facts: [`bucket ${bucket} is already gone`], forget: { set: { bucket: null } } };
    facts.push(`bucket ${bucket} is ${found.empty ? 'empty' : 'NOT empty'}`);
    if (!found.empty && !flags.deleteObjects) {
      throw new UserError(
        `Bucket ${bucket} still holds objects (Arches' uploaded files). Refusing to delete it: empty it first, ` +
          `or add --delete-objects to delete every object (all versions) and the bucket. Nothing was deleted.`,
        'delete-objects',
      );
    }
    if (!found.empty) {
      steps.push({
        id: 'empty-bucket',
        title: `Delete every object and version in ${bucket} (--delete-objects)`,
        needs: [],
        calls: [call('s3', 'ListObjectVersions', { ...o, MaxKeys: 1000 })],
        note:
          'then DeleteObjects for each page of at most 1000 versions and delete markers, until the bucket ' +
          'is empty (at most 3 passes)',
        run: async (ctx) => {
          await emptyBucket(ctx.clients.s3, bucket, { expectedOwner });
          return undefined;
        },
      });
    }
    steps.push({
      id: 'delete-bucket',
      title: `Delete bucket ${bucket}`,
      needs: found.empty ? [] : ['empty-bucket'],
      calls: [call('s3', 'DeleteBucket', o)],
      record: { set: { bucket: null } },
    });
    return { steps, facts, forget: {} };
  }
  facts.push(`bucket ${bucket} is kept (add --delete-bucket to delete it)`);
  if (recorded.created) return { steps, facts, forget: {} };
  const forget: StateChange['bucket'] = {};
  if (recorded.tags?.length) {
    const ours = recorded.tags;
    const have = found.tags ?? [];
    const rest = have.filter((t) => !ours.includes(t.Key!));
    if (rest.length === have.length) forget.tags = null;
    else
      steps.push({
        id: 'restore-tags',
        title: `Remove our tags (${ours.join(', ')}) from bucket ${bucket}; the owner's are kept`,
        needs: [],
        calls: [
          rest.length
            ? call('s3', 'PutBucketTagging', { ...o, Tagging: { TagSet: rest } })
            : call('s3', 'DeleteBucketTagging', o),
        ],
        record: { bucket: { tags: null } },
      });
  }
  if (recorded.cors) {
    const id = recorded.corsRuleId ?? CORS_RULE_ID;
    const have = found.cors ?? [];
    const rest = have.filter((r) => r.ID !== id);
    if (rest.length === have.length) Object.assign(forget, { cors: null, corsRuleId: null });
    else
      steps.push({
        id: 'restore-cors',
        title: `Remove our CORS rule "${id}" from bucket ${bucket}; the owner's rules are kept`,
        needs: [],
        calls: [
          rest.length
            ? call('s3', 'PutBucketCors', { ...o, CORSConfiguration: { CORSRules: rest } })
            : call('s3', 'DeleteBucketCors', o),
        ],
        record: { bucket: { cors: null, corsRuleId: null } },
      });
  }
  if (recorded.policySids?.length) {
    const sids = recorded.policySids;
    const statements = found.policy?.Statement ?? [];
    const rest = statements.filter((s) => !sids.includes(String(s.Sid)));
    if (rest.length === statements.length) Object.assign(forget, { policy: null, policySids: null });
    else
      steps.push({
        id: 'restore-policy',
        title: `Remove our bucket-policy statement(s) ${sids.join(', ')} from bucket ${bucket}; the owner's are kept`,
        needs: [],
        calls: [
          rest.length
            ? call('s3', 'PutBucketPolicy', {
                ...o,
                Policy: JSON.stringify({ ...found.policy, Statement: rest }),
              })
            : call('s3', 'DeleteBucketPolicy', o),
        ],
        record: { bucket: { policy: null, policySids: null } },
      });
  }
  if (recorded.lifecycleRuleIds?.length) {
    const ids = recorded.lifecycleRuleIds;
    const have = found.lifecycle?.rules ?? [];
    const rest = have.filter((r) => !ids.includes(r.ID ?? ''));
    const size = found.lifecycle?.transitionDefaultMinimumObjectSize;
    if (rest.length === have.length) Object.assign(forget, { lifecycle: null, lifecycleRuleIds: null });
    else
      steps.push({
        id: 'restore-lifecycle',
        title: rest.length
          ? `Remove our lifecycle rules from bucket ${bucket}; the owner's ${rest.length} rule(s) are kept`
          : `Delete our lifecycle configuration of bucket ${bucket}`,
        needs: [],
        calls: [
          rest.length
            ? call('s3', 'PutBucketLifecycleConfiguration', {
                ...o,
                LifecycleConfiguration: { Rules: rest },
                ...(size ? { TransitionDefaultMinimumObjectSize: size } : {}),
              })
            : call('s3', 'DeleteBucketLifecycle', o),
        ],
        record: { bucket: { lifecycle: null, lifecycleRuleIds: null } },
      });
  }
  return { steps, facts, forget: Object.keys(forget).length ? { bucket: forget } : {} };
}

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

/** DeleteObjects `Errors` codes worth another pass (entries of a result, not exceptions: codes only). */
const RETRYABLE = new Set(['InternalError', 'SlowDown', 'ServiceUnavailable', 'RequestTimeout']);

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
          page = await sendS3(s3, 'ListObjectVersions', {
            ...o,
            MaxKeys: 1000,
            ...(keyMarker !== undefined ? { KeyMarker: keyMarker } : {}),
            ...(versionMarker !== undefined ? { VersionIdMarker: versionMarker } : {}),
          });
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
        const page = await sendS3(s3, 'ListObjectsV2', {
          ...o,
          MaxKeys: 1000,
          ...(token ? { ContinuationToken: token } : {}),
        });
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
      const result = await sendS3(s3, 'DeleteObjects', { ...o, Delete: { Objects: objects, Quiet: true } });
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
      await sendS3(s3, 'DeleteObject', {
        ...o,
        Key: obj.Key,
        ...(obj.VersionId ? { VersionId: obj.VersionId } : {}),
      });
    } catch (error) {
      failures.push({
        key: obj.Key,
        ...(obj.VersionId ? { versionId: obj.VersionId } : {}),
        code: error instanceof Error ? error.name : 'Error',
        message: errorMessage(error),
      });
    }
  }
  return failures;
}
