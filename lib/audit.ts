/**
 * `arches-storage audit`: the project's stored files against its database. python/audit_files.py, run by the
 * project's own interpreter, reads every `File` row's storage name through Arches' ORM and lists the objects
 * under the prefixes Arches owns through Django's `default_storage` (the same code path for S3 and local
 * files, so no cloud SDK here); this module chooses that interpreter, runs the script, sorts its answer into
 * orphans (objects no row names) and broken links (rows whose object is missing), and prints it.
 */
import { execFile } from 'node:child_process';
import { packagePath } from './paths.js';
import { pythonCandidates, type PythonCandidate } from './pysettings.js';
import { UserError } from './types.js';
import { DEFAULT_PREFIXES, UNITS } from './audit-input.js';

export { DEFAULT_PREFIXES, parseMinAge } from './audit-input.js';

export const AUDIT_SCRIPT = packagePath('python', 'audit_files.py');

/** How orphans are grouped: the longest of these (or of the --prefix values) a name starts with. */
export const GROUPS: readonly string[] = ['uploadedfiles/tmp/', 'uploadedfiles/', 'archestemp/', 'concepts/'];

/**
 * The prefixes the audit lists and may delete under: Arches' own, plus each `--prefix` (relative to the
 * storage's location, `/`-separated, no `.` or `..` segment; a trailing `/` is added).
 */
