/**
 * The requirements.txt / pyproject.toml editor.
 *
 * The overlay declares the Python packages it needs in ONE managed block, delimited by two marker comments, so
 * that it can be replaced or removed exactly: every byte outside the block stays as the user wrote it.
 * It also reads the user's own declarations (PEP 508) and decides, with a small interval algebra on PEP 440
 * versions, whether they can satisfy what the overlay needs.
 */
import path from 'node:path';
import { explain, satisfies, valid, validRange } from '@renovatebot/pep440';
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
  /** The PEP 508 environment marker, as written after `;` (absent when there is none). */
  marker?: string;
  /** Read from a constraints file (`-c`): it limits the versions pip may pick but installs nothing. */
  constraint?: boolean;
  /** The `-r`/`-c` lines that pulled this file in, nearest first: `["sub/b.txt:1", "requirements.txt:4"]`. */
  includedFrom?: readonly string[];
  /** Where pip's hash-checking mode was turned on for the install this declaration is part of. */
  hashMode?: HashModeSite;
  /**
   * Set when the marker is false on every Python the Arches line runs on: the declaration is then not checked,
   * and this says why (shown as a note).
   */
  inactive?: string;
  /** When the marker holds on only some of those Pythons (or could not be evaluated): which, for messages. */
  scope?: string;
}

