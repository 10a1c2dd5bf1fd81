/**
 * AWS provisioning through the REAL bin, a child process, against the loopback HTTP fake of STS, IAM and S3
 * (test/helpers/aws-http.ts) that AWS_ENDPOINT_URL_STS/IAM/S3 point it at: the SDK's serialisation, signing,
 * retries and credential chain all run as they would against AWS.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  startAwsHttp,
  type AwsHttpFake,
  type AwsHttpOptions,
  type FaultKind,
  type Service,
} from '../../helpers/aws-http.js';
import { awsOperatorPolicy } from '../../../lib/policies.js';
import { BIN, freshProject, ROOT, runBinAsync, snapshot } from '../../helpers/run.js';
import { remountReadOnly, tmpfs, unmountAll } from '../../helpers/sandbox.js';

const PKG = 'demo_heritage';
const USER = 'arches-demo-heritage-media';
const BUCKET = 'arches-bin-media';
const REGION = 'eu-west-2';
const PROBE_ENV = {
  ARCHES_STORAGE_PROBE_MIN_DELAY: '0.2',
  ARCHES_STORAGE_PROBE_MAX_DELAY: '0.4',
  ARCHES_STORAGE_PROBE_TIMEOUT: '20',
  CI: 'true',
  NO_COLOR: '1',
};
const BASE_ARGS = [
  '--skip-prompts',
  '--bucket',
  BUCKET,
  '--region',
  REGION,
  '--cors-origin',
  'https://arches.example.org',
];

type Result = { status: number | null; stdout: string; stderr: string };

/** Every issued key id and secret replaced, so two runs' files and states compare equal. */
function normalise(text: string): string {
  return text
    .replace(/AKIA[A-Z0-9]{16}/g, 'AKIA-KEY')
    .replace(/(SECRET_ACCESS_KEY\s*[=:]\s*"?)([^"\s]+)/g, '$1SECRET');
}

