/**
 * lib/verify.ts without a storage service: the version checks against the overlay's pins, the report text,
 * the refusal without a project Python, and the `local` provider's whole run through Debian's Django
 * (FileSystemStorage, the probe saved and read back under MEDIA_ROOT, the HTTP checks not applicable).
 */
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { parseRelease } from '../../lib/matrix.js';
import { UserError } from '../../lib/types.js';
import { formatReport, projectPython, verifyStorage, versionChecks } from '../../lib/verify.js';
import { ARCHES_STUB, DJANGO_PYTHON } from '../helpers/django.js';
import { spec } from '../helpers/providers.js';
import { freshProject } from '../helpers/run.js';

const release = (v: string) => parseRelease(v)!;

describe('lib/verify', function () {
  this.timeout(60_000);
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('version checks: each needed package against what the overlay accepts (PEP 440)', function () {
    const checks = versionChecks(release('6.2.9'), spec('aws'), {
      Django: '3.2.25',
      'django-storages': '1.12.0',
      boto3: null,
    });
    assert.deepEqual(
      checks.map((c) => [c.id, c.status]),
      [
        ['version:Django', 'ok'],
        ['version:django-storages', 'failed'],
        ['version:boto3', 'failed'],
      ],
    );
    assert.match(checks[1]!.detail, /django-storages 1\.12\.0 does not satisfy >=1\.12\.3/);
    assert.match(checks[1]!.fix!, /pip install "django-storages==1\.14\.6"/);
    assert.match(checks[2]!.detail, /boto3 is not installed/);
    // A pre-release and a later patch are judged by PEP 440, not by string comparison.
    const later = versionChecks(release('7.6.10'), spec('gcs'), {
      Django: '4.2.21',
      'django-storages': '1.14.6',
      'google-cloud-storage': '2.18.0',
    });
    assert.ok(
      later.every((c) => c.status === 'ok'),
      JSON.stringify(later),
    );
    const local = versionChecks(release('7.4.4'), spec('local'), { Django: '3.2.25' });
    assert.deepEqual(
      local.map((c) => [c.id, c.status]),
      [['version:Django', 'failed']],
    );
  });

  it('the report: a line per check, the fix under each failure, a closing count', function () {
    const text = formatReport({
      ok: false,
      provider: 'aws',
      release: '7.6.10',
      python: { path: '/p/bin/python', source: '--python', version: '3.11.2' },
      checks: [
        { id: 'save', status: 'ok', detail: 'saved x' },
        {
          id: 'cors:https://a.example',
          status: 'failed',
          detail: 'preflight answered 403',
          fix: 'apply cors.json',
        },
        { id: 'http-unsigned', status: 'skipped', detail: 'not applicable: public read' },
      ],
    });
    assert.equal(
      text,
      [
        'arches-storage verify: aws, Arches 7.6.10, Python 3.11.2 (/p/bin/python, --python)',
        '  ok      save                    saved x',
        '  FAILED  cors:https://a.example  preflight answered 403',
        '                                  → apply cors.json',
        '  skipped http-unsigned           not applicable: public read',
        '1 of 3 checks FAILED, 1 skipped.',
      ].join('\n'),
    );
  });

  it('refuses with exit 2 when the project has no Python of its own', function () {
    const dir = freshProject('6.2');
    dirs.push(dir);
    assert.throws(
      () => projectPython(dir, undefined, { PATH: '/usr/bin:/bin' }),
      (e: unknown) => e instanceof UserError && e.exitCode === 2 && /pass --python/.test(e.message),
    );
    assert.equal(projectPython(dir, DJANGO_PYTHON, {}).source, '--python');
  });

  it('local: default_storage is FileSystemStorage and the probe round-trips under MEDIA_ROOT', async function () {
    const dir = freshProject('6.2');
    dirs.push(dir);
    const report = await verifyStorage({
      root: dir,
      pkg: 'demo_heritage',
      release: release('6.2.9'),
      provider: spec('local'),
      corsOrigins: [],
      python: DJANGO_PYTHON,
      env: { PATH: process.env.PATH, PYTHONPATH: ARCHES_STUB },
    });
    assert.deepEqual(
      report.checks.map((c) => [c.id, c.status]),
      [
        ['settings', 'ok'],
        ['backend', 'ok'],
        ['save', 'ok'],
        ['read', 'ok'],
        ['url', 'ok'],
        ['delete', 'ok'],
        ['version:Django', 'ok'],
      ],
      formatReport(report),
    );
    assert.equal(report.ok, true);
    const save = report.checks.find((c) => c.id === 'save')!;
    assert.match(
      save.detail,
      new RegExp(`${dir}/demo_heritage/.*arches-storage-verify/\\w+\\.txt, under MEDIA_ROOT`),
    );
    const file = /\((\/[^,]+), under MEDIA_ROOT\)/.exec(save.detail)![1]!;
    assert.equal(existsSync(file), false, 'the probe was deleted');
  });

  it('local: a project whose settings put another storage in force fails the backend check', async function () {
    const dir = freshProject('6.2');
    dirs.push(dir);
    const report = await verifyStorage({
      root: dir,
      pkg: 'demo_heritage',
      release: release('6.2.9'),
      provider: spec('aws'),
      corsOrigins: [],
      python: DJANGO_PYTHON,
      env: { PATH: process.env.PATH, PYTHONPATH: ARCHES_STUB },
    });
    const backend = report.checks.find((c) => c.id === 'backend')!;
    assert.equal(backend.status, 'failed');
    assert.match(
      backend.detail,
      /default_storage is django\.core\.files\.storage\.FileSystemStorage, not storages\.backends\.s3boto3\.S3Boto3Storage/,
    );
    assert.equal(report.checks.find((c) => c.id === 'http-signed')!.status, 'skipped');
    assert.equal(report.ok, false);
  });
});
