import assert from 'node:assert/strict';
import {
  applyBlock,
  BEGIN,
  blockLines,
  END,
  eolOf,
  findBlock,
  MARK_PREFIX_BEGIN,
  MARK_PREFIX_END,
  renderBlock,
} from '../../lib/blocks.js';
import { throwsUser } from '../helpers/assert.js';

const B = BEGIN;
const E = END;
const LINES = ['import os', '', 'X = "one"'];
const OTHER = ['Y = 2', 'Z = 3'];

/** Offset of the start of the 0-based line `n` of `content`. */
const lineOffset =
  (n: number) =>
  (content: string): number => {
    let at = 0;
    for (let i = 0; i < n; i++) at = content.indexOf('\n', at) + 1;
    return at;
  };

describe('core/blocks', () => {
  it('the marker constants are the documented lines', () => {
    // Written out by hand here (and only here): the tests must notice if they change.
    assert.equal(BEGIN, '# >>> arches-storage: managed by generator-arches-storage, re-run it to change >>>');
    assert.equal(END, '# <<< arches-storage <<<');
    assert.ok(BEGIN.startsWith(MARK_PREFIX_BEGIN) && END.startsWith(MARK_PREFIX_END));
  });

  describe('insert, replace, remove: byte for byte', () => {
    const cases: ReadonlyArray<readonly [string, string, string]> = [
      // [name, original, expected after inserting LINES at the end]
      ['LF with a final newline', 'A = 1\nB = 2\n', `A = 1\nB = 2\n${B}\nimport os\n\nX = "one"\n${E}\n`],
      [
        'CRLF with a final newline',
        'A = 1\r\nB = 2\r\n',
        `A = 1\r\nB = 2\r\n${B}\r\nimport os\r\n\r\nX = "one"\r\n${E}\r\n`,
      ],
      ['LF without a final newline', 'A = 1\nB = 2', `A = 1\nB = 2\n${B}\nimport os\n\nX = "one"\n${E}`],
      [
        'CRLF without a final newline',
        'A = 1\r\nB = 2',
        `A = 1\r\nB = 2\r\n${B}\r\nimport os\r\n\r\nX = "one"\r\n${E}`,
      ],
      ['one line without a newline', 'A = 1', `A = 1\n${B}\nimport os\n\nX = "one"\n${E}`],
      ['an empty file', '', `${B}\nimport os\n\nX = "one"\n${E}\n`],
      ['blank lines only', '\n\n', `\n\n${B}\nimport os\n\nX = "one"\n${E}\n`],
    ];
    for (const [name, original, inserted] of cases) {
      it(name, () => {
        const withBlock = applyBlock('f.py', original, LINES);
        assert.equal(withBlock, inserted);
        assert.deepEqual(blockLines('f.py', withBlock), LINES);
        // Idempotent.
        assert.equal(applyBlock('f.py', withBlock, LINES), inserted);
        // Replace: the same as inserting the other lines into the original.
        const replaced = applyBlock('f.py', withBlock, OTHER);
        assert.equal(replaced, applyBlock('f.py', original, OTHER));
        assert.deepEqual(blockLines('f.py', replaced!), OTHER);
        assert.equal(replaced!.includes('X = "one"'), false);
        // Remove: back to the original bytes, from either state.
        assert.equal(applyBlock('f.py', withBlock, null), original);
        assert.equal(applyBlock('f.py', replaced, null), original);
        // Removing when there is no block changes nothing.
        assert.equal(applyBlock('f.py', original, null), original);
      });
    }

    it('a file that did not exist: created with the block, null when asked to remove from null', () => {
      const created = applyBlock('.gitignore', null, ['/pkg/settings_local.py']);
      assert.equal(created, `${B}\n/pkg/settings_local.py\n${E}\n`);
      assert.equal(applyBlock('.gitignore', null, null), null);
      // The caller (the overlay) decides to delete a file it created and that is empty again.
      assert.equal(applyBlock('.gitignore', created, null), '');
    });

    it('inserts in the middle at insertAt and takes exactly those lines out again', () => {
      const original = 'first\nsecond\nthird\n';
      const at = lineOffset(2);
      const out = applyBlock('f.py', original, ['MID = 1'], at);
      assert.equal(out, `first\nsecond\n${B}\nMID = 1\n${E}\nthird\n`);
      // Re-applying replaces in place, wherever insertAt would point now.
      assert.equal(
        applyBlock('f.py', out, ['MID = 1'], () => 0),
        out,
      );
      const replaced = applyBlock('f.py', out, ['MID = 2', 'MORE = 3'], () => 0);
      assert.equal(replaced, `first\nsecond\n${B}\nMID = 2\nMORE = 3\n${E}\nthird\n`);
      assert.equal(
        applyBlock('f.py', replaced, null, () => 0),
        original,
      );
    });

    it('inserts in the middle of a CRLF file with CRLF lines', () => {
      const original = 'first\r\nsecond\r\nthird';
      const out = applyBlock('f.py', original, ['MID = 1'], lineOffset(1));
      assert.equal(out, `first\r\n${B}\r\nMID = 1\r\n${E}\r\nsecond\r\nthird`);
      assert.equal(applyBlock('f.py', out, null), original);
    });

    it('inserts at the start of a file', () => {
      const original = 'x = 1\n';
      const out = applyBlock('f.py', original, ['Y = 2'], () => 0);
      assert.equal(out, `${B}\nY = 2\n${E}\nx = 1\n`);
      assert.equal(applyBlock('f.py', out, null), original);
    });

    it('an empty block (no lines) is still a block', () => {
      const out = applyBlock('f.py', 'a\n', []);
      assert.equal(out, `a\n${B}\n${E}\n`);
      assert.deepEqual(blockLines('f.py', out), []);
      assert.equal(applyBlock('f.py', out, null), 'a\n');
    });

    it('leaves user text that merely mentions arches-storage alone', () => {
      const original = '# we use arches-storage for files\nA = 1\n';
      const out = applyBlock('f.py', original, ['B = 2']);
      assert.equal(applyBlock('f.py', out, null), original);
    });

    it('eolOf', () => {
      assert.equal(eolOf(null), '\n');
      assert.equal(eolOf('a\nb\n'), '\n');
      assert.equal(eolOf('a\r\nb\r\n'), '\r\n');
    });
  });

  describe('findBlock', () => {
    it('reports the span and whether the block ends the file', () => {
      const content = `a\n${B}\nx\n${E}\nb\n`;
      const span = findBlock('f.py', content);
      assert.deepEqual(span, {
        start: 2,
        end: 2 + B.length + 1 + 2 + E.length + 1,
        endsAtEof: false,
        beginLine: 2,
        endLine: 4,
        indent: '',
      });
      assert.equal(content.slice(span.start, span.end), `${B}\nx\n${E}\n`);
      const atEof = `a\n${B}\nx\n${E}`;
      assert.equal(findBlock('f.py', atEof)!.endsAtEof, true);
      assert.equal(findBlock('f.py', 'nothing here\n'), undefined);
    });
    it('accepts indented markers', () => {
      assert.deepEqual(blockLines('f.py', `if True:\n    ${B}\n    x = 1\n    ${E}\n`), ['    x = 1']);
      assert.equal(findBlock('f.py', `if True:\n\t  ${B}\n\t  ${E}\n`)!.indent, '\t  ');
    });

    it('markerLine: only the lines it names can hold markers', () => {
      // Line 2 is, say, inside a multi-line string: text, not a marker, even edited-looking.
      const content = `s = """\n${MARK_PREFIX_BEGIN}: a string\n"""\n${B}\nx\n${E}\n`;
      throwsUser(() => findBlock('f.toml', content), 'f.toml:2', 'edited start marker');
      const span = findBlock('f.toml', content, { markerLine: (line) => line !== 2 });
      assert.deepEqual([span?.beginLine, span?.endLine], [4, 6]);
      // An end marker on a line that cannot hold one leaves the start without its end.
      throwsUser(
        () => findBlock('f.toml', content, { markerLine: (line) => line !== 2 && line !== 6 }),
        'f.toml:4',
        'without its end',
      );
    });

    it('inside: a block outside the given range is refused at its start line', () => {
      const content = `a = [\n  ${B}\n  ${E}\n]\nb = 1\n`;
      const arrayRange = [4, content.indexOf(']') + 1] as const;
      assert.equal(
        findBlock('f.toml', content, { inside: { range: arrayRange, what: 'the array' } })!.beginLine,
        2,
      );
      const moved = `a = [\n]\n${B}\n${E}\n`;
      const e = throwsUser(
        () => findBlock('f.toml', moved, { inside: { range: [4, 7], what: 'the array' } }),
        'f.toml:3',
        'must stay inside the array',
        'Nothing was written',
      );
      assert.equal(e.exitCode, 1);
      throwsUser(
        () => findBlock('f.toml', moved, { inside: { range: undefined, what: 'the array' } }),
        'f.toml:3',
      );
      assert.equal(findBlock('f.toml', 'a = 1\n', { inside: { range: undefined, what: 'x' } }), undefined);
    });
  });

  describe('indentation', () => {
    it('renderBlock indents every line but blank ones', () => {
      assert.equal(renderBlock(['a', '', 'b'], '\r\n', '  '), `  ${B}\r\n  a\r\n\r\n  b\r\n  ${E}\r\n`);
    });

    it('a new block takes the given indent; one that exists keeps its own', () => {
      const original = 'x = [\n]\n';
      const out = applyBlock('f.toml', original, ['"a",'], () => 6, '\t')!;
      assert.equal(out, `x = [\n\t${B}\n\t"a",\n\t${E}\n]\n`);
      assert.equal(
        applyBlock('f.toml', out, ['"b",'], () => 0, '        '),
        `x = [\n\t${B}\n\t"b",\n\t${E}\n]\n`,
      );
      assert.equal(applyBlock('f.toml', out, null), original);
    });
  });

  describe('tampered markers are refused, naming file:line', () => {
    const cases: ReadonlyArray<readonly [string, string, string, RegExp]> = [
      [
        'an edited start marker',
        `a = 1\n${MARK_PREFIX_BEGIN}: managed by me now >>>\nx = 1\n${E}\n`,
        'pkg/settings.py:2',
        /start marker/,
      ],
      [
        'an edited end marker',
        `a = 1\n${B}\nx = 1\n${MARK_PREFIX_END} (edited) <<<\n`,
        'pkg/settings.py:4',
        /end marker/,
      ],
      ['a duplicate block', `${B}\nx = 1\n${E}\nb = 2\n${B}\ny = 1\n${E}\n`, 'pkg/settings.py:5', /second/],
      ['a start marker without its end', `a = 1\n\n${B}\nx = 1\n`, 'pkg/settings.py:3', /without its end/],
      ['an end marker without a start', `a = 1\nx = 1\n${E}\n`, 'pkg/settings.py:3', /without a start/],
      ['two start markers', `${B}\nx\n${B}\ny\n${E}\n`, 'pkg/settings.py:3', /second/],
      ['CRLF: an edited end marker', `a\r\n${B}\r\nx\r\n${E} edited\r\n`, 'pkg/settings.py:4', /end marker/],
    ];
    for (const [name, content, where, what] of cases) {
      it(name, () => {
        for (const lines of [LINES, null]) {
          const err = throwsUser(() => applyBlock('pkg/settings.py', content, lines), `${where}:`, what);
          assert.equal(err.subject, where);
          assert.equal(err.exitCode, 1);
          assert.match(err.message, /Nothing was written/);
        }
        throwsUser(() => blockLines('pkg/settings.py', content), where);
      });
    }
  });
});
