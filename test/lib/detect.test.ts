import assert from 'node:assert/strict';
import path from 'node:path';
import { decideDependencies } from '../../lib/deps.js';
import { detectProject, OVERLAY_REQUIREMENTS } from '../../lib/detect.js';
import { neededPackages } from '../../lib/matrix.js';
import { buildOverlay } from '../../lib/overlay.js';
import { type DependencyTarget } from '../../lib/types.js';
import { FIXTURES, projectFiles, type FixtureId } from '../helpers/projects.js';
import { filesOf, throwsUser } from '../helpers/assert.js';
import { overlayProvider, spec } from '../helpers/providers.js';

const ROOT = '/srv/projects/demo';

/** What each fixture must be detected as, written out by hand. */
const EXPECTED: Record<
  FixtureId,
  { release: [number, number, number]; source: string; target: DependencyTarget }
> = {
  '6.2': {
    release: [6, 2, 9],
    source: 'demo_heritage/package.json',
    target: { kind: 'requirements', path: 'arches-storage/requirements.txt', created: true },
  },
  '7.3': {
    release: [7, 3, 0],
    source: 'demo_heritage/package.json',
    target: { kind: 'requirements', path: 'arches-storage/requirements.txt', created: true },
  },
  '7.4': {
    release: [7, 4, 4],
    source: 'demo_heritage/install/requirements.txt',
    target: { kind: 'requirements', path: 'demo_heritage/install/requirements.txt', created: false },
  },
  '7.5': {
    release: [7, 5, 5],
    source: 'demo_heritage/install/requirements.txt',
    target: { kind: 'requirements', path: 'demo_heritage/install/requirements.txt', created: false },
  },
  '7.6': {
    release: [7, 6, 10],
    source: 'pyproject.toml',
    target: { kind: 'pyproject', path: 'pyproject.toml' },
  },
  // pyproject.toml says 7.6.0; the left-over install/requirements.txt still says arches==7.5.5.
  '7.6-upgraded': {
    release: [7, 6, 0],
    source: 'pyproject.toml',
    target: { kind: 'pyproject', path: 'pyproject.toml' },
  },
  '8.0': {
    release: [8, 0, 10],
    source: 'pyproject.toml',
    target: { kind: 'pyproject', path: 'pyproject.toml' },
  },
  '8.1': {
    release: [8, 1, 5],
    source: 'pyproject.toml',
    target: { kind: 'pyproject', path: 'pyproject.toml' },
  },
};

const releaseOf = (r: {
  major: number;
  minor: number;
  patch?: number;
}): [number, number, number | undefined] => [r.major, r.minor, r.patch];

