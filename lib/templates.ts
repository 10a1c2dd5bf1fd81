/** Renders the EJS templates in the package's templates/ folder (what lands in the user's project). */
import { readFileSync } from 'node:fs';
import ejs from 'ejs';
import { packagePath } from './paths.js';

export const TEMPLATES_DIR = packagePath('templates') + '/';

export function renderTemplate(name: string, data: Record<string, unknown>): string {
  const source = readFileSync(TEMPLATES_DIR + name, 'utf8');
  // What lands in a project is Markdown, Python or dotenv text, never HTML: `<%= %>` must not HTML-escape.
  return ejs.render(source, data, {
    filename: TEMPLATES_DIR + name,
    rmWhitespace: false,
    escape: (value: unknown) => (value === undefined || value === null ? '' : String(value)),
  });
}
