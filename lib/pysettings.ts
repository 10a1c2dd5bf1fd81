/**
 * Judges a project's Django settings with Python itself: python/settings_inspect.py parses them with Python's
 * own `ast` (every form that can set STORAGES / DEFAULT_FILE_STORAGE / STATICFILES_STORAGE, in settings.py and
 * the modules it imports), and where the project has its own interpreter, also imports a dry copy of them and
 * reports the effective values. Synchronous (spawnSync, no shell), so that buildOverlay stays synchronous.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findBlock } from './blocks.js';
import { packagePath } from './paths.js';
import type { ArchesProject, ProjectFiles } from './detect.js';
import { settingsStyle } from './matrix.js';
import type { PyValue, StorageProvider } from './provider.js';
import { UserError, type SettingsStyle, type StorageAnswers } from './types.js';
import { normalizeCorsOrigins, validateCorsOriginFor, type CorsRules } from './validate.js';

/** The script, from lib/ or dist/lib/ alike. */
export const INSPECT_SCRIPT = packagePath('python', 'settings_inspect.py');

export type StorageName = 'STORAGES' | 'DEFAULT_FILE_STORAGE' | 'STATICFILES_STORAGE';
export type ValueName = 'MEDIA_URL' | 'PUBLIC_SERVER_ADDRESS' | 'CSRF_TRUSTED_ORIGINS' | 'ALLOWED_HOSTS';

export interface InspectRequest {
  /** Absolute project root. */
  root: string;
  pkg: string;
  style: SettingsStyle;
  /** settings.py, relative to the root. */
  settingsPath: string;
  /**
   * Contents by path relative to the root: settings.py as it would be written, and the package's other modules
   * as they are (settings_local.py, package_settings.py; null for a file that does not exist). Other project
   * modules are read from disk.
   */
  files: Record<string, string | null>;
  /** Our managed block in settings.py, 1-based inclusive lines; absent when only reading values. */
  block?: { first: number; last: number };
  /** What the block makes the default storage. */
  expect?: { BACKEND: string; OPTIONS: Record<string, PyValue> } | { DEFAULT_FILE_STORAGE: string };
}

/** One statement that sets a storage setting. */
export interface Finding {
  file: string;
  line: number;
  /** null when the name is computed at run time. */
  name: StorageName | null;
  /**
   * override: changes the default storage after the block; coexist: DEFAULT_FILE_STORAGE/STATICFILES_STORAGE
   * beside STORAGES; replaced: set before the block, which replaces it; ignored: STORAGES on a Django 3.2 line;
   * unknown: a store whose target is computed at run time (after the block).
   */
  effect: 'override' | 'coexist' | 'replaced' | 'ignored' | 'unknown';
  /** The statement's form, e.g. `STORAGES.update(...) (inside if)`. */
  form: string;
  phase: 'before' | 'after';
  /** False where the parser cannot tell what is set (computed names, exec of built code). */
  certain: boolean;
  /** The import lines through which the file was reached, e.g. `["pkg/settings.py:120"]`. */
  via: string[];
  /** The STORAGES key concerned, when one. */
  key?: string | null;
}

export interface SettingValue {
  file: string;
  line: number;
  /** False when the value is computed (not a Python literal): then `value` is null. */
  literal: boolean;
  value: unknown;
  /** Set inside an if/try/for/...: it may not be the value at run time. */
  conditional: boolean;
  via?: string[];
}

export interface SettingsInspection {
  /** `import` when the effective values come from importing a dry copy; otherwise `ast`. */
  mode: 'ast' | 'import';
  /** The interpreter that answered, and why it was chosen. */
  python: { path: string; source: string; version: string };
  findings: Finding[];
  syntaxErrors: Array<{ file: string; line: number; message: string }>;
  /** The last assignment of each value setting in the project's settings chain (ast). */
  values: Partial<Record<ValueName, SettingValue>>;
  /** Import mode: the effective values (JSON-safe copies). */
  effective?: Partial<Record<StorageName | ValueName, unknown>>;
  /** Import mode with `expect`: is the effective default storage the block's? */
  defaultIsBlock?: boolean;
  effectiveDefault?: unknown;
  /** Import mode: Django's own refusal of the settings (ImproperlyConfigured), if any. */
  djangoError?: string;
  /** What the inspector could not do (an import that failed, an interpreter that did not run). */
  notes: string[];
}

