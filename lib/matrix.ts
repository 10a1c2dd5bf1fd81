/**
 * The compatibility matrix, as data: Arches release → the Django specifier that release itself requires →
 * the django-storages range that supports that Django → the settings style. Sources: ../shared/FACTS.md and
 * notes/arches-research.md (Arches' own setup.py / pyproject.toml per tag).
 */
import type { ProviderPackages } from './provider.js';
import type { NeededPackage, SettingsStyle } from './types.js';
import { UserError } from './types.js';

/** A parsed Arches release: the line (`7.4`) and, when the project says it, the patch (`3`). */
export interface ArchesRelease {
  major: number;
  minor: number;
  /** Undefined when the project only names the line (`stable/6.2.x`). */
  patch?: number;
}

interface LineData {
  /** `major.minor` lines this entry covers. */
  lines: readonly string[];
  /** Django requirement per patch number: `[firstPatch, specifier]`, sorted; the last entry whose patch is ≤ the project's wins. */
  django: ReadonlyArray<readonly [number, string]>;
  /** What to require when the patch is unknown: every Django the line's patches accept, and no further. */
  djangoForLine: string;
  style: SettingsStyle;
  /** Where a project of this line keeps its Python dependencies. */
  dependencies: 'pyproject' | 'install-requirements' | 'none';
  /**
   * The Python versions (`major.minor`) a project of this line can run on: from the floor Arches declares
   * (`requires-python`, `python_requires`, else its lowest classifier) up to the newest Python the line's Django
   * series supports. Environment markers are evaluated for each of them.
   */
  python: readonly string[];
}

/**
 * Django 3.2 runs on Python 3.6–3.10; Arches 6.2–7.4 list only 3.7 in their classifiers (no python_requires)
 * and test on 3.8 (setup.py, .github/workflows/main.yml, Dockerfile at every tag).
 */
const PY_DJANGO_32 = ['3.7', '3.8', '3.9', '3.10'] as const;

const LINES: readonly LineData[] = [
  {
    lines: ['6.2'],
    django: [
      [0, '==3.2.15'],
      [2, '==3.2.18'],
      [4, '==3.2.20'],
      [5, '==3.2.21'],
      [6, '==3.2.23'],
      [7, '==3.2.24'],
      [8, '==3.2.25'],
    ],
    djangoForLine: '>=3.2.15,<3.3',
    style: 'DEFAULT_FILE_STORAGE',
    dependencies: 'none',
    python: PY_DJANGO_32,
  },
  {
    lines: ['7.0', '7.1', '7.2', '7.3'],
    django: [[0, '==3.2.15']],
    djangoForLine: '==3.2.15',
    style: 'DEFAULT_FILE_STORAGE',
    dependencies: 'none',
    python: PY_DJANGO_32,
  },
  {
    lines: ['7.4'],
    django: [
      [0, '==3.2.19'],
      [1, '==3.2.20'],
      [2, '==3.2.21'],
      [3, '==3.2.23'],
      [4, '==3.2.24'],
    ],
    djangoForLine: '>=3.2.19,<3.3',
    style: 'DEFAULT_FILE_STORAGE',
    dependencies: 'install-requirements',
    python: PY_DJANGO_32,
  },
  {
    lines: ['7.5'],
    django: [
      [0, '==4.2.8'],
      [1, '==4.2.10'],
      [2, '>=4.2.11,<5.0.0'],
      [3, '>=4.2.14,<5.0.0'],
      [5, '>=4.2.16,<5.0.0'],
    ],
    djangoForLine: '>=4.2.8,<5.0.0',
    style: 'STORAGES',
    dependencies: 'install-requirements',
    // setup.py: python_requires >=3.8, classifiers 3.8–3.11; Django 4.2.8+ also runs on 3.12.
    python: ['3.8', '3.9', '3.10', '3.11', '3.12'],
  },
  {
    lines: ['7.6'],
    // The floor rises with the patches (arches' pyproject.toml per tag; notes/arches-research.md).
    django: [
      [0, '>=4.2.16,<5.0.0'],
      [4, '>=4.2.17,<5.0.0'],
      [5, '>=4.2.18,<5.0.0'],
      [8, '>=4.2.20,<5.0.0'],
      [10, '>=4.2.21,<5.0.0'],
      [11, '>=4.2.23,<5.0.0'],
    ],
    djangoForLine: '>=4.2.16,<5.0.0',
    style: 'STORAGES',
    dependencies: 'pyproject',
    // pyproject.toml: requires-python >=3.10, classifiers 3.10–3.12; Django 4.2 stops at 3.12.
    python: ['3.10', '3.11', '3.12'],
  },
  {
    lines: ['8.0', '8.1'],
    // FACTS.md said >=5.2.2; arches' pyproject.toml says >=5.2.3 from 8.0.0 on (notes/arches-research.md).
    django: [[0, '>=5.2.3,<6.0.0']],
    djangoForLine: '>=5.2.3,<6.0.0',
    style: 'STORAGES',
    dependencies: 'pyproject',
    // pyproject.toml: requires-python >=3.11, classifiers 3.11–3.13; Django 5.2.8+ also runs on 3.14.
    python: ['3.11', '3.12', '3.13', '3.14'],
  },
];

