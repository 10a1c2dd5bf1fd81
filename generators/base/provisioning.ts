/**
 * The provisioning part of a run, between the answers and the overlay: discover with read-only calls, show
 * the plan, confirm (interactive), apply with progress, and record state and the new secret on disk as soon
 * as each exists, so a failure halfway leaves a state the next run completes. Loaded only when a run
 * provisions: it imports the AWS SDK.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { blockLines } from '../../lib/blocks.js';
import type { ArchesProject, ProjectFiles } from '../../lib/detect.js';
import { buildOverlay } from '../../lib/overlay.js';
import type { SettingsInspector } from '../../lib/pysettings.js';
import { readOurs, writeFileAtomic, writeYoRc } from '../../lib/safefs.js';
import { discoverAws, planAws, planAwsDestroy } from '../aws/provisioner.js';
import {
  createClients,
  isTemporary,
  resolveOperatorCredentials,
  type ClientFactory,
} from '../../lib/provision/clients.js';
import { describeError, runSteps, StepFailed, type RunnableStep } from '../../lib/provision/runner.js';
import type { ProbeOptions } from '../../lib/provision/probe.js';
import { planS3Compatible, planS3CompatibleDestroy } from '../s3-compatible/provisioner.js';
import type {
  AccessKey,
  ResolvedCredentials,
  ProvisionPlan,
  ProvisionSummary,
  ProvisionedState,
} from '../../lib/provision/types.js';
import type { StorageProvider } from '../../lib/provider.js';
import { resolveEndpoint, S3_SERVICE_PRESETS, serviceOf } from '../s3-compatible/services.js';
import { UserError, type StorageAnswers, type StorageSecrets } from '../../lib/types.js';
import { ALL_DOCUMENT_NAMES } from '../registry.js';
import { showProgress } from './progress.js';

export interface ProvisionFlags {
  profile?: string;
  rotateKey: boolean;
  secretsFile?: string;
  showSecret: boolean;
  json: boolean;
  dryRun: boolean;
  deleteBucket: boolean;
  /** --delete-objects: empty the bucket before deleting it (never Yeoman's --force). */
  deleteObjects: boolean;
  /** --adopt-user: an IAM user not tagged as this project's may be given the policy and a key. */
  adoptUser?: boolean;
  /** --use-operator-key: on an S3-compatible service, the provisioning credentials become the app key. */
  useOperatorKey?: boolean;
}

export interface ProvisionContext {
  provider: string;
  spec: StorageProvider;
  root: string;
  project: ArchesProject;
  answers: StorageAnswers;
  secrets: StorageSecrets;
  flags: ProvisionFlags;
  interactive: boolean;
  state: ProvisionedState;
  created: readonly string[];
  files: ProjectFiles;
  /** The settings judgment the run's overlay uses (the project's Python, or --python). */
  inspect?: SettingsInspector;
  factory?: ClientFactory;
  log(message: string): void;
  confirm(message: string): Promise<boolean>;
  /** Probe timing (tests shorten it; ARCHES_STORAGE_PROBE_TIMEOUT in seconds). */
  probe?: ProbeOptions;
}

export interface ProvisionOutcome {
  state: ProvisionedState;
  /** A key made by this run and written to settings_local.py (the overlay must carry it too). */
  appKey?: AccessKey;
  summary: ProvisionSummary;
  applied: boolean;
  /** The plan of SDK calls (what a dry run shows). */
  plan: ProvisionPlan;
}

/**
 * Writes the resource state straight to .yo-rc.json on disk (atomically, other namespaces kept): it must
 * survive a failure later in the run.
 */
function persistState(root: string, provider: string, state: ProvisionedState | undefined): void {
  const ours = readOurs(root);
  const resources = { ...(ours.resources as Record<string, unknown> | undefined) };
  if (state) resources[provider] = state;
  else delete resources[provider];
  writeYoRc(root, { ...ours, resources });
}

/** The key already stored for the app (settings_local.py block or the secrets file), to probe with. */
function storedKey(ctx: ProvisionContext): AccessKey | undefined {
  const text = ctx.flags.secretsFile
    ? existsSync(path.resolve(ctx.root, ctx.flags.secretsFile))
      ? readFileSync(path.resolve(ctx.root, ctx.flags.secretsFile), 'utf8')
      : ''
    : (ctx.files.read(`${ctx.project.pkg}/settings_local.py`) ?? '');
  const lines = blockLines('secrets', text) ?? [];
  const value = (name: string): string | undefined => {
    for (const l of lines) {
      const m = new RegExp(`^${name}\\s*=\\s*"?([^"]*)"?\\s*$`).exec(l);
      if (m) return m[1];
    }
    return undefined;
  };
  const id = value('AWS_ACCESS_KEY_ID');
  const secret = value('AWS_SECRET_ACCESS_KEY');
  return id && secret ? { accessKeyId: id, secretAccessKey: secret } : undefined;
}

