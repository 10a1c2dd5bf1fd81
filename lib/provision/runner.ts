/**
 * Runs plan steps as a dependency graph: every step whose `needs` are done starts at once, so wall time
 * follows the critical path. On a failure no new step starts, the ones in flight finish, and the error
 * names the failed step and every step that completed.
 */
import { UserError } from '../types.js';
import type { PlanStep, StepId } from './types.js';

export interface RunnableStep extends PlanStep {
  run(): Promise<void>;
}

export interface StepEvents {
  start?(step: RunnableStep): void;
  done?(step: RunnableStep, ms: number): void;
  fail?(step: RunnableStep, error: unknown): void;
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

/** The SDK error's name ('' for a non-Error). */
export const errorName = (e: unknown): string => (e instanceof Error ? e.name : '');

/** The HTTP status an SDK error carries, if any. */
export const httpStatus = (e: unknown): number | undefined =>
  (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

/** An SDK or network error as one line: its name, message and HTTP status. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const e = error as Error & { code?: string; $metadata?: { httpStatusCode?: number } };
  const status = httpStatus(e);
  const name = e.name !== 'Error' ? e.name : (e.code ?? 'Error');
  return `${name}${status ? ` (HTTP ${status})` : ''}: ${e.message}`;
}

/**
 * Runs the steps; `concurrency: 1` runs them strictly one after another (in plan order), for comparison.
 * Steps whose needs are not in the list are treated as already satisfied.
 */
export async function runSteps(
  steps: readonly RunnableStep[],
  options: { concurrency?: number; events?: StepEvents } = {},
): Promise<StepId[]> {
  const limit = options.concurrency ?? Infinity;
  const ids = new Set(steps.map((s) => s.id));
  const completed: StepId[] = [];
  const pending = [...steps];
  const running = new Map<StepId, Promise<void>>();
  let failure: StepFailed | undefined;

  const ready = (s: RunnableStep): boolean => s.needs.every((n) => !ids.has(n) || completed.includes(n));
  const launch = (s: RunnableStep): void => {
    const started = Date.now();
    options.events?.start?.(s);
    const p = s
      .run()
      .then(() => {
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

/** --delete-bucket on a bucket the generator adopted: refused, whatever the provider. */
export function adoptedBucketKept(bucket: string): UserError {
  return new UserError(
    `Bucket ${bucket} was not created by this generator (it was adopted), so --delete-bucket never deletes ` +
      `it: delete it yourself if you mean to, or run --destroy without --delete-bucket. Nothing was deleted.`,
    'delete-bucket',
    1,
  );
}
