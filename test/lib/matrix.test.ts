import assert from 'node:assert/strict';
import { satisfies } from '@renovatebot/pep440';
import {
  dependencyLayout,
  djangoSpecifier,
  formatRelease,
  neededPackages,
  parseRelease,
  pythonVersions,
  settingsStyle,
  type ArchesRelease,
} from '../../lib/matrix.js';
import { UserError, type ProviderId } from '../../lib/types.js';
import { spec } from '../helpers/providers.js';

const rel = (text: string): ArchesRelease => {
  const r = parseRelease(text);
  assert.ok(r, `parseRelease(${JSON.stringify(text)}) gave undefined`);
  return r;
};

/**
 * The Django requirement arches itself declares at each release: FACTS.md's table with the corrections of
 * notes/arches-research.md (7.6 floor rises to 4.2.23, 8.x is >=5.2.3). Written out patch by patch, by hand.
 */
const DJANGO_BY_RELEASE: ReadonlyArray<readonly [string, string]> = [
  ['6.2.0', '==3.2.15'],
  ['6.2.1', '==3.2.15'],
  ['6.2.2', '==3.2.18'],
  ['6.2.3', '==3.2.18'],
  ['6.2.4', '==3.2.20'],
  ['6.2.5', '==3.2.21'],
  ['6.2.6', '==3.2.23'],
  ['6.2.7', '==3.2.24'],
  ['6.2.8', '==3.2.25'],
  ['6.2.9', '==3.2.25'],
  ['7.0.0', '==3.2.15'],
  ['7.1.0', '==3.2.15'],
  ['7.1.1', '==3.2.15'],
  ['7.1.2', '==3.2.15'],
  ['7.2.0', '==3.2.15'],
  ['7.2.1', '==3.2.15'],
  ['7.3.0', '==3.2.15'],
  ['7.4.0', '==3.2.19'],
  ['7.4.1', '==3.2.20'],
  ['7.4.2', '==3.2.21'],
  ['7.4.3', '==3.2.23'],
  ['7.4.4', '==3.2.24'],
  ['7.5.0', '==4.2.8'],
  ['7.5.1', '==4.2.10'],
  ['7.5.2', '>=4.2.11,<5.0.0'],
  ['7.5.3', '>=4.2.14,<5.0.0'],
  ['7.5.4', '>=4.2.14,<5.0.0'],
  ['7.5.5', '>=4.2.16,<5.0.0'],
  ['7.6.0', '>=4.2.16,<5.0.0'],
  ['7.6.1', '>=4.2.16,<5.0.0'],
  ['7.6.2', '>=4.2.16,<5.0.0'],
  ['7.6.3', '>=4.2.16,<5.0.0'],
  ['7.6.4', '>=4.2.17,<5.0.0'],
  ['7.6.5', '>=4.2.18,<5.0.0'],
  ['7.6.6', '>=4.2.18,<5.0.0'],
  ['7.6.7', '>=4.2.18,<5.0.0'],
  ['7.6.8', '>=4.2.20,<5.0.0'],
  ['7.6.9', '>=4.2.20,<5.0.0'],
  ['7.6.10', '>=4.2.21,<5.0.0'],
  ['7.6.11', '>=4.2.23,<5.0.0'],
  ['7.6.12', '>=4.2.23,<5.0.0'],
  ['7.6.13', '>=4.2.23,<5.0.0'],
  ['7.6.14', '>=4.2.23,<5.0.0'],
  ['7.6.20', '>=4.2.23,<5.0.0'],
  ['7.6.27', '>=4.2.23,<5.0.0'],
  ['8.0.0', '>=5.2.3,<6.0.0'],
  ['8.0.1', '>=5.2.3,<6.0.0'],
  ['8.0.3', '>=5.2.3,<6.0.0'],
  ['8.0.10', '>=5.2.3,<6.0.0'],
  ['8.0.11', '>=5.2.3,<6.0.0'],
  ['8.1.0', '>=5.2.3,<6.0.0'],
  ['8.1.3', '>=5.2.3,<6.0.0'],
  ['8.1.5', '>=5.2.3,<6.0.0'],
];

