/**
 * Real failure conditions for write tests: a tiny tmpfs (full disk), a read-only remount (EROFS), and
 * commands run as `nobody` (EACCES: as root, permission bits are not enforced). All need root, which CI has.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ROOT } from './run.js';

function sh(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message}`);
}

const mounted: string[] = [];

/** A fresh tmpfs of `kib` KiB at a new temporary folder, or over the folder `at`. */
export function tmpfs(kib = 256, at?: string): string {
  const dir = at ?? mkdtempSync(path.join(tmpdir(), 'arches-tmpfs-'));
  sh('mount', ['-t', 'tmpfs', '-o', `size=${kib}k,mode=0755`, 'tmpfs', dir]);
  mounted.push(dir);
  return dir;
}

export function remountReadOnly(dir: string): void {
  sh('mount', ['-o', 'remount,ro', dir]);
}

export function remountReadWrite(dir: string): void {
  sh('mount', ['-o', 'remount,rw', dir]);
}

/** Unmounts every tmpfs made here (for `after` hooks). */
export function unmountAll(): void {
  for (const dir of mounted.splice(0)) {
    spawnSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Bytes a non-root writer may still use on the file system of `dir`. */
export function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/** Fills the file system of `dir` until only about `leave` bytes are free. */
export function fillUp(dir: string, leave = 0): void {
  const filler = path.join(dir, 'filler');
  mkdirSync(dir, { recursive: true });
  const size = Math.max(0, freeBytes(dir) - leave);
  writeFileSync(filler, Buffer.alloc(size));
}

const NOBODY = ['--reuid=nobody', '--regid=nogroup', '--clear-groups'];

/** Runs a command as nobody:nogroup. */
export function asNobody(cmd: string, args: string[], cwd = ROOT): SpawnSyncReturns<string> {
  return spawnSync('setpriv', [...NOBODY, cmd, ...args], { cwd, encoding: 'utf8', input: '' });
}

/** The argv that runs `node` as nobody (for spawn). */
export function nobodyNode(args: string[]): [string, string[]] {
  return ['setpriv', [...NOBODY, process.execPath, ...args]];
}

/** Runs a TypeScript snippet in a child node (tsx), optionally as nobody; `safefs` is imported for it. */
export function runSnippet(
  code: string,
  opts: { nobody?: boolean } = {},
): { status: number | null; stdout: string; stderr: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'arches-snippet-'));
  const file = path.join(dir, 'snippet.mts');
  const safefs = path.join(ROOT, 'lib/safefs.ts');
  writeFileSync(file, `import * as safefs from ${JSON.stringify(safefs)};\n${code}\n`, { mode: 0o644 });
  spawnSync('chmod', ['755', dir]);
  const args = ['--import', 'tsx/esm', file];
  const r = opts.nobody
    ? asNobody(process.execPath, args)
    : spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', input: '' });
  rmSync(dir, { recursive: true, force: true });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts a TypeScript snippet in a child node without waiting (for locks held by another process). */
export function startSnippet(code: string): ReturnType<typeof spawn> {
  const dir = mkdtempSync(path.join(tmpdir(), 'arches-snippet-'));
  const file = path.join(dir, 'snippet.mts');
  const safefs = path.join(ROOT, 'lib/safefs.ts');
  writeFileSync(file, `import * as safefs from ${JSON.stringify(safefs)};\n${code}\n`);
  return spawn(process.execPath, ['--import', 'tsx/esm', file], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
