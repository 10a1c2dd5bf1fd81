/**
 * Crash-safe writes for one run at a time: every file is replaced whole (temp file in the same folder,
 * fsync, rename, fsync the folder), a pre-flight checks every target before the first byte is written, a
 * project lock keeps a second run out, and .yo-rc.json is read and written here, with one-line errors.
 * Yeoman-free: the generator and the provisioning code call these with absolute paths.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  statfsSync,
  statSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { UserError } from './types.js';

/** The key our answers and state live under in .yo-rc.json. */
export const YO_RC_NAMESPACE = 'generator-arches-storage';
export const YO_RC = '.yo-rc.json';
export const LOCK_FILE = '.arches-storage.lock';

/** Temp files and probes this module makes: `.<name>.arches-storage-<pid>-<hex>.tmp`. */
const TEMP_RE = /^\..*\.arches-storage-(\d+)-[0-9a-f]{8}\.tmp$/;

export function isTempName(name: string): boolean {
  return TEMP_RE.test(name);
}

function tempName(dir: string, base: string): string {
  // Long names are cut so the temp name stays within NAME_MAX (255).
  return path.join(
    dir,
    `.${base.slice(0, 180)}.arches-storage-${process.pid}-${randomBytes(4).toString('hex')}.tmp`,
  );
}

const REASONS: Record<string, [reason: string, fix: string]> = {
  ENOSPC: ['no space left on the device', 'free some space and run again'],
  EDQUOT: ['the disk quota is exceeded', 'free some space or raise the quota, and run again'],
  EROFS: ['the file system is read-only', 'remount it read-write (or work on a writable copy) and run again'],
  EACCES: ['permission denied', 'run as a user who may write there, or fix its permissions'],
  EPERM: ['operation not permitted', 'run as a user who may write there, or clear an immutable flag'],
  ENOTDIR: ['a parent in its path is a file, not a folder', 'move that file aside and run again'],
  EISDIR: ['it is a folder', 'move the folder aside and run again'],
  ENOENT: ['its folder does not exist', 'create the folder and run again'],
  EMFILE: ['too many open files', 'raise the open-file limit (ulimit -n) and run again'],
  ENAMETOOLONG: ['the name is too long', 'use a shorter path'],
  EIO: ['an input/output error from the device', 'check the disk and run again'],
  ETXTBSY: ['the file is busy', 'stop what uses it and run again'],
};

function codeOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** One line: what failed on which file, why (errno name), and the way out. */
function writeFailure(what: string, file: string, error: unknown, tail = ''): UserError {
  const code = codeOf(error);
  const known = code ? REASONS[code] : undefined;
  const reason = known ? `${known[0]} (${code})` : (error as Error).message.replace(/\s*\n\s*/g, ' ');
  const fix = known ? `; ${known[1]}` : '';
  return new UserError(`Cannot ${what} ${file}: ${reason}${tail}${fix}.`, file, 1);
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (error) {
    // Some file systems cannot fsync a folder; the rename is still atomic there.
    if (!['EINVAL', 'ENOTSUP', 'EBADF', 'EISDIR', 'EPERM'].includes(codeOf(error) ?? '')) throw error;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Creates missing folders, fsyncing the parent of each one made, so the new path survives a crash. */
function ensureDir(dir: string): void {
  const missing: string[] = [];
  let d = dir;
  while (!statSync(d, { throwIfNoEntry: false })) {
    missing.unshift(d);
    const up = path.dirname(d);
    if (up === d) break;
    d = up;
  }
  for (const m of missing) {
    mkdirSync(m);
    fsyncDir(path.dirname(m));
  }
}

/** The file a write replaces: a symlink is followed, so the link stays and its target gets the content. */
function resolveTarget(abs: string): { target: string; existing: Stats | undefined } {
  const l = lstatSync(abs, { throwIfNoEntry: false });
  const target = l?.isSymbolicLink() ? realpathSync(abs) : abs;
  const existing = l?.isSymbolicLink() ? statSync(target) : l;
  if (existing && !existing.isFile()) {
    throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
  }
  return { target, existing };
}

export interface WriteOptions {
  /** The mode of a file that does not exist yet (default: 0o666 less the umask). */
  mode?: number;
  /** A file holding a secret: 0600 from its first byte, an existing one tightened to 0600 as well. */
  secret?: boolean;
}

/**
 * Replaces `abs` with `content`, a binary string (one char per byte), so that at any moment the file is
 * either the old bytes or the new ones. The temp file has the final mode (an existing file's exact bits and
 * owner) before its first byte. Any failure removes the temp file and throws a one-line UserError.
 */
export function writeFileAtomic(abs: string, content: string, opts: WriteOptions = {}): void {
  for (let i = 0; i < content.length; i++) {
    if (content.charCodeAt(i) > 0xff) {
      throw new Error(`writeFileAtomic(${abs}): content is not a binary string (char ${i})`);
    }
  }
  let tmp: string | undefined;
  let fd: number | undefined;
  try {
    const { target, existing } = resolveTarget(abs);
    const dir = path.dirname(target);
    ensureDir(dir);
    tmp = tempName(dir, path.basename(target));
    const exact = opts.secret ? 0o600 : existing ? existing.mode & 0o7777 : opts.mode;
    // Opened 0600 (or with the umask default), and set to the exact final mode before any byte is written.
    fd = openSync(tmp, 'wx', exact === undefined ? 0o666 : 0o600);
    if (existing) {
      const mine = fstatSync(fd);
      if (mine.uid !== existing.uid || mine.gid !== existing.gid) {
        try {
          fchownSync(fd, existing.uid, existing.gid);
        } catch {
          // Only root may give a file away; a user's own replacement stays theirs.
        }
      }
    }
    if (exact !== undefined) fchmodSync(fd, exact);
    const bytes = Buffer.from(content, 'latin1');
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, target);
    tmp = undefined;
    fsyncDir(dir);
  } catch (error) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // Already closed.
      }
    }
    if (tmp !== undefined) {
      try {
        unlinkSync(tmp);
      } catch {
        // Never created, or already gone.
      }
    }
    throw writeFailure('write', abs, error, '; the file was left as it was');
  }
}

/** Deletes a file (a missing one is fine) and makes the deletion durable. */
export function removeFile(abs: string): void {
  try {
    unlinkSync(abs);
    fsyncDir(path.dirname(abs));
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return;
    throw writeFailure('remove', abs, error);
  }
}

/** Removes temp files a killed run left in `dir` (their pid is gone). */
export function removeStaleTemps(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = TEMP_RE.exec(name);
    if (!m || pidAlive(Number(m[1]))) continue;
    try {
      unlinkSync(path.join(dir, name));
    } catch {
      // Someone else cleaned it, or it is not ours to remove; harmless either way.
    }
  }
}

export interface PlannedWrite {
  abs: string;
  /** Bytes the new content takes (0 for a deletion). */
  bytes: number;
  /** Deleted rather than written: only the folder must accept the change. */
  remove?: boolean;
}

/** Room kept free beyond the bytes written: a few blocks per file and 64 KiB for the file system. */
const MARGIN_BYTES = 64 * 1024;

function nearestExisting(dir: string): string {
  let d = dir;
  for (;;) {
    const s = statSync(d, { throwIfNoEntry: false });
    if (s) {
      if (!s.isDirectory()) throw Object.assign(new Error(`${d} is a file`), { code: 'ENOTDIR' });
      return d;
    }
    const up = path.dirname(d);
    if (up === d) return d;
    d = up;
  }
}