export type SettingsInspector = (request: InspectRequest) => SettingsInspection;

export interface PythonCandidate {
  path: string;
  /** Where it was found: `--python`, `$VIRTUAL_ENV`, `.venv`, `venv`, `ENV`, `/usr/bin/python3`, `PATH`. */
  source: string;
  /** The project's own interpreter (may import its settings). */
  project: boolean;
}

const isExecutable = (file: string): boolean => {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

const venvPython = (dir: string): string[] => [
  path.join(dir, 'bin', 'python'),
  path.join(dir, 'bin', 'python3'),
  path.join(dir, 'Scripts', 'python.exe'),
];

/**
 * The interpreters to try, best first: `--python`, `$VIRTUAL_ENV`, the project's `.venv`, `venv`, `ENV`, then
 * `/usr/bin/python3` and `python3` on PATH (which only parse). A `--python` that is not an executable file is
 * bad input.
 */
export function pythonCandidates(
  root: string,
  options: { python?: string; env?: NodeJS.ProcessEnv } = {},
): PythonCandidate[] {
  const env = options.env ?? process.env;
  const out: PythonCandidate[] = [];
  const add = (file: string | undefined, source: string, project: boolean): boolean => {
    if (!file || !isExecutable(file) || out.some((c) => c.path === file)) return false;
    out.push({ path: file, source, project });
    return true;
  };
  if (options.python) {
    const given = path.resolve(root, options.python);
    const inDir = statSync(given, { throwIfNoEntry: false })?.isDirectory()
      ? venvPython(given).find(isExecutable)
      : given;
    if (!add(inDir, '--python', true)) {
      throw new UserError(
        `--python ${options.python}: no executable Python there; pass the project's interpreter ` +
          `(e.g. --python ${path.join(root, '.venv/bin/python')}) or leave the option out. Nothing was written.`,
        'python',
        2,
      );
    }
  }
  if (env.VIRTUAL_ENV) venvPython(env.VIRTUAL_ENV).some((p) => add(p, '$VIRTUAL_ENV', true));
  for (const dir of ['.venv', 'venv', 'ENV']) venvPython(path.join(root, dir)).some((p) => add(p, dir, true));
  add('/usr/bin/python3', '/usr/bin/python3', false);
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean))
    if (add(path.join(dir, 'python3'), 'PATH', false)) break;
  return out;
}

interface RawAnswer {
  mode: 'ast' | 'import';
  python: string;
  findings: Finding[];
  syntaxErrors: SettingsInspection['syntaxErrors'];
  values: SettingsInspection['values'];
  effective?: SettingsInspection['effective'];
  defaultIsBlock?: boolean;
  effectiveDefault?: unknown;
  djangoError?: string;
  importError?: string;
  importErrorAt?: { file: string; line: number };
}

type RunResult = { ok: true; answer: RawAnswer } | { ok: false; why: string };

function runScript(
  python: string,
  request: InspectRequest,
  mode: 'ast' | 'import',
  timeoutMs: number,
  env: NodeJS.ProcessEnv,
): RunResult {
  const body = JSON.stringify({
    mode,
    root: request.root,
    pkg: request.pkg,
    style: request.style,
    settings: request.settingsPath,
    files: request.files,
    block: request.block ? [request.block.first, request.block.last] : null,
    expect: request.expect ?? null,
  });
  const r = spawnSync(python, [INSPECT_SCRIPT], {
    input: body,
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: 16 * 1024 * 1024,
    cwd: tmpdir(),
    env: { ...env, PYTHONDONTWRITEBYTECODE: '1', PYTHONIOENCODING: 'utf-8', PYTHONSAFEPATH: '1' },
  });
  // An interpreter that exits before reading the request gives EPIPE (Node 22+) with its exit status: judged
  // by that status and its stderr, like any other failure to run the check.
  // spawnSync's error is a system error (typed Error; an ErrnoException has only optional fields more).
  const error: NodeJS.ErrnoException | undefined = r.error;
  const epipe = error?.code === 'EPIPE' && r.status !== null;
  if (error && !epipe) {
    return {
      ok: false,
      why: error.code === 'ETIMEDOUT' ? `timed out after ${timeoutMs / 1000} s` : error.message,
    };
  }
  if (r.signal) return { ok: false, why: `killed by ${r.signal}` };
  const last = r.stdout.trim().split('\n').at(-1) ?? '';
  try {
    if (r.status === 0) return { ok: true, answer: JSON.parse(last) as RawAnswer };
  } catch {
    // fall through
  }
  const err = r.stderr.trim().split('\n').at(-1) ?? '';
  return { ok: false, why: `exit ${r.status}${err ? `: ${err}` : ''}` };
}

