/**
 * The real bin, interrupted: SIGKILL (and SIGINT, SIGTERM) the moment each kind of file is being replaced,
 * then every file must be whole (its bytes before, or the bytes an uninterrupted run writes; nothing else),
 * and the next run completes to exactly what an uninterrupted run gives. Also: two runs at once, a stale
 * lock, pre-flight failures on a read-only folder, a full disk and a file nobody may write, and a broken
 * .yo-rc.json. Needs the build (dist/) and root (tmpfs mounts, setpriv).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  watch,
  writeFileSync,
  type FSWatcher,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { BIN, freshProject, ROOT } from '../helpers/run.js';
import { fillUp, nobodyNode, remountReadOnly, tmpfs, unmountAll } from '../helpers/sandbox.js';

const PKG = 'demo_heritage';
const KEY = [
  '--access-key-id',
  'AKIAIOSFODNN7EXAMPLE',
  '--secret-access-key',
  'wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY1',
];
const AWS = [
  'aws',
  '--skip-prompts',
  '--no-provision',
  '--bucket',
  'arches-media-test',
  '--region',
  'eu-west-2',
  '--cors-origin',
  'https://arches.example.org',
  ...KEY,
];
const LOCAL = ['local', '--skip-prompts'];
const TEMP = /^\.(.+)\.arches-storage-\d+-[0-9a-f]{8}\.tmp$/;
const LOCK = '.arches-storage.lock';

interface Entry {
  bytes: Buffer;
  mode: number;
}
type Snap = Map<string, Entry>;

/** Every file below dir (but .git), with its bytes and mode. */
function snap(dir: string): Snap {
  const out: Snap = new Map();
  const walk = (rel: string): void => {
    for (const name of readdirSync(path.join(dir, rel)).sort()) {
      if (name === '.git' || name === 'lost+found') continue;
      const r = rel ? `${rel}/${name}` : name;
      const s = statSync(path.join(dir, r));
      if (s.isDirectory()) walk(r);
      else out.set(r, { bytes: readFileSync(path.join(dir, r)), mode: s.mode & 0o7777 });
    }
  };
  walk('');
  return out;
}

function assertSame(actual: Snap, expected: Snap, what: string): void {
  assert.deepEqual([...actual.keys()], [...expected.keys()], `${what}: the files`);
  for (const [rel, e] of expected) {
    const a = actual.get(rel)!;
    assert.ok(a.bytes.equals(e.bytes), `${what}: ${rel} differs:\n${a.bytes.toString()}`);
    assert.equal(a.mode.toString(8), e.mode.toString(8), `${what}: mode of ${rel}`);
  }
}

/**
 * Test-only, loaded with --import into the bin: slows each write, rename, unlink and mkdir in the project, so
 * a signal sent when a file starts changing lands before the next one changes.
 */
const HOOK = `
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
const ms = Number(process.env.ARCHES_TEST_SLOW_MS || 0);
const dir = process.env.ARCHES_TEST_SLOW_DIR || '/nowhere';
const cell = new Int32Array(new SharedArrayBuffer(4));
const fds = new Set();
const inProject = (p) => typeof p === 'string' && p.startsWith(dir);
const { openSync, closeSync } = fs;
fs.openSync = function (p, ...rest) {
  const fd = openSync.call(this, p, ...rest);
  if (inProject(p)) fds.add(fd);
  return fd;
};
fs.closeSync = function (fd) {
  fds.delete(fd);
  return closeSync.call(this, fd);
};
for (const name of ['writeSync', 'renameSync', 'unlinkSync', 'mkdirSync']) {
  const original = fs[name];
  fs[name] = function (first, ...rest) {
    if (name === 'writeSync' ? fds.has(first) : inProject(first)) Atomics.wait(cell, 0, 0, ms);
    return original.call(this, first, ...rest);
  };
}
syncBuiltinESMExports();
`;
let hookFile = '';

