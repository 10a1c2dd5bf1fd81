/**
 * S3-compatible services (MinIO, DigitalOcean Spaces, Wasabi, Backblaze B2, Cloudflare R2...): create or
 * adopt the bucket, merge our CORS rule and lifecycle rules into the bucket's where the service supports them
 * (a service without the API gets a warning, not a failure), and verify with the
 * app's key. They have no IAM API: the user supplies the app key (or, with --use-operator-key, the
 * provisioning credentials serve as the app key). No key propagation either: a denial fails at once.
 */
import { BucketAlreadyOwnedByYou, NotFound } from '@aws-sdk/client-s3';
import { s3LifecycleRules } from '../../lib/policies.js';
import { UserError } from '../../lib/types.js';
import {
  CORS_RULE_ID,
  discoverBucketTeardown,
  mergeCors,
  mergeLifecycle,
  ourCorsRule,
  ourLifecycleRules,
  planBucketTeardown,
  readCors,
  readLifecycle,
  type BucketTeardownFound,
  type CorsMerge,
  type LifecycleConfig,
} from '../../lib/provision/bucket.js';
import { isTemporary, resolveOperatorCredentials } from '../../lib/provision/clients.js';
import { applyChange } from '../../lib/provision/journal.js';
import { probeBucket, probeCalls } from '../../lib/provision/probe.js';
import { httpStatus, sendS3, unsupported } from '../../lib/provision/sdk.js';
import {
  call,
  type AccessKey,
  type AwsClients,
  type BucketState,
  type ProvisionedState,
  type ProvisionPlan,
  type ProvisionRequest,
  type Provisioner,
  type Step,
} from '../../lib/provision/types.js';
import { resolveEndpoint, S3_SERVICE_PRESETS, serviceOf } from './services.js';

/** What the read-only look found. */
export interface S3CompatibleDiscovery {
  clients: AwsClients;
  endpoint: string;
  /** The key the app uses (and the probe signs with). */
  appKey: AccessKey;
  /** The provisioning credentials are the app key (--use-operator-key): the overlay stores them. */
  operatorIsAppKey: boolean;
  exists: boolean;
  /** An existing bucket's CORS rules, or 'unsupported' where the service has no CORS API. */
  cors: NonNullable<Awaited<ReturnType<typeof readCors>>>;
  /** An existing bucket's lifecycle rules ([] for a new one), or 'unsupported' where the service has none. */
  lifecycle: LifecycleConfig | 'unsupported';
}

export interface S3CompatibleTeardownFound {
  clients: AwsClients;
  bucket?: BucketTeardownFound;
}

/** No credentials at all: how to give them, and that --no-provision needs none. */
function noCredentials(endpoint: string): UserError {
  return new UserError(
    `No credentials for ${endpoint}: pass the app's key with --access-key-id and --secret-access-key (or ` +
      `ARCHES_STORAGE_ACCESS_KEY_ID / ARCHES_STORAGE_SECRET_ACCESS_KEY), or sign in to provision with --profile ` +
      `<name> or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in the environment (\`aws sso login --profile <name>\` ` +
      `for an SSO profile). To write only the storage overlay, for a bucket that exists, add --no-provision. ` +
      `Nothing was created.`,
    'access-key-id',
    2,
  );
}

const temporaryRefused = (what: string, id: string): UserError =>
  new UserError(
    `${what} (${id}) are temporary credentials (a session token, from SSO or an assumed role): they expire, so ` +
      `they cannot be the app's key. Give the app a long-term key with --access-key-id and --secret-access-key. ` +
      `Nothing was created.`,
    'access-key-id',
    2,
  );

/**
 * The app key is the one given (or already stored); the operator's credentials become the app's key only with
 * --use-operator-key, and never when they are temporary. The chain is asked only when no key was given (it
 * may end at an instance metadata endpoint).
 */
async function keys(
  request: ProvisionRequest,
  endpoint: string,
): Promise<{ key: AccessKey; operator?: AccessKey; operatorIsAppKey: boolean }> {
  const given = request.givenKey;
  if (given && isTemporary(given)) throw temporaryRefused('The key given', given.accessKeyId);
  const operator = given ? undefined : await resolveOperatorCredentials(request.flags.profile, endpoint);
  const app = given ?? request.storedKey;
  if (app) return { key: app, ...(operator ? { operator } : {}), operatorIsAppKey: false };
  if (!operator) throw noCredentials(endpoint);
  if (!request.flags.useOperatorKey) {
    throw new UserError(
      `No app key for ${endpoint}: pass the key Arches will use with --access-key-id and --secret-access-key, or ` +
        `add --use-operator-key to let the app use the credentials you provision with (${operator.accessKeyId}). ` +
        `Nothing was created.`,
      'access-key-id',
      2,
    );
  }
  if (isTemporary(operator))
    throw temporaryRefused('The credentials you provision with', operator.accessKeyId);
  return {
    key: { accessKeyId: operator.accessKeyId, secretAccessKey: operator.secretAccessKey },
    operator,
    operatorIsAppKey: true,
  };
}

