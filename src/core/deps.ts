/**
 * The requirements.txt / pyproject.toml editor.
 *
 * The overlay declares the Python packages it needs in ONE managed block, delimited by two marker comments, so
 * that it can be replaced or removed exactly: every byte outside the block stays as the user wrote it.
 * It also reads the user's own declarations (PEP 508) and decides, with a small interval algebra on PEP 440
 * versions, whether they can satisfy what the overlay needs.
 */
import { explain } from '@renovatebot/pep440';
import { parse as parseSpecifierClauses } from '@renovatebot/pep440/lib/specifier.js';
import { parseTOML, ParseError as TomlParseError, type AST } from 'toml-eslint-parser';
import { UserError, type NeededPackage } from './types.js';

export const BLOCK_BEGIN =
  '# >>> arches-storage: managed by generator-arches-storage, re-run it to change >>>';
export const BLOCK_END = '# <<< arches-storage <<<';

/** First line inside the block of a requirements file the generator created (so removal deletes the file). */
export const CREATED_FILE_HEADER =
  '# Created by generator-arches-storage: packages for cloud file storage (pip install -r this file)';
/** Inside a pyproject block: the array was on one line (or had text after `[`); removal joins it back. */
export const INLINE_ARRAY_NOTE = '# (this array was on one line: removing the block puts it back)';
/** Inside a pyproject block: the generator added the dependencies key; removal deletes the key again. */
export const ADDED_KEY_NOTE =
  '# (generator-arches-storage added this dependencies key: removing the block removes it)';

const BEGIN_PREFIX = '# >>> arches-storage';
const END_PREFIX = '# <<< arches-storage';
const DEFAULT_INDENT = '    ';

export interface Declared {
  file: string;
  /** 1-based line of the declaration (first physical line of a continued line). */
  line: number;
  /** The raw requirement text (for requirements files: without comments and per-requirement options). */
  text: string;
  /** Distribution name as written. */
  name: string;
  /** Version specifier, whitespace removed (`>=4.2,<5`); empty for none or for URL / editable requirements. */
  specifier: string;
  /** Inside our managed block. */
  managed: boolean;
}

export interface DependencyDecision {
  package: NeededPackage;
  action: 'add' | 'keep';
  existing?: Declared;
  warning?: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Names and PEP 508 requirement strings

/** PEP 503 normalization: `Django_Storages` → `django-storages`. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

export interface ParsedRequirement {
  name: string;
  extras: string[];
  /** Whitespace-free specifier, '' for none or for URL / editable requirements. */
  specifier: string;
  /** `version`: name + optional specifier; `url`: `name @ url`, a bare URL / archive; `editable`: `-e …`. */
  kind: 'version' | 'url' | 'editable';
}

const NAME_RE = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?/;
const ARCHIVE_RE = /\.(?:whl|zip|tar\.gz|tgz|tar\.bz2|tbz|tar\.xz|txz|tar)$/i;

