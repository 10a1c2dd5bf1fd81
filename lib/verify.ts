/**
 * `arches-storage verify`: the proof that the overlay works as installed. With the project's own Python
 * (python/verify_storage.py), Django's default_storage saves a probe under `arches-storage-verify/`, reads it
 * back and gives its URL; from here that URL is fetched (signed: 200 with the bytes; unsigned: 403), a CORS
 * preflight is sent from each configured origin, then the probe is deleted. The installed Django,
 * django-storages and client versions are compared with the overlay's pins (lib/matrix.ts neededPackages).
 * Yeoman-free: generators/verify calls verifyStorage() and prints formatReport().
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { satisfies } from '@renovatebot/pep440';
import type { ArchesRelease } from './matrix.js';
import { djangoSpecifier, formatRelease, neededPackages, settingsStyle } from './matrix.js';
import { packagePath } from './paths.js';
import type { StorageProvider } from './provider.js';
import { pythonCandidates, type PythonCandidate } from './pysettings.js';
import { redact } from './redact.js';
import { UserError, type NeededPackage } from './types.js';

export const VERIFY_SCRIPT = packagePath('python', 'verify_storage.py');
/** Every probe is saved under this prefix, so a leftover one is recognisably ours. */
export const PROBE_PREFIX = 'arches-storage-verify/';

export type CheckStatus = 'ok' | 'failed' | 'skipped';

export interface VerifyCheck {
  /** Stable id, e.g. `save`, `http-signed`, `cors:https://arches.example.org`, `version:Django`. */
  id: string;
  status: CheckStatus;
  /** What was observed (ok/failed) or why the check does not apply (skipped). */
  detail: string;
  /** On failure: what to do. */
  fix?: string;
}

export interface VerifyReport {
  ok: boolean;
  provider: string;
  release: string;
  python: { path: string; source: string; version?: string };
  checks: VerifyCheck[];
}

export interface VerifyInput {
  root: string;
  pkg: string;
  release: ArchesRelease;
  provider: StorageProvider;
  /** The origins the bucket's CORS rules should allow (.yo-rc.json corsOrigins of the provider). */
  corsOrigins: readonly string[];
  /** The bucket is publicly readable (.yo-rc.json publicRead): an unsigned URL answers 200 by design. */
  publicRead?: boolean;
  /** The --python option. */
  python?: string;
  env?: NodeJS.ProcessEnv;
  /** Per Python run. Default 60 s (ARCHES_STORAGE_PYTHON_TIMEOUT). */
  timeoutMs?: number;
  /** Per HTTP request. Default 20 s. */
  httpTimeoutMs?: number;
}

interface PyError {
  type: string;
  message: string;
  code?: string;
  status?: number;
  at?: string;
}

interface ProbeAnswer {
  python: string;
  versions: Record<string, string | null>;
  django?: string;
  importError?: PyError;
  settingsError?: PyError;
  backend?: string;
  backendMatches?: boolean;
  backendImportError?: PyError;
  mediaRoot?: string;
  querystringAuth?: boolean | null;
  save?: { ok: boolean; name?: string; path?: string; underMediaRoot?: boolean; error?: PyError };
  read?: { ok: boolean; size?: number; error?: PyError };
  url?: { ok: boolean; url?: string; error?: PyError };
}

interface DeleteAnswer {
  delete?: { ok: boolean; existsAfter?: boolean; error?: PyError };
}

/** The project's interpreter (`--python`, $VIRTUAL_ENV, .venv, venv, ENV), or exit 2 saying to pass --python. */
export function projectPython(root: string, python?: string, env?: NodeJS.ProcessEnv): PythonCandidate {
  const found = pythonCandidates(root, { python, env }).find((c) => c.project);
  if (!found) {
    throw new UserError(
      `No project Python found (no --python, $VIRTUAL_ENV, .venv, venv or ENV in ${root}): pass --python with ` +
        `the interpreter the site runs with, e.g. --python ${root}/.venv/bin/python.`,
      'python',
      2,
    );
  }
  return found;
}

