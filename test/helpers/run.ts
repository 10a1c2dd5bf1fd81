/** Runs the built generators (dist/) in a fixture project, the way yo and the bin do. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import helpers, { type RunResult } from 'yeoman-test';
import { PROVIDER_IDS } from '../../generators/registry.js';
import { writeProject, type FixtureId } from './projects.js';

/**
 * Node 24 workaround for yeoman-test's adapter (@yeoman/adapter 4.0.2, the last release for Node 20): its prompt
 * module's output is `Duplex.from(async () => {})`, which Node 24 destroys with an AbortError nobody listens
 * for (an uncaught exception in the test process). 5.0 fixes it but needs Node 22.18+. While the adapter is
 * built, streams made by Duplex.from get a listener that swallows exactly that AbortError and nothing else.
 */
const createTestAdapter = helpers.createTestAdapter.bind(helpers);
helpers.createTestAdapter = (options) => {
  const original = Object.getOwnPropertyDescriptor(Duplex, 'from')!;
  const from = Duplex.from.bind(Duplex);
  Duplex.from = ((source: Parameters<typeof Duplex.from>[0]) => {
    const stream = from(source);
    stream.on('error', (error: Error) => {
      if (error.name !== 'AbortError') throw error;
    });
    return stream;
  }) as typeof Duplex.from;
  try {
    return createTestAdapter(options);
  } finally {
    Object.defineProperty(Duplex, 'from', original);
  }
};

/** A prompt-less, silent adapter (with the workaround above), for environments a test creates itself. */
export const quietAdapter = (): ReturnType<typeof helpers.createTestAdapter> => helpers.createTestAdapter();

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = path.join(ROOT, 'bin/arches-storage.js');

export function generatorPath(name: string): string {
  return path.join(ROOT, 'dist/generators', name, 'index.js');
}

/** A fresh fixture project in a temporary directory. */
export function freshProject(id: FixtureId, options: Parameters<typeof writeProject>[2] = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), `arches-${id}-`));
  writeProject(dir, id, options);
  return dir;
}

/** Every file below dir (but .git), path → content. */
export function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string): void => {
    for (const name of readdirSync(path.join(dir, rel)).sort()) {
      if (name === '.git') continue;
      const r = rel ? `${rel}/${name}` : name;
      if (statSync(path.join(dir, r)).isDirectory()) walk(r);
      else out.set(r, readFileSync(path.join(dir, r), 'utf8'));
    }
  };
  walk('');
  return out;
}

export interface RunOptions {
  /** Prompt answers; any question without one fails the run. */
  answers?: Record<string, unknown>;
  env?: Record<string, string | undefined>;
  /** Called with the generator before it runs (to listen to its task events). */
  onGenerator?: (generator: { on(event: string, listener: () => void): unknown }) => void;
}

/** A question the run asked, as the generator put it to the prompt module, with the answer given. */
export interface AskedQuestion {
  name: string;
  type: string;
  message: string;
  choices?: unknown;
  default?: unknown;
  answer: unknown;
}

export interface GeneratorRun extends RunResult {
  /** Every question asked, in order, with its prompt type (askedQuestions has only name and answer). */
  questions: AskedQuestion[];
  /** What the run wrote through console.log/warn/error and process warnings (deprecations among them). */
  warnings: string[];
}

/** Deprecation notices: a run that prints one fails (Yeoman, inquirer or Node say "deprecated"). */
export const DEPRECATION = /deprecat/i;

/**
 * Collects what `run` writes through console.log/warn/error (Yeoman's and inquirer's deprecation notices go
 * there) and Node's process warnings, still passing them on.
 */
async function collectingWarnings<T>(run: () => Promise<T>): Promise<{ result: T; warnings: string[] }> {
  const warnings: string[] = [];
  const methods = ['log', 'warn', 'error'] as const;
  // Put back as they were (own properties of console in Node), not as the bound copies the wrappers call.
  const originals = methods.map((m) => Object.getOwnPropertyDescriptor(console, m));
  methods.forEach((m) => {
    const passOn = console[m].bind(console);
    console[m] = (...args: unknown[]) => {
      warnings.push(args.map(String).join(' '));
      passOn(...args);
    };
  });
  const onWarning = (w: Error): void => {
    warnings.push(`${w.name}: ${w.message}`);
  };
  process.on('warning', onWarning);
  try {
    return { result: await run(), warnings };
  } finally {
    methods.forEach((m, i) => {
      const original = originals[i];
      if (original) Object.defineProperty(console, m, original);
      else delete console[m];
    });
    process.off('warning', onWarning);
  }
}

