import assert from 'node:assert/strict';
import { getStaticTOMLValue, parseTOML } from 'toml-eslint-parser';
import {
  BEGIN as BLOCK_BEGIN,
  END as BLOCK_END,
  MARK_PREFIX_BEGIN,
  MARK_PREFIX_END,
} from '../../lib/blocks.js';
import { decideDependencies } from '../../lib/deps.js';
import { evaluateMarker } from '../../lib/markers.js';
import {
  ADDED_KEY_NOTE,
  applyPyprojectBlock,
  INLINE_ARRAY_NOTE,
  readPyprojectDependencies,
} from '../../lib/pyproject.js';
import { normalizeName } from '../../lib/releases.js';
import {
  applyRequirementsBlock,
  CREATED_FILE_HEADER,
  formatRequirement,
  markerOf,
  readRequirements,
  readRequirementsTree,
  type Declared,
  type RequirementsTree,
} from '../../lib/requirements.js';
import { type NeededPackage } from '../../lib/types.js';
import { throwsUser } from '../helpers/assert.js';

const pkg = (name: string, specifier: string, accept: string, extras: string[] = []): NeededPackage => ({
  name,
  extras,
  specifier,
  accept,
  reason: `the test needs ${name}${accept}`,
});

const DJANGO = pkg('Django', '==3.2.25', '==3.2.25');
const STORAGES = pkg('django-storages', '==1.14.6', '>=1.14', ['s3']);
const BOTO = pkg('boto3', '>=1.26', '>=1.26');
const ADD1 = [DJANGO, STORAGES];
const ADD2 = [BOTO];

const REQ = 'myproj/install/requirements.txt';
const PYPROJECT = 'pyproject.toml';

const userDecls = (d: Declared[]): Array<[number, string, string]> =>
  d.filter((x) => !x.managed).map((x) => [x.line, x.name, x.specifier]);

