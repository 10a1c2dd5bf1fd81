/**
 * pyproject.toml: the reader of [project].dependencies and the editor of our managed block inside that array.
 * The TOML is parsed with toml-eslint-parser (an AST with offsets, so that every byte outside the block stays
 * as the user wrote it); the block itself is lib/blocks.ts's: whole lines, the markers on comment lines, the
 * tamper checks, plus one rule of our own: the block stays inside the array.
 */
import { parseTOML, ParseError as TomlParseError, type AST } from 'toml-eslint-parser';
import {
  applyBlock,
  eolOf,
  findBlock,
  renderBlock,
  type BlockSpan,
  type FindBlockOptions,
} from './blocks.js';
import { formatRequirement, markerOf, parseRequirement, type Declared } from './requirements.js';
import { UserError, type NeededPackage } from './types.js';

/** Inside a pyproject block: the array was on one line (or had text after `[`); removal joins it back. */
export const INLINE_ARRAY_NOTE = '# (this array was on one line: removing the block puts it back)';
/** Inside a pyproject block: the generator added the dependencies key; removal deletes the key again. */
export const ADDED_KEY_NOTE =
  '# (generator-arches-storage added this dependencies key: removing the block removes it)';

const DEFAULT_INDENT = '    ';

interface PyprojectInfo {
  projectTable: AST.TOMLTable | undefined;
  hasProject: boolean;
  depsKV: AST.TOMLKeyValue | undefined;
  dynamicDeps: AST.TOMLKeyValue | undefined;
  /** Where markers may be: the comment lines, inside the dependencies array. */
  blockOptions: FindBlockOptions;
  block: BlockSpan | undefined;
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
  for (const item of ast.body[0].body) {
    if (item.type === 'TOMLKeyValue') visit([item], []);
    else {
      if (item.kind === 'standard' && item.resolvedKey.length === 1 && item.resolvedKey[0] === 'project') {
        projectTable = item;
        hasProject = true;
      }
      visit(item.body, item.resolvedKey);
    }
  }
  // A marker is a comment alone on its line: text that looks like one inside a multi-line string is not.
  const commentLines = new Set(
    ast.comments.filter((c) => indentBefore(content, c.range[0]) !== null).map((c) => c.loc.start.line),
  );
  const arr = depsKV?.value.type === 'TOMLArray' ? depsKV.value : undefined;
  const blockOptions: FindBlockOptions = {
    markerLine: (line) => commentLines.has(line),
    inside: { range: arr?.range, what: 'the [project].dependencies array' },
  };
  const block = findBlock(file, content, blockOptions);
  return { projectTable, hasProject, depsKV, dynamicDeps, blockOptions, block };
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
    const b = info.block;
    const marker = markerOf(el.value);
    out.push({
      file,
      line: el.loc.start.line,
      text: el.value.trim(),
      name: req.name,
      specifier: req.specifier,
      managed: b !== undefined && el.range[0] >= b.start && el.range[1] <= b.end,
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
/** Offset of the start of the line after the one containing `pos` (the end of the text on the last line). */
function nextLineStart(s: string, pos: number): number {
  const nl = s.indexOf('\n', pos);
  return nl < 0 ? s.length : nl + 1;
}
/** The whitespace before `pos` on its line, or null when something else precedes it. */
function indentBefore(s: string, pos: number): string | null {
  const before = s.slice(lineStart(s, pos), pos);
  return /^[ \t]*$/.test(before) ? before : null;
}

/**
 * Put our block into [project].dependencies (adding the key to [project] when there is none), replace it, or
 * take it out (`add` empty), giving back the user's bytes exactly.
 */
export function applyPyprojectBlock(file: string, content: string, add: readonly NeededPackage[]): string {
  const info = inspectPyproject(file, content);
  if (!add.length && !info.block) return content;
  if (info.dynamicDeps) throw dynamicError(file, info.dynamicDeps);
  const reqLines = add.map((p) => `${JSON.stringify(formatRequirement(p))},`);
  const result = info.block
    ? editBlock(file, content, info, info.block, reqLines)
    : insertBlock(file, content, info, reqLines);
  checkToml(result);
  return result;
}

/** Our block exists: replace it in place, or remove it (and undo what its notes say we did around it). */
function editBlock(
  file: string,
  content: string,
  info: PyprojectInfo,
  block: BlockSpan,
  reqLines: string[],
): string {
  const inside = content
    .slice(block.start, block.end)
    .split(/\r?\n/)
    .map((l) => l.trim());
  const notes = [INLINE_ARRAY_NOTE, ADDED_KEY_NOTE].filter((n) => inside.includes(n));
  if (reqLines.length)
    return applyBlock(file, content, [...notes, ...reqLines], undefined, '', info.blockOptions)!;
  let start = block.start;
  let stop = block.end;
  if (notes.includes(INLINE_ARRAY_NOTE)) {
    // We broke the line after `[` and indented what followed it: join it back.
    if (content.startsWith('\r\n', start - 2)) start -= 2;
    else if (content[start - 1] === '\n') start -= 1;
    if (content.startsWith(block.indent, stop)) stop += block.indent.length;
  }
  const arr = dependencyArray(file, info.depsKV!);
  const leftover = content.slice(arr.range[0] + 1, start) + content.slice(stop, arr.range[1] - 1);
  if (notes.includes(ADDED_KEY_NOTE) && leftover.trim() === '') {
    // We added the whole `dependencies = [...]` key: take it away with its line.
    const kv = info.depsKV!;
    let keyStart = kv.range[0];
    const keyIndent = indentBefore(content, keyStart);
    if (keyIndent !== null) keyStart -= keyIndent.length;
    let keyStop = kv.range[1];
    const after = /^\r?\n/.exec(content.slice(keyStop));
    if (after) keyStop += after[0].length;
    else if (content.startsWith('\r\n', keyStart - 2)) keyStart -= 2;
    else if (content[keyStart - 1] === '\n') keyStart -= 1;
    return content.slice(0, keyStart) + content.slice(keyStop);
  }
  return content.slice(0, start) + content.slice(stop);
}

/** No block yet: insert one as the first lines of the array, or add the dependencies key with it. */
function insertBlock(file: string, content: string, info: PyprojectInfo, reqLines: string[]): string {
  const eol = eolOf(content);
  if (info.depsKV) {
    const arr = dependencyArray(file, info.depsKV);
    const first = arr.elements[0];
    const indent = (first && indentBefore(content, first.range[0])) || DEFAULT_INDENT;
    const open = arr.range[0] + 1;
    if (/^[ \t]*$/.test(content.slice(open, lineEnd(content, open)))) {
      // `[` ends its line: the block goes as the first lines after it.
      const at = nextLineStart(content, open);
      return applyBlock(file, content, reqLines, () => at, indent, info.blockOptions)!;
    }
    // Something follows `[` on its line: break the line there, and note it so that removal joins it back.
    const block = renderBlock([INLINE_ARRAY_NOTE, ...reqLines], eol, indent);
    return content.slice(0, open) + eol + block + indent + content.slice(open);
  }
  // No dependencies key: add one as the last key of [project].
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
  const block = renderBlock([ADDED_KEY_NOTE, ...reqLines], eol, keyIndent + DEFAULT_INDENT);
  const kvText = `${keyIndent}dependencies = [${eol}${block}${keyIndent}]`;
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