const pathStyle = (request: ProvisionRequest): boolean =>
  S3_SERVICE_PRESETS[serviceOf(request.answers.service) ?? 'other'].pathStyle;

export async function discoverS3Compatible(request: ProvisionRequest): Promise<S3CompatibleDiscovery> {
  const a = request.answers;
  const bucket = a.bucket!;
  const endpoint = resolveEndpoint(a)!;
  const { key, operator, operatorIsAppKey } = await keys(request, endpoint);
  const clients = request.factory({
    region: a.region ?? 'us-east-1',
    endpoint,
    pathStyle: pathStyle(request),
    credentials: operator ?? key,
    profile: request.flags.profile,
  });
  let exists = false;
  try {
    await sendS3(clients.s3, 'HeadBucket', { Bucket: bucket });
    exists = true;
  } catch (error) {
    if (httpStatus(error) === 403) {
      throw new UserError(
        `Bucket "${bucket}" at ${endpoint} is taken by another account or not readable by you ` +
          `(HeadBucket answered 403): choose another --bucket, or credentials that own it. Nothing was created.`,
        'bucket',
        2,
      );
    }
    if (!(error instanceof NotFound) && httpStatus(error) !== 404) throw error;
  }
  // An existing bucket's CORS rules are read first and kept; ours is merged in.
  const cors = exists ? ((await readCors(clients.s3, bucket, {})) ?? []) : [];
  // Its lifecycle rules too: ours are added to them, by ID.
  const lifecycle = exists ? await readLifecycle(clients.s3, bucket, {}) : { rules: [] };
  return { clients, endpoint, appKey: key, operatorIsAppKey, exists, cors, lifecycle };
}

const corsUnsupported = (endpoint: string): string =>
  `${endpoint} does not support bucket CORS (NotImplemented): set it in the service's console.`;

const lifecycleUnsupported = (endpoint: string): string =>
  `${endpoint} does not support bucket lifecycle rules (NotImplemented): Arches' temporary files are not ` +
  `expired; set the rules of arches-storage/lifecycle.json in the service's console if it has them.`;

