/**
 * core/pysettings.ts + python/settings_inspect.py with the real /usr/bin/python3: every form that can override
 * the storage block (judged by Python's own parser), the files imported after the block, STORAGES beside
 * DEFAULT_FILE_STORAGE/STATICFILES_STORAGE, SyntaxError, MEDIA_URL, the CORS inputs; and the import of a dry copy
 * with a project interpreter (a fake venv whose bin/python is /usr/bin/python3, Django 3.2).
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { applyBlock } from '../../lib/blocks.js';
import { detectProject, type ArchesProject } from '../../lib/detect.js';
import { settingsStyle } from '../../lib/matrix.js';
import {
  blockRequest,
  checkStorageSettings,
  originsFromSettings,
  pythonCandidates,
  readProjectOrigins,
  settingsInspector,
  type Finding,
  type SettingsInspector,
} from '../../lib/pysettings.js';
import { settingsInsertAt, storageSettingsLines } from '../../lib/settings.js';
import type { StorageAnswers } from '../../lib/types.js';
import { filesOf, throwsUser } from '../helpers/assert.js';
import { projectFiles, writeProject, type FixtureId } from '../helpers/projects.js';
import { ROOT } from '../helpers/run.js';
import { overlayProvider, spec } from '../helpers/providers.js';

const PKG = 'demo_heritage';
const SETTINGS = `${PKG}/settings.py`;
const LOCAL = `${PKG}/settings_local.py`;
const PACKAGE = `${PKG}/package_settings.py`;
const STUB = path.join(ROOT, 'demo/arches-stub');
const AWS: StorageAnswers = {
  provider: 'aws',
  bucket: 'demo-heritage-media',
  region: 'eu-west-2',
  corsOrigins: ['https://arches.example.org'],
  publicRead: false,
};

const dirs: string[] = [];
const tempDir = (prefix: string): string => {
  const d = mkdtempSync(path.join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** No project interpreter anywhere: /usr/bin/python3 parses. */
const parsing: SettingsInspector = settingsInspector({ env: { PATH: '' } });

interface Case {
  map: Map<string, string>;
  project: ArchesProject;
  after: string;
  /** 1-based line in `after` of the first line of the appended text. */
  appendedAt: number;
}

/** A fixture project with the aws block; `tail` appended to settings.py (after the block), others replace files. */
function project(id: FixtureId, tail = '', extra: Record<string, string> = {}, root = '/nonexistent'): Case {
  const map = projectFiles(id);
  for (const [k, v] of Object.entries(extra)) map.set(k, v);
  const files = filesOf(map);
  const p = { ...detectProject(root, files), root };
  const style = settingsStyle(p.release);
  const withBlock = applyBlock(
    SETTINGS,
    map.get(SETTINGS)!,
    storageSettingsLines(spec('aws'), AWS, style),
    settingsInsertAt,
  )!;
  const after = withBlock + tail;
  return { map, project: p, after, appendedAt: withBlock.split('\n').length };
}

function judge(c: Case, inspector: SettingsInspector = parsing) {
  const style = settingsStyle(c.project.release);
  return checkStorageSettings(inspector, filesOf(c.map), c.project, style, spec('aws'), AWS, c.after);
}

/** The problems, expecting one that names file:line and contains every part. */
function refused(c: Case, where: string, ...parts: string[]): string[] {
  const { problems } = judge(c);
  const hit = problems.find((p) => p.startsWith(`${where}`) && parts.every((x) => p.includes(x)));
  assert.ok(hit, `no problem at ${where} with ${JSON.stringify(parts)}; got:\n${problems.join('\n')}`);
  return problems;
}

const accepted = (c: Case): string[] => {
  const { problems, warnings } = judge(c);
  assert.deepEqual(problems, [], 'no problem');
  return warnings;
};

