/**
 * The real releases of the packages the overlay declares, as data, and the two questions the dependency check
 * asks of PEP 440 specifiers, answered over those releases with @renovatebot/pep440's public API:
 *
 * - two specifiers intersect when some release satisfies both;
 * - a specifier lies within another when every release that satisfies the first satisfies the second.
 *
 * A list is a snapshot (each says where it comes from and how recent it is): a specifier that no listed release
 * satisfies may name a release made since, so the caller does not refuse it, it says it could not check it. For a
 * package without a list only the versions the specifiers themselves name can be tried; that can show an
 * intersection (or a release outside), never its absence.
 */
import { compare, explain, filter, RANGE_PATTERN, validRange } from '@renovatebot/pep440';

export interface ReleaseList {
  /** PEP 503-normalized distribution name. */
  name: string;
  /** Every listed release, oldest first. */
  versions: readonly string[];
  /** Where the list comes from and up to when, for messages. */
  source: string;
}

/** Versions written one after another, separated by blanks. */
function words(text: string): string[] {
  return text.trim().split(/\s+/);
}

/**
 * `major.minor:highestPatch` items, for packages whose patches run from .0 without gaps: `1.26:165` is
 * 1.26.0 … 1.26.165. `x.y` spells the .0 release `major.minor`, as Django does on PyPI.
 */
function series(text: string, zero: 'x.y' | 'x.y.0'): string[] {
  return words(text).flatMap((item) => {
    const [prefix = '', last = '0'] = item.split(':');
    return Array.from({ length: Number(last) + 1 }, (_, patch) =>
      patch === 0 && zero === 'x.y' ? prefix : `${prefix}.${patch}`,
    );
  });
}

/**
 * Django 1.11 to 6.0.x, final releases. Source: the release notes in django/django's docs/releases/ (one file per
 * release, `X.Y.txt` for the .0, which PyPI spells `X.Y`); the newest are dated October 6, 2026 (6.0.9, 5.2.18).
 * Patches run without gaps. Not listed: pre-releases (alphas, betas, release candidates: no source for them was
 * in reach) and 6.1, whose release notes were still marked "Expected" in that snapshot.
 */
const DJANGO = series(
  '1.11:29 2.0:13 2.1:15 2.2:28 3.0:14 3.1:14 3.2:25 4.0:10 4.1:13 4.2:30 5.0:14 5.1:15 5.2:18 6.0:9',
  'x.y',
);

/**
 * django-storages, every 1.x release as PyPI spells it. Source: the tags of jschneier/django-storages and its
 * CHANGELOG.rst (which also names 1.2.2, 1.2.3 and 1.5.1, released without a tag), snapshot of June 19, 2025;
 * 1.14.6 (April 1, 2025) is the newest there. No pre-releases were published.
 */
const DJANGO_STORAGES = words(`
  1.1 1.1.1 1.1.2 1.1.3 1.1.4 1.1.5 1.1.6 1.1.7 1.1.8 1.1.9 1.2 1.2.1 1.2.2 1.2.3 1.3 1.3.1 1.3.2 1.4 1.4.1
  1.5.0 1.5.1 1.5.2 1.6 1.6.1 1.6.2 1.6.3 1.6.4 1.6.5 1.6.6 1.7 1.7.1 1.7.2 1.8 1.9 1.9.1 1.10 1.10.1 1.11
  1.11.1 1.12 1.12.1 1.12.2 1.12.3 1.13 1.13.1 1.13.2 1.14 1.14.1 1.14.2 1.14.3 1.14.4 1.14.5 1.14.6
`);

/**
 * boto3 1.x, per minor the highest patch. There is no 1.30, 1.31 or 1.32: boto3 went from 1.29.7 to 1.33.0 on
 * November 27, 2023, to share botocore's minor. Source: the tags of boto/boto3, snapshot of August 21, 2026;
 * 1.43.78 is the newest there. The 0.0.x releases of 2014–2015 are not listed. No pre-releases were published.
 */
const BOTO3 = series(
  `
  1.0:1 1.1:4 1.2:6 1.3:1 1.4:8 1.5:36 1.6:23 1.7:84 1.8:9 1.9:253 1.10:50 1.11:17 1.12:49 1.13:26 1.14:63
  1.15:18 1.16:63 1.17:112 1.18:65 1.19:12 1.20:54 1.21:46 1.22:13 1.23:10 1.24:96 1.25:5 1.26:165 1.27:1
  1.28:85 1.29:7 1.33:13 1.34:162 1.35:99 1.36:26 1.37:38 1.38:46 1.39:17 1.40:76 1.41:5 1.42:97 1.43:78
  `,
  'x.y.0',
);

/**
 * google-cloud-storage, final releases from 0.21.0. Source: the release tags of googleapis/python-storage,
 * snapshot of March 31, 2026; 3.10.1 (March 23, 2026) is the newest there. The releases up to 0.20.0 (made from
 * the google-cloud-python monorepo) are not listed; nor are the tags v2.14.0rc1 and v3.0.0rc1, which were not
 * found on PyPI.
 */
