/**
 * Managed blocks in line-oriented files that use `#` comments (settings.py, settings_local.py, .gitignore).
 * A block is the lines from BEGIN to END, both included. Inserting then removing a block gives back the
 * original bytes: the block is only ever whole lines, and where it was appended to a file that had no final
 * newline, it is appended without one, so removal can tell.
 */
import { UserError } from './types.js';

export const MARK_PREFIX_BEGIN = '# >>> arches-storage';
export const MARK_PREFIX_END = '# <<< arches-storage';
export const BEGIN = '# >>> arches-storage: managed by generator-arches-storage, re-run it to change >>>';
export const END = '# <<< arches-storage <<<';

export interface BlockSpan {
  /** Offset of the first character of the BEGIN line. */
  start: number;
  /** Offset just past the END line's line break (or the end of the file). */
  end: number;
  /** The END line is the file's last line and has no line break. */
  endsAtEof: boolean;
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
export function findBlock(file: string, content: string): BlockSpan | undefined {
  let begin: number | undefined;
  let span: BlockSpan | undefined;
  const starts = lineStarts(content);
  starts.forEach((start, index) => {
    const text = lineAt(content, start).trim();
    const where = `${file}:${index + 1}`;
    if (text.startsWith(MARK_PREFIX_BEGIN)) {
      if (text !== BEGIN) throw tampered(where, `the line "${text}" looks like an edited start marker`);
      if (begin !== undefined || span) throw tampered(where, 'a second arches-storage block starts here');
      begin = start;
    } else if (text.startsWith(MARK_PREFIX_END)) {
      if (text !== END) throw tampered(where, `the line "${text}" looks like an edited end marker`);
      if (begin === undefined) throw tampered(where, 'an end marker without a start marker');
      const nl = content.indexOf('\n', start);
      span = { start: begin, end: nl === -1 ? content.length : nl + 1, endsAtEof: nl === -1 };
      begin = undefined;
    }
  });
  if (begin !== undefined) {
    const line = starts.indexOf(begin) + 1;
    throw tampered(`${file}:${line}`, 'a start marker without its end marker');
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

/** The text of a block: markers around the given lines, each line ended with `eol`. */
export function renderBlock(lines: readonly string[], eol: string, indent = ''): string {
  return [BEGIN, ...lines, END].map((l) => (l === '' ? '' : indent + l) + eol).join('');
}

/**
 * Replaces our block in place, or inserts it at `insertAt(content)` (an offset at a line start, or
 * content.length to append); `lines: null` removes it. A file that did not exist (`content: null`) and
 * would be left empty is reported as `null` (delete it).
 */
export function applyBlock(
  file: string,
  content: string | null,
  lines: readonly string[] | null,
  insertAt: (content: string) => number = (c) => c.length,
): string | null {
  const original = content ?? '';
  const span = findBlock(file, original);
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
  // Bytes, not text: the block must read the same in a UTF-8, Latin-1 or any other ASCII-based file.
  const foreign = lines.findIndex((l) => /[^\x00-\x7f]/.test(l));
  if (foreign >= 0) {
    throw new UserError(
      `${file}: a value for the arches-storage block is not ASCII (block line ${foreign + 2}); use the ASCII ` +
        `form (punycode for host names). Nothing was written.`,
      file,
      2,
    );
  }
  const block = renderBlock(lines, eol);
  if (at === without.length && without !== '' && !without.endsWith('\n')) {
    // Appending to a file without a final newline: keep it without one.
    return without + eol + block.slice(0, -eol.length);
  }
  return without.slice(0, at) + block + without.slice(at);
}

/** The lines between our markers, or undefined when there is no block. */
export function blockLines(file: string, content: string): string[] | undefined {
  const span = findBlock(file, content);
  if (!span) return undefined;
  const lines = content.slice(span.start, span.end).split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines.slice(1, -1);
}
