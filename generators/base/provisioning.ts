/**
 * The provisioning part of a run, between the answers and the overlay, the same for every provider that
 * creates resources: the provider's provisioner discovers with read-only calls and plans; this prints the
 * plan, confirms (interactive), applies it with progress, records state and the new secret through the
 * journal as soon as each exists (so a failure halfway leaves a state the next run completes), and
 * summarises. Loaded only when a run provisions; the provisioner (and the SDK) with it.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { secretBlockValues } from '../../lib/answers.js';
import type { ArchesProject, ProjectFiles } from '../../lib/detect.js';
import { buildOverlay } from '../../lib/overlay.js';
import type { StorageProvider } from '../../lib/provider.js';
import type { SettingsInspector } from '../../lib/pysettings.js';
import { createClients, type ClientFactory } from '../../lib/provision/clients.js';
import { Journal } from '../../lib/provision/journal.js';
import type { ProbeOptions } from '../../lib/provision/probe.js';
import { runSteps, StepFailed } from '../../lib/provision/runner.js';
import { describeError } from '../../lib/provision/sdk.js';
import {
  planData,
  type AccessKey,
  type PlanData,
  type ProvisionedState,
  type ProvisionFlags,
  type ProvisionPlan,
  type ProvisionRequest,
  type ProvisionSummary,
} from '../../lib/provision/types.js';
import { givenKey, UserError, type StorageAnswers, type StorageSecrets } from '../../lib/types.js';
import { ALL_DOCUMENT_NAMES } from '../registry.js';
import { showProgress } from './progress.js';

export interface RunFlags extends ProvisionFlags {
  secretsFile?: string;
  showSecret: boolean;
  json: boolean;
  dryRun: boolean;
}

export interface ProvisionContext {
  provider: string;
  spec: StorageProvider;
  root: string;
  project: ArchesProject;
  answers: StorageAnswers;
  secrets: StorageSecrets;
  flags: RunFlags;
  interactive: boolean;
  state: ProvisionedState;
  created: readonly string[];
  files: ProjectFiles;
  /** The provider the project is configured for as the run starts (.yo-rc.json): whose key our block holds. */
  keyOwner?: string;
  /** The settings judgment the run's overlay uses (the project's Python, or --python). */
  inspect?: SettingsInspector;
  factory?: ClientFactory;
  log(message: string): void;
  confirm(message: string): Promise<boolean>;
  /** Probe timing (tests shorten it; ARCHES_STORAGE_PROBE_TIMEOUT in seconds). */
  probe?: ProbeOptions;
}

export interface ProvisionOutcome {
  /** A key written by this run where the overlay keeps it (the overlay must carry it too). */
  appKey?: AccessKey;
  summary: ProvisionSummary;
  applied: boolean;
  /** The plan of SDK calls (what a dry run shows). */
  plan: PlanData;
  /** The plan as printed: a dry run hands it to the generator, which prints every dry-run output in one place. */
  planText: string;
}

/**
 * The key already stored for the app (settings_local.py block or the secrets file), to probe with: only when it
 * is this provider's (the project is on it, or its state records that key id), never another storage's key
 * left in the block by the provider the run switches from.
 */