describe('core/pysettings: judged by Python, not by line patterns', function () {
  this.timeout(30_000);

  describe('anything after the block that overrides STORAGES (7.6) is refused with file:line', () => {
    // [title, code appended after the tail of settings.py, offset of the offending line in it]
    const overrides: Array<[string, string, number]> = [
      ['a plain assignment', 'STORAGES = {"default": {"BACKEND": "x"}}\n', 0],
      ['a tuple target', 'STORAGES, OTHER = {}, 1\n', 0],
      ['a starred list target', '[FIRST, *STORAGES] = [1, 2]\n', 0],
      ['a named expression', 'print(STORAGES := {})\n', 0],
      ['a subscript store of "default"', 'STORAGES["default"] = {"BACKEND": "x"}\n', 0],
      ['a deep subscript store', 'STORAGES["default"]["OPTIONS"]["bucket_name"] = "other"\n', 0],
      ['a computed key', 'KEY = "default"\nSTORAGES[KEY] = {}\n', 1],
      ['|= with "default"', 'STORAGES |= {"default": {}}\n', 0],
      ['|= with something computed', 'OTHER = {}\nSTORAGES |= OTHER\n', 1],
      ['an annotated assignment', 'STORAGES: dict = {}\n', 0],
      ['STORAGES.update({...})', 'STORAGES.update({"default": {}})\n', 0],
      ['STORAGES.update(default=...)', 'STORAGES.update(default={})\n', 0],
      ['STORAGES.update(computed)', 'OTHER = {}\nSTORAGES.update(OTHER)\n', 1],
      ['STORAGES["default"].update(...)', 'STORAGES["default"].update(BACKEND="x")\n', 0],
      ['OPTIONS.setdefault(...)', 'STORAGES["default"]["OPTIONS"].setdefault("location", "x")\n', 0],
      ['STORAGES.pop("default")', 'STORAGES.pop("default")\n', 0],
      ['STORAGES.clear()', 'STORAGES.clear()\n', 0],
      ['STORAGES.__setitem__', 'STORAGES.__setitem__("default", {})\n', 0],
      ['del STORAGES', 'del STORAGES\n', 0],
      ['del STORAGES["default"]', 'del STORAGES["default"]\n', 0],
      ['globals()[...] =', 'globals()["STORAGES"] = {}\n', 0],
      ['globals()[...][...] =', 'globals()["STORAGES"]["default"] = {}\n', 0],
      ['globals().update({...})', 'globals().update({"STORAGES": {}})\n', 0],
      ['globals().update(STORAGES=...)', 'globals().update(STORAGES={})\n', 0],
      ['vars()[...] =', 'vars()["STORAGES"] = {}\n', 0],
      [
        'setattr(sys.modules[__name__], ...)',
        'import sys\nsetattr(sys.modules[__name__], "STORAGES", {})\n',
        1,
      ],
      ['sys.modules[__name__].STORAGES =', 'import sys as _s\n_s.modules[__name__].STORAGES = {}\n', 1],
      ['conditional (if)', 'if os.environ.get("PROD"):\n    STORAGES = {}\n', 1],
      ['conditional (else)', 'if DEBUG:\n    pass\nelse:\n    STORAGES.update(default={})\n', 3],
      ['indented in try', 'try:\n    STORAGES["default"] = {}\nexcept Exception:\n    pass\n', 1],
      ['in a for loop', 'for _ in range(1):\n    STORAGES.update(default={})\n', 1],
      ['in a with block', 'with open(os.devnull):\n    STORAGES = {}\n', 1],
      [
        'a function with global, called',
        'def tune():\n    global STORAGES\n    STORAGES = {}\n\ntune()\n',
        2,
      ],
      ['a function mutating, called', 'def tune():\n    STORAGES["default"] = {}\n\n\ntune()\n', 1],
      ['a named import', 'from .prod import STORAGES\n', 0],
      ['an aliased import', 'from myconf import S as STORAGES\n', 0],
      ['exec of a literal', 'exec("STORAGES = {}")\n', 0],
      ['a computed global name', 'for k in ("STORAGES",):\n    globals()[k] = {}\n', 1],
    ];
    for (const [title, code, offset] of overrides) {
      it(title, () => {
        const c = project('7.6', code);
        refused(c, `${SETTINGS}:${c.appendedAt + offset}:`);
      });
    }
  });

  describe('what keeps the block’s default storage is accepted', () => {
    const fine: Array<[string, string]> = [
      ['STORAGES["staticfiles"] = ...', 'STORAGES["staticfiles"] = {"BACKEND": "x"}\n'],
      ['STORAGES.update({"staticfiles": ...})', 'STORAGES.update({"staticfiles": {"BACKEND": "x"}})\n'],
      ['STORAGES |= {"staticfiles": ...}', 'STORAGES |= {"staticfiles": {"BACKEND": "x"}}\n'],
      ['{**STORAGES, "staticfiles": ...}', 'STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "x"}}\n'],
      ['STORAGES.setdefault("default", ...)', 'STORAGES.setdefault("default", {})\n'],
      ['a function-local STORAGES', 'def f():\n    STORAGES = {}\n    return STORAGES\n\nf()\n'],
      ['a function never called', 'def f():\n    global STORAGES\n    STORAGES = {}\n'],
      ['another name', 'OTHER_STORAGES = {}\nMY_STORAGES = STORAGES\n'],
      ['a comment and a string', '# STORAGES = {}\nNOTE = """\nSTORAGES = {}\n"""\n'],
      ['a read of STORAGES', 'print(STORAGES["default"]["BACKEND"])\n'],
    ];
    for (const [title, code] of fine) it(title, () => void accepted(project('7.6', code)));
  });

  describe('the files imported after the block', () => {
    it('settings_local.py: STORAGES, in several shapes', () => {
      for (const code of [
        'STORAGES = {"default": {"BACKEND": "x"}}\n',
        'if True:\n    STORAGES.update(default={})\n',
        'globals()["STORAGES"] = {}\n',
      ]) {
        const local = projectFiles('7.6').get(LOCAL)! + code;
        const line = local.split('\n').length - code.split('\n').length + 1 + (code.startsWith('if') ? 1 : 0);
        const problems = refused(project('7.6', '', { [LOCAL]: local }), `${LOCAL}:${line}`, 'imported at');
        assert.ok(problems[0]!.includes(`remove it from ${LOCAL}`), problems[0]);
      }
    });

    it('package_settings.py: a deep store, indented', () => {
      const c = project('8.1', '', {
        [PACKAGE]: 'if 1:\n    STORAGES["default"]["OPTIONS"]["location"] = "x"\n',
      });
      refused(c, `${PACKAGE}:2`, 'STORAGES["default"]');
    });

    it('a project module star-imported by settings_local.py, read from disk', () => {
      const root = tempDir('arches-pys-');
      mkdirSync(path.join(root, PKG));
      writeFileSync(path.join(root, PKG, 'prod_storage.py'), 'X = 1\nSTORAGES = {"default": {}}\n');
      const local = projectFiles('7.6').get(LOCAL)! + 'from .prod_storage import *\n';
      const c = project('7.6', '', { [LOCAL]: local }, root);
      refused(c, `${PKG}/prod_storage.py:2`, `${LOCAL}:5`);
    });

    it('the template’s own settings_local.py, and one that imports settings.py back, change nothing', () => {
      accepted(project('7.6'));
      accepted(project('7.6', '', { [LOCAL]: 'from .settings import *\nDEBUG = False\n' }));
    });

    it('DEFAULT_FILE_STORAGE in settings_local.py overrides the block on a 3.2 line (7.4)', () => {
      const local = projectFiles('7.4').get(LOCAL)! + 'DEFAULT_FILE_STORAGE = "x.Y"\n';
      refused(project('7.4', '', { [LOCAL]: local }), `${LOCAL}:5`, 'DEFAULT_FILE_STORAGE');
    });
  });

  describe('STORAGES beside DEFAULT_FILE_STORAGE / STATICFILES_STORAGE on Django ≥ 4.2 lines', () => {
    for (const id of ['7.5', '7.6', '8.1'] as const) {
      it(`${id}: DEFAULT_FILE_STORAGE before the block, STATICFILES_STORAGE in settings_local.py`, () => {
        const map = projectFiles(id);
        const settings = map
          .get(SETTINGS)!
          .replace("MEDIA_URL = '/files/'\n", "MEDIA_URL = '/files/'\nDEFAULT_FILE_STORAGE = 'a.B'\n");
        const line = settings.split('\n').indexOf("DEFAULT_FILE_STORAGE = 'a.B'") + 1;
        const local =
          map.get(LOCAL)! +
          'STATICFILES_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"\n';
        const c = project(id, '', { [SETTINGS]: settings, [LOCAL]: local });
        const problems = refused(c, `${SETTINGS}:${line}:`, 'refuses to start with both', 'remove it');
        assert.ok(
          problems.some((p) => p.startsWith(`${LOCAL}:5`) && p.includes('STORAGES = {"staticfiles"')),
        );
      });
    }

    it('7.4 (Django 3.2): STATICFILES_STORAGE is fine; STORAGES only warns (ignored); before the block only warns', () => {
      const map = projectFiles('7.4');
      const settings = map
        .get(SETTINGS)!
        .replace("MEDIA_URL = '/files/'\n", "MEDIA_URL = '/files/'\nDEFAULT_FILE_STORAGE = 'a.B'\n");
      const c = project('7.4', 'STATICFILES_STORAGE = "x"\nSTORAGES = {}\n', { [SETTINGS]: settings });
      const warnings = accepted(c);
      assert.ok(
        warnings.some((w) => w.includes('DEFAULT_FILE_STORAGE') && w.includes('replaces that value')),
      );
      assert.ok(
        warnings.some((w) => w.startsWith(`${SETTINGS}:${c.appendedAt + 1}:`) && w.includes('ignores')),
      );
    });
  });

  it('a file that does not parse: SyntaxError at file:line', () => {
    const local = 'DEBUG = True\nSTORAGES = {\n';
    const problems = refused(project('7.6', '', { [LOCAL]: local }), `${LOCAL}:2`, 'SyntaxError');
    assert.equal(problems.length, 1);
    refused(project('7.6', 'if True\n    pass\n'), `${SETTINGS}:`, 'SyntaxError');
  });

  describe('MEDIA_URL', () => {
    it('is "/files/" in every template: no warning', () => {
      assert.ok(!accepted(project('7.6')).some((w) => w.includes('MEDIA_URL')));
    });
    it('another value, last assignment wins, with file:line', () => {
      const local = projectFiles('7.6').get(LOCAL)! + 'MEDIA_URL = "https://bucket.s3.amazonaws.com/"\n';
      const w = accepted(project('7.6', '', { [LOCAL]: local }));
      assert.ok(
        w.some((x) => x.startsWith(`${LOCAL}:5: MEDIA_URL is "https://bucket.s3.amazonaws.com/"`)),
        w.join('\n'),
      );
    });
    it('computed: it says it could not check', () => {
      const w = accepted(project('7.6', 'MEDIA_URL = os.environ.get("MEDIA_URL", "/files/")\n'));
      assert.ok(w.some((x) => x.includes('MEDIA_URL is computed')));
    });
  });

  describe('CORS inputs: PUBLIC_SERVER_ADDRESS, CSRF_TRUSTED_ORIGINS, ALLOWED_HOSTS', () => {
    const origins = (code: string, provider: 'aws' | 'gcs' = 'aws') => {
      const map = projectFiles('7.6');
      map.set(SETTINGS, map.get(SETTINGS)!.replace('ALLOWED_HOSTS = []\n', code));
      const files = filesOf(map);
      return readProjectOrigins(parsing, files, detectProject('/nonexistent', files), spec(provider));
    };

    it('the template (ALLOWED_HOSTS = []) names none', () => {
      assert.deepEqual(origins('ALLOWED_HOSTS = []\n').origins, []);
    });

    it('all three, in order, canonical, without duplicates; hosts as https', () => {
      const r = origins(
        'PUBLIC_SERVER_ADDRESS = "https://Arches.Example.org:443/"\n' +
          'CSRF_TRUSTED_ORIGINS = ["https://arches.example.org", "https://*.example.org", "http://10.0.0.1:8000"]\n' +
          'ALLOWED_HOSTS = ["*", ".example.org", "localhost", "127.0.0.1", "arches.example.org", "www.example.org"]\n' +
          'ALLOWED_HOSTS += ["media.example.org"]\n',
      );
      assert.deepEqual(r.origins, [
        'https://arches.example.org',
        'https://*.example.org',
        'http://10.0.0.1:8000',
        'https://www.example.org',
        'https://media.example.org',
      ]);
      assert.match(
        r.used[0]!,
        /^https:\/\/arches\.example\.org \(PUBLIC_SERVER_ADDRESS, demo_heritage\/settings\.py:\d+\)$/,
      );
      for (const skipped of ['* (', '.example.org (', 'localhost (', '127.0.0.1 ('])
        assert.ok(
          r.skipped.some((s) => s.startsWith(skipped)),
          `${skipped} skipped: ${r.skipped.join('; ')}`,
        );
    });

    it('GCS cannot take a wildcard origin: skipped, with the reason', () => {
      const r = origins(
        'CSRF_TRUSTED_ORIGINS = ["https://*.example.org", "https://arches.example.org"]\n',
        'gcs',
      );
      assert.deepEqual(r.origins, ['https://arches.example.org']);
      assert.ok(r.skipped.some((s) => s.includes('*.example.org') && s.includes('match origins exactly')));
    });

    it('Django 3.2 style bare hosts in CSRF_TRUSTED_ORIGINS; a local PUBLIC_SERVER_ADDRESS is taken as given', () => {
      const r = origins(
        'PUBLIC_SERVER_ADDRESS = "http://localhost:8000/"\nCSRF_TRUSTED_ORIGINS = ["arches.example.org"]\n',
      );
      assert.deepEqual(r.origins, ['http://localhost:8000', 'https://arches.example.org']);
    });

    it('computed values are not guessed, and say so', () => {
      const r = origins('ALLOWED_HOSTS = os.environ["HOSTS"].split(",")\n');
      assert.deepEqual(r.origins, []);
      assert.ok(r.skipped.some((s) => s.startsWith('ALLOWED_HOSTS (') && s.includes('computed')));
    });

    it('settings_local.py wins over settings.py', () => {
      const map = projectFiles('7.6');
      map.set(LOCAL, map.get(LOCAL)! + 'ALLOWED_HOSTS = ["prod.example.org"]\n');
      const files = filesOf(map);
      const r = readProjectOrigins(parsing, files, detectProject('/x', files), spec('aws'));
      assert.deepEqual(r.origins, ['https://prod.example.org']);
      assert.match(r.used[0]!, /settings_local\.py:5\)$/);
    });
  });

  describe('the interpreter', () => {
    it('order: --python, $VIRTUAL_ENV, .venv, venv, ENV, then /usr/bin/python3', () => {
      const root = tempDir('arches-pyc-');
      const venv = tempDir('arches-venv-');
      for (const d of [path.join(root, '.venv'), path.join(root, 'ENV'), venv]) {
        mkdirSync(path.join(d, 'bin'), { recursive: true });
        symlinkSync('/usr/bin/python3', path.join(d, 'bin', 'python'));
      }
      const got = pythonCandidates(root, {
        python: path.join(root, 'ENV'),
        env: { VIRTUAL_ENV: venv, PATH: '' },
      });
      assert.deepEqual(
        got.map((c) => [c.source, c.project]),
        [
          ['--python', true],
          ['$VIRTUAL_ENV', true],
          ['.venv', true],
          ['/usr/bin/python3', false],
        ],
      );
    });

    it('a --python that is not an executable is bad input (exit 2, naming --python)', () => {
      const e = throwsUser(
        () => pythonCandidates('/', { python: '/no/such/python', env: {} }),
        '--python /no/such/python',
      );
      assert.equal(e.exitCode, 2);
    });

    it('an interpreter that fails or hangs is passed over, and the run says so', () => {
      const dir = tempDir('arches-badpy-');
      const broken = path.join(dir, 'broken');
      const slow = path.join(dir, 'slow');
      writeFileSync(broken, '#!/bin/sh\necho "SyntaxError: old python" >&2\nexit 1\n');
      writeFileSync(slow, '#!/bin/sh\nexec /bin/sleep 20\n');
      chmodSync(broken, 0o755);
      chmodSync(slow, 0o755);
      for (const [python, why] of [
        [broken, 'exit 1: SyntaxError: old python'],
        [slow, 'timed out'],
      ] as const) {
        const inspect = settingsInspector({ python, env: { PATH: '' }, timeoutMs: 4000 });
        const c = project('7.6');
        const { warnings } = judge(c, inspect);
        assert.ok(
          warnings.some((w) => w.includes(python) && w.includes(why)),
          warnings.join('\n'),
        );
        assert.equal(
          inspect(blockRequest(filesOf(c.map), c.project, 'STORAGES', spec('aws'), AWS, c.after)).python.path,
          '/usr/bin/python3',
        );
      }
    });
  });

  describe('import mode: a dry copy imported by the project’s interpreter (fake venv, Django 3.2)', () => {
    let root: string;
    let venvInspector: SettingsInspector;
    before(() => {
      root = tempDir('arches-import-');
      writeProject(root, '7.6');
      mkdirSync(path.join(root, '.venv', 'bin'), { recursive: true });
      symlinkSync('/usr/bin/python3', path.join(root, '.venv', 'bin', 'python'));
      venvInspector = settingsInspector({ env: { PATH: '', PYTHONPATH: STUB } });
    });
    const onDisk = (extra: Record<string, string> = {}, tail = ''): Case => {
      for (const [rel, text] of Object.entries(extra)) writeFileSync(path.join(root, rel), text);
      const map = projectFiles('7.6');
      for (const [k, v] of Object.entries(extra)) map.set(k, v);
      const c = project('7.6', tail, Object.fromEntries(map), root);
      return c;
    };

    it('the template: imported, the block’s storage is the default, nothing written into the project', () => {
      const c = onDisk();
      const request = blockRequest(filesOf(c.map), c.project, 'STORAGES', spec('aws'), AWS, c.after);
      const r = venvInspector(request);
      assert.equal(r.mode, 'import', r.notes.join('\n'));
      assert.equal(r.python.source, '.venv');
      assert.equal(r.defaultIsBlock, true);
      assert.equal(r.effective?.MEDIA_URL, '/files/');
      assert.deepEqual(judge(c, venvInspector).problems, []);
      const fs = listFiles(root);
      assert.ok(!fs.some((f) => f.includes('__pycache__')), fs.join('\n'));
    });

    it('an override no parser can see (a module that mutates the settings) is caught by its effect', () => {
      const tweak = `${PKG}/tweak.py`;
      const c = onDisk(
        {
          [tweak]:
            'import sys\nsys.modules["demo_heritage.settings"].STORAGES["default"]["BACKEND"] = "x.Y"\n',
        },
        '__import__("demo_heritage.tweak")\n',
      );
      const problems = judge(c, venvInspector).problems;
      assert.ok(
        problems.some((p) => p.startsWith(`${SETTINGS}: importing ${PKG}.settings`) && p.includes('"x.Y"')),
        problems.join('\n'),
      );
      // The parser alone cannot tell: the same settings pass with /usr/bin/python3 parsing only.
      assert.deepEqual(judge(c).problems, []);
    });

    it('a computed name whose effect here keeps the block: a warning, not a refusal', () => {
      const c = onDisk({}, 'for k in ("NOT_STORAGES",):\n    globals()[k] = 1\n');
      const { problems, warnings } = judge(c, venvInspector);
      assert.deepEqual(problems, []);
      assert.ok(warnings.some((w) => w.includes('showed the block')));
      assert.ok(judge(c).problems.length === 1, 'refused when only parsed');
    });

    it('an import that fails falls back to parsing, and says so', () => {
      const bare = settingsInspector({ env: { PATH: '' } }); // no arches stub on PYTHONPATH
      const c = onDisk();
      const r = bare(blockRequest(filesOf(c.map), c.project, 'STORAGES', spec('aws'), AWS, c.after));
      assert.equal(r.mode, 'ast');
      assert.ok(
        r.notes.some((n) => n.includes('failed') && n.includes('judged by parsing')),
        r.notes.join('\n'),
      );
    });

    it('the CORS inputs are read from the import', () => {
      const settings = projectFiles('7.6')
        .get(SETTINGS)!
        .replace('ALLOWED_HOSTS = []', 'ALLOWED_HOSTS = ["a.example.org"] + ["b.example.org"]');
      onDisk({ [SETTINGS]: settings });
      const files = filesOf(new Map([...projectFiles('7.6'), [SETTINGS, settings]]));
      const r = readProjectOrigins(
        venvInspector,
        files,
        { ...detectProject(root, files), root },
        spec('aws'),
      );
      // Not a literal, so parsing alone would find none; the import knows.
      assert.deepEqual(r.origins, ['https://a.example.org', 'https://b.example.org']);
    });
  });

  it('originsFromSettings takes the values as given (unit)', () => {
    const r = originsFromSettings(
      {
        mode: 'ast',
        python: { path: 'p', source: 's', version: '3' },
        findings: [],
        syntaxErrors: [],
        values: {
          ALLOWED_HOSTS: {
            file: 'f',
            line: 1,
            literal: true,
            value: ['Arches.example.org'],
            conditional: false,
          },
        },
        notes: [],
      },
      spec('azure'),
    );
    assert.deepEqual(r.origins, ['https://arches.example.org']);
  });
});

