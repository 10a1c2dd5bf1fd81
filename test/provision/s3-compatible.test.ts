/**
 * Provisioning an S3-compatible service against a real one (s3rver): create the bucket, apply CORS, verify
 * with the app key; re-run adopts; --dry-run calls nothing that changes anything; --destroy --delete-bucket
 * removes the bucket and takes the project back to local files.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import {
  GetBucketCorsCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { freshProject, runBinAsync, runGenerator, snapshot } from '../helpers/run.js';
import { S3RVER_KEY, startS3rver, type RunningS3 } from '../helpers/s3rver.js';

const PKG = 'demo_heritage';

describe('provisioning an S3-compatible service (s3rver)', function () {
  let s3: RunningS3;
  const dirs: string[] = [];
  before(async () => {
    s3 = await startS3rver();
  });
  after(async () => {
    await s3.stop();
    dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  });
  const options = (bucket: string): Record<string, unknown> => ({
    'skip-prompts': true,
    service: 'minio',
    endpoint: s3.endpoint,
    bucket,
    'cors-origin': ['https://arches.example.org'],
    'access-key-id': S3RVER_KEY.accessKeyId,
    'secret-access-key': S3RVER_KEY.secretAccessKey,
  });
  const buckets = async (): Promise<string[]> =>
    ((await s3.client.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name!).sort();

  it('creates the bucket with CORS, verifies it, records it, and a re-run adopts it', async function () {
    const dir = freshProject('7.6');
    dirs.push(dir);
    await runGenerator('s3-compatible', dir, options('arches-prov-one'));
    await s3.client.send(new HeadBucketCommand({ Bucket: 'arches-prov-one' }));
    const cors = await s3.client.send(new GetBucketCorsCommand({ Bucket: 'arches-prov-one' }));
    assert.deepEqual(cors.CORSRules?.[0]?.AllowedOrigins, ['https://arches.example.org']);
    assert.deepEqual(cors.CORSRules?.[0]?.AllowedMethods, ['GET', 'HEAD']);
    const rc = JSON.parse(readFileSync(path.join(dir, '.yo-rc.json'), 'utf8')) as {
      'generator-arches-storage': {
        resources: Record<
          string,
          { bucket: { name: string; created: boolean }; verifiedAfterSeconds: number }
        >;
      };
    };
    const state = rc['generator-arches-storage'].resources['s3-compatible']!;
    assert.equal(state.bucket.name, 'arches-prov-one');
    assert.equal(state.bucket.created, true);
    assert.equal(
      state.verifiedAfterSeconds,
      undefined,
      'timings are reported, not recorded (a re-run would change the file)',
    );
    assert.ok(!JSON.stringify(rc).includes(S3RVER_KEY.secretAccessKey), 'no secret in .yo-rc.json');
    const files = snapshot(dir);
    assert.match(files.get(`${PKG}/settings_local.py`)!, /AWS_SECRET_ACCESS_KEY = "S3RVER"/);
    const before = await buckets();
    await runGenerator('s3-compatible', dir, options('arches-prov-one'));
    assert.deepEqual(await buckets(), before, 'no second bucket');
    assert.deepEqual(snapshot(dir), files, 'the same run twice changes nothing');
  });

  it('--dry-run prints the plan and creates nothing', async function () {
    const dir = freshProject('7.4');
    dirs.push(dir);
    const before = await buckets();
    const r = await runBinAsync([
      's3-compatible',
      '--project',
      dir,
      ...flagsOf(options('arches-prov-dry')),
      '--dry-run',
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Plan for http:\/\/127\.0\.0\.1:\d+:/);
    assert.match(r.stdout, /s3:CreateBucket \{"Bucket":"arches-prov-dry"\}/);
    assert.match(r.stdout, /s3:PutBucketCors/);
    assert.match(r.stdout, /no call that changes anything was made/);
    assert.deepEqual(await buckets(), before);
  });

  it('--destroy --delete-bucket refuses a bucket with objects, --delete-objects (not --force) empties it; the project is back on local', async function () {
    const dir = freshProject('7.4');
    dirs.push(dir);
    const original = snapshot(dir);
    await runGenerator('s3-compatible', dir, options('arches-prov-gone'));
    await s3.client.send(
      new PutObjectCommand({ Bucket: 'arches-prov-gone', Key: 'uploadedfiles/photo.jpg', Body: 'x' }),
    );
    // yeoman-test passes Yeoman's own force: true by default: it must not delete objects.
    const refused = await runGenerator('s3-compatible', dir, {
      ...options('arches-prov-gone'),
      destroy: true,
      'delete-bucket': true,
      force: true,
    }).then(
      () => undefined,
      (e: Error) => e,
    );
    assert.match(refused?.message ?? '', /still holds objects/);
    assert.ok((await buckets()).includes('arches-prov-gone'));
    await runGenerator('s3-compatible', dir, {
      ...options('arches-prov-gone'),
      destroy: true,
      'delete-bucket': true,
      'delete-objects': true,
    });
    assert.ok(!(await buckets()).includes('arches-prov-gone'));
    const after = snapshot(dir);
    const rc = JSON.parse(after.get('.yo-rc.json')!) as {
      'generator-arches-storage': { provider: string; resources: object };
    };
    assert.equal(rc['generator-arches-storage'].provider, 'local');
    assert.deepEqual(rc['generator-arches-storage'].resources, {});
    after.delete('.yo-rc.json');
    assert.deepEqual(after, original, 'the overlay is gone');
  });
});

function flagsOf(o: Record<string, unknown>): string[] {
  return Object.entries(o).flatMap(([k, v]) =>
    Array.isArray(v)
      ? v.flatMap((x) => [`--${k}`, String(x)])
      : v === true
        ? [`--${k}`]
        : [`--${k}`, String(v)],
  );
}