export interface InspectorOptions {
  /** The `--python` option. */
  python?: string;
  env?: NodeJS.ProcessEnv;
  /** Per interpreter run; the import of a dry copy gets this long. Default 30 s (ARCHES_STORAGE_PYTHON_TIMEOUT). */
  timeoutMs?: number;
}

/**
 * The real inspector: the project's interpreter imports a dry copy when there is one (falling back to parsing
 * when the import fails, and saying so); otherwise the first interpreter that runs parses. Answers are cached
 * per request, so repeated overlays cost one run.
 */
export function settingsInspector(options: InspectorOptions = {}): SettingsInspector {
  const env = options.env ?? process.env;
  const fromEnv = Number(env.ARCHES_STORAGE_PYTHON_TIMEOUT);
  const timeoutMs = options.timeoutMs ?? (fromEnv > 0 ? fromEnv * 1000 : 30_000);
  const cache = new Map<string, SettingsInspection>();
  return (request) => {
    const key = JSON.stringify(request);
    const hit = cache.get(key);
    if (hit) return hit;
    const notes: string[] = [];
    const candidates = pythonCandidates(request.root, { python: options.python, env });
    let found: { answer: RawAnswer; candidate: PythonCandidate } | undefined;
    const failed = new Set<string>();
    for (const mode of ['import', 'ast'] as const) {
      for (const c of candidates) {
        if ((mode === 'import' && !c.project) || failed.has(c.path)) continue;
        const r = runScript(c.path, request, mode, timeoutMs, env);
        if (!r.ok) {
          failed.add(c.path);
          notes.push(`${c.path} (${c.source}) could not run the settings check (${r.why})`);
          continue;
        }
        if (r.answer.importError) {
          const at = r.answer.importErrorAt
            ? ` at ${r.answer.importErrorAt.file}:${r.answer.importErrorAt.line}`
            : '';
          notes.push(
            `importing a dry copy of ${request.pkg}.settings with ${c.path} (${c.source}) failed${at} ` +
              `(${r.answer.importError}); the settings were judged by parsing them instead`,
          );
        }
        found = { answer: r.answer, candidate: c };
        break;
      }
      if (found) break;
    }
    if (!found) {
      throw new UserError(
        `No Python could read ${request.settingsPath}${notes.length ? ` (${notes.join('; ')})` : ''}: install ` +
          `python3 (3.8 or later) or pass --python with the project's interpreter. Nothing was written.`,
        'python',
        2,
      );
    }
    const { answer, candidate } = found;
    const result: SettingsInspection = {
      mode: answer.mode,
      python: { path: candidate.path, source: candidate.source, version: answer.python },
      findings: answer.findings,
      syntaxErrors: answer.syntaxErrors,
      values: answer.values,
      effective: answer.effective,
      defaultIsBlock: answer.defaultIsBlock,
      effectiveDefault: answer.effectiveDefault,
      djangoError: answer.djangoError,
      notes,
    };
    cache.set(key, result);
    return result;
  };
}

// ---------------------------------------------------------------------------------------------------------
// Judgment: what the overlay refuses and warns about
// ---------------------------------------------------------------------------------------------------------

export interface Judgment {
  /** `file:line: what, and the fix`: any one means the settings would not work. */
  problems: string[];
  warnings: string[];
}

const at = (f: { file: string; line: number }): string => `${f.file}:${f.line}`;
const viaText = (via: readonly string[]): string => (via.length ? ` (imported at ${via.join(' → ')})` : '');
const keyText = (key: string | null | undefined): string =>
  key === undefined ? '' : key === null ? '[<computed key>]' : `[${JSON.stringify(key)}]`;