interface Outcome {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function startBin(
  args: string[],
  dir: string,
  opts: { slowMs?: number; nobody?: boolean } = {},
): ChildProcess {
  const nodeArgs = [...(opts.slowMs ? ['--import', hookFile] : []), BIN, ...args, '--project', dir];
  const [cmd, argv] = opts.nobody ? nobodyNode(nodeArgs) : [process.execPath, nodeArgs];
  return spawn(cmd, argv, {
    cwd: ROOT,
    env: {
      ...process.env,
      ARCHES_TEST_SLOW_MS: String(opts.slowMs ?? 0),
      ARCHES_TEST_SLOW_DIR: dir,
      HOME: tmpdir(),
      CI: 'true',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function finished(child: ChildProcess): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) =>
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr })),
  );
}

function run(args: string[], dir: string, opts: { nobody?: boolean } = {}): Promise<Outcome> {
  return finished(startBin(args, dir, opts));
}

/** The stderr of a refused run: exactly one `arches-storage:` line, and no stack trace. */
function oneLine(o: Outcome, re: RegExp): void {
  const ours = o.stderr.split('\n').filter((l) => l.startsWith('arches-storage:'));
  assert.equal(ours.length, 1, o.stderr);
  assert.match(ours[0]!, re);
  assert.doesNotMatch(o.stderr, /^\s+at /m, 'a stack trace');
}

interface Trigger {
  /** The file, relative to the project root. */
  file: string;
  /** `temp`: its temp file appears (being written); `replaced`: it was renamed into place (or deleted). */
  moment: 'temp' | 'replaced';
  signal: NodeJS.Signals;
}

/** Runs the bin (slowed), watching every folder, and sends the signal at the trigger. */
async function runAndInterrupt(
  args: string[],
  dir: string,
  t: Trigger,
): Promise<{ fired: boolean; o: Outcome }> {
  const child = startBin(args, dir, { slowMs: 60 });
  const done = finished(child);
  const watchers: FSWatcher[] = [];
  let fired = false;
  const targetDir = path.dirname(t.file);
  const base = path.basename(t.file);
  const fire = (): void => {
    if (fired) return;
    fired = true;
    child.kill(t.signal);
  };
  const watchDir = (rel: string): void => {
    const abs = path.join(dir, rel);
    try {
      const w = watch(abs, (_event, name) => {
        if (!name) return;
        const r = rel === '.' ? name : `${rel}/${name}`;
        const m = TEMP.exec(name);
        // `temp`: the first sign of the file changing, whichever way it is written (its temp file, or the
        // file itself); `replaced`: the file itself changed (renamed into place, deleted, or written).
        if (rel === targetDir && (name === base || (t.moment === 'temp' && m?.[1] === base))) fire();
        if (!m && !watchers.some((x) => (x as FSWatcher & { rel?: string }).rel === r)) {
          const s = statSync(path.join(dir, r), { throwIfNoEntry: false });
          if (s?.isDirectory()) watchDir(r);
        }
      });
      (w as FSWatcher & { rel?: string }).rel = rel;
      watchers.push(w);
    } catch {
      // Gone already.
    }
  };
  const walk = (rel: string): void => {
    watchDir(rel);
    for (const d of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      if (d.isDirectory() && d.name !== '.git') walk(rel === '.' ? d.name : `${rel}/${d.name}`);
    }
  };
  walk('.');
  const o = await done;
  for (const w of watchers) w.close();
  return { fired, o };
}

/** Every file is whole: its bytes before, or the reference bytes after; a secret never readable by others. */
function assertWhole(now: Snap, before: Snap, after: Snap, killed: boolean): void {
  const paths = new Set([...before.keys(), ...after.keys(), ...now.keys()]);
  for (const rel of paths) {
    const name = path.basename(rel);
    if (TEMP.test(name) || rel === LOCK) {
      assert.ok(killed, `${rel} left by a run that was not SIGKILLed`);
      continue;
    }
    const n = now.get(rel);
    const b = before.get(rel);
    const a = after.get(rel);
    const same = (x: Entry | undefined): boolean =>
      x === undefined ? n === undefined : n !== undefined && n.bytes.equals(x.bytes);
    assert.ok(same(b) || same(a), `${rel} is neither its old nor its new bytes:\n${n?.bytes.toString()}`);
    if (n && a && n.bytes.equals(a.bytes) && (!b || !n.bytes.equals(b.bytes))) {
      assert.equal(n.mode.toString(8), a.mode.toString(8), `${rel}: new bytes with another mode`);
    }
  }
}