/** A line that turns on pip's hash-checking mode: a requirement with `--hash`, or `--require-hashes`. */
export interface HashModeSite {
  file: string;
  line: number;
  how: '--hash' | '--require-hashes';
  /** The include chain of `file`, nearest first (as Declared.includedFrom). */
  includedFrom: readonly string[];
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
// PEP 508 environment markers, evaluated in three values over the Pythons an Arches line runs on

type Operand = { variable: string } | { literal: string };
type MarkerNode =
  | { kind: 'and' | 'or'; left: MarkerNode; right: MarkerNode }
  | { kind: 'compare'; left: Operand; op: string; right: Operand };

/** Certainly true, certainly false, or not known (it depends on something we cannot see). */
type Tri = 'T' | 'F' | 'U';

/** PEP 508 variables, and the legacy spellings packaging still accepts. */
const MARKER_VARIABLES: Record<string, string> = {
  python_version: 'python_version',
  python_full_version: 'python_full_version',
  os_name: 'os_name',
  'os.name': 'os_name',
  sys_platform: 'sys_platform',
  'sys.platform': 'sys_platform',
  platform_release: 'platform_release',
  platform_system: 'platform_system',
  platform_version: 'platform_version',
  'platform.version': 'platform_version',
  platform_machine: 'platform_machine',
  'platform.machine': 'platform_machine',
  platform_python_implementation: 'platform_python_implementation',
  'platform.python_implementation': 'platform_python_implementation',
  python_implementation: 'platform_python_implementation',
  implementation_name: 'implementation_name',
  implementation_version: 'implementation_version',
  extra: 'extra',
  extras: 'extras',
  dependency_groups: 'dependency_groups',
};

class MarkerSyntaxError extends Error {}

function tokenizeMarker(text: string): string[] {
  const out: string[] = [];
  const re = /\s*(?:(===|==|!=|<=|>=|~=|<|>|\(|\))|('[^']*'|"[^"]*")|([A-Za-z_][A-Za-z0-9_.]*))/y;
  let pos = 0;
  while (pos < text.length) {
    if (/^\s*$/.test(text.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) throw new MarkerSyntaxError(`unexpected ${JSON.stringify(text.slice(pos).trim().slice(0, 12))}`);
    out.push(m[1] ?? m[2] ?? m[3]!);
    pos = re.lastIndex;
  }
  return out;
}

function parseMarker(text: string): MarkerNode {
  const toks = tokenizeMarker(text);
  let i = 0;
  const peek = (): string | undefined => toks[i];
  const operand = (): Operand => {
    const t = toks[i++];
    if (t === undefined) throw new MarkerSyntaxError('the marker ends too early');
    if (/^['"]/.test(t)) return { literal: t.slice(1, -1) };
    if (!/^[A-Za-z_]/.test(t))
      throw new MarkerSyntaxError(`expected a variable or a quoted string, not "${t}"`);
    const name = MARKER_VARIABLES[t];
    if (!name) throw new MarkerSyntaxError(`unknown variable ${t}`);
    return { variable: name };
  };
  const expr = (): MarkerNode => {
    if (peek() === '(') {
      i++;
      const inner = or();
      if (toks[i++] !== ')') throw new MarkerSyntaxError('a "(" is not closed');
      return inner;
    }
    const left = operand();
    let op = toks[i++];
    if (op === 'not') {
      if (toks[i++] !== 'in') throw new MarkerSyntaxError('"not" must be followed by "in"');
      op = 'not in';
    }
    if (op === undefined || !['===', '==', '!=', '<=', '>=', '~=', '<', '>', 'in', 'not in'].includes(op))
      throw new MarkerSyntaxError(
        `expected a comparison after ${'variable' in left ? left.variable : 'a string'}`,
      );
    return { kind: 'compare', left, op, right: operand() };
  };
  const and = (): MarkerNode => {
    let node = expr();
    while (peek() === 'and') {
      i++;
      node = { kind: 'and', left: node, right: expr() };
    }
    return node;
  };
  const or = (): MarkerNode => {
    let node = and();
    while (peek() === 'or') {
      i++;
      node = { kind: 'or', left: node, right: and() };
    }
    return node;
  };
  const node = or();
  if (i < toks.length) throw new MarkerSyntaxError(`unexpected ${JSON.stringify(toks[i])}`);
  return node;
}

/** Patch releases tried for python_full_version (every CPython 3.x so far has fewer). */
const PATCHES = Array.from({ length: 31 }, (_, n) => n);

/**
 * The values a variable can take on Linux CPython with this `major.minor`; null when we cannot know
 * (the kernel release and version string, the PEP 751 sets).
 */
function markerValues(variable: string, python: string): readonly string[] | null {
  switch (variable) {
    case 'python_version':
      return [python];
    case 'python_full_version':
    case 'implementation_version':
      return PATCHES.map((p) => `${python}.${p}`);
    case 'os_name':
      return ['posix'];
    case 'sys_platform':
      return ['linux'];
    case 'platform_system':
      return ['Linux'];
    case 'platform_machine':
      return ['x86_64', 'aarch64'];
    case 'platform_python_implementation':
      return ['CPython'];
    case 'implementation_name':
      return ['cpython'];
    case 'extra':
      // pip evaluates the markers of requirements files and [project].dependencies with no extra.
      return [''];
    default:
      return null;
  }
}

/** One comparison as packaging does it: PEP 440 when `op + right` is a valid specifier, else on strings. */
function compareValues(left: string, op: string, right: string): boolean | null {
  if (op === '===') return left.toLowerCase() === right.toLowerCase();
  if (op !== 'in' && op !== 'not in' && validRange(`${op}${right}`))
    return valid(left) !== null && satisfies(left, `${op}${right}`);
  switch (op) {
    case 'in':
      return right.includes(left);
    case 'not in':
      return !right.includes(left);
    case '==':
      return left === right;
    case '!=':
      return left !== right;
    case '<':
      return left < right;
    case '<=':
      return left <= right;
    case '>':
      return left > right;
    case '>=':
      return left >= right;
    default:
      return null; // `~=` on something that is not a version: packaging raises UndefinedComparison
  }
}

function evalNode(node: MarkerNode, python: string): Tri {
  if (node.kind !== 'compare') {
    const a = evalNode(node.left, python);
    const b = evalNode(node.right, python);
    if (node.kind === 'and') return a === 'F' || b === 'F' ? 'F' : a === 'T' && b === 'T' ? 'T' : 'U';
    return a === 'T' || b === 'T' ? 'T' : a === 'F' && b === 'F' ? 'F' : 'U';
  }
  const values = (o: Operand): readonly string[] | null =>
    'literal' in o ? [o.literal] : markerValues(o.variable, python);
  const lefts = values(node.left);
  const rights = values(node.right);
  if (!lefts || !rights) return 'U';
  // packaging compares extras by their normalized names.
  const isExtra = (o: Operand): boolean => 'variable' in o && o.variable === 'extra';
  const extraCompare = isExtra(node.left) || isExtra(node.right);
  const canon = (v: string): string => (extraCompare ? normalizeName(v) : v);
  let sawTrue = false;
  let sawFalse = false;
  for (const l of lefts)
    for (const r of rights) {
      const res = compareValues(canon(l), node.op, canon(r));
      if (res === null) return 'U';
      if (res) sawTrue = true;
      else sawFalse = true;
    }
  return sawTrue && sawFalse ? 'U' : sawTrue ? 'T' : 'F';
}

export interface MarkerVerdict {
  /** The Pythons on which the marker is, or may be, true (all of them when it cannot be evaluated). */
  on: string[];
  /** True on every one of them, certainly. */
  always: boolean;
  /** Some answer depended on what cannot be known here (the machine's architecture, kernel…). */
  uncertain: boolean;
  /** Why the marker could not be evaluated at all (bad syntax, an unknown variable). */
  error?: string;
}

/**
 * Evaluate a PEP 508 marker on Linux CPython for each Python `major.minor` given: on which it is (or may be)
 * true. A marker that cannot be evaluated counts as true everywhere (so what it guards is still checked).
 */
export function evaluateMarker(marker: string, pythons: readonly string[]): MarkerVerdict {
  let node: MarkerNode;
  try {
    node = parseMarker(marker);
  } catch (e) {
    if (!(e instanceof MarkerSyntaxError)) throw e;
    return { on: [...pythons], always: false, uncertain: true, error: e.message };
  }
  const results = pythons.map((py) => evalNode(node, py));
  return {
    on: pythons.filter((_, i) => results[i] !== 'F'),
    always: results.every((r) => r === 'T'),
    uncertain: results.some((r) => r === 'U'),
  };
}

/** The marker of a requirement string: what follows its `;` (for URL forms, a `;` after whitespace). */
export function markerOf(text: string): string | undefined {
  const t = text.trim();
  const req = parseRequirement(t);
  if (!req) return undefined;
  const m = (req.kind === 'version' ? /;(.*)$/s : /\s;(.*)$/s).exec(t);
  const marker = m?.[1]?.trim();
  return marker ? marker : undefined;
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

/** One logical line of a requirements file, in the order pip reads it. */
type RequirementsItem =
  | { type: 'requirement'; declared: Declared }
  | { type: 'include'; line: number; written: string; value: string; constraint: boolean }
  | { type: 'hashes'; line: number; how: HashModeSite['how'] };

/**
 * The value of `-r FILE`, `-rFILE`, `--requirement FILE`, `--requirement=FILE` (and the `-c` forms) at token i,
 * with the option as written.
 */
function optionValue(
  tokens: readonly string[],
  i: number,
  short: string,
  long: string,
): { value: string; written: string } | undefined {
  const t = tokens[i]!;
  const next = tokens[i + 1];
  if (t === short || t === long)
    return next === undefined ? undefined : { value: next, written: `${t} ${next}` };
  if (t.startsWith(`${long}=`)) return { value: t.slice(long.length + 1), written: t };
  if (t.startsWith(short) && !t.startsWith('--'))
    return { value: t.slice(short.length).replace(/^=/, ''), written: t };
  return undefined;
}

/** Strip the quotes shlex would remove from a simple token. */
function unquote(token: string): string {
  return token.replace(/^(['"])(.*)\1$/, '$2');
}

function parseRequirementsFile(file: string, content: string): RequirementsItem[] {
  const lines = splitLines(content);
  const block = requirementsMarkers(file, lines);
  const out: RequirementsItem[] = [];
  /** `parts`: the physical lines joined into this logical one, with their 0-based index. */
  const emit = (parts: ReadonlyArray<{ index: number; text: string }>): void => {
    const logical = parts.map((p) => p.text).join('');
    /** The 1-based physical line holding an offset of the logical line. */
    const lineAt = (offset: number): number => {
      let start = 0;
      for (const p of parts) {
        if (offset < start + p.text.length) return p.index + 1;
        start += p.text.length;
      }
      return parts.at(-1)!.index + 1;
    };
    const first = parts[0]!.index;
    // pip: a comment starts at a `#` at the start of the line or after whitespace.
    const noComment = logical.replace(/(^|\s+)#.*$/, '');
    const stripped = noComment.trim();
    if (!stripped) return;
    if (stripped.startsWith('-') && !/^(?:-e|--editable)/.test(stripped)) {
      // An option line: only the options that change what is installed matter here.
      const tokens = stripped.split(/\s+/).map(unquote);
      let include: RequirementsItem | undefined;
      let constraintInclude: RequirementsItem | undefined;
      tokens.forEach((_, i) => {
        if (tokens[i] === '--require-hashes')
          out.push({ type: 'hashes', line: first + 1, how: '--require-hashes' });
        const r = optionValue(tokens, i, '-r', '--requirement');
        if (r && !include) include = { type: 'include', line: first + 1, ...r, constraint: false };
        const c = optionValue(tokens, i, '-c', '--constraint');
        if (c && !constraintInclude)
          constraintInclude = { type: 'include', line: first + 1, ...c, constraint: true };
      });
      // pip follows the first -r of a line, else its first -c.
      const chosen = include ?? constraintInclude;
      if (chosen) out.push(chosen);
      return;
    }
    let text = stripped;
    if (!stripped.startsWith('-')) {
      // pip: per-requirement options (`--hash`, …) start at the first token beginning with `-`.
      const cut = stripped.search(/\s-/);
      if (cut >= 0) text = stripped.slice(0, cut).trimEnd();
      const hash = noComment.search(/\s--hash(?:[=\s]|$)/);
      if (hash >= 0) out.push({ type: 'hashes', line: lineAt(hash + 1), how: '--hash' });
    }
    const req = parseRequirement(text);
    if (!req) return;
    const marker = markerOf(text);
    out.push({
      type: 'requirement',
      declared: {
        file,
        line: first + 1,
        text,
        name: req.name,
        specifier: req.specifier,
        managed: block !== null && first > block.begin && first < block.end,
        ...(marker ? { marker } : {}),
      },
    });
  };
  // pip's join_lines: a line ending in `\` continues on the next one, unless it is a comment.
  let parts: Array<{ index: number; text: string }> = [];
  lines.forEach((l, i) => {
    const isComment = /^\s*#/.test(l.text);
    if (!l.text.endsWith('\\') || isComment) {
      if (parts.length) {
        parts.push({ index: i, text: isComment ? ` ${l.text}` : l.text });
        emit(parts);
        parts = [];
      } else emit([{ index: i, text: l.text }]);
    } else {
      parts.push({ index: i, text: l.text.replace(/^\\+|\\+$/g, '') });
    }
  });
  if (parts.length) emit(parts);
  return out;
}

/**
 * Parse the requirement declarations of ONE requirements file; follows nothing (`-r`, `-c` are not read:
 * readRequirementsTree does that).
 */
export function readRequirements(file: string, content: string): Declared[] {
  return parseRequirementsFile(file, content).flatMap((it) =>
    it.type === 'requirement' ? [it.declared] : [],
  );
}

export interface RequirementsTree {
  /** Every declaration of the file and of the files it includes, in pip's reading order. */
  declared: Declared[];
  /** Every file read, the first one first (root-relative when inside the root, else absolute). */
  files: string[];
  /** Includes that could not be followed (URLs). */
  warnings: string[];
  /** The first line that turns on pip's hash-checking mode, if any. */
  hashMode?: HashModeSite;
}

export interface RequirementsTreeOptions {
  /** The content of `file`, when the caller has read it already. */
  content?: string;
  /** The project root's absolute path: includes that leave it are named by absolute path. */
  root?: string;
}

function describeChain(chain: readonly string[]): string {
  return chain.length ? ` (included from ${chain.join(', included from ')})` : '';
}

/**
 * Read a requirements file the way pip does with `pip install -r FILE`: `-r`/`--requirement` and
 * `-c`/`--constraint` lines are followed, relative to the including file's folder, to any depth. Each file is
 * read once. A file that includes itself (directly or through others) is refused, as pip 24.3+ refuses it (older
 * pip dies of RecursionError); so is an include that does not exist. URL includes cannot be read offline: they
 * are skipped with a warning.
 */
export function readRequirementsTree(
  read: (rel: string) => string | null,
  file: string,
  options: RequirementsTreeOptions = {},
): RequirementsTree {
  const tree: RequirementsTree = { declared: [], files: [], warnings: [] };
  const seen = new Set<string>();
  const root = options.root === undefined ? undefined : path.posix.resolve(options.root);
  /** Where a path is named (and read): relative to the root inside it, absolute outside it (when known). */
  const keyOf = (p: string): string => {
    const normal = path.posix.normalize(p);
    if (!root) return normal;
    const abs = path.posix.resolve(root, normal);
    const rel = path.posix.relative(root, abs);
    return rel === '' || rel.startsWith('../') || rel === '..' ? abs : rel;
  };
  const visit = (
    name: string,
    content: string,
    constraint: boolean,
    chain: readonly string[],
    stack: readonly string[],
  ): void => {
    seen.add(name);
    tree.files.push(name);
    for (const it of parseRequirementsFile(name, content)) {
      const where = `${name}:${it.type === 'requirement' ? it.declared.line : it.line}`;
      if (it.type === 'requirement') {
        tree.declared.push({
          ...it.declared,
          ...(constraint ? { constraint: true } : {}),
          ...(chain.length ? { includedFrom: chain } : {}),
        });
        continue;
      }
      if (it.type === 'hashes') {
        tree.hashMode ??= { file: name, line: it.line, how: it.how, includedFrom: chain };
        continue;
      }
      const shown = `\`${it.written}\``;
      if (/^https?:/i.test(it.value)) {
        tree.warnings.push(
          `${where}${describeChain(chain)}: ${shown} names a URL, which cannot be read offline, so the ` +
            `${it.constraint ? 'constraints' : 'requirements'} in it were not checked against what cloud storage needs.`,
        );
        continue;
      }
      const target = it.value.replace(/^file:(?:\/\/(?=\/))?/i, '');
      const joined = path.posix.isAbsolute(target)
        ? target
        : path.posix.join(path.posix.dirname(name), target);
      const key = keyOf(joined);
      if (stack.includes(key)) {
        const loop = [...stack.slice(stack.indexOf(key)), key].join(' → ');
        throw new UserError(
          `${where}: ${shown} includes ${key} again while it is being read (${loop}); pip refuses a requirements ` +
            'file that includes itself ("recursively references itself", pip 24.3 and later; older pip dies of ' +
            'RecursionError). Remove the include that closes the loop, then re-run the generator.',
          name,
        );
      }
      if (seen.has(key)) continue; // included twice without a loop: pip reads the same lines again
      const text = read(key);
      if (text === null) {
        throw new UserError(
          `${where}${describeChain(chain)}: ${shown} names ${key}, which does not exist (pip would stop with ` +
            '"Could not open requirements file"). Fix the path or remove the line, then re-run the generator.',
          name,
        );
      }
      // pip: a -r inside a constraints file reads requirements again; a -c always reads constraints.
      visit(key, text, it.constraint, [where, ...chain], [...stack, key]);
    }
  };
  const start = keyOf(file);
  const content = options.content ?? read(start);
  if (content === null) return tree;
  visit(start, content, false, [], [start]);
  // Hash-checking mode is one switch for the whole `pip install -r`: every declaration of the tree is under it.
  const site = tree.hashMode;
  if (site) tree.declared = tree.declared.map((d) => ({ ...d, hashMode: site }));
  return tree;
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
    const marker = markerOf(el.value);
    out.push({
      file,
      line: el.loc.start.line,
      text: el.value.trim(),
      name: req.name,
      specifier: req.specifier,
      managed: m !== null && el.range[0] > m.begin.range[1] && el.range[1] < m.end.range[0],
      ...(marker ? { marker } : {}),
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

/** `file:line`, with the include chain when the file was pulled in by `-r`/`-c`. */
export function locateDeclared(d: Pick<Declared, 'file' | 'line' | 'includedFrom'>): string {
  return `${d.file}:${d.line}${describeChain(d.includedFrom ?? [])}`;
}

/** The refusal for a project whose pip install runs in hash-checking mode, naming the lines to add. */
function hashModeError(site: HashModeSite, add: readonly NeededPackage[]): UserError {
  const how =
    site.how === '--hash'
      ? "has a --hash, which turns on pip's hash-checking mode for the whole install"
      : "turns on pip's hash-checking mode (--require-hashes)";
  return new UserError(
    `${locateDeclared(site)} ${how}: pip would then refuse every requirement without a hash, and the ` +
      'generator cannot compute hashes offline. Add these lines to the unhashed list your hashes are generated ' +
      'from (e.g. requirements.in, then re-run `pip-compile --generate-hashes`), then re-run the generator:\n' +
      add.map((p) => `  ${formatRequirement(p)}`).join('\n'),
    site.file,
  );
}

/**
 * Decide, per needed package, whether the project's own declarations already cover it (`keep`) or the block must
 * declare it (`add`); refuses (UserError, exit 1) when a declaration or constraint excludes every version the
 * package needs, or when something must be added to an install that runs in pip's hash-checking mode.
 * Declarations marked `inactive` (their marker is false on every Python of the Arches line) are not checked.
 */
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
    const named = declared.filter((d) => !d.managed && normalizeName(d.name) === normalizeName(p.name));
    const warnings: string[] = named
      .filter((d) => d.inactive)
      .map((d) => `${locateDeclared(d)}: \`${d.text}\` was not checked: ${d.inactive}.`);
    const mine = named.filter((d) => !d.inactive);
    let conflicted = false;
    for (const d of mine) {
      const scope = d.scope ? ` (${d.scope})` : '';
      const where = `${locateDeclared(d)}: \`${d.text}\`${d.constraint ? ', a constraint (-c file),' : ''}${scope}`;
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
      // A constraint only narrows what a requirement asks for: a loose one, or one without extras, is fine.
      if (d.constraint) continue;
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
    // A constraint installs nothing: the package is still added unless a requirement declares it.
    const existing = mine.find((d) => !d.constraint);
    decisions.push({
      package: p,
      action: existing ? 'keep' : 'add',
      ...(existing ? { existing } : {}),
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
  const add = decisions.filter((d) => d.action === 'add').map((d) => d.package);
  const site = declared.find((d) => d.hashMode)?.hashMode;
  if (add.length && site) throw hashModeError(site, add);
  return decisions;
}
