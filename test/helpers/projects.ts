/**
 * Fixture Arches projects for tests: one per release line the generator supports, each a directory under
 * test/fixtures/projects/<id>/ holding a trimmed copy of what that line's project template
 * (`arches/install/arches-templates`) generates. Every structural element a settings/requirements editor depends
 * on is kept, and most of the body is left out. test/fixtures/projects/README.md says how the files are filled in
 * and why each line looks the way it does; notes/arches-research.md gives the sources.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type FixtureId = '6.2' | '7.3' | '7.4' | '7.5' | '7.6' | '7.6-upgraded' | '8.0' | '8.1';

export interface FixtureInfo {
  id: FixtureId;
  /** The Arches release the fixture declares by default, e.g. '7.4.4'. */
  release: string;
  djangoStyle: 'DEFAULT_FILE_STORAGE' | 'STORAGES';
  /** The file that declares the arches dependency (for '7.6-upgraded': the authoritative one). */
  depFile: 'pyproject.toml' | '<pkg>/install/requirements.txt' | null;
  /**
   * Whether the project's .gitignore lists `<pkg>/settings_local.py`. Every upstream template does, on every line
   * (see notes/arches-research.md). Pass `gitignoreSettingsLocal: false` to writeProject to get a project without it.
   */
  settingsLocalIgnored: boolean;
  /** Where package.json lives. */
  packageJson: 'package.json' | '<pkg>/package.json';
  /** The Django requirement that arches itself declares at `release`. */
  archesDjango: string;
  /**
   * Every file writeProject writes, relative to the project root, with `<pkg>` for the package directory, in the
   * order projectFiles yields them. The fixture directory holds exactly these (projectFiles refuses anything else).
   */
  files: readonly string[];
}

export interface WriteProjectOptions {
  /** Package (Django project) name; default 'demo_heritage'. */
  pkg?: string;
  /** Override the declared release, e.g. '7.4.1'. */
  release?: string;
  /** Keep the `<pkg>/settings_local.py` line in .gitignore (default: the fixture's settingsLocalIgnored). */
  gitignoreSettingsLocal?: boolean;
}

const COMMON_FILES = [
  'manage.py',
  '.gitignore',
  '<pkg>/__init__.py',
  '<pkg>/settings.py',
  '<pkg>/settings_local.py',
];

export const FIXTURES: readonly FixtureInfo[] = [
  {
    id: '6.2',
    release: '6.2.9',
    djangoStyle: 'DEFAULT_FILE_STORAGE',
    depFile: null,
    settingsLocalIgnored: true,
    packageJson: '<pkg>/package.json',
    archesDjango: '==3.2.25',
    files: [...COMMON_FILES, '<pkg>/package.json', '__init__.py'],
  },
  {
    id: '7.3',
    release: '7.3.0',
    djangoStyle: 'DEFAULT_FILE_STORAGE',
    depFile: null,
    settingsLocalIgnored: true,
    packageJson: '<pkg>/package.json',
    archesDjango: '==3.2.15',
    files: [...COMMON_FILES, '<pkg>/package.json', '__init__.py'],
  },
  {
    id: '7.4',
    release: '7.4.4',
    djangoStyle: 'DEFAULT_FILE_STORAGE',
    depFile: '<pkg>/install/requirements.txt',
    settingsLocalIgnored: true,
    packageJson: '<pkg>/package.json',
    archesDjango: '==3.2.24',
    files: [...COMMON_FILES, '<pkg>/package.json', '__init__.py', '<pkg>/install/requirements.txt'],
  },
  {
    id: '7.5',
    release: '7.5.5',
    djangoStyle: 'STORAGES',
    depFile: '<pkg>/install/requirements.txt',
    settingsLocalIgnored: true,
    packageJson: '<pkg>/package.json',
    archesDjango: '>=4.2.16,<5.0.0',
    files: [...COMMON_FILES, '<pkg>/package.json', '__init__.py', '<pkg>/install/requirements.txt'],
  },
  {
    id: '7.6',
    release: '7.6.10',
    djangoStyle: 'STORAGES',
    depFile: 'pyproject.toml',
    settingsLocalIgnored: true,
    packageJson: 'package.json',
    archesDjango: '>=4.2.21,<5.0.0',
    files: [...COMMON_FILES, 'package.json', 'pyproject.toml'],
  },
  {
    id: '7.6-upgraded',
    release: '7.6.0',
    djangoStyle: 'STORAGES',
    depFile: 'pyproject.toml',
    settingsLocalIgnored: true,
    packageJson: 'package.json',
    archesDjango: '>=4.2.16,<5.0.0',
    files: [...COMMON_FILES, 'package.json', '<pkg>/install/requirements.txt', 'pyproject.toml'],
  },
  {
    id: '8.0',
    release: '8.0.10',
    djangoStyle: 'STORAGES',
    depFile: 'pyproject.toml',
    settingsLocalIgnored: true,
    packageJson: 'package.json',
    archesDjango: '>=5.2.3,<6.0.0',
    files: [...COMMON_FILES, 'package.json', 'pyproject.toml'],
  },
  {
    id: '8.1',
    release: '8.1.5',
    djangoStyle: 'STORAGES',
    depFile: 'pyproject.toml',
    settingsLocalIgnored: true,
    packageJson: 'package.json',
    archesDjango: '>=5.2.3,<6.0.0',
    files: [...COMMON_FILES, 'package.json', 'pyproject.toml'],
  },
];