/** The distribution name a URL or path names through `#egg=name` or a wheel file name, if any. */
function nameFromLocation(location: string): { name: string; extras: string[] } | null {
  const egg = /#(?:[^#]*&)?egg=([^&\s]+)/.exec(location);
  if (egg) {
    const m = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(?:\[([^\]]*)\])?$/.exec(egg[1]!);
    return m ? { name: m[1]!, extras: splitExtras(m[2]) } : null;
  }
  const path = location.replace(/[?#].*$/, '');
  const base = path.slice(path.lastIndexOf('/') + 1);
  const wheel = /^([A-Za-z0-9](?:[A-Za-z0-9._]*[A-Za-z0-9])?)-[^-]+-.*\.whl$/i.exec(base);
  return wheel ? { name: wheel[1]!, extras: [] } : null;
}

function splitExtras(list: string | undefined): string[] {
  return (list ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
}

/**
 * Parse one requirement (PEP 508, or a pip `-e`/URL/path form). Returns null when it names no distribution
 * (a local path without `#egg=`, an option line, garbage).
 */
export function parseRequirement(text: string): ParsedRequirement | null {
  const t = text.trim();
  const editable = /^(?:-e|--editable)(?:\s*=\s*|\s*)(\S+)/.exec(t);
  if (editable) {
    const n = nameFromLocation(editable[1]!);
    return n ? { ...n, specifier: '', kind: 'editable' } : null;
  }
  if (t.startsWith('-')) return null;
  const nameMatch = NAME_RE.exec(t);
  const rest = nameMatch ? t.slice(nameMatch[0].length) : '';
  if (
    !nameMatch ||
    !/^(?:$|[\s[(;@<>=!~])/.test(rest) ||
    (ARCHIVE_RE.test(nameMatch[0]) && /^(?:$|[\s;])/.test(rest))
  ) {
    // A URL or a path: `https://…/x.whl`, `git+https://…#egg=x`, `./pkg`.
    const location = t.split(/\s+/)[0] ?? '';
    const n = nameFromLocation(location);
    return n ? { ...n, specifier: '', kind: 'url' } : null;
  }
  const name = nameMatch[0];
  let r = rest.trimStart();
  let extras: string[] = [];
  if (r.startsWith('[')) {
    const close = r.indexOf(']');
    if (close < 0) return null;
    extras = splitExtras(r.slice(1, close));
    r = r.slice(close + 1).trimStart();
  }
  if (r.startsWith('@')) return { name, extras, specifier: '', kind: 'url' };
  let spec = r.split(';')[0]!.trim();
  if (spec.startsWith('(') && spec.endsWith(')')) spec = spec.slice(1, -1);
  spec = spec
    .split(',')
    .map((c) => c.replace(/\s+/g, ''))
    .join(',');
  return { name, extras, specifier: spec, kind: 'version' };
}

// ---------------------------------------------------------------------------------------------------------------
// PEP 440 version sets: unions of intervals over the total order of versions

type LocalKey = null | 'max' | (number | string)[];
/** A version's sort key (as packaging's _cmpkey), extended with the synthetic points the specifiers need. */
interface VKey {
  epoch: number;
  release: readonly number[];
  /** [rank, n]: -2 floor of a release, -1 dev-only, 0 a, 1 b, 2 rc, 3 none. */
  pre: readonly [number, number];
  /** -Infinity: none. */
  post: number;
  /** +Infinity: none. */
  dev: number;
  /** null: none; 'max': after every local label. */
  local: LocalKey;
}
interface Bound {
  k: VKey;
  incl: boolean;
}
/** null bounds are -∞ / +∞. */
interface Interval {
  lo: Bound | null;
  hi: Bound | null;
}
type VersionSet = Interval[];

type Explained = NonNullable<ReturnType<typeof explain>>;

const PRE_RANK: Record<string, number> = { a: 0, b: 1, rc: 2 };

function cmpNum(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function cmpLocal(a: LocalKey, b: LocalKey): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  if (a === 'max') return 1;
  if (b === 'max') return -1;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (typeof x === 'number' && typeof y === 'number') {
      if (x !== y) return cmpNum(x, y);
    } else if (typeof x === 'number') return 1;
    else if (typeof y === 'number') return -1;
    else if (x !== y) return x < y ? -1 : 1;
  }
  return cmpNum(a.length, b.length);
}

function cmpKey(a: VKey, b: VKey): number {
  const e = cmpNum(a.epoch, b.epoch);
  if (e) return e;
  for (let i = 0; i < Math.max(a.release.length, b.release.length); i++) {
    const r = cmpNum(a.release[i] ?? 0, b.release[i] ?? 0);
    if (r) return r;
  }
  return (
    cmpNum(a.pre[0], b.pre[0]) ||
    cmpNum(a.pre[1], b.pre[1]) ||
    cmpNum(a.post, b.post) ||
    cmpNum(a.dev, b.dev) ||
    cmpLocal(a.local, b.local)
  );
}

function keyOf(v: Explained): VKey {
  const pre: [number, number] = v.pre
    ? [PRE_RANK[String(v.pre[0])] ?? 0, Number(v.pre[1])]
    : v.dev !== null && v.post === null
      ? [-1, 0]
      : [3, 0];
  return {
    epoch: v.epoch,
    release: v.release,
    pre,
    post: v.post === null ? -Infinity : Number(v.post),
    dev: v.dev === null ? Infinity : Number(v.dev),
    local: v.local
      ? v.local
          .toLowerCase()
          .split(/[._-]/)
          .map((p) => (/^\d+$/.test(p) ? Number(p) : p))
      : null,
  };
}

/** Below every version whose release is `release` (its pre-releases and dev releases included). */
function floorOf(epoch: number, release: readonly number[]): VKey {
  return { epoch, release, pre: [-2, 0], post: -Infinity, dev: -Infinity, local: null };
}
/** The final release itself (no pre, post, dev, local). */
function finalOf(v: Explained): VKey {
  return { epoch: v.epoch, release: v.release, pre: [3, 0], post: -Infinity, dev: Infinity, local: null };
}
/** Above the final release and all its post-releases and local versions. */
function ceilingOf(v: Explained): VKey {
  return { epoch: v.epoch, release: v.release, pre: [3, 0], post: Infinity, dev: Infinity, local: 'max' };
}
function withMaxLocal(k: VKey): VKey {
  return { ...k, local: 'max' };
}

function isEmpty(iv: Interval): boolean {
  if (!iv.lo || !iv.hi) return false;
  const c = cmpKey(iv.lo.k, iv.hi.k);
  // Versions are dense enough (1.0 < 1.0+x < 1.0.post0 …) that a < b always leaves one in between.
  return c > 0 || (c === 0 && !(iv.lo.incl && iv.hi.incl));
}

function cmpLo(a: Bound | null, b: Bound | null): number {
  if (!a) return b ? -1 : 0;
  if (!b) return 1;
  return cmpKey(a.k, b.k) || (a.incl === b.incl ? 0 : a.incl ? -1 : 1);
}
function cmpHi(a: Bound | null, b: Bound | null): number {
  if (!a) return b ? 1 : 0;
  if (!b) return -1;
  return cmpKey(a.k, b.k) || (a.incl === b.incl ? 0 : a.incl ? 1 : -1);
}

function norm(set: VersionSet): VersionSet {
  return set.filter((iv) => !isEmpty(iv)).sort((x, y) => cmpLo(x.lo, y.lo));
}

function intersect(a: VersionSet, b: VersionSet): VersionSet {
  const out: Interval[] = [];
  for (const x of a)
    for (const y of b)
      out.push({ lo: cmpLo(x.lo, y.lo) >= 0 ? x.lo : y.lo, hi: cmpHi(x.hi, y.hi) <= 0 ? x.hi : y.hi });
  return norm(out);
}

/** Complement of a normalized (sorted, disjoint) set. */
function complement(a: VersionSet): VersionSet {
  const out: Interval[] = [];
  let lo: Bound | null = null;
  for (const iv of a) {
    if (iv.lo) out.push({ lo, hi: { k: iv.lo.k, incl: !iv.lo.incl } });
    if (!iv.hi) return norm(out);
    lo = { k: iv.hi.k, incl: !iv.hi.incl };
  }
  out.push({ lo, hi: null });
  return norm(out);
}

const ALL: VersionSet = [{ lo: null, hi: null }];
const point = (k: VKey): VersionSet => [{ lo: { k, incl: true }, hi: { k, incl: true } }];

/** `==V.*`: every version whose release (padded with zeros) starts with V's. */
function prefixSet(v: Explained): VersionSet {
  if (!v.pre && v.post === null) {
    const next = [...v.release];
    next[next.length - 1] = (next[next.length - 1] ?? 0) + 1;
    return [
      { lo: { k: floorOf(v.epoch, v.release), incl: true }, hi: { k: floorOf(v.epoch, next), incl: false } },
    ];
  }
  // `==1.0a1.*`, `==1.0.post1.*`: that pre/post release with any further segment.
  const k = keyOf(v);
  return [
    {
      lo: {
        k: { ...k, post: v.post === null ? -Infinity : k.post, dev: -Infinity, local: null },
        incl: true,
      },
      hi: { k: { ...k, post: v.post === null ? Infinity : k.post, dev: Infinity, local: 'max' }, incl: true },
    },
  ];
}

function clauseSet(op: string, v: Explained | null, prefix: boolean): VersionSet {
  if (!v) return []; // `===legacy-string`: no PEP 440 version satisfies it
  const k = keyOf(v);
  switch (op) {
    case '===':
      return point(k);
    case '==':
      if (prefix) return prefixSet(v);
      // A public version matches its local versions too.
      return [{ lo: { k, incl: true }, hi: { k: v.local ? k : withMaxLocal(k), incl: true } }];
    case '!=':
      return complement(clauseSet('==', v, prefix));
    case '>=':
      return [{ lo: { k, incl: true }, hi: null }];
    case '<=':
      return [{ lo: null, hi: { k: withMaxLocal(k), incl: true } }];
    case '<':
      // `<V` excludes the pre-releases of V unless V is one.
      if (v.is_prerelease) return [{ lo: null, hi: { k, incl: false } }];
      return norm([
        { lo: null, hi: { k: floorOf(v.epoch, v.release), incl: false } },
        { lo: { k: finalOf(v), incl: true }, hi: { k, incl: false } },
      ]);
    case '>':
      // `>V` excludes V's local versions, and the post-releases of V unless V is one.
      if (v.is_postrelease) return [{ lo: { k: withMaxLocal(k), incl: false }, hi: null }];
      return norm([
        { lo: { k: withMaxLocal(k), incl: false }, hi: { k: finalOf(v), incl: true } },
        { lo: { k: ceilingOf(v), incl: false }, hi: null },
      ]);
    case '~=': {
      const up = explain(`${v.epoch ? `${v.epoch}!` : ''}${v.release.slice(0, -1).join('.')}`);
      return intersect([{ lo: { k, incl: true }, hi: null }], up ? prefixSet(up) : []);
    }
    default:
      return [];
  }
}

/** The versions a PEP 440 specifier admits, or null when it is not a valid specifier. */
function specifierSet(spec: string): VersionSet | null {
  if (spec.trim() === '') return ALL;
  const clauses = parseSpecifierClauses(spec) as Array<{
    operator: string;
    version?: string;
    prefix?: string;
    legacy?: string;
  }> | null;
  if (!clauses) return null;
  let set = ALL;
  for (const c of clauses) {
    const v = c.version ? explain(c.version) : null;
    if (c.version && !v) return null;
    set = intersect(set, clauseSet(c.operator, v, Boolean(c.prefix)));
  }
  return set;
}

/** Whether some version satisfies both specifiers. Throws on an invalid specifier. */
export function specifiersIntersect(a: string, b: string): boolean {
  return intersect(mustSet(a), mustSet(b)).length > 0;
}

/** Whether every version `a` admits is admitted by `b`. Throws on an invalid specifier. */
export function specifierWithin(a: string, b: string): boolean {
  return intersect(mustSet(a), complement(mustSet(b))).length === 0;
}

function mustSet(spec: string): VersionSet {
  const set = specifierSet(spec);
  if (!set) throw new Error(`Invalid PEP 440 specifier: ${JSON.stringify(spec)}`);
  return set;
}

// ---------------------------------------------------------------------------------------------------------------
// Lines and markers

interface PhysLine {
  text: string;
  /** Offset of the first character. */
  start: number;
  /** Offset just after the text (before the line terminator). */
  end: number;
  /** Offset just after the line terminator (== end on a last line without one). */
  next: number;
}

function splitLines(s: string): PhysLine[] {
  const out: PhysLine[] = [];
  const re = /\r?\n/g;
  let pos = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    out.push({ text: s.slice(pos, m.index), start: pos, end: m.index, next: m.index + m[0].length });
    pos = m.index + m[0].length;
  }
  if (pos < s.length) out.push({ text: s.slice(pos), start: pos, end: s.length, next: s.length });
  return out;
}

function detectEol(s: string): string {
  return /\r?\n/.exec(s)?.[0] ?? '\n';
}

interface MarkerCandidate {
  /** 1-based line. */
  line: number;
  /** Trimmed text. */
  text: string;
}

/** Find our two markers among the candidates; throws when they were edited, duplicated or misordered. */
function locateMarkers<T extends MarkerCandidate>(
  file: string,
  items: readonly T[],
): { begin: T; end: T } | null {
  const begins: T[] = [];
  const ends: T[] = [];
  const fix = 'Restore the marker lines exactly (or delete the whole block), then re-run the generator.';
  for (const it of items) {
    if (it.text.startsWith(BEGIN_PREFIX)) {
      if (it.text !== BLOCK_BEGIN)
        throw new UserError(
          `${file}:${it.line}: the arches-storage block start marker was edited: "${it.text}" (expected "${BLOCK_BEGIN}"). ${fix}`,
          file,
        );
      begins.push(it);
    } else if (it.text.startsWith(END_PREFIX)) {
      if (it.text !== BLOCK_END)
        throw new UserError(
          `${file}:${it.line}: the arches-storage block end marker was edited: "${it.text}" (expected "${BLOCK_END}"). ${fix}`,
          file,
        );
      ends.push(it);
    }
  }
  if (begins.length > 1)
    throw new UserError(
      `${file}:${begins[1]!.line}: a second arches-storage block starts here (the first is at line ${begins[0]!.line}). ${fix}`,
      file,
    );
  if (ends.length > 1)
    throw new UserError(
      `${file}:${ends[1]!.line}: a second arches-storage block end marker (the first is at line ${ends[0]!.line}). ${fix}`,
      file,
    );
  const [begin] = begins;
  const [end] = ends;
  if (begin && !end)
    throw new UserError(
      `${file}:${begin.line}: the arches-storage block starts here but has no end marker. ${fix}`,
      file,
    );
  if (end && !begin)
    throw new UserError(
      `${file}:${end.line}: an arches-storage block end marker without a start marker. ${fix}`,
      file,
    );
  if (!begin || !end) return null;
  if (end.line <= begin.line)
    throw new UserError(
      `${file}:${end.line}: the arches-storage block end marker comes before its start marker (line ${begin.line}). ${fix}`,
      file,
    );
  return { begin, end };
}

function requirementsMarkers(
  file: string,
  lines: readonly PhysLine[],
): { begin: number; end: number } | null {
  const found = locateMarkers(
    file,
    lines.map((l, i) => ({ line: i + 1, text: l.text.trim() })),
  );
  return found ? { begin: found.begin.line - 1, end: found.end.line - 1 } : null;
}

// ---------------------------------------------------------------------------------------------------------------
// requirements.txt

/** Parse all requirement declarations of a requirements file; follows nothing (`-r`, `-c` are not read). */
export function readRequirements(file: string, content: string): Declared[] {
  const lines = splitLines(content);
  const block = requirementsMarkers(file, lines);
  const out: Declared[] = [];
  const emit = (index: number, logical: string): void => {
    // pip: a comment starts at a `#` at the start of the line or after whitespace.
    const stripped = logical.replace(/(^|\s+)#.*$/, '').trim();
    if (!stripped) return;
    let text = stripped;
    if (!stripped.startsWith('-')) {
      // pip: per-requirement options (`--hash`, …) start at the first token beginning with `-`.
      const cut = stripped.search(/\s-/);
      if (cut >= 0) text = stripped.slice(0, cut).trimEnd();
    }
    const req = parseRequirement(text);
    if (!req) return;
    out.push({
      file,
      line: index + 1,
      text,
      name: req.name,
      specifier: req.specifier,
      managed: block !== null && index > block.begin && index < block.end,
    });
  };
  // pip's join_lines: a line ending in `\` continues on the next one, unless it is a comment.
  let parts: string[] = [];
  let first = 0;
  lines.forEach((l, i) => {
    const isComment = /^\s*#/.test(l.text);
    if (!l.text.endsWith('\\') || isComment) {
      if (parts.length) {
        parts.push(isComment ? ` ${l.text}` : l.text);
        emit(first, parts.join(''));
        parts = [];
      } else emit(i, l.text);
    } else {
      if (!parts.length) first = i;
      parts.push(l.text.replace(/^\\+|\\+$/g, ''));
    }
  });
  if (parts.length) emit(first, parts.join(''));
  return out;
}

/** The requirement line we write for a package, e.g. `django-storages[s3]==1.14.6`. */
export function formatRequirement(p: NeededPackage): string {
  const extras = p.extras.length ? `[${p.extras.join(',')}]` : '';
  return `${p.name}${extras}${p.specifier.replace(/\s+/g, '')}`;
}

export function applyRequirementsBlock(
  file: string,
  content: string | null,
  add: readonly NeededPackage[],
): string | null {
  const blockLines = (header: boolean): string[] => [
    BLOCK_BEGIN,
    ...(header ? [CREATED_FILE_HEADER] : []),
    ...add.map(formatRequirement),
    BLOCK_END,
  ];
  if (content === null) return add.length ? `${blockLines(true).join('\n')}\n` : null;

  const lines = splitLines(content);
  const block = requirementsMarkers(file, lines);
  const eol = detectEol(content);
  if (!block) {
    if (!add.length) return content;
    const text = blockLines(false).join(eol);
    // A file without a final newline gets "\n" + block (and no final newline), so removal restores it exactly.
    return content === '' || content.endsWith('\n') ? content + text + eol : content + eol + text;
  }

  const b = lines[block.begin]!;
  const e = lines[block.end]!;
  const header = lines.slice(block.begin + 1, block.end).some((l) => l.text.trim() === CREATED_FILE_HEADER);
  if (add.length) {
    const blockEol = content.slice(b.end, b.next) || eol;
    return content.slice(0, b.start) + blockLines(header).join(blockEol) + content.slice(e.end);
  }
  let start = b.start;
  const stop = e.next;
  // The block ends the file without a final newline: we added the newline before it, take that one away.
  if (e.next === e.end && block.begin > 0) start = lines[block.begin - 1]!.end;
  const result = content.slice(0, start) + content.slice(stop);
  return result === '' && header ? null : result;
}

// ---------------------------------------------------------------------------------------------------------------
// pyproject.toml

interface PyprojectInfo {
  ast: AST.TOMLProgram;
  projectTable: AST.TOMLTable | undefined;
  hasProject: boolean;
  depsKV: AST.TOMLKeyValue | undefined;
  dynamicDeps: AST.TOMLKeyValue | undefined;
  markers: { begin: TomlMarker; end: TomlMarker } | null;
}
interface TomlMarker extends MarkerCandidate {
  range: [number, number];
}

function parseToml(file: string, content: string): AST.TOMLProgram {
  try {
    return parseTOML(content);
  } catch (e) {
    if (e instanceof TomlParseError)
      throw new UserError(
        `${file}:${e.lineNumber}:${e.column + 1}: invalid TOML (line ${e.lineNumber}): ${e.message}`,
        file,
      );
    throw e;
  }
}

function keyPath(key: AST.TOMLKey): string[] {
  return key.keys.map((k) => (k.type === 'TOMLBare' ? k.name : k.value));
}

function inspectPyproject(file: string, content: string): PyprojectInfo {
  const ast = parseToml(file, content);
  const top = ast.body[0];
  let projectTable: AST.TOMLTable | undefined;
  let hasProject = false;
  let depsKV: AST.TOMLKeyValue | undefined;
  let dynamicDeps: AST.TOMLKeyValue | undefined;
  const visit = (kvs: readonly AST.TOMLKeyValue[], prefix: readonly (string | number)[]): void => {
    for (const kv of kvs) {
      const path = [...prefix, ...keyPath(kv.key)];
      if (path[0] === 'project') hasProject = true;
      if (path.length === 2 && path[0] === 'project') {
        if (path[1] === 'dependencies') depsKV = kv;
        if (
          path[1] === 'dynamic' &&
          kv.value.type === 'TOMLArray' &&
          kv.value.elements.some((el) => el.type === 'TOMLValue' && el.value === 'dependencies')
        )
          dynamicDeps = kv;
      }
      if (kv.value.type === 'TOMLInlineTable') visit(kv.value.body, path);
    }
  };
  for (const item of top.body) {
    if (item.type === 'TOMLKeyValue') visit([item], []);
    else {
      if (item.kind === 'standard' && item.resolvedKey.length === 1 && item.resolvedKey[0] === 'project') {
        projectTable = item;
        hasProject = true;
      }
      visit(item.body, item.resolvedKey);
    }
  }
  const markers = locateMarkers<TomlMarker>(
    file,
    ast.comments.map((c) => {
      const text = content.slice(c.range[0], c.range[1]).trim();
      // The range of the comment's visible text: trailing blanks on its line are not ours.
      return {
        line: c.loc.start.line,
        text,
        range: [c.range[0], c.range[0] + text.length] as [number, number],
      };
    }),
  );
  if (markers) {
    const arr = depsKV?.value;
    if (
      !arr ||
      arr.type !== 'TOMLArray' ||
      markers.begin.range[0] < arr.range[0] ||
      markers.end.range[1] > arr.range[1]
    )
      throw new UserError(
        `${file}:${markers.begin.line}: the arches-storage block must stay inside the [project].dependencies array. ` +
          'Move it back (or delete it), then re-run the generator.',
        file,
      );
  }
  return { ast, projectTable, hasProject, depsKV, dynamicDeps, markers };
}

function dependencyArray(file: string, kv: AST.TOMLKeyValue): AST.TOMLArray {
  if (kv.value.type !== 'TOMLArray')
    throw new UserError(
      `${file}:${kv.loc.start.line}: [project].dependencies must be an array of strings.`,
      file,
    );
  return kv.value;
}

function dynamicError(file: string, kv: AST.TOMLKeyValue): UserError {
  return new UserError(
    `${file}:${kv.loc.start.line}: [project].dependencies is dynamic (listed in [project].dynamic), so the generator ` +
      'cannot declare packages there. Declare the dependencies statically in [project].dependencies, or add the ' +
      'packages the generator reports to wherever your build backend reads them.',
    file,
  );
}

/** Requirement declarations of pyproject.toml's [project].dependencies. */
export function readPyprojectDependencies(file: string, content: string): Declared[] {
  const info = inspectPyproject(file, content);
  if (info.dynamicDeps) throw dynamicError(file, info.dynamicDeps);
  if (!info.depsKV) return [];
  const arr = dependencyArray(file, info.depsKV);
  const out: Declared[] = [];
  for (const el of arr.elements) {
    if (el.type !== 'TOMLValue' || el.kind !== 'string')
      throw new UserError(
        `${file}:${el.loc.start.line}: [project].dependencies must contain only strings.`,
        file,
      );
    const req = parseRequirement(el.value);
    if (!req) continue;
    const m = info.markers;
    out.push({
      file,
      line: el.loc.start.line,
      text: el.value.trim(),
      name: req.name,
      specifier: req.specifier,
      managed: m !== null && el.range[0] > m.begin.range[1] && el.range[1] < m.end.range[0],
    });
  }
  return out;
}

/** Offset of the start of the line containing `pos`. */
function lineStart(s: string, pos: number): number {
  return s.lastIndexOf('\n', pos - 1) + 1;
}
/** Offset of the end of the line containing `pos` (before its terminator). */
function lineEnd(s: string, pos: number): number {
  const nl = s.indexOf('\n', pos);
  if (nl < 0) return s.length;
  return nl > 0 && s[nl - 1] === '\r' ? nl - 1 : nl;
}
/** The whitespace before `pos` on its line, or null when something else precedes it. */
function indentBefore(s: string, pos: number): string | null {
  const before = s.slice(lineStart(s, pos), pos);
  return /^[ \t]*$/.test(before) ? before : null;
}

export function applyPyprojectBlock(file: string, content: string, add: readonly NeededPackage[]): string {
  const info = inspectPyproject(file, content);
  if (!add.length && !info.markers) return content;
  if (info.dynamicDeps) throw dynamicError(file, info.dynamicDeps);
  const eol = detectEol(content);
  const reqLines = add.map((p) => `${JSON.stringify(formatRequirement(p))},`);
  const result = editPyproject(file, content, info, eol, reqLines);
  checkToml(result);
  return result;
}

function editPyproject(
  file: string,
  content: string,
  info: PyprojectInfo,
  eol: string,
  reqLines: string[],
): string {
  const { markers, depsKV } = info;

  // 1. Our block exists: replace it, or remove it.
  if (markers && depsKV) {
    const arr = dependencyArray(file, depsKV);
    const indent = indentBefore(content, markers.begin.range[0]) ?? DEFAULT_INDENT;
    const inside = content
      .slice(markers.begin.range[1], markers.end.range[0])
      .split(/\r?\n/)
      .map((l) => l.trim());
    const notes = [INLINE_ARRAY_NOTE, ADDED_KEY_NOTE].filter((n) => inside.includes(n));
    if (reqLines.length) {
      const text = [BLOCK_BEGIN, ...notes, ...reqLines, BLOCK_END].join(eol + indent);
      return content.slice(0, markers.begin.range[0]) + text + content.slice(markers.end.range[1]);
    }
    // Removal: the newline + indentation we put before the start marker, up to the end marker.
    let start = markers.begin.range[0] - (indentBefore(content, markers.begin.range[0])?.length ?? 0);
    if (content.startsWith('\r\n', start - 2)) start -= 2;
    else if (content[start - 1] === '\n') start -= 1;
    let stop = markers.end.range[1];
    if (notes.includes(INLINE_ARRAY_NOTE)) {
      // We moved what followed `[` onto a new line after the block: join it back.
      const tail = /^\r?\n[ \t]*/.exec(content.slice(stop));
      if (tail) {
        const endIndent = indentBefore(content, markers.end.range[0]) ?? '';
        const ws = tail[0].replace(/^\r?\n/, '');
        stop += tail[0].length - ws.length + (ws.startsWith(endIndent) ? endIndent.length : ws.length);
      }
    }
    const leftover = content.slice(arr.range[0] + 1, start) + content.slice(stop, arr.range[1] - 1);
    if (notes.includes(ADDED_KEY_NOTE) && leftover.trim() === '') {
      // We added the whole `dependencies = [...]` key: take it away with its line.
      let keyStart = depsKV.range[0];
      const keyIndent = indentBefore(content, keyStart);
      if (keyIndent !== null) keyStart -= keyIndent.length;
      let keyStop = depsKV.range[1];
      const after = /^\r?\n/.exec(content.slice(keyStop));
      if (after) keyStop += after[0].length;
      else if (content.startsWith('\r\n', keyStart - 2)) keyStart -= 2;
      else if (content[keyStart - 1] === '\n') keyStart -= 1;
      return content.slice(0, keyStart) + content.slice(keyStop);
    }
    return content.slice(0, start) + content.slice(stop);
  }

  // 2. An existing dependencies array: insert right after `[`, leaving the user's elements and commas alone.
  if (depsKV) {
    const arr = dependencyArray(file, depsKV);
    const first = arr.elements[0];
    const indent = (first && indentBefore(content, first.range[0])) || DEFAULT_INDENT;
    const open = arr.range[0] + 1;
    const restOfLine = content.slice(open, lineEnd(content, open));
    const alone = /^[ \t]*$/.test(restOfLine);
    const lines = [BLOCK_BEGIN, ...(alone ? [] : [INLINE_ARRAY_NOTE]), ...reqLines, BLOCK_END];
    const text = eol + indent + lines.join(eol + indent) + (alone ? '' : eol + indent);
    return content.slice(0, open) + text + content.slice(open);
  }

  // 3. No dependencies key: add one as the last key of [project].
  const table = info.projectTable;
  if (!table) {
    throw new UserError(
      info.hasProject
        ? `${file}: [project] is not written as a [project] table, so the generator cannot add a dependencies key. ` +
            'Add `dependencies = []` to it, then re-run the generator.'
        : `${file} has no [project] table, so the generator cannot declare packages there. Add [project] ` +
            'with a dependencies array (or use a requirements file), then re-run the generator.',
      file,
    );
  }
  const last = table.body[table.body.length - 1];
  const anchor = last ? last.range[1] : table.range[1];
  const keyIndent = (last && indentBefore(content, last.range[0])) || '';
  const lines = [BLOCK_BEGIN, ADDED_KEY_NOTE, ...reqLines, BLOCK_END];
  const kvText =
    `${keyIndent}dependencies = [` +
    eol +
    keyIndent +
    DEFAULT_INDENT +
    lines.join(eol + keyIndent + DEFAULT_INDENT) +
    eol +
    keyIndent +
    ']';
  const end = lineEnd(content, anchor);
  if (end === content.length) return content + eol + kvText;
  const next = content.startsWith('\r\n', end) ? end + 2 : end + 1;
  return content.slice(0, next) + kvText + eol + content.slice(next);
}

function checkToml(result: string): void {
  try {
    parseTOML(result);
  } catch (e) {
    throw new Error(`internal error: the pyproject.toml edit produced invalid TOML (${String(e)})`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Decisions

export function decideDependencies(
  needed: readonly NeededPackage[],
  declared: readonly Declared[],
): DependencyDecision[] {
  const conflicts: string[] = [];
  let conflictFile: string | undefined;
  const decisions: DependencyDecision[] = [];
  for (const p of needed) {
    const acceptSet = specifierSet(p.accept);
    if (!acceptSet)
      throw new Error(`internal error: invalid accept range ${JSON.stringify(p.accept)} for ${p.name}`);
    const want = `${p.name}${p.accept}`;
    const mine = declared.filter((d) => !d.managed && normalizeName(d.name) === normalizeName(p.name));
    if (!mine.length) {
      decisions.push({ package: p, action: 'add' });
      continue;
    }
    const warnings: string[] = [];
    let conflicted = false;
    for (const d of mine) {
      const where = `${d.file}:${d.line}: \`${d.text}\``;
      const parsed = parseRequirement(d.text);
      if (parsed && parsed.kind !== 'version') {
        warnings.push(
          `${where} installs ${p.name} from a URL or path, so its version cannot be checked against ${want} (${p.reason}).`,
        );
        continue;
      }
      const spec = parsed?.specifier ?? d.specifier;
      const set = specifierSet(spec);
      if (!set) {
        warnings.push(
          `${where}: cannot read the version specifier "${spec}", so it was not checked against ${want} (${p.reason}).`,
        );
        continue;
      }
      if (intersect(set, acceptSet).length === 0) {
        conflicts.push(`${where} admits no version in ${want}, which is needed because ${p.reason}.`);
        conflictFile ??= d.file;
        conflicted = true;
        continue;
      }
      if (intersect(set, complement(acceptSet)).length > 0) {
        warnings.push(
          `${where} also allows ${p.name} versions outside ${p.accept} (${p.reason}); ` +
            `consider pinning it to ${p.name}${p.specifier}.`,
        );
      }
      const missing = p.extras.filter(
        (x) => !(parsed?.extras ?? []).some((y) => normalizeName(y) === normalizeName(x)),
      );
      if (missing.length)
        warnings.push(
          `${where} lacks the extra${missing.length > 1 ? 's' : ''} [${missing.join(',')}] that cloud storage needs; ` +
            `add ${missing.length > 1 ? 'them' : 'it'} (e.g. ` +
            `${formatRequirement({ ...p, extras: [...(parsed?.extras ?? []), ...missing], specifier: spec })}).`,
        );
    }
    if (conflicted) continue;
    decisions.push({
      package: p,
      action: 'keep',
      existing: mine[0],
      ...(warnings.length ? { warning: warnings.join(' ') } : {}),
    });
  }
  if (conflicts.length) {
    throw new UserError(
      (conflicts.length === 1
        ? 'A declared dependency conflicts with what cloud storage needs:\n'
        : `${conflicts.length} declared dependencies conflict with what cloud storage needs:\n`) +
        conflicts.map((c) => `  - ${c}`).join('\n') +
        '\nChange or remove these declarations, then re-run the generator.',
      conflictFile,
    );
  }
  return decisions;
}