export function planS3Compatible(request: ProvisionRequest, found: S3CompatibleDiscovery): ProvisionPlan {
  const a = request.answers;
  const bucket = a.bucket!;
  const { endpoint, exists } = found;
  const state: ProvisionedState = { ...request.state, endpoint, region: a.region };
  const recorded: BucketState | undefined =
    request.state.bucket?.name === bucket ? request.state.bucket : undefined;
  const mine = !exists || recorded?.created === true;
  const rule = ourCorsRule(a.corsOrigins);
  const legacy = mine && recorded !== undefined && recorded.corsRuleId === undefined;
  const cors: CorsMerge =
    found.cors === 'unsupported'
      ? { origin: 'created', fact: 'CORS: not supported by the service' }
      : mergeCors(bucket, found.cors, rule, legacy);
  const bucketRecord: BucketState = { ...recorded, name: bucket, created: recorded?.created ?? !exists };
  delete bucketRecord.configured;
  const steps: Step[] = [
    {
      id: 'create-bucket',
      title: exists ? `Adopt bucket ${bucket}` : `Create bucket ${bucket}`,
      needs: [],
      calls: [call('s3', exists ? 'HeadBucket' : 'CreateBucket', { Bucket: bucket })],
      errors: [{ when: (e) => e instanceof BucketAlreadyOwnedByYou, then: 'done' }],
      record: { set: { bucket: bucketRecord } },
    },
  ];
  if (cors.rules) {
    steps.push({
      id: 'cors',
      title: `CORS for ${a.corsOrigins.join(', ')}`,
      needs: ['create-bucket'],
      calls: [call('s3', 'PutBucketCors', { Bucket: bucket, CORSConfiguration: { CORSRules: cors.rules } })],
      // A new bucket's service may have no CORS API: said, and nothing recorded.
      errors: [{ when: unsupported, then: { warn: corsUnsupported(endpoint), record: false } }],
      record: { bucket: { cors: recorded?.cors ?? cors.origin, corsRuleId: CORS_RULE_ID } },
    });
  } else if (found.cors === 'unsupported') {
    request.warn(corsUnsupported(endpoint));
  }
  const lifecycle =
    found.lifecycle === 'unsupported'
      ? undefined
      : mergeLifecycle(bucket, found.lifecycle.rules, ourLifecycleRules(), recorded?.lifecycleRuleIds);
  if (found.lifecycle === 'unsupported') request.warn(lifecycleUnsupported(endpoint));
  if (lifecycle?.warning) request.warn(lifecycle.warning);
  if (lifecycle?.rules) {
    const size = found.lifecycle !== 'unsupported' && found.lifecycle.transitionDefaultMinimumObjectSize;
    steps.push({
      id: 'lifecycle',
      title: 'Lifecycle: expire Arches’ temporary files and abort incomplete uploads after 7 days',
      needs: ['create-bucket'],
      calls: [
        call('s3', 'PutBucketLifecycleConfiguration', {
          Bucket: bucket,
          LifecycleConfiguration: { Rules: lifecycle.rules },
          ...(size ? { TransitionDefaultMinimumObjectSize: size } : {}),
        }),
      ],
      // A new bucket's service may have no lifecycle API: said, and nothing recorded.
      errors: [{ when: unsupported, then: { warn: lifecycleUnsupported(endpoint), record: false } }],
      record: {
        bucket: { lifecycle: recorded?.lifecycle ?? lifecycle.origin, lifecycleRuleIds: lifecycle.ids },
      },
    });
  } else if (lifecycle && !lifecycle.warning && recorded?.lifecycleRuleIds === undefined) {
    // Ours were already there (a run whose state was lost): recorded with the bucket, nothing put.
    bucketRecord.lifecycle = lifecycle.origin;
    bucketRecord.lifecycleRuleIds = lifecycle.ids;
  }
  const key = found.appKey;
  const probeTarget = { bucket };
  steps.push({
    id: 'verify',
    title: 'Verify: put, read and delete a probe object with the app key',
    needs: cors.rules ? ['create-bucket', 'cors'] : ['create-bucket'],
    calls: Object.values(probeCalls(probeTarget)),
    note: 'signed with the app key (PutObject with a timestamped line)',
    // Code: the probe reads back what it wrote and says what a denial means.
    run: async (ctx) => {
      const result = await probeBucket(
        ctx.clients.s3WithKey(key),
        {
          ...probeTarget,
          propagation: false,
          policyHint: `that access key ${key.accessKeyId} may read, write and delete objects in ${bucket}`,
        },
        request.probe,
      );
      ctx.verified(Math.round(result.seconds * 10) / 10);
      return { bucket: { verified: true } };
    },
  });
  return {
    provider: 's3-compatible',
    title: `Plan for ${endpoint}:`,
    facts: [
      `endpoint ${endpoint}`,
      exists
        ? mine
          ? `bucket ${bucket} exists and was created by this generator`
          : `bucket ${bucket} exists: adopted, its settings are kept`
        : `bucket ${bucket} is free`,
      ...(exists ? [cors.fact] : []),
      ...(exists && lifecycle ? [lifecycle.fact] : []),
    ],
    steps,
    documents: { 'cors.json': { CORSRules: [rule] }, 'lifecycle.json': s3LifecycleRules() },
    state,
    resources: exists
      ? mine
        ? []
        : [{ kind: 'bucket', name: bucket, outcome: 'adopted', note: 'its settings are kept' }]
      : [{ kind: 'bucket', name: bucket, outcome: 'created' }],
    // The provisioning credentials are the app key only with --use-operator-key: the overlay stores them.
    ...(found.operatorIsAppKey ? { appKey: key } : {}),
    clients: found.clients,
  };
}

export async function discoverS3CompatibleTeardown(
  request: ProvisionRequest,
): Promise<S3CompatibleTeardownFound> {
  const a = request.answers;
  const state = request.state;
  const endpoint = state.endpoint ?? resolveEndpoint(a)!;
  const given = request.givenKey ?? request.storedKey;
  const operator = given ? undefined : await resolveOperatorCredentials(request.flags.profile, endpoint);
  if (!given && !operator) throw noCredentials(endpoint);
  const clients = request.factory({
    region: state.region ?? a.region ?? 'us-east-1',
    endpoint,
    pathStyle: pathStyle(request),
    credentials: operator ?? given,
  });
  const bucket = state.bucket
    ? await discoverBucketTeardown(clients.s3, state.bucket, request.flags, undefined)
    : undefined;
  return { clients, ...(bucket ? { bucket } : {}) };
}

export function planS3CompatibleTeardown(
  request: ProvisionRequest,
  found: S3CompatibleTeardownFound,
): ProvisionPlan {
  const recorded = request.state.bucket;
  const part =
    recorded && found.bucket
      ? planBucketTeardown(recorded, found.bucket, request.flags, undefined)
      : { steps: [], facts: [], forget: {} };
  return {
    provider: 's3-compatible',
    title: 'Teardown plan:',
    facts: part.facts,
    steps: part.steps,
    documents: {},
    state: applyChange(structuredClone(request.state), part.forget),
    resources: [],
    clients: found.clients,
  };
}

export const s3CompatibleProvisioner: Provisioner<S3CompatibleDiscovery, S3CompatibleTeardownFound> = {
  discover: discoverS3Compatible,
  plan: planS3Compatible,
  discoverTeardown: discoverS3CompatibleTeardown,
  planTeardown: planS3CompatibleTeardown,
};
