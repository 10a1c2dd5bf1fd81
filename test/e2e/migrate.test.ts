/**
 * End to end with real peers: a fixture project (7.4) with files under local storage (nested, unicode,
 * spaces, 0-byte, 20 MiB), switched from `local` to s3-compatible on s3rver, migrated with the bin, then
 * every file read back through Django (Debian's Django 3.2 + django-storages 1.13 + boto3, /usr/bin/python3)
 * with the generated settings; a re-run copies nothing; a changed source file is reported (exit 1); gcs is
 * refused as "not yet".
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { UserError } from '../../lib/types.js';
import { ARCHES_STUB, DJANGO_PYTHON, djangoRunEnv } from '../helpers/django.js';
import { BIN, freshProject, NO_PROMPT, runGenerator } from '../helpers/run.js';
import { S3RVER_KEY, startS3rver, type RunningS3 } from '../helpers/s3rver.js';

const READ_BACK = `
import hashlib, json, os, sys
root, pkg, stub, keys = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
sys.path[:0] = [root, stub]
os.environ["DJANGO_SETTINGS_MODULE"] = pkg + ".settings"
from django.core.files.storage import default_storage
out = {"backend": type(default_storage._wrapped if default_storage._setup() is None else default_storage).__name__}
for k in keys:
    with default_storage.open(k, "rb") as fh:
        out[k] = hashlib.sha256(fh.read()).hexdigest()
print(json.dumps(out))
`;

function run(
  file: string,
  args: string[],
  env: Record<string, string | undefined>,
): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = (error as { code?: unknown } | null)?.code;
      resolve({ status: error ? (typeof code === 'number' ? code : 1) : 0, stdout, stderr });
    });
  });
}

describe('end to end: migrate local files to s3rver, read back through Django', function () {
  this.timeout(180_000);
  let s3: RunningS3;
  let dir: string;
  const files: Record<string, Buffer> = {
    'uploadedfiles/nested/deeper/report.txt': Buffer.from('a nested report\n'),
    'uploadedfiles/ünïcødé ✓.jpg': randomBytes(4096),
    'uploadedfiles/with space/site plan.pdf': randomBytes(150_000),
    'uploadedfiles/empty.txt': Buffer.alloc(0),
    'uploadedfiles/big/scan.tif': randomBytes(20 * 1024 * 1024),
    'concepts/thumbnail.png': randomBytes(900),
  };
  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
  const env = djangoRunEnv;
  const migrate = (...args: string[]) =>
    run(process.execPath, [BIN, 'migrate', '--project', dir, '--python', DJANGO_PYTHON, ...args], env());

  before(async () => {
    s3 = await startS3rver();
    dir = freshProject('7.4');
    for (const [key, body] of Object.entries(files)) {
      const abs = path.join(dir, 'demo_heritage', key);
      mkdirSync(path.dirname(abs), { recursive: true });
      writeFileSync(abs, body);
    }
    await s3.createBucket('arches-migrate');
    await runGenerator('local', dir, { ...NO_PROMPT });
    await runGenerator('s3-compatible', dir, {
      ...NO_PROMPT,
      service: 'minio',
      endpoint: s3.endpoint,
      bucket: 'arches-migrate',
      'cors-origin': ['https://arches.example.org'],
      'access-key-id': S3RVER_KEY.accessKeyId,
      'secret-access-key': S3RVER_KEY.secretAccessKey,
    });
  });
  after(async () => {
    await s3.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records the provider switched from as previous in .yo-rc.json', function () {
    const rc = JSON.parse(readFileSync(path.join(dir, '.yo-rc.json'), 'utf8')) as Record<
      string,
      Record<string, unknown>
    >;
    assert.equal(rc['generator-arches-storage']!.provider, 's3-compatible');
    assert.equal(rc['generator-arches-storage']!.previous, 'local');
  });

  it('dry run lists the copies and copies nothing', async function () {
    const r = await migrate('--dry-run');
    assert.equal(r.status, 0, r.stderr);
    for (const key of Object.keys(files))
      assert.match(r.stdout, new RegExp(`would copy ${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.doesNotMatch(r.stdout, /settings\.py/);
  });

  it('migrates every file, each read back through Django with the generated settings', async function () {
    const r = await migrate('--json');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const doc = JSON.parse(r.stdout) as {
      ok: boolean;
      from: string;
      to: string;
      counts: Record<string, number>;
      notes: string[];
    };
    assert.equal(doc.ok, true);
    assert.equal(doc.from, 'local');
    assert.equal(doc.to, 's3-compatible');
    assert.equal(doc.counts.copied, Object.keys(files).length);
    assert.ok(
      doc.notes.some((n) => /credentials: the app's key from demo_heritage\/settings_local\.py/.test(n)),
      doc.notes.join('\n'),
    );
    assert.ok(
      doc.notes.some((n) => /MEDIA_ROOT from the settings/.test(n)),
      doc.notes.join('\n'),
    );
    assert.match(r.stderr, /migrate: 6\/6 files/, 'progress on stderr');
    const read = await run(
      DJANGO_PYTHON,
      ['-c', READ_BACK, dir, 'demo_heritage', ARCHES_STUB, JSON.stringify(Object.keys(files))],
      { PATH: process.env.PATH, HOME: process.env.HOME, PYTHONDONTWRITEBYTECODE: '1' },
    );
    assert.equal(read.status, 0, read.stderr);
    const hashes = JSON.parse(read.stdout.trim().split('\n').at(-1)!) as Record<string, string>;
    for (const [key, body] of Object.entries(files)) assert.equal(hashes[key], sha(body), key);
  });

  it('a re-run copies nothing; a changed source file is reported as different and exits 1', async function () {
    const again = await migrate();
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /copied: {5}0/);
    assert.match(again.stdout, /skipped: {4}6/);
    const key = 'uploadedfiles/with space/site plan.pdf';
    const abs = path.join(dir, 'demo_heritage', key);
    writeFileSync(abs, randomBytes(150_000));
    const later = new Date(Date.now() + 10_000);
    utimesSync(abs, later, later);
    const changed = await migrate('--json');
    assert.equal(changed.status, 1);
    const doc = JSON.parse(changed.stdout) as { ok: boolean; different: Array<{ key: string }> };
    assert.equal(doc.ok, false);
    assert.deepEqual(
      doc.different.map((d) => d.key),
      [key],
    );
  });

  it('yo arches-storage:migrate (the Yeoman generator) does the same work as the bin', async function () {
    const key = 'uploadedfiles/added later/through yeoman.txt';
    const abs = path.join(dir, 'demo_heritage', key);
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, 'copied by the generator\n');
    // Exit 1 (the file changed in the test before is still different); the document is the error's details.
    const error = await runGenerator(
      'migrate',
      dir,
      { 'skip-prompts': true, python: DJANGO_PYTHON, json: true },
      { env: { PYTHONPATH: ARCHES_STUB, PYTHONDONTWRITEBYTECODE: '1' } },
    ).then(
      () => assert.fail('exit 1 expected'),
      (e: unknown) => e as UserError,
    );
    assert.match(error.message, /1 of 7 source files are not verified present/);
    const doc = error.details as { copies: string[]; counts: Record<string, number> };
    assert.deepEqual(doc.copies, [key]);
    assert.equal(doc.counts.skipped, 5);
    const obj = await s3.client.send(new GetObjectCommand({ Bucket: 'arches-migrate', Key: key }));
    assert.equal(await obj.Body!.transformToString(), 'copied by the generator\n');
  });

  it('refuses gcs as a source: not yet (exit 2)', async function () {
    const r = await migrate('--from', 'gcs');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /not yet/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });
});
