/**
 * The Django check (demo/django_storage_check.py): Debian's /usr/bin/python3 (Django 3.2, django-storages 1.13,
 * boto3) uploads, reads back, lists, signs and deletes a file through a project's generated settings, with the
 * stand-in `arches` package (demo/arches-stub). Used by the end-to-end tests and the demo.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DJANGO_PYTHON = '/usr/bin/python3';
export const DJANGO_CHECK = path.join(ROOT, 'demo/django_storage_check.py');
export const ARCHES_STUB = path.join(ROOT, 'demo/arches-stub');

/**
 * The whole environment of a bin run whose Python side is Debian's Django with the stand-in `arches` package:
 * nothing inherited (no AWS_* credentials, no VIRTUAL_ENV), no prompts, no colour.
 */
export const djangoRunEnv = (): Record<string, string | undefined> => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  PYTHONPATH: ARCHES_STUB,
  PYTHONDONTWRITEBYTECODE: '1',
  NO_COLOR: '1',
  CI: 'true',
});

/** What the check observed (its last stdout line, JSON). */
export interface DjangoCheckResult {
  installed_apps_has_storages: boolean;
  media_url: string;
  style: 'STORAGES' | 'DEFAULT_FILE_STORAGE';
  /** STORAGES lines: the keys of the STORAGES dict. */
  storages_keys?: string[];
  /** DEFAULT_FILE_STORAGE lines: the setting. */
  default_file_storage?: string;
  backend: string;
  saved_as: string;
  exists: boolean;
  size: number;
  read_back_equal: boolean;
  second_name_differs: boolean;
  listdir: string[];
  url: string;
  exists_after_delete: boolean;
}

/**
 * Runs the check asynchronously (s3rver answers from the calling process, so it must not block) in a clean
 * environment: PATH, HOME and `env` only, so keys come from the project's files or from `env`, never from the
 * caller's AWS_* variables. A failed check rejects with Python's stderr in the message.
 */
export async function djangoCheck(
  dir: string,
  pkg: string,
  env: Record<string, string> = {},
): Promise<DjangoCheckResult> {
  const { stdout } = await promisify(execFile)(DJANGO_PYTHON, [DJANGO_CHECK, dir, pkg, ARCHES_STUB], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      PYTHONDONTWRITEBYTECODE: '1',
      ...env,
    },
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as DjangoCheckResult;
}