describe('the bin provisions AWS over the wire (loopback HTTP fake of STS, IAM, S3)', function () {
  this.timeout(180_000);
  const fakes: AwsHttpFake[] = [];
  const dirs: string[] = [];
  after(async () => {
    for (const f of fakes) await f.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function setup(options: AwsHttpOptions = {}): Promise<{ fake: AwsHttpFake; dir: string }> {
    // The operator holds exactly the README's operator policy: a call it does not allow answers AccessDenied.
    const fake = await startAwsHttp({
      keyPropagationMs: 400,
      operatorPolicy: awsOperatorPolicy(BUCKET, USER, '*'),
      ...options,
    });
    fakes.push(fake);
    const dir = freshProject('7.6');
    dirs.push(dir);
    return { fake, dir };
  }
  const bin = (fake: AwsHttpFake, dir: string, extra: string[] = []): Promise<Result> =>
    runBinAsync(['aws', '--project', dir, ...BASE_ARGS, ...extra], { env: { ...fake.env(), ...PROBE_ENV } });
  const ok = (r: Result, what: string): void =>
    assert.equal(r.status, 0, `${what} exited ${r.status}:\n${r.stdout}\n${r.stderr.slice(-3000)}`);
  const settingsLocal = (dir: string): string =>
    readFileSync(path.join(dir, PKG, 'settings_local.py'), 'utf8');
  const since = (fake: AwsHttpFake, n: number) => fake.calls.slice(n);
  const mutating = (fake: AwsHttpFake, n = 0) =>
    since(fake, n)
      .filter((c) => /^(Create|Put|Delete|Update|Tag|Untag)/.test(c.operation))
      .map((c) => `${c.service}:${c.operation}`);
  /** The end state, comparable between runs: the fake's resources and every project file. */
  async function endState(
    fake: AwsHttpFake,
    dir: string,
  ): Promise<{ cloud: string; files: Record<string, string> }> {
    const files = Object.fromEntries([...snapshot(dir)].map(([k, v]) => [k, normalise(v)]));
    return { cloud: normalise(JSON.stringify(await fake.state(), null, 1)), files };
  }

  // -------------------------------------------------------------------------------------------------------

  it('fresh account: bucket, settings, user, policy and one key are created over HTTP and the key is verified', async function () {
    const { fake, dir } = await setup();
    const r = await bin(fake, dir);
    ok(r, 'the run');
    // No noise for a no-prompt run: no SDK multi-line warning, no Yeoman "force <file>" lines; one note at most.
    assert.doesNotMatch(r.stderr, /NodeVersionSupportWarning|^\s*force /m);
    assert.ok((r.stderr.match(/past end of life/g) ?? []).length <= 1, r.stderr);
    const bucket = (await fake.bucket(BUCKET))!;
    assert.equal(bucket.owner, fake.accountId);
    assert.equal(bucket.region, REGION);
    assert.deepEqual(bucket.publicAccessBlock, {
      BlockPublicAcls: true,
      IgnorePublicAcls: true,
      BlockPublicPolicy: true,
      RestrictPublicBuckets: true,
    });
    assert.equal(bucket.tags?.['managed-by'], 'generator-arches-storage');
    assert.equal(bucket.tags?.['arches-project'], PKG);
    assert.match(JSON.stringify(bucket.cors), /https:\/\/arches\.example\.org/);
    assert.deepEqual(bucket.objects, [], 'the probe object was deleted');
    const user = fake.user(USER)!;
    assert.equal(user.tags['managed-by'], 'generator-arches-storage');
    assert.deepEqual(Object.keys(user.policies), ['arches-storage-media']);
    assert.equal(user.keys.length, 1);
    assert.ok(settingsLocal(dir).includes(user.keys[0]!.id), 'the new key id is in settings_local.py');
    // The probe really succeeded with the app key, once it had propagated.
    const probe = fake.callsOf('s3', 'PutObject').filter((c) => c.accessKeyId === user.keys[0]!.id);
    assert.ok(
      probe.some((c) => c.status === 200),
      'a PutObject with the app key succeeded',
    );
    assert.ok(probe[0]!.at >= 0);
    // The operator's bucket calls prove ownership (ExpectedBucketOwner) — every one of them.
    const bucketCalls = fake
      .callsOf('s3')
      .filter((c) => c.operation !== 'CreateBucket' && c.operation !== 'ListBuckets');
    const unproved = bucketCalls
      .filter((c) => c.params.ExpectedBucketOwner !== fake.accountId)
      .map((c) => c.operation);
    assert.deepEqual([...new Set(unproved)], [], 'calls without ExpectedBucketOwner');
  });

  it('re-run: no new key, nothing duplicated, and only reads (plus the probe) are made', async function () {
    const { fake, dir } = await setup();
    ok(await bin(fake, dir), 'the first run');
    const before = await endState(fake, dir);
    const n = fake.calls.length;
    ok(await bin(fake, dir), 'the re-run');
    assert.deepEqual(await endState(fake, dir), before);
    const changes = mutating(fake, n).filter((c) => c !== 's3:PutObject' && c !== 's3:DeleteObject');
    assert.deepEqual(changes, [], 'the re-run changed nothing');
  });

  it('adopts a configured bucket: its SSE-KMS, tags, policy, lifecycle, CORS, versioning and logging stay; ours are added', async function () {
    const { fake, dir } = await setup();
    const theirCors = { AllowedMethod: ['PUT'], AllowedOrigin: ['https://upload.example.org'] };
    const policy = {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'DenyInsecureTransport',
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:*',
          Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        },
      ],
    };
    await fake.seedBucket(BUCKET, {
      region: REGION,
      encryption: {
        algorithm: 'aws:kms',
        kmsKeyId: `arn:aws:kms:${REGION}:${fake.accountId}:key/their-key`,
        bucketKeyEnabled: true,
      },
      tags: { team: 'heritage', 'cost-centre': '42' },
      policy,
      lifecycle: [
        { ID: 'expire-tmp', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: '7' } },
      ],
      cors: [theirCors],
      versioning: 'Enabled',
      logging: { TargetBucket: 'their-logs', TargetPrefix: 'media/' },
    });
    const seeded = (await fake.bucket(BUCKET))!;
    ok(await bin(fake, dir), 'the run');
    const after = (await fake.bucket(BUCKET))!;
    assert.deepEqual(after.encryption, seeded.encryption, 'SSE-KMS stays');
    assert.deepEqual(after.policy, seeded.policy, 'their policy stays');
    assert.deepEqual(after.lifecycle?.[0], seeded.lifecycle![0], 'their lifecycle rule stays, first');
    assert.deepEqual(
      after.lifecycle?.slice(1).map((r) => r.ID),
      [
        'arches-storage-expire-uploadedfiles-tmp',
        'arches-storage-expire-archestemp',
        'arches-storage-abort-incomplete-uploads',
      ],
      'ours are added',
    );
    assert.deepEqual(after.logging, seeded.logging);
    assert.equal(after.versioning, 'Enabled');
    assert.equal(after.owner, seeded.owner);
    for (const [k, v] of Object.entries(seeded.tags!))
      assert.equal(after.tags?.[k], v, `their tag ${k} stays`);
    assert.equal(after.tags?.['managed-by'], 'generator-arches-storage', 'ours is added');
    assert.ok(
      JSON.stringify(after.cors).includes(JSON.stringify(theirCors).slice(1, -1)),
      'their CORS rule stays',
    );
    assert.match(JSON.stringify(after.cors), /https:\/\/arches\.example\.org/, 'ours is merged in');
    assert.equal(fake.callsOf('s3', 'CreateBucket').length, 0);
    // A re-run puts nothing; teardown (with the README's operator policy) puts back exactly their rules.
    const n = fake.calls.length;
    ok(await bin(fake, dir), 'the re-run');
    assert.deepEqual(fake.callsOf('s3', 'PutBucketLifecycleConfiguration').length, 1, 'put once only');
    assert.ok(fake.calls.length > n);
    ok(await bin(fake, dir, ['--destroy']), 'the teardown');
    assert.deepEqual((await fake.bucket(BUCKET))!.lifecycle, seeded.lifecycle, 'their rules, exactly');
  });

  it('a bucket of another account: 403, nothing created, exit code 2 and a message naming it', async function () {
    const { fake, dir } = await setup();
    await fake.seedBucket(BUCKET, { owner: '999988887777', region: REGION });
    const r = await bin(fake, dir);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`${BUCKET}[\\s\\S]*(another|taken)`));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.deepEqual(mutating(fake), [], 'nothing was created');
    assert.deepEqual(fake.userNames(), []);
  });

  it('an IAM user not made by the generator (untagged, or tagged for another project) gets no policy or key; --adopt-user allows it', async function () {
    const variants: Array<Record<string, string>> = [
      {},
      { 'managed-by': 'generator-arches-storage', 'arches-project': 'another_project' },
    ];
    for (const tags of variants) {
      const { fake, dir } = await setup();
      fake.seedUser(USER, { tags });
      const r = await bin(fake, dir);
      assert.notEqual(r.status, 0, `refused (${JSON.stringify(tags)})`);
      assert.match(r.stderr, new RegExp(USER));
      assert.match(r.stderr, /--adopt-user/);
      assert.deepEqual(fake.user(USER)?.policies, {}, 'no policy given');
      assert.deepEqual(fake.user(USER)?.keys, [], 'no key given');
      assert.deepEqual(
        mutating(fake).filter((c) => c.startsWith('iam:')),
        [],
      );
      ok(await bin(fake, dir, ['--adopt-user']), 'with --adopt-user');
      assert.deepEqual(Object.keys(fake.user(USER)!.policies), ['arches-storage-media']);
      assert.equal(fake.user(USER)!.keys.length, 1);
    }
  });

  it('a user of ours with two unrecorded keys: refused without --rotate-key (never a third key), replaced with it', async function () {
    const { fake, dir } = await setup();
    const old = fake.seedUser(USER, {
      tags: { 'managed-by': 'generator-arches-storage', 'arches-project': PKG },
      keys: 2,
    });
    const r = await bin(fake, dir);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /--rotate-key/);
    assert.equal(fake.callsOf('iam', 'CreateAccessKey').length, 0, 'no third key was asked for');
    assert.equal(fake.user(USER)!.keys.length, 2);
    ok(await bin(fake, dir, ['--rotate-key']), 'with --rotate-key');
    const keys = fake.user(USER)!.keys.map((k) => k.id);
    assert.ok(keys.length <= 2);
    const stored = keys.find((k) => settingsLocal(dir).includes(k));
    assert.ok(stored && !old.some((o) => o.accessKeyId === stored), 'the new key is the stored one');
    assert.ok(!keys.includes(old[0]!.accessKeyId), 'the oldest unrecorded key was deleted');
  });

  // -------------------------------------------------------------------------------------------------------
  // Faults at each step.

  const STEPS: Array<{ step: string; service: Service; operation: string; transient: FaultKind }> = [
    { step: 'identify', service: 'sts', operation: 'GetCallerIdentity', transient: 'Throttling' },
    { step: 'identify', service: 's3', operation: 'HeadBucket', transient: 'InternalError' },
    { step: 'identify', service: 'iam', operation: 'GetUser', transient: 'ECONNRESET' },
    { step: 'create-bucket', service: 's3', operation: 'CreateBucket', transient: 'SlowDown' },
    {
      step: 'public-access-block',
      service: 's3',
      operation: 'PutPublicAccessBlock',
      transient: 'InternalError',
    },
    { step: 'ownership', service: 's3', operation: 'PutBucketOwnershipControls', transient: 'InternalError' },
    { step: 'encryption', service: 's3', operation: 'PutBucketEncryption', transient: 'ECONNRESET' },
    { step: 'cors', service: 's3', operation: 'PutBucketCors', transient: 'SlowDown' },
    { step: 'tags', service: 's3', operation: 'PutBucketTagging', transient: 'InternalError' },
    {
      step: 'lifecycle',
      service: 's3',
      operation: 'PutBucketLifecycleConfiguration',
      transient: 'SlowDown',
    },
    { step: 'create-user', service: 'iam', operation: 'CreateUser', transient: 'Throttling' },
    { step: 'user-policy', service: 'iam', operation: 'PutUserPolicy', transient: 'InternalError' },
    { step: 'create-access-key', service: 'iam', operation: 'CreateAccessKey', transient: 'Throttling' },
    { step: 'verify', service: 's3', operation: 'PutObject', transient: 'InternalError' },
  ];

  describe('a fault at each step', function () {
    let baseline: { cloud: string; files: Record<string, string> };
    before(async function () {
      const { fake, dir } = await setup();
      ok(await bin(fake, dir), 'the no-fault run');
      baseline = await endState(fake, dir);
    });

    for (const s of STEPS) {
      it(`${s.service}:${s.operation} (${s.step}): twice ${s.transient} is retried; a persistent denial stops naming the step, and the re-run ends where a clean run does`, async function () {
        const [transient, persistent] = await Promise.all([setup(), setup()]);
        transient.fake.fault(s.service, s.operation, { kind: s.transient, times: 2 });
        persistent.fake.fault(s.service, s.operation, { kind: 'AccessDenied', persistent: true });
        const [t, p] = await Promise.all([
          bin(transient.fake, transient.dir),
          bin(persistent.fake, persistent.dir),
        ]);
        ok(t, `the run with a transient ${s.transient}`);
        assert.ok(
          transient.fake.callsOf(s.service, s.operation).filter((c) => c.status !== 200 && c.status !== 204)
            .length >= 2,
          'the faults were hit (and retried by the SDK)',
        );
        assert.deepEqual(
          await endState(transient.fake, transient.dir),
          baseline,
          'same end state as with no fault',
        );

        assert.notEqual(p.status, 0, 'the persistent fault stops the run');
        if (s.operation === 'HeadBucket') {
          // A HEAD answer has no body: a 403 is "taken by another account or not readable by you".
          assert.match(p.stderr, /HeadBucket[\s\S]*403/);
        } else {
          assert.match(
            p.stderr,
            new RegExp(s.step === 'identify' ? 'read-only|identify|Looking' : `\\(${s.step}\\)|${s.step}`),
          );
          assert.match(p.stderr, /AccessDenied/);
        }
        assert.doesNotMatch(p.stderr, /\n\s+at /, 'no stack trace');
        persistent.fake.clearFaults();
        ok(await bin(persistent.fake, persistent.dir), 'the re-run without the fault');
        assert.deepEqual(
          await endState(persistent.fake, persistent.dir),
          baseline,
          'the re-run ends where a clean run does',
        );
      });
    }
  });

  // -------------------------------------------------------------------------------------------------------

  it('teardown with undeletable objects stops naming them, in bounded time; the bucket and the held object stay', async function () {
    const { fake, dir } = await setup();
    ok(await bin(fake, dir), 'the provisioning run');
    await fake.seedObject(BUCKET, 'uploadedfiles/photo.jpg');
    await fake.seedObject(BUCKET, 'uploadedfiles/held-by-legal.pdf', 'held', { locked: true });
    const started = Date.now();
    const r = await runBounded(
      ['aws', '--project', dir, ...BASE_ARGS, '--destroy', '--delete-bucket', '--delete-objects'],
      { ...fake.env(), ...PROBE_ENV },
      60_000,
    );
    const seconds = (Date.now() - started) / 1000;
    assert.ok(seconds < 60, `bounded (${seconds} s)`);
    assert.notEqual(r.status, 0, r.stdout + r.stderr);
    assert.notEqual(r.status, null, 'it ended by itself (not killed)');
    assert.match(r.stderr, /held-by-legal\.pdf/);
    assert.match(r.stderr, /AccessDenied/);
    const b = await fake.bucket(BUCKET);
    assert.deepEqual(b?.objects, ['uploadedfiles/held-by-legal.pdf']);
    assert.ok(fake.callsOf('s3', 'DeleteObjects').length <= 10, 'a bounded number of passes');
  });

  it('a read-only project folder stops the run before any cloud call (pre-flight), exit 1, one line', async function () {
    const { fake, dir } = await setup();
    const pkg = path.join(dir, PKG);
    const saved = snapshot(pkg);
    try {
      // The package folder becomes a read-only tmpfs holding the same files.
      tmpfs(1024, pkg);
      for (const [rel, content] of saved) {
        mkdirSync(path.dirname(path.join(pkg, rel)), { recursive: true });
        writeFileSync(path.join(pkg, rel), content);
      }
      remountReadOnly(pkg);
      const before = snapshot(dir);
      const r = await bin(fake, dir);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /EROFS/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.deepEqual(mutating(fake), [], 'no cloud call changed anything');
      assert.deepEqual(snapshot(dir), before, 'nothing written, not even .yo-rc.json');
    } finally {
      unmountAll();
    }
  });

  it('--json on failure: stdout is exactly one JSON document with ok:false, the failed step and what exists', async function () {
    const { fake, dir } = await setup();
    fake.fault('s3', 'PutBucketTagging', { kind: 'AccessDenied', persistent: true });
    const r = await bin(fake, dir, ['--json']);
    assert.notEqual(r.status, 0);
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(r.stdout) as Record<string, unknown>;
    } catch {
      assert.fail(`stdout is not one JSON document:\n${r.stdout}`);
    }
    assert.equal(doc.ok, false);
    assert.equal(doc.failedStep, 'tags');
    assert.match(JSON.stringify(doc.exists ?? doc.state), new RegExp(BUCKET));
    assert.match(String(doc.error), /AccessDenied/);
  });
});

/** The bin, killed after `ms` if it has not ended (runBinAsync has no time limit). */
function runBounded(args: string[], env: Record<string, string | undefined>, ms: number): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: ms,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
