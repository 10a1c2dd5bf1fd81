/**
 * `npm run demo` (scripts/demo.sh builds, then runs this): the whole story on one machine, with no cloud account.
 *
 *   1. a sample Arches 7.4 project, committed to git so the overlay shows as a diff
 *   2. an embedded S3-compatible server (s3rver), empty
 *   3. the generator, run through the package bin exactly as a user would: it creates the bucket, sets its
 *      CORS, verifies it with the app key, and writes the overlay
 *   4. what it wrote: git status, the settings block, the dependency lines, arches-storage/, settings_local.py
 *   5. the bucket's CORS is the generated cors.json, and a browser preflight is answered
 *   6. a file uploaded, read back, signed and deleted through Django (Debian's /usr/bin/python3, Django 3.2)
 *   7. cleanup
 *
 * Nothing here re-implements the product or the tests: the project is the tests' fixture (test/helpers/projects.ts),
 * the server their s3rver helper, the Django check theirs (test/helpers/django.ts, demo/django_storage_check.py),
 * blocks are found by the generator's own engine (lib/blocks.ts) and keys masked by its redaction (lib/redact.ts).
 *
 * Options: --dir DIR keeps the project in DIR (created if missing; must be empty) instead of a temporary dir.
 * Exits non-zero if any step failed.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  ListObjectsV2Command,
  GetBucketCorsCommand,
  HeadBucketCommand,
  type PutBucketCorsCommandInput,
} from '@aws-sdk/client-s3';
import { findBlock } from '../lib/blocks.js';
import { redact } from '../lib/redact.js';
import { ARCHES_STUB, DJANGO_CHECK, DJANGO_PYTHON, djangoCheck } from '../test/helpers/django.js';
import { writeProject } from '../test/helpers/projects.js';
import { S3RVER_KEY, startS3rver, type RunningS3 } from '../test/helpers/s3rver.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUCKET = 'arches-demo-media';
const ORIGIN = 'http://localhost:8000';
const PKG = 'demo_heritage';

// The SDK warns on every Node < 22 that future releases will need 22; this demo runs on the supported Node 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const tty = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: string) => (s: string) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
const bold = paint('1');
const dim = paint('2');
const green = paint('32');
const red = paint('31');
const cyan = paint('36');

// ---------------------------------------------------------------------------------------------------------------
// output helpers

function heading(n: number, title: string): void {
  const line = `── ${n}. ${title} `;
  console.log(`\n${bold(cyan(line + '─'.repeat(Math.max(4, 100 - line.length))))}`);
}
const say = (s: string): void => console.log(s);
const indent = (text: string, by = '    '): string =>
  text
    .replace(/\n$/, '')
    .split('\n')
    .map((l) => by + l)
    .join('\n');
const ok = (s: string): void => console.log(`  ${green('✓')} ${s}`);
const showCmd = (cmd: string): void => console.log(dim(`  $ ${cmd}`));

class StepError extends Error {}
function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new StepError(message);
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a child process without blocking the event loop (the S3 server lives in this process).
 * With stream: true its output goes straight to the terminal as it comes.
 */
