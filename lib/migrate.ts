/**
 * `arches-storage migrate`: copies every file Arches stores from one storage to another, keeping each key.
 *
 * One listing of the source and one of the destination (pages of 1,000 keys; never a HEAD per object), then a
 * plan: a key missing at the destination is copied; one whose size differs is reported as different (copied
 * over only with `overwrite`); one of the same size counts as present when the journal holds a verified copy
 * of the same source version (local: size and mtime; S3: ETag) to the same destination version (ETag, or
 * size and mtime), and otherwise is "present, unverified" unless a read-back of both sides proves it equal
 * (`verifyExisting`, or a key an interrupted run had planned to copy). A source whose version changed since
 * its recorded copy is hashed again: the same bytes are skipped, other bytes are reported as different.
 * Nothing is ever deleted, at the source or the destination.
 *
 * The journal (`.arches-storage/migrate.json` under the project, git-ignored) is written whole and atomically
 * (lib/safefs.ts) by this one process: the plan first, then the verified copies as they finish (at most
 * every quarter second) and at the end, so a run killed at any point is completed by the next one.
 */
import { createReadStream, mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from './safefs.js';
import { ByteBudget, digestFile, Hasher, partsOf, readAll } from './storage/hash.js';
import type { ObjectEntry, ObjectStore, WriteSource } from './storage/types.js';
import { errorMessage } from './types.js';

export const MiB = 1024 * 1024;

/** What Arches keeps under MEDIA_ROOT / the bucket: uploaded files (UPLOADED_FILES_DIR) and concept images. */
export const DEFAULT_PREFIXES = ['uploadedfiles/', 'concepts/'] as const;

export interface MigrateOptions {
  source: ObjectStore;
  destination: ObjectStore;
  /** The key prefixes to copy (default: uploadedfiles/ and concepts/). */
  prefixes?: readonly string[];
  /** The journal file; none: no journal (every same-size object is unverified). */
  journal?: string;
  dryRun?: boolean;
  overwrite?: boolean;
  verifyExisting?: boolean;
  /** Files copied at once (default 4). */
  concurrency?: number;
  /** Bodies above this go up in parts (default 64 MiB). */
  multipartThreshold?: number;
  /** Part size (default 16 MiB; S3 needs ≥ 5 MiB but the last). */
  partSize?: number;
  /** Bytes of buffers held at once, whatever the sizes and the concurrency (default 96 MiB). */
  memoryBudget?: number;
  progress?: ProgressOptions;
}

export type Outcome = 'copied' | 'skipped' | 'different' | 'failed' | 'unverified';

export interface MigrateResult {
  ok: boolean;
  dryRun: boolean;
  from: string;
  to: string;
  counts: Record<Outcome, number> & { total: number };
  bytes: { total: number; copied: number };
  /** The dry run's copies, or the keys copied. */
  copies: string[];
  different: Array<{ key: string; why: string }>;
  unverified: string[];
  failed: Array<{ key: string; error: string }>;
  verifiedBy: { sha256: number; 'content-md5': number; 'read-back': number };
}

interface JournalEntry {
  /** The source's version (size:mtime, or ETag) when it was copied. */
  src: string;
  /** The destination's version written then. */
  dst: string;
  sha256: string;
}

interface JournalPair {
  planned: string[];
  objects: Record<string, JournalEntry>;
}

interface JournalFile {
  version: 1;
  pairs: Record<string, JournalPair>;
}

/** The journal: one writer (this process), rewritten whole and atomically. */
export class Journal {
  private readonly data: JournalFile;
  private readonly pair: JournalPair;
  private readonly plannedKeys: Set<string>;
  private dirty = false;
  private last = 0;
  constructor(
    readonly file: string | undefined,
    pairId: string,
  ) {
    let data: JournalFile = { version: 1, pairs: {} };
    if (file && existsSync(file)) {
      try {
        const parsed = JSON.parse(readFileSync(file, 'utf8')) as JournalFile;
        if (parsed.version === 1 && typeof parsed.pairs === 'object') data = parsed;
      } catch {
        // An unreadable journal is a missing one: every same-size object is checked again.
      }
    }
    this.data = data;
    this.pair = data.pairs[pairId] ??= { planned: [], objects: {} };
    this.plannedKeys = new Set(this.pair.planned);
  }
  get(key: string): JournalEntry | undefined {
    return Object.hasOwn(this.pair.objects, key) ? this.pair.objects[key] : undefined;
  }
  planned(key: string): boolean {
    return this.plannedKeys.has(key);
  }
  /** Keys this run will copy (an interrupted run's copies are verified by a read-back next time). */
  addPlanned(keys: readonly string[]): void {
    for (const k of keys) this.plannedKeys.add(k);
    this.dirty = true;
    this.flush(true);
  }
  set(key: string, entry: JournalEntry): void {
    this.pair.objects[key] = entry;
    this.dirty = true;
    this.flush(false);
  }
  flush(now: boolean): void {
    if (!this.file || !this.dirty || (!now && Date.now() - this.last < 250)) return;
    const dir = path.dirname(this.file);
    mkdirSync(dir, { recursive: true });
    const ignore = path.join(dir, '.gitignore');
    // The journal's folder ignores itself: nothing in it belongs in the project's history.
    if (!existsSync(ignore)) writeFileSync(ignore, '*\n');
    this.pair.planned = [...this.plannedKeys].filter((k) => !Object.hasOwn(this.pair.objects, k));
    writeFileAtomic(this.file, Buffer.from(JSON.stringify(this.data) + '\n', 'utf8').toString('latin1'));
    this.dirty = false;
    this.last = Date.now();
  }
}

export interface ProgressOptions {
  stream: NodeJS.WriteStream | NodeJS.WritableStream;
  /** Redraw one line (a terminal) or print a line every `intervalMs` (CI). Default: the stream's isTTY. */
  tty?: boolean;
  intervalMs?: number;
  color?: boolean;
}

export const formatBytes = (n: number): string => {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
};

const formatSeconds = (s: number): string =>
  !Number.isFinite(s)
    ? '?'
    : s >= 3600
      ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`
      : s >= 60
        ? `${Math.floor(s / 60)}m${Math.round(s % 60)}s`
        : `${Math.round(s)}s`;

/** Files and bytes done, rate and ETA on stderr. */
export class Progress {
  private files = 0;
  private bytes = 0;
  private readonly started = Date.now();
  private timer?: NodeJS.Timeout;
  private readonly tty: boolean;
  constructor(
    private readonly opts: ProgressOptions,
    private readonly totalFiles: number,
    private readonly totalBytes: number,
  ) {
    this.tty = opts.tty ?? (opts.stream as NodeJS.WriteStream).isTTY === true;
    if (totalFiles > 0) {
      this.timer = setInterval(() => this.draw(), this.tty ? 200 : (opts.intervalMs ?? 5000));
      this.timer.unref();
    }
  }
  bytesDone(n: number): void {
    this.bytes += n;
  }
  fileDone(): void {
    this.files++;
  }
  line(): string {
    const secs = (Date.now() - this.started) / 1000;
    const rate = secs > 0 ? this.bytes / secs : 0;
    const eta = rate > 0 ? (this.totalBytes - this.bytes) / rate : Infinity;
    return (
      `migrate: ${this.files}/${this.totalFiles} files, ${formatBytes(this.bytes)}/${formatBytes(this.totalBytes)}` +
      `, ${formatBytes(rate)}/s, ETA ${formatSeconds(eta)}`
    );
  }
  private draw(): void {
    const text = this.line();
    if (this.tty) this.opts.stream.write(`\r\x1b[K${this.opts.color ? `\x1b[2m${text}\x1b[0m` : text}`);
    else this.opts.stream.write(text + '\n');
  }
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.totalFiles === 0) return;
    if (this.tty) this.opts.stream.write(`\r\x1b[K${this.line()}\n`);
    else this.opts.stream.write(this.line() + '\n');
  }
}

async function collect(store: ObjectStore, prefixes: readonly string[]): Promise<Map<string, ObjectEntry>> {
  const out = new Map<string, ObjectEntry>();
  for (const prefix of prefixes) for await (const e of store.list(prefix)) out.set(e.key, e);
  return out;
}

/** Local files up to this size are read once into memory (through the budget) rather than streamed twice. */
const SMALL_FILE = 8 * MiB;

const digestBuffer = (buf: Buffer): ReturnType<Hasher['digest']> => {
  const h = new Hasher();
  h.update(buf);
  return h.digest();
};

export async function migrate(o: MigrateOptions): Promise<MigrateResult> {
  const { source, destination } = o;
  const prefixes = o.prefixes ?? DEFAULT_PREFIXES;
  const threshold = o.multipartThreshold ?? 64 * MiB;
  const partSize = o.partSize ?? 16 * MiB;
  const budget = new ByteBudget(Math.max(o.memoryBudget ?? 96 * MiB, partSize));
  const journal = new Journal(o.journal, `${source.description} -> ${destination.description}`);
  const result: MigrateResult = {
    ok: false,
    dryRun: o.dryRun === true,
    from: source.description,
    to: destination.description,
    counts: { total: 0, copied: 0, skipped: 0, different: 0, failed: 0, unverified: 0 },
    bytes: { total: 0, copied: 0 },
    copies: [],
    different: [],
    unverified: [],
    failed: [],
    verifiedBy: { sha256: 0, 'content-md5': 0, 'read-back': 0 },
  };

  const [src, dst] = await Promise.all([collect(source, prefixes), collect(destination, prefixes)]);
  const copies: ObjectEntry[] = [];
  /** Same size, to be proven equal by reading both sides (or, with a record, the source against it). */
  const checks: Array<{ s: ObjectEntry; d: ObjectEntry; recorded?: JournalEntry }> = [];
  for (const s of [...src.values()].sort((a, b) => (a.key < b.key ? -1 : 1))) {
    result.counts.total++;
    result.bytes.total += s.size;
    const d = dst.get(s.key);
    if (!d) copies.push(s);
    else if (d.size !== s.size) {
      if (o.overwrite) copies.push(s);
      else
        result.different.push({
          key: s.key,
          why: `size ${s.size} at the source, ${d.size} at the destination`,
        });
    } else {
      const rec = journal.get(s.key);
      if (rec && rec.dst === destination.stamp(d) && rec.src === source.stamp(s)) result.counts.skipped++;
      else if (rec && rec.dst === destination.stamp(d)) checks.push({ s, d, recorded: rec });
      else if (o.verifyExisting || journal.planned(s.key)) checks.push({ s, d });
      else result.unverified.push(s.key);
    }
  }

  if (o.dryRun) {
    result.copies = copies.map((c) => c.key);
    result.counts.different = result.different.length;
    result.counts.unverified = result.unverified.length + checks.length;
    result.unverified.push(...checks.map((c) => c.s.key));
    result.ok = true;
    return result;
  }
  if (copies.length) journal.addPlanned(copies.map((c) => c.key));

  const work = [...checks.map((c) => ({ check: c })), ...copies.map((s) => ({ copy: s }))];
  const progress = o.progress
    ? new Progress(
        o.progress,
        work.length,
        copies.reduce((n, c) => n + c.size, 0),
      )
    : undefined;

  const record = (s: ObjectEntry, stamp: string, sha256: string): void =>
    journal.set(s.key, { src: source.stamp(s), dst: stamp, sha256 });

  async function copy(s: ObjectEntry): Promise<void> {
    /** Bytes taken from the budget for this copy: given back however it ends (a failed read included). */
    let held = 0;
    const inMemory = async (read: () => Promise<Buffer>): Promise<WriteSource> => {
      held = s.size;
      await budget.take(held);
      const buf = await read();
      return { kind: 'buffer', body: buf, digests: digestBuffer(buf) };
    };
    const local = source.localPath?.(s.key);
    const open = async (): Promise<WriteSource> => {
      if (s.size > threshold && destination.kind === 's3') {
        const p = partsOf(
          local ? createReadStream(local) : await source.read(s.key),
          s.size,
          partSize,
          budget,
        );
        return { kind: 'parts', parts: p.parts, partSize, whole: p.whole };
      }
      if (local && s.size <= SMALL_FILE)
        // Read once into memory: hashed and sent from the same bytes.
        return inMemory(async () => {
          const buf = await readFile(local);
          if (buf.length !== s.size)
            throw new Error(
              `the file has ${buf.length} bytes, the listing said ${s.size} (it changed: run again)`,
            );
          return buf;
        });
      if (local) return { kind: 'file', path: local, digests: await digestFile(local) };
      if (s.size > threshold) {
        // A large object to local files: in parts through the budget.
        const p = partsOf(await source.read(s.key), s.size, partSize, budget);
        return { kind: 'parts', parts: p.parts, partSize, whole: p.whole };
      }
      return inMemory(async () => readAll(await source.read(s.key), s.size));
    };
    try {
      const body = await open();
      const out = await destination.write(s.key, body, s.size);
      const sha256 = body.kind === 'parts' ? body.whole().sha256 : body.digests.sha256;
      result.verifiedBy[out.verifiedBy]++;
      record(s, out.stamp, sha256);
    } finally {
      if (held) budget.give(held);
    }
    result.counts.copied++;
    result.bytes.copied += s.size;
    result.copies.push(s.key);
    progress?.bytesDone(s.size);
  }

  async function check(c: { s: ObjectEntry; d: ObjectEntry; recorded?: JournalEntry }): Promise<void> {
    const srcSha = await source.digest(c.s.key);
    const dstSha = c.recorded ? c.recorded.sha256 : await destination.digest(c.d.key);
    if (srcSha === dstSha) {
      result.counts.skipped++;
      result.verifiedBy['read-back']++;
      record(c.s, destination.stamp(c.d), srcSha);
    } else if (o.overwrite) {
      await copy(c.s);
    } else {
      result.different.push({
        key: c.s.key,
        why: c.recorded
          ? 'the source changed since it was copied (same size, other content)'
          : 'same size, other content (SHA-256 read back)',
      });
    }
  }

  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < work.length) {
      const item = work[next++]!;
      const key = 'copy' in item ? item.copy.key : item.check.s.key;
      try {
        if ('copy' in item) await copy(item.copy);
        else await check(item.check);
      } catch (error) {
        result.failed.push({ key, error: errorMessage(error) });
      }
      progress?.fileDone();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, o.concurrency ?? 4) }, worker));
  } finally {
    progress?.stop();
    journal.flush(true);
  }
  result.counts.different = result.different.length;
  result.counts.failed = result.failed.length;
  result.counts.unverified = result.unverified.length;
  result.ok = result.counts.copied + result.counts.skipped === result.counts.total;
  return result;
}

/** The summary, one line per count, then what needs attention. */
export function formatResult(r: MigrateResult): string {
  const lines: string[] = [`Migrate: ${r.from} -> ${r.to}`];
  if (r.dryRun) {
    lines.push(...r.copies.map((k) => `  would copy ${k}`));
    lines.push(
      `Dry run: ${r.copies.length} of ${r.counts.total} files would be copied; ${r.counts.skipped} present and verified, ` +
        `${r.counts.different} different, ${r.counts.unverified} present but unverified. Nothing was copied.`,
    );
  } else {
    lines.push(
      `  copied:     ${r.counts.copied} (${formatBytes(r.bytes.copied)})`,
      `  skipped:    ${r.counts.skipped} (present and verified)`,
      `  different:  ${r.counts.different}`,
      `  failed:     ${r.counts.failed}`,
      `  unverified: ${r.counts.unverified} (present with the same size, never verified)`,
      `  of ${r.counts.total} files (${formatBytes(r.bytes.total)})`,
    );
  }
  for (const d of r.different) lines.push(`different: ${d.key}: ${d.why} (kept; --overwrite replaces it)`);
  for (const f of r.failed) lines.push(`failed: ${f.key}: ${f.error}`);
  if (r.unverified.length)
    lines.push(
      `${r.unverified.length} file(s) are present with the same size but were not copied by a verified run: ` +
        `--verify-existing reads both sides and compares them.`,
    );
  if (!r.dryRun)
    lines.push(
      r.ok
        ? 'Every source file is verified present at the destination.'
        : 'Not every source file is verified present: see above.',
    );
  return lines.join('\n') + '\n';
}