/** The app key given as options or ARCHES_STORAGE_* variables (validation makes them come in pairs). */
function givenKey(secrets: StorageSecrets): AccessKey | undefined {
  return secrets.accessKeyId && secrets.secretAccessKey
    ? { accessKeyId: secrets.accessKeyId, secretAccessKey: secrets.secretAccessKey }
    : undefined;
}

/** Refuses, before any call, a secret destination git would commit. */
function checkSecretDestination(ctx: ProvisionContext): string {
  // The overlay's own checks (tracked by git, still committed with our .gitignore rule), run with a stand-in
  // key before any call: a destination that would be refused later is refused now, with nothing created.
  secretOverlay(ctx, { accessKeyId: 'AKIA0000000000000000', secretAccessKey: 'x'.repeat(40) });
  return secretDestinationOf(ctx);
}

/** The overlay as it will be once the app has this key: where the key goes, and the .gitignore rule. */
function secretOverlay(ctx: ProvisionContext, key: AccessKey): ReturnType<typeof buildOverlay> {
  return buildOverlay(ctx.files, {
    project: ctx.project,
    provider: ctx.spec,
    documentNames: ALL_DOCUMENT_NAMES,
    answers: ctx.answers,
    secrets: { ...ctx.secrets, ...key },
    created: ctx.created,
    secretsFile: ctx.flags.secretsFile,
    inspect: ctx.inspect,
  });
}

/** Stores a new secret at once, where the overlay keeps it, with .gitignore updated in the same breath. */
function writeSecret(ctx: ProvisionContext, key: AccessKey): void {
  const overlay = secretOverlay(ctx, key);
  // .gitignore first: the key is never on disk in a file git would commit. Then every file that holds it
  // (0600 from the first byte), and settings_local.py when the key moves to the secrets file.
  const gitignore = overlay.changes.filter((c) => c.path === '.gitignore');
  const local = `${ctx.project.pkg}/settings_local.py`;
  const holders = overlay.changes.filter((c) => c.secret === true || c.path === local);
  for (const c of [...gitignore, ...holders]) {
    const abs = path.resolve(ctx.root, c.path);
    if (c.after !== null) writeFileAtomic(abs, c.after, { secret: c.secret === true });
  }
}

export function formatPlan(plan: ProvisionPlan, title: string): string {
  const out = [title, ...plan.facts.map((f) => `  · ${f}`), ''];
  for (const [i, s] of plan.steps.entries()) {
    out.push(`  ${i + 1}. ${s.title}${s.needs.length ? `   (after ${s.needs.join(', ')})` : ''}`);
    for (const c of s.calls) out.push(`       ${c.service}:${c.command} ${JSON.stringify(c.input)}`);
  }
  for (const [name, doc] of Object.entries(plan.documents)) {
    out.push(
      '',
      `  ${name}:`,
      ...JSON.stringify(doc, null, 2)
        .split('\n')
        .map((l) => `    ${l}`),
    );
  }
  return out.join('\n');
}

async function apply(
  ctx: ProvisionContext,
  plan: ProvisionPlan,
  steps: RunnableStep[],
  what: string,
): Promise<{ applied: boolean; error?: StepFailed }> {
  const text = formatPlan(plan, what);
  if (ctx.flags.dryRun) {
    // --json: the plan goes into the run's one JSON document instead.
    if (!ctx.flags.json)
      process.stdout.write(text + '\n\nDry run: no call that changes anything was made.\n');
    return { applied: false };
  }
  ctx.log(text);
  if (ctx.interactive && !(await ctx.confirm('Apply this plan?'))) {
    throw new UserError('Plan not applied: nothing was created.', 'confirm', 1);
  }
  const progress = showProgress(steps, ctx.interactive);
  try {
    await runSteps(steps, { events: progress.events });
    return { applied: true };
  } catch (error) {
    if (error instanceof StepFailed) return { applied: true, error };
    throw error;
  } finally {
    await progress.close();
  }
}

