/**
 * Progress of a provisioning run: a listr2 task list with a line per plan step (spinner on a terminal,
 * plain lines in CI or without a terminal; listr2 honours NO_COLOR). Written to stderr, so that stdout
 * carries only the --json summary when one is asked for.
 */
import { Listr, ListrLogger, ProcessOutput } from 'listr2';

const stderrLogger = (): ListrLogger =>
  new ListrLogger({ useIcons: true, processOutput: new ProcessOutput(process.stderr, process.stderr) });
import type { RunnableStep, StepEvents } from '../../lib/provision/runner.js';
import type { StepId } from '../../lib/provision/types.js';

interface Deferred {
  started: Promise<void>;
  finished: Promise<void>;
  start(): void;
  done(): void;
  fail(error: unknown): void;
}

function deferred(): Deferred {
  let start!: () => void;
  let done!: () => void;
  let fail!: (e: unknown) => void;
  const started = new Promise<void>((r) => (start = r));
  const finished = new Promise<void>((resolve, reject) => {
    done = resolve;
    fail = reject;
  });
  finished.catch(() => undefined);
  return { started, finished, start, done, fail };
}

export interface Progress {
  events: StepEvents;
  /** Ends the list: steps that never started are marked skipped. */
  close(): Promise<void>;
}

export function showProgress(steps: readonly RunnableStep[], interactive: boolean): Progress {
  const pending = new Map<StepId, Deferred>(steps.map((s) => [s.id, deferred()]));
  const fancy = interactive && Boolean(process.stderr.isTTY) && process.env.CI !== 'true';
  const list = new Listr(
    steps.map((s) => ({
      title: fancy ? `${s.title} (waiting)` : s.title,
      task: async (_ctx: unknown, task: { title: string; skip(message?: string): void }) => {
        const d = pending.get(s.id)!;
        const which = await Promise.race([
          d.started.then(() => 'started' as const),
          d.finished.then(() => 'ended' as const),
        ]);
        if (which === 'ended') return task.skip(`${s.title}: not started`);
        task.title = s.title;
        const started = Date.now();
        await d.finished;
        task.title = `${s.title} (${((Date.now() - started) / 1000).toFixed(1)} s)`;
      },
    })),
    {
      concurrent: true,
      exitOnError: false,
      renderer: fancy ? 'default' : 'simple',
      fallbackRenderer: 'simple',
      collectErrors: false,
      // Both renderers log through a ListrLogger, whose default writes to stdout: give it stderr too.
      rendererOptions: { logger: stderrLogger() },
      fallbackRendererOptions: { logger: stderrLogger() },
      processOutput: new ProcessOutput(process.stderr, process.stderr),
    } as never,
  );
  const running = list.run().catch(() => undefined);
  return {
    events: {
      start: (s) => pending.get(s.id)?.start(),
      done: (s) => pending.get(s.id)?.done(),
      fail: (s, e) => pending.get(s.id)?.fail(e),
    },
    close: async () => {
      for (const d of pending.values()) d.done();
      await running;
    },
  };
}