/**
 * Checks, before the first write of a run, that every planned write can happen: an existing file can be
 * opened for writing, its folder (or the nearest existing ancestor of a new folder) really accepts a new
 * file, and each file system has room for all the bytes plus a margin. Also removes temp files a killed run
 * left in those folders. Throws a one-line UserError (exit 1) naming the first file that cannot be written.
 */
export function preflight(writes: readonly PlannedWrite[]): void {
  const probed = new Map<string, { dev: number; dir: string }>();
  const need = new Map<number, { dir: string; first: string; bytes: number; files: number }>();
  for (const w of writes) {
    let stage = 'write';
    try {
      const { target, existing } = resolveTarget(w.abs);
      if (existing && !w.remove) {
        stage = 'open for writing';
        closeSync(openSync(target, 'r+'));
      }
      const dir = nearestExisting(path.dirname(target));
      let folder = probed.get(dir);
      if (!folder) {
        stage = 'create a file next to';
        removeStaleTemps(dir);
        const probe = tempName(dir, 'probe');
        closeSync(openSync(probe, 'wx', 0o600));
        unlinkSync(probe);
        folder = { dev: statSync(dir).dev, dir };
        probed.set(dir, folder);
      }
      if (w.remove) continue;
      const n = need.get(folder.dev) ?? { dir, first: w.abs, bytes: 0, files: 0 };
      n.bytes += w.bytes;
      n.files += 1;
      need.set(folder.dev, n);
    } catch (error) {
      throw writeFailure(stage, w.abs, error, '. Nothing was written');
    }
  }
  for (const n of need.values()) {
    let fsInfo: ReturnType<typeof statfsSync>;
    try {
      fsInfo = statfsSync(n.dir);
    } catch {
      continue;
    }
    const block = fsInfo.bsize || 4096;
    // Each file takes whole blocks, and its temp file one more while both exist.
    const wanted = n.bytes + n.files * 2 * block + MARGIN_BYTES;
    const free = fsInfo.bavail * block;
    if (free < wanted) {
      throw new UserError(
        `Cannot write ${n.first}: no space left on the device (ENOSPC: ${Math.ceil(wanted / 1024)} KiB ` +
          `needed, ${Math.floor(free / 1024)} KiB free). Nothing was written; free some space and run again.`,
        n.first,
        1,
      );
    }
    if (fsInfo.files > 0 && fsInfo.ffree < n.files + 2) {
      throw new UserError(
        `Cannot write ${n.first}: no free inodes on the device (ENOSPC). Nothing was written; ` +
          `remove some files and run again.`,
        n.first,
        1,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// The project lock

interface LockInfo {
  pid: number;
  startedAt: string;
  hostname: string;
  command: string;
  /** /proc/<pid>/stat start time and the boot id: a reused pid or a reboot does not look alive. */
  startTicks?: string;
  bootId?: string;
  nonce: string;
}

function procStart(pid: number): { ticks: string; zombie: boolean } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ticks: fields[19] ?? '', zombie: fields[0] === 'Z' || fields[0] === 'X' };
  } catch {
    return undefined;
  }
}

function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if (codeOf(error) !== 'EPERM') return false;
  }
  return procStart(pid)?.zombie !== true;
}

/** Nonces of the locks this process holds right now. */
const heldNonces = new Set<string>();

function holderAlive(h: Partial<LockInfo>): boolean {
  // Another host's process cannot be checked from here: assumed alive.
  if (h.hostname !== undefined && h.hostname !== hostname()) return true;
  const boot = bootId();
  if (h.bootId && boot && h.bootId !== boot) return false;
  const pid = Number(h.pid);
  // This very process: alive only if the lock is one it holds now (a failed in-process run left it).
  if (pid === process.pid) return h.nonce !== undefined && heldNonces.has(h.nonce);
  if (!pidAlive(pid)) return false;
  const now = procStart(pid);
  if (h.startTicks && now && now.ticks !== h.startTicks) return false;
  return true;
}

export interface Lock {
  readonly file: string;
  release(): void;
}