function failure(ctx: ProvisionContext, error: StepFailed, state: ProvisionedState): UserError {
  const exists = [
    state.bucket ? `bucket ${state.bucket.name}` : undefined,
    state.user
      ? `IAM user ${state.user.name}${state.user.policyName ? ` with policy ${state.user.policyName}` : ''}`
      : undefined,
    state.accessKeyId ? `access key ${state.accessKeyId} (secret stored)` : undefined,
  ].filter((e): e is string => e !== undefined);
  const details = {
    failedStep: error.step,
    completedSteps: error.completed,
    exists,
    state: structuredClone(state),
    stateFile: '.yo-rc.json',
    ...(state.accessKeyId ? { secretDestination: secretDestinationOf(ctx) } : {}),
  };
  if (error.cause instanceof UserError) {
    const cause = error.cause;
    return new UserError(cause.message, cause.subject, cause.exitCode, { ...details, ...cause.details });
  }
  return new UserError(
    `Step "${error.title}" (${error.step}) failed: ${describeError(error.cause)}\n` +
      `What exists now: ${exists.length ? exists.join(', ') : 'nothing'} (recorded in .yo-rc.json). ` +
      `Run the same command again to complete the rest; nothing will be created twice.`,
    error.step,
    1,
    details,
  );
}

/** Where the app's secret is kept, as the summary says it. */
function secretDestinationOf(ctx: ProvisionContext): string {
  return ctx.flags.secretsFile ?? `${ctx.project.pkg}/settings_local.py (git-ignored)`;
}

/** A read-only look before the plan failed: nothing was created, so the message says so. */
function lookFailed(error: unknown): Error {
  if (error instanceof UserError) return error;
  return new UserError(
    `Looking at the account before planning (read-only calls) failed: ${describeError(error)}. ` +
      `Nothing was created; run the same command again.`,
    'identify',
    1,
    { failedStep: 'identify', completedSteps: [], exists: [] },
  );
}

/** No credentials at all for an S3-compatible service: how to give them, and that --no-provision needs none. */
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
 * S3-compatible services: the app key is the one given (or already stored); the operator's credentials become
 * the app's key only with --use-operator-key, and never when they are temporary.
 */
