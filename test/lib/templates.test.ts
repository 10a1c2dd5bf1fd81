/** lib/templates.ts: EJS rendering of what lands in a project, and the README's copy of a template's text. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../lib/paths.js';
import { renderLines, renderTemplate, TEMPLATES_DIR } from '../../lib/templates.js';

/** A throwaway template outside the package, named relative to templates/; removed afterwards. */
function withTemplate(source: string, fn: (name: string) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arches-storage-template-'));
  try {
    fs.writeFileSync(path.join(dir, 't.ejs'), source);
    fn(path.relative(TEMPLATES_DIR, path.join(dir, 't.ejs')));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('core/templates', () => {
  it('renders text as it is: no HTML escaping, undefined and null as nothing', () => {
    withTemplate('<%= a %>|<%= b %>|<%= c %>\n', (name) => {
      assert.equal(renderTemplate(name, { a: '<"x" & \'y\'>', b: undefined, c: null }), '<"x" & \'y\'>||\n');
    });
  });

  it('prints numbers and booleans as text, refuses an object or a list (a template mistake)', () => {
    withTemplate('<%= n %> <%= t %>\n', (name) => {
      assert.equal(renderTemplate(name, { n: 3, t: false }), '3 false\n');
    });
    withTemplate('<%= x %>\n', (name) => {
      assert.throws(() => renderTemplate(name, { x: { a: 1 } }), /<%= %> was given object/);
      assert.throws(() => renderTemplate(name, { x: ['a', 'b'] }), /<%= %> was given a list/);
    });
  });

  it('renderLines: the lines without their breaks, blank ones kept; nothing for an empty text', () => {
    withTemplate('<% for (const l of lines) { -%>\n<%= l %>\n<% } -%>\n', (name) => {
      assert.deepEqual(renderLines(name, { lines: ['a', '', 'b'] }), ['a', '', 'b']);
      assert.deepEqual(renderLines(name, { lines: [''] }), ['']);
      assert.deepEqual(renderLines(name, { lines: [] }), []);
    });
  });

  it('renderLines refuses a template whose last line has no break (it would join the end marker)', () => {
    withTemplate('a\nb', (name) => {
      assert.throws(() => renderLines(name, {}), /the last line has no line break/);
    });
  });

  it("the README's known-gaps section is the text NOTES.md gets (templates/known-gaps.md.ejs)", () => {
    const readme = fs.readFileSync(path.join(PACKAGE_ROOT, 'README.md'), 'utf8');
    const heading = '\n## Known gaps in Arches with remote storage\n';
    const start = readme.indexOf(heading);
    assert.ok(start >= 0, 'the README has the section');
    const body = readme.slice(start + heading.length);
    const end = body.search(/^## /m);
    const section = (end === -1 ? body : body.slice(0, end)).trim();
    assert.equal(section, renderTemplate('known-gaps.md.ejs', {}).trim());
  });
});