/** Turns an inspection of settings.py with the block into refusals and warnings. */
export function judgeSettings(inspection: SettingsInspection, request: InspectRequest): Judgment {
  const problems: string[] = [];
  const warnings: string[] = [];
  const settings = request.settingsPath;
  for (const e of inspection.syntaxErrors) {
    problems.push(
      `${at(e)}: ${e.message} (SyntaxError): Python cannot parse this file, so Django could not load the settings ` +
        `and their effect cannot be judged; fix the syntax and run again.`,
    );
  }
  const imported = inspection.mode === 'import';
  const effectOk = imported && inspection.defaultIsBlock === true;
  for (const f of inspection.findings) {
    const where = `${at(f)}${viaText(f.via)}`;
    const inSettings = f.file === settings && f.via.length === 0;
    switch (f.effect) {
      case 'override': {
        const what = `${f.form} changes ${f.name ?? 'STORAGES'}${keyText(f.key)} after the storage block`;
        const fix = inSettings
          ? `move it above the block (the block replaces STORAGES["default"] and keeps STORAGES["staticfiles"]) or remove it`
          : `remove it from ${f.file}: it runs after the block in ${settings}` +
            (request.style === 'STORAGES'
              ? ` (to change static files only, set STORAGES["staticfiles"] there)`
              : '');
        problems.push(`${where}: ${what}, so Django would not use the block's storage; ${fix}.`);
        break;
      }
      case 'coexist': {
        const why =
          `${f.name} beside STORAGES: Django 4.2–5.0 refuses to start with both (ImproperlyConfigured) and ` +
          `Django 5.1+ ignores ${f.name}`;
        const fix =
          f.name === 'STATICFILES_STORAGE'
            ? `move its value to STORAGES = {"staticfiles": {"BACKEND": ...}} above the block (the block keeps an ` +
              `existing STORAGES["staticfiles"]) and remove this line`
            : `remove it: the block's STORAGES["default"] replaces it`;
        problems.push(`${where}: ${f.form} sets ${why}; ${fix}.`);
        break;
      }
      case 'unknown': {
        const text =
          `${where}: ${f.form} runs after the storage block and the parser cannot tell which setting it sets, ` +
          `so it may override ${request.style === 'STORAGES' ? 'STORAGES' : 'DEFAULT_FILE_STORAGE'}`;
        if (effectOk)
          warnings.push(`${text}; importing the settings here showed the block's storage in effect.`);
        else
          problems.push(
            `${text}; use a literal setting name, or pass --python with the project's interpreter so the ` +
              `generator can import the settings and check the effect.`,
          );
        break;
      }
      case 'replaced':
        warnings.push(`${where}: ${f.form} sets ${f.name}; the storage block below it replaces that value.`);
        break;
      case 'ignored':
        warnings.push(
          `${where}: ${f.form} sets STORAGES, which Django 3.2 (this Arches line) ignores; the block sets ` +
            `DEFAULT_FILE_STORAGE.`,
        );
        break;
    }
  }
  if (imported) {
    const certainProblems = inspection.findings.some(
      (f) => f.effect === 'override' || f.effect === 'unknown',
    );
    if (request.expect && inspection.defaultIsBlock === false && !certainProblems) {
      problems.push(
        `${settings}: importing ${request.pkg}.settings with ${inspection.python.path} gives the default storage ` +
          `${JSON.stringify(inspection.effectiveDefault)}, not the block's; something that runs after the block ` +
          `(and that the parser could not point at) changes it: find it in ${settings}, package_settings.py or ` +
          `settings_local.py and remove it.`,
      );
    }
    const coexistFound = inspection.findings.some((f) => f.effect === 'coexist');
    const present = inspection.effective ?? {};
    if (request.style === 'STORAGES' && !coexistFound) {
      for (const name of ['DEFAULT_FILE_STORAGE', 'STATICFILES_STORAGE'] as const) {
        if (name in present) {
          problems.push(
            `${settings}: importing ${request.pkg}.settings gives ${name} beside STORAGES (Django 4.2–5.0 refuses ` +
              `to start with both); find what sets it and remove it.`,
          );
        }
      }
    }
    if (inspection.djangoError) {
      const text = `${settings}: Django refuses these settings: ${inspection.djangoError}`;
      if (/STORAGE/.test(inspection.djangoError)) problems.push(`${text}; remove the setting it names.`);
      else warnings.push(`${text}.`);
    }
  }
  const media = mediaUrl(inspection);
  if (media) warnings.push(media);
  warnings.push(...inspection.notes);
  return { problems, warnings };
}

