/**
 * The generators (built, dist/) on fixture projects: settings that would not work are refused (exit 1, file:line,
 * nothing written); a no-prompt run takes the CORS origins from the project's settings and says which, and stops
 * (exit 2, naming --cors-origin) only when there are none.
 */
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import helpers from 'yeoman-test';
import { freshProject, generatorPath, runBin, runGenerator, snapshot, NO_PROMPT } from '../helpers/run.js';

const PKG = 'demo_heritage';
const dirs: string[] = [];
const project = (id: Parameters<typeof freshProject>[0]): string => {
  const d = freshProject(id);
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** No project interpreter and no CI answers from this machine's environment. */
const ENV = { VIRTUAL_ENV: undefined, CI: 'true', ARCHES_STORAGE_CORS_ORIGINS: undefined };
const AWS_ARGS = [
  'aws',
  '--skip-prompts',
  '--no-provision',
  '--bucket',
  'arches-media-test',
  '--region',
  'eu-west-2',
];

function editSettings(dir: string, from: string, to: string): number {
  const file = path.join(dir, PKG, 'settings.py');
  const text = readFileSync(file, 'utf8');
  assert.ok(text.includes(from), `settings.py has ${from}`);
  const out = text.replace(from, to);
  writeFileSync(file, out);
  return out.split('\n').findIndex((l) => l.startsWith(to.split('\n')[0]!)) + 1;
}

describe('generators: settings that would not work are refused; CORS origins from the project', function () {
  this.timeout(120_000);

  describe('refusals: exit 1, file:line and the fix, nothing written', () => {
    it('STORAGES.update(default=...) in settings_local.py (7.6)', () => {
      const dir = project('7.6');
      appendFileSync(path.join(dir, PKG, 'settings_local.py'), 'if True:\n    STORAGES.update(default={})\n');
      const before = snapshot(dir);
      const r = runBin([...AWS_ARGS, '--cors-origin', 'https://arches.example.org'], { cwd: dir, env: ENV });
      assert.equal(r.status, 1, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `${PKG}/settings_local\\.py:6 \\(imported at ${PKG}/settings\\.py:\\d+\\): STORAGES\\.update`,
        ),
      );
      assert.match(r.stderr, /remove it from/);
      assert.match(r.stderr, /Nothing was written\./);
      assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
      assert.deepEqual(snapshot(dir), before);
    });

    it('DEFAULT_FILE_STORAGE beside the new STORAGES on a Django 4.2 line (7.5), with yeoman-test', async () => {
      const dir = project('7.5');
      const line = editSettings(
        dir,
        "MEDIA_URL = '/files/'\n",
        "DEFAULT_FILE_STORAGE = 'storages.backends.s3boto3.S3Boto3Storage'\nMEDIA_URL = '/files/'\n",
      );
      const before = snapshot(dir);
      await assert.rejects(
        runGenerator(
          'gcs',
          dir,
          { ...NO_PROMPT, bucket: 'arches_media', 'cors-origin': ['https://arches.example.org'] },
          { env: ENV },
        ),
        (e: Error & { exitCode?: number }) => {
          assert.equal(e.exitCode, 1);
          assert.ok(e.message.includes(`${PKG}/settings.py:${line}:`), e.message);
          assert.ok(e.message.includes('refuses to start with both'), e.message);
          return true;
        },
      );
      assert.deepEqual(snapshot(dir), before);
    });
  });

  describe('CORS origins: the project’s, in every mode', () => {
    it('a no-prompt run takes them from ALLOWED_HOSTS / PUBLIC_SERVER_ADDRESS and says which', () => {
      const dir = project('7.6');
      const line = editSettings(
        dir,
        'ALLOWED_HOSTS = []\n',
        'ALLOWED_HOSTS = ["arches.example.org", "localhost", "*"]\nPUBLIC_SERVER_ADDRESS = "https://www.example.org/"\n',
      );
      const r = runBin(AWS_ARGS, { cwd: dir, env: ENV });
      assert.equal(r.status, 0, r.stderr);
      const out = r.stdout + r.stderr;
      assert.ok(
        out.includes(
          `CORS origins taken from the project's settings: https://www.example.org (PUBLIC_SERVER_ADDRESS, ${PKG}/settings.py:${line + 1}), ` +
            `https://arches.example.org (ALLOWED_HOSTS, ${PKG}/settings.py:${line})`,
        ),
        out,
      );
      assert.match(
        out,
        /not origins: localhost \(ALLOWED_HOSTS: a local name\), \* \(ALLOWED_HOSTS: a wildcard\)/,
      );
      const cors = JSON.parse(readFileSync(path.join(dir, 'arches-storage/cors.json'), 'utf8')) as {
        CORSRules: Array<{ AllowedOrigins: string[] }>;
      };
      assert.deepEqual(cors.CORSRules[0]!.AllowedOrigins, [
        'https://www.example.org',
        'https://arches.example.org',
      ]);
      const rc = JSON.parse(readFileSync(path.join(dir, '.yo-rc.json'), 'utf8')) as Record<
        string,
        { providers: { aws: { corsOrigins: string[] } } }
      >;
      assert.deepEqual(rc['generator-arches-storage']!.providers.aws.corsOrigins, [
        'https://www.example.org',
        'https://arches.example.org',
      ]);
    });

    it('settings_local.py (imported last) wins; --cors-origin still wins over the project', () => {
      const dir = project('7.4');
      appendFileSync(
        path.join(dir, PKG, 'settings_local.py'),
        'CSRF_TRUSTED_ORIGINS = ["prod.example.org"]\n',
      );
      const r = runBin(
        [
          's3-compatible',
          '--skip-prompts',
          '--no-provision',
          '--service',
          'minio',
          '--endpoint',
          'http://127.0.0.1:9000',
          '--bucket',
          'arches-media-test',
        ],
        { cwd: dir, env: ENV },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.match(
        r.stdout + r.stderr,
        /https:\/\/prod\.example\.org \(CSRF_TRUSTED_ORIGINS, demo_heritage\/settings_local\.py:5\)/,
      );
      const dir2 = project('7.4');
      appendFileSync(
        path.join(dir2, PKG, 'settings_local.py'),
        'CSRF_TRUSTED_ORIGINS = ["prod.example.org"]\n',
      );
      const r2 = runBin([...AWS_ARGS, '--cors-origin', 'https://given.example.org'], { cwd: dir2, env: ENV });
      assert.equal(r2.status, 0, r2.stderr);
      assert.doesNotMatch(r2.stdout + r2.stderr, /taken from the project/);
      assert.match(readFileSync(path.join(dir2, 'arches-storage/cors.json'), 'utf8'), /given\.example\.org/);
    });

    it('none in the project: exit 2 naming --cors-origin, and what was looked at', () => {
      const dir = project('7.6'); // the template: ALLOWED_HOSTS = []
      const before = snapshot(dir);
      const r = runBin(AWS_ARGS, { cwd: dir, env: ENV });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /--cors-origin/);
      assert.match(
        r.stdout + r.stderr,
        /No CORS origin found in the project’s settings \(PUBLIC_SERVER_ADDRESS, CSRF_TRUSTED_ORIGINS, ALLOWED_HOSTS\)/,
      );
      assert.deepEqual(snapshot(dir), before);
    });

    it('an interactive run offers them as the default answer', async () => {
      const dir = project('8.1');
      editSettings(dir, 'ALLOWED_HOSTS = []\n', 'ALLOWED_HOSTS = ["arches.example.org"]\n');
      const offered: Record<string, unknown> = {};
      const interactiveOptions: Record<string, unknown> = {
        'skip-prompts': false,
        provision: false,
        account: 'archesmedia',
        container: 'media',
      };
      await helpers
        .run(generatorPath('azure'))
        .cd(dir)
        .withOptions(interactiveOptions)
        .withAnswers(
          {},
          {
            throwOnMissingAnswer: false,
            callback: (answer: unknown, { question }) => {
              offered[String(question.name)] = question.default;
              return answer;
            },
          },
        );
      assert.equal(offered.corsOrigins, 'https://arches.example.org');
      assert.match(
        readFileSync(path.join(dir, 'arches-storage/azure-cors.json'), 'utf8'),
        /https:\/\/arches\.example\.org/,
      );
    });
  });
});
