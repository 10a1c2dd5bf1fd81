/**
 * PEP 508 environment markers, evaluated in three values (true, false, not known) on each Python an Arches line
 * runs on (Linux CPython). @renovatebot/pep440 has no markers, and pip-requirements-js (the maintained PEP 508
 * parser on npm) only parses them, without the legacy names packaging still accepts (`os.name`…): so the small
 * parser and the evaluator are here; version comparisons go through @renovatebot/pep440.
 */
import { satisfies, valid, validRange } from '@renovatebot/pep440';
import { normalizeName } from './releases.js';

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
