/**
 * Plans are data, applied by one runner, recorded by one journal, shown by a view of the runner's events:
 *
 * - the AWS plan is plain data (JSON round-trips it), and applying it sends exactly the calls it holds
 *   (service, command, input), no more;
 * - the state is typed fields changed by each step's recorded change, and what the journal writes is the
 *   state those changes give, other keys and namespaces of .yo-rc.json kept;
 * - the summary's "created" and "adopted" come from the plan's resources, not from its sentences;
 * - progress is on the given stream, a line per start and finish without a terminal, no colour under
 *   NO_COLOR, and no redrawn line in CI.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { awsProvisioner } from '../../../generators/aws/provisioner.js';
import { showProgress, type ProgressStream } from '../../../generators/base/progress.js';
import { applyChange, Journal, recordedResources } from '../../../lib/provision/journal.js';
import { s3LifecycleRules } from '../../../lib/policies.js';
import { inMemory, runSteps } from '../../../lib/provision/runner.js';
import {
  planData,
  type PlanStep,
  type ProvisionRequest,
  type SdkCall,
} from '../../../lib/provision/types.js';
import { FakeAws } from '../../helpers/fake-aws.js';
import { freshProject, runGenerator } from '../../helpers/run.js';
import { startS3rver, type RunningS3 } from '../../helpers/s3rver.js';

const PKG = 'demo_heritage';
const USER = 'arches-demo-heritage-media';

describe('plans are data: one runner, one journal, progress as a view', function () {
  let s3: RunningS3;
  const fakes: FakeAws[] = [];
  const dirs: string[] = [];
  before(async () => {
    s3 = await startS3rver();
  });
  after(async () => {
    fakes.forEach((f) => f.restore());
    await s3.stop();
    dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  });
  const fakeAws = (): FakeAws => {
    const fake = new FakeAws({ s3rverEndpoint: s3.endpoint, keyPropagationMs: 300 });
    fakes.push(fake);
    return fake;
  };
  const request = (
    fake: FakeAws,
    bucket: string,
    extra: Partial<ProvisionRequest> = {},
  ): ProvisionRequest => {
    const clients = fake.clients();
    return {
      answers: {
        provider: 'aws',
        bucket,
        region: 'eu-west-2',
        iamUser: USER,
        corsOrigins: ['https://arches.example.org'],
        publicRead: false,
      },
      pkg: PKG,
      state: {},
      flags: {
        rotateKey: false,
        adoptUser: false,
        useOperatorKey: false,
        deleteBucket: false,
        deleteObjects: false,
      },
      probe: { minDelaySeconds: 0.05, maxDelaySeconds: 0.1, maxWaitSeconds: 10 },
      factory: () => clients,
      warn: () => undefined,
      ...extra,
    };
  };
  /**
   * A call as "service:command input", without the probe's body (a timestamp) and the fake's note of which
   * key signed it (`as`).
   */
  const key = (c: { service: string; command?: string; operation?: string; input: object }): string => {
    const { Body: _body, as: _as, ...input } = c.input as Record<string, unknown>;
    return `${c.service}:${c.command ?? c.operation} ${JSON.stringify(input)}`;
  };

  it('the plan is plain data, and applying it sends exactly the calls it holds', async function () {
    const fake = fakeAws();
    const req = request(fake, 'arches-plan-exact');
    const plan = awsProvisioner.plan(req, await awsProvisioner.discover(req));
    const data = planData(plan);
    assert.deepEqual(JSON.parse(JSON.stringify(data)), data, 'no function, no class instance in the plan');
    assert.deepEqual(
      plan.steps.map((s) => s.id),
      [
        'create-bucket',
        'public-access-block',
        'ownership',
        'encryption',
        'cors',
        'lifecycle',
        'tags',
        'create-user',
        'user-policy',
        'create-access-key',
        'verify',
      ],
    );
    // The lifecycle rules sent are exactly the document the overlay writes (lib/policies.ts s3LifecycleRules).
    const lifecycle = plan.steps.find((s) => s.id === 'lifecycle')!;
    assert.deepEqual(lifecycle.calls, [
      {
        service: 's3',
        command: 'PutBucketLifecycleConfiguration',
        input: {
          Bucket: 'arches-plan-exact',
          LifecycleConfiguration: s3LifecycleRules(),
          ExpectedBucketOwner: plan.state.accountId,
        },
      },
    ]);
    assert.deepEqual(data.documents['lifecycle.json'], s3LifecycleRules());
    const create = plan.steps.find((s) => s.id === 'create-bucket')!;
    assert.deepEqual(create.calls, [
      {
        service: 's3',
        command: 'CreateBucket',
        input: {
          Bucket: 'arches-plan-exact',
          CreateBucketConfiguration: { LocationConstraint: 'eu-west-2' },
        },
      },
    ]);
    assert.deepEqual(create.record, {
      set: {
        bucket: {
          name: 'arches-plan-exact',
          arn: 'arn:aws:s3:::arches-plan-exact',
          created: true,
        },
      },
    });
    // The policy is sent as the JSON text the plan shows, not an object turned into text on the way.
    const policy = plan.steps.find((s) => s.id === 'user-policy')!.calls[0]!;
    assert.equal(
      (policy.input as { PolicyDocument: string }).PolicyDocument,
      JSON.stringify(plan.documents['aws-user-policy.json']),
    );

    const before = fake.requests.length;
    const recorder = inMemory(plan.state);
    await runSteps(plan.steps, plan.clients, { recorder });
    const sent = fake.requests.slice(before).map(key);
    const planned = plan.steps.flatMap((s) => s.calls.map((c: SdkCall) => key(c)));
    const maybe = plan.steps.flatMap((s) => (s.maySend ?? []).map((c: SdkCall) => key(c)));
    assert.deepEqual(maybe, ['sts:GetCallerIdentity {}'], 'the probe asks STS about the key on a denial');
    // Every planned call was sent as planned; nothing was sent that the plan does not hold (the probe may
    // repeat its calls while the key propagates).
    for (const p of planned) assert.ok(sent.includes(p), `sent as planned: ${p}`);
    for (const s of sent) assert.ok(planned.includes(s) || maybe.includes(s), `planned: ${s}`);
    // The state is what the steps recorded: the key id from CreateAccessKey's answer, the probe's verdict.
    const state = recorder.state;
    assert.equal(state.accessKeyId, fake.iam.get(USER)!.keys[0]!.id);
    assert.equal(state.bucket?.verified, true);
    assert.deepEqual(state.bucket?.tags, ['arches-project', 'managed-by']);
    assert.equal(recorder.savedKey?.secretAccessKey, fake.iam.get(USER)!.keys[0]!.secret);
  });

  it('a state change is typed data: merged, removed with null, in one key order', function () {
    const start = {
      region: 'eu-west-2',
      accountId: '123456789012',
      bucket: { name: 'b', created: true, configured: true },
      accessKeyId: 'AKIA1',
      previousAccessKeyId: 'AKIA0',
    };
    const next = applyChange(start, {
      set: { previousAccessKeyId: null },
      bucket: { verified: true, cors: 'created', configured: null },
    });
    assert.equal(
      JSON.stringify(next),
      JSON.stringify({
        accountId: '123456789012',
        region: 'eu-west-2',
        bucket: { name: 'b', created: true, cors: 'created', verified: true },
        accessKeyId: 'AKIA1',
      }),
    );
    assert.throws(() => applyChange({}, { user: { policyName: 'x' } }), /before the user is recorded/);
  });

  it('the journal writes each change at once and keeps the rest of .yo-rc.json', function () {
    const root = mkdtempSync(path.join(tmpdir(), 'h3-journal-'));
    dirs.push(root);
    const rc = path.join(root, '.yo-rc.json');
    writeFileSync(
      rc,
      JSON.stringify({
        'another-generator': { keep: true },
        'generator-arches-storage': { provider: 'aws', resources: { gcs: { region: 'x' } }, created: ['a'] },
      }),
    );
    const journal = new Journal({
      root,
      provider: 'aws',
      state: { region: 'eu-west-2' },
      secretChanges: () => [],
      settingsLocal: `${PKG}/settings_local.py`,
    });
    journal.record({ set: { bucket: { name: 'b', created: true } } });
    const read = () => JSON.parse(readFileSync(rc, 'utf8')) as Record<string, Record<string, unknown>>;
    assert.deepEqual(read()['another-generator'], { keep: true });
    assert.deepEqual(read()['generator-arches-storage']!.created, ['a']);
    assert.deepEqual(recordedResources(root), {
      gcs: { region: 'x' },
      aws: { region: 'eu-west-2', bucket: { name: 'b', created: true } },
    });
    journal.settle(undefined);
    assert.deepEqual(recordedResources(root), { gcs: { region: 'x' } });
  });

  it('the summary says what was created and what adopted, from the plan’s resources', async function () {
    const fake = fakeAws();
    const bucket = 'arches-plan-adopted';
    await fake.seedBucket(bucket, { tags: [{ Key: 'team', Value: 'heritage-data' }] });
    const dir = freshProject('7.6');
    dirs.push(dir);
    const out = await captureStdout(() =>
      runGenerator(
        'aws',
        dir,
        {
          'skip-prompts': true,
          bucket,
          region: 'eu-west-2',
          'cors-origin': ['https://arches.example.org'],
          json: true,
          clientsFactory: () => fake.clients(),
        },
        { env: { ARCHES_STORAGE_PROBE_MIN_DELAY: '0.1', ARCHES_STORAGE_PROBE_MAX_DELAY: '0.2' } },
      ),
    );
    const summary = JSON.parse(out.slice(out.indexOf('{'))) as { created: string[]; adopted: string[] };
    const key = fake.iam.get(USER)!.keys[0]!.id;
    assert.deepEqual(summary.created, [`IAM user ${USER}`, `access key ${key}`]);
    assert.deepEqual(summary.adopted, [`bucket ${bucket} (its settings are kept)`]);
    await s3.client.send(new HeadBucketCommand({ Bucket: bucket }));
    // What the journal recorded is on disk, as the generator's last write left it.
    const rc = JSON.parse(readFileSync(path.join(dir, '.yo-rc.json'), 'utf8')) as {
      'generator-arches-storage': {
        resources: { aws: { accessKeyId: string; bucket: { created: boolean } } };
      };
    };
    assert.equal(rc['generator-arches-storage'].resources.aws.accessKeyId, key);
    assert.equal(rc['generator-arches-storage'].resources.aws.bucket.created, false);
  });

  describe('progress is a view of the runner’s events', function () {
    const steps: PlanStep[] = [
      { id: 'create-bucket', title: 'Create bucket b', needs: [], calls: [] },
      { id: 'cors', title: 'CORS for o', needs: ['create-bucket'], calls: [] },
      { id: 'tags', title: 'Tag the bucket', needs: ['create-bucket'], calls: [] },
    ];
    function stream(tty: boolean, colours: boolean): { out: ProgressStream; text: () => string } {
      let text = '';
      const out: ProgressStream = {
        isTTY: tty,
        columns: 120,
        hasColors: () => colours,
        write: (t) => (text += t),
      };
      return { out, text: () => text };
    }
    function play(options: Parameters<typeof showProgress>[1]): void {
      const p = showProgress(steps, options);
      p.events.start!(steps[0]!);
      p.events.done!(steps[0]!, 1200);
      p.events.start!(steps[1]!);
      p.events.fail!(steps[1]!, Object.assign(new Error('denied'), { name: 'AccessDenied' }));
      p.close();
    }

    it('without a terminal: a plain line per start and finish, and the steps never started', function () {
      const s = stream(false, false);
      play({ interactive: true, stream: s.out, env: {} });
      assert.equal(
        s.text(),
        [
          '… Create bucket b',
          '✔ Create bucket b (1.2 s)',
          '… CORS for o',
          '✖ CORS for o: AccessDenied: denied',
          '- Tag the bucket: not started',
          '',
        ].join('\n'),
      );
    });

    it('CI on a terminal: plain lines too (no redrawn line); NO_COLOR: no colour', function () {
      const s = stream(true, false);
      play({ interactive: true, stream: s.out, env: { CI: 'true' } });
      assert.doesNotMatch(s.text(), /\r/);
      assert.doesNotMatch(s.text(), /\x1b\[/);
      assert.match(s.text(), /^… Create bucket b$/m);
    });

    it('an interactive terminal: one redrawn line for what is running, colour only where the terminal has it', function () {
      const plain = stream(true, false);
      play({ interactive: true, stream: plain.out, env: {} });
      assert.match(plain.text(), /\r\x1b\[2K/);
      assert.doesNotMatch(plain.text(), /\x1b\[\d+m/, 'no colour where the terminal has none (NO_COLOR)');
      assert.doesNotMatch(plain.text(), /^… /m, 'starts are shown on the live line, not as lines');
      assert.match(plain.text(), /✔ Create bucket b \(1\.2 s\)\n/);
      const coloured = stream(true, true);
      play({ interactive: true, stream: coloured.out, env: {} });
      assert.match(coloured.text(), /\x1b\[32m✔/);
    });
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
