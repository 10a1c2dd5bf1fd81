/**
 * Whole runs: switching providers, idempotence, no-prompt mode, refusals that write nothing, secrets,
 * interactive prompts, the app generator, and the package bin behaving like yeoman-test's runs.
 */
import assert from 'node:assert/strict';
import fs, {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { spawnSync } from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createEnv } from 'yeoman-environment';
import Generator from 'yeoman-generator';
import { END, MARK_PREFIX_END } from '../../lib/blocks.js';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { PROVIDER_OPTION, providerById } from '../../generators/registry.js';
import { S3_SERVICE_PRESETS, S3_SERVICES } from '../../generators/s3-compatible/services.js';
import {
  BIN,
  freshProject,
  generatorPath,
  NO_PROMPT,
  PROVIDER_OPTIONS,
  quietAdapter,
  ROOT,
  runBin,
  runGenerator,
  runOnTerminal,
  snapshot,
} from '../helpers/run.js';
import { S3RVER_KEY, startS3rver, type RunningS3 } from '../helpers/s3rver.js';

const PKG = 'demo_heritage';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const KEY_ID = 'AKIAIOSFODNN7EXAMPLE';

/** Options as bin flags. */
const flags = (o: Record<string, unknown>): string[] =>
  Object.entries(o).flatMap(([k, v]) =>
    Array.isArray(v)
      ? v.flatMap((x) => [`--${k}`, String(x)])
      : v === true
        ? [`--${k}`]
        : v === false
          ? [`--no-${k}`]
          : [`--${k}`, String(v)],
  );

function withoutRc(s: Map<string, string>): Map<string, string> {
  const copy = new Map(s);
  copy.delete('.yo-rc.json');
  return copy;
}

/** Asserts that running rejects with a message matching every pattern, and that nothing changed on disk. */
async function assertRefused(dir: string, run: () => Promise<unknown>, patterns: RegExp[]): Promise<Error> {
  const before = snapshot(dir);
  const error = await run().then(
    () => assert.fail('the run should have been refused'),
    (e: unknown) => e as Error,
  );
  for (const p of patterns) assert.match(error.message, p);
  assert.deepEqual(snapshot(dir), before, 'nothing written');
  return error;
}