function storedKey(ctx: ProvisionContext): AccessKey | undefined {
  const file = ctx.flags.secretsFile ? path.resolve(ctx.root, ctx.flags.secretsFile) : undefined;
  const text = file
    ? existsSync(file)
      ? readFileSync(file, 'utf8')
      : ''
    : (ctx.files.read(`${ctx.project.pkg}/settings_local.py`) ?? '');
  const values = secretBlockValues('secrets', text);
  const id = values.AWS_ACCESS_KEY_ID;
  const secret = values.AWS_SECRET_ACCESS_KEY;
  if (!id || !secret) return undefined;
  const ours =
    ctx.keyOwner === ctx.provider || (ctx.state.accessKeyId !== undefined && ctx.state.accessKeyId === id);
  return ours ? { accessKeyId: id, secretAccessKey: secret } : undefined;
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

/** Where the app's secret is kept, as the summary says it. */
function secretDestinationOf(ctx: ProvisionContext): string {
  return ctx.flags.secretsFile ?? `${ctx.project.pkg}/settings_local.py (git-ignored)`;
}

/** What the provisioner is asked, from the run's answers and flags. */
function requestOf(ctx: ProvisionContext): ProvisionRequest {
  const given = givenKey(ctx.secrets);
  return {
    answers: ctx.answers,
    pkg: ctx.project.pkg,
    state: structuredClone(ctx.state),
    flags: ctx.flags,
    ...(given ? { givenKey: given } : {}),
    storedKey: storedKey(ctx),
    probe: ctx.probe,
    factory: ctx.factory ?? createClients,
    warn: (m) => ctx.log(`warning: ${m}`),
  };
}

async function provisionerOf(ctx: ProvisionContext) {
  if (!ctx.spec.provisioner) throw new Error(`${ctx.provider} has no provisioner`);
  return ctx.spec.provisioner();
}

export function formatPlan(plan: ProvisionPlan): string {
  const out = [plan.title, ...plan.facts.map((f) => `  · ${f}`), ''];
  for (const [i, s] of plan.steps.entries()) {
    out.push(`  ${i + 1}. ${s.title}${s.needs.length ? `   (after ${s.needs.join(', ')})` : ''}`);
    for (const c of s.calls) out.push(`       ${c.service}:${c.command} ${JSON.stringify(c.input)}`);
    for (const c of s.maySend ?? [])
      out.push(`       ${c.service}:${c.command} ${JSON.stringify(c.input)}   (only in some cases)`);
    if (s.note) out.push(`       (${s.note})`);
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

/** Prints the plan, confirms, and applies it through the journal; a dry run stops after printing. */
async function apply(
  ctx: ProvisionContext,
  plan: ProvisionPlan,
  journal: Journal,
): Promise<{ applied: boolean; error?: StepFailed; verifiedAfterSeconds?: number }> {
  const text = formatPlan(plan);
  // A dry run stops here: the generator prints the plan with the rest of what a dry run shows.
  if (ctx.flags.dryRun) return { applied: false };
  ctx.log(text);
  if (ctx.interactive && !(await ctx.confirm('Apply this plan?'))) {
    throw new UserError('Plan not applied: nothing was created.', 'confirm', 1);
  }
  const progress = showProgress(plan.steps, { interactive: ctx.interactive });
  let verifiedAfterSeconds: number | undefined;
  try {
    await runSteps(plan.steps, plan.clients, {
      recorder: journal,
      events: progress.events,
      warn: (m) => progress.print(() => ctx.log(`warning: ${m}`)),
      verified: (s) => (verifiedAfterSeconds = s),
    });
    return { applied: true, verifiedAfterSeconds };
  } catch (error) {
    if (error instanceof StepFailed) return { applied: true, error };
    throw error;
  } finally {
    progress.close();
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

function journalFor(ctx: ProvisionContext, plan: ProvisionPlan): Journal {
  return new Journal({
    root: ctx.root,
    provider: ctx.provider,
    state: plan.state,
    secretChanges: (key) => secretOverlay(ctx, key).changes,
    settingsLocal: `${ctx.project.pkg}/settings_local.py`,
  });
}

const seconds = (started: number): number => Math.round((Date.now() - started) / 100) / 10;

export async function provision(ctx: ProvisionContext): Promise<ProvisionOutcome> {
  const started = Date.now();
  // The overlay's own checks (tracked by git, still committed with our .gitignore rule), run with a stand-in
  // key before any call: a destination that would be refused later is refused now, with nothing created.
  secretOverlay(ctx, { accessKeyId: 'AKIA0000000000000000', secretAccessKey: 'x'.repeat(40) });
  const provisioner = await provisionerOf(ctx);
  const request = requestOf(ctx);
  const found = await provisioner.discover(request).catch((error: unknown) => {
    throw lookFailed(error);
  });
  const plan = provisioner.plan(request, found);
  const journal = journalFor(ctx, plan);
  const result = await apply(ctx, plan, journal);
  if (result.error) throw failure(ctx, result.error, journal.state);
  // A key known at plan time (the operator's, --use-operator-key) is stored once the plan has worked.
  if (plan.appKey && result.applied) journal.secret(plan.appKey);
  const state = journal.state;
  const appKey = journal.savedKey;
  const label = { bucket: 'bucket', 'iam-user': 'IAM user', 'access-key': 'access key' } as const;
  const named = (outcome: 'created' | 'adopted'): string[] =>
    plan.resources
      .filter((r) => r.outcome === outcome)
      .map((r) => `${label[r.kind]} ${r.name ?? state.accessKeyId}${r.note ? ` (${r.note})` : ''}`);
  return {
    appKey,
    applied: result.applied,
    plan: planData(plan),
    planText: formatPlan(plan),
    summary: {
      ok: true,
      provider: ctx.provider,
      accountId: state.accountId,
      created: named('created'),
      adopted: named('adopted'),
      deleted: [],
      secretDestination: appKey ? secretDestinationOf(ctx) : undefined,
      accessKeyId: appKey?.accessKeyId ?? state.accessKeyId,
      verifiedAfterSeconds: result.verifiedAfterSeconds,
      wallSeconds: seconds(started),
    },
  };
}

export async function destroy(ctx: ProvisionContext): Promise<{
  summary: ProvisionSummary;
  applied: boolean;
  plan: PlanData;
  planText: string;
}> {
  const started = Date.now();
  const provisioner = await provisionerOf(ctx);
  const request = requestOf(ctx);
  const found = await provisioner.discoverTeardown(request);
  const plan = provisioner.planTeardown(request, found);
  const journal = journalFor(ctx, plan);
  const result = await apply(ctx, plan, journal);
  if (result.error) throw failure(ctx, result.error, journal.state);
  // What is left is only a bucket kept on purpose: remembered, so a later --destroy --delete-bucket finds it.
  const left = journal.state;
  if (result.applied)
    journal.settle(
      left.bucket
        ? { bucket: left.bucket, region: left.region, endpoint: left.endpoint, accountId: left.accountId }
        : undefined,
    );
  return {
    applied: result.applied,
    plan: planData(plan),
    planText: formatPlan(plan),
    summary: {
      ok: true,
      provider: ctx.provider,
      accountId: ctx.state.accountId,
      created: [],
      adopted: [],
      deleted: plan.steps.map((s) => s.title),
      wallSeconds: seconds(started),
    },
  };
}