describe('core/detect', () => {
  describe('every fixture', () => {
    for (const f of FIXTURES) {
      it(`${f.id}: package, settings, release from the right file, dependency target`, () => {
        const map = projectFiles(f.id);
        const p = detectProject(ROOT, filesOf(map));
        const want = EXPECTED[f.id];
        assert.equal(p.root, path.resolve(ROOT));
        assert.equal(p.pkg, 'demo_heritage');
        assert.equal(p.settingsPath, 'demo_heritage/settings.py');
        assert.deepEqual(releaseOf(p.release), want.release);
        assert.equal(p.releaseSource, want.source);
        assert.deepEqual(p.dependencyTarget, want.target);
        // Declared requirements: the user's arches line is among them (none for 6.2/7.3).
        const arches = p.declared.filter((d) => d.name.toLowerCase() === 'arches');
        if (f.depFile === null) assert.deepEqual(p.declared, []);
        else assert.ok(arches.length >= 1, 'the arches requirement is read');
        assert.ok(p.declared.every((d) => !d.managed));
      });
    }

    it('7.6-upgraded: both dependency files are read for conflict checks', () => {
      const p = detectProject(ROOT, filesOf(projectFiles('7.6-upgraded')));
      const files = new Set(p.declared.map((d) => d.file));
      assert.deepEqual([...files].sort(), ['demo_heritage/install/requirements.txt', 'pyproject.toml']);
      const dotenv = p.declared.find((d) => d.name === 'python-dotenv');
      assert.deepEqual(
        [dotenv?.file, dotenv?.line, dotenv?.specifier],
        ['demo_heritage/install/requirements.txt', 3, '==1.0.1'],
      );
    });

    it('another package name and a patch release of the fixture', () => {
      const p = detectProject(ROOT, filesOf(projectFiles('7.4', { pkg: 'my_site', release: '7.4.1' })));
      assert.equal(p.pkg, 'my_site');
      assert.deepEqual(releaseOf(p.release), [7, 4, 1]);
      assert.equal(p.releaseSource, 'my_site/install/requirements.txt');
    });

    it('an 8.x project whose pyproject name is kebab-case still finds the package through manage.py', () => {
      const map = projectFiles('8.1', { pkg: 'my_site' });
      assert.match(map.get('pyproject.toml')!, /name = "my-site"/);
      assert.equal(detectProject(ROOT, filesOf(map)).pkg, 'my_site');
    });

    it('6.2 with the overlay requirements file already there: not created again', () => {
      const map = projectFiles('6.2');
      map.set(OVERLAY_REQUIREMENTS, 'Django==3.2.25\n');
      assert.deepEqual(detectProject(ROOT, filesOf(map)).dependencyTarget, {
        kind: 'requirements',
        path: 'arches-storage/requirements.txt',
        created: false,
      });
    });

    it('a package.json that names only the line (stable/6.2.x) gives a release without a patch', () => {
      const map = projectFiles('6.2');
      map.set(
        'demo_heritage/package.json',
        JSON.stringify({ dependencies: { arches: 'archesproject/arches#stable/6.2.x' } }),
      );
      const p = detectProject(ROOT, filesOf(map));
      assert.deepEqual(releaseOf(p.release), [6, 2, undefined]);
    });

    it('an arches requirement given as a git reference in pyproject.toml names the release', () => {
      const map = projectFiles('7.6');
      map.set(
        'pyproject.toml',
        map
          .get('pyproject.toml')!
          .replace(
            /"arches>=[^"]*"/,
            '"arches @ git+https://github.com/archesproject/arches.git@stable/7.6.4"',
          ),
      );
      map.delete('package.json');
      const p = detectProject(ROOT, filesOf(map));
      assert.deepEqual(releaseOf(p.release), [7, 6, 4]);
      assert.equal(p.releaseSource, 'pyproject.toml');
    });

    it('manage.py without a settings.py for its package falls back to the only Arches package', () => {
      const map = projectFiles('7.4');
      map.set('manage.py', map.get('manage.py')!.replace('demo_heritage.settings', 'gone.settings'));
      assert.equal(detectProject(ROOT, filesOf(map)).pkg, 'demo_heritage');
    });
  });

  describe('included requirements files', () => {
    const REQS = 'demo_heritage/install/requirements.txt';
    const with74 = (entries: Record<string, string>): Map<string, string> => {
      const map = projectFiles('7.4');
      for (const [k, v] of Object.entries(entries)) map.set(k, v);
      return map;
    };

    it('reads -r and -c files relative to the including file, and names the release from the one that says it', () => {
      const map = with74({
        [REQS]: '-r ../../requirements/base.txt\n-r https://example.org/shared.txt\n',
        'requirements/base.txt': 'arches==7.4.3\n-c pins/constraints.txt\n',
        'requirements/pins/constraints.txt': 'Django==3.2.23\n',
      });
      const p = detectProject(ROOT, filesOf(map));
      assert.deepEqual(releaseOf(p.release), [7, 4, 3]);
      assert.equal(p.releaseSource, 'requirements/base.txt');
      assert.deepEqual(p.dependencyTarget, { kind: 'requirements', path: REQS, created: false });
      assert.deepEqual(
        p.declared.map((d) => [d.file, d.name, Boolean(d.constraint), d.includedFrom]),
        [
          ['requirements/base.txt', 'arches', false, [`${REQS}:1`]],
          ['requirements/pins/constraints.txt', 'Django', true, ['requirements/base.txt:2', `${REQS}:1`]],
        ],
      );
      assert.equal(p.warnings.length, 1);
      assert.match(p.warnings[0]!, new RegExp(`^${REQS}:2: .*https://example\\.org/shared\\.txt.*URL`));
      // The constraint pins Django inside what Arches 7.4.3 needs: Django is still added, no conflict.
      const d = decideDependencies(neededPackages(p.release, spec('aws').packages), p.declared);
      assert.equal(d.find((x) => x.package.name === 'Django')?.action, 'add');
    });

    it('a constraint in an included file that excludes the Django Arches needs is refused', () => {
      const map = with74({
        [REQS]: 'arches==7.4.4\n-r ../../requirements/base.txt\n',
        'requirements/base.txt': '-c pins/constraints.txt\n',
        'requirements/pins/constraints.txt': 'Django==3.2.19\n',
      });
      const p = detectProject(ROOT, filesOf(map));
      throwsUser(
        () => decideDependencies(neededPackages(p.release, spec('aws').packages), p.declared),
        'requirements/pins/constraints.txt:1 (included from requirements/base.txt:1, included from ' +
          `${REQS}:2)`,
        'a constraint (-c file)',
        'Django==3.2.24',
      );
    });

    it('a missing include stops detection (exit 1) naming file:line', () => {
      const map = with74({ [REQS]: 'arches==7.4.4\n-r ../../requirements/base.txt\n' });
      const e = throwsUser(() => detectProject(ROOT, filesOf(map)), `${REQS}:2`, 'requirements/base.txt');
      assert.equal(e.exitCode, 1);
    });

    it('an include loop stops detection (exit 1) naming file:line', () => {
      const map = with74({
        [REQS]: 'arches==7.4.4\n-r ../../requirements/base.txt\n',
        'requirements/base.txt': '-r ../demo_heritage/install/requirements.txt\n',
      });
      const e = throwsUser(() => detectProject(ROOT, filesOf(map)), 'requirements/base.txt:1', 'again');
      assert.equal(e.exitCode, 1);
    });

    it('an include outside the project root is read and named by absolute path', () => {
      const map = with74({ [REQS]: 'arches==7.4.4\n-r ../../../shared/base.txt\n' });
      map.set('/srv/projects/shared/base.txt', 'Django==2.2.28\n');
      const p = detectProject(ROOT, filesOf(map));
      throwsUser(
        () => decideDependencies(neededPackages(p.release, spec('aws').packages), p.declared),
        `/srv/projects/shared/base.txt:1 (included from ${REQS}:2)`,
      );
    });

    it('hash-checking mode in an included file: the overlay refuses, printing the lines to add', () => {
      const map = with74({
        [REQS]: 'arches==7.4.4 --hash=sha256:00\n-r ../../requirements/locked.txt\n',
        'requirements/locked.txt': '--require-hashes\n',
      });
      const files = filesOf(map);
      const project = detectProject(ROOT, files);
      const e = throwsUser(
        () =>
          buildOverlay(files, {
            project,
            ...overlayProvider('aws'),
            answers: {
              provider: 'aws',
              bucket: 'demo-heritage-media',
              region: 'eu-west-2',
              corsOrigins: ['https://arches.example.org'],
              publicRead: false,
            },
            secrets: {},
            created: [],
          }),
        `${REQS}:1 has a --hash`,
        'pip-compile --generate-hashes',
      );
      assert.ok(
        e.message.endsWith('\n  Django==3.2.24\n  django-storages[s3]==1.14.6\n  boto3>=1.26,<2'),
        e.message,
      );
    });
  });

  describe('environment markers on every Arches line', () => {
    /** [line, how the fixture is made, its Pythons (lowest, highest)] */
    const LINES: ReadonlyArray<readonly [string, FixtureId, string | undefined, string, string]> = [
      ['6.2', '7.4', '6.2.9', '3.7', '3.10'],
      ['7.2', '7.4', '7.2.1', '3.7', '3.10'],
      ['7.4', '7.4', undefined, '3.7', '3.10'],
      ['7.5', '7.5', undefined, '3.8', '3.12'],
      ['7.6', '7.6', undefined, '3.10', '3.12'],
      ['8.0', '8.0', undefined, '3.11', '3.14'],
      ['8.1', '8.1', undefined, '3.11', '3.14'],
    ];
    /** The fixture with one more declaration, `Django==1.11.29; <marker>`, which conflicts on every line. */
    const withDjango = (fixture: FixtureId, marker: string): { map: Map<string, string>; file: string } => {
      const map = projectFiles(fixture);
      const req = `Django==1.11.29; ${marker}`;
      if (map.has('pyproject.toml')) {
        map.set(
          'pyproject.toml',
          map.get('pyproject.toml')!.replace('    "arches>=', `    ${JSON.stringify(req)},\n    "arches>=`),
        );
        return { map, file: 'pyproject.toml' };
      }
      const reqs = 'demo_heritage/install/requirements.txt';
      map.set(reqs, `${map.get(reqs)!}${req}\n`);
      return { map, file: reqs };
    };
    const decide = (map: Map<string, string>, override: string | undefined) => {
      const p = detectProject(ROOT, filesOf(map), override);
      return {
        p,
        run: () => decideDependencies(neededPackages(p.release, spec('aws').packages), p.declared),
      };
    };

    for (const [line, fixture, override, low, high] of LINES) {
      it(`Arches ${line}: false on every Python it runs on (${low}–${high}) → not a conflict, noted`, () => {
        const { p, run } = decide(withDjango(fixture, `python_version < '${low}'`).map, override);
        const django = p.declared.find((d) => d.name === 'Django')!;
        assert.match(
          django.inactive!,
          new RegExp(`false on every Python Arches ${line} runs on \\(${low}–${high}\\)`),
        );
        const decision = run().find((d) => d.package.name === 'Django')!;
        assert.equal(decision.action, 'add');
        assert.match(decision.warning!, /was not checked/);
      });

      it(`Arches ${line}: true on all of them → a conflict`, () => {
        const { map, file } = withDjango(fixture, `sys_platform == 'linux' and python_version >= '${low}'`);
        const { run } = decide(map, override);
        const e = throwsUser(run, file, 'Django==1.11.29', 'admits no version');
        assert.ok(!e.message.includes('its marker'), 'no scope for a marker true everywhere');
      });

      it(`Arches ${line}: true on some (only ${high}) → a conflict that says where it applies`, () => {
        const { map, file } = withDjango(fixture, `python_version >= '${high}'`);
        const { run } = decide(map, override);
        throwsUser(
          run,
          file,
          `its marker applies on Python ${high} of the ${low}–${high} Arches ${line} runs on`,
        );
      });

      it(`Arches ${line}: true only below the line's lowest patch release, false above → still checked`, () => {
        // python_full_version < "<low>.2": true on <low>.0 and <low>.1, false on the rest.
        const { map, file } = withDjango(fixture, `python_full_version < '${low}.2'`);
        const { run } = decide(map, override);
        throwsUser(run, file, `its marker may apply on Python ${low} of the`);
      });

      it(`Arches ${line}: a marker that cannot be evaluated → checked, with a warning`, () => {
        const { map, file } = withDjango(fixture, `python_version <> '3.8'`);
        const { p, run } = decide(map, override);
        assert.ok(
          p.warnings.some((w) => w.startsWith(`${file}:`) && w.includes('cannot evaluate the marker')),
          p.warnings.join('\n'),
        );
        throwsUser(run, file, 'could not be evaluated, so it was checked as if it applied');
      });

      it(`Arches ${line}: a marker on something not known here (platform_release) → checked`, () => {
        const { map, file } = withDjango(fixture, `platform_release >= '6'`);
        const { run } = decide(map, override);
        throwsUser(run, file, 'may apply on every Python');
      });
    }

    it('the fixture pywin32 line (sys_platform == "win32") is inactive on Linux', () => {
      const p = detectProject(ROOT, filesOf(projectFiles('7.4')));
      assert.match(p.declared.find((d) => d.name === 'pywin32')!.inactive!, /false on every Python/);
      assert.equal(p.declared.find((d) => d.name === 'python-dotenv')!.inactive, undefined);
    });
  });

  describe('--arches-version', () => {
    it('overrides what the project declares', () => {
      const p = detectProject(ROOT, filesOf(projectFiles('7.4')), '7.4.1');
      assert.deepEqual(releaseOf(p.release), [7, 4, 1]);
      assert.equal(p.releaseSource, '--arches-version');
      assert.equal(p.dependencyTarget.path, 'demo_heritage/install/requirements.txt');
    });
    it('names a patch for a project that only says the line', () => {
      const p = detectProject(ROOT, filesOf(projectFiles('6.2')), '6.2.3');
      assert.deepEqual(releaseOf(p.release), [6, 2, 3]);
    });
    it('is validated', () => {
      const e = throwsUser(
        () => detectProject(ROOT, filesOf(projectFiles('7.4')), 'latest'),
        '--arches-version',
        'latest',
      );
      assert.equal(e.subject, 'arches-version');
    });
    it('an unsupported override is refused', () => {
      throwsUser(
        () => detectProject(ROOT, filesOf(projectFiles('7.4')), '9.0.0'),
        'Arches 9.0.0',
        '6.2',
        '8.1',
      );
    });
  });

  describe('refusals', () => {
    it('not an Arches project: an empty directory', () => {
      const e = throwsUser(() => detectProject(ROOT, filesOf(new Map())), 'not an Arches project', ROOT);
      assert.equal(e.subject, 'project');
    });

    it('not an Arches project: a plain Django project (manage.py names a settings.py without arches)', () => {
      const plainDjango = new Map([
        ['manage.py', 'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_pkg.settings")\n'],
        ['site_pkg/settings.py', 'INSTALLED_APPS = ()\n'],
      ]);
      const e = throwsUser(() => detectProject(ROOT, filesOf(plainDjango)), 'not an Arches project', ROOT);
      assert.equal(e.subject, 'project');
      // Even with --arches-version, a project that is not Arches is refused.
      throwsUser(() => detectProject(ROOT, filesOf(plainDjango), '7.4.3'), 'not an Arches project');
    });

    it('two Arches packages and no manage.py', () => {
      const map = projectFiles('7.4');
      map.delete('manage.py');
      map.set('second_pkg/settings.py', map.get('demo_heritage/settings.py')!);
      throwsUser(() => detectProject(ROOT, filesOf(map)), 'demo_heritage', 'second_pkg', 'manage.py');
    });

    it('hidden directories and node_modules are not packages', () => {
      const map = projectFiles('7.4');
      map.delete('manage.py');
      map.set('node_modules/x/settings.py', 'from arches.settings import *\n');
      map.set('node_modules/settings.py', 'from arches.settings import *\n');
      map.set('.venv/settings.py', 'from arches.settings import *\n');
      assert.equal(detectProject(ROOT, filesOf(map)).pkg, 'demo_heritage');
    });

    it('a 9.0 project', () => {
      const map = projectFiles('8.1');
      map.set(
        'pyproject.toml',
        map.get('pyproject.toml')!.replace(/"arches>=[^"]*"/, '"arches>=9.0.0,<9.1.0"'),
      );
      map.set('package.json', map.get('package.json')!.replace(/stable\/8\.1\.5/g, 'stable/9.0.0'));
      const e = throwsUser(() => detectProject(ROOT, filesOf(map)), 'Arches 9.0.0', '6.2', '8.1');
      assert.equal(e.subject, 'arches-version');
    });

    it('no file names the release', () => {
      const map = projectFiles('6.2');
      map.delete('demo_heritage/package.json');
      throwsUser(() => detectProject(ROOT, filesOf(map)), '--arches-version');
    });

    it('a 7.6 project without pyproject.toml', () => {
      const map = projectFiles('7.6');
      map.delete('pyproject.toml');
      throwsUser(() => detectProject(ROOT, filesOf(map)), 'pyproject.toml');
    });
  });
});