/** The MEDIA_URL warning, if MEDIA_URL is (or may not be) something else than "/files/". */
export function mediaUrl(inspection: SettingsInspection): string | undefined {
  const why =
    'Arches stores file URLs as MEDIA_URL + the file id and serves /files/<id> itself, redirecting to the ' +
    'storage; set MEDIA_URL = "/files/" and never point it at the bucket';
  const v = inspection.values.MEDIA_URL;
  const real = inspection.mode === 'import' ? inspection.effective?.MEDIA_URL : undefined;
  if (inspection.mode === 'import' && real !== undefined) {
    if (real === '/files/') return undefined;
    const where = v && v.value === real ? `${v.file}:${v.line}: ` : '';
    return `${where}MEDIA_URL is ${JSON.stringify(real)}, not "/files/": ${why}.`;
  }
  if (!v) return undefined;
  if (!v.literal) return `${at(v)}: MEDIA_URL is computed, so it could not be checked: ${why}.`;
  if (v.value === '/files/') return undefined;
  return `${at(v)}: MEDIA_URL is ${JSON.stringify(v.value)}, not "/files/": ${why}.`;
}

// ---------------------------------------------------------------------------------------------------------
// CORS origins from the project
// ---------------------------------------------------------------------------------------------------------

export interface ProjectOrigins {
  origins: string[];
  /** Where each origin came from, e.g. `https://arches.example.org (ALLOWED_HOSTS, pkg/settings.py:12)`. */
  used: string[];
  /** Entries that were not taken, with why. */
  skipped: string[];
}

const LOOPBACK = /^(localhost|.*\.localhost|127(\.\d+){3}|\[?::1\]?|0\.0\.0\.0)$/i;
const IP = /^(\d+(\.\d+){3}|\[?[0-9a-f:]+\]?)$/i;

const strings = (v: unknown): string[] | undefined =>
  typeof v === 'string' ? [v] : Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : undefined;

/** The canonical origin of a URL (WHATWG URL), or undefined. */
function originOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    return u.origin === 'null' ? undefined : u.origin;
  } catch {
    return undefined;
  }
}

/**
 * The site's origins as the project's settings name them: PUBLIC_SERVER_ADDRESS, CSRF_TRUSTED_ORIGINS (with a
 * scheme; Django 3.2's bare hosts are read like ALLOWED_HOSTS), then ALLOWED_HOSTS, as https. Wildcards ("*",
 * ".example.org"), loopback names and IP addresses in the host lists are not origins of a site and are skipped;
 * an explicit http://localhost:8000 in PUBLIC_SERVER_ADDRESS is taken as given. Each origin is checked as
 * `--cors-origin` would be for this provider.
 */
export function originsFromSettings(inspection: SettingsInspection, provider: CorsRules): ProjectOrigins {
  const used: string[] = [];
  const skipped: string[] = [];
  const found: string[] = [];
  const fromHost = (host: string, setting: string, where: string): void => {
    const h = host.trim();
    if (h === '*' || h.startsWith('.') || h.includes('*')) skipped.push(`${h} (${setting}: a wildcard)`);
    else if (LOOPBACK.test(h)) skipped.push(`${h} (${setting}: a local name)`);
    else if (IP.test(h)) skipped.push(`${h} (${setting}: an IP address)`);
    else take(`https://${h}`, setting, where);
  };
  const take = (url: string, setting: string, where: string): void => {
    // WHATWG URL keeps "*" in a host; a "*." subdomain wildcard is an S3 origin form (validated below).
    const origin = originOf(url);
    if (!origin) {
      skipped.push(`${url} (${setting}: not an http(s) URL)`);
      return;
    }
    const invalid = validateCorsOriginFor(provider, origin);
    if (invalid) {
      skipped.push(`${url} (${setting}: ${invalid})`);
      return;
    }
    if (found.includes(origin)) return;
    found.push(origin);
    used.push(`${origin} (${setting}, ${where})`);
  };
  const read = (name: ValueName): { list: string[]; where: string } | undefined => {
    const v = inspection.values[name];
    const real = inspection.mode === 'import' ? inspection.effective?.[name] : undefined;
    if (inspection.mode === 'import' && real !== undefined) {
      const list = strings(real);
      if (!list) return undefined;
      const where =
        v && JSON.stringify(v.value) === JSON.stringify(real) ? at(v) : `imported ${inspection.python.path}`;
      return { list, where };
    }
    if (!v) return undefined;
    if (!v.literal) {
      skipped.push(`${name} (${at(v)}: computed, not a literal)`);
      return undefined;
    }
    const list = strings(v.value);
    return list ? { list, where: at(v) } : undefined;
  };
  const address = read('PUBLIC_SERVER_ADDRESS');
  if (address) for (const url of address.list) take(url, 'PUBLIC_SERVER_ADDRESS', address.where);
  const csrf = read('CSRF_TRUSTED_ORIGINS');
  if (csrf)
    for (const entry of csrf.list) {
      if (entry.includes('://')) take(entry, 'CSRF_TRUSTED_ORIGINS', csrf.where);
      else fromHost(entry, 'CSRF_TRUSTED_ORIGINS', csrf.where);
    }
  const hosts = read('ALLOWED_HOSTS');
  if (hosts) for (const h of hosts.list) fromHost(h, 'ALLOWED_HOSTS', hosts.where);
  return { origins: normalizeCorsOrigins(found), used, skipped };
}