const GOOGLE_CLOUD_STORAGE = words(`
  0.21.0 0.22.0 0.23.0 0.23.1 1.0.0 1.1.0 1.1.1 1.2.0 1.3.0 1.3.1 1.4.0 1.5.0 1.6.0 1.7.0 1.8.0 1.9.0 1.10.0
  1.11.0 1.12.0 1.13.0 1.13.1 1.13.2 1.14.0 1.15.0 1.16.0 1.16.1 1.17.0 1.18.0 1.19.0 1.20.0 1.21.0 1.22.0
  1.23.0 1.24.0 1.24.1 1.25.0 1.26.0 1.27.0 1.28.0 1.28.1 1.29.0 1.30.0 1.31.0 1.31.1 1.31.2 1.32.0 1.33.0
  1.34.0 1.35.0 1.35.1 1.36.0 1.36.1 1.36.2 1.37.0 1.37.1 1.38.0 1.39.0 1.40.0 1.41.0 1.41.1 1.42.0 1.42.1
  1.42.2 1.42.3 1.43.0 1.44.0 2.0.0 2.1.0 2.2.0 2.2.1 2.3.0 2.4.0 2.5.0 2.6.0 2.7.0 2.8.0 2.9.0 2.10.0 2.11.0
  2.12.0 2.13.0 2.14.0 2.15.0 2.16.0 2.17.0 2.18.0 2.18.1 2.18.2 2.19.0 3.0.0 3.1.0 3.1.1 3.2.0 3.3.0 3.3.1
  3.4.0 3.4.1 3.5.0 3.6.0 3.7.0 3.8.0 3.9.0 3.10.0 3.10.1
`);

/**
 * azure-storage-blob, final releases and the betas published between them (they matter: a project may pin one).
 * Source: the package's CHANGELOG.md in the Azure SDK for Python (sdk/storage/azure-storage-blob), as of
 * May 14, 2026: 12.29.0 is the newest final release, 12.30.0b1 (April 1, 2026) the newest beta. Before 12.0
 * only the legacy releases that changelog names are listed.
 */
const AZURE_STORAGE_BLOB = words(`
  0.37.1 1.0.0 1.1.0 1.2.0rc1 1.3.0 1.3.1 1.4.0 1.5.0 2.0.0 2.0.1
  12.0.0b1 12.0.0b2 12.0.0b3 12.0.0b4 12.0.0 12.1.0 12.2.0 12.3.0 12.3.1 12.3.2 12.4.0b1 12.4.0 12.5.0
  12.6.0b1 12.6.0 12.7.0b1 12.7.0 12.7.1 12.8.0b1 12.8.0 12.8.1 12.9.0b1 12.9.0 12.10.0b1 12.10.0b2
  12.10.0b3 12.10.0b4 12.10.0 12.11.0 12.12.0b1 12.12.0 12.13.0b1 12.13.0 12.13.1 12.14.0b1 12.14.0b2
  12.14.0 12.14.1 12.15.0b1 12.15.0 12.16.0b1 12.16.0 12.17.0b1 12.17.0 12.18.0b1 12.18.0 12.18.1 12.18.2
  12.18.3 12.19.0b1 12.19.0 12.19.1 12.20.0b1 12.20.0 12.21.0b1 12.21.0 12.22.0 12.23.0b1 12.23.0 12.23.1
  12.24.0b1 12.24.0 12.24.1 12.25.0b1 12.25.0 12.25.1 12.26.0b1 12.26.0 12.27.0b1 12.27.0 12.27.1
  12.28.0b1 12.28.0 12.29.0b1 12.29.0 12.30.0b1
`);

const LISTS: readonly ReleaseList[] = [
  {
    name: 'django',
    versions: DJANGO,
    source: "Django's release notes, up to 6.0.9 and 5.2.18 (October 6, 2026)",
  },
  {
    name: 'django-storages',
    versions: DJANGO_STORAGES,
    source: 'the django-storages tags and changelog, up to 1.14.6 (April 1, 2025)',
  },
  { name: 'boto3', versions: BOTO3, source: 'the boto3 tags, up to 1.43.78 (August 21, 2026)' },
  {
    name: 'google-cloud-storage',
    versions: GOOGLE_CLOUD_STORAGE,
    source: 'the python-storage release tags, up to 3.10.1 (March 23, 2026)',
  },
  {
    name: 'azure-storage-blob',
    versions: AZURE_STORAGE_BLOB,
    source: 'the azure-storage-blob changelog, up to 12.29.0 (May 14, 2026)',
  },
].map((l) => ({ ...l, versions: [...l.versions].sort(compare) }));

/** PEP 503 normalization: `Django_Storages` → `django-storages`. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** The listed releases of a distribution (any spelling of its name), or undefined when there is no list. */
export function releaseList(name: string): ReleaseList | undefined {
  const key = normalizeName(name);
  return LISTS.find((l) => l.name === key);
}