describe('generator flows', function () {
  const dirs: string[] = [];
  const project = (...args: Parameters<typeof freshProject>): string => {
    const d = freshProject(...args);
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  describe('switching providers', function () {
    for (const id of ['7.4', '7.6', '6.2'] as const) {
      it(`aws → gcs → azure → aws restores the aws overlay byte for byte; local restores the project (${id})`, async function () {
        const dir = project(id);
        const original = snapshot(dir);
        await runGenerator('aws', dir, { ...NO_PROMPT, ...PROVIDER_OPTIONS.aws });
        const firstAws = snapshot(dir);
        await runGenerator('gcs', dir, { ...NO_PROMPT, ...PROVIDER_OPTIONS.gcs });
        const gcs = snapshot(dir);
        assert.notDeepEqual(gcs, firstAws);
        assert.ok(!gcs.has('arches-storage/aws-user-policy.json'), 'aws policy removed when switching');
        assert.doesNotMatch(gcs.get(`${PKG}/settings.py`)!, /S3Storage|S3Boto3Storage/);
        await runGenerator('azure', dir, { ...NO_PROMPT, ...PROVIDER_OPTIONS.azure });
        // Back to aws with no answers at all: .yo-rc.json remembers them.
        await runGenerator('aws', dir, NO_PROMPT);
        assert.deepEqual(withoutRc(snapshot(dir)), withoutRc(firstAws));
        await runGenerator('local', dir, { 'skip-prompts': true });
        const local = snapshot(dir);
        assert.ok(local.has('.yo-rc.json'), '.yo-rc.json stays');
        assert.deepEqual(withoutRc(local), original, 'local leaves the project as it was');
      });
    }

    it('the same run twice changes nothing', async function () {
      const dir = project('7.5');
      await runGenerator('s3-compatible', dir, { ...NO_PROMPT, ...PROVIDER_OPTIONS['s3-compatible'] });
      const once = snapshot(dir);
      await runGenerator('s3-compatible', dir, { ...NO_PROMPT, ...PROVIDER_OPTIONS['s3-compatible'] });
      assert.deepEqual(snapshot(dir), once);
    });
  });

  describe('no-prompt mode', function () {
    it('names every missing option in one message, asks nothing and writes nothing', async function () {
      const dir = project('7.4');
      const error = await assertRefused(dir, () => runGenerator('aws', dir, NO_PROMPT), [
        /--bucket/,
        /--region/,
        /--cors-origin/,
        /ARCHES_STORAGE_BUCKET/,
      ]);
      assert.equal((error as Error & { exitCode?: number }).exitCode, 2);
      assert.ok(!existsSync(path.join(dir, '.yo-rc.json')));
    });

    it('is the default when CI=true: answers come from ARCHES_STORAGE_* variables', async function () {
      const dir = project('7.6');
      const result = await runGenerator(
        'aws',
        dir,
        { provision: false },
        {
          env: {
            CI: 'true',
            ARCHES_STORAGE_BUCKET: 'arches-from-env',
            ARCHES_STORAGE_REGION: 'ca-central-1',
            ARCHES_STORAGE_CORS_ORIGINS: 'https://a.example.org, https://b.example.org',
          },
        },
      );
      assert.deepEqual(result.askedQuestions, []);
      const settings = readFileSync(path.join(dir, PKG, 'settings.py'), 'utf8');
      assert.match(settings, /"bucket_name": "arches-from-env"/);
      assert.match(settings, /"region_name": "ca-central-1"/);
      const cors = JSON.parse(readFileSync(path.join(dir, 'arches-storage/cors.json'), 'utf8')) as {
        CORSRules: Array<{ AllowedOrigins: string[] }>;
      };
      assert.deepEqual(cors.CORSRules[0]!.AllowedOrigins, ['https://a.example.org', 'https://b.example.org']);
    });

    it('options win over the environment, which wins over .yo-rc.json', async function () {
      const dir = project('7.6');
      await runGenerator('aws', dir, { ...NO_PROMPT, ...PROVIDER_OPTIONS.aws, bucket: 'arches-remembered' });
      await runGenerator(
        'aws',
        dir,
        { ...NO_PROMPT, region: 'us-west-2' },
        { env: { ARCHES_STORAGE_BUCKET: 'arches-env-bucket', ARCHES_STORAGE_REGION: 'eu-north-1' } },
      );
      const settings = readFileSync(path.join(dir, PKG, 'settings.py'), 'utf8');
      assert.match(settings, /"bucket_name": "arches-env-bucket"/);
      assert.match(settings, /"region_name": "us-west-2"/);
    });

    for (const provider of ['gcs', 'azure']) {
      it(`stops before writing when ${provider} provisioning is asked for (not available yet)`, async function () {
        const dir = project('7.4');
        await assertRefused(
          dir,
          () => runGenerator(provider, dir, { 'skip-prompts': true, ...PROVIDER_OPTIONS[provider] }),
          [/--no-provision/, /not available yet/],
        );
      });
    }
  });

  describe('bad input is refused before anything is written', function () {
    const cases: Array<[string, string, Record<string, unknown>, RegExp[]]> = [
      ['S3 bucket with an underscore', 'aws', { bucket: 'my_app-media' }, [/--bucket/, /my_app-media/, /_/]],
      ['S3 bucket with a reserved suffix', 'aws', { bucket: 'media-s3alias' }, [/--bucket/, /-s3alias/]],
      ['AWS region', 'aws', { region: 'Europe' }, [/--region/]],
      ['IAM user name', 'aws', { 'iam-user': 'arches media!' }, [/--iam-user/]],
      [
        'CORS origin with a path',
        'aws',
        { 'cors-origin': ['https://arches.example.org/app'] },
        [/--cors-origin/],
      ],
      ['CORS wildcard', 'aws', { 'cors-origin': ['*'] }, [/--cors-origin/]],
      [
        'endpoint with the bucket in it',
        's3-compatible',
        { service: 'digitalocean', region: 'nyc3', endpoint: 'https://media.nyc3.digitaloceanspaces.com' },
        [/--endpoint/, /bucket/i],
      ],
      ['endpoint that is not a URL', 's3-compatible', { endpoint: 'minio:9000' }, [/--endpoint/]],
      ['unknown service', 's3-compatible', { service: 'dropbox' }, [/--service/, /dropbox/]],
      ['GCS bucket naming google', 'gcs', { bucket: 'google-media' }, [/--bucket/, /google/]],
      ['Azure account with capitals', 'azure', { account: 'ArchesMedia' }, [/--account/]],
      ['Azure container with a double hyphen', 'azure', { container: 'arches--media' }, [/--container/]],
      ['half a key pair', 'aws', { 'access-key-id': KEY_ID }, [/--access-key-id and --secret-access-key/]],
    ];
    for (const [what, provider, bad, patterns] of cases) {
      it(what, async function () {
        const dir = project('7.5');
        await assertRefused(
          dir,
          () => runGenerator(provider, dir, { ...NO_PROMPT, ...PROVIDER_OPTIONS[provider], ...bad }),
          patterns,
        );
      });
    }

    it('a directory that is not an Arches project', async function () {
      const dir = project('7.4');
      rmSync(path.join(dir, PKG, 'settings.py'));
      rmSync(path.join(dir, 'manage.py'));
      await assertRefused(dir, () => runGenerator('aws', dir, { ...NO_PROMPT, ...PROVIDER_OPTIONS.aws }), [
        /not an Arches project/,
      ]);
    });

    it('a working directory that no longer exists: one line, exit 2, no stack trace', function () {
      const gone = mkdtempSync(path.join(tmpdir(), 'arches-gone-'));
      // The shell stands in the folder while it is removed, then the bin starts there.
      const r = spawnSync(
        '/bin/sh',
        [
          '-c',
          `cd "$1" && rmdir "$1" && exec "$2" "$3" aws --skip-prompts`,
          'sh',
          gone,
          process.execPath,
          BIN,
        ],
        {
          encoding: 'utf8',
          cwd: tmpdir(),
        },
      );
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /The current directory no longer exists: cd into the Arches project/);
      assert.doesNotMatch(r.stderr, /at .*\(|uv_cwd/);
    });

    it('an Arches release outside 6.2–8.x', async function () {
      const dir = project('8.1');
      const pyproject = path.join(dir, 'pyproject.toml');
      writeFileSync(
        pyproject,
        readFileSync(pyproject, 'utf8').replace(/arches>=8\.1\.\d+[^"]*/, 'arches>=9.0.0,<9.1.0'),
      );
      await assertRefused(dir, () => runGenerator('aws', dir, { ...NO_PROMPT, ...PROVIDER_OPTIONS.aws }), [
        /Arches 9\.0\.0 is not supported/,
      ]);
    });
  });

  describe('protecting what the user has', function () {
    it('refuses a conflicting pin, naming file, line and the range needed', async function () {
      const dir = project('7.5');
      const req = path.join(dir, PKG, 'install/requirements.txt');
      writeFileSync(req, readFileSync(req, 'utf8').replace(/\n?$/, '\ndjango-storages==1.9.1\n'));
      const line = readFileSync(req, 'utf8').split('\n').indexOf('django-storages==1.9.1') + 1;
      await assertRefused(dir, () => runGenerator('aws', dir, { ...NO_PROMPT, ...PROVIDER_OPTIONS.aws }), [
        new RegExp(`${PKG}/install/requirements\\.txt`),
        new RegExp(`\\b${line}\\b`),
        /django-storages==1\.9\.1/,
        />=1\.14/,
      ]);
    });

    it('refuses a Django pin outside what the Arches release requires (pyproject.toml)', async function () {
      const dir = project('7.6');
      const pyproject = path.join(dir, 'pyproject.toml');
      writeFileSync(
        pyproject,
        readFileSync(pyproject, 'utf8').replace(/("arches>=7\.6[^"]*",?)/, '$1\n    "Django==5.0.1",'),
      );
      await assertRefused(dir, () => runGenerator('gcs', dir, { ...NO_PROMPT, ...PROVIDER_OPTIONS.gcs }), [
        /pyproject\.toml/,
        /Django==5\.0\.1/,
        /<5\.0\.0/,
      ]);
    });

    it('keeps a compatible declaration of the user untouched and does not add a second', async function () {
      const dir = project('7.4');
      const req = path.join(dir, PKG, 'install/requirements.txt');
      writeFileSync(req, readFileSync(req, 'utf8').replace(/\n?$/, '\nboto3==1.34.0  # ours\n'));
      const before = readFileSync(req, 'utf8');
      await runGenerator('aws', dir, { ...NO_PROMPT, ...PROVIDER_OPTIONS.aws });
      const after = readFileSync(req, 'utf8');
      assert.ok(after.startsWith(before), 'every existing line kept byte for byte');
      assert.equal(after.match(/^boto3/gm)!.length, 1);
    });

    it('refuses hand-edited markers in settings.py', async function () {
      const dir = project('7.4');
      await runGenerator('aws', dir, { ...NO_PROMPT, ...PROVIDER_OPTIONS.aws });
      const settings = path.join(dir, PKG, 'settings.py');
      writeFileSync(settings, readFileSync(settings, 'utf8').replace(END, `${MARK_PREFIX_END} end`));
      await assertRefused(dir, () => runGenerator('gcs', dir, { ...NO_PROMPT, ...PROVIDER_OPTIONS.gcs }), [
        /settings\.py:\d+/,
        /markers were edited or duplicated/,
      ]);
    });

    it('refuses a storage setting in settings_local.py that would silently win', async function () {
      const dir = project('7.6');
      writeFileSync(path.join(dir, PKG, 'settings_local.py'), 'STORAGES = {}\n');
      await assertRefused(dir, () => runGenerator('aws', dir, { ...NO_PROMPT, ...PROVIDER_OPTIONS.aws }), [
        /settings_local\.py:1 \(imported at demo_heritage\/settings\.py:\d+\): assignment to STORAGES/,
      ]);
    });
  });

  describe('secrets', function () {
    it('go only to the git-ignored settings_local.py, never to settings.py, .yo-rc.json or the overlay folder', async function () {
      const dir = project('7.4', { gitignoreSettingsLocal: false });
      const original = snapshot(dir);
      await runGenerator('aws', dir, {
        ...NO_PROMPT,
        ...PROVIDER_OPTIONS.aws,
        'access-key-id': KEY_ID,
        'secret-access-key': SECRET,
      });
      const files = snapshot(dir);
      const local = files.get(`${PKG}/settings_local.py`)!;
      assert.match(local, new RegExp(`AWS_SECRET_ACCESS_KEY = "${SECRET.replace(/\//g, '\\/')}"`));
      assert.match(local, new RegExp(`AWS_ACCESS_KEY_ID = "${KEY_ID}"`));
      for (const [p, content] of files) {
        if (p !== `${PKG}/settings_local.py`)
          assert.ok(!content.includes(SECRET) && !content.includes(KEY_ID), `${p} has no key`);
      }
      assert.match(files.get('.gitignore')!, new RegExp(`^/${PKG}/settings_local\\.py$`, 'm'));
      // Switching away keeps the keys (they are the user's); local removes everything the generator added.
      await runGenerator('gcs', dir, { ...NO_PROMPT, ...PROVIDER_OPTIONS.gcs });
      assert.match(readFileSync(path.join(dir, PKG, 'settings_local.py'), 'utf8'), /AWS_SECRET_ACCESS_KEY/);
      await runGenerator('local', dir, { 'skip-prompts': true });
      assert.deepEqual(withoutRc(snapshot(dir)), original);
    });

    it('an Azure account key goes to settings_local.py, and the block reads it from there or the environment', async function () {
      const dir = project('8.0');
      await runGenerator('azure', dir, {
        ...NO_PROMPT,
        ...PROVIDER_OPTIONS.azure,
        'account-key': 'c2VjcmV0LWtleQ==',
      });
      assert.match(
        readFileSync(path.join(dir, PKG, 'settings_local.py'), 'utf8'),
        /AZURE_ACCOUNT_KEY = "c2VjcmV0LWtleQ=="/,
      );
      const settings = readFileSync(path.join(dir, PKG, 'settings.py'), 'utf8');
      assert.ok(!settings.includes('c2VjcmV0LWtleQ=='));
      assert.match(settings, /AZURE_ACCOUNT_KEY = os\.environ\.get\("AZURE_ACCOUNT_KEY"\)/);
    });
  });

  describe('interactive runs', function () {
    it('ask for what is missing and offer remembered answers next time', async function () {
      const dir = project('7.6');
      const first = await runGenerator(
        'aws',
        dir,
        { 'skip-prompts': false, provision: false },
        {
          answers: {
            bucket: 'arches-asked-bucket',
            region: 'eu-west-1',
            corsOrigins: 'https://arches.example.org',
            iamUser: 'arches-app',
          },
        },
      );
      assert.deepEqual(
        first.askedQuestions.map((q) => q.name),
        ['bucket', 'region', 'corsOrigins', 'iamUser', 'write'],
      );
      const settings = readFileSync(path.join(dir, PKG, 'settings.py'), 'utf8');
      assert.match(settings, /"bucket_name": "arches-asked-bucket"/);
      const second = await runGenerator(
        'aws',
        dir,
        { 'skip-prompts': false, provision: false },
        {
          answers: {
            bucket: 'arches-asked-bucket',
            region: 'eu-west-1',
            corsOrigins: 'https://arches.example.org',
            iamUser: 'arches-app',
          },
        },
      );
      const offered = Object.fromEntries(second.askedQuestions.map((q) => [q.name, q.answer]));
      assert.equal(offered.bucket, 'arches-asked-bucket');
      assert.deepEqual(snapshot(dir).get(`${PKG}/settings.py`), settings);
    });

    it('ask once before writing; no writes nothing', async function () {
      const dir = project('7.4');
      const before = snapshot(dir);
      const answers = {
        bucket: 'arches-asked-bucket',
        region: 'eu-west-1',
        corsOrigins: 'https://arches.example.org',
      };
      const declined = await runGenerator(
        'aws',
        dir,
        { 'skip-prompts': false, provision: false, 'iam-user': 'arches-app' },
        { answers: { ...answers, write: false } },
      );
      assert.equal(declined.askedQuestions.at(-1)?.name, 'write');
      assert.deepEqual(snapshot(dir), before, 'nothing written, not even .yo-rc.json');
    });

    it('the app generator asks for the provider and runs its generator', async function () {
      const dir = project('7.5');
      const result = await runGenerator(
        'app',
        dir,
        { 'skip-prompts': false, provision: false },
        {
          answers: {
            provider: 'azure',
            account: 'archesmedia',
            container: 'media',
            corsOrigins: 'https://arches.example.org',
            accountKey: '',
          },
        },
      );
      assert.equal(result.askedQuestions[0]!.name, 'provider');
      assert.match(
        readFileSync(path.join(dir, PKG, 'settings.py'), 'utf8'),
        /storages\.backends\.azure_storage\.AzureStorage/,
      );
    });

    it('questions with choices are selects with the human labels: the provider and the S3-compatible service', async function () {
      const dir = project('7.6');
      const result = await runGenerator(
        'app',
        dir,
        { 'skip-prompts': false, provision: false },
        {
          answers: {
            provider: 's3-compatible',
            bucket: 'arches-asked-bucket',
            service: 'minio',
            endpoint: 'http://127.0.0.1:9000',
            corsOrigins: 'https://arches.example.org',
          },
        },
      );
      const byName = new Map(result.questions.map((q) => [q.name, q]));
      assert.equal(byName.get('provider')?.type, 'select');
      assert.deepEqual(byName.get('provider')?.choices, [...PROVIDER_OPTION.choices!]);
      assert.equal(byName.get('service')?.type, 'select');
      assert.deepEqual(
        byName.get('service')?.choices,
        S3_SERVICES.map((id) => ({ value: id, name: S3_SERVICE_PRESETS[id].title })),
      );
      assert.ok(
        (byName.get('service')?.choices as Array<{ name: string }>).some(
          (c) => c.name === 'DigitalOcean Spaces',
        ),
      );
      // The service comes before the region, whose default and rules follow from it.
      const names = result.questions.map((q) => q.name);
      assert.ok(names.indexOf('service') < names.indexOf('region'), names.join(', '));
      assert.deepEqual(
        result.questions.filter((q) => !['select', 'input', 'password', 'confirm'].includes(q.type)),
        [],
      );
      assert.match(readFileSync(path.join(dir, PKG, 'settings.py'), 'utf8'), /127\.0\.0\.1:9000/);
    });

    it('the Cloudflare account id is asked for R2, and supplies the endpoint', async function () {
      const dir = project('7.6');
      const account = '0123456789abcdef0123456789abcdef';
      const result = await runGenerator(
        's3-compatible',
        dir,
        { 'skip-prompts': false, provision: false },
        {
          answers: {
            bucket: 'arches-asked-bucket',
            service: 'r2',
            account,
            corsOrigins: 'https://arches.example.org',
          },
        },
      );
      const names = result.questions.map((q) => q.name);
      assert.ok(names.includes('account') && !names.includes('endpoint'), names.join(', '));
      assert.match(
        readFileSync(path.join(dir, PKG, 'settings.py'), 'utf8'),
        new RegExp(`https://${account}\\.r2\\.cloudflarestorage\\.com`),
      );
    });
  });

  describe('.yo-rc.json', function () {
    it('is read once per phase, not at every use of the remembered answers', async function () {
      const dir = project('7.6');
      await runGenerator('aws', dir, { ...NO_PROMPT, ...PROVIDER_OPTIONS.aws });
      const reads: Record<string, number> = {};
      let phase = 'before';
      const original = fs.readFileSync;
      fs.readFileSync = ((...args: Parameters<typeof original>) => {
        if (String(args[0]).endsWith('.yo-rc.json')) reads[phase] = (reads[phase] ?? 0) + 1;
        return original(...args);
      }) as typeof original;
      syncBuiltinESMExports();
      try {
        await runGenerator('aws', dir, NO_PROMPT, {
          onGenerator: (g) => {
            for (const p of ['initializing', 'prompting', 'configuring', 'writing', 'end'])
              g.on(`method:${p}`, () => (phase = p));
          },
        });
      } finally {
        fs.readFileSync = original;
        syncBuiltinESMExports();
      }
      // writing() reads it again for what it writes (other generators' keys, the journal's): not counted here.
      const { writing, ...answersRead } = reads;
      assert.deepEqual(answersRead, { initializing: 1, prompting: 1, configuring: 1 });
      assert.ok(writing! >= 1, 'writing() reads the file as it is now');
    });

    it("Yeoman's config Storage reads and writes nothing, and composed generators share one", async function () {
      const dir = project('7.6');
      // Ours: what config must not show; broken JSON: what Yeoman's own Storage would stop on with a stack trace.
      const rc = path.join(dir, '.yo-rc.json');
      writeFileSync(rc, '{"generator-arches-storage": {"provider": "aws"}, oops');
      const env = createEnv({ adapter: quietAdapter(), cwd: dir });
      for (const id of ['app', 'aws', 'gcs'])
        env.register(generatorPath(id), { namespace: `arches-storage:${id}` });
      const generators = await Promise.all(
        ['app', 'aws', 'gcs'].map((id) => env.create(`arches-storage:${id}`, { generatorArgs: [] })),
      );
      const [app, aws, gcs] = generators.map((g) => {
        assert.ok(g instanceof Generator);
        return g;
      });
      for (const g of [app!, aws!, gcs!]) {
        assert.deepEqual(g.config.getAll(), {});
        assert.deepEqual(g.config.createStorage(':aws').getAll(), {});
        assert.throws(() => g.config.set('provider', 'gcs'), /written through core\/safefs/);
      }
      // Each Storage adds a change listener to the environment's mem-fs store (Node warns past ten): one in all.
      assert.equal(app!.config, aws!.config);
      assert.equal(aws!.config, gcs!.config);
      assert.equal(readFileSync(rc, 'utf8'), '{"generator-arches-storage": {"provider": "aws"}, oops');
    });
  });

  describe('secrets asked at the prompt', function () {
    let s3: RunningS3;
    before(async () => {
      s3 = await startS3rver();
    });
    after(async () => {
      await s3.stop();
    });
    const asked = (bucket: string) => ({
      bucket,
      service: 'minio',
      endpoint: s3.endpoint,
      corsOrigins: 'https://arches.example.org',
      apply: true,
    });

    it('S3-compatible provisioning asks the app key id (input) and secret (password) when none is given or kept, and never again', async function () {
      const dir = project('7.6');
      const first = await runGenerator(
        's3-compatible',
        dir,
        { 'skip-prompts': false },
        {
          answers: {
            ...asked('arches-asked-key'),
            accessKeyId: S3RVER_KEY.accessKeyId,
            secretAccessKey: S3RVER_KEY.secretAccessKey,
          },
        },
      );
      const q = new Map(first.questions.map((x) => [x.name, x]));
      assert.equal(q.get('accessKeyId')?.type, 'input');
      assert.equal(q.get('secretAccessKey')?.type, 'password');
      assert.equal(q.get('secretAccessKey')?.default, undefined, 'no default: nothing to echo');
      // The key provisioned with: the bucket exists, and the app's key is kept where git does not look.
      await s3.client.send(new HeadBucketCommand({ Bucket: 'arches-asked-key' }));
      const files = snapshot(dir);
      assert.match(
        files.get(`${PKG}/settings_local.py`)!,
        new RegExp(`AWS_SECRET_ACCESS_KEY = "${S3RVER_KEY.secretAccessKey}"`),
      );
      for (const [p, content] of files)
        if (p !== `${PKG}/settings_local.py`)
          assert.ok(!content.includes(`"${S3RVER_KEY.secretAccessKey}"`), `${p} has no secret`);
      // Kept now: the next interactive run asks no key (it reads the kept one).
      const second = await runGenerator(
        's3-compatible',
        dir,
        { 'skip-prompts': false },
        { answers: asked('arches-asked-key') },
      );
      const names = second.questions.map((x) => x.name);
      assert.ok(!names.includes('accessKeyId') && !names.includes('secretAccessKey'), names.join(', '));
      assert.deepEqual(snapshot(dir), files, 'the same run again changes nothing');
    });

    it('no key question without provisioning, or with --use-operator-key, --destroy, or a key given', async function () {
      for (const [options, answers] of [
        [{ provision: false }, {}],
        [
          {
            'access-key-id': S3RVER_KEY.accessKeyId,
            'secret-access-key': S3RVER_KEY.secretAccessKey,
            'dry-run': true,
          },
          {},
        ],
      ] as const) {
        const dir = project('7.6');
        const run = await runGenerator(
          's3-compatible',
          dir,
          { 'skip-prompts': false, ...options },
          { answers: { ...asked('arches-no-key-q'), ...answers } },
        );
        const names = run.questions.map((x) => x.name);
        assert.ok(!names.includes('accessKeyId') && !names.includes('secretAccessKey'), names.join(', '));
      }
      const decls = providerById('s3-compatible').options;
      const keyQ = decls.find((o) => o.key === 'accessKeyId')!;
      for (const a of [{ useOperatorKey: true }, { destroy: true }, { provision: false }])
        assert.equal(keyQ.when!(a), false, JSON.stringify(a));
      assert.equal(keyQ.when!({}), true);
    });

    it('Azure: the account key is a password prompt; empty means the environment', async function () {
      const dir = project('8.0');
      const answers = {
        account: 'archesmedia',
        container: 'media',
        corsOrigins: 'https://arches.example.org',
      };
      const empty = await runGenerator(
        'azure',
        dir,
        { 'skip-prompts': false, provision: false },
        { answers: { ...answers, accountKey: '' } },
      );
      assert.equal(empty.questions.find((x) => x.name === 'accountKey')?.type, 'password');
      assert.doesNotMatch(
        readFileSync(path.join(dir, PKG, 'settings_local.py'), 'utf8'),
        /AZURE_ACCOUNT_KEY/,
      );
      assert.match(
        readFileSync(path.join(dir, PKG, 'settings.py'), 'utf8'),
        /AZURE_ACCOUNT_KEY = os\.environ\.get\("AZURE_ACCOUNT_KEY"\)/,
      );
      await runGenerator(
        'azure',
        dir,
        { 'skip-prompts': false, provision: false },
        { answers: { ...answers, accountKey: 'c2VjcmV0LWtleQ==' } },
      );
      assert.match(
        readFileSync(path.join(dir, PKG, 'settings_local.py'), 'utf8'),
        /AZURE_ACCOUNT_KEY = "c2VjcmV0LWtleQ=="/,
      );
      assert.ok(!readFileSync(path.join(dir, '.yo-rc.json'), 'utf8').includes('c2VjcmV0LWtleQ=='));
      const kept = await runGenerator('azure', dir, { 'skip-prompts': false, provision: false }, { answers });
      assert.ok(!kept.questions.some((x) => x.name === 'accountKey'), 'a kept key is not asked again');
    });
  });

  describe('on a real terminal (the bin on a pseudo-terminal)', function () {
    this.timeout(60_000);
    const DEPRECATED = /deprecat/i;

    it('the detected project is summarised before the first question; selects show labels; no deprecation notice', function () {
      const dir = project('7.6');
      const r = runOnTerminal(
        ['s3-compatible', '--no-provision', '--project', dir],
        [
          ['Bucket name', '\r'],
          // DigitalOcean Spaces, Wasabi, Backblaze B2, Cloudflare R2, MinIO: the fifth.
          ['Which S3-compatible service', '\x1b[B\x1b[B\x1b[B\x1b[B\r'],
          ['Region', '\r'],
          ['Endpoint URL', 'http://127.0.0.1:9000\r'],
          ['Origins the Arches site', '\r'],
          ['Write these changes', '\r'],
        ],
      );
      assert.equal(r.pending, null, r.out);
      assert.equal(r.code, 0, r.out);
      assert.doesNotMatch(r.out, DEPRECATED);
      const summary = r.out.indexOf('Arches project: package demo_heritage');
      assert.ok(summary >= 0 && summary < r.out.indexOf('Bucket name'), r.out);
      assert.match(r.out, /Arches 7\.6\.\d+ \(read from pyproject\.toml\)/);
      assert.match(r.out, /settings: +demo_heritage\/settings\.py \(STORAGES style\)/);
      assert.match(r.out, /dependencies: +pyproject\.toml/);
      assert.match(r.out, /DigitalOcean Spaces[\s\S]*Cloudflare R2[\s\S]*MinIO/);
      assert.match(readFileSync(path.join(dir, PKG, 'settings.py'), 'utf8'), /127\.0\.0\.1:9000/);
      // A no-prompt run prints no summary: its output stays as it was.
      const quiet = runBin([
        'gcs',
        '--project',
        project('7.6'),
        ...flags({ ...NO_PROMPT, ...PROVIDER_OPTIONS.gcs }),
      ]);
      assert.equal(quiet.status, 0, quiet.stderr);
      assert.doesNotMatch(quiet.stdout + quiet.stderr, /Arches project:/);
    });

    it('the app generator shows the summary once, before its provider question', function () {
      const dir = project('7.4');
      const r = runOnTerminal(
        ['app', '--no-provision', '--project', dir],
        [
          ['Where should Arches keep', '\x1b[B\x1b[B\r'],
          ['Bucket name', 'arches_media_test\r'],
          ['Origins the Arches site', '\r'],
          ['Write these changes', '\r'],
        ],
      );
      assert.equal(r.pending, null, r.out);
      assert.equal(r.code, 0, r.out);
      assert.doesNotMatch(r.out, DEPRECATED);
      assert.equal(r.out.split('Arches project: package demo_heritage').length - 1, 1, r.out);
      assert.ok(r.out.indexOf('Arches project:') < r.out.indexOf('Where should Arches keep'));
      assert.match(r.out, /Google Cloud Storage/);
      assert.match(
        readFileSync(path.join(dir, PKG, 'settings.py'), 'utf8'),
        /GS_BUCKET_NAME = "arches_media_test"/,
      );
    });

    it('a secret typed at a password prompt is never echoed, and lands only in settings_local.py', function () {
      const dir = project('8.0');
      const key = 'c2VjcmV0LXR5cGVkLWtleQ==';
      const r = runOnTerminal(
        ['azure', '--no-provision', '--project', dir],
        [
          ['Storage account name', 'archesmedia\r'],
          ['Blob container name', '\r'],
          ['Origins the Arches site', '\r'],
          ['Storage account key', `${key}\r`],
          ['Write these changes', '\r'],
        ],
      );
      assert.equal(r.pending, null, r.out);
      assert.equal(r.code, 0, r.out);
      assert.doesNotMatch(r.out, DEPRECATED);
      assert.ok(!r.out.includes(key) && !r.out.includes(key.slice(0, 8)), r.out);
      assert.match(
        readFileSync(path.join(dir, PKG, 'settings_local.py'), 'utf8'),
        new RegExp(`AZURE_ACCOUNT_KEY = "${key}"`),
      );
      for (const [p, content] of snapshot(dir))
        if (p !== `${PKG}/settings_local.py`) assert.ok(!content.includes(key), `${p} has no key`);
    });
  });

  describe('the app generator without prompts', function () {
    it('composes with the provider generator by namespace: through the bin and through yo’s lookup', async function () {
      const viaTest = project('7.4');
      await runGenerator('gcs', viaTest, { ...NO_PROMPT, ...PROVIDER_OPTIONS.gcs });
      const viaBin = project('7.4');
      const r = runBin([
        'app',
        '--project',
        viaBin,
        ...flags({ ...NO_PROMPT, provider: 'gcs', ...PROVIDER_OPTIONS.gcs }),
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(snapshot(viaBin), snapshot(viaTest));
      // yo finds the package by yeoman-environment's lookup of an installed generator-arches-storage.
      const global = mkdtempSync(path.join(tmpdir(), 'global-'));
      dirs.push(global);
      mkdirSync(path.join(global, 'node_modules'));
      symlinkSync(ROOT, path.join(global, 'node_modules', 'generator-arches-storage'));
      const env = createEnv({ adapter: quietAdapter() });
      await env.lookup({ packagePaths: [path.join(global, 'node_modules', 'generator-arches-storage')] });
      const viaYo = project('7.4');
      await env.run([
        'arches-storage:app',
        '--project',
        viaYo,
        ...flags({ ...NO_PROMPT, provider: 'gcs', ...PROVIDER_OPTIONS.gcs }),
      ]);
      assert.deepEqual(snapshot(viaYo), snapshot(viaTest));
    });

    it('needs --provider, and forwards the other options', async function () {
      const dir = project('7.4');
      await assertRefused(dir, () => runGenerator('app', dir, NO_PROMPT), [/--provider/]);
      await runGenerator('app', dir, { ...NO_PROMPT, provider: 'gcs', ...PROVIDER_OPTIONS.gcs });
      assert.match(
        readFileSync(path.join(dir, PKG, 'settings.py'), 'utf8'),
        /GS_BUCKET_NAME = "arches_media_test"/,
      );
    });
  });

  describe('the package bin', function () {
    it('writes the same overlay as the generator run through yeoman-test', async function () {
      const viaTest = project('7.6');
      const viaBin = project('7.6');
      await runGenerator('s3-compatible', viaTest, { ...NO_PROMPT, ...PROVIDER_OPTIONS['s3-compatible'] });
      const r = runBin([
        's3-compatible',
        '--project',
        viaBin,
        ...flags({ ...NO_PROMPT, ...PROVIDER_OPTIONS['s3-compatible'] }),
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(snapshot(viaBin), snapshot(viaTest));
    });

    it('exits 2 naming every missing option, writing nothing', function () {
      const dir = project('7.4');
      const before = snapshot(dir);
      const r = runBin(['aws', '--skip-prompts', '--no-provision', '--region', 'eu-west-2'], { cwd: dir });
      assert.equal(r.status, 2);
      assert.match(r.stderr, /--bucket/);
      assert.match(r.stderr, /--cors-origin/);
      assert.doesNotMatch(r.stderr, /--region/);
      assert.deepEqual(snapshot(dir), before);
    });

    it('--force keeps Yeoman’s meaning: passed through, and nothing of ours reads it', function () {
      const plain = project('7.4');
      const forced = project('7.4');
      const args = flags({ ...NO_PROMPT, ...PROVIDER_OPTIONS.aws });
      const a = runBin(['aws', '--project', plain, ...args]);
      const b = runBin(['aws', '--project', forced, ...args, '--force']);
      assert.equal(a.status, 0, a.stderr);
      assert.equal(b.status, 0, b.stderr);
      assert.deepEqual(snapshot(forced), snapshot(plain));
      assert.equal(b.stdout, a.stdout);
    });

    it('refuses an unknown option before loading Yeoman', function () {
      const r = runBin(['aws', '--bukket', 'x']);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /bukket/);
    });

    it('prints help and version from the declarations', function () {
      const help = runBin(['aws', '--help']);
      assert.equal(help.status, 0);
      for (const o of ['--bucket', '--region', '--iam-user', '--cors-origin', '--no-provision', '--dry-run'])
        assert.ok(help.stdout.includes(o), o);
      assert.ok(!help.stdout.includes('--container'), 'aws help lists aws options only');
      const version = runBin(['--version']);
      const pkg = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
      assert.equal(version.stdout.trim(), (JSON.parse(pkg) as { version: string }).version);
    });

    it('--dry-run prints the plan and the diff, writes nothing, and never prints a secret', function () {
      const dir = project('7.4');
      const before = snapshot(dir);
      const r = runBin([
        'aws',
        '--project',
        dir,
        ...flags({ ...NO_PROMPT, ...PROVIDER_OPTIONS.aws }),
        '--access-key-id',
        KEY_ID,
        '--secret-access-key',
        SECRET,
        '--dry-run',
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /update demo_heritage\/settings\.py/);
      assert.match(r.stdout, /\+DEFAULT_FILE_STORAGE = "storages\.backends\.s3boto3\.S3Boto3Storage"/);
      assert.match(r.stdout, /\+AWS_SECRET_ACCESS_KEY = "\*+"/);
      assert.ok(!(r.stdout + r.stderr).includes(SECRET) && !(r.stdout + r.stderr).includes(KEY_ID));
      assert.deepEqual(snapshot(dir), before);
    });

    it('a real run logs no secret either', function () {
      const dir = project('7.4');
      const r = runBin([
        'aws',
        '--project',
        dir,
        ...flags({ ...NO_PROMPT, ...PROVIDER_OPTIONS.aws }),
        '--access-key-id',
        KEY_ID,
        '--secret-access-key',
        SECRET,
      ]);
      assert.equal(r.status, 0, r.stderr);
      assert.ok(!(r.stdout + r.stderr).includes(SECRET));
      const rc = readFileSync(path.join(dir, '.yo-rc.json'), 'utf8');
      assert.ok(!rc.includes(SECRET) && !rc.includes(KEY_ID));
    });
  });
});

describe('secrets and git', function () {
  it('refuses to write keys into a settings_local.py that git tracks', async function () {
    const { execFileSync } = await import('node:child_process');
    const dir = freshProject('7.4');
    execFileSync('git', ['init', '-q', dir]);
    execFileSync('git', ['-C', dir, 'add', '-f', `${PKG}/settings_local.py`]);
    const before = snapshot(dir);
    const error = await runGenerator('aws', dir, {
      ...NO_PROMPT,
      ...PROVIDER_OPTIONS.aws,
      'access-key-id': KEY_ID,
      'secret-access-key': SECRET,
    }).then(
      () => assert.fail('should refuse'),
      (e: unknown) => e as Error,
    );
    assert.match(error.message, /settings_local\.py is tracked by git/);
    assert.match(error.message, /git rm --cached/);
    assert.deepEqual(snapshot(dir), before);
    // Without keys the overlay is fine: nothing secret goes there.
    await runGenerator('aws', dir, { ...NO_PROMPT, ...PROVIDER_OPTIONS.aws });
    assert.equal(
      readFileSync(path.join(dir, PKG, 'settings_local.py'), 'utf8'),
      before.get(`${PKG}/settings_local.py`),
    );
    rmSync(dir, { recursive: true, force: true });
  });
});
