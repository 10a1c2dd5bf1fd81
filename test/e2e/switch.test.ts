/**
 * End to end with real peers: a provider run that switches a project from local files to s3-compatible on
 * s3rver takes the stored files along (`--migrate`): it creates the bucket, copies every file, switches the
 * settings, tops up, and proves the result through the project's Python (Debian's Django 3.2 +
 * django-storages 1.13 + boto3). A copy that cannot complete leaves the settings on local files; the re-run
 * completes it. A no-prompt run without --migrate copies nothing and says how; gcs is refused before anything
 * changes.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DJANGO_PYTHON, djangoRunEnv } from '../helpers/django.js';
import { freshProject, runBinAsync } from '../helpers/run.js';
import { S3RVER_KEY, startS3rver, type RunningS3 } from '../helpers/s3rver.js';

/** The bin as a child, asynchronously (s3rver answers from this very process). */
const bin = (args: string[]) => runBinAsync(args, { env: djangoRunEnv(), inherit: false });

/** A proxy in front of s3rver that fails every PUT of one key (500 InternalError, as S3 can) until healed. */
async function faultyProxy(
  target: string,
  badKey: string,
): Promise<{ endpoint: string; heal(): void; stop(): Promise<void> }> {
  let failing = true;
  const server = http.createServer((req, res) => {
    if (failing && req.method === 'PUT' && decodeURIComponent(req.url ?? '').includes(badKey)) {
      req.resume();
      res.writeHead(500, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0"?><Error><Code>InternalError</Code><Message>boom</Message></Error>');
      return;
    }
    const up = http.request(
      new URL(req.url ?? '/', target),
      { method: req.method, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    heal: () => {
      failing = false;
    },
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const FILES: Record<string, string> = {
  'uploadedfiles/nested/deeper/report.txt': 'a nested report\n',
  'uploadedfiles/ünïcødé ✓.jpg': 'not really a jpeg',
  'uploadedfiles/with space/site plan.pdf': 'x'.repeat(100_000),
  'uploadedfiles/empty.txt': '',
  'concepts/thumbnail.png': 'png',
};

describe('end to end: a provider run takes the stored files along (--migrate)', function () {
  this.timeout(180_000);
  let s3: RunningS3;
  const dirs: string[] = [];

  const project = (): string => {
    const dir = freshProject('7.4');
    dirs.push(dir);
    for (const [key, body] of Object.entries(FILES)) {
      const abs = path.join(dir, 'demo_heritage', key);
      mkdirSync(path.dirname(abs), { recursive: true });
      writeFileSync(abs, body);
    }
    return dir;
  };
  const switchArgs = (dir: string, endpoint: string, bucket: string, ...more: string[]): string[] => [
    's3-compatible',
    '--project',
    dir,
    '--service',
    'minio',
    '--endpoint',
    endpoint,
    '--bucket',
    bucket,
    '--cors-origin',
    'https://arches.example.org',
    '--access-key-id',
    S3RVER_KEY.accessKeyId,
    '--secret-access-key',
    S3RVER_KEY.secretAccessKey,
    '--skip-prompts',
    ...more,
  ];
  const keysIn = async (bucket: string): Promise<string[]> => {
    const page = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket }));
    return (page.Contents ?? []).map((o) => o.Key!).sort();
  };
  const settings = (dir: string): string => readFileSync(path.join(dir, 'demo_heritage/settings.py'), 'utf8');

  before(async () => {
    s3 = await startS3rver();
  });
  after(async () => {
    await s3.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('creates the bucket, copies every file, switches the settings, tops up, then verifies through Django', async function () {
    const dir = project();
    const r = await bin(
      switchArgs(dir, s3.endpoint, 'arches-switch', '--migrate', '--python', DJANGO_PYTHON, '--json'),
    );
    // s3rver lets anonymous reads through, so the proof at the end finds the bucket readable without a
    // signature: the changes are written, the run says so and exits 1.
    const doc = JSON.parse(r.stdout) as {
      ok: boolean;
      error: string;
      verify: { checks: Array<{ id: string; status: string }> };
    };
    assert.equal(r.status, 1, r.stderr);
    assert.match(doc.error, /The changes are written, but verify found .*http-unsigned/);
    const check = (id: string) => doc.verify.checks.find((c) => c.id === id)?.status;
    for (const id of ['settings', 'backend', 'save', 'read', 'http-signed', 'delete'])
      assert.equal(check(id), 'ok', id);
    assert.equal(check('http-unsigned'), 'failed');
    assert.deepEqual(await keysIn('arches-switch'), Object.keys(FILES).sort());
    assert.match(settings(dir), /S3Boto3Storage|storages\.backends\.s3/);
    assert.match(r.stderr, /Found 5 files .* copied before the settings switch/);
    assert.match(r.stderr, /Top-up after the switch: Migrate: .*\n {2}copied: {5}0/);
  });

  it('a copy that cannot complete leaves the settings on local files; the re-run completes it and switches', async function () {
    const dir = project();
    const before = settings(dir);
    await s3.createBucket('arches-faulty');
    const proxy = await faultyProxy(s3.endpoint, 'site plan.pdf');
    try {
      const r = await bin(
        switchArgs(dir, proxy.endpoint, 'arches-faulty', '--no-provision', '--migrate', '--no-verify'),
      );
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /1 of 5 files are not verified present .*the settings were not switched/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(settings(dir), before, 'settings.py untouched');
      assert.equal(existsSync(path.join(dir, '.yo-rc.json')), false, 'nothing recorded as switched');
      assert.equal((await keysIn('arches-faulty')).length, 4);
      proxy.heal();
      const again = await bin(
        switchArgs(
          dir,
          proxy.endpoint,
          'arches-faulty',
          '--no-provision',
          '--migrate',
          '--no-verify',
          '--json',
        ),
      );
      assert.equal(again.status, 0, again.stderr);
      const doc = JSON.parse(again.stdout) as { migration: { copy: { counts: Record<string, number> } } };
      assert.equal(doc.migration.copy.counts.copied, 1, 'only the missing file is copied');
      assert.equal(doc.migration.copy.counts.skipped, 4, 'the verified copies of the first run are skipped');
      assert.deepEqual(await keysIn('arches-faulty'), Object.keys(FILES).sort());
      assert.notEqual(settings(dir), before);
    } finally {
      await proxy.stop();
    }
  });

  it('a no-prompt run without --migrate copies nothing and says how to', async function () {
    const dir = project();
    await s3.createBucket('arches-nomigrate');
    const r = await bin(switchArgs(dir, s3.endpoint, 'arches-nomigrate', '--no-provision'));
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stderr + r.stdout,
      /files stored in local before this switch stay there.*arches-storage migrate/s,
    );
    assert.deepEqual(await keysIn('arches-nomigrate'), []);
  });

  it('gcs takes no --migrate yet: refused before anything changes (exit 2)', async function () {
    const dir = project();
    const before = settings(dir);
    const r = await bin([
      'gcs',
      '--project',
      dir,
      '--bucket',
      'arches-gcs',
      '--no-provision',
      '--skip-prompts',
      '--migrate',
    ]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /Unknown option '--migrate'/);
    assert.equal(settings(dir), before);
  });
});
