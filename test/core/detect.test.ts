import assert from 'node:assert/strict';
import path from 'node:path';
import { detectProject, OVERLAY_REQUIREMENTS } from '../../src/core/detect.js';
import { type DependencyTarget } from '../../src/core/types.js';
import { FIXTURES, projectFiles, type FixtureId } from '../helpers/projects.js';
import { filesOf, throwsUser } from '../helpers/assert.js';

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
