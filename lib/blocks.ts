/**
 * The managed-block engine, for every file the generator edits: settings.py, settings_local.py, .gitignore,
 * requirements files, and pyproject.toml (inside its dependencies array). A block is the whole lines from BEGIN
 * to END, both included, all with the indentation of the BEGIN line. Inserting then removing a block gives back
 * the original bytes: the block is only ever whole lines, and where it was appended to a file that had no final
 * newline, it is appended without one, so removal can tell.
 */
import { UserError } from './types.js';

export const MARK_PREFIX_BEGIN = '# >>> arches-storage';
export const MARK_PREFIX_END = '# <<< arches-storage';
export const BEGIN = '# >>> arches-storage: managed by generator-arches-storage, re-run it to change >>>';
export const END = '# <<< arches-storage <<<';

export interface BlockSpan {
  /** Offset of the first character of the BEGIN line (its indentation included). */
  start: number;
  /** Offset just past the END line's line break (or the end of the file). */
  end: number;
  /** The END line is the file's last line and has no line break. */
  endsAtEof: boolean;
  /** 1-based line numbers of the two markers. */
  beginLine: number;
  endLine: number;
  /** The blanks before the start marker on its line. */
  indent: string;
}

export interface FindBlockOptions {
  /**
   * Whether the 1-based line `line` (starting at offset `start`) can hold a marker; by default every line can.
   * pyproject.toml passes its comment lines, so that a marker-like line inside a multi-line string is text.
   */
  markerLine?: (line: number, start: number) => boolean;
  /**
   * Where the block must lie: a range of offsets (absent: nowhere) and what it is, for the refusal
   * (pyproject.toml: the [project].dependencies array).
   */
  inside?: { range: readonly [number, number] | undefined; what: string };
}

function lineStarts(content: string): number[] {
  const starts = [0];
  for (let i = 0; i < content.length; i++) if (content[i] === '\n') starts.push(i + 1);
  if (starts.at(-1) === content.length) starts.pop();
  return starts;
}

function lineAt(content: string, start: number): string {
  const nl = content.indexOf('\n', start);
  return content.slice(start, nl === -1 ? content.length : nl).replace(/\r$/, '');
}

/**
 * Finds our block, checking that its markers are intact. Any marker-like line that is not exactly a marker,
 * a second block, or a BEGIN without its END is refused: the user edited what we manage, and guessing
 * which lines are ours could delete theirs.
 */
export function findBlock(
  file: string,
  content: string,
  options: FindBlockOptions = {},
): BlockSpan | undefined {
  let begin: { start: number; line: number; indent: string } | undefined;
  let span: BlockSpan | undefined;
  lineStarts(content).forEach((start, index) => {
    if (options.markerLine && !options.markerLine(index + 1, start)) return;
    const raw = lineAt(content, start);
    const text = raw.trim();
    const where = `${file}:${index + 1}`;
    if (text.startsWith(MARK_PREFIX_BEGIN)) {
      if (text !== BEGIN) throw tampered(where, `the line "${text}" looks like an edited start marker`);
      if (begin !== undefined || span) throw tampered(where, 'a second arches-storage block starts here');
      begin = { start, line: index + 1, indent: /^[ \t]*/.exec(raw)![0] };
    } else if (text.startsWith(MARK_PREFIX_END)) {
      if (text !== END) throw tampered(where, `the line "${text}" looks like an edited end marker`);
      if (begin === undefined) throw tampered(where, 'an end marker without a start marker');
      const nl = content.indexOf('\n', start);
      span = {
        start: begin.start,
        end: nl === -1 ? content.length : nl + 1,
        endsAtEof: nl === -1,
        beginLine: begin.line,
        endLine: index + 1,
        indent: begin.indent,
      };
      begin = undefined;
    }
  });
  if (begin !== undefined) throw tampered(`${file}:${begin.line}`, 'a start marker without its end marker');
  const inside = options.inside;
  if (span && inside && (!inside.range || span.start < inside.range[0] || span.end > inside.range[1])) {
    throw tampered(`${file}:${span.beginLine}`, `the arches-storage block must stay inside ${inside.what}`);
  }
  return span;
}

function tampered(where: string, what: string): UserError {
  return new UserError(
    `${where}: ${what}. The arches-storage markers were edited or duplicated by hand; restore the block ` +
      `between "${BEGIN}" and "${END}" (or delete it whole) and run again. Nothing was written.`,
    where,
  );
}

export function eolOf(content: string | null): '\n' | '\r\n' {
  return content !== null && /\r\n/.test(content) ? '\r\n' : '\n';
}

/** The text of a block: markers around the given lines, each line indented and ended with `eol`. */
export function renderBlock(lines: readonly string[], eol: string, indent = ''): string {
  return [BEGIN, ...lines, END].map((l) => (l === '' ? '' : indent + l) + eol).join('');
}

/** The lines we write must read the same in a UTF-8, Latin-1 or any other ASCII-based file: bytes, not text. */
function checkAscii(file: string, lines: readonly string[]): void {
  const foreign = lines.findIndex((l) => /[^\x00-\x7f]/.test(l));
  if (foreign >= 0) {
    throw new UserError(
      `${file}: a value for the arches-storage block is not ASCII (block line ${foreign + 2}); use the ASCII ` +
        `form (punycode for host names). Nothing was written.`,
      file,
      2,
    );
  }
}

/**
 * Replaces our block in place, or inserts it at `insertAt(content)` (an offset at a line start, or
 * content.length to append); `lines: null` removes it. A file that did not exist (`content: null`) and
 * would be left empty is reported as `null` (delete it). `indent` is for a new block; one that exists keeps the
 * indentation of its start marker. `options` restrict where markers may be (see findBlock).
 */
export function applyBlock(
  file: string,
  content: string | null,
  lines: readonly string[] | null,
  insertAt: (content: string) => number = (c) => c.length,
  indent = '',
  options: FindBlockOptions = {},
): string | null {
  const original = content ?? '';
  const span = findBlock(file, original, options);
  const eol = eolOf(content);
  let without = original;
  let at: number;
  if (span) {
    // A block that ends the file without a line break was appended to a file without a final newline:
    // the line break before it is ours too.
    const start = span.endsAtEof && span.start > 0 ? span.start - eol.length : span.start;
    without = original.slice(0, start) + original.slice(span.end);
    at = start;
  } else {
    at = insertAt(original);
  }
  if (lines === null) return content === null && without === '' ? null : without;
  checkAscii(file, lines);
  const block = renderBlock(lines, eol, span ? span.indent : indent);
  if (at === without.length && without !== '' && !without.endsWith('\n')) {
    // Appending to a file without a final newline: keep it without one.
    return without + eol + block.slice(0, -eol.length);
  }
  return without.slice(0, at) + block + without.slice(at);
}

/** The lines between our markers, or undefined when there is no block. */
export function blockLines(
  file: string,
  content: string,
  options: FindBlockOptions = {},
): string[] | undefined {
  const span = findBlock(file, content, options);
  if (!span) return undefined;
  const lines = content.slice(span.start, span.end).split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines.slice(1, -1);
}