interface Flow {
  fixture: '7.4' | '8.0';
  /** The run that is interrupted, and the state it starts from. */
  args: string[];
  from?: string[];
}

const refs = new Map<string, { before: Snap; after: Snap }>();
const flowKey = (f: Flow): string => `${f.fixture} ${(f.from ?? []).join(' ')} -> ${f.args.join(' ')}`;

async function prepared(f: Flow): Promise<string> {
  const dir = freshProject(f.fixture, { gitignoreSettingsLocal: false });
  if (f.from) {
    const o = await run(f.from, dir);
    assert.equal(o.status, 0, o.stderr);
  }
  return dir;
}

async function reference(f: Flow): Promise<{ before: Snap; after: Snap }> {
  const key = flowKey(f);
  if (!refs.has(key)) {
    const dir = await prepared(f);
    const before = snap(dir);
    const o = await run(f.args, dir);
    assert.equal(o.status, 0, o.stderr);
    refs.set(key, { before, after: snap(dir) });
  }
  return refs.get(key)!;
}

/** Runs tasks a few at a time. */
async function pool<T>(tasks: Array<() => Promise<T>>, width: number): Promise<T[]> {
  const out = new Array<T>(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < tasks.length) {
        const i = next++;
        out[i] = await tasks[i]!();
      }
    }),
  );
  return out;
}