describe('core/deps', () => {
  describe('formatRequirement', () => {
    it('writes name, extras and specifier', () => {
      assert.equal(formatRequirement(STORAGES), 'django-storages[s3]==1.14.6');
      assert.equal(formatRequirement(DJANGO), 'Django==3.2.25');
      assert.equal(formatRequirement(pkg('x', '>=1, <2', '', ['a', 'b'])), 'x[a,b]>=1,<2');
    });
  });

  describe('readRequirements', () => {
    it('parses declarations and follows nothing', () => {
      const text = [
        '# top comment',
        '',
        'Django>=3.2  # pinned by us',
        '-r base.txt',
        '-c constraints.txt',
        '--index-url https://example.org/simple',
        '-e git+https://github.com/x/foo.git@v1#egg=foo',
        'arches==7.4.2 \\',
        '    --hash=sha256:aaaa \\',
        '    --hash=sha256:bbbb',
        'bar ; python_version < "3.12"',
        'baz (>= 1.0 , <2)',
        'qux @ https://example.org/qux.tar.gz',
        'https://example.org/boto3-1.26.0-py3-none-any.whl',
        './local/path',
        '',
      ].join('\n');
      const d = readRequirements(REQ, text);
      assert.deepEqual(
        d.map((x) => [x.line, x.name, x.specifier, x.text, x.managed]),
        [
          [3, 'Django', '>=3.2', 'Django>=3.2', false],
          [7, 'foo', '', '-e git+https://github.com/x/foo.git@v1#egg=foo', false],
          [8, 'arches', '==7.4.2', 'arches==7.4.2', false],
          [11, 'bar', '', 'bar ; python_version < "3.12"', false],
          [12, 'baz', '>=1.0,<2', 'baz (>= 1.0 , <2)', false],
          [13, 'qux', '', 'qux @ https://example.org/qux.tar.gz', false],
          [14, 'boto3', '', 'https://example.org/boto3-1.26.0-py3-none-any.whl', false],
        ],
      );
      assert.ok(d.every((x) => x.file === REQ));
    });

    it('marks the lines of our block as managed', () => {
      const after = applyRequirementsBlock(REQ, 'Django>=3.2\n', ADD1)!;
      const d = readRequirements(REQ, after);
      assert.deepEqual(
        d.map((x) => [x.line, x.name, x.managed]),
        [
          [1, 'Django', false],
          [3, 'Django', true],
          [4, 'django-storages', true],
        ],
      );
    });
  });

  describe('applyRequirementsBlock', () => {
    const inputs: Record<string, string> = {
      'no trailing newline': 'Django==3.2.25\narches==7.4.2',
      CRLF: 'arches==7.4.2\r\nDjango>=3.2\r\n',
      'CRLF without trailing newline': 'arches==7.4.2\r\nDjango>=3.2',
      'comments and blank lines': '# top\n\narches==7.4.2  # pinned\n\n# end\n\n',
      'environment markers': 'foo==1.0; python_version < "3.12"\nbar>=2 ; sys_platform == "win32"\n',
      'hash continuation lines': 'arches==7.4.2 \\\n    --hash=sha256:aaa \\\n    --hash=sha256:bbb\n',
      'hash continuation at EOF without newline': 'arches==7.4.2 \\\n    --hash=sha256:aaa',
      '-r / -c lines': '-r base.txt\n-c constraints.txt\n',
      'editable VCS': '-e git+https://github.com/x/foo.git#egg=foo\n',
      'empty file': '',
      'single newline': '\n',
      'only a comment, no newline': '# nothing here',
    };
    for (const [label, original] of Object.entries(inputs)) {
      it(`round-trips: ${label}`, () => {
        const a1 = applyRequirementsBlock(REQ, original, ADD1);
        assert.ok(a1 !== null);
        assert.ok(a1.startsWith(original), 'the original bytes come first, untouched');
        assert.ok(a1.includes('django-storages[s3]==1.14.6'));
        assert.equal(applyRequirementsBlock(REQ, a1, []), original, 'removal restores the exact bytes');
        assert.equal(applyRequirementsBlock(REQ, a1, ADD1), a1, 'idempotent');
        const a2 = applyRequirementsBlock(REQ, a1, ADD2)!;
        assert.ok(
          a2.includes('boto3>=1.26') && !a2.includes('django-storages'),
          'a different add replaces the block',
        );
        assert.equal(applyRequirementsBlock(REQ, a2, []), original);
        // The user's declarations are unchanged and ours are managed.
        assert.deepEqual(userDecls(readRequirements(REQ, a1)), userDecls(readRequirements(REQ, original)));
        assert.deepEqual(
          readRequirements(REQ, a1)
            .filter((d) => d.managed)
            .map((d) => d.text),
          ['Django==3.2.25', 'django-storages[s3]==1.14.6'],
        );
        if (original.includes('\r\n')) {
          assert.ok(a1.includes(`${BLOCK_BEGIN}\r\nDjango==3.2.25\r\n`), 'CRLF block lines');
          assert.ok(!/[^\r]\n/.test(a1), 'no bare LF in a CRLF file');
        }
      });
    }

    it('appends the block after the last line, with the file ending style kept', () => {
      assert.equal(
        applyRequirementsBlock(REQ, 'a==1\n', [BOTO]),
        `a==1\n${BLOCK_BEGIN}\nboto3>=1.26\n${BLOCK_END}\n`,
      );
      assert.equal(
        applyRequirementsBlock(REQ, 'a==1', [BOTO]),
        `a==1\n${BLOCK_BEGIN}\nboto3>=1.26\n${BLOCK_END}`,
      );
    });

    it('replaces a block in place, wherever it is', () => {
      const original = `a==1\n${BLOCK_BEGIN}\nold==1\n${BLOCK_END}\nb==2\n`;
      assert.equal(
        applyRequirementsBlock(REQ, original, [BOTO]),
        `a==1\n${BLOCK_BEGIN}\nboto3>=1.26\n${BLOCK_END}\nb==2\n`,
      );
      assert.equal(applyRequirementsBlock(REQ, original, []), 'a==1\nb==2\n');
    });

    it('creates a file with a header, and removal gives null back', () => {
      const created = applyRequirementsBlock(REQ, null, ADD1)!;
      assert.equal(
        created,
        `${BLOCK_BEGIN}\n${CREATED_FILE_HEADER}\nDjango==3.2.25\ndjango-storages[s3]==1.14.6\n${BLOCK_END}\n`,
      );
      assert.equal(applyRequirementsBlock(REQ, created, ADD1), created);
      const replaced = applyRequirementsBlock(REQ, created, ADD2)!;
      assert.ok(replaced.includes(CREATED_FILE_HEADER), 'the header survives a replacement');
      assert.equal(applyRequirementsBlock(REQ, created, []), null);
      assert.equal(applyRequirementsBlock(REQ, replaced, []), null);
      assert.equal(applyRequirementsBlock(REQ, null, []), null);
      // The user added lines to the created file: removal keeps them.
      assert.equal(applyRequirementsBlock(REQ, `mine==1\n${created}`, []), 'mine==1\n');
    });

    it('leaves a file without a block alone when there is nothing to add', () => {
      assert.equal(applyRequirementsBlock(REQ, 'a==1', []), 'a==1');
    });

    const tampered: Record<string, [string, number]> = {
      'edited begin marker': [`a\n${MARK_PREFIX_BEGIN}: managed\nx==1\n${BLOCK_END}\n`, 2],
      'edited end marker': [`a\n${BLOCK_BEGIN}\nx==1\n${BLOCK_END} (edited)\n`, 4],
      'begin without end': [`a\n${BLOCK_BEGIN}\nx==1\n`, 2],
      'end without begin': [`a\nx==1\n${BLOCK_END}\n`, 3],
      'two begins': [`${BLOCK_BEGIN}\n${BLOCK_BEGIN}\nx\n${BLOCK_END}\n`, 2],
      'two blocks': [`${BLOCK_BEGIN}\n${BLOCK_END}\n${BLOCK_BEGIN}\n${BLOCK_END}\n`, 3],
      'end before begin': [`${BLOCK_END}\nx==1\n${BLOCK_BEGIN}\n`, 1],
    };
    for (const [label, [content, line]] of Object.entries(tampered)) {
      it(`refuses markers edited by hand: ${label}`, () => {
        throwsUser(() => applyRequirementsBlock(REQ, content, ADD1), REQ, `:${line}`);
        throwsUser(() => applyRequirementsBlock(REQ, content, []), REQ, `:${line}`);
        throwsUser(() => readRequirements(REQ, content), REQ, `:${line}`);
      });
    }
  });

  describe('pyproject.toml', () => {
    const std = [
      '[project]',
      'name = "my_project"',
      'version = "0.1.0"',
      'dependencies = [',
      '    "arches>=7.6.0,<7.7.0",',
      '    "arches-querysets==1.0",',
      ']',
      '',
      '[tool.setuptools]',
      'packages = ["x"]',
      '',
    ].join('\n');
    const inputs: Record<string, string> = {
      'standard multi-line array': std,
      'inline array': '[project]\nname = "x"\ndependencies = ["arches>=7.6.0,<7.7.0"]\n',
      'inline array with spaces, two elements':
        '[project]\ndependencies = [ "arches>=7.6.0,<7.7.0", "foo" ]\nname = "x"\n',
      'last element lacks a comma':
        '[project]\nname = "x"\ndependencies = [\n  "arches>=7.6.0,<7.7.0",\n  "foo"\n]\n',
      'array with comments': [
        '[project]',
        'name = "x"',
        'dependencies = [ # runtime',
        '    # core',
        '    "arches>=7.6.0,<7.7.0", # pinned',
        '    "foo",  # another',
        '] # after',
        '',
      ].join('\n'),
      'empty array': '[project]\nname = "x"\ndependencies = []\n',
      'multi-line empty array': '[project]\nname = "x"\ndependencies = [\n]\n',
      'no dependencies key':
        '[project]\nname = "x"\nversion = "1"\n\n[build-system]\nrequires = ["setuptools"]\n',
      'no dependencies key, no final newline': '[project]\nname = "x"',
      'no dependencies key, last key multi-line':
        '[project]\nname = "x"\nclassifiers = [\n  "A",\n] # c\n[tool.x]\na = 1\n',
      'no dependencies key, empty [project]': '[project]\n\n[tool.x]\na = 1\n',
      'multiline strings elsewhere': [
        '[project]',
        'name = "x"',
        'description = """',
        `${MARK_PREFIX_BEGIN}: not a marker, a string`,
        'dependencies = [',
        '"""',
        "readme = '''",
        `${BLOCK_END} also a string`,
        "'''",
        'dependencies = [',
        '    "arches>=7.6.0,<7.7.0",',
        ']',
        '',
      ].join('\n'),
      CRLF: '[project]\r\nname = "x"\r\ndependencies = [\r\n    "arches>=7.6.0,<7.7.0",\r\n]\r\n',
      'CRLF without dependencies': '[project]\r\nname = "x"\r\n[tool.x]\r\na = 1\r\n',
      'dotted keys at the root': 'project.name = "x"\nproject.dependencies = ["a"]\n',
      'trailing spaces after [, tab indentation':
        '[project]\nname = "x"\ndependencies = [  \n\t"a",\n\t"b"\n]\n',
      'first element on the [ line of a multi-line array':
        '[project]\ndependencies = ["a",\n    "b"]\nname = "x"\n',
      'no final newline after the array': '[project]\nname = "x"\ndependencies = [\n    "a",\n]',
    };
    const depsOf = (text: string): unknown => {
      const v = getStaticTOMLValue(parseTOML(text)) as { project?: { dependencies?: unknown } };
      return v.project?.dependencies;
    };
    for (const [label, original] of Object.entries(inputs)) {
      it(`round-trips: ${label}`, () => {
        const old = (depsOf(original) as string[] | undefined) ?? [];
        const a1 = applyPyprojectBlock(PYPROJECT, original, ADD1);
        assert.deepEqual(depsOf(a1), ['Django==3.2.25', 'django-storages[s3]==1.14.6', ...old]);
        assert.equal(applyPyprojectBlock(PYPROJECT, a1, []), original, 'removal restores the exact bytes');
        assert.equal(applyPyprojectBlock(PYPROJECT, a1, ADD1), a1, 'idempotent');
        const a2 = applyPyprojectBlock(PYPROJECT, a1, ADD2);
        assert.deepEqual(depsOf(a2), ['boto3>=1.26', ...old]);
        assert.equal(applyPyprojectBlock(PYPROJECT, a2, []), original);
        // Same for the rest of the document.
        const rest = (t: string): unknown => {
          const v = getStaticTOMLValue(parseTOML(t)) as { project?: Record<string, unknown> };
          if (v.project) delete v.project.dependencies;
          return v;
        };
        assert.deepEqual(rest(a1), rest(original));
        const read = readPyprojectDependencies(PYPROJECT, a1);
        assert.deepEqual(
          read.filter((d) => d.managed).map((d) => d.text),
          ['Django==3.2.25', 'django-storages[s3]==1.14.6'],
        );
        assert.deepEqual(
          read.filter((d) => !d.managed).map((d) => d.text),
          old.map((s) => s.trim()),
        );
        if (original.includes('\r\n')) assert.ok(!/[^\r]\n/.test(a1), 'no bare LF in a CRLF file');
        assert.equal(applyPyprojectBlock(PYPROJECT, original, []), original);
      });
    }

    it('writes the block right after [ with the first element’s indentation', () => {
      const out = applyPyprojectBlock(
        PYPROJECT,
        '[project]\nname = "x"\ndependencies = [\n  "arches>=7.6.0,<7.7.0",\n  "foo"\n]\n',
        [BOTO],
      );
      assert.equal(
        out,
        `[project]\nname = "x"\ndependencies = [\n  ${BLOCK_BEGIN}\n  "boto3>=1.26",\n  ${BLOCK_END}\n  "arches>=7.6.0,<7.7.0",\n  "foo"\n]\n`,
      );
    });

    it('the block is whole lines: blanks after `[` stay on its line, nothing follows the end marker', () => {
      const original = '[project]\ndependencies = [  \n\t"a",\n]\n';
      const out = applyPyprojectBlock(PYPROJECT, original, [BOTO]);
      assert.equal(
        out,
        `[project]\ndependencies = [  \n\t${BLOCK_BEGIN}\n\t"boto3>=1.26",\n\t${BLOCK_END}\n\t"a",\n]\n`,
      );
      assert.equal(applyPyprojectBlock(PYPROJECT, out, []), original);
    });

    it('opens an inline array on new lines, with a note for the way back', () => {
      const out = applyPyprojectBlock(PYPROJECT, '[project]\ndependencies = ["arches>=7.6.0,<7.7.0"]\n', [
        BOTO,
      ]);
      assert.equal(
        out,
        `[project]\ndependencies = [\n    ${BLOCK_BEGIN}\n    ${INLINE_ARRAY_NOTE}\n    "boto3>=1.26",\n    ${BLOCK_END}\n    "arches>=7.6.0,<7.7.0"]\n`,
      );
    });

    it('adds a dependencies key as the last key of [project]', () => {
      const out = applyPyprojectBlock(PYPROJECT, '[project]\nname = "x"\n\n[tool.x]\na = 1\n', [BOTO]);
      assert.equal(
        out,
        `[project]\nname = "x"\ndependencies = [\n    ${BLOCK_BEGIN}\n    ${ADDED_KEY_NOTE}\n    "boto3>=1.26",\n    ${BLOCK_END}\n]\n\n[tool.x]\na = 1\n`,
      );
    });

    it('keeps an added key the user has since put packages in', () => {
      const original = '[project]\nname = "x"\n';
      const withKey = applyPyprojectBlock(PYPROJECT, original, [BOTO]).replace(
        `${BLOCK_END}\n`,
        `${BLOCK_END}\n    "mine",\n`,
      );
      const removed = applyPyprojectBlock(PYPROJECT, withKey, []);
      assert.deepEqual(depsOf(removed), ['mine']);
      assert.ok(!removed.includes('arches-storage'));
    });

    it('reads [project].dependencies with line numbers', () => {
      const d = readPyprojectDependencies(PYPROJECT, std);
      assert.deepEqual(
        d.map((x) => [x.line, x.name, x.specifier, x.managed]),
        [
          [5, 'arches', '>=7.6.0,<7.7.0', false],
          [6, 'arches-querysets', '==1.0', false],
        ],
      );
      assert.deepEqual(readPyprojectDependencies(PYPROJECT, '[tool.poetry]\nname = "x"\n'), []);
    });

    it('reports invalid TOML with file and line', () => {
      throwsUser(
        () => readPyprojectDependencies(PYPROJECT, '[project]\nname = "x"\nname = "y"\n'),
        PYPROJECT,
        ':3',
      );
      throwsUser(
        () => applyPyprojectBlock(PYPROJECT, '[project]\ndependencies = [\n  "a",\n', ADD1),
        PYPROJECT,
        /:\d+/,
      );
    });

    it('refuses dynamic dependencies', () => {
      const dyn = '[project]\nname = "x"\ndynamic = ["version", "dependencies"]\n';
      throwsUser(() => readPyprojectDependencies(PYPROJECT, dyn), PYPROJECT, 'dynamic');
      throwsUser(() => applyPyprojectBlock(PYPROJECT, dyn, ADD1), PYPROJECT, 'dynamic');
    });

    it('refuses to invent a [project] table', () => {
      throwsUser(
        () => applyPyprojectBlock(PYPROJECT, '[tool.poetry]\nname = "x"\n', ADD1),
        PYPROJECT,
        '[project]',
      );
      throwsUser(
        () => applyPyprojectBlock(PYPROJECT, 'project = { name = "x" }\n', ADD1),
        PYPROJECT,
        '[project]',
      );
      assert.equal(applyPyprojectBlock(PYPROJECT, '', []), '');
    });

    const good = applyPyprojectBlock(PYPROJECT, std, ADD1);
    const tampered: Record<string, [string, number]> = {
      'edited begin marker': [good.replace(BLOCK_BEGIN, `${MARK_PREFIX_BEGIN} (mine now)`), 5],
      'edited end marker': [good.replace(BLOCK_END, MARK_PREFIX_END), 8],
      'begin without end': [good.replace(BLOCK_END, ''), 5],
      'end without begin': [good.replace(BLOCK_BEGIN, ''), 8],
      'two begins': [good.replace(`"Django==3.2.25",`, `"Django==3.2.25",\n    ${BLOCK_BEGIN}`), 7],
      'end before begin': [
        good.replace(BLOCK_BEGIN, 'X').replace(BLOCK_END, BLOCK_BEGIN).replace('X', BLOCK_END),
        5,
      ],
      'block moved outside the array': [
        good
          .replace(`    ${BLOCK_END}\n`, '')
          .replace('[tool.setuptools]', `[tool.setuptools]\n${BLOCK_END}`),
        5,
      ],
    };
    for (const [label, [content, line]] of Object.entries(tampered)) {
      it(`refuses markers edited by hand: ${label}`, () => {
        throwsUser(() => applyPyprojectBlock(PYPROJECT, content, ADD1), PYPROJECT, `:${line}`);
        throwsUser(() => applyPyprojectBlock(PYPROJECT, content, []), PYPROJECT, `:${line}`);
        throwsUser(() => readPyprojectDependencies(PYPROJECT, content), PYPROJECT, `:${line}`);
      });
    }
  });

  describe('decideDependencies', () => {
    const decl = (text: string, line = 3, file = REQ, managed = false): Declared => {
      const d = readRequirements(file, text)[0]!;
      return { ...d, line, managed };
    };

    it('adds what is not declared, ignoring our own block', () => {
      const d = decideDependencies(ADD1, [
        decl('arches==7.4.2'),
        decl('django-storages==1.9.1', 9, REQ, true),
      ]);
      assert.deepEqual(
        d.map((x) => [x.package.name, x.action]),
        [
          ['Django', 'add'],
          ['django-storages', 'add'],
        ],
      );
    });

    it('refuses a pin outside the accepted range, naming file, line, text, range and reason', () => {
      const e = throwsUser(
        () => decideDependencies(ADD1, [decl('django-storages==1.9.1', 3)]),
        REQ,
        ':3',
        'django-storages==1.9.1',
        '>=1.14',
        STORAGES.reason,
      );
      assert.equal(e.subject, REQ);
    });

    const conflicts: Array<[string, NeededPackage]> = [
      ['Django<4.2.16', pkg('Django', '>=4.2.16,<5.0.0', '>=4.2.16,<5')],
      ['Django==4.2.8', pkg('Django', '==3.2.25', '==3.2.25')],
      ['Django>=5.2', pkg('Django', '>=4.2.16,<5.0.0', '>=4.2.16,<5')],
      ['Django~=3.2.0', pkg('Django', '>=4.2.16,<5.0.0', '>=4.2.16,<5')],
      ['Django!=3.2.25', pkg('Django', '==3.2.25', '==3.2.25')],
      ['Django==4.1.*', pkg('Django', '>=4.2.16,<5.0.0', '>=4.2.16,<5')],
    ];
    for (const [text, need] of conflicts) {
      it(`refuses ${text} for ${need.accept}`, () => {
        throwsUser(() => decideDependencies([need], [decl(text)]), text, need.accept);
      });
    }

    it('reports every conflict, across files, in one message', () => {
      const e = throwsUser(
        () =>
          decideDependencies(ADD1, [
            decl('Django>=4.2,<5', 7, PYPROJECT),
            decl('django-storages==1.9.1', 12, REQ),
            decl('DJANGO==3.2.25', 2, REQ),
          ]),
        `${PYPROJECT}:7`,
        'Django>=4.2,<5',
        `${REQ}:12`,
        'django-storages==1.9.1',
        '==3.2.25',
        '>=1.14',
      );
      assert.match(e.message, /^2 declared dependencies conflict/);
    });

    it('keeps a declaration inside the range without a warning', () => {
      const [d] = decideDependencies(
        [pkg('Django', '>=4.2.16,<5.0.0', '>=4.2.16,<5')],
        [decl('django>=4.2.16,<5.0.0')],
      );
      assert.equal(d!.action, 'keep');
      assert.equal(d!.existing?.text, 'django>=4.2.16,<5.0.0');
      assert.equal(d!.warning, undefined);
    });

    it('keeps and warns for wider declarations', () => {
      const cases: Array<[string, NeededPackage]> = [
        ['Django>=3.2', DJANGO],
        ['django-storages[s3]', STORAGES],
        ['Django>=4.2,<5', pkg('Django', '>=4.2.16,<5.0.0', '>=4.2.16,<5')],
        ['django-storages[s3]~=1.14.0', pkg('django-storages', '==1.14.6', '>=1.14.6', ['s3'])],
      ];
      for (const [text, need] of cases) {
        const [d] = decideDependencies([need], [decl(text, 4)]);
        assert.equal(d!.action, 'keep', text);
        assert.ok(d!.warning?.includes(`${REQ}:4`), `${text}: ${d!.warning}`);
        assert.ok(d!.warning?.includes(need.accept), d!.warning);
      }
    });

    it('compares PEP 503-normalized names', () => {
      assert.equal(normalizeName('Django_Storages'), 'django-storages');
      assert.equal(normalizeName('zope.interface'), 'zope-interface');
      const d = decideDependencies(ADD1, [decl('DJANGO==3.2.25'), decl('Django_Storages[S3]==1.14.6')]);
      assert.deepEqual(
        d.map((x) => [x.action, x.warning]),
        [
          ['keep', undefined],
          ['keep', undefined],
        ],
      );
      throwsUser(
        () => decideDependencies(ADD1, [decl('django.storages==1.13.2')]),
        'django.storages==1.13.2',
      );
    });

    it('keeps -e / URL / VCS requirements with a warning', () => {
      for (const text of [
        '-e git+https://github.com/jschneier/django-storages.git@1.14.6#egg=django-storages',
        'django-storages[s3] @ git+https://github.com/jschneier/django-storages.git',
        'git+https://github.com/jschneier/django-storages.git#egg=django_storages',
      ]) {
        const [d] = decideDependencies([STORAGES], [decl(text)]);
        assert.equal(d!.action, 'keep', text);
        assert.match(d!.warning ?? '', /URL or path/, text);
      }
    });

    it('warns when the declaration lacks the extras we need', () => {
      const [d] = decideDependencies([STORAGES], [decl('django-storages[azure]==1.14.6')]);
      assert.equal(d!.action, 'keep');
      assert.match(d!.warning ?? '', /\[s3\].*django-storages\[azure,s3\]==1\.14\.6/);
    });

    it('works on declarations read from pyproject.toml', () => {
      const toml =
        '[project]\nname = "x"\ndependencies = [\n    "arches>=7.6.0,<7.7.0",\n    "django-storages==1.9.1",\n]\n';
      throwsUser(
        () => decideDependencies(ADD1, readPyprojectDependencies(PYPROJECT, toml)),
        `${PYPROJECT}:5`,
        'django-storages==1.9.1',
      );
    });

    describe('over the real releases', () => {
      const ARCHES8 = pkg('Django', '>=5.2.3,<6.0.0', '>=5.2.3,<6.0.0');

      it('the warning for a wider declaration names a real release outside the range', () => {
        const [d] = decideDependencies([DJANGO], [decl('Django>=3.2', 4)]);
        assert.match(d!.warning!, /also allows Django versions outside ==3\.2\.25, such as 6\.0\.9 \(/);
      });

      it('refuses a declaration whose real releases all lie outside, even when its bounds overlap', () => {
        // As numbers, >=3.2.25,<4.1 and >3.2.25,<4 overlap (3.2.26, 3.3 …); no such Django was ever released.
        const between = pkg('Django', '>3.2.25,<4', '>3.2.25,<4');
        throwsUser(
          () => decideDependencies([between], [decl('Django>=3.2.25,<4.1')]),
          '`Django>=3.2.25,<4.1` admits no version in Django>3.2.25,<4',
        );
        const [d] = decideDependencies([ARCHES8], [decl('Django>4.2.30,<5.2.4')]);
        assert.equal(d!.action, 'keep');
        assert.match(d!.warning!, /outside >=5\.2\.3,<6\.0\.0, such as 5\.2\.2 \(/);
      });

      it('a declaration no listed release satisfies: refused when no later release could meet the need either', () => {
        // Django 6.1 or an rc of 6.0 can never satisfy <6.0.0, whatever has been released since the list.
        for (const text of ['Django>=6.1', 'Django==6.0rc1', 'Django~=6.1']) {
          throwsUser(
            () => decideDependencies([ARCHES8], [decl(text, 7)]),
            `myproj/install/requirements.txt:7: \`${text}\` admits no version in Django>=5.2.3,<6.0.0`,
          );
        }
      });

      it('a declaration no listed release satisfies is kept unchecked when a later release could, with a warning', () => {
        for (const text of ['Django==5.2.99', 'Django>=5.2.19,<6']) {
          const [d] = decideDependencies([ARCHES8], [decl(text, 7)]);
          assert.equal(d!.action, 'keep', text);
          assert.match(
            d!.warning!,
            /^myproj\/install\/requirements\.txt:7: `[^`]+` admits no Django release the generator knows \(Django's release notes, up to 6\.0\.9 and 5\.2\.18 \(October 6, 2026\)\), so it was not checked against Django>=5\.2\.3,<6\.0\.0 \(.*\); a later release such as 5\.2\.\d+ would satisfy both\.$/,
            text,
          );
        }
      });

      it('a package without a release list: only the named versions are tried, and the warning says so', () => {
        const identity = pkg('azure-identity', '>=1.15', '>=1.15');
        const [kept] = decideDependencies([identity], [decl('azure-identity>=1.16')]);
        assert.equal(kept!.action, 'keep');
        assert.match(kept!.warning!, /no release list for azure-identity.*1\.17 satisfies both/);
        // No named version satisfies both: not refused (the list could have one), but not checked either.
        const [unchecked] = decideDependencies([identity], [decl('azure-identity==1.2')]);
        assert.equal(unchecked!.action, 'keep');
        assert.match(
          unchecked!.warning!,
          /was not checked against azure-identity>=1\.15 .*none satisfies both/,
        );
      });

      it('a constraint that only a beta satisfies counts that beta', () => {
        const azure = pkg('azure-storage-blob', '>=12.17,<13', '>=12');
        const declared = readRequirementsTree(
          (rel) => (rel === 'c.txt' ? 'azure-storage-blob==12.30.0b1\n' : '-c c.txt\n'),
          'requirements.txt',
        ).declared;
        const [d] = decideDependencies([azure], declared);
        assert.deepEqual([d!.action, d!.warning], ['add', undefined]);
        throwsUser(
          () => decideDependencies([pkg('azure-storage-blob', '==12.29.0', '==12.29.0')], declared),
          'c.txt:1',
        );
      });
    });
  });

  describe('readRequirementsTree', () => {
    const ROOT = '/srv/site';
    const treeOf = (entries: Record<string, string>, file = 'requirements.txt'): RequirementsTree => {
      const map = new Map(Object.entries(entries));
      return readRequirementsTree((rel) => map.get(rel) ?? null, file, { root: ROOT });
    };

    it('follows -r and -c three deep, relative to each including file, naming the chain', () => {
      const t = treeOf({
        'requirements.txt': 'arches==7.4.4\n-r requirements/base.txt\n',
        'requirements/base.txt': '# base\n--requirement=deploy/web.txt\n-c ../constraints/pins.txt\n',
        'requirements/deploy/web.txt': 'gunicorn==22.0\n-r ../../extra/last.txt\n',
        'extra/last.txt': 'boto3>=1.26\n',
        'constraints/pins.txt': 'Django==3.2.24\n',
      });
      assert.deepEqual(t.files, [
        'requirements.txt',
        'requirements/base.txt',
        'requirements/deploy/web.txt',
        'extra/last.txt',
        'constraints/pins.txt',
      ]);
      assert.deepEqual(
        t.declared.map((d) => [d.file, d.line, d.name, Boolean(d.constraint), d.includedFrom ?? []]),
        [
          ['requirements.txt', 1, 'arches', false, []],
          [
            'requirements/deploy/web.txt',
            1,
            'gunicorn',
            false,
            ['requirements/base.txt:2', 'requirements.txt:2'],
          ],
          [
            'extra/last.txt',
            1,
            'boto3',
            false,
            ['requirements/deploy/web.txt:2', 'requirements/base.txt:2', 'requirements.txt:2'],
          ],
          ['constraints/pins.txt', 1, 'Django', true, ['requirements/base.txt:3', 'requirements.txt:2']],
        ],
      );
      assert.deepEqual(t.warnings, []);
      assert.equal(t.hashMode, undefined);
    });

    it('reads every spelling of the include options pip accepts', () => {
      const t = treeOf({
        'requirements.txt':
          '-ra.txt\n--requirement b.txt\n-r "c.txt"\n--constraint=d.txt\n-c e.txt\n-r file:f.txt  # comment\n',
        'a.txt': 'a==1\n',
        'b.txt': 'b==1\n',
        'c.txt': 'c==1\n',
        'd.txt': 'd==1\n',
        'e.txt': 'e==1\n',
        'f.txt': 'f==1\n',
      });
      assert.deepEqual(
        t.declared.map((d) => [d.name, Boolean(d.constraint)]),
        [
          ['a', false],
          ['b', false],
          ['c', false],
          ['d', true],
          ['e', true],
          ['f', false],
        ],
      );
    });

    it('an attached -e is a requirement, not an option line', () => {
      assert.deepEqual(
        readRequirements(REQ, '-egit+https://github.com/x/foo.git#egg=foo\n').map((d) => d.name),
        ['foo'],
      );
    });

    it('a -r inside a constraints file reads requirements, a -c inside a requirements file constraints', () => {
      const t = treeOf({
        'requirements.txt': '-c c.txt\n',
        'c.txt': 'x==1\n-r r.txt\n',
        'r.txt': 'y==1\n-c c2.txt\n',
        'c2.txt': 'z==1\n',
      });
      assert.deepEqual(
        t.declared.map((d) => [d.name, Boolean(d.constraint)]),
        [
          ['x', true],
          ['y', false],
          ['z', true],
        ],
      );
    });

    it('reads a file included twice (not a loop) once', () => {
      const t = treeOf({
        'requirements.txt': '-r common.txt\n-r test.txt\n',
        'test.txt': '-r common.txt\npytest==8\n',
        'common.txt': 'Django==3.2.25\n',
      });
      assert.deepEqual(t.files, ['requirements.txt', 'common.txt', 'test.txt']);
      assert.equal(t.declared.filter((d) => d.name === 'Django').length, 1);
    });

    const cycles: Record<string, [Record<string, string>, string[]]> = {
      'a file that includes itself': [
        { 'requirements.txt': 'a==1\n-r requirements.txt\n' },
        ['requirements.txt:2'],
      ],
      'two files that include each other, through a sub-folder': [
        {
          'requirements.txt': '-r sub/b.txt\n',
          'sub/b.txt': 'b==1\n\n-r ../requirements.txt\n',
        },
        ['sub/b.txt:3', 'requirements.txt → sub/b.txt → requirements.txt'],
      ],
      'a loop three files deep, written with ./ and ..': [
        {
          'requirements.txt': 'x==1\n-r ./a.txt\n',
          'a.txt': '-c sub/b.txt\n',
          'sub/b.txt': '-r ../sub/../a.txt\n',
        },
        ['sub/b.txt:1', '`-r ../sub/../a.txt`', 'a.txt → sub/b.txt → a.txt'],
      ],
    };
    for (const [label, [entries, parts]] of Object.entries(cycles)) {
      it(`refuses an include loop (pip 24.3+ refuses it too): ${label}`, () => {
        const e = throwsUser(() => treeOf(entries), ...parts, 'includes', 'recursively references itself');
        assert.equal(e.exitCode, 1);
      });
    }

    it('refuses a missing include, naming file:line and the chain', () => {
      const e = throwsUser(
        () =>
          treeOf({
            'requirements.txt': 'a==1\n-r sub/a.txt\n',
            'sub/a.txt': '\n-c pins.txt\n',
          }),
        'sub/a.txt:2 (included from requirements.txt:2)',
        '`-c pins.txt`',
        'sub/pins.txt',
        'does not exist',
      );
      assert.equal(e.exitCode, 1);
      assert.equal(e.subject, 'sub/a.txt');
    });

    it('skips a URL include with a warning naming file:line', () => {
      const t = treeOf({
        'requirements.txt': 'a==1\n-r https://example.org/reqs.txt\n-c HTTP://example.org/c.txt\n',
      });
      assert.deepEqual(
        t.declared.map((d) => d.name),
        ['a'],
      );
      assert.equal(t.warnings.length, 2);
      assert.match(
        t.warnings[0]!,
        /^requirements\.txt:2: `-r https:\/\/example\.org\/reqs\.txt` names a URL/,
      );
      assert.match(t.warnings[1]!, /^requirements\.txt:3: .*constraints in it were not checked/);
    });

    it('reads includes that leave the root by absolute path, and names those inside it relative to the root', () => {
      const t = treeOf(
        {
          'pkg/install/requirements.txt': '-r ../../../shared/base.txt\n-r /srv/site/local.txt\n',
          '/srv/shared/base.txt': 'Django==3.2.25\n',
          'local.txt': 'boto3>=1.26\n',
        },
        'pkg/install/requirements.txt',
      );
      assert.deepEqual(t.files, ['pkg/install/requirements.txt', '/srv/shared/base.txt', 'local.txt']);
      assert.deepEqual(
        t.declared.map((d) => [d.file, d.includedFrom]),
        [
          ['/srv/shared/base.txt', ['pkg/install/requirements.txt:1']],
          ['local.txt', ['pkg/install/requirements.txt:2']],
        ],
      );
    });

    it('a missing start file gives an empty tree', () => {
      assert.deepEqual(treeOf({}), { declared: [], files: [], warnings: [] });
    });

    it('finds the line that turns on hash-checking mode: --hash on a continued line, --require-hashes', () => {
      const hashed = treeOf({
        'requirements.txt': 'a==1\n-r sub/locked.txt\n',
        'sub/locked.txt':
          '# via pip-compile\nboto3==1.34.0 \\\n    --hash=sha256:aaaa \\\n    --hash=sha256:bbbb\n',
      });
      assert.deepEqual(hashed.hashMode, {
        file: 'sub/locked.txt',
        line: 3,
        how: '--hash',
        includedFrom: ['requirements.txt:2'],
      });
      assert.ok(
        hashed.declared.every((d) => d.hashMode === hashed.hashMode),
        'the whole install is under it',
      );
      const required = treeOf({ 'requirements.txt': 'a==1\n\n--require-hashes\n' });
      assert.deepEqual(required.hashMode, {
        file: 'requirements.txt',
        line: 3,
        how: '--require-hashes',
        includedFrom: [],
      });
      // A comment that mentions --hash turns nothing on.
      assert.equal(treeOf({ 'requirements.txt': 'a==1  # add --hash later\n' }).hashMode, undefined);
    });
  });

  describe('decideDependencies over included files', () => {
    const ROOT = '/srv/site';
    const declaredOf = (entries: Record<string, string>): Declared[] => {
      const map = new Map(Object.entries(entries));
      return readRequirementsTree((rel) => map.get(rel) ?? null, 'requirements.txt', { root: ROOT }).declared;
    };

    it('refuses a constraint that excludes what is needed, saying it is a constraint and where it came from', () => {
      const declared = declaredOf({
        'requirements.txt': 'arches==7.4.4\n-r sub/base.txt\n',
        'sub/base.txt': '-c ../pins/constraints.txt\n',
        'pins/constraints.txt': '# pins\nDjango==3.2.19\n',
      });
      const e = throwsUser(
        () => decideDependencies([DJANGO], declared),
        'pins/constraints.txt:2 (included from sub/base.txt:1, included from requirements.txt:2)',
        '`Django==3.2.19`, a constraint (-c file),',
        'admits no version in Django==3.2.25',
      );
      assert.equal(e.exitCode, 1);
      assert.equal(e.subject, 'pins/constraints.txt');
    });

    it('a compatible constraint installs nothing: the package is still added', () => {
      const declared = declaredOf({
        'requirements.txt': '-c c.txt\nDjango>=3.2\n',
        'c.txt': 'django-storages<2\nDjango<4\n',
      });
      const d = decideDependencies([DJANGO, STORAGES], declared);
      assert.deepEqual(
        d.map((x) => [x.package.name, x.action, x.existing?.file]),
        [
          ['Django', 'keep', 'requirements.txt'],
          ['django-storages', 'add', undefined],
        ],
      );
      // A constraint has no extras and may be loose: no warning about either.
      assert.equal(d[1]!.warning, undefined);
    });

    it('refuses a requirement conflict in an included file with file:line and the chain', () => {
      const declared = declaredOf({
        'requirements.txt': 'x==1\n\n-r a.txt\n',
        'a.txt': 'Django==2.2.28\n',
      });
      throwsUser(() => decideDependencies([DJANGO], declared), 'a.txt:1 (included from requirements.txt:3)');
    });

    it('refuses to add to a hash-checked install, naming the --hash line and printing the lines to add', () => {
      const declared = declaredOf({
        'requirements.txt': '-r locked.txt\n',
        'locked.txt': 'arches==7.4.4 \\\n    --hash=sha256:0123\n',
      });
      const e = throwsUser(
        () => decideDependencies([DJANGO, STORAGES, BOTO], declared),
        'locked.txt:2 (included from requirements.txt:1) has a --hash',
        'cannot compute hashes',
        'pip-compile --generate-hashes',
      );
      assert.equal(e.exitCode, 1);
      assert.equal(e.subject, 'locked.txt');
      assert.ok(
        e.message.endsWith('\n  Django==3.2.25\n  django-storages[s3]==1.14.6\n  boto3>=1.26'),
        e.message,
      );
    });

    it('refuses to add to an install with --require-hashes, listing only what would be added', () => {
      const declared = declaredOf({
        'requirements.txt': '--require-hashes\nDjango==3.2.25 --hash=sha256:0123\n',
      });
      const e = throwsUser(
        () => decideDependencies([DJANGO, STORAGES], declared),
        "requirements.txt:1 turns on pip's hash-checking mode (--require-hashes)",
      );
      assert.ok(e.message.endsWith(':\n  django-storages[s3]==1.14.6'), e.message);
    });

    it('a hash-checked install that already declares everything needs nothing added: no refusal', () => {
      const declared = declaredOf({
        'requirements.txt':
          'Django==3.2.25 --hash=sha256:01\ndjango-storages[s3]==1.14.6 --hash=sha256:02\nboto3==1.34.0 --hash=sha256:03\n',
      });
      const d = decideDependencies([DJANGO, STORAGES, BOTO], declared);
      assert.deepEqual(
        d.map((x) => x.action),
        ['keep', 'keep', 'keep'],
      );
    });

    it('does not check a declaration marked inactive, and says so', () => {
      const [d] = readRequirements(REQ, 'Django==1.11 ; python_version < "3"\n');
      const inactive = { ...d!, inactive: 'its marker is false on every Python' };
      const [decision] = decideDependencies([DJANGO], [inactive]);
      assert.equal(decision!.action, 'add');
      assert.match(decision!.warning!, /`Django==1\.11 ; python_version < "3"` was not checked: its marker/);
      // Without the mark, the same declaration is a conflict.
      throwsUser(() => decideDependencies([DJANGO], [d!]), `${REQ}:1`);
    });
  });

  describe('PEP 508 markers', () => {
    const PY = ['3.7', '3.8', '3.9', '3.10'];
    const cases: Array<[string, string[], boolean, boolean]> = [
      // marker, on which Pythons it is (or may be) true, always, uncertain
      ['python_version < "3.8"', ['3.7'], false, false],
      ['python_version < "3.7"', [], false, false],
      ['python_version >= "3.7"', PY, true, false],
      ['"3.8" >= python_version', ['3.7', '3.8'], false, false],
      ['python_version == "3.*"', PY, true, false],
      ['python_version in "3.8 3.9"', ['3.8', '3.9'], false, false],
      ['python_version not in "3.8 3.9"', ['3.7', '3.10'], false, false],
      ['python_full_version >= "3.10.5"', ['3.10'], false, true],
      ['python_full_version < "3.7.0"', [], false, false],
      ['sys_platform == "win32"', [], false, false],
      ['sys_platform == "linux" and platform_system == "Linux"', PY, true, false],
      ['platform_system == "Windows" or os_name == "nt"', [], false, false],
      ['implementation_name == "cpython"', PY, true, false],
      ['platform_python_implementation == "PyPy"', [], false, false],
      ['extra == "s3"', [], false, false],
      ['extra != "S3"', PY, true, false],
      [
        '(python_version >= "3.9" or os_name == "nt") and implementation_name == "cpython"',
        ['3.9', '3.10'],
        false,
        false,
      ],
      ["python_version<'3.9'and(sys_platform=='linux')", ['3.7', '3.8'], false, false],
      ['platform_machine == "x86_64"', PY, false, true],
      ['platform_machine != "s390x"', PY, true, false],
      ['platform_release >= "5.0" and python_version < "3.9"', ['3.7', '3.8'], false, true],
      ['os.name == "posix"', PY, true, false],
      ['platform_version < "1" or python_version > "3.9"', PY, false, true],
    ];
    for (const [marker, on, always, uncertain] of cases) {
      it(`${marker} → on ${on.join(', ') || 'none'}`, () => {
        const v = evaluateMarker(marker, PY);
        assert.deepEqual([v.on, v.always, v.uncertain, v.error], [on, always, uncertain, undefined]);
      });
    }
    for (const bad of [
      'python_version <',
      'bogus == "1"',
      'python_version < "3.8" and',
      '(os_name == "nt"',
      'os_name "nt"',
    ]) {
      it(`cannot evaluate ${JSON.stringify(bad)}: true everywhere, with the reason`, () => {
        const v = evaluateMarker(bad, PY);
        assert.deepEqual(v.on, PY);
        assert.ok(v.error, 'a reason');
      });
    }

    it('markerOf reads the marker of version, URL and pyproject requirements', () => {
      assert.equal(markerOf('Django==3.2 ; python_version < "3.8"'), 'python_version < "3.8"');
      assert.equal(markerOf('Django==3.2;sys_platform=="win32"'), 'sys_platform=="win32"');
      assert.equal(markerOf('x @ https://e.org/x.tar.gz ; os_name == "nt"'), 'os_name == "nt"');
      assert.equal(markerOf('x @ https://e.org/x.tar.gz;v=1'), undefined);
      assert.equal(markerOf('Django==3.2'), undefined);
      const [r] = readRequirements(REQ, 'Django<3 ; python_version < "3.6"  # old\n');
      assert.equal(r!.marker, 'python_version < "3.6"');
      const [p] = readPyprojectDependencies(
        PYPROJECT,
        '[project]\ndependencies = ["Django<3; os_name == \'nt\'"]\n',
      );
      assert.equal(p!.marker, "os_name == 'nt'");
    });
  });
});