export function fixtureInfo(id: FixtureId): FixtureInfo {
  const info = FIXTURES.find((f) => f.id === id);
  if (!info) throw new Error(`unknown fixture ${id}`);
  return info;
}

/** test/fixtures/projects: one directory per fixture id. */
export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/projects/', import.meta.url));

/** The package directory's name in a fixture directory. */
const PKG_DIR = '__pkg__';
/** Fixture file names that differ from the project's (a live `.gitignore` would act on the fixture tree itself). */
const RENAMED: Readonly<Record<string, string>> = { _gitignore: '.gitignore' };

/** `7.6.10` → `7.7.0` (the template's `arches_next_minor_version`). */
function nextMinor(release: string): string {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) throw new Error(`cannot read a major.minor from release ${release}`);
  return `${m[1]}.${Number(m[2]) + 1}.0`;
}

/** Every file below dir, relative, with `/` separators. */
function walk(dir: string, sub = ''): string[] {
  return fs.readdirSync(path.join(dir, sub), { withFileTypes: true }).flatMap((e) => {
    const rel = sub ? `${sub}/${e.name}` : e.name;
    return e.isDirectory() ? walk(dir, rel) : [rel];
  });
}

/** The files of a fixture project, relative path → content (without writing them). */
export function projectFiles(id: FixtureId, options: WriteProjectOptions = {}): Map<string, string> {
  const info = fixtureInfo(id);
  const pkg = options.pkg ?? 'demo_heritage';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(pkg)) throw new Error(`not a Python package name: ${pkg}`);
  const release = options.release ?? info.release;
  const ignoreLocal = options.gitignoreSettingsLocal ?? info.settingsLocalIgnored;
  const values: Readonly<Record<string, string>> = {
    pkg,
    dist_name: pkg.replace(/_/g, '-'),
    release,
    next_minor: nextMinor(release),
  };
  const fill = (text: string, file: string): string =>
    text.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
      const value = values[name];
      if (value === undefined) throw new Error(`fixture ${id}: unknown placeholder {{${name}}} in ${file}`);
      return value;
    });

  const source = path.join(FIXTURES_DIR, id);
  const order = info.files;
  const found = walk(source).map((file) => {
    const rel = (RENAMED[file] ?? file).replace(new RegExp(`^${PKG_DIR}/`), '<pkg>/');
    if (!order.includes(rel)) throw new Error(`fixture ${id}: ${file} is not in FIXTURES' files`);
    return { file, rel };
  });
  if (found.length !== order.length) throw new Error(`fixture ${id}: expected the files ${order.join(', ')}`);
  found.sort((a, b) => order.indexOf(a.rel) - order.indexOf(b.rel));

  const files = new Map<string, string>();
  for (const { file, rel } of found) {
    let content = fill(fs.readFileSync(path.join(source, file), 'utf8'), file);
    if (rel === '.gitignore' && !ignoreLocal) {
      content = content.replace(new RegExp(`^${pkg}/settings_local\\.py\n`, 'm'), '');
    }
    files.set(rel.replace(/<pkg>/g, pkg), content);
  }
  return files;
}

/** Writes a realistic Arches project for that line into dir (which exists and is empty); returns the package name. */
export function writeProject(dir: string, id: FixtureId, options: WriteProjectOptions = {}): string {
  const pkg = options.pkg ?? 'demo_heritage';
  for (const [rel, content] of projectFiles(id, options)) {
    const target = path.join(dir, rel);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content);
  }
  return pkg;
}