/** Django versions each line's patches accept: [versions the line range must admit, versions it must not]. */
const LINE_RANGE: ReadonlyArray<readonly [string, readonly string[], readonly string[]]> = [
  [
    '6.2.x',
    ['3.2.15', '3.2.18', '3.2.20', '3.2.21', '3.2.23', '3.2.24', '3.2.25'],
    ['3.2.14', '4.0', '4.2.16'],
  ],
  ['7.0.x', ['3.2.15'], ['3.2.14', '3.2.16', '4.2.8']],
  ['7.3.x', ['3.2.15'], ['3.2.14', '3.2.25']],
  ['7.4.x', ['3.2.19', '3.2.20', '3.2.21', '3.2.23', '3.2.24'], ['3.2.18', '4.0', '4.2.8']],
  [
    '7.5.x',
    ['4.2.8', '4.2.10', '4.2.11', '4.2.14', '4.2.16', '4.2.30'],
    ['4.2.7', '4.1.13', '5.0', '3.2.25'],
  ],
  ['7.6.x', ['4.2.16', '4.2.17', '4.2.23', '4.2.30'], ['4.2.15', '5.0', '5.2.3']],
  ['8.0.x', ['5.2.3', '5.2.9'], ['5.2.2', '5.1.9', '6.0']],
  ['8.1.x', ['5.2.3', '5.2.9'], ['5.2.2', '6.0']],
];

