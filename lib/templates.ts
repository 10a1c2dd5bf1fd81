/**
 * Renders the EJS templates in the package's templates/ folder: every text that lands in a user's project
 * (the managed blocks' lines, the secrets file, NOTES.md). Templates render only the lines between the markers;
 * lib/blocks.ts adds the markers.
 */
import { readFileSync } from 'node:fs';
import ejs from 'ejs';
import { packagePath } from './paths.js';

export const TEMPLATES_DIR = packagePath('templates') + '/';

export function renderTemplate(name: string, data: Record<string, unknown>): string {
  const source = readFileSync(TEMPLATES_DIR + name, 'utf8');
  // What lands in a project is Markdown, Python or dotenv text, never HTML: `<%= %>` must not HTML-escape.
  return ejs.render(source, data, {
    filename: TEMPLATES_DIR + name,
    // Compiled once per process (by file name, includes too): a run builds the overlay more than once.
    cache: true,
    rmWhitespace: false,
    escape: (value: unknown) => outputText(name, value),
  });
}

/**
 * What `<%= %>` prints: strings and numbers as they are, undefined and null as nothing. An object or a list is
 * a mistake in the template (it would print "[object Object]" or join with commas): render it with py(), a
 * field or join() instead.
 */
function outputText(template: string, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  throw new Error(
    `templates/${template}: <%= %> was given ${Array.isArray(value) ? 'a list' : typeof value}`,
  );
}

/** A template whose every line ends with a line break, as the lines of a managed block (without the breaks). */
export function renderLines(name: string, data: Record<string, unknown>): string[] {
  const text = renderTemplate(name, data);
  if (text === '') return [];
  if (!text.endsWith('\n')) throw new Error(`templates/${name}: the last line has no line break`);
  return text.slice(0, -1).split('\n');
}
