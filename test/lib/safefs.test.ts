/**
 * core/safefs against real failures: a full tmpfs, a read-only one, a user without permission (nobody),
 * other processes holding or racing for the lock, and every broken shape of .yo-rc.json.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import {
  acquireLock,
  isTempName,
  LOCK_FILE,
  preflight,
  readOurs,
  readYoRc,
  removeFile,
  takeOver,
  writeFileAtomic,
  writeYoRc,
  YO_RC_NAMESPACE,
} from '../../lib/safefs.js';
import { UserError } from '../../lib/types.js';
import {
  fillUp,
  freeBytes,
  remountReadOnly,
  remountReadWrite,
  runSnippet,
  startSnippet,
  tmpfs,
  unmountAll,
} from '../helpers/sandbox.js';

const scratch = (): string => mkdtempSync(path.join(tmpdir(), 'arches-safefs-'));
const mode = (file: string): number => statSync(file).mode & 0o7777;
const temps = (dir: string): string[] => readdirSync(dir).filter(isTempName);

/** The UserError a call throws, checked to be one line. */
function userError(fn: () => unknown): UserError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof UserError, `not a UserError: ${(error as Error).stack}`);
    assert.ok(!error.message.includes('\n'), `more than one line: ${error.message}`);
    return error;
  }
  assert.fail('did not throw');
}

function withUmask<T>(mask: number, fn: () => T): T {
  const old = process.umask(mask);
  try {
    return fn();
  } finally {
    process.umask(old);
  }
}