/** Every path below root but the venv. */
function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.name === '.venv') continue;
      if (e.isDirectory()) walk(p);
      out.push(path.relative(root, p));
    }
  };
  walk(root);
  return out;
}

describe('core/overlay through the inspect seam', () => {
  it('a stub inspector: its problems refuse the overlay (exit 1, "Nothing was written."), its warnings are kept', async () => {
    const { buildOverlay } = await import('../../lib/overlay.js');
    const map = projectFiles('7.6');
    const files = filesOf(map);
    const stub =
      (findings: Finding[]): SettingsInspector =>
      () => ({
        mode: 'ast',
        python: { path: 'stub', source: 'test', version: '3' },
        findings,
        syntaxErrors: [],
        values: { MEDIA_URL: { file: LOCAL, line: 9, literal: true, value: '/media/', conditional: false } },
        notes: [],
      });
    const input = {
      project: detectProject('/x', files),
      ...overlayProvider('aws'),
      answers: AWS,
      secrets: {},
      created: [],
    };
    const override: Finding = {
      file: LOCAL,
      line: 7,
      name: 'STORAGES',
      effect: 'override',
      form: 'STORAGES = ...',
      phase: 'after',
      certain: true,
      via: [`${SETTINGS}:3`],
    };
    const e = throwsUser(
      () => buildOverlay(files, { ...input, inspect: stub([override]) }),
      `${LOCAL}:7 (imported at ${SETTINGS}:3): STORAGES = ...`,
      'Nothing was written.',
    );
    assert.equal(e.exitCode, 1);
    const o = buildOverlay(files, { ...input, inspect: stub([]) });
    assert.ok(o.warnings.some((w) => w.startsWith(`${LOCAL}:9: MEDIA_URL is "/media/"`)));
  });
});