/** Whether `spec` is a PEP 440 specifier ('' is: it admits every final release). */
export function isSpecifier(spec: string): boolean {
  return spec.trim() === '' || validRange(spec);
}

const CLAUSE = new RegExp(`^${RANGE_PATTERN}$`, 'i');

/** The versions a specifier's clauses name (`>=1.2,!=1.3.*` → 1.2, 1.3). */
function clauseVersions(spec: string): string[] {
  return spec.split(',').flatMap((clause) => {
    const version = CLAUSE.exec(clause.trim())?.groups?.version;
    return version ? [version] : [];
  });
}

/** Whether a specifier names a pre-release: then, as packaging's SpecifierSet has it, all its clauses admit them. */
function namesPrerelease(spec: string): boolean {
  return clauseVersions(spec).some((v) => explain(v)?.is_prerelease);
}

/**
 * For a package without a list: the versions the specifiers name, and each one's next release at its last
 * segment (`>=1.2` → 1.2, 1.3): the versions likeliest to tell whether two specifiers meet.
 */
function namedVersions(...specs: string[]): string[] {
  const out = new Set<string>();
  for (const version of specs.flatMap(clauseVersions)) {
    out.add(version);
    const v = explain(version);
    if (!v) continue;
    const next = [...v.release];
    next[next.length - 1] = (next.at(-1) ?? 0) + 1;
    out.add(`${v.epoch ? `${v.epoch}!` : ''}${next.join('.')}`);
  }
  return [...out].sort(compare);
}

/**
 * A version that satisfies both specifiers among the versions they name (and the next release at each one's
 * last segment), or undefined. For a declaration no listed release satisfies: a release made since the list can
 * only meet the other specifier if such a version does, so none means the two can never meet. (Where both
 * bounds are exclusive and one unlisted release between them is the only meeting point, e.g. `>6.0.9` and
 * `<6.0.11`, this misses it and the declaration is refused: the refusal names both specifiers.)
 */
export function namedIntersection(a: string, b: string): string | undefined {
  const pre = namesPrerelease(a) || namesPrerelease(b);
  return filter(filter(namedVersions(a, b), a, { prereleases: pre }), b, { prereleases: pre }).at(-1);
}

export interface SpecifierComparison {
  /** The newest release that satisfies both specifiers, if one was found. */
  both?: string;
  /** The newest release that satisfies the first and not the second, if one was found. */
  onlyFirst?: string;
  /** Whether any release tried satisfies the first. */
  firstAdmitsAny: boolean;
  /** The list the answer rests on; undefined: none exists for the package, only the named versions were tried. */
  list?: ReleaseList;
}

/**
 * Compare two specifiers over the releases of `name`: its list, or (without one) the versions the two specifiers
 * name, with `filter` from the public API. As pip has it (packaging's SpecifierSet): a specifier admits
 * pre-releases only when it names one, and two specifiers together (a requirement and its constraint) when either
 * does; whether a release the first admits lies outside the second is a matter of range, pre-release or not. `<V`
 * never admits V's pre-releases, nor `>V` its post-releases. Throws on an invalid specifier.
 */
export function compareSpecifiers(name: string, a: string, b: string): SpecifierComparison {
  for (const spec of [a, b])
    if (!isSpecifier(spec)) throw new Error(`Invalid PEP 440 specifier: ${JSON.stringify(spec)}`);
  const list = releaseList(name);
  const tried = list ? list.versions : namedVersions(a, b);
  const preA = namesPrerelease(a);
  const pre = preA || namesPrerelease(b);
  const first = filter([...tried], a, { prereleases: preA });
  const both = filter(pre === preA ? first : filter([...tried], a, { prereleases: pre }), b, {
    prereleases: pre,
  }).at(-1);
  const inB = new Set(filter(first, b, { prereleases: true }));
  const onlyFirst = first.filter((v) => !inB.has(v)).at(-1);
  return {
    ...(both === undefined ? {} : { both }),
    ...(onlyFirst === undefined ? {} : { onlyFirst }),
    firstAdmitsAny: first.length > 0,
    ...(list ? { list } : {}),
  };
}

/**
 * Whether some release of `name` satisfies both specifiers: true or false over its list; for a package without
 * one, true when a version the specifiers name satisfies both, else undefined (cannot tell).
 */
export function specifiersIntersect(name: string, a: string, b: string): boolean | undefined {
  const c = compareSpecifiers(name, a, b);
  return c.both !== undefined ? true : c.list ? false : undefined;
}

/**
 * Whether every release of `name` that satisfies `a` satisfies `b`: true or false over its list; for a package
 * without one, false when a version the specifiers name shows otherwise, else undefined (cannot tell).
 */
export function specifierWithin(name: string, a: string, b: string): boolean | undefined {
  const c = compareSpecifiers(name, a, b);
  return c.onlyFirst !== undefined ? false : c.list ? true : undefined;
}
