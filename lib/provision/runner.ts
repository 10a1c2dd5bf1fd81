/**
 * The one scheduler of a plan: every step whose `needs` are done starts at once, so wall time follows the
 * critical path. A step is executed from its data (each planned call sent as planned, then its change
 * recorded) or, where it has real logic, by its `run`. On a failure no new step starts, the ones in flight
 * finish, and the error names the failed step and every step that completed. What happens is reported as
 * events (start, done, fail), which the progress display renders.
 */
import { UserError } from '../types.js';
import { describeError, sendCall } from './sdk.js';
import type {
  AccessKey,
  AwsClients,
  PlanStep,
  ProvisionedState,
  StateChange,
  Step,
  StepContext,
  StepId,
} from './types.js';
import { applyChange } from './journal.js';

export interface StepEvents {
  start?(step: PlanStep): void;
  done?(step: PlanStep, ms: number): void;
  fail?(step: PlanStep, error: unknown): void;
}

/** Where a run's changes and its new secret go: the journal, or (benches) memory. */
export interface Recorder {
  readonly state: ProvisionedState;
  readonly savedKey: AccessKey | undefined;
  record(change: StateChange): void;
  secret(key: AccessKey): void;
}

/** A recorder that keeps everything in memory and writes nothing. */
export function inMemory(state: ProvisionedState): Recorder {
  let current = structuredClone(state);
  let key: AccessKey | undefined;
  return {
    get state() {
      return structuredClone(current);
    },
    get savedKey() {
      return key;
    },
    record: (change) => {
      current = applyChange(current, change);
    },
    secret: (k) => {
      key = k;
    },
  };
}

export interface RunOptions {
  recorder: Recorder;
  /** `1` runs the steps strictly one after another (in plan order), for comparison. */
  concurrency?: number;
  events?: StepEvents;
  warn?(message: string): void;
  verified?(seconds: number): void;
}

export class StepFailed extends Error {
  constructor(
    readonly step: StepId,
    readonly title: string,
    override readonly cause: unknown,
    readonly completed: StepId[],
  ) {
    super(`${title} failed: ${describeError(cause)}`);
    this.name = 'StepFailed';
  }
}

/** Executes one step: its calls as planned (its error rules applied), or its own logic; returns its change. */
async function execute(step: Step, ctx: StepContext): Promise<StateChange | undefined> {
  if (step.run) return step.run(ctx);
  for (const c of step.calls) {
    try {
      await ctx.send(c);
    } catch (error) {
      const rule = step.errors?.find((r) => r.when(error));
      if (!rule) throw error;
      if (rule.then === 'done') continue;
      if (rule.then instanceof UserError) throw rule.then;
      ctx.warn(`${rule.then.warn} (${describeError(error)})`);
      if (!rule.then.record) return undefined;
    }
  }
  return step.record;
}

/**
 * Runs the steps through the clients; steps whose needs are not in the list are treated as already
 * satisfied. Returns the ids of the steps completed, in the order they completed.
 */
export async function runSteps(
  steps: readonly Step[],
  clients: AwsClients,
  options: RunOptions,
): Promise<StepId[]> {
  const { recorder } = options;
  const ctx: StepContext = {
    clients,
    send: (c) => sendCall(clients, c),
    state: () => recorder.state,
    saveSecret: (key) => recorder.secret(key),
    savedKey: () => recorder.savedKey,
    warn: (m) => options.warn?.(m),
    verified: (s) => options.verified?.(s),
  };
  const limit = options.concurrency ?? Infinity;
  const ids = new Set(steps.map((s) => s.id));
  const completed: StepId[] = [];
  const pending = [...steps];
  const running = new Map<StepId, Promise<void>>();
  let failure: StepFailed | undefined;

  const ready = (s: Step): boolean => s.needs.every((n) => !ids.has(n) || completed.includes(n));
  const launch = (s: Step): void => {
    const started = Date.now();
    options.events?.start?.(s);
    const p = execute(s, ctx)
      .then((change) => {
        if (change) recorder.record(change);
        completed.push(s.id);
        options.events?.done?.(s, Date.now() - started);
      })
      .catch((error: unknown) => {
        options.events?.fail?.(s, error);
        failure ??= new StepFailed(s.id, s.title, error, completed);
      })
      .finally(() => running.delete(s.id));
    running.set(s.id, p);
  };

  while (pending.length || running.size) {
    if (!failure) {
      for (const s of [...pending]) {
        if (running.size >= limit) break;
        if (!ready(s)) continue;
        pending.splice(pending.indexOf(s), 1);
        launch(s);
      }
    }
    if (!running.size) break;
    await Promise.race(running.values());
  }
  if (failure) throw failure;
  if (pending.length) throw new Error(`steps never became ready: ${pending.map((s) => s.id).join(', ')}`);
  return completed;
}