describe('e2e: interrupted runs, one run at a time, pre-flight (the real bin)', function () {
  this.timeout(120_000);

  before(function () {
    if (!existsSync(path.join(ROOT, 'dist/generators/aws/index.js'))) this.skip();
    hookFile = path.join(mkdtempSync(path.join(tmpdir(), 'arches-hook-')), 'slow.mjs');
    writeFileSync(hookFile, HOOK);
  });
  after(unmountAll);

  describe('killed at each file, the next run completes', () => {
    const aws74: Flow = { fixture: '7.4', args: AWS };
    const aws80: Flow = { fixture: '8.0', args: AWS };
    const back: Flow = { fixture: '7.4', from: AWS, args: LOCAL };
    const kill = (file: string, moment: Trigger['moment'] = 'temp'): Trigger => ({
      file,
      moment,
      signal: 'SIGKILL',
    });
    /**
     * Each chain runs on one project: a run interrupted at each trigger in turn (in the order the files are
     * written, so each run gets one file further), then a run that completes.
     */
    const chains: Array<{ name: string; flow: Flow; triggers: Trigger[] }> = [
      {
        name: 'aws on 7.4 (requirements.txt), killed while writing each file',
        flow: aws74,
        triggers: [
          kill(`${PKG}/install/requirements.txt`),
          kill(`${PKG}/settings.py`),
          kill(`${PKG}/settings_local.py`),
          kill('.gitignore'),
          kill('arches-storage/NOTES.md'),
          kill('arches-storage/cors.json'),
          kill('.yo-rc.json'),
        ],
      },
      {
        name: 'aws on 7.4, killed just after each file was replaced',
        flow: aws74,
        triggers: [
          kill(`${PKG}/settings.py`, 'replaced'),
          kill(`${PKG}/settings_local.py`, 'replaced'),
          kill('arches-storage/cors.json', 'replaced'),
        ],
      },
      {
        name: 'aws on 8.0 (pyproject.toml)',
        flow: aws80,
        triggers: [kill('pyproject.toml'), kill(`${PKG}/settings.py`, 'replaced')],
      },
      {
        name: 'aws on 7.4, SIGINT then SIGTERM',
        flow: aws74,
        triggers: [
          { file: `${PKG}/settings.py`, moment: 'temp', signal: 'SIGINT' },
          { file: '.yo-rc.json', moment: 'temp', signal: 'SIGTERM' },
        ],
      },
      {
        name: 'back to local, killed while settings.py is written and after a document is deleted',
        flow: back,
        triggers: [kill(`${PKG}/settings.py`), kill('arches-storage/cors.json', 'replaced')],
      },
    ];

    interface Step {
      fired: boolean;
      o: Outcome;
      now: Snap;
    }
    let results: Array<{ steps: Step[]; next: Outcome; final: Snap }>;
    before(async function () {
      this.timeout(300_000);
      await pool(
        [aws74, aws80, back].map((f) => () => reference(f)),
        3,
      );
      results = await pool(
        chains.map((c) => async () => {
          const dir = await prepared(c.flow);
          const steps: Step[] = [];
          for (const t of c.triggers) {
            const { fired, o } = await runAndInterrupt(c.flow.args, dir, t);
            steps.push({ fired, o, now: snap(dir) });
          }
          const next = await run(c.flow.args, dir);
          const final = snap(dir);
          rmSync(dir, { recursive: true, force: true });
          return { steps, next, final };
        }),
        3,
      );
    });

    chains.forEach((c, ci) => {
      describe(c.name, () => {
        c.triggers.forEach((t, i) => {
          const when = t.moment === 'temp' ? 'while writing' : 'just after replacing';
          it(`${t.signal} ${when} ${t.file}: every file old or new`, () => {
            const r = results[ci]!.steps[i]!;
            const ref = refs.get(flowKey(c.flow))!;
            assert.ok(r.fired, `the run ended before ${t.file} changed: ${r.o.stderr}`);
            assert.equal(r.o.signal, t.signal, `died of ${t.signal}: ${r.o.status} ${r.o.stderr}`);
            assertWhole(r.now, ref.before, ref.after, t.signal === 'SIGKILL');
            if (t.signal !== 'SIGKILL') assert.equal(r.now.has(LOCK), false, 'the lock is released');
          });
        });
        it('the next run completes to exactly what an uninterrupted run writes', () => {
          const r = results[ci]!;
          assert.equal(r.next.status, 0, r.next.stderr);
          assertSame(r.final, refs.get(flowKey(c.flow))!.after, 'after the next run');
        });
      });
    });

    it('the reference run writes settings_local.py 0600 with the key, and leaves no lock or temp file', () => {
      const ref = refs.get(flowKey(aws74))!;
      assert.equal(ref.after.get(`${PKG}/settings_local.py`)!.mode, 0o600);
      assert.match(ref.after.get(`${PKG}/settings_local.py`)!.bytes.toString(), /AKIAIOSFODNN7EXAMPLE/);
      assert.ok(ref.after.has('.yo-rc.json'));
      assert.ok([...ref.after.keys()].every((k) => k !== LOCK && !TEMP.test(path.basename(k))));
    });
  });

  describe('one run at a time', () => {
    it('a second run (and a --dry-run) while the first is writing exits 1 naming it, and changes nothing', async () => {
      const ref = await reference({ fixture: '7.4', args: AWS });
      const dir = freshProject('7.4', { gitignoreSettingsLocal: false });
      const first = startBin(AWS, dir);
      const firstDone = finished(first);
      while (!existsSync(path.join(dir, LOCK))) await new Promise((r) => setTimeout(r, 2));
      // Held still while the second run tries: a stopped process is alive, and its lock with it.
      first.kill('SIGSTOP');
      const other = AWS.map((a) => (a === 'arches-media-test' ? 'another-bucket' : a));
      const second = await run(other, dir);
      const dry = await run([...AWS, '--dry-run'], dir);
      first.kill('SIGCONT');
      assert.equal(dry.status, 1, dry.stderr);
      oneLine(dry, new RegExp(`^arches-storage: Another arches-storage run \\(pid ${first.pid}, `));
      assert.equal(second.status, 1, second.stderr);
      oneLine(
        second,
        new RegExp(
          `^arches-storage: Another arches-storage run \\(pid ${first.pid}, "arches-storage aws", started \\S+\\) ` +
            `is changing this project; wait for it to finish, or delete ${path.join(dir, LOCK)} if that process is gone\\.$`,
        ),
      );
      const o = await firstDone;
      assert.equal(o.status, 0, o.stderr);
      // The second run's other bucket is nowhere: it wrote nothing.
      assertSame(snap(dir), ref.after, 'after both runs');
    });

    it('a lock left by a process that is gone is taken over', async () => {
      const ref = await reference({ fixture: '7.4', args: AWS });
      const dir = freshProject('7.4', { gitignoreSettingsLocal: false });
      const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
      writeFileSync(
        path.join(dir, LOCK),
        JSON.stringify({
          pid: Number(dead.stdout.trim()),
          startedAt: '2024-01-01T00:00:00.000Z',
          hostname: hostname(),
        }),
      );
      const o = await run(AWS, dir);
      assert.equal(o.status, 0, o.stderr);
      assertSame(snap(dir), ref.after, 'after the run');
    });
  });

  describe('pre-flight: a write that would fail stops the run before the first byte', () => {
    it('a read-only folder: exit 1, one line naming the file, every byte unchanged', async () => {
      const dir = freshProject('7.4', { gitignoreSettingsLocal: false });
      const pkg = path.join(dir, PKG);
      const copy = mkdtempSync(path.join(tmpdir(), 'arches-pkg-'));
      cpSync(pkg, copy, { recursive: true });
      // The package folder becomes a read-only tmpfs; the project root stays writable (the lock is taken).
      tmpfs(1024, pkg);
      cpSync(copy, pkg, { recursive: true });
      remountReadOnly(pkg);
      const before = snap(dir);
      const o = await run(AWS, dir);
      assert.equal(o.status, 1, o.stderr);
      oneLine(o, /install\/requirements\.txt: the file system is read-only \(EROFS\)\. Nothing was written/);
      assertSame(snap(dir), before, 'after the refused run');
    });

    it('a full disk: exit 1, one line (ENOSPC), every byte unchanged', async () => {
      const mount = tmpfs(512);
      const dir = path.join(mount, 'project');
      cpSync(freshProject('7.4', { gitignoreSettingsLocal: false }), dir, { recursive: true });
      fillUp(path.join(mount, 'fill'), 24 * 1024);
      const before = snap(dir);
      const o = await run(AWS, dir);
      assert.equal(o.status, 1, o.stderr);
      oneLine(
        o,
        /no space left on the device \(ENOSPC: \d+ KiB needed, \d+ KiB free\)\. Nothing was written/,
      );
      assertSame(snap(dir), before, 'after the refused run');
    });

    it('a file the user may not write (as nobody; renaming over it would work): exit 1, nothing changed', async () => {
      const dir = freshProject('7.4', { gitignoreSettingsLocal: false });
      const seeded = await run(
        AWS.map((a) => (a === 'arches-media-test' ? 'seed-bucket' : a)),
        dir,
      );
      assert.equal(seeded.status, 0, seeded.stderr);
      spawnSync('chown', ['-R', 'nobody:nogroup', dir]);
      chmodSync(dir, 0o755);
      const settings = path.join(dir, PKG, 'settings.py');
      chownSync(settings, 0, 0);
      chmodSync(settings, 0o644);
      const before = snap(dir);
      const o = await run(AWS, dir, { nobody: true });
      assert.equal(o.status, 1, o.stderr);
      oneLine(o, /Cannot open for writing .*settings\.py: permission denied \(EACCES\).*Nothing was written/);
      assertSame(snap(dir), before, 'after the refused run');
      assert.equal(existsSync(path.join(dir, LOCK)), false);
    });
  });

  describe('a broken .yo-rc.json', () => {
    for (const [what, text, re] of [
      ['0 bytes', '', /\.yo-rc\.json is empty \(0 bytes\)/],
      [
        'truncated',
        '{\n  "generator-arches-storage": {\n    "provider": "aw',
        /\.yo-rc\.json:3 is truncated/,
      ],
      ['garbage', '\u0000\u0001PK\u0003\u0004 not json', /\.yo-rc\.json(:1)? is not valid JSON/],
    ] as const) {
      it(`${what}: exit 1, one line with the way out, nothing changed`, async () => {
        const dir = freshProject('7.4', { gitignoreSettingsLocal: false });
        writeFileSync(path.join(dir, '.yo-rc.json'), text);
        const before = snap(dir);
        const o = await run(AWS, dir);
        assert.equal(o.status, 1, o.stderr);
        oneLine(o, re);
        oneLine(o, /mv \.yo-rc\.json \.yo-rc\.json\.bad\), then run again/);
        assertSame(snap(dir), before, 'after the refused run');
      });
    }
  });
});