/** A lock file whose content is unreadable (an interrupted fallback write) counts as held this long. */
const FRESH_MS = 10_000;

function createLockFile(file: string, text: string): void {
  const tmp = tempName(path.dirname(file), path.basename(file));
  const fd = openSync(tmp, 'wx', 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    // link() creates the lock whole, content included, or fails with EEXIST: no reader sees it half-made.
    linkSync(tmp, file);
  } catch (error) {
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV'].includes(codeOf(error) ?? '')) throw error;
    const fd2 = openSync(file, 'wx', 0o644);
    try {
      writeSync(fd2, text);
      fsyncSync(fd2);
    } finally {
      closeSync(fd2);
    }
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // Already gone.
    }
  }
  fsyncDir(path.dirname(file));
}

/**
 * Removes a stale lock, safe against two takers: the lock is renamed aside (only one rename of one file can
 * win), and deleted only if what was moved is the very lock judged stale; otherwise it is put back.
 * Exported for the tests, which play the interleaving of two takers step by step.
 */
export function takeOver(file: string, staleText: string): void {
  const aside = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.stale`;
  try {
    renameSync(file, aside);
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return;
    throw error;
  }
  let moved = '';
  try {
    moved = readFileSync(aside, 'latin1');
  } catch {
    // Unreadable: treated as not the one judged stale.
  }
  if (moved !== staleText) {
    try {
      linkSync(aside, file);
    } catch {
      // A third run made a lock meanwhile; it holds the project now.
    }
  }
  unlinkSync(aside);
}

function refusal(file: string, h: Partial<LockInfo>): UserError {
  const who = [
    `pid ${h.pid ?? 'unknown'}`,
    ...(h.hostname && h.hostname !== hostname() ? [`on ${h.hostname}`] : []),
    ...(h.command ? [`"${h.command}"`] : []),
    `started ${h.startedAt ?? 'at an unknown time'}`,
  ].join(', ');
  return new UserError(
    `Another arches-storage run (${who}) is changing this project; wait for it to finish, or delete ${file} ` +
      `if that process is gone.`,
    'lock',
    1,
  );
}

/**
 * Takes `<root>/.arches-storage.lock` for this run: refuses (exit 1, naming the holder) while another live
 * run holds it, takes over a lock whose process is gone. Released by release(), and at process exit or on
 * SIGINT/SIGTERM. With `readOnly` (a run that writes nothing), a folder that refuses the lock file is no
 * reason to stop: the run goes on without one.
 */
export function acquireLock(
  root: string,
  command = 'arches-storage',
  opts: { readOnly?: boolean } = {},
): Lock {
  const file = path.join(root, LOCK_FILE);
  const start = procStart(process.pid);
  const info: LockInfo = {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    hostname: hostname(),
    command,
    ...(start ? { startTicks: start.ticks } : {}),
    ...(bootId() ? { bootId: bootId() } : {}),
    nonce: randomBytes(8).toString('hex'),
  };
  const text = JSON.stringify(info, null, 2) + '\n';
  for (let attempt = 0; ; attempt++) {
    try {
      createLockFile(file, text);
      break;
    } catch (error) {
      const code = codeOf(error);
      // A run that writes nothing (--dry-run) may look at a project it cannot write to.
      if (opts.readOnly && ['EROFS', 'EACCES', 'EPERM'].includes(code ?? '')) {
        return { file, release: () => undefined };
      }
      if (code !== 'EEXIST') {
        throw writeFailure('create the lock file', file, error, '. Nothing was written');
      }
    }
    let existing: string;
    let mtime = Date.now();
    try {
      existing = readFileSync(file, 'latin1');
      mtime = statSync(file).mtimeMs;
    } catch (error) {
      if (codeOf(error) === 'ENOENT' && attempt < 20) continue;
      throw writeFailure('read the lock file', file, error, '. Nothing was written');
    }
    let holder: Partial<LockInfo> | undefined;
    try {
      const parsed = JSON.parse(existing) as unknown;
      if (parsed && typeof parsed === 'object') holder = parsed;
    } catch {
      holder = undefined;
    }
    const alive = holder ? holderAlive(holder) : Date.now() - mtime < FRESH_MS;
    if (alive || attempt >= 20) throw refusal(file, holder ?? {});
    takeOver(file, existing);
  }
  heldNonces.add(info.nonce);
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    heldNonces.delete(info.nonce);
    process.removeListener('exit', release);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    try {
      // Only our own lock: a run that took over a lock judged stale must keep its own.
      if (readFileSync(file, 'latin1') === text) unlinkSync(file);
    } catch {
      // Already gone.
    }
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    release();
    // Die of the same signal, as the default handler would, unless someone else handles it.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  process.on('exit', release);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return { file, release };
}

// ---------------------------------------------------------------------------------------------------------
// .yo-rc.json

const WAY_OUT =
  'move it aside (mv .yo-rc.json .yo-rc.json.bad), then run again; resources it recorded will be ' +
  're-discovered by their tags';

function corrupt(file: string, what: string): UserError {
  return new UserError(`${file} ${what}: ${WAY_OUT}.`, YO_RC, 1);
}

/** `file:line` for a JSON.parse error that reports a position. */
function parseProblem(file: string, text: string, error: Error): UserError {
  const message = error.message.replace(/\s*\n\s*/g, ' ');
  const pos = /at position (\d+)/.exec(message);
  if (/Unexpected end of JSON input|Unterminated/.test(message)) {
    return corrupt(`${file}:${text.split('\n').length}`, 'is truncated (it ends in the middle of the JSON)');
  }
  const line = pos ? text.slice(0, Number(pos[1])).split('\n').length : undefined;
  const detail = message.replace(/ in JSON at position \d+.*$/, '').replace(/^JSON\.parse: /, '');
  return corrupt(line ? `${file}:${line}` : file, `is not valid JSON (${detail})`);
}

/** The whole .yo-rc.json (every generator's namespace); `{}` when there is none. */
export function readYoRc(root: string): Record<string, unknown> {
  const file = path.join(root, YO_RC);
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return {};
    throw writeFailure('read', file, error);
  }
  if (raw.length === 0 || raw.toString('utf8').trim() === '') throw corrupt(file, 'is empty (0 bytes)');
  const text = raw.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw parseProblem(file, text, error as Error);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw corrupt(
      file,
      `holds ${Array.isArray(parsed) ? 'an array' : JSON.stringify(parsed)}, not an object`,
    );
  }
  const ours = (parsed as Record<string, unknown>)[YO_RC_NAMESPACE];
  if (ours !== undefined && (!ours || typeof ours !== 'object' || Array.isArray(ours))) {
    throw corrupt(file, `has a "${YO_RC_NAMESPACE}" that is not an object`);
  }
  return parsed as Record<string, unknown>;
}

/** Our namespace of .yo-rc.json; `{}` when the file or the namespace is missing. */
export function readOurs(root: string): Record<string, unknown> {
  return (readYoRc(root)[YO_RC_NAMESPACE] as Record<string, unknown> | undefined) ?? {};
}

/** The text writeYoRc writes: other generators' namespaces kept, ours replaced, 2-space JSON. */
export function yoRcText(root: string, ours: Record<string, unknown>): string {
  const all = readYoRc(root);
  const next = { ...all, [YO_RC_NAMESPACE]: ours };
  return JSON.stringify(next, null, 2) + '\n';
}

/** Replaces our namespace of .yo-rc.json atomically, keeping every other namespace. */
export function writeYoRc(root: string, ours: Record<string, unknown>): void {
  const text = yoRcText(root, ours);
  writeFileAtomic(path.join(root, YO_RC), Buffer.from(text, 'utf8').toString('latin1'));
}