/**
 * Runs a generator with yeoman-test in an existing project directory. A run that prints a deprecation notice
 * fails, whatever it tests.
 */
export async function runGenerator(
  name: string,
  dir: string,
  options: Record<string, unknown>,
  run: RunOptions = {},
): Promise<GeneratorRun> {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(run.env ?? {})) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  const questions: AskedQuestion[] = [];
  try {
    const { result, warnings } = await collectingWarnings(() =>
      helpers
        .run(generatorPath(name), { namespace: `arches-storage:${name}` })
        // The app generator composes with a provider's by namespace, as yo and the bin register them.
        .withGenerators(PROVIDER_IDS.map((id) => [generatorPath(id), { namespace: `arches-storage:${id}` }]))
        .cd(dir)
        .onGenerator((g) => run.onGenerator?.(g))
        // A copy: Yeoman adds camelCase keys to the options object it is given.
        .withOptions({ ...options })
        // "Write these changes?" is answered yes unless a test says otherwise.
        .withAnswers(
          { write: true, ...run.answers },
          {
            throwOnMissingAnswer: true,
            callback: (answer: unknown, { question }) => {
              const q = question as Partial<AskedQuestion>;
              questions.push({
                name: String(q.name),
                type: String(q.type),
                message: String(q.message),
                choices: q.choices,
                default: q.default,
                answer,
              });
              return answer;
            },
          },
        )
        .then((r) => r),
    );
    const deprecated = warnings.filter((w) => DEPRECATION.test(w));
    if (deprecated.length) throw new Error(`the run printed a deprecation notice:\n${deprecated.join('\n')}`);
    return Object.assign(result, { questions, warnings });
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** What a run on a pseudo-terminal printed (stdout and stderr as the terminal shows them). */
export interface TerminalRun {
  code: number | null;
  out: string;
  /** The first script pattern that never showed up (the command was killed), or null. */
  pending: string | null;
}

/**
 * Runs the bin on a pseudo-terminal (test/helpers/pty_run.py), so prompts are real inquirer prompts on a TTY:
 * each [pattern, keys] of the script waits for the pattern in the output, then types the keys.
 */
export function runOnTerminal(
  args: string[],
  script: Array<[pattern: string, keys: string]>,
  options: { env?: Record<string, string | undefined> } = {},
): TerminalRun {
  const r = spawnSync(
    '/usr/bin/python3',
    [
      path.join(ROOT, 'test/helpers/pty_run.py'),
      '--script',
      JSON.stringify(script),
      process.execPath,
      BIN,
      ...args,
    ],
    {
      // cwd: yeoman-test runs elsewhere in the suite chdir into folders that are later removed.
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, CI: undefined, ...options.env },
    },
  );
  if (r.status !== 0) throw new Error(`pty_run.py failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as TerminalRun;
}

/** Runs the package bin as a child process. */
export function runBin(
  args: string[],
  options: { cwd?: string; env?: Record<string, string | undefined> } = {},
): { status: number | null; stdout: string; stderr: string } {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env,
    encoding: 'utf8',
    input: '',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Options that satisfy each provider in a no-prompt run. */
export const PROVIDER_OPTIONS: Record<string, Record<string, unknown>> = {
  aws: { bucket: 'arches-media-test', region: 'eu-west-2', 'cors-origin': ['https://arches.example.org'] },
  's3-compatible': {
    service: 'minio',
    endpoint: 'http://127.0.0.1:9000',
    bucket: 'arches-media-test',
    'cors-origin': ['https://arches.example.org'],
  },
  gcs: { bucket: 'arches_media_test', 'cors-origin': ['https://arches.example.org'] },
  azure: { account: 'archesmediatest', container: 'media', 'cors-origin': ['https://arches.example.org'] },
  local: {},
};

export const NO_PROMPT = Object.freeze({ 'skip-prompts': true, provision: false });

/** The bin, without blocking this process: needed when a server of the test (s3rver) runs in it. */
export function runBinAsync(
  args: string[],
  /** `inherit: false`: `env` is the whole environment (default: added to this process's). */
  options: { cwd?: string; env?: Record<string, string | undefined>; inherit?: boolean } = {},
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      // Not the suite's cwd by default: yeoman-test runs elsewhere chdir into folders that are later removed.
      cwd: options.cwd ?? ROOT,
      env: options.inherit === false ? { ...options.env } : { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