export const SUPPORTED_LINES = LINES.flatMap((l) => l.lines);

export function formatRelease(r: ArchesRelease): string {
  return r.patch === undefined ? `${r.major}.${r.minor}.x` : `${r.major}.${r.minor}.${r.patch}`;
}

/** Parses `7.4.3`, `7.6.0a0`, `6.2.x`, `6.2` (pre-release tags keep their numeric part). */
export function parseRelease(text: string): ArchesRelease | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+|x|\*))?/i.exec(text.trim());
  if (!m) return undefined;
  const patch = m[3] === undefined || !/^\d+$/.test(m[3]) ? undefined : Number(m[3]);
  return { major: Number(m[1]), minor: Number(m[2]), ...(patch === undefined ? {} : { patch }) };
}

function lineData(r: ArchesRelease): LineData {
  const key = `${r.major}.${r.minor}`;
  const data = LINES.find((l) => l.lines.includes(key));
  if (!data) {
    throw new UserError(
      `Arches ${formatRelease(r)} is not supported: this generator knows Arches ${SUPPORTED_LINES[0]} to ${SUPPORTED_LINES.at(-1)}.`,
      'arches-version',
      2,
    );
  }
  return data;
}

/** The Django specifier Arches itself requires for this release (the whole line's range if the patch is unknown). */
export function djangoSpecifier(r: ArchesRelease): string {
  const data = lineData(r);
  if (r.patch === undefined) return data.djangoForLine;
  let spec = data.django[0]![1];
  for (const [from, s] of data.django) if (r.patch >= from) spec = s;
  return spec;
}

export function settingsStyle(r: ArchesRelease): SettingsStyle {
  return lineData(r).style;
}

export function dependencyLayout(r: ArchesRelease): LineData['dependencies'] {
  return lineData(r).dependencies;
}

/** The Python versions (`3.10`, oldest first) a project of this Arches line can run on. */
export function pythonVersions(r: ArchesRelease): readonly string[] {
  return lineData(r).python;
}

/** The Django minor series a specifier targets, which decides the django-storages floor. */
function djangoSeries(r: ArchesRelease): '3.2' | '4.2' | '5.2' {
  const spec = lineData(r).djangoForLine;
  if (spec.includes('3.2')) return '3.2';
  if (spec.includes('4.2')) return '4.2';
  return '5.2';
}

/** django-storages: the version we write, and the oldest release that supports each Django series. */
export const DJANGO_STORAGES_VERSION = '1.14.6';
const DJANGO_STORAGES_FLOOR: Record<'3.2' | '4.2' | '5.2', string> = {
  // 1.12.3 was the last release for Django < 3.2 and still supports 3.2.
  '3.2': '>=1.12.3',
  // 1.14 is the first release that lists Django 4.2 and ships storages.backends.s3.S3Storage.
  '4.2': '>=1.14',
  // 1.14.6 is the newest release; Django 5.2 works with it (listed on master only).
  '5.2': '>=1.14.6',
};

/** Every package the overlay declares for this release and provider, in the order they are written. */
export function neededPackages(r: ArchesRelease, pkgs: ProviderPackages | null): NeededPackage[] {
  if (!pkgs) return [];
  const release = formatRelease(r);
  const django = djangoSpecifier(r);
  const series = djangoSeries(r);
  return [
    {
      name: 'Django',
      extras: [],
      specifier: django,
      accept: django,
      reason: `Arches ${release} requires Django${django}`,
    },
    {
      name: 'django-storages',
      extras: [pkgs.extra],
      specifier: `==${DJANGO_STORAGES_VERSION}`,
      accept: DJANGO_STORAGES_FLOOR[series],
      reason: `Django ${series} needs django-storages${DJANGO_STORAGES_FLOOR[series]}`,
    },
    {
      name: pkgs.client.name,
      extras: [],
      specifier: pkgs.client.specifier,
      accept: pkgs.client.accept,
      reason: `django-storages' ${pkgs.extra} backend needs ${pkgs.client.name}${pkgs.client.accept}`,
    },
  ];
}