describe('safefs', () => {
  after(unmountAll);

  describe('writeFileAtomic', () => {
    it('replaces the bytes exactly (a binary string is written one byte per char)', () => {
      const dir = scratch();
      const file = path.join(dir, 'settings.py');
      const bytes = Buffer.from([0xef, 0xbb, 0xbf, 0x61, 0x0d, 0x0a, 0xe9, 0x00, 0xff]);
      writeFileAtomic(file, bytes.toString('latin1'));
      assert.deepEqual(readFileSync(file), bytes);
      assert.throws(() => writeFileAtomic(file, 'snowman \u2603'), /not a binary string/);
      assert.deepEqual(readFileSync(file), bytes);
      assert.deepEqual(temps(dir), []);
    });

    it("keeps an existing file's exact mode bits and owner, whatever the umask", () => {
      const dir = scratch();
      for (const bits of [0o640, 0o755, 0o600, 0o444, 0o2750]) {
        const file = path.join(dir, `f${bits.toString(8)}`);
        writeFileSync(file, 'old');
        chownSync(file, 65534, 65534);
        chmodSync(file, bits);
        withUmask(0o077, () => writeFileAtomic(file, 'new'));
        assert.equal(readFileSync(file, 'utf8'), 'new');
        assert.equal(mode(file), bits, `mode of ${file}`);
        assert.equal(statSync(file).uid, 65534);
        assert.equal(statSync(file).gid, 65534);
      }
    });

    it('gives a new file opts.mode exactly, else the umask default; a secret is 0600, tightened if wider', () => {
      const dir = scratch();
      withUmask(0o077, () => writeFileAtomic(path.join(dir, 'a.json'), '{}', { mode: 0o644 }));
      assert.equal(mode(path.join(dir, 'a.json')), 0o644);
      withUmask(0o027, () => writeFileAtomic(path.join(dir, 'b'), 'x'));
      assert.equal(mode(path.join(dir, 'b')), 0o640);
      const secret = path.join(dir, 'settings_local.py');
      writeFileSync(secret, 'DEBUG = True\n');
      chmodSync(secret, 0o664);
      withUmask(0, () => writeFileAtomic(secret, 'KEY = "s"\n', { secret: true }));
      assert.equal(mode(secret), 0o600);
      withUmask(0, () => writeFileAtomic(path.join(dir, '.env'), 'K=v\n', { secret: true }));
      assert.equal(mode(path.join(dir, '.env')), 0o600);
    });

    it('creates missing folders, and writes through a symlink to its target', () => {
      const dir = scratch();
      writeFileAtomic(path.join(dir, 'arches-storage/deep/cors.json'), '[]\n');
      assert.equal(readFileSync(path.join(dir, 'arches-storage/deep/cors.json'), 'utf8'), '[]\n');
      writeFileSync(path.join(dir, 'real.py'), 'old');
      symlinkSync('real.py', path.join(dir, 'link.py'));
      writeFileAtomic(path.join(dir, 'link.py'), 'new');
      assert.equal(readlinkSync(path.join(dir, 'link.py')), 'real.py');
      assert.equal(readFileSync(path.join(dir, 'real.py'), 'utf8'), 'new');
    });

    it('on a full disk: one-line ENOSPC naming the file, the old bytes kept, no temp file left', () => {
      const dir = tmpfs(256);
      const file = path.join(dir, 'settings.py');
      writeFileSync(file, 'OLD = 1\n');
      fillUp(dir, 8 * 1024);
      const e = userError(() => writeFileAtomic(file, 'x'.repeat(64 * 1024)));
      assert.match(e.message, /settings\.py/);
      assert.match(e.message, /ENOSPC/);
      assert.equal(e.exitCode, 1);
      assert.equal(readFileSync(file, 'utf8'), 'OLD = 1\n');
      assert.deepEqual(temps(dir), []);
    });

    it('on a read-only file system: one-line EROFS, the file unchanged', () => {
      const dir = tmpfs(256);
      const file = path.join(dir, 'settings.py');
      writeFileSync(file, 'OLD = 1\n');
      remountReadOnly(dir);
      try {
        const e = userError(() => writeFileAtomic(file, 'NEW = 2\n'));
        assert.match(e.message, /settings\.py: the file system is read-only \(EROFS\)/);
        assert.equal(readFileSync(file, 'utf8'), 'OLD = 1\n');
        assert.match(userError(() => removeFile(file)).message, /EROFS/);
      } finally {
        remountReadWrite(dir);
      }
      assert.deepEqual(temps(dir), []);
    });

    it('as a user who may not write the folder: one-line EACCES', () => {
      const dir = scratch();
      chmodSync(dir, 0o755);
      const file = path.join(dir, 'settings.py');
      writeFileSync(file, 'OLD = 1\n');
      chmodSync(file, 0o666);
      const r = runSnippet(
        `try { safefs.writeFileAtomic(${JSON.stringify(file)}, 'NEW'); } ` +
          `catch (e) { console.log(e.name + ': ' + e.message); }`,
        { nobody: true },
      );
      assert.match(r.stdout, /^UserError: Cannot write .*settings\.py: permission denied \(EACCES\)/);
      assert.equal(readFileSync(file, 'utf8'), 'OLD = 1\n');
      assert.deepEqual(temps(dir), []);
    });

    it('removeFile: a missing file is fine', () => {
      const dir = scratch();
      writeFileSync(path.join(dir, 'x'), '1');
      removeFile(path.join(dir, 'x'));
      removeFile(path.join(dir, 'x'));
      assert.equal(existsSync(path.join(dir, 'x')), false);
    });
  });

  describe('preflight', () => {
    it('passes for writable targets, new folders included, and leaves no probe behind', () => {
      const dir = scratch();
      writeFileSync(path.join(dir, 'settings.py'), 'x');
      preflight([
        { abs: path.join(dir, 'settings.py'), bytes: 100 },
        { abs: path.join(dir, 'arches-storage/new/cors.json'), bytes: 100 },
        { abs: path.join(dir, 'gone.txt'), bytes: 0, remove: true },
      ]);
      assert.deepEqual(readdirSync(dir), ['settings.py']);
    });

    it('removes temp files a killed run left (their pid is gone), keeps a live one', () => {
      const dir = scratch();
      const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
      const stale = `.settings.py.arches-storage-${dead.stdout.trim()}-0123abcd.tmp`;
      const live = `.cors.json.arches-storage-${process.pid}-0123abcd.tmp`;
      writeFileSync(path.join(dir, stale), 'half');
      writeFileSync(path.join(dir, live), 'half');
      preflight([{ abs: path.join(dir, 'settings.py'), bytes: 1 }]);
      assert.deepEqual(readdirSync(dir), [live]);
    });

    it('a full disk: exit 1, one line naming the first file and the KiB needed, nothing written', () => {
      const dir = tmpfs(256);
      writeFileSync(path.join(dir, 'settings.py'), 'OLD');
      fillUp(dir, 96 * 1024);
      const free = freeBytes(dir);
      const e = userError(() =>
        preflight([
          { abs: path.join(dir, 'settings.py'), bytes: 10 },
          { abs: path.join(dir, 'arches-storage/NOTES.md'), bytes: free },
        ]),
      );
      assert.match(
        e.message,
        /^Cannot write .*settings\.py: no space left on the device \(ENOSPC: \d+ KiB needed/,
      );
      assert.match(e.message, /Nothing was written/);
      assert.equal(e.exitCode, 1);
      // A plan that fits passes.
      preflight([{ abs: path.join(dir, 'settings.py'), bytes: 1024 }]);
      assert.deepEqual(readdirSync(dir).sort(), ['filler', 'settings.py']);
    });

    it('a read-only file system: EROFS for an existing file and for a new folder below it', () => {
      const dir = tmpfs(256);
      writeFileSync(path.join(dir, 'settings.py'), 'OLD');
      remountReadOnly(dir);
      try {
        assert.match(
          userError(() => preflight([{ abs: path.join(dir, 'settings.py'), bytes: 3 }])).message,
          /settings\.py: the file system is read-only \(EROFS\)\. Nothing was written/,
        );
        assert.match(
          userError(() => preflight([{ abs: path.join(dir, 'a/b/cors.json'), bytes: 3 }])).message,
          /cors\.json: the file system is read-only \(EROFS\)/,
        );
      } finally {
        remountReadWrite(dir);
      }
    });

    it('as nobody: a file it may not write, and a folder it may not add to (access() would pass as root)', () => {
      const dir = scratch();
      chmodSync(dir, 0o755);
      mkdirSync(path.join(dir, 'open'), { mode: 0o777 });
      chmodSync(path.join(dir, 'open'), 0o777);
      writeFileSync(path.join(dir, 'open/settings.py'), 'x', { mode: 0o644 });
      const check = (abs: string): string =>
        runSnippet(
          `try { safefs.preflight([{ abs: ${JSON.stringify(abs)}, bytes: 1 }]); console.log('ok'); } ` +
            `catch (e) { console.log(e.message); }`,
          { nobody: true },
        ).stdout.trim();
      assert.match(
        check(path.join(dir, 'open/settings.py')),
        /open for writing .*settings\.py: permission denied \(EACCES\)/,
      );
      assert.match(
        check(path.join(dir, 'new.txt')),
        /create a file next to .*new\.txt: permission denied \(EACCES\)/,
      );
      assert.equal(check(path.join(dir, 'open/new.txt')), 'ok');
    });
  });

  describe('the project lock', () => {
    it('refuses while another live process holds it, naming its pid and start time', async () => {
      const dir = scratch();
      const holder = startSnippet(
        `safefs.acquireLock(${JSON.stringify(dir)}, 'arches-storage aws'); console.log('held'); setTimeout(() => {}, 30000);`,
      );
      try {
        await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
        const info = JSON.parse(readFileSync(path.join(dir, LOCK_FILE), 'utf8')) as Record<string, unknown>;
        assert.equal(info.pid, holder.pid);
        assert.equal(info.hostname, hostname());
        assert.equal(info.command, 'arches-storage aws');
        const e = userError(() => acquireLock(dir));
        assert.equal(e.exitCode, 1);
        assert.equal(
          e.message,
          `Another arches-storage run (pid ${holder.pid}, "arches-storage aws", started ${String(info.startedAt)}) ` +
            `is changing this project; wait for it to finish, or delete ${path.join(dir, LOCK_FILE)} if that process is gone.`,
        );
      } finally {
        holder.kill('SIGKILL');
      }
    });

    it('takes over a lock whose process is gone, or whose pid now belongs to another process', () => {
      const dir = scratch();
      const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
      const file = path.join(dir, LOCK_FILE);
      const stale = {
        pid: Number(dead.stdout.trim()),
        startedAt: '2020-01-01T00:00:00.000Z',
        hostname: hostname(),
      };
      writeFileSync(file, JSON.stringify(stale));
      const lock = acquireLock(dir, 'arches-storage local');
      assert.equal((JSON.parse(readFileSync(file, 'utf8')) as { pid: number }).pid, process.pid);
      lock.release();
      assert.equal(existsSync(file), false);
      // pid 1 is alive, but started long before the time this lock records: a reused pid.
      writeFileSync(file, JSON.stringify({ ...stale, pid: 1, startTicks: '999999999999' }));
      acquireLock(dir).release();
      // A lock this very process left behind (a failed run in the same process) is not held by anyone.
      writeFileSync(file, JSON.stringify({ ...stale, pid: process.pid, nonce: 'gone' }));
      const again = acquireLock(dir);
      assert.throws(() => acquireLock(dir), /Another arches-storage run \(pid \d+/);
      again.release();
      // Garbage in the lock file: held while fresh (a writer may be mid-way), stale when old.
      writeFileSync(file, '');
      assert.throws(() => acquireLock(dir), /pid unknown/);
    });

    it('two runs racing to take over one stale lock: exactly one wins, the others name it', async () => {
      const dir = scratch();
      const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
      writeFileSync(
        path.join(dir, LOCK_FILE),
        JSON.stringify({ pid: Number(dead.stdout.trim()), startedAt: 'then', hostname: hostname() }),
      );
      const go = path.join(dir, 'go');
      const code =
        `const fs = await import('node:fs');\n` +
        `while (!fs.existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 2));\n` +
        `try { const l = safefs.acquireLock(${JSON.stringify(dir)}); console.log('won'); ` +
        `setTimeout(() => l.release(), 3000); } catch (e) { console.log(e.message); }`;
      const children = Array.from({ length: 6 }, () => startSnippet(code));
      const outputs = children.map(
        (c) =>
          new Promise<string>((resolve) => {
            let out = '';
            c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
            c.on('close', () => resolve(out.trim()));
          }),
      );
      await new Promise((r) => setTimeout(r, 1500));
      writeFileSync(go, '');
      const results = await Promise.all(outputs);
      const winners = children.filter((_, i) => results[i] === 'won');
      assert.equal(winners.length, 1, results.join('\n'));
      for (const r of results.filter((x) => x !== 'won')) {
        assert.match(r, new RegExp(`^Another arches-storage run \\(pid ${winners[0]!.pid}, `));
      }
      assert.equal(existsSync(path.join(dir, LOCK_FILE)), false);
      assert.deepEqual(readdirSync(dir).sort(), ['go']);
    });

    it('a taker that judged a lock stale, then finds a fresh one in its place, puts that one back', () => {
      const dir = scratch();
      const file = path.join(dir, LOCK_FILE);
      const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
      const staleText = JSON.stringify({ pid: Number(dead.stdout.trim()), hostname: hostname() });
      writeFileSync(file, staleText);
      // Taker B read the stale lock; taker A takes over and holds the project before B moves.
      const a = acquireLock(dir, 'taker A');
      const fresh = readFileSync(file, 'utf8');
      takeOver(file, staleText);
      assert.equal(readFileSync(file, 'utf8'), fresh, "A's lock was removed by B");
      assert.throws(() => acquireLock(dir, 'taker B'), /Another arches-storage run \(pid \d+, "taker A"/);
      a.release();
      assert.deepEqual(readdirSync(dir), []);
      // The stale one itself is removed.
      writeFileSync(file, staleText);
      takeOver(file, staleText);
      assert.deepEqual(readdirSync(dir), []);
    });

    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      it(`is released on ${signal}, and the process still dies of it`, async () => {
        const dir = scratch();
        const child = startSnippet(
          `safefs.acquireLock(${JSON.stringify(dir)}); console.log('held'); setTimeout(() => {}, 30000);`,
        );
        await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
        assert.equal(existsSync(path.join(dir, LOCK_FILE)), true);
        const exited = new Promise<NodeJS.Signals | null>((resolve) =>
          child.on('exit', (_c, s) => resolve(s)),
        );
        child.kill(signal);
        assert.equal(await exited, signal);
        assert.equal(existsSync(path.join(dir, LOCK_FILE)), false);
      });
    }

    it('is released at a normal exit, and release() never removes a lock that is not its own', async () => {
      const dir = scratch();
      const child = spawn(process.execPath, [
        '--import',
        'tsx/esm',
        '-e',
        `import('${path.resolve('lib/safefs.ts')}').then((s) => s.acquireLock(${JSON.stringify(dir)}))`,
      ]);
      await new Promise((resolve) => child.on('close', resolve));
      assert.equal(existsSync(path.join(dir, LOCK_FILE)), false);
      const lock = acquireLock(dir);
      writeFileSync(path.join(dir, LOCK_FILE), '{"pid":1}');
      lock.release();
      assert.equal(readFileSync(path.join(dir, LOCK_FILE), 'utf8'), '{"pid":1}');
    });
  });

  describe('.yo-rc.json', () => {
    it('missing: {}; other namespaces kept on write, ours replaced, 2-space JSON', () => {
      const dir = scratch();
      assert.deepEqual(readYoRc(dir), {});
      assert.deepEqual(readOurs(dir), {});
      writeFileSync(
        path.join(dir, '.yo-rc.json'),
        JSON.stringify({ 'generator-jhipster': { a: 1 }, [YO_RC_NAMESPACE]: { old: true }, z: {} }),
      );
      writeYoRc(dir, { provider: 'aws', note: 'café' });
      assert.equal(
        readFileSync(path.join(dir, '.yo-rc.json'), 'utf8'),
        JSON.stringify(
          { 'generator-jhipster': { a: 1 }, [YO_RC_NAMESPACE]: { provider: 'aws', note: 'café' }, z: {} },
          null,
          2,
        ) + '\n',
      );
      assert.deepEqual(readOurs(dir), { provider: 'aws', note: 'café' });
    });

    const shapes: Array<[string, string, RegExp]> = [
      ['0 bytes', '', /\.yo-rc\.json is empty \(0 bytes\)/],
      ['only blanks', '  \n', /\.yo-rc\.json is empty/],
      [
        'truncated',
        '{\n  "generator-arches-storage": {\n    "provider": "aw',
        /\.yo-rc\.json:3 is truncated/,
      ],
      ['garbage', '{\n  "a": 1,\n  oops\n}', /\.yo-rc\.json:3 is not valid JSON/],
      ['not JSON at all', 'provider=aws', /\.yo-rc\.json(:1)? is not valid JSON/],
      ['an array', '[1, 2]', /holds an array, not an object/],
      ['null', 'null', /holds null, not an object/],
      ['a string', '"aws"', /holds "aws", not an object/],
      [
        'our namespace not an object',
        '{"generator-arches-storage": [1]}',
        /"generator-arches-storage" that is not an object/,
      ],
    ];
    for (const [what, text, re] of shapes) {
      it(`${what}: one line (exit 1) naming the file and the way out`, () => {
        const dir = scratch();
        writeFileSync(path.join(dir, '.yo-rc.json'), text);
        const e = userError(() => readYoRc(dir));
        assert.match(e.message, re);
        assert.match(
          e.message,
          /mv \.yo-rc\.json \.yo-rc\.json\.bad\), then run again; resources it recorded will be re-discovered by their tags\.$/,
        );
        assert.ok(e.message.startsWith(path.join(dir, '.yo-rc.json')));
        assert.equal(e.exitCode, 1);
        assert.throws(() => writeYoRc(dir, {}), UserError);
        assert.equal(readFileSync(path.join(dir, '.yo-rc.json'), 'utf8'), text);
      });
    }
  });
});