function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; stream?: boolean } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd ?? ROOT,
      env: opts.env ?? process.env,
      stdio: ['ignore', opts.stream ? 'inherit' : 'pipe', opts.stream ? 'inherit' : 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function git(dir: string, args: string[]): Promise<string> {
  const r = await run('git', ['-c', 'color.ui=false', ...args], { cwd: dir });
  expect(r.code === 0, `git ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
  return r.stdout;
}

// ---------------------------------------------------------------------------------------------------------------
// state and steps

interface State {
  dir: string;
  keep: boolean;
  s3?: RunningS3;
}

interface StepOutcome {
  n: number;
  title: string;
  status: 'ok' | 'failed' | 'skipped';
  ms: number;
  error?: string;
}

const outcomes: StepOutcome[] = [];

/** Runs one numbered step; a failure is reported and recorded, and steps that need it are skipped. */
async function step(n: number, title: string, needs: number[], body: () => Promise<void>): Promise<boolean> {
  heading(n, title);
  const missing = needs.filter((m) => outcomes.find((o) => o.n === m)?.status !== 'ok');
  if (missing.length) {
    say(`  skipped: step ${missing.join(', ')} did not succeed`);
    outcomes.push({ n, title, status: 'skipped', ms: 0 });
    return false;
  }
  const start = performance.now();
  try {
    await body();
    outcomes.push({ n, title, status: 'ok', ms: performance.now() - start });
    return true;
  } catch (error) {
    const message = error instanceof StepError ? error.message : ((error as Error).stack ?? String(error));
    console.log(`  ${red('✗')} ${red(message)}`);
    outcomes.push({ n, title, status: 'failed', ms: performance.now() - start, error: message });
    return false;
  }
}

function parseOptions(): { dir?: string } {
  const { values } = parseArgs({
    options: { dir: { type: 'string' }, help: { type: 'boolean', default: false } },
    strict: true,
  });
  if (values.help) {
    say(
      'Usage: npm run demo [-- --dir DIR]\n  --dir DIR  keep the sample project in DIR (created if missing; must be empty)',
    );
    process.exit(0);
  }
  return { dir: values.dir };
}

function prepareDir(requested: string | undefined): State {
  if (!requested) return { dir: mkdtempSync(path.join(tmpdir(), 'arches-storage-demo-')), keep: false };
  const dir = path.resolve(requested);
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new Error(`--dir ${dir} exists and is not a directory`);
    if (readdirSync(dir).length) throw new Error(`--dir ${dir} is not empty: give a new or empty directory`);
  } else {
    mkdirSync(dir, { recursive: true });
  }
  return { dir, keep: true };
}

/** The managed block of a file as the generator finds it (lib/blocks.ts findBlock: BEGIN … END, both included). */
function managedBlock(file: string, text: string): string | undefined {
  const span = findBlock(file, text);
  return span && text.slice(span.start, span.end);
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const t0 = performance.now();
  const { dir: requested } = parseOptions();
  const state = prepareDir(requested);

  let cleaned = false;
  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    if (state.s3) await state.s3.stop().catch(() => undefined);
    state.s3 = undefined;
    if (!state.keep) rmSync(state.dir, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void cleanup().finally(() => process.exit(130));
    });
  }

  try {
    return await demo(state, cleanup, t0);
  } finally {
    // Normally done in step 7; this also covers an unexpected throw between steps.
    await cleanup().catch(() => undefined);
  }
}

async function demo(state: State, cleanup: () => Promise<void>, t0: number): Promise<number> {
  const { dir } = state;
  const rel = (p: string): string => path.join(dir, p);
  say(
    bold('generator-arches-storage demo: an Arches 7.4 project moved to S3-compatible storage, end to end'),
  );
  say(dim(`project: ${dir}${state.keep ? ' (kept)' : ' (temporary)'}`));

  await step(1, 'A sample Arches 7.4 project, committed to git', [], async () => {
    writeProject(dir, '7.4', { pkg: PKG });
    await git(dir, ['-c', 'init.defaultBranch=main', 'init', '-q']);
    await git(dir, ['add', '-A']);
    await git(dir, [
      '-c',
      'user.name=arches-storage demo',
      '-c',
      'user.email=demo@example.invalid',
      '-c',
      'commit.gpgsign=false',
      'commit',
      '-q',
      '-m',
      'Arches 7.4 project (fixture)',
    ]);
    showCmd('git ls-files');
    say(indent(await git(dir, ['ls-files'])));
    ok(
      `${PKG} (Arches ${/^arches==(.+)$/m.exec(readFileSync(rel(`${PKG}/install/requirements.txt`), 'utf8'))?.[1]}), committed`,
    );
  });

  await step(2, 'An S3-compatible server (s3rver), empty', [], async () => {
    state.s3 = await startS3rver();
    ok(`s3rver listening at ${state.s3.endpoint}, no bucket yet: the generator creates it`);
  });

  await step(3, 'Run the generator, as a user would', [1, 2], async () => {
    const endpoint = state.s3!.endpoint;
    const args = [
      's3-compatible',
      '--project',
      dir,
      '--service',
      'minio',
      '--endpoint',
      endpoint,
      '--bucket',
      BUCKET,
      '--cors-origin',
      ORIGIN,
      '--access-key-id',
      S3RVER_KEY.accessKeyId,
      '--secret-access-key',
      S3RVER_KEY.secretAccessKey,
      '--skip-prompts',
    ];
    // Both keys are declared secret (lib/options.ts): masked the way the generator masks what it prints.
    showCmd(redact(`node bin/arches-storage.js ${args.join(' ')}`, S3RVER_KEY));
    const r = await run(process.execPath, [path.join(ROOT, 'bin/arches-storage.js'), ...args], {
      stream: true,
    });
    expect(r.code === 0, `the generator exited with code ${r.code}`);
    ok('the generator exited with code 0');
    await state.s3!.client.send(new HeadBucketCommand({ Bucket: BUCKET }));
    ok(`bucket ${BUCKET} exists now (HeadBucket)`);
  });

  await step(4, 'What it wrote', [3], async () => {
    showCmd('git status --short');
    say(indent(await git(dir, ['status', '--short'])));
    showCmd('git diff --stat');
    say(indent(await git(dir, ['diff', '--stat'])));

    const settings = readFileSync(rel(`${PKG}/settings.py`), 'utf8');
    const block = managedBlock(`${PKG}/settings.py`, settings);
    expect(block, `${PKG}/settings.py has no arches-storage block`);
    say(`\n  ${bold(`${PKG}/settings.py`)}, the managed block:`);
    say(indent(block));

    say(`\n  ${bold('Dependency lines')} (git diff ${PKG}/install/requirements.txt):`);
    const depDiff = await git(dir, ['diff', '-U0', '--', `${PKG}/install/requirements.txt`]);
    const added = depDiff.split('\n').filter((l) => l.startsWith('+') && !l.startsWith('+++'));
    expect(added.length > 0, 'no dependency lines were added');
    say(indent(added.join('\n')));

    say(`\n  ${bold('arches-storage/')}:`);
    const files = readdirSync(rel('arches-storage')).sort();
    for (const f of files) say(`    ${f.padEnd(14)} ${statSync(rel(`arches-storage/${f}`)).size} bytes`);
    expect(files.includes('cors.json'), 'arches-storage/cors.json is missing');
    say(`\n  ${bold('arches-storage/cors.json')}:`);
    say(indent(readFileSync(rel('arches-storage/cors.json'), 'utf8')));

    const local = readFileSync(rel(`${PKG}/settings_local.py`), 'utf8');
    const localBlock = managedBlock(`${PKG}/settings_local.py`, local);
    expect(localBlock, `${PKG}/settings_local.py has no arches-storage block`);
    expect(
      local.includes(S3RVER_KEY.accessKeyId) && local.includes(S3RVER_KEY.secretAccessKey),
      'settings_local.py does not hold the keys',
    );
    expect(!settings.includes(`"${S3RVER_KEY.secretAccessKey}"`), 'the secret key is in settings.py');
    say(`\n  ${bold(`${PKG}/settings_local.py`)}, the managed block (keys redacted as the generator does):`);
    say(indent(redact(localBlock, S3RVER_KEY)));
    showCmd(`git check-ignore -v ${PKG}/settings_local.py`);
    const ignored = await run('git', ['check-ignore', '-v', `${PKG}/settings_local.py`], { cwd: dir });
    expect(ignored.code === 0, `${PKG}/settings_local.py is NOT git-ignored: the keys would be committed`);
    say(indent(ignored.stdout));
    ok('the keys are in settings_local.py only, and git ignores it');
  });

  await step(5, 'CORS: the bucket has arches-storage/cors.json; a browser preflight', [2, 3], async () => {
    const s3 = state.s3!;
    const cors = JSON.parse(
      readFileSync(rel('arches-storage/cors.json'), 'utf8'),
    ) as PutBucketCorsCommandInput['CORSConfiguration'];
    const applied = await s3.client.send(new GetBucketCorsCommand({ Bucket: BUCKET }));
    expect(
      JSON.stringify(applied.CORSRules?.[0]?.AllowedOrigins) ===
        JSON.stringify(cors?.CORSRules?.[0]?.AllowedOrigins),
      'the bucket CORS differs from arches-storage/cors.json',
    );
    ok(`GetBucketCors on ${BUCKET}: the rules the generator applied, as in arches-storage/cors.json`);
    const url = `${s3.endpoint}/${BUCKET}/uploadedfiles/photo.jpg`;
    const preflight = (origin: string): Promise<Response> =>
      fetch(url, { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'GET' } });
    const show = (res: Response): void => {
      say(`    HTTP ${res.status} ${res.statusText}`);
      for (const [k, v] of res.headers) if (k.startsWith('access-control-')) say(`    ${k}: ${v}`);
    };

    showCmd(`curl -i -X OPTIONS -H 'Origin: ${ORIGIN}' -H 'Access-Control-Request-Method: GET' ${url}`);
    const res = await preflight(ORIGIN);
    show(res);
    const allowed = res.headers.get('access-control-allow-origin');
    expect(res.status === 200, `the preflight got HTTP ${res.status}`);
    // Real S3 echoes the origin; s3rver 3.7 answers any preflight that matches a rule with "*". Either way
    // the answer only comes when a rule matches, which the next request shows.
    expect(allowed === ORIGIN || allowed === '*', `no usable Access-Control-Allow-Origin (${allowed})`);
    ok(
      `the bucket answers the preflight from ${ORIGIN}` +
        (allowed === '*' ? ' (s3rver sends "*" once a rule matches; S3 echoes the origin)' : ''),
    );

    const other = 'https://elsewhere.example.com';
    showCmd(`curl -i -X OPTIONS -H 'Origin: ${other}' -H 'Access-Control-Request-Method: GET' ${url}`);
    const refused = await preflight(other);
    show(refused);
    await refused.arrayBuffer();
    expect(
      refused.status !== 200 && !refused.headers.get('access-control-allow-origin'),
      `a preflight from ${other}, which cors.json does not list, was allowed`,
    );
    ok(`a preflight from an origin cors.json does not list is refused`);
  });

  await step(6, 'Upload through Django with the generated settings', [2, 3], async () => {
    showCmd(
      `${DJANGO_PYTHON} ${path.relative(ROOT, DJANGO_CHECK)} ${dir} ${PKG} ${path.relative(ROOT, ARCHES_STUB)}`,
    );
    // The check's environment is clean: the keys must come from settings_local.py, not the caller's AWS_*.
    const result = await djangoCheck(dir, PKG).catch((error: Error) => {
      throw new StepError(`the Django check failed: ${error.message}`);
    });
    const row = (k: string, v: unknown): void => say(`    ${k.padEnd(22)} ${String(v)}`);
    row('settings style', result.style);
    if (result.default_file_storage) row('DEFAULT_FILE_STORAGE', result.default_file_storage);
    else row('backend', result.backend);
    row('MEDIA_URL', result.media_url);
    row('"storages" app', result.installed_apps_has_storages ? 'in INSTALLED_APPS' : 'MISSING');
    row('saved name', result.saved_as);
    row('size', `${result.size} bytes`);
    row('read back equal', result.read_back_equal);
    row(
      'second upload',
      `${result.second_name_differs ? 'got a new name' : 'OVERWROTE the first'} (listdir: ${result.listdir.join(', ')})`,
    );
    row('url (presigned)', result.url);
    row('deleted', !result.exists_after_delete);
    expect(result.exists && result.read_back_equal, 'the file did not round-trip');
    expect(/[?&]X-Amz-Signature=/.test(result.url), 'the URL is not presigned');
    expect(result.url.startsWith(`${state.s3!.endpoint}/${BUCKET}/`), 'the URL does not point at the bucket');
    expect(!result.exists_after_delete, 'the file was not deleted');

    showCmd(`ListObjectsV2 ${BUCKET}   (S3 SDK)`);
    const left = await state.s3!.client.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    const keys = (left.Contents ?? []).map((o) => o.Key);
    say(`    ${keys.length} object(s)${keys.length ? `: ${keys.join(', ')}` : ''}`);
    expect(keys.length === 0, 'the bucket is not empty after the deletes');
    ok('uploaded, read back, signed and deleted through django-storages: the bucket is empty again');
  });

  heading(7, 'Clean up');
  const stopping = state.s3;
  await cleanup();
  if (stopping) ok('s3rver stopped and its data removed');
  if (state.keep) ok(`project kept in ${dir} (see: git -C ${dir} diff)`);
  else ok(`temporary project ${dir} removed`);

  const failed = outcomes.filter((o) => o.status !== 'ok');
  say(`\n${bold('Summary')}`);
  for (const o of outcomes) {
    const mark = o.status === 'ok' ? green('✓') : o.status === 'failed' ? red('✗') : red('-');
    say(
      `  ${mark} ${o.n}. ${o.title.padEnd(66)} ${o.status === 'ok' ? `${(o.ms / 1000).toFixed(2)} s` : o.status}`,
    );
  }
  const total = ((performance.now() - t0) / 1000).toFixed(1);
  say(
    failed.length
      ? red(`\n${failed.length} step(s) did not succeed (${total} s).`)
      : green(`\nAll steps succeeded in ${total} s.`),
  );
  return failed.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(red(`demo failed: ${(error as Error).message}`));
    process.exit(2);
  },
);