export function ownedPrefixes(extra: readonly string[] = []): string[] {
  const out = [...DEFAULT_PREFIXES];
  for (const raw of extra) {
    const p = raw.trim().replace(/\/*$/, '/');
    const segments = p.slice(0, -1).split('/');
    if (
      p === '/' ||
      p.startsWith('/') ||
      p.includes('\\') ||
      segments.some((s) => ['', '.', '..'].includes(s))
    )
      throw new UserError(
        `--prefix "${raw}" is not a folder inside the storage: give a relative path such as "exports/" ` +
          `(no leading "/", no "." or ".." segments).`,
        'prefix',
        2,
      );
    if (!out.some((o) => p.startsWith(o))) out.push(p);
  }
  return out;
}

/** A row that names a stored object (`files`: File.path; `values`: a concept image, FileValue.value). */
export interface AuditRow {
  table: 'files' | 'values';
  id: string;
  name: string;
  exists: boolean;
}

/** An object under the owned prefixes; size and modified (epoch seconds) only for those no row names. */
export interface AuditObject {
  name: string;
  referenced: boolean;
  size?: number;
  modified?: number;
}

/** What python/audit_files.py answers for `list`. */
export interface AuditListing {
  backend: string;
  location: string;
  django: string;
  rows: AuditRow[];
  objects: AuditObject[];
}

export interface Orphan {
  name: string;
  size: number;
  /** ISO 8601. */
  modified: string;
  group: string;
  /** Older than --min-age: what --delete-orphans would delete. */
  deletable: boolean;
}

export interface OrphanGroup {
  prefix: string;
  count: number;
  bytes: number;
  oldest: string;
  newest: string;
}

export interface AuditReport {
  backend: string;
  location: string;
  prefixes: string[];
  rows: number;
  objects: number;
  referenced: number;
  orphans: { count: number; bytes: number; oldest?: string; newest?: string; groups: OrphanGroup[] };
  orphanList: Orphan[];
  broken: Array<Omit<AuditRow, 'exists'>>;
  minAgeSeconds: number;
}

const iso = (epochSeconds: number): string => new Date(epochSeconds * 1000).toISOString();

/** The group of a name: the longest known prefix it starts with. */
export function groupOf(name: string, prefixes: readonly string[]): string {
  const known = [...new Set([...GROUPS, ...prefixes])].sort((a, b) => b.length - a.length);
  return known.find((p) => name.startsWith(p)) ?? `${name.split('/')[0]}/`;
}

/** Sorts a listing into orphans and broken links. `now` in epoch seconds. */
export function summarise(
  listing: AuditListing,
  options: { prefixes: readonly string[]; now: number; minAgeSeconds: number },
): AuditReport {
  const orphanList: Orphan[] = listing.objects
    .filter((o) => !o.referenced)
    .map((o) => ({
      name: o.name,
      size: o.size ?? 0,
      modified: iso(o.modified ?? options.now),
      group: groupOf(o.name, options.prefixes),
      deletable: options.now - (o.modified ?? options.now) >= options.minAgeSeconds,
    }));
  const groups = new Map<string, OrphanGroup>();
  for (const o of orphanList) {
    const g = groups.get(o.group) ?? {
      prefix: o.group,
      count: 0,
      bytes: 0,
      oldest: o.modified,
      newest: o.modified,
    };
    g.count += 1;
    g.bytes += o.size;
    if (o.modified < g.oldest) g.oldest = o.modified;
    if (o.modified > g.newest) g.newest = o.modified;
    groups.set(o.group, g);
  }
  const all = [...groups.values()].sort((a, b) => a.prefix.localeCompare(b.prefix));
  const times = orphanList.map((o) => o.modified).sort();
  return {
    backend: listing.backend,
    location: listing.location,
    prefixes: [...options.prefixes],
    rows: listing.rows.length,
    objects: listing.objects.length,
    referenced: listing.objects.length - orphanList.length,
    orphans: {
      count: orphanList.length,
      bytes: orphanList.reduce((n, o) => n + o.size, 0),
      oldest: times[0],
      newest: times.at(-1),
      groups: all,
    },
    orphanList,
    broken: listing.rows.filter((r) => !r.exists).map(({ table, id, name }) => ({ table, id, name })),
    minAgeSeconds: options.minAgeSeconds,
  };
}

/** 1536 → "1.5 KiB". */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

const table = (header: string[], rows: string[][], right: ReadonlySet<number>): string[] => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    '  ' +
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
};

/** The text report: totals, orphans by prefix, every broken link. */
export function formatReport(r: AuditReport): string {
  const where = r.location ? ` (location ${JSON.stringify(r.location)})` : '';
  const lines = [
    `Storage: ${r.backend}${where}; listed under ${r.prefixes.join(', ')}`,
    `Rows naming a stored object: ${r.rows}; objects listed: ${r.objects} (${r.referenced} referenced)`,
    '',
  ];
  if (r.orphans.count === 0) lines.push('Orphans (objects no row references): none');
  else {
    lines.push(
      `Orphans (objects no row references): ${r.orphans.count}, ${formatBytes(r.orphans.bytes)}, ` +
        `oldest ${r.orphans.oldest}, newest ${r.orphans.newest}`,
      ...table(
        ['prefix', 'count', 'bytes', 'oldest', 'newest'],
        r.orphans.groups.map((g) => [g.prefix, String(g.count), formatBytes(g.bytes), g.oldest, g.newest]),
        new Set([1, 2]),
      ),
    );
  }
  lines.push('');
  if (r.broken.length === 0) lines.push('Broken links (rows whose object is missing): none');
  else
    lines.push(
      `Broken links (rows whose object is missing): ${r.broken.length}`,
      ...table(
        ['table', 'id', 'name'],
        r.broken.map((b) => [b.table, b.id, b.name]),
        new Set(),
      ),
    );
  return lines.join('\n');
}

/** The orphans --delete-orphans would delete, one per line, for the confirmation. */
export function formatDeletable(r: AuditReport): string {
  const chosen = r.orphanList.filter((o) => o.deletable);
  const young = r.orphans.count - chosen.length;
  const head = `Orphans older than ${formatAge(r.minAgeSeconds)}: ${chosen.length}, ${formatBytes(
    chosen.reduce((n, o) => n + o.size, 0),
  )}${young ? ` (${young} younger kept)` : ''}`;
  return [head, ...chosen.map((o) => `  ${o.name}  ${formatBytes(o.size)}  ${o.modified}`)].join('\n');
}

export function formatAge(seconds: number): string {
  if (seconds % UNITS.d === 0) return `${seconds / UNITS.d}d`;
  if (seconds % UNITS.h === 0) return `${seconds / UNITS.h}h`;
  return `${Math.round(seconds / UNITS.m)}m`;
}

/** The project's own interpreter (`--python`, $VIRTUAL_ENV, .venv, venv, ENV); none is exit 2, one line. */
export function projectPython(
  root: string,
  python?: string,
  env: NodeJS.ProcessEnv = process.env,
): PythonCandidate {
  const found = pythonCandidates(root, { python, env }).find((c) => c.project);
  if (!found)
    throw new UserError(
      `No project Python found ($VIRTUAL_ENV, .venv, venv, ENV): the audit reads the files table through the ` +
        `project's Django; pass --python with the project's interpreter.`,
      'python',
      2,
    );
  return found;
}

export interface AuditRequest {
  root: string;
  pkg: string;
  prefixes: readonly string[];
}

export interface DeleteAnswer {
  deleted: string[];
  kept: Array<{ name: string; why: string }>;
}

type ScriptAnswer = { error: string; message: string } | (AuditListing & Partial<DeleteAnswer>);

function runScript(
  python: PythonCandidate,
  body: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  pkg: string,
): Promise<AuditListing & Partial<DeleteAnswer>> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      python.path,
      [AUDIT_SCRIPT],
      {
        cwd: String(body.root),
        encoding: 'utf8',
        maxBuffer: 256 * 1024 * 1024,
        env: { ...env, PYTHONDONTWRITEBYTECODE: '1', PYTHONIOENCODING: 'utf-8' },
      },
      (error, stdout, stderr) => {
        const last = stdout.trim().split('\n').at(-1) ?? '';
        let answer: ScriptAnswer | undefined;
        try {
          answer = JSON.parse(last) as ScriptAnswer;
        } catch {
          answer = undefined;
        }
        const using = `${python.path} (${python.source})`;
        if (answer && 'error' in answer) {
          const what =
            answer.error === 'setup'
              ? `importing ${pkg}.settings and setting up Django with ${using} failed`
              : answer.error === 'rows'
                ? `reading the files table with ${using} failed`
                : `the audit with ${using} failed`;
          reject(
            new UserError(
              `${what}: ${answer.message}. Pass --python with the project's interpreter.`,
              'python',
              2,
            ),
          );
          return;
        }
        if (error || !answer) {
          const err = stderr.trim().split('\n').at(-1) ?? error?.message ?? 'no answer';
          reject(new UserError(`the audit with ${using} failed: ${err}`, 'python', 2));
          return;
        }
        resolve(answer);
      },
    );
    child.stdin?.end(JSON.stringify(body));
  });
}

/** Lists the rows and the objects under the prefixes. */
export function listStorage(
  python: PythonCandidate,
  request: AuditRequest,
  env: NodeJS.ProcessEnv = process.env,
): Promise<AuditListing> {
  return runScript(python, { ...request, action: 'list' }, env, request.pkg);
}

/** Deletes the chosen orphans; the script checks each again (prefix, no row, age) before deleting it. */
export async function deleteOrphans(
  python: PythonCandidate,
  request: AuditRequest,
  names: readonly string[],
  minAgeSeconds: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<DeleteAnswer> {
  const a = await runScript(
    python,
    { ...request, action: 'delete', delete: names, min_age_seconds: minAgeSeconds },
    env,
    request.pkg,
  );
  return { deleted: a.deleted ?? [], kept: a.kept ?? [] };
}
