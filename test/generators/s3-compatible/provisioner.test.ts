/**
 * Provisioning an S3-compatible service against a real one (s3rver): create the bucket, apply CORS, verify
 * with the app key; re-run adopts; --dry-run calls nothing that changes anything; --destroy --delete-bucket
 * removes the bucket and takes the project back to local files.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  GetBucketCorsCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { CreateAccessKeyCommand, CreateUserCommand, PutUserPolicyCommand } from '@aws-sdk/client-iam';
import { awsUserPolicy } from '../../../lib/policies.js';
import { FakeAws } from '../../helpers/fake-aws.js';
import { freshProject, NO_PROMPT, runBinAsync, runGenerator, snapshot } from '../../helpers/run.js';
import { S3RVER_KEY, startS3rver, type RunningS3 } from '../../helpers/s3rver.js';

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

  it('lifecycle: a service without the API (s3rver answers 501) is a warning, not a failure; nothing is recorded', async function () {
    const dir = freshProject('7.6');
    dirs.push(dir);
    const flags = ['s3-compatible', '--project', dir, ...flagsOf(options('arches-prov-nolc'))];
    for (const what of ['the run', 'the re-run']) {
      const r = await runBinAsync(flags);
      assert.equal(r.status, 0, `${what}: ${r.stderr}`);
      assert.match(r.stderr, /does not support bucket lifecycle rules \(NotImplemented\)/, what);
    }
    const rc = JSON.parse(readFileSync(path.join(dir, '.yo-rc.json'), 'utf8')) as {
      'generator-arches-storage': { resources: Record<string, { bucket: Record<string, unknown> }> };
    };
    const bucket = rc['generator-arches-storage'].resources['s3-compatible']!.bucket;
    assert.equal(bucket.lifecycle, undefined);
    assert.equal(bucket.lifecycleRuleIds, undefined);
    assert.ok(readFileSync(path.join(dir, 'arches-storage/lifecycle.json'), 'utf8').includes('archestemp/'));
  });

  it('lifecycle on a service that has it (the AWS-like fake): the owner’s rules kept, ours added once, teardown restores theirs', async function () {
    const fake = new FakeAws({ s3rverEndpoint: s3.endpoint });
    try {
      const dir = freshProject('7.6');
      dirs.push(dir);
      const bucket = 'arches-prov-lc';
      const theirs = [
        {
          ID: 'owner-logs',
          Status: 'Enabled' as const,
          Filter: { Prefix: 'logs/' },
          Expiration: { Days: 30 },
        },
      ];
      await fake.seedBucket(bucket, { lifecycle: theirs });
      // The app key: one the fake knows, allowed on the bucket's objects.
      const { iam } = fake.clients();
      await iam.send(new CreateUserCommand({ UserName: 'app' }));
      await iam.send(
        new PutUserPolicyCommand({
          UserName: 'app',
          PolicyName: 'media',
          PolicyDocument: JSON.stringify(awsUserPolicy(bucket)),
        }),
      );
      const key = (await iam.send(new CreateAccessKeyCommand({ UserName: 'app' }))).AccessKey!;
      const o = {
        ...options(bucket),
        'access-key-id': key.AccessKeyId!,
        'secret-access-key': key.SecretAccessKey!,
        clientsFactory: () => fake.clients(),
      };
      await runGenerator('s3-compatible', dir, o);
      const ours = JSON.parse(readFileSync(path.join(dir, 'arches-storage/lifecycle.json'), 'utf8')) as {
        Rules: unknown[];
      };
      assert.deepEqual(fake.s3.get(bucket)!.lifecycle, [...theirs, ...ours.Rules]);
      const puts = () => fake.calls.filter(([op]) => op === 'PutBucketLifecycleConfiguration').length;
      assert.equal(puts(), 1);
      await runGenerator('s3-compatible', dir, o);
      assert.equal(puts(), 1, 'a re-run puts nothing');
      await runGenerator('s3-compatible', dir, { ...o, destroy: true });
      assert.deepEqual(fake.s3.get(bucket)!.lifecycle, theirs, 'theirs, exactly');
    } finally {
      fake.restore();
    }
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
    assert.match(r.stdout, /s3:PutBucketLifecycleConfiguration .*"ID":"arches-storage-expire-archestemp"/);
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
  describe('credentials (point 13) and a quick denial (point 15)', function () {
    const home = mkdtempSync(path.join(tmpdir(), 'h5-home-'));
    after(() => rmSync(home, { recursive: true, force: true }));
    /** The SDK's chain sees only what a test puts in the environment. */
    const chain = (extra: Record<string, string | undefined>): Record<string, string | undefined> => ({
      HOME: home,
      AWS_CONFIG_FILE: path.join(home, 'none-config'),
      AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'none-credentials'),
      AWS_PROFILE: undefined,
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
      AWS_SESSION_TOKEN: undefined,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
      AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
      ...extra,
    });
    const noKey = (bucket: string): Record<string, unknown> => {
      const o = options(bucket);
      delete o['access-key-id'];
      delete o['secret-access-key'];
      return o;
    };
    const fails = (p: Promise<unknown>): Promise<Error> =>
      p.then(
        () => assert.fail('should stop'),
        (e: Error) => e,
      );

    it('the operator’s credentials become the app key only with --use-operator-key', async function () {
      const dir = freshProject('7.6');
      dirs.push(dir);
      const env = chain({ AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' });
      const before = await buckets();
      const refused = await fails(runGenerator('s3-compatible', dir, noKey('arches-opkey'), { env }));
      assert.match(refused.message, /No app key for .*--use-operator-key/);
      assert.deepEqual(await buckets(), before, 'nothing created');
      await runGenerator(
        's3-compatible',
        dir,
        { ...noKey('arches-opkey'), 'use-operator-key': true },
        { env },
      );
      assert.match(
        readFileSync(path.join(dir, PKG, 'settings_local.py'), 'utf8'),
        /AWS_ACCESS_KEY_ID = "S3RVER"/,
      );
    });

    it('temporary credentials (a session token) are refused as the app key, even with --use-operator-key', async function () {
      const dir = freshProject('7.6');
      dirs.push(dir);
      const env = chain({
        AWS_ACCESS_KEY_ID: 'ASIAEXAMPLETEMPORARY',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
        AWS_SESSION_TOKEN: 'FwoGZXIvYXdzEJr//////////session',
      });
      const before = await buckets();
      const error = await fails(
        runGenerator('s3-compatible', dir, { ...noKey('arches-tempkey'), 'use-operator-key': true }, { env }),
      );
      assert.match(error.message, /temporary credentials .*cannot be the app's key/);
      assert.deepEqual(await buckets(), before);
    });

    it('no credentials at all: how to sign in, and that --no-provision writes the overlay alone', async function () {
      const dir = freshProject('7.6');
      dirs.push(dir);
      const error = await fails(
        runGenerator('s3-compatible', dir, noKey('arches-nocreds'), { env: chain({}) }),
      );
      assert.match(error.message, /No credentials for http:\/\/127\.0\.0\.1:\d+/);
      assert.match(error.message, /aws sso login --profile/);
      assert.match(error.message, /--no-provision/);
      assert.doesNotMatch(error.message, /run the same command again/i);
    });

    it("switching from aws: the key our block holds for AWS is not taken as this service's app key", async function () {
      const dir = freshProject('7.6');
      dirs.push(dir);
      // The project is on AWS, its app key in settings_local.py (a key s3rver would accept, to show it is not used).
      await runGenerator('aws', dir, {
        ...NO_PROMPT,
        bucket: 'arches-on-aws',
        region: 'eu-west-2',
        'cors-origin': ['https://arches.example.org'],
        'access-key-id': S3RVER_KEY.accessKeyId,
        'secret-access-key': S3RVER_KEY.secretAccessKey,
      });
      const before = await buckets();
      const error = await fails(
        runGenerator('s3-compatible', dir, noKey('arches-from-aws'), { env: chain({}) }),
      );
      assert.match(error.message, /No credentials for http:\/\/127\.0\.0\.1:\d+/);
      assert.deepEqual(await buckets(), before, "nothing created with the other storage's key");
      assert.match(readFileSync(path.join(dir, PKG, 'settings.py'), 'utf8'), /arches-on-aws/, 'still on aws');
    });

    it('a key the service denies fails at once (no IAM propagation to wait for)', async function () {
      const dir = freshProject('7.6');
      dirs.push(dir);
      const fake = new FakeAws({ s3rverEndpoint: s3.endpoint });
      try {
        const started = Date.now();
        const error = await fails(
          runGenerator(
            's3-compatible',
            dir,
            {
              ...options('arches-denied-now'),
              'access-key-id': 'AKIAUNKNOWN000000000',
              clientsFactory: () => fake.clients(),
            },
            { env: { ARCHES_STORAGE_PROBE_TIMEOUT: '60' } },
          ),
        );
        assert.ok(Date.now() - started < 5000, `failed after ${Date.now() - started} ms, not the timeout`);
        assert.match(error.message, /InvalidAccessKeyId.*no key propagation to wait for/s);
      } finally {
        fake.restore();
      }
    });
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