/** Runs the script once, asynchronously (a test's server may answer from this very process). */
function runScript<T>(
  python: string,
  request: object,
  timeoutMs: number,
  env: NodeJS.ProcessEnv,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [VERIFY_SCRIPT], {
      cwd: tmpdir(),
      env: { ...env, PYTHONDONTWRITEBYTECODE: '1', PYTHONIOENCODING: 'utf-8' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => undefined); // an interpreter that exits early: judged by its status below
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(
        new UserError(
          `${python} could not be run (${e.message}): pass --python with the project's interpreter.`,
          'python',
          2,
        ),
      );
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').at(-1) ?? '';
      if (status === 0) {
        try {
          resolve(JSON.parse(last) as T);
          return;
        } catch {
          // fall through
        }
      }
      const why = signal
        ? signal === 'SIGKILL'
          ? `timed out after ${timeoutMs / 1000} s`
          : `killed by ${signal}`
        : `exit ${status}${stderr.trim() ? `: ${stderr.trim().split('\n').at(-1)}` : ''}`;
      reject(new UserError(`${python} could not run the storage check (${why}).`, 'python', 2));
    });
    child.stdin.end(JSON.stringify(request));
  });
}

const errText = (e: PyError | undefined): string =>
  e ? `${e.code ? `${e.code}: ` : ''}${e.message || e.type}` : 'no answer';

/** What to do about a storage call that failed, from the service's error code. */
function storageFix(e: PyError | undefined, provider: StorageProvider): string {
  const code = e?.code ?? '';
  const keys = provider.secretEnvironment.length
    ? ` (settings_local.py or ${provider.secretEnvironment.join(' / ')})`
    : '';
  if (/SignatureDoesNotMatch|InvalidSignature|AuthenticationFailed/i.test(code))
    return `the secret key does not match the access key id: fix the secret${keys}`;
  if (/InvalidAccessKeyId|InvalidClientTokenId/i.test(code))
    return `the access key id is unknown to the service: fix it${keys}, or create a new key`;
  if (/AccessDenied|Forbidden|403/i.test(code))
    return `the key may not write the bucket: give it the app policy in arches-storage/ (or re-run the provider with provisioning)`;
  if (/NoSuchBucket|ContainerNotFound|404/i.test(code))
    return `the bucket does not exist: create it (re-run the provider without --no-provision) or fix the bucket name`;
  if (/EndpointConnectionError|ConnectionError|ConnectTimeout/i.test(e?.type ?? ''))
    return `the storage endpoint cannot be reached from here: check the endpoint in settings.py and the network`;
  if (/NoCredentials|PartialCredentials/i.test(e?.type ?? ''))
    return `no credentials reached the backend: set them${keys}`;
  return `see the error above; re-run the provider generator if the settings are not what it wrote`;
}

const withoutQuery = (url: string): string => {
  const u = new URL(url);
  u.search = '';
  u.hash = '';
  return u.toString();
};

