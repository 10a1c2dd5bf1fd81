/**
 * Progress of a provisioning run: a view of the runner's events, on stderr (stdout carries only the --json
 * summary when one is asked for). Each step that finishes or fails gets a line; on an interactive terminal
 * (not CI) one more line, redrawn in place, shows a spinner and the steps running. Elsewhere every start is a
 * plain line too. Colour only on a terminal that has it (NO_COLOR and FORCE_COLOR are honoured).
 */
import { styleText } from 'node:util';
import type { StepEvents } from '../../lib/provision/runner.js';
import { describeError } from '../../lib/provision/sdk.js';
import type { PlanStep, StepId } from '../../lib/provision/types.js';

export interface Progress {
  events: StepEvents;
  /** Prints something else (a warning) without breaking the live line. */
  print(write: () => void): void;
  /** Ends the view: steps that never started are listed as not started. */
  close(): void;
}

/** Where progress goes: stderr, or (tests) anything with its shape. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
  /** tty.WriteStream's: whether the terminal has colours (NO_COLOR, FORCE_COLOR, TERM honoured). */
  hasColors?(env: NodeJS.ProcessEnv): boolean;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function showProgress(
  steps: readonly PlanStep[],
  options: { interactive: boolean; stream?: ProgressStream; env?: NodeJS.ProcessEnv },
): Progress {
  const stream: ProgressStream = options.stream ?? process.stderr;
  const env = options.env ?? process.env;
  const live = options.interactive && Boolean(stream.isTTY) && env.CI !== 'true';
  const colour = Boolean(stream.isTTY) && stream.hasColors?.(env) === true;
  const paint = (format: Parameters<typeof styleText>[0], text: string): string =>
    colour ? styleText(format, text, { validateStream: false }) : text;
  const running = new Map<StepId, { title: string; started: number }>();
  const seen = new Set<StepId>();
  let frame = 0;
  let drawn = false;

  const clear = (): void => {
    if (drawn) stream.write('\r\x1b[2K');
    drawn = false;
  };
  const draw = (): void => {
    if (!live || !running.size) return clear();
    const titles = [...running.values()].map((r) => r.title);
    const oldest = Math.min(...[...running.values()].map((r) => r.started));
    const line = `${SPINNER[frame % SPINNER.length]} ${titles.join(' · ')} (${((Date.now() - oldest) / 1000).toFixed(1)} s)`;
    const width = stream.columns ? stream.columns - 1 : line.length;
    stream.write(`\r\x1b[2K${paint('cyan', line.length > width ? `${line.slice(0, width - 1)}…` : line)}`);
    drawn = true;
  };
  const say = (line: string): void => {
    clear();
    stream.write(`${line}\n`);
    draw();
  };
  const timer = live
    ? setInterval(() => {
        frame++;
        draw();
      }, 100)
    : undefined;
  timer?.unref();

  return {
    events: {
      start: (s) => {
        seen.add(s.id);
        running.set(s.id, { title: s.title, started: Date.now() });
        if (live) draw();
        else say(`${paint('dim', '…')} ${s.title}`);
      },
      done: (s, ms) => {
        running.delete(s.id);
        say(`${paint('green', '✔')} ${s.title} ${paint('dim', `(${(ms / 1000).toFixed(1)} s)`)}`);
      },
      fail: (s, error) => {
        running.delete(s.id);
        say(`${paint('red', '✖')} ${s.title}: ${describeError(error).split('\n')[0]}`);
      },
    },
    print: (write) => {
      clear();
      write();
      draw();
    },
    close: () => {
      if (timer) clearInterval(timer);
      clear();
      for (const s of steps)
        if (!seen.has(s.id)) stream.write(`${paint('dim', '-')} ${s.title}: not started\n`);
    },
  };
}
