/**
 * Finds the Arches project: its root, package, settings.py, the Arches release it declares, and where its
 * Python dependencies live. Reads files only through the `read` function it is given.
 */
import path from 'node:path';
import {
  evaluateMarker,
  locateDeclared,
  readPyprojectDependencies,
  readRequirementsTree,
  type Declared,
} from './deps.js';
import {
  dependencyLayout,
  formatRelease,
  parseRelease,
  pythonVersions,
  type ArchesRelease,
} from './matrix.js';
import { UserError, type DependencyTarget } from './types.js';

export interface ProjectFiles {
  /** File content, or null when the path (relative to the root) does not exist. */
  read(rel: string): string | null;
  /** Names of the sub-directories of a directory relative to the root. */
  dirs(rel: string): string[];
  /** Is the file committed to git? (Then .gitignore cannot keep a secret written to it out of git.) */
  tracked?(rel: string): boolean;
  /**
   * Would git ignore the file, with some .gitignore files (paths relative to the root) holding other content?
   * Undefined when git cannot tell (not installed); then the overlay falls back to reading .gitignore itself.
   */
  ignored?(rel: string, overrides?: Readonly<Record<string, string | null>>): boolean | undefined;
}

export interface ArchesProject {
  root: string;
  pkg: string;
  settingsPath: string;
  release: ArchesRelease;
  /** Which file named the release, e.g. `pyproject.toml`. */
  releaseSource: string;
  /** Where the overlay writes its dependency lines. */
  dependencyTarget: DependencyTarget;
  /**
   * Every requirement and constraint the project declares, across its dependency files and the files they
   * include (for conflict checks); markers are evaluated for the Pythons the Arches line runs on.
   */
  declared: Declared[];
  /** What the reading could not check (URL includes, markers that cannot be evaluated): to show the user. */
  warnings: string[];
}

const ARCHES_NAME = /^arches$/i;
/** A project's settings.py starts from Arches' own settings. */
const ARCHES_SETTINGS = /from\s+arches\.settings\s+import/;

function packageFromManage(files: ProjectFiles): string | undefined {
  const manage = files.read('manage.py');
  const m = manage && /DJANGO_SETTINGS_MODULE["']\s*,\s*["']([A-Za-z_][\w]*)\.settings["']/.exec(manage);
  return m?.[1];
}

function findPackage(files: ProjectFiles, root: string): string {
  const fromManage = packageFromManage(files);
  if (fromManage && ARCHES_SETTINGS.test(files.read(`${fromManage}/settings.py`) ?? '')) return fromManage;
  const candidates = files
    .dirs('.')
    .filter((d) => !d.startsWith('.') && d !== 'node_modules')
    .filter((d) => ARCHES_SETTINGS.test(files.read(`${d}/settings.py`) ?? ''));
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length > 1) {
    throw new UserError(
      `${root} holds several Arches packages (${candidates.join(', ')}) and manage.py names none of them.`,
      'project',
      2,
    );
  }
  throw new UserError(
    `${root} is not an Arches project: no <package>/settings.py that imports arches.settings was found ` +
      `(run the generator in the project root, or pass --project DIR).`,
    'project',
    2,
  );
}

/** The lowest version a requirement on `arches` admits, e.g. `>=7.6.3,<7.7.0` → 7.6.3. */
function releaseFromSpecifier(spec: string): ArchesRelease | undefined {
  const ref = /@.*(?:stable|dev)\/(\d+\.\d+\.(?:\d+|x))/.exec(spec);
  if (ref) return parseRelease(ref[1]!);
  for (const clause of spec.split(',')) {
    const m = /^\s*(===|==|~=|>=)\s*v?([\d.]+[\w.]*)/.exec(clause);
    if (m) return parseRelease(m[2]!.replace(/\.\*$/, ''));
  }
  return undefined;
}

function releaseFromPackageJson(content: string | null): ArchesRelease | undefined {
  if (!content) return undefined;
  let json: { dependencies?: Record<string, string> };
  try {
    json = JSON.parse(content) as typeof json;
  } catch {
    return undefined;
  }
  const ref = json.dependencies?.arches;
  const m = ref && /#(?:stable|dev)\/(\d+\.\d+(?:\.(?:\d+|x))?)/.exec(ref);
  return m ? parseRelease(m[1]!) : undefined;
}

