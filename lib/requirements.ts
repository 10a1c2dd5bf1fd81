/**
 * PEP 508 requirement strings, and pip's requirements files: the reader (pip's own reading order, `-r`/`-c`
 * includes, hash-checking mode) and the editor of our managed block in them (lib/blocks.ts, with the lines from
 * templates/requirements/).
 */
import path from 'node:path';
import { applyBlock, blockLines, findBlock } from './blocks.js';
import { renderTemplate } from './templates.js';
import { UserError, type NeededPackage } from './types.js';

/** First line inside the block of a requirements file the generator created (so removal deletes the file). */
export const CREATED_FILE_HEADER = renderTemplate('requirements/header.txt.ejs', {}).trimEnd();

// ---------------------------------------------------------------------------------------------------------------
// Declarations

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

// ---------------------------------------------------------------------------------------------------------------
// Requirement strings

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

/** The marker of a requirement string: what follows its `;` (for URL forms, a `;` after whitespace). */
export function markerOf(text: string): string | undefined {
  const t = text.trim();
  const req = parseRequirement(t);
  if (!req) return undefined;
  const m = (req.kind === 'version' ? /;(.*)$/s : /\s;(.*)$/s).exec(t);
  const marker = m?.[1]?.trim();
  return marker ? marker : undefined;
}

/** The requirement line we write for a package, e.g. `django-storages[s3]==1.14.6`. */
export function formatRequirement(p: NeededPackage): string {
  const extras = p.extras.length ? `[${p.extras.join(',')}]` : '';
  return `${p.name}${extras}${p.specifier.replace(/\s+/g, '')}`;
}

// ---------------------------------------------------------------------------------------------------------------
// requirements files

/** The physical lines of a file, without their terminators (a final line break starts no line). */
function splitLines(s: string): string[] {
  const lines = s.split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

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
  const block = findBlock(file, content);
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
        managed: block !== undefined && first + 1 > block.beginLine && first + 1 < block.endLine,
        ...(marker ? { marker } : {}),
      },
    });
  };
  // pip's join_lines: a line ending in `\` continues on the next one, unless it is a comment.
  let parts: Array<{ index: number; text: string }> = [];
  lines.forEach((text, i) => {
    const isComment = /^\s*#/.test(text);
    if (!text.endsWith('\\') || isComment) {
      if (parts.length) {
        parts.push({ index: i, text: isComment ? ` ${text}` : text });
        emit(parts);
        parts = [];
      } else emit([{ index: i, text: text }]);
    } else {
      parts.push({ index: i, text: text.replace(/^\\+|\\+$/g, '') });
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

/** `file:line`, with the include chain when the file was pulled in by `-r`/`-c`. */
export function locateDeclared(d: Pick<Declared, 'file' | 'line' | 'includedFrom'>): string {
  return `${d.file}:${d.line}${describeChain(d.includedFrom ?? [])}`;
}

/**
 * Put our block into a requirements file (`content: null`: the file does not exist yet, and is created with a
 * header line), replace it, or take it out (`add` empty); a file we created that would be left empty is `null`.
 */
export function applyRequirementsBlock(
  file: string,
  content: string | null,
  add: readonly NeededPackage[],
): string | null {
  const inside = content === null ? undefined : blockLines(file, content);
  // A file we created keeps its header, so that removing the block deletes it.
  const created = content === null || (inside ?? []).some((l) => l.trim() === CREATED_FILE_HEADER);
  if (!add.length) {
    const result = applyBlock(file, content, null);
    return result === '' && created ? null : result;
  }
  const text = renderTemplate('requirements/block.txt.ejs', {
    created,
    requirements: add.map(formatRequirement),
  });
  return applyBlock(file, content, text.replace(/\n$/, '').split('\n'));
}