async function http(url: string, init: RequestInit, timeoutMs: number): Promise<Response | string> {
  try {
    return await fetch(url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const e = error as Error & { cause?: { code?: string; message?: string } };
    return e.cause?.code ?? e.cause?.message ?? e.message;
  }
}

/** What the overlay needs installed; for local files (no packages) Django alone, as Arches requires it. */
function packageNeeds(release: ArchesRelease, provider: StorageProvider): NeededPackage[] {
  if (provider.packages) return neededPackages(release, provider.packages);
  const django = djangoSpecifier(release);
  const reason = `Arches ${formatRelease(release)} requires Django${django}`;
  return [{ name: 'Django', extras: [], specifier: django, accept: django, reason }];
}

/** The version checks: each needed package's installed version against what the overlay accepts. */
export function versionChecks(
  release: ArchesRelease,
  provider: StorageProvider,
  installed: Readonly<Record<string, string | null>>,
): VerifyCheck[] {
  return packageNeeds(release, provider).map((p) => {
    const id = `version:${p.name}`;
    const have = installed[p.name] ?? null;
    const want = `${p.accept}${p.specifier !== p.accept ? ` (the overlay writes ${p.specifier})` : ''}`;
    if (!have)
      return {
        id,
        status: 'failed',
        detail: `${p.name} is not installed in the project's Python; ${p.reason}`,
        fix: `install the overlay's requirements: pip install the project's requirements (the overlay declared it there)`,
      };
    if (satisfies(have, p.accept)) return { id, status: 'ok', detail: `${p.name} ${have} satisfies ${want}` };
    return {
      id,
      status: 'failed',
      detail: `${p.name} ${have} does not satisfy ${want}: ${p.reason}`,
      fix: `install ${p.name}${p.specifier} in the project's Python (pip install "${p.name}${p.specifier}")`,
    };
  });
}

/** Values that must never be printed: the provider's secret variables and the usual cloud ones, as set. */
function secretsOf(provider: StorageProvider, env: NodeJS.ProcessEnv): string[] {
  const names = new Set([
    ...provider.secretEnvironment.filter((n) => !/ACCESS_KEY_ID$/.test(n)),
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AZURE_ACCOUNT_KEY',
    'AZURE_STORAGE_KEY',
    'AZURE_STORAGE_CONNECTION_STRING',
  ]);
  return [...names].map((n) => env[n]).filter((v): v is string => typeof v === 'string');
}

/** Runs every check. Throws UserError (exit 2) only when there is no project Python or it cannot run. */
export async function verifyStorage(input: VerifyInput): Promise<VerifyReport> {
  const env = input.env ?? process.env;
  const fromEnv = Number(env.ARCHES_STORAGE_PYTHON_TIMEOUT);
  const timeoutMs = input.timeoutMs ?? (fromEnv > 0 ? fromEnv * 1000 : 60_000);
  const httpMs = input.httpTimeoutMs ?? 20_000;
  const python = projectPython(input.root, input.python, env);
  const { provider } = input;
  const local = provider.backend === null;
  const style = settingsStyle(input.release);
  const backend = provider.backend?.[style] ?? null;
  const packages = packageNeeds(input.release, provider).map((p) => p.name);
  const body = Buffer.from(`arches-storage verify probe ${randomBytes(8).toString('hex')}\n`, 'utf8');
  const name = `${PROBE_PREFIX}${randomBytes(8).toString('hex')}.txt`;
  const checks: VerifyCheck[] = [];
  const add = (c: VerifyCheck): void => void checks.push(c);
  const skip = (id: string, why: string): void => add({ id, status: 'skipped', detail: why });
  const request = { root: input.root, pkg: input.pkg, name, backend, packages };
  const answer = await runScript<ProbeAnswer>(
    python.path,
    { ...request, action: 'probe', body: body.toString('base64') },
    timeoutMs,
    env,
  );
  const report = (): VerifyReport => {
    const doc: VerifyReport = {
      ok: checks.every((c) => c.status !== 'failed'),
      provider: provider.id,
      release: formatRelease(input.release),
      python: { path: python.path, source: python.source, version: answer.python },
      checks,
    };
    return JSON.parse(redact(JSON.stringify(doc), secretsOf(provider, env))) as VerifyReport;
  };
  const later = [
    'backend',
    'save',
    'read',
    'url',
    ...(local ? [] : ['http-signed', 'http-unsigned', 'cors']),
    'delete',
  ];
  const skipRest = (from: string, why: string): void => {
    for (const id of later.slice(later.indexOf(from))) skip(id, why);
  };

  if (answer.importError || answer.settingsError) {
    const e = answer.importError ?? answer.settingsError;
    add({
      id: 'settings',
      status: 'failed',
      detail: answer.importError
        ? `Django does not import in ${python.path} (${errText(e)})`
        : `${input.pkg}.settings does not import with Django ${answer.django}${e?.at ? ` at ${e.at}` : ''} (${errText(e)})`,
      fix: answer.importError
        ? `install the project's requirements in that interpreter, or pass --python with the one the site runs with`
        : `fix the settings so that "python manage.py check" works with this interpreter`,
    });
    skipRest('backend', 'the settings did not import');
  } else {
    add({
      id: 'settings',
      status: 'ok',
      detail: `${input.pkg}.settings imports with Django ${answer.django}`,
    });
    const expected = backend ?? 'django.core.files.storage.FileSystemStorage';
    if (answer.backendMatches)
      add({ id: 'backend', status: 'ok', detail: `default_storage is ${answer.backend}` });
    else
      add({
        id: 'backend',
        status: 'failed',
        detail: `default_storage is ${answer.backend}, not ${expected}`,
        fix:
          style === 'STORAGES' && answer.django && /^[0-3]\.|^4\.[01]\./.test(answer.django)
            ? `Django ${answer.django} ignores STORAGES: install the Django this Arches line needs (see the version checks)`
            : `something after the storage block in settings.py (or settings_local.py) sets the default storage: remove it, or re-run the ${provider.id} generator`,
      });
    const save = answer.save;
    if (!save?.ok) {
      add({
        id: 'save',
        status: 'failed',
        detail: `default_storage.save("${name}") failed: ${errText(save?.error)}`,
        fix: storageFix(save?.error, provider),
      });
      skipRest('read', 'the probe could not be saved');
    } else {
      if (local && save.underMediaRoot === false)
        add({
          id: 'save',
          status: 'failed',
          detail: `saved as ${save.path}, which is not under MEDIA_ROOT ${answer.mediaRoot}`,
          fix: `set MEDIA_ROOT to the directory Arches serves files from`,
        });
      else
        add({
          id: 'save',
          status: 'ok',
          detail: `saved ${save.name}${local && save.path ? ` (${save.path}, under MEDIA_ROOT)` : ''}`,
        });
      add(
        answer.read?.ok
          ? { id: 'read', status: 'ok', detail: `read back ${answer.read.size} bytes, equal` }
          : {
              id: 'read',
              status: 'failed',
              detail: answer.read?.error
                ? `reading it back failed: ${errText(answer.read.error)}`
                : `read back ${answer.read?.size} bytes that differ from the ${body.length} saved`,
              fix: storageFix(answer.read?.error, provider),
            },
      );
      const url = answer.url?.ok ? answer.url.url : undefined;
      if (!url) {
        add({
          id: 'url',
          status: 'failed',
          detail: `default_storage.url() failed: ${errText(answer.url?.error)}`,
          fix: storageFix(answer.url?.error, provider),
        });
        if (!local) for (const id of ['http-signed', 'http-unsigned', 'cors']) skip(id, 'no URL');
      } else if (local || !/^https?:\/\//i.test(url)) {
        add({ id: 'url', status: 'ok', detail: `${url} (served by Arches under MEDIA_URL)` });
        if (!local)
          for (const id of ['http-signed', 'http-unsigned', 'cors'])
            skip(id, `not applicable: the URL ${url} is not the storage's (see the backend check)`);
      } else {
        await httpChecks(url, save.name ?? name, body, input, httpMs, add, skip, answer.querystringAuth);
      }
      const del = await runScript<DeleteAnswer>(
        python.path,
        { ...request, name: save.name ?? name, action: 'delete' },
        timeoutMs,
        env,
      ).catch((e: Error): DeleteAnswer => ({
        delete: { ok: false, error: { type: 'run', message: e.message } },
      }));
      add(
        del.delete?.ok && del.delete.existsAfter === false
          ? { id: 'delete', status: 'ok', detail: `deleted ${save.name}` }
          : {
              id: 'delete',
              status: 'failed',
              detail: del.delete?.ok
                ? `${save.name} still exists after delete`
                : `deleting ${save.name} failed: ${errText(del.delete?.error)}`,
              fix: `the key may not delete objects: give it the app policy in arches-storage/; remove ${save.name} by hand`,
            },
      );
    }
  }
  checks.push(...versionChecks(input.release, provider, answer.versions));
  return report();
}

async function httpChecks(
  url: string,
  name: string,
  body: Buffer,
  input: VerifyInput,
  httpMs: number,
  add: (c: VerifyCheck) => void,
  skip: (id: string, why: string) => void,
  querystringAuth: boolean | null | undefined,
): Promise<void> {
  const bare = withoutQuery(url);
  const signed = new URL(url).search !== '';
  add({ id: 'url', status: 'ok', detail: `${bare}${signed ? ' (signed)' : ''}` });
  const got = await http(url, {}, httpMs);
  if (typeof got === 'string') {
    add({
      id: 'http-signed',
      status: 'failed',
      detail: `GET ${bare}: ${got}`,
      fix: `the URL Django gives is not reachable from here: check the endpoint / custom domain in settings.py`,
    });
  } else {
    const bytes = Buffer.from(await got.arrayBuffer());
    const what = signed ? 'the signed URL' : 'the URL';
    if (got.status === 200 && bytes.equals(body))
      add({ id: 'http-signed', status: 'ok', detail: `GET ${what} answered 200 with the probe's bytes` });
    else
      add({
        id: 'http-signed',
        status: 'failed',
        detail:
          got.status === 200
            ? `GET ${what} answered 200 with ${bytes.length} bytes that are not the probe's`
            : `GET ${what} answered ${got.status}`,
        fix:
          got.status === 403
            ? `the URL's signature is refused: check the signature version, region and clock; the key must be allowed to read`
            : `a browser could not load files: check the endpoint / custom domain in settings.py`,
      });
  }
  if (input.publicRead)
    skip('http-unsigned', 'not applicable: the bucket is public-read, unsigned URLs answer 200 by design');
  else if (!signed || querystringAuth === false)
    skip('http-unsigned', 'not applicable: querystring_auth is off, the URL is not signed');
  else {
    const anon = await http(bare, {}, httpMs);
    if (typeof anon === 'string')
      add({
        id: 'http-unsigned',
        status: 'failed',
        detail: `GET ${bare} without the signature: ${anon}`,
        fix: 'check the network',
      });
    else {
      await anon.arrayBuffer();
      add(
        anon.status === 403
          ? {
              id: 'http-unsigned',
              status: 'ok',
              detail: 'GET without the signature answered 403: the bucket is private',
            }
          : {
              id: 'http-unsigned',
              status: 'failed',
              detail: `GET without the signature answered ${anon.status}: anyone with the link can read ${name}`,
              fix: `make the bucket private (block public access / remove the public-read policy or ACL), or pass --public-read to the provider if that is intended`,
            },
      );
    }
  }
  if (!input.corsOrigins.length) {
    skip('cors', 'not applicable: no CORS origins are configured for this provider in .yo-rc.json');
    return;
  }
  for (const origin of input.corsOrigins) {
    const id = `cors:${origin}`;
    const r = await http(
      bare,
      { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'GET' } },
      httpMs,
    );
    if (typeof r === 'string') {
      add({ id, status: 'failed', detail: `preflight from ${origin}: ${r}`, fix: 'check the network' });
      continue;
    }
    await r.arrayBuffer();
    const allow = r.headers.get('access-control-allow-origin');
    if (r.status >= 200 && r.status < 300 && (allow === origin || allow === '*'))
      add({
        id,
        status: 'ok',
        detail: `preflight from ${origin} answered ${r.status}, Access-Control-Allow-Origin: ${allow}`,
      });
    else
      add({
        id,
        status: 'failed',
        detail: `preflight from ${origin} answered ${r.status}${allow ? ` with Access-Control-Allow-Origin: ${allow}` : ' without Access-Control-Allow-Origin'}`,
        fix: `apply arches-storage/cors.json to the bucket (re-run the provider with provisioning, or set it by hand) with ${origin} among the allowed origins`,
      });
  }
}

const MARK: Record<CheckStatus, string> = { ok: 'ok', failed: 'FAILED', skipped: 'skipped' };

/** The text report: a line per check, what to do under each failure, and a closing line. */
export function formatReport(r: VerifyReport): string {
  const lines = [
    `arches-storage verify: ${r.provider}, Arches ${r.release}, Python ${r.python.version ?? '?'} (${r.python.path}, ${r.python.source})`,
  ];
  const width = Math.max(...r.checks.map((c) => c.id.length));
  for (const c of r.checks) {
    lines.push(`  ${MARK[c.status].padEnd(7)} ${c.id.padEnd(width)}  ${c.detail}`);
    if (c.status === 'failed' && c.fix) lines.push(`  ${''.padEnd(7)} ${''.padEnd(width)}  → ${c.fix}`);
  }
  const failed = r.checks.filter((c) => c.status === 'failed').length;
  const skipped = r.checks.filter((c) => c.status === 'skipped').length;
  lines.push(
    failed
      ? `${failed} of ${r.checks.length} checks FAILED${skipped ? `, ${skipped} skipped` : ''}.`
      : `All ${r.checks.length - skipped} checks passed${skipped ? ` (${skipped} skipped)` : ''}.`,
  );
  return lines.join('\n');
}