/** Reads the site's origins from the project's settings as they are now (no block). */
export function readProjectOrigins(
  inspect: SettingsInspector,
  files: ProjectFiles,
  project: ArchesProject,
  provider: CorsRules,
): ProjectOrigins & { notes: string[] } {
  const inspection = inspect({
    root: project.root,
    pkg: project.pkg,
    style: settingsStyle(project.release),
    settingsPath: project.settingsPath,
    files: {
      ...packageModules(files, project.pkg),
      [project.settingsPath]: files.read(project.settingsPath),
    },
  });
  const origins = originsFromSettings(inspection, provider);
  const notes = [
    ...inspection.notes,
    ...inspection.syntaxErrors.map((e) => `${at(e)}: ${e.message} (SyntaxError): no origins read from it`),
  ];
  return { ...origins, notes };
}

// ---------------------------------------------------------------------------------------------------------
// The overlay's check
// ---------------------------------------------------------------------------------------------------------

let shared: SettingsInspector | undefined;
/** One real inspector per process (its cache shared), for callers that do not pass their own. */
export function defaultSettingsInspector(): SettingsInspector {
  shared ??= settingsInspector();
  return shared;
}

/** The modules of the package that settings.py imports after the block, as they are now. */
export function packageModules(files: ProjectFiles, pkg: string): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const name of ['settings_local.py', 'package_settings.py'])
    out[`${pkg}/${name}`] = files.read(`${pkg}/${name}`);
  return out;
}

/** What the block makes the default storage, for the import check. */
export function expectedDefault(
  spec: StorageProvider,
  a: StorageAnswers,
  style: SettingsStyle,
): InspectRequest['expect'] {
  if (!spec.backend) return undefined;
  if (style === 'DEFAULT_FILE_STORAGE') return { DEFAULT_FILE_STORAGE: spec.backend.DEFAULT_FILE_STORAGE };
  return {
    BACKEND: spec.backend.STORAGES,
    OPTIONS: Object.fromEntries(spec.settings(a).map((s) => [s.option, s.value])),
  };
}

/** The request that judges settings.py as it would be written (`after`, with the block). */
export function blockRequest(
  files: ProjectFiles,
  project: ArchesProject,
  style: SettingsStyle,
  spec: StorageProvider,
  a: StorageAnswers,
  after: string,
): InspectRequest {
  const span = findBlock(project.settingsPath, after);
  const lineOf = (offset: number): number => after.slice(0, offset).split('\n').length;
  return {
    root: project.root,
    pkg: project.pkg,
    style,
    settingsPath: project.settingsPath,
    files: { ...packageModules(files, project.pkg), [project.settingsPath]: after },
    block: span ? { first: lineOf(span.start), last: lineOf(Math.max(span.start, span.end - 1)) } : undefined,
    expect: expectedDefault(spec, a, style),
  };
}

/**
 * Judges settings.py with the block: every problem (`file:line: what, and the fix`) and warning. The overlay
 * refuses when there is any problem.
 */
export function checkStorageSettings(
  inspect: SettingsInspector,
  files: ProjectFiles,
  project: ArchesProject,
  style: SettingsStyle,
  spec: StorageProvider,
  a: StorageAnswers,
  after: string,
): Judgment {
  const request = blockRequest(files, project, style, spec, a, after);
  return judgeSettings(inspect(request), request);
}
