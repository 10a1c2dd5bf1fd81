/**
 * AWS provisioning, end to end through the generator: S3 calls s3rver implements go to s3rver; STS, IAM and
 * the S3 control-plane calls it lacks go to the AWS-like fake (aws-sdk-client-mock), which answers with AWS's
 * errors, limits and key-propagation delay.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GetBucketCorsCommand, HeadBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createClients } from '../../../lib/provision/clients.js';
import { OPERATOR_ACTIONS } from '../../lib/operator-policy.test.js';
import { FakeAws, type FaultKind } from '../../helpers/fake-aws.js';
import { freshProject, runGenerator, snapshot } from '../../helpers/run.js';
import { startS3rver, type RunningS3 } from '../../helpers/s3rver.js';

const PKG = 'demo_heritage';
const USER = 'arches-demo-heritage-media';
const PROBE_ENV = {
  ARCHES_STORAGE_PROBE_MIN_DELAY: '0.2',
  ARCHES_STORAGE_PROBE_MAX_DELAY: '0.4',
  ARCHES_STORAGE_PROBE_TIMEOUT: '20',
};

interface Rc {
  'generator-arches-storage': {
    provider: string;
    resources: Record<
      string,
      { accountId?: string; accessKeyId?: string; bucket?: { name: string }; user?: { arn: string } }
    >;
  };
}

describe('provisioning AWS (s3rver + AWS-like fake)', function () {
  let s3: RunningS3;
  const dirs: string[] = [];
  const fakes: FakeAws[] = [];
  before(async () => {
    s3 = await startS3rver();
  });
  after(async () => {
    fakes.forEach((f) => f.restore());
    await s3.stop();
    dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  });

  function setup(options: { keyPropagationMs?: number; latencyMs?: number; endpoint?: string } = {}): {
    fake: FakeAws;
    dir: string;
  } {
    const fake = new FakeAws({
      s3rverEndpoint: options.endpoint ?? s3.endpoint,
      keyPropagationMs: options.keyPropagationMs ?? 600,
      latencyMs: options.latencyMs ?? 0,
    });
    fakes.push(fake);
    const dir = freshProject('7.6');
    dirs.push(dir);
    return { fake, dir };
  }
  const opts = (
    fake: FakeAws,
    bucket: string,
    extra: Record<string, unknown> = {},
  ): Record<string, unknown> => ({
    'skip-prompts': true,
    bucket,
    region: 'eu-west-2',
    'cors-origin': ['https://arches.example.org'],
    clientsFactory: () => fake.clients(),
    ...extra,
  });
  const run = (dir: string, options: Record<string, unknown>, env: Record<string, string> = {}) =>
    runGenerator('aws', dir, options, { env: { ...PROBE_ENV, ...env } });
  const rcOf = (dir: string): Rc => JSON.parse(readFileSync(path.join(dir, '.yo-rc.json'), 'utf8')) as Rc;
  const mutating = (fake: FakeAws): string[] => fake.calls.map(([op]) => op);

  it('creates a private, encrypted bucket with CORS and tags, a least-privilege user and one key, and verifies it', async function () {
    const { fake, dir } = setup({ keyPropagationMs: 1200 });
    const out = await captureStdout(() => run(dir, opts(fake, 'arches-prov-full', { json: true })));
    const summary = JSON.parse(out.slice(out.indexOf('{'))) as { verifiedAfterSeconds: number };
    assert.ok(
      summary.verifiedAfterSeconds >= 1.2,
      `the probe waited out key propagation: ${summary.verifiedAfterSeconds}`,
    );
    const files = snapshot(dir);
    // The bucket, as s3rver and the control plane see it.
    await s3.client.send(new HeadBucketCommand({ Bucket: 'arches-prov-full' }));
    const cors = await s3.client.send(new GetBucketCorsCommand({ Bucket: 'arches-prov-full' }));
    const corsFile = JSON.parse(files.get('arches-storage/cors.json')!) as {
      CORSRules: Array<{ AllowedOrigins: string[] }>;
    };
    assert.deepEqual(cors.CORSRules?.[0]?.AllowedOrigins, corsFile.CORSRules[0]!.AllowedOrigins);
    const bucket = fake.s3.get('arches-prov-full')!;
    assert.deepEqual(bucket.publicAccessBlock, {
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    assert.equal(
      JSON.stringify(bucket.ownership),
      JSON.stringify({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] }),
    );
    assert.match(JSON.stringify(bucket.encryption), /AES256/);
    assert.match(JSON.stringify(bucket.tags), /arches-project.*demo_heritage/);
    assert.equal(bucket.policy, undefined, 'no bucket policy on a private bucket');
    // Hygiene: the lifecycle rules the overlay wrote, exactly.
    const lifecycleFile = JSON.parse(files.get('arches-storage/lifecycle.json')!) as { Rules: unknown[] };
    assert.deepEqual(bucket.lifecycle, lifecycleFile.Rules);
    assert.deepEqual(
      lifecycleFile.Rules.map((r) => (r as { Filter: { Prefix: string } }).Filter.Prefix),
      ['uploadedfiles/tmp/', 'archestemp/', ''],
    );
    // The user: tagged, the policy the overlay wrote (byte for byte as JSON), one key.
    const user = fake.iam.get(USER)!;
    const [policy] = [...user.policies.values()];
    assert.deepEqual(JSON.parse(policy!), JSON.parse(files.get('arches-storage/aws-user-policy.json')!));
    assert.equal(user.keys.length, 1);
    const key = user.keys[0]!;
    // The secret went only to settings_local.py; .yo-rc.json has names and ARNs.
    // Plain text, not a RegExp: secrets hold "+" and "/".
    const local = files.get(`${PKG}/settings_local.py`)!;
    assert.ok(local.includes(`AWS_ACCESS_KEY_ID = "${key.id}"`), 'key id in settings_local.py');
    assert.ok(local.includes(`AWS_SECRET_ACCESS_KEY = "${key.secret}"`), 'secret in settings_local.py');
    for (const [p, content] of files)
      if (p !== `${PKG}/settings_local.py`) assert.ok(!content.includes(key.secret), `${p} has no secret`);
    const state = rcOf(dir)['generator-arches-storage'].resources.aws!;
    assert.equal(state.accountId, fake.accountId);
    assert.equal(state.accessKeyId, key.id);
    assert.equal(state.user?.arn, `arn:aws:iam::${fake.accountId}:user/${USER}`);
    const recordedBucket = state.bucket as Record<string, unknown>;
    assert.equal(recordedBucket.lifecycle, 'created');
    assert.deepEqual(
      recordedBucket.lifecycleRuleIds,
      lifecycleFile.Rules.map((r) => (r as { ID: string }).ID),
    );
    // Re-run: everything adopted, nothing created twice, no file changed.
    const before = mutating(fake).length;
    await run(dir, opts(fake, 'arches-prov-full'));
    const again = mutating(fake).slice(before);
    for (const op of ['CreateUser', 'CreateAccessKey', 'PutBucketLifecycleConfiguration'])
      assert.ok(!again.includes(op), `${op} not called again`);
    assert.deepEqual(fake.s3.get('arches-prov-full')!.lifecycle, lifecycleFile.Rules);
    assert.equal(fake.iam.get(USER)!.keys.length, 1);
    assert.deepEqual(snapshot(dir), files);
  });

  it('every call in its plans is one the README operator policy allows', async function () {
    const { fake, dir } = setup();
    const r = await captureStdout(() =>
      run(dir, opts(fake, 'arches-prov-plan', { 'public-read': true, 'dry-run': true })),
    );
    const commands = [...r.matchAll(/^\s+(?:s3|iam|sts):(\w+) /gm)].map((m) => m[1]!);
    assert.ok(
      commands.includes('CreateBucket') &&
        commands.includes('CreateUser') &&
        commands.includes('PutBucketPolicy'),
    );
    // The probe's calls are signed with the app key, not the operator's (GetCallerIdentity needs no permission).
    const asApp = ['PutObject', 'GetObject', 'DeleteObject', 'GetCallerIdentity'];
    for (const c of commands.filter((c) => !asApp.includes(c))) {
      assert.ok(OPERATOR_ACTIONS[c], `${c} is covered by the operator policy test`);
    }
    assert.deepEqual(mutating(fake), [], '--dry-run changes nothing');
    await assert.rejects(s3.client.send(new HeadBucketCommand({ Bucket: 'arches-prov-plan' })), 'no bucket');
    assert.equal(fake.iam.get(USER), undefined, 'no user');
    assert.match(r, /"Sid": "ReadWriteObjects"/, 'the user policy is printed in full');
    assert.match(r, /"Sid": "PublicReadGetObject"/, 'so is the bucket policy');
  });

  it('interactive runs show the plan and create nothing unless the user confirms', async function () {
    const { fake, dir } = setup();
    const answers = {
      bucket: 'arches-prov-ask',
      region: 'eu-west-2',
      corsOrigins: 'https://arches.example.org',
      iamUser: USER,
    };
    const interactive = { clientsFactory: () => fake.clients(), 'skip-prompts': false };
    const declined = await runGenerator('aws', dir, interactive, {
      answers: { ...answers, apply: false },
      env: PROBE_ENV,
    }).then(
      () => undefined,
      (e: Error) => e,
    );
    assert.match(declined?.message ?? '', /Plan not applied: nothing was created/);
    assert.deepEqual(mutating(fake), []);
    await assert.rejects(s3.client.send(new HeadBucketCommand({ Bucket: 'arches-prov-ask' })), 'no bucket');
    assert.equal(fake.iam.get(USER), undefined, 'no user');
    const accepted = await runGenerator('aws', dir, interactive, {
      answers: { ...answers, apply: true },
      env: PROBE_ENV,
    });
    assert.ok(accepted.askedQuestions.some((q) => q.name === 'apply'));
    assert.equal(fake.iam.get(USER)!.keys.length, 1);
  });

  it('--secrets-file: the key goes to a git-ignored dotenv file (mode 600), never one git would commit', async function () {
    const { fake, dir } = setup();
    const { execFileSync, spawnSync } = await import('node:child_process');
    const { statSync, mkdirSync, rmSync: remove } = await import('node:fs');
    execFileSync('git', ['init', '-q', dir]);
    // A nested .gitignore un-ignores it: git would commit it even with the generator's rule, so: refused.
    mkdirSync(path.join(dir, 'secrets'));
    writeFileSync(path.join(dir, 'secrets/.gitignore'), '!storage.env\n');
    const refused = await run(
      dir,
      opts(fake, 'arches-prov-envfile', { 'secrets-file': 'secrets/storage.env' }),
    ).then(
      () => undefined,
      (e: Error) => e,
    );
    assert.match(refused?.message ?? '', /secrets\/storage\.env would still be committed by git/);
    assert.deepEqual(mutating(fake), [], 'refused before any call');
    await assert.rejects(
      s3.client.send(new HeadBucketCommand({ Bucket: 'arches-prov-envfile' })),
      'no bucket',
    );
    assert.equal(fake.iam.get(USER), undefined, 'no user');
    remove(path.join(dir, 'secrets/.gitignore'));
    const localBefore = readFileSync(path.join(dir, PKG, 'settings_local.py'), 'utf8');
    await run(dir, opts(fake, 'arches-prov-envfile', { 'secrets-file': 'secrets/storage.env' }));
    const key = fake.iam.get(USER)!.keys[0]!;
    const file = path.join(dir, 'secrets/storage.env');
    const envFile = readFileSync(file, 'utf8');
    assert.ok(
      envFile.includes(`AWS_ACCESS_KEY_ID=${key.id}`) &&
        envFile.includes(`AWS_SECRET_ACCESS_KEY=${key.secret}`),
    );
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.match(readFileSync(path.join(dir, '.gitignore'), 'utf8'), /^\/secrets\/storage\.env$/m);
    assert.equal(spawnSync('git', ['check-ignore', '-q', 'secrets/storage.env'], { cwd: dir }).status, 0);
    assert.equal(
      readFileSync(path.join(dir, PKG, 'settings_local.py'), 'utf8'),
      localBefore,
      'settings_local.py untouched',
    );
  });

  it('a name taken by another account stops before anything is created, suggesting a free name', async function () {
    const { fake, dir } = setup();
    fake.takenBuckets.add('arches-taken');
    const before = snapshot(dir);
    const error = await run(dir, opts(fake, 'arches-taken')).then(
      () => assert.fail('should stop'),
      (e: Error) => e,
    );
    assert.match(error.message, /"arches-taken" is taken by another AWS account/);
    assert.match(error.message, /--bucket arches-taken-\d{6}/);
    assert.deepEqual(mutating(fake), []);
    assert.deepEqual(snapshot(dir), before);
  });

  it('never makes a third key: unrecorded keys need --rotate-key, which replaces them', async function () {
    const { fake, dir } = setup();
    await run(dir, opts(fake, 'arches-prov-keys'));
    // Someone made a second key by hand, and .yo-rc.json lost the record of ours.
    await fake
      .clients()
      .iam.send(new (await import('@aws-sdk/client-iam')).CreateAccessKeyCommand({ UserName: USER }));
    const rcFile = path.join(dir, '.yo-rc.json');
    const rc = rcOf(dir);
    delete rc['generator-arches-storage'].resources.aws!.accessKeyId;
    (await import('node:fs')).writeFileSync(rcFile, JSON.stringify(rc));
    const refused = await run(dir, opts(fake, 'arches-prov-keys')).then(
      () => undefined,
      (e: Error) => e,
    );
    assert.match(refused?.message ?? '', /already has 2 access keys/);
    assert.match(refused?.message ?? '', /--rotate-key/);
    assert.equal(fake.iam.get(USER)!.keys.length, 2);
    await run(dir, opts(fake, 'arches-prov-keys', { 'rotate-key': true }));
    const keys = fake.iam.get(USER)!.keys;
    assert.ok(keys.length <= 2);
    const recorded = rcOf(dir)['generator-arches-storage'].resources.aws!.accessKeyId!;
    assert.ok(keys.some((k) => k.id === recorded));
    assert.ok(readFileSync(path.join(dir, PKG, 'settings_local.py'), 'utf8').includes(recorded));
  });

  it('--rotate-key makes a new key, verifies it, then deletes the old one', async function () {
    const { fake, dir } = setup();
    await run(dir, opts(fake, 'arches-prov-rotate'));
    const old = fake.iam.get(USER)!.keys[0]!.id;
    await run(dir, opts(fake, 'arches-prov-rotate', { 'rotate-key': true }));
    const keys = fake.iam.get(USER)!.keys;
    assert.equal(keys.length, 1);
    assert.notEqual(keys[0]!.id, old);
    const ops = mutating(fake);
    assert.ok(
      ops.lastIndexOf('DeleteAccessKey') > ops.lastIndexOf('CreateAccessKey'),
      'old key deleted after the new one',
    );
    // On disk: the new key is the recorded one and the one the app has; the old one is no longer recorded.
    const state = rcOf(dir)['generator-arches-storage'].resources.aws as Record<string, unknown>;
    assert.equal(state.accessKeyId, keys[0]!.id);
    assert.equal(state.previousAccessKeyId, undefined);
    assert.ok(readFileSync(path.join(dir, PKG, 'settings_local.py'), 'utf8').includes(keys[0]!.secret));
  });

  it('--public-read relaxes only the policy blocks, then puts a public GetObject policy', async function () {
    const { fake, dir } = setup();
    await run(dir, opts(fake, 'arches-prov-public', { 'public-read': true }));
    const bucket = fake.s3.get('arches-prov-public')!;
    assert.deepEqual(bucket.publicAccessBlock, {
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: false,
      RestrictPublicBuckets: false,
    });
    assert.deepEqual(
      JSON.parse(bucket.policy!),
      JSON.parse(readFileSync(path.join(dir, 'arches-storage/aws-bucket-policy.json'), 'utf8')),
    );
    const ops = mutating(fake);
    assert.ok(ops.indexOf('PutPublicAccessBlock') < ops.indexOf('PutBucketPolicy'));
  });

  it('--json prints the summary, with the secret only under --show-secret', async function () {
    const { fake, dir } = setup();
    const out = await captureStdout(() => run(dir, opts(fake, 'arches-prov-json', { json: true })));
    const summary = JSON.parse(out.slice(out.indexOf('{'))) as Record<string, unknown>;
    assert.equal(summary.ok, true);
    assert.equal(summary.accountId, fake.accountId);
    assert.deepEqual(summary.created, [
      'bucket arches-prov-json',
      `IAM user ${USER}`,
      `access key ${fake.iam.get(USER)!.keys[0]!.id}`,
    ]);
    assert.equal(summary.secretAccessKey, undefined);
    assert.ok(!out.includes(fake.iam.get(USER)!.keys[0]!.secret));
    const shown = await captureStdout(() =>
      run(dir, opts(fake, 'arches-prov-json', { json: true, 'rotate-key': true, 'show-secret': true })),
    );
    const key = fake.iam.get(USER)!.keys.at(-1)!;
    assert.equal(
      (JSON.parse(shown.slice(shown.indexOf('{'))) as { secretAccessKey: string }).secretAccessKey,
      key.secret,
    );
  });

  it('gives up on a key that never works after the time limit, naming the step; the state is kept', async function () {
    const { fake, dir } = setup({ keyPropagationMs: 600_000 });
    const error = await run(dir, opts(fake, 'arches-prov-slow'), {
      ARCHES_STORAGE_PROBE_TIMEOUT: '1.5',
    }).then(
      () => assert.fail('should give up'),
      (e: Error) => e,
    );
    assert.match(error.message, /\(verify\) failed/);
    assert.match(error.message, /still cannot use bucket arches-prov-slow/);
    assert.match(error.message, /What exists now: bucket arches-prov-slow, IAM user/);
    assert.ok(
      rcOf(dir)['generator-arches-storage'].resources.aws!.accessKeyId,
      'the key is recorded for the next run',
    );
  });

  it('--destroy removes keys, policy and user and keeps the bucket; --delete-bucket then removes the bucket', async function () {
    const { fake, dir } = setup();
    const original = snapshot(dir);
    await run(dir, opts(fake, 'arches-prov-destroy'));
    await run(dir, opts(fake, 'arches-prov-destroy', { destroy: true }));
    assert.equal(fake.iam.get(USER), undefined, 'user gone');
    await s3.client.send(new HeadBucketCommand({ Bucket: 'arches-prov-destroy' }));
    assert.equal(rcOf(dir)['generator-arches-storage'].provider, 'local');
    assert.equal(rcOf(dir)['generator-arches-storage'].resources.aws!.bucket!.name, 'arches-prov-destroy');
    const after = snapshot(dir);
    after.delete('.yo-rc.json');
    assert.deepEqual(after, original, 'overlay removed: the project is on local files again');
    await run(dir, opts(fake, 'arches-prov-destroy', { destroy: true, 'delete-bucket': true, force: true }));
    await assert.rejects(s3.client.send(new HeadBucketCommand({ Bucket: 'arches-prov-destroy' })));
    assert.deepEqual(rcOf(dir)['generator-arches-storage'].resources, {});
  });

  describe('adopting never overwrites (issue 6, point 10)', function () {
    const OWNER_POLICY = (bucket: string) => ({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'OwnersAnalytics',
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::123456789012:role/analytics' },
          Action: 's3:GetObject',
          Resource: `arn:aws:s3:::${bucket}/*`,
        },
      ],
    });
    const OWNER_CORS = [{ AllowedOrigins: ['https://owner.example.com'], AllowedMethods: ['PUT'] }];
    const KMS = {
      Rules: [
        {
          ApplyServerSideEncryptionByDefault: {
            SSEAlgorithm: 'aws:kms' as const,
            KMSMasterKeyID: 'arn:aws:kms:eu-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
          },
          BucketKeyEnabled: true,
        },
      ],
    };
    async function seeded(fake: FakeAws, bucket: string): Promise<void> {
      await fake.seedBucket(bucket, {
        tags: [{ Key: 'team', Value: 'heritage-data' }],
        encryption: KMS,
        policy: JSON.stringify(OWNER_POLICY(bucket)),
        cors: OWNER_CORS,
        lifecycle: [
          { ID: 'expire-tmp', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 7 } },
        ],
        logging: { TargetBucket: 'owner-logs', TargetPrefix: `${bucket}/` },
        versioning: 'Enabled',
      });
    }
    const corsOf = async (bucket: string) =>
      (await s3.client.send(new GetBucketCorsCommand({ Bucket: bucket }))).CORSRules ?? [];

    it('keeps the owner’s tags, SSE-KMS, policy, CORS and lifecycle rules, logging and versioning; records only what it added; teardown removes only that', async function () {
      const { fake, dir } = setup();
      const bucket = 'arches-adopt-keep';
      await seeded(fake, bucket);
      const before = structuredClone(fake.s3.get(bucket)!);
      await run(dir, opts(fake, bucket));
      const after = fake.s3.get(bucket)!;
      assert.deepEqual(after.tags, [
        { Key: 'team', Value: 'heritage-data' },
        { Key: 'arches-project', Value: PKG },
        { Key: 'managed-by', Value: 'generator-arches-storage' },
      ]);
      assert.deepEqual(after.encryption, KMS, 'SSE-KMS stays SSE-KMS');
      assert.deepEqual(JSON.parse(after.policy!), OWNER_POLICY(bucket), 'the owner’s policy is untouched');
      const ours = (
        JSON.parse(readFileSync(path.join(dir, 'arches-storage/lifecycle.json'), 'utf8')) as {
          Rules: Array<{ ID: string }>;
        }
      ).Rules;
      assert.deepEqual(after.lifecycle, [...before.lifecycle!, ...ours], 'the owner’s rule kept, ours added');
      assert.deepEqual(after.logging, before.logging);
      const cors = await corsOf(bucket);
      assert.equal(cors.length, 2, 'the owner’s rule and ours');
      assert.deepEqual(cors[0]!.AllowedOrigins, ['https://owner.example.com']);
      assert.deepEqual(cors[1]!.AllowedOrigins, ['https://arches.example.org']);
      const ops = mutating(fake);
      for (const op of [
        'PutBucketEncryption',
        'PutBucketPolicy',
        'DeleteBucketPolicy',
        'DeleteBucketLifecycle',
        'PutBucketLogging',
        'PutBucketVersioning',
      ])
        assert.ok(!ops.includes(op), `${op} never called on an adopted bucket`);
      const recorded = rcOf(dir)['generator-arches-storage'].resources.aws!.bucket as Record<string, unknown>;
      assert.equal(recorded.created, false);
      assert.equal(recorded.encryption, 'kept');
      assert.deepEqual(recorded.tags, ['arches-project', 'managed-by']);
      assert.equal(recorded.cors, 'merged');
      assert.equal(recorded.policy, undefined, 'no policy statement of ours');
      assert.equal(recorded.lifecycle, 'merged');
      assert.deepEqual(
        recorded.lifecycleRuleIds,
        ours.map((r) => r.ID),
      );
      // A re-run changes nothing.
      const count = mutating(fake).length;
      const settled = structuredClone(fake.s3.get(bucket)!);
      const corsSettled = await corsOf(bucket);
      await run(dir, opts(fake, bucket));
      assert.deepEqual(fake.s3.get(bucket), settled, 'the bucket is as the first run left it');
      assert.deepEqual(await corsOf(bucket), corsSettled);
      assert.deepEqual(
        mutating(fake)
          .slice(count)
          .filter((op) => op.startsWith('PutBucket')),
        [],
        'nothing to put again',
      );
      // Teardown keeps the adopted bucket and takes back only our tags and our CORS rule.
      await run(dir, opts(fake, bucket, { destroy: true }));
      assert.deepEqual(fake.s3.get(bucket)!.tags, [{ Key: 'team', Value: 'heritage-data' }]);
      assert.deepEqual(
        (await corsOf(bucket)).map((r) => r.AllowedOrigins),
        [['https://owner.example.com']],
      );
      assert.deepEqual(JSON.parse(fake.s3.get(bucket)!.policy!), OWNER_POLICY(bucket));
      assert.deepEqual(fake.s3.get(bucket)!.encryption, KMS);
      assert.deepEqual(fake.s3.get(bucket)!.lifecycle, before.lifecycle, 'the owner’s lifecycle, exactly');
      assert.ok(!mutating(fake).includes('DeleteBucketLifecycle'), 'the owner’s configuration is kept');
      const left = rcOf(dir)['generator-arches-storage'].resources.aws!.bucket as Record<string, unknown>;
      assert.equal(left.lifecycleRuleIds, undefined, 'nothing of ours is recorded any more');
    });

    it('an adopted bucket without lifecycle rules gets ours; teardown deletes the configuration it created', async function () {
      const { fake, dir } = setup();
      const bucket = 'arches-adopt-lifecycle';
      await fake.seedBucket(bucket, { tags: [{ Key: 'team', Value: 'heritage-data' }] });
      const plan = await captureStdout(() => run(dir, opts(fake, bucket, { 'dry-run': true })));
      assert.match(plan, /lifecycle: the bucket has none: ours are put/);
      assert.match(plan, /s3:PutBucketLifecycleConfiguration /);
      await run(dir, opts(fake, bucket));
      const ours = JSON.parse(readFileSync(path.join(dir, 'arches-storage/lifecycle.json'), 'utf8')) as {
        Rules: unknown[];
      };
      assert.deepEqual(fake.s3.get(bucket)!.lifecycle, ours.Rules);
      const recorded = rcOf(dir)['generator-arches-storage'].resources.aws!.bucket as Record<string, unknown>;
      assert.equal(recorded.lifecycle, 'created');
      // The owner adds a rule meanwhile: teardown takes back ours and keeps theirs.
      const theirs = {
        ID: 'owner-rule',
        Status: 'Enabled' as const,
        Filter: { Prefix: 'logs/' },
        Expiration: { Days: 30 },
      };
      fake.s3.get(bucket)!.lifecycle = [theirs, ...fake.s3.get(bucket)!.lifecycle!];
      const count = mutating(fake).length;
      await run(dir, opts(fake, bucket));
      assert.ok(
        !mutating(fake).slice(count).includes('PutBucketLifecycleConfiguration'),
        'ours are in place: nothing is put',
      );
      await run(dir, opts(fake, bucket, { destroy: true }));
      assert.deepEqual(fake.s3.get(bucket)!.lifecycle, [theirs], 'only theirs is left');
      // Without the owner's rule, the configuration we created is deleted.
      const again = setup();
      const alone = 'arches-adopt-lifecycle-2';
      await again.fake.seedBucket(alone);
      await run(again.dir, opts(again.fake, alone));
      assert.equal(again.fake.s3.get(alone)!.lifecycle?.length, 3);
      await run(again.dir, opts(again.fake, alone, { destroy: true }));
      assert.equal(again.fake.s3.get(alone)!.lifecycle, undefined);
      assert.ok(mutating(again.fake).includes('DeleteBucketLifecycle'));
    });

    it('--public-read on an adopted bucket with a policy merges our statement by Sid, and going private removes only it', async function () {
      const { fake, dir } = setup();
      const bucket = 'arches-adopt-policy';
      await seeded(fake, bucket);
      await run(dir, opts(fake, bucket, { 'public-read': true }));
      const merged = JSON.parse(fake.s3.get(bucket)!.policy!) as { Statement: Array<{ Sid: string }> };
      assert.deepEqual(
        merged.Statement.map((s) => s.Sid),
        ['OwnersAnalytics', 'PublicReadGetObject'],
      );
      const recorded = rcOf(dir)['generator-arches-storage'].resources.aws!.bucket as Record<string, unknown>;
      assert.equal(recorded.policy, 'merged');
      assert.deepEqual(recorded.policySids, ['PublicReadGetObject']);
      await run(dir, opts(fake, bucket, { 'public-read': false }));
      assert.deepEqual(JSON.parse(fake.s3.get(bucket)!.policy!), OWNER_POLICY(bucket), 'only ours removed');
      assert.ok(!mutating(fake).includes('DeleteBucketPolicy'), 'the owner’s policy is never deleted');
      assert.equal(fake.s3.get(bucket)!.publicAccessBlock?.BlockPublicPolicy, true, 'private again');
    });

    it('refuses, saying why, a policy statement of the same Sid it did not write, and a bucket with 100 CORS rules', async function () {
      const { fake, dir } = setup();
      const sid = 'arches-adopt-sid';
      const theirs = {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'PublicReadGetObject',
            Effect: 'Allow',
            Principal: '*',
            Action: 's3:GetObject',
            Resource: `arn:aws:s3:::${sid}/public/*`,
          },
        ],
      };
      await fake.seedBucket(sid, { policy: JSON.stringify(theirs) });
      const e1 = await run(dir, opts(fake, sid, { 'public-read': true })).then(
        () => assert.fail('should refuse'),
        (e: Error) => e,
      );
      assert.match(
        e1.message,
        /already has a statement "PublicReadGetObject" that this generator did not write/,
      );
      assert.deepEqual(mutating(fake), [], 'refused before anything changed');
      assert.deepEqual(JSON.parse(fake.s3.get(sid)!.policy!), theirs);
      const full = 'arches-adopt-cors';
      await fake.seedBucket(full, {
        cors: Array.from({ length: 100 }, (_, i) => ({
          AllowedOrigins: [`https://site${i}.example.com`],
          AllowedMethods: ['GET'],
        })),
      });
      const e2 = await run(dir, opts(fake, full)).then(
        () => assert.fail('should refuse'),
        (e: Error) => e,
      );
      assert.match(e2.message, /already has 100 CORS rules, the most S3 allows/);
      assert.equal((await corsOf(full)).length, 100);
    });

    it('tightens an adopted bucket’s public access block and ACL ownership, and says so in the plan', async function () {
      const { fake, dir } = setup();
      const bucket = 'arches-adopt-open';
      await fake.seedBucket(bucket, { noPublicAccessBlock: true, noOwnershipControls: true });
      const out = await captureStdout(() => run(dir, opts(fake, bucket, { 'dry-run': true })));
      assert.match(out, /public access block: none set → all four set/);
      assert.match(out, /object ownership: none set → BucketOwnerEnforced/);
      await run(dir, opts(fake, bucket));
      assert.deepEqual(fake.s3.get(bucket)!.publicAccessBlock, {
        BlockPublicAcls: true,
        IgnorePublicAcls: true,
        BlockPublicPolicy: true,
        RestrictPublicBuckets: true,
      });
      assert.equal(fake.s3.get(bucket)!.ownership?.Rules?.[0]?.ObjectOwnership, 'BucketOwnerEnforced');
      assert.equal(fake.s3.get(bucket)!.encryption, undefined, 'the default SSE-S3 is kept, not re-put');
    });
  });

  describe('ownership is proved, not assumed (point 11)', function () {
    it('every S3 call, the probe’s included, carries ExpectedBucketOwner', async function () {
      const { fake, dir } = setup();
      // In the plans, as data: every bucket call but CreateBucket names the owner.
      const planned = async (extra: Record<string, unknown>): Promise<Array<Record<string, unknown>>> => {
        const out = await captureStdout(() =>
          run(dir, opts(fake, 'arches-owner-every', { 'dry-run': true, json: true, ...extra })),
        );
        const doc = JSON.parse(out.slice(out.indexOf('{'))) as {
          provisioningPlan: { steps: Array<{ calls: Array<Record<string, unknown>> }> };
        };
        return doc.provisioningPlan.steps.flatMap((s) => s.calls);
      };
      const s3Planned = (await planned({})).filter((c) => c.service === 's3' && c.command !== 'CreateBucket');
      assert.ok(
        s3Planned.some((c) => c.command === 'PutObject'),
        'the probe is planned',
      );
      for (const c of s3Planned)
        assert.equal(
          (c.input as Record<string, unknown>).ExpectedBucketOwner,
          fake.accountId,
          String(c.command),
        );
      await run(dir, opts(fake, 'arches-owner-every'));
      const teardown = (await planned({ destroy: true, 'delete-bucket': true })).filter(
        (c) => c.service === 's3',
      );
      assert.ok(teardown.some((c) => c.command === 'DeleteBucket'));
      for (const c of teardown)
        assert.equal(
          (c.input as Record<string, unknown>).ExpectedBucketOwner,
          fake.accountId,
          String(c.command),
        );
      await run(dir, opts(fake, 'arches-owner-every', { 'rotate-key': true }));
      await run(dir, opts(fake, 'arches-owner-every', { destroy: true, 'delete-bucket': true }));
      const s3calls = fake.requests.filter((r) => r.service === 's3' && r.operation !== 'CreateBucket');
      assert.ok(
        s3calls.some((r) => r.operation === 'PutObject'),
        'the probe is among them',
      );
      assert.ok(s3calls.some((r) => r.operation === 'DeleteBucket'));
      for (const r of s3calls)
        assert.equal(r.input.ExpectedBucketOwner, fake.accountId, `${r.operation} names the owner`);
    });

    it('a bucket readable by us but owned by another account is not ours: stopped before anything is created', async function () {
      const { fake, dir } = setup();
      await fake.seedBucket('arches-owner-foreign', { owner: '999988887777' });
      // Readable: a HeadBucket that does not name the owner answers 200.
      await fake.clients().s3.send(new HeadBucketCommand({ Bucket: 'arches-owner-foreign' }));
      const error = await run(dir, opts(fake, 'arches-owner-foreign')).then(
        () => assert.fail('should stop'),
        (e: Error) => e,
      );
      assert.match(error.message, /taken by another AWS account or not readable by you/);
      assert.match(error.message, /ExpectedBucketOwner=123456789012 answered 403/);
      assert.deepEqual(mutating(fake), [], 'nothing created');
      assert.equal(fake.iam.get(USER), undefined, 'no user');
      assert.deepEqual(
        fake.s3.get('arches-owner-foreign')?.tags,
        undefined,
        'the other account’s bucket untouched',
      );
    });

    for (const [label, tags] of [
      ['untagged', []],
      [
        'another project’s',
        [
          { Key: 'managed-by', Value: 'generator-arches-storage' },
          { Key: 'arches-project', Value: 'other_project' },
        ],
      ],
    ] as const) {
      it(`an ${label} IAM user is never given a policy or a key; --adopt-user allows it, and teardown keeps it`, async function () {
        const { fake, dir } = setup();
        const { CreateUserCommand } = await import('@aws-sdk/client-iam');
        await fake.clients().iam.send(new CreateUserCommand({ UserName: USER, Tags: [...tags] }));
        const before = mutating(fake).length;
        const error = await run(dir, opts(fake, `arches-user-${tags.length}`)).then(
          () => assert.fail('should stop'),
          (e: Error) => e,
        );
        assert.match(error.message, /was not created by this generator for project demo_heritage/);
        assert.match(error.message, /--adopt-user/);
        assert.deepEqual(mutating(fake).slice(before), [], 'nothing created, no policy, no key');
        await run(dir, opts(fake, `arches-user-${tags.length}`, { 'adopt-user': true }));
        const user = fake.iam.get(USER)!;
        assert.equal(user.keys.length, 1);
        assert.deepEqual(user.tags, [...tags], 'an adopted user is not tagged as ours');
        await run(dir, opts(fake, `arches-user-${tags.length}`, { destroy: true }));
        assert.ok(fake.iam.get(USER), 'an adopted user is kept');
        assert.equal(fake.iam.get(USER)!.keys.length, 0, 'our key is gone');
        assert.equal(fake.iam.get(USER)!.policies.size, 0, 'our policy is gone');
      });
    }

    it('a user created by someone else between discovery and CreateUser stops the run the same way', async function () {
      const { fake, dir } = setup();
      const { CreateUserCommand } = await import('@aws-sdk/client-iam');
      fake.onceBefore('CreateUser', async () => {
        await fake.clients().iam.send(new CreateUserCommand({ UserName: USER }));
      });
      const error = await run(dir, opts(fake, 'arches-user-race')).then(
        () => assert.fail('should stop'),
        (e: Error) => e,
      );
      assert.match(error.message, /was created meanwhile but was not created by this generator/);
      const ops = mutating(fake);
      assert.ok(!ops.includes('PutUserPolicy') && !ops.includes('CreateAccessKey'));
      assert.equal(fake.iam.get(USER)!.keys.length, 0);
    });
  });

  describe('teardown terminates (point 12)', function () {
    it('pages through versions and delete markers, deletes in batches of at most 1000, then the bucket', async function () {
      const { fake, dir } = setup();
      const bucket = 'arches-teardown-versions';
      await run(dir, opts(fake, bucket));
      await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'uploadedfiles/a.jpg', Body: 'a' }));
      for (let i = 0; i < 5; i++) fake.addVersions(bucket, `uploadedfiles/${i}.jpg`, 450, 50);
      assert.equal(fake.versionsLeft(bucket), 2500);
      await run(dir, opts(fake, bucket, { destroy: true, 'delete-bucket': true, 'delete-objects': true }));
      assert.equal(fake.versionsLeft(bucket), 0);
      await assert.rejects(s3.client.send(new HeadBucketCommand({ Bucket: bucket })));
      const lists = fake.requests.filter((r) => r.operation === 'ListObjectVersions');
      assert.ok(
        lists.some((r) => r.input.KeyMarker && r.input.VersionIdMarker),
        'paged with both markers',
      );
      const batches = fake.requests.filter((r) => r.operation === 'DeleteObjects');
      assert.ok(batches.length >= 3, 'several batches');
      for (const b of batches)
        assert.ok(((b.input.Delete as { Objects: unknown[] }).Objects.length ?? 0) <= 1000);
    });

    it('objects under legal hold stop the teardown with a message naming them and the code, bounded, the bucket kept', async function () {
      const { fake, dir } = setup();
      const bucket = 'arches-teardown-locked';
      await run(dir, opts(fake, bucket));
      for (let i = 0; i < 12; i++) fake.addVersions(bucket, `uploadedfiles/held-${i}.jpg`, 2);
      fake.addVersions(bucket, 'uploadedfiles/free.jpg', 3);
      for (let i = 0; i < 12; i++) fake.legalHold(bucket, `uploadedfiles/held-${i}.jpg`);
      const started = Date.now();
      const error = await run(
        dir,
        opts(fake, bucket, { destroy: true, 'delete-bucket': true, 'delete-objects': true }),
      ).then(
        () => assert.fail('should stop'),
        (e: Error) => e,
      );
      assert.ok(Date.now() - started < 10_000, 'it ends');
      assert.match(error.message, /cannot be emptied: 24 object version\(s\) could not be deleted/);
      assert.match(error.message, /AccessDenied ×24: Access Denied because object protected by object lock/);
      assert.match(error.message, /uploadedfiles\/held-0\.jpg \(version v\d+/);
      assert.match(error.message, /and 14 more/);
      assert.equal(fake.versionsLeft(bucket), 24, 'the free ones were deleted, the held ones kept');
      await s3.client.send(new HeadBucketCommand({ Bucket: bucket }));
      assert.ok(fake.requests.filter((r) => r.operation === 'DeleteObjects').length <= 3, 'bounded');
    });

    it('Yeoman’s --force never deletes objects; --delete-objects does', async function () {
      const { fake, dir } = setup();
      const bucket = 'arches-teardown-force';
      await run(dir, opts(fake, bucket));
      fake.addVersions(bucket, 'uploadedfiles/x.jpg', 1);
      const error = await run(
        dir,
        opts(fake, bucket, { destroy: true, 'delete-bucket': true, force: true }),
      ).then(
        () => assert.fail('should refuse'),
        (e: Error) => e,
      );
      assert.match(error.message, /still holds objects.*--delete-objects/s);
      assert.equal(fake.versionsLeft(bucket), 1);
    });
  });

  describe('the probe is quick (point 15)', function () {
    it('notices a newly valid key within a second, at the default timing', async function () {
      const { fake, dir } = setup({ keyPropagationMs: 2700 });
      const out = await captureStdout(() =>
        runGenerator('aws', dir, opts(fake, 'arches-probe-quick', { json: true }), {
          env: {
            ARCHES_STORAGE_PROBE_MIN_DELAY: undefined,
            ARCHES_STORAGE_PROBE_MAX_DELAY: undefined,
            ARCHES_STORAGE_PROBE_TIMEOUT: undefined,
          },
        }),
      );
      const { verifiedAfterSeconds } = JSON.parse(out.slice(out.indexOf('{'))) as {
        verifiedAfterSeconds: number;
      };
      // Valid for S3 3.6 s after it was made (InvalidAccessKeyId to 2.7 s, then AccessDenied for a third of
      // that); a backoff (1, 2, 4, 8 s...) would look at 3 s and next at 7 s.
      assert.ok(verifiedAfterSeconds >= 2.3, `${verifiedAfterSeconds}`);
      assert.ok(verifiedAfterSeconds <= 4.8, `noticed within a second of working: ${verifiedAfterSeconds}`);
    });

    it('a denial that persists once the key is valid fails in seconds, naming the policy to check', async function () {
      const { fake, dir } = setup({ keyPropagationMs: 300 });
      fake.scpDeny.add('s3:PutObject');
      const started = Date.now();
      const error = await run(dir, opts(fake, 'arches-probe-denied'), {
        ARCHES_STORAGE_PROBE_TIMEOUT: '120',
      }).then(
        () => assert.fail('should fail'),
        (e: Error) => e,
      );
      const seconds = (Date.now() - started) / 1000;
      assert.ok(seconds < 15, `failed after ${seconds} s, not the 120 s timeout`);
      assert.match(error.message, /the app key is valid but S3 still denies it/);
      assert.match(
        error.message,
        /inline policy arches-storage-media of IAM user arches-demo-heritage-media/,
      );
      assert.match(error.message, /explicit deny in a service control policy/);
    });
  });

  describe('credentials (point 13)', function () {
    for (const [mode, pattern] of [
      ['no-credentials', /No usable credentials for AWS \(CredentialsProviderError/],
      ['expired-session', /The sign-in for AWS \(ExpiredToken/],
    ] as const) {
      it(`${mode}: says how to sign in and that --no-provision writes the overlay alone`, async function () {
        const fake = new FakeAws({ s3rverEndpoint: s3.endpoint, operator: mode });
        fakes.push(fake);
        const dir = freshProject('7.6');
        dirs.push(dir);
        const error = await run(dir, opts(fake, 'arches-creds')).then(
          () => assert.fail('should stop'),
          (e: Error) => e,
        );
        assert.match(error.message, pattern);
        assert.match(error.message, /aws sso login --profile/);
        assert.match(error.message, /--profile/);
        assert.match(error.message, /AWS_ACCESS_KEY_ID/);
        assert.match(error.message, /--no-provision/);
        assert.doesNotMatch(error.message, /run the same command again/i);
      });
    }

    it('SSO (temporary) operator credentials provision normally: the app gets its own long-term key', async function () {
      const fake = new FakeAws({ s3rverEndpoint: s3.endpoint, operator: 'sso-role', keyPropagationMs: 200 });
      fakes.push(fake);
      const dir = freshProject('7.6');
      dirs.push(dir);
      await run(dir, opts(fake, 'arches-creds-sso'));
      assert.match(fake.iam.get(USER)!.keys[0]!.id, /^AKIA/);
    });
  });

  describe('a fault at any step: the run stops naming it, the re-run completes, the end state is the same', function () {
    const faults: Array<[string, FaultKind]> = [
      ['GetCallerIdentity', 'InternalError'],
      ['CreateBucket', 'InternalError'],
      ['PutPublicAccessBlock', 'AccessDenied'],
      ['PutBucketOwnershipControls', 'Throttling'],
      ['PutBucketEncryption', 'AccessDenied'],
      ['PutBucketCors', 'ECONNRESET'],
      ['PutBucketTagging', 'InternalError'],
      ['CreateUser', 'AccessDenied'],
      ['PutUserPolicy', 'InternalError'],
      ['CreateAccessKey', 'Throttling'],
      // AccessDenied on the probe is IAM propagation (retried); a 500 that outlasts the SDK's retries is final.
      ['PutObject', 'InternalError'],
    ];
    /** The end state with random key material replaced. */
    function endState(fake: FakeAws, dir: string): unknown {
      const user = fake.iam.get(USER);
      const files = Object.fromEntries(snapshot(dir));
      let text = JSON.stringify({
        files,
        user: user && { ...user, keys: user.keys.length, policies: [...user.policies.entries()] },
      });
      for (const k of user?.keys ?? [])
        text = text.split(k.id).join('<key-id>').split(k.secret).join('<secret>');
      const bucket = fake.s3.get(BUCKET_FOR_FAULTS);
      return { ...JSON.parse(text), bucket: JSON.stringify(bucket) };
    }
    let reference: unknown;
    const BUCKET_FOR_FAULTS = 'arches-prov-fault';

    async function freshWorld(): Promise<{ fake: FakeAws; dir: string; server: RunningS3 }> {
      const server = await startS3rver();
      const { fake, dir } = setup({ endpoint: server.endpoint });
      return { fake, dir, server };
    }

    before(async function () {
      const { fake, dir, server } = await freshWorld();
      await run(dir, opts(fake, BUCKET_FOR_FAULTS));
      reference = endState(fake, dir);
      await server.stop();
    });

    for (const [operation, fault] of faults) {
      it(`${operation} fails (${fault})`, async function () {
        const { fake, dir, server } = await freshWorld();
        try {
          fake.failOnce(operation, fault);
          const error = await run(dir, opts(fake, BUCKET_FOR_FAULTS)).then(
            () => assert.fail('the fault should stop the run'),
            (e: Error) => e,
          );
          if (operation === 'GetCallerIdentity') {
            assert.match(error.message, /read-only calls\) failed.*Nothing was created/s);
          } else {
            assert.match(error.message, /Step ".+" \([a-z-]+\) failed/);
          }
          assert.match(error.message, /[Rr]un the same command again/);
          await run(dir, opts(fake, BUCKET_FOR_FAULTS));
          assert.deepEqual(endState(fake, dir), reference);
          const ops = mutating(fake);
          assert.ok(ops.filter((o) => o === 'CreateUser').length <= 2, 'no duplicate user');
          assert.equal(fake.iam.get(USER)!.keys.length, 1, 'exactly one key');
        } finally {
          await server.stop();
        }
      });
    }
  });

  it('transient errors are retried by the SDK’s own retry strategy', async function () {
    const clients = createClients({
      region: 'us-east-1',
      endpoint: s3.endpoint,
      pathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    let injected = 0;
    clients.s3.middlewareStack.add(
      (next) => async (args) => {
        if (injected++ === 0) {
          throw Object.assign(new Error('We encountered an internal error. Please try again.'), {
            name: 'InternalError',
            $fault: 'server',
            $metadata: { httpStatusCode: 500 },
          });
        }
        return next(args);
      },
      { step: 'finalizeRequest', name: 'injectOneFault', priority: 'low' },
    );
    await s3.createBucket('arches-retry');
    const result = await clients.s3
      .send(new GetBucketCorsCommand({ Bucket: 'arches-retry' }))
      .catch((e: { $metadata?: { attempts?: number }; name: string }) => e);
    assert.equal(injected, 2, 'one failure, one retry');
    assert.equal((result as { $metadata?: { attempts?: number } }).$metadata?.attempts, 2);
    assert.ok(clients.s3 instanceof S3Client);
  });
});

async function captureStdout(fn: () => Promise<unknown>): Promise<string> {
  const write = process.stdout.write.bind(process.stdout);
  let out = '';
  process.stdout.write = (chunk: string | Uint8Array) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  };
  try {
    await fn();
  } finally {
    process.stdout.write = write;
  }
  return out;
}