export function detectProject(root: string, files: ProjectFiles, override?: string): ArchesProject {
  const pkg = findPackage(files, root);
  const settingsPath = `${pkg}/settings.py`;
  const pyprojectText = files.read('pyproject.toml');
  const requirementsPath = `${pkg}/install/requirements.txt`;
  const requirementsText = files.read(requirementsPath);
  const fromPyproject =
    pyprojectText === null ? [] : readPyprojectDependencies('pyproject.toml', pyprojectText);
  const tree =
    requirementsText === null
      ? undefined
      : readRequirementsTree((rel) => files.read(rel), requirementsPath, {
          content: requirementsText,
          root: path.resolve(root),
        });
  const fromRequirements = tree?.declared ?? [];

  const candidates: Array<[string, ArchesRelease | undefined]> = [
    [
      'pyproject.toml',
      fromPyproject
        .filter((d) => ARCHES_NAME.test(d.name))
        .map((d) => releaseFromSpecifier(d.specifier || d.text))[0],
    ],
    ...fromRequirements
      .filter((d) => ARCHES_NAME.test(d.name) && !d.constraint)
      .map((d): [string, ArchesRelease | undefined] => [d.file, releaseFromSpecifier(d.specifier || d.text)])
      .slice(0, 1),
    ['package.json', releaseFromPackageJson(files.read('package.json'))],
    [`${pkg}/package.json`, releaseFromPackageJson(files.read(`${pkg}/package.json`))],
  ];
  let release: ArchesRelease | undefined;
  let releaseSource = '';
  if (override) {
    release = parseRelease(override);
    releaseSource = '--arches-version';
    if (!release)
      throw new UserError(
        `--arches-version "${override}" is not a release like 7.4.3 or 6.2.x.`,
        'arches-version',
        2,
      );
  } else {
    const found = candidates.find(([, r]) => r !== undefined);
    if (found) [releaseSource, release] = found;
  }
  if (!release) {
    throw new UserError(
      `Could not tell which Arches release ${root} uses: none of pyproject.toml, ${requirementsPath} or ` +
        `package.json names arches. Pass --arches-version (e.g. 7.4.3).`,
      'arches-version',
      2,
    );
  }
  // Throws a clear error for a release outside the supported lines.
  const layout = dependencyLayout(release);

  let dependencyTarget: DependencyTarget;
  if (layout === 'pyproject' && pyprojectText !== null)
    dependencyTarget = { kind: 'pyproject', path: 'pyproject.toml' };
  else if (requirementsText !== null)
    dependencyTarget = { kind: 'requirements', path: requirementsPath, created: false };
  else if (layout === 'pyproject') {
    throw new UserError(
      `Arches ${formatRelease(release)} projects keep dependencies in pyproject.toml, but ${root} has none.`,
      'project',
    );
  } else {
    const own = OVERLAY_REQUIREMENTS;
    dependencyTarget = { kind: 'requirements', path: own, created: files.read(own) === null };
  }
  return {
    root: path.resolve(root),
    pkg,
    settingsPath,
    release,
    releaseSource,
    dependencyTarget,
    ...withMarkers([...fromPyproject, ...fromRequirements], release, tree?.warnings ?? []),
  };
}

/** `3.7–3.10` for a run of Python versions. */
function pythonRange(pythons: readonly string[]): string {
  return pythons.length > 1 ? `${pythons[0]}–${pythons.at(-1)}` : (pythons[0] ?? '');
}

/**
 * Evaluate every declaration's marker for the Pythons the Arches line runs on: one that is false on all of them
 * is marked inactive (pip would skip it there); one that holds on only some keeps a scope for messages.
 */
function withMarkers(
  declared: readonly Declared[],
  release: ArchesRelease,
  warnings: readonly string[],
): { declared: Declared[]; warnings: string[] } {
  const pythons = pythonVersions(release);
  const line = `Arches ${release.major}.${release.minor}`;
  const out: string[] = [...warnings];
  const result = declared.map((d): Declared => {
    if (!d.marker) return d;
    const v = evaluateMarker(d.marker, pythons);
    if (v.error) {
      out.push(
        `${locateDeclared(d)}: cannot evaluate the marker \`${d.marker}\` (${v.error}); \`${d.name}\` was checked as if it applied.`,
      );
      return { ...d, scope: 'its marker could not be evaluated, so it was checked as if it applied' };
    }
    if (!v.on.length)
      return {
        ...d,
        inactive: `its marker \`${d.marker}\` is false on every Python ${line} runs on (${pythonRange(pythons)}), so pip skips it`,
      };
    if (v.always) return d;
    const verb = v.uncertain ? 'may apply' : 'applies';
    return {
      ...d,
      scope:
        v.on.length === pythons.length
          ? `its marker ${verb} on every Python ${line} runs on (${pythonRange(pythons)}), depending on the machine`
          : `its marker ${verb} on Python ${v.on.join(', ')} of the ${pythonRange(pythons)} ${line} runs on`,
    };
  });
  return { declared: result, warnings: out };
}

/** The folder of files the generator owns in the project (policies, CORS, notes, and for old lines requirements). */
export const OVERLAY_DIR = 'arches-storage';
/** Arches 6.2–7.3 projects have no Python dependency file: the overlay keeps its own. */
export const OVERLAY_REQUIREMENTS = `${OVERLAY_DIR}/requirements.txt`;