async function s3CompatibleKeys(
  ctx: ProvisionContext,
  endpoint: string,
): Promise<{ key: AccessKey; operator?: ResolvedCredentials; operatorIsAppKey: boolean }> {
  const given = givenKey(ctx.secrets);
  if (given && isTemporary(given)) throw temporaryRefused('The key given', given.accessKeyId);
  const stored = storedKey(ctx);
  // The chain is asked only when no key was given (it may end at an instance metadata endpoint).
  const operator = given ? undefined : await resolveOperatorCredentials(ctx.flags.profile, endpoint);
  const app = given ?? stored;
  if (app) return { key: app, operator, operatorIsAppKey: false };
  if (!operator) throw noCredentials(endpoint);
  if (!ctx.flags.useOperatorKey) {
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

export async function provision(ctx: ProvisionContext): Promise<ProvisionOutcome> {
  const started = Date.now();
  const destination = checkSecretDestination(ctx);
  const factory = ctx.factory ?? createClients;
  const a = ctx.answers;
  let state = structuredClone(ctx.state);
  let appKey: AccessKey | undefined;
  let verifiedAfterSeconds: number | undefined;
  const warnings: string[] = [];
  const hooks = {
    verified: (seconds: number): void => {
      verifiedAfterSeconds = seconds;
    },
    saveState: (s: ProvisionedState): void => {
      state = s;
      if (!ctx.flags.dryRun) persistState(ctx.root, ctx.provider, s);
    },
    saveSecret: (key: AccessKey): void => {
      appKey = key;
      writeSecret(ctx, key);
    },
    warn: (m: string): void => {
      warnings.push(m);
      ctx.log(`warning: ${m}`);
    },
  };
  let planned: { plan: ProvisionPlan; steps: RunnableStep[] };
  let title: string;
  if (ctx.provider === 'aws') {
    const clients = factory({ region: a.region!, profile: ctx.flags.profile });
    const input = {
      answers: a,
      pkg: ctx.project.pkg,
      state,
      rotateKey: ctx.flags.rotateKey,
      adoptUser: ctx.flags.adoptUser === true,
      profile: ctx.flags.profile,
      knownKey: storedKey(ctx),
      probe: ctx.probe,
    };
    const found = await discoverAws(clients, input).catch((error: unknown) => {
      throw lookFailed(error);
    });
    ctx.log(`AWS account ${found.accountId} (${found.callerArn})`);
    const made = planAws(clients, input, found, hooks);
    state = made.state;
    planned = made;
    title = `Plan for AWS account ${found.accountId}, region ${a.region}:`;
  } else {
    const endpoint = resolveEndpoint(a)!;
    const pathStyle = S3_SERVICE_PRESETS[serviceOf(a.service) ?? 'other'].pathStyle;
    const { key, operator, operatorIsAppKey } = await s3CompatibleKeys(ctx, endpoint);
    const clients = factory({
      region: a.region ?? 'us-east-1',
      endpoint,
      pathStyle,
      credentials: operator ?? key,
      profile: ctx.flags.profile,
    });
    planned = await planS3Compatible(
      clients,
      { answers: a, endpoint, state, appKey: key, probe: ctx.probe },
      hooks,
    ).catch((error: unknown) => {
      throw lookFailed(error);
    });
    title = `Plan for ${endpoint}:`;
    // The app key the overlay stores: the provisioning credentials, only with --use-operator-key.
    if (operatorIsAppKey) appKey = key;
  }
  const result = await apply(ctx, planned.plan, planned.steps, title);
  if (result.error) throw failure(ctx, result.error, state);
  if (appKey && ctx.provider === 's3-compatible' && result.applied) writeSecret(ctx, appKey);
  const summary: ProvisionSummary = {
    ok: true,
    provider: ctx.provider,
    accountId: state.accountId,
    created: [
      ...(state.bucket?.created ? [`bucket ${state.bucket.name}`] : []),
      ...(planned.plan.steps.some((s) => s.id === 'create-user' && s.calls[0]?.command === 'CreateUser')
        ? [`IAM user ${a.iamUser}`]
        : []),
      ...(planned.plan.steps.some((s) => s.id === 'create-access-key')
        ? [`access key ${state.accessKeyId}`]
        : []),
    ],
    adopted: planned.plan.facts.filter((f) => f.includes('adopted') || f.includes('exists (made by')),
    deleted: [],
    secretDestination: appKey ? (ctx.flags.secretsFile ?? destination) : undefined,
    accessKeyId: appKey?.accessKeyId ?? state.accessKeyId,
    verifiedAfterSeconds,
    wallSeconds: Math.round((Date.now() - started) / 100) / 10,
  };
  return {
    state,
    appKey,
    summary,
    applied: result.applied,
    plan: planned.plan,
  };
}

export async function destroy(ctx: ProvisionContext): Promise<{
  summary: ProvisionSummary;
  applied: boolean;
  remaining?: ProvisionedState;
  plan: ProvisionPlan;
}> {
  const started = Date.now();
  const factory = ctx.factory ?? createClients;
  const a = ctx.answers;
  let state = structuredClone(ctx.state);
  const hooks = {
    saveState: (s: ProvisionedState): void => {
      state = s;
      if (!ctx.flags.dryRun) persistState(ctx.root, ctx.provider, s);
    },
  };
  const options = { deleteBucket: ctx.flags.deleteBucket, deleteObjects: ctx.flags.deleteObjects };
  let planned: { plan: ProvisionPlan; steps: RunnableStep[] };
  if (ctx.provider === 'aws') {
    const clients = factory({ region: state.region ?? a.region ?? 'us-east-1', profile: ctx.flags.profile });
    planned = await planAwsDestroy(clients, state, options, hooks);
  } else {
    const endpoint = state.endpoint ?? resolveEndpoint(a)!;
    const given = givenKey(ctx.secrets) ?? storedKey(ctx);
    const operator = given ? undefined : await resolveOperatorCredentials(ctx.flags.profile, endpoint);
    if (!given && !operator) throw noCredentials(endpoint);
    const clients = factory({
      region: state.region ?? a.region ?? 'us-east-1',
      endpoint,
      pathStyle: S3_SERVICE_PRESETS[serviceOf(a.service) ?? 'other'].pathStyle,
      credentials: operator ?? given,
    });
    planned = await planS3CompatibleDestroy(clients, state, options, hooks);
  }
  const before = structuredClone(state);
  const result = await apply(ctx, planned.plan, planned.steps, 'Teardown plan:');
  if (result.error) throw failure(ctx, result.error, state);
  // What is left is only a bucket kept on purpose: remembered, so a later --destroy --delete-bucket finds it.
  const remaining = state.bucket
    ? { bucket: state.bucket, region: state.region, endpoint: state.endpoint, accountId: state.accountId }
    : undefined;
  if (result.applied) persistState(ctx.root, ctx.provider, remaining);
  return {
    remaining,
    applied: result.applied,
    plan: planned.plan,
    summary: {
      ok: true,
      provider: ctx.provider,
      accountId: before.accountId,
      created: [],
      adopted: [],
      deleted: planned.plan.steps.map((s) => s.title),
      wallSeconds: Math.round((Date.now() - started) / 100) / 10,
    },
  };
}