describe('core/matrix', () => {
  describe('djangoSpecifier: every release arches published', () => {
    for (const [release, django] of DJANGO_BY_RELEASE) {
      it(`Arches ${release} → Django${django}`, () => {
        assert.equal(djangoSpecifier(rel(release)), django);
      });
    }
  });

  describe('djangoSpecifier with an unknown patch: the whole line, and no further', () => {
    for (const [line, admit, reject] of LINE_RANGE) {
      it(`Arches ${line}`, () => {
        const r = rel(line);
        assert.equal(r.patch, undefined);
        const spec = djangoSpecifier(r);
        for (const v of admit) assert.ok(satisfies(v, spec), `${line}: ${spec} should admit Django ${v}`);
        for (const v of reject)
          assert.ok(!satisfies(v, spec), `${line}: ${spec} should not admit Django ${v}`);
      });
    }
    it('7.6.x and 8.x take the lowest floor of the line with its cap', () => {
      assert.equal(djangoSpecifier(rel('7.6.x')), '>=4.2.16,<5.0.0');
      assert.equal(djangoSpecifier(rel('8.0')), '>=5.2.3,<6.0.0');
      assert.equal(djangoSpecifier(rel('8.1.x')), '>=5.2.3,<6.0.0');
    });
    it('every patch pin of a line lies inside its line range', () => {
      for (const [release, django] of DJANGO_BY_RELEASE) {
        const r = rel(release);
        const line = djangoSpecifier({ major: r.major, minor: r.minor });
        const lowest = /^(?:==|>=)([\d.]+)/.exec(django)![1]!;
        assert.ok(satisfies(lowest, line), `${release}: Django ${lowest} is outside the line range ${line}`);
      }
    });
  });

  describe('settingsStyle and dependency layout per line', () => {
    const table: ReadonlyArray<readonly [string, string, string]> = [
      ['6.2.9', 'DEFAULT_FILE_STORAGE', 'none'],
      ['6.2.x', 'DEFAULT_FILE_STORAGE', 'none'],
      ['7.0.0', 'DEFAULT_FILE_STORAGE', 'none'],
      ['7.1.2', 'DEFAULT_FILE_STORAGE', 'none'],
      ['7.2.1', 'DEFAULT_FILE_STORAGE', 'none'],
      ['7.3.0', 'DEFAULT_FILE_STORAGE', 'none'],
      ['7.4.0', 'DEFAULT_FILE_STORAGE', 'install-requirements'],
      ['7.4.4', 'DEFAULT_FILE_STORAGE', 'install-requirements'],
      ['7.5.0', 'STORAGES', 'install-requirements'],
      ['7.5.5', 'STORAGES', 'install-requirements'],
      ['7.6.0', 'STORAGES', 'pyproject'],
      ['7.6.13', 'STORAGES', 'pyproject'],
      ['8.0.0', 'STORAGES', 'pyproject'],
      ['8.1.5', 'STORAGES', 'pyproject'],
    ];
    for (const [release, style, layout] of table) {
      it(`${release}: ${style}, dependencies in ${layout}`, () => {
        assert.equal(settingsStyle(rel(release)), style);
        assert.equal(dependencyLayout(rel(release)), layout);
      });
    }
  });

  describe('pythonVersions: the Pythons a line runs on, for marker evaluation', () => {
    // Floors: Arches' own python_requires / requires-python (classifiers where there is none: 3.7 for
    // 6.2–7.4); ceilings: the newest Python the line's Django series runs on (3.2 → 3.10, 4.2 → 3.12,
    // 5.2 → 3.14). Written out by hand.
    const table: ReadonlyArray<readonly [string, readonly string[]]> = [
      ['6.2.9', ['3.7', '3.8', '3.9', '3.10']],
      ['6.2.x', ['3.7', '3.8', '3.9', '3.10']],
      ['7.0.0', ['3.7', '3.8', '3.9', '3.10']],
      ['7.3.0', ['3.7', '3.8', '3.9', '3.10']],
      ['7.4.4', ['3.7', '3.8', '3.9', '3.10']],
      ['7.5.0', ['3.8', '3.9', '3.10', '3.11', '3.12']],
      ['7.5.x', ['3.8', '3.9', '3.10', '3.11', '3.12']],
      ['7.6.0', ['3.10', '3.11', '3.12']],
      ['7.6.27', ['3.10', '3.11', '3.12']],
      ['8.0.0', ['3.11', '3.12', '3.13', '3.14']],
      ['8.1.5', ['3.11', '3.12', '3.13', '3.14']],
    ];
    for (const [release, pythons] of table) {
      it(`Arches ${release} → Python ${pythons.join(', ')}`, () => {
        assert.deepEqual(pythonVersions(rel(release)), pythons);
      });
    }
    it('7.6 starts at requires-python >=3.10 and 8.x at >=3.11 (notes/arches-research.md)', () => {
      assert.equal(pythonVersions(rel('7.6.3'))[0], '3.10');
      assert.equal(pythonVersions(rel('8.0.1'))[0], '3.11');
    });
    it('an unsupported line is refused like everywhere else', () => {
      assert.throws(() => pythonVersions(rel('9.0.0')), UserError);
    });
  });

  describe('unsupported releases', () => {
    for (const release of [
      '6.1.0',
      '6.0',
      '5.2.1',
      '5.0',
      '4.2.0',
      '9.0.0',
      '9.0',
      '8.2.0',
      '7.7.0',
      '10.0.0',
    ]) {
      it(`${release} is refused, naming the supported range`, () => {
        for (const call of [djangoSpecifier, settingsStyle, dependencyLayout] as const) {
          let caught: unknown;
          try {
            call(rel(release));
          } catch (e) {
            caught = e;
          }
          assert.ok(caught instanceof UserError, `${call.name}(${release}) should throw a UserError`);
          assert.match(caught.message, new RegExp(`Arches ${release.replace(/\./g, '\\.')}`));
          assert.match(caught.message, /6\.2/);
          assert.match(caught.message, /8\.1/);
          assert.equal(caught.subject, 'arches-version');
        }
        assert.throws(() => neededPackages(rel(release), spec('aws').packages), UserError);
      });
    }
  });

  describe('parseRelease', () => {
    const cases: ReadonlyArray<readonly [string, ArchesRelease | undefined]> = [
      ['7.4.3', { major: 7, minor: 4, patch: 3 }],
      ['v7.4.3', { major: 7, minor: 4, patch: 3 }],
      ['V7.4.3', { major: 7, minor: 4, patch: 3 }],
      ['  7.4.3\n', { major: 7, minor: 4, patch: 3 }],
      ['7.6.0a0', { major: 7, minor: 6, patch: 0 }],
      ['8.1.0rc2', { major: 8, minor: 1, patch: 0 }],
      ['7.6.10', { major: 7, minor: 6, patch: 10 }],
      ['6.2.x', { major: 6, minor: 2 }],
      ['6.2.X', { major: 6, minor: 2 }],
      ['7.5.*', { major: 7, minor: 5 }],
      ['6.2', { major: 6, minor: 2 }],
      ['latest', undefined],
      ['', undefined],
      ['7', undefined],
      ['stable/7.4.3', undefined],
    ];
    for (const [text, expected] of cases) {
      it(`${JSON.stringify(text)} → ${expected ? JSON.stringify(expected) : 'undefined'}`, () => {
        assert.deepEqual(parseRelease(text), expected);
      });
    }
    it('formatRelease writes .x for an unknown patch', () => {
      assert.equal(formatRelease({ major: 6, minor: 2 }), '6.2.x');
      assert.equal(formatRelease({ major: 7, minor: 6, patch: 11 }), '7.6.11');
    });
    it('a pre-release is treated as its final patch', () => {
      assert.equal(djangoSpecifier(rel('7.6.0a0')), '>=4.2.16,<5.0.0');
      assert.equal(djangoSpecifier(rel('v7.4.3')), '==3.2.23');
    });
  });

  describe('neededPackages', () => {
    const clients: Record<Exclude<ProviderId, 'local'>, [extra: string, client: string]> = {
      aws: ['s3', 'boto3'],
      's3-compatible': ['s3', 'boto3'],
      gcs: ['google', 'google-cloud-storage'],
      azure: ['azure', 'azure-storage-blob'],
    };
    for (const [provider, [extra, client]] of Object.entries(clients) as Array<
      [Exclude<ProviderId, 'local'>, [string, string]]
    >) {
      it(`${provider}: Django pinned as Arches requires, django-storages[${extra}], ${client}`, () => {
        const pkgs = neededPackages(rel('7.4.2'), spec(provider).packages);
        assert.deepEqual(
          pkgs.map((p) => [p.name, p.extras]),
          [
            ['Django', []],
            ['django-storages', [extra]],
            [client, []],
          ],
        );
        const [django, storages, lib] = pkgs;
        assert.equal(django!.specifier, '==3.2.21');
        assert.equal(django!.accept, '==3.2.21');
        assert.match(django!.reason, /Arches 7\.4\.2/);
        assert.match(django!.reason, /Django==3\.2\.21/);
        assert.equal(storages!.specifier, '==1.14.6');
        // What we write must satisfy what we accept.
        assert.ok(satisfies('1.14.6', storages!.accept), storages!.accept);
        const written = /^(?:==|>=)([\d.]+)/.exec(lib!.specifier)![1]!;
        assert.ok(satisfies(written, lib!.accept), `${lib!.specifier} vs ${lib!.accept}`);
        assert.ok(lib!.reason.includes(client));
      });
    }

    it('local needs nothing, on every line', () => {
      for (const r of ['6.2.9', '6.2.x', '7.4.4', '7.5.5', '7.6.10', '8.1.5'])
        assert.deepEqual(neededPackages(rel(r), spec('local').packages), []);
    });

    it('the Django entry follows the patch and the line range', () => {
      const table: ReadonlyArray<readonly [string, string]> = [
        ['6.2.3', '==3.2.18'],
        ['7.5.2', '>=4.2.11,<5.0.0'],
        ['7.6.4', '>=4.2.17,<5.0.0'],
        ['7.6.11', '>=4.2.23,<5.0.0'],
        ['8.0.0', '>=5.2.3,<6.0.0'],
        ['8.1.5', '>=5.2.3,<6.0.0'],
        ['7.6.x', '>=4.2.16,<5.0.0'],
      ];
      for (const [r, django] of table) {
        const d = neededPackages(rel(r), spec('aws').packages)[0]!;
        assert.equal(d.name, 'Django');
        assert.equal(d.specifier, django, r);
        assert.equal(d.accept, django, r);
      }
    });

    it('django-storages: the accepted floor follows the Django series (FACTS: 1.14 first lists 4.2)', () => {
      const floor = (r: string): string => neededPackages(rel(r), spec('gcs').packages)[1]!.accept;
      // Django 3.2 lines work with 1.12.3+; Django 4.2 needs 1.14+; nothing older than 1.14 on 4.2 or 5.2.
      for (const r of ['6.2.9', '7.3.0', '7.4.4']) {
        assert.ok(satisfies('1.12.3', floor(r)), `${r}: ${floor(r)}`);
        assert.ok(!satisfies('1.12.2', floor(r)), `${r}: ${floor(r)}`);
      }
      for (const r of ['7.5.0', '7.6.10']) {
        assert.ok(satisfies('1.14.0', floor(r)), `${r}: ${floor(r)}`);
        assert.ok(!satisfies('1.13.2', floor(r)), `${r}: ${floor(r)}`);
      }
      for (const r of ['8.0.0', '8.1.5']) {
        assert.ok(satisfies('1.14.6', floor(r)), `${r}: ${floor(r)}`);
        assert.ok(!satisfies('1.13.2', floor(r)), `${r}: ${floor(r)}`);
      }
    });
  });
});
