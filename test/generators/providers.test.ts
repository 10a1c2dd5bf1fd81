/**
 * Every provider on every Arches line, through yeoman-test and the built generators: what lands where,
 * with values checked against the fixture's own facts (not against the code that computed them).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { BEGIN, END } from '../../lib/blocks.js';
import { FIXTURES } from '../helpers/projects.js';
import { freshProject, NO_PROMPT, PROVIDER_OPTIONS, runGenerator, snapshot } from '../helpers/run.js';

const PKG = 'demo_heritage';

const EXPECTED: Record<
  string,
  { extra: string; client: string; backend3: string; backend4: string; docs: string[] }
> = {
  aws: {
    extra: 's3',
    client: 'boto3',
    backend3: 'storages.backends.s3boto3.S3Boto3Storage',
    backend4: 'storages.backends.s3.S3Storage',
    docs: ['NOTES.md', 'aws-user-policy.json', 'cors.json', 'lifecycle.json'],
  },
  's3-compatible': {
    extra: 's3',
    client: 'boto3',
    backend3: 'storages.backends.s3boto3.S3Boto3Storage',
    backend4: 'storages.backends.s3.S3Storage',
    docs: ['NOTES.md', 'cors.json', 'lifecycle.json'],
  },
  gcs: {
    extra: 'google',
    client: 'google-cloud-storage',
    backend3: 'storages.backends.gcloud.GoogleCloudStorage',
    backend4: 'storages.backends.gcloud.GoogleCloudStorage',
    docs: ['NOTES.md', 'gcs-bucket-settings.json', 'gcs-cors.json', 'gcs-iam-binding.json'],
  },
  azure: {
    extra: 'azure',
    client: 'azure-storage-blob',
    backend3: 'storages.backends.azure_storage.AzureStorage',
    backend4: 'storages.backends.azure_storage.AzureStorage',
    docs: ['NOTES.md', 'azure-cors.json'],
  },
};

/** Is `sub` a subsequence of `lines` (every original line kept, in order)? */
function keepsEveryLine(before: string, after: string): boolean {
  const want = before.split('\n');
  const have = after.split('\n');
  let i = 0;
  for (const line of have) if (i < want.length && line === want[i]) i++;
  return i === want.length;
}

describe('provider generators × Arches lines (no prompts, --no-provision)', function () {
  const dirs: string[] = [];
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  for (const fixture of FIXTURES) {
    for (const provider of Object.keys(EXPECTED)) {
      it(`${provider} on Arches ${fixture.id} (${fixture.release})`, async function () {
        const dir = freshProject(fixture.id);
        dirs.push(dir);
        const before = snapshot(dir);
        await runGenerator(provider, dir, { ...NO_PROMPT, ...PROVIDER_OPTIONS[provider] });
        const afterRun = snapshot(dir);
        const exp = EXPECTED[provider]!;

        // settings.py: one block, before the local imports, MEDIA_URL untouched.
        const settings = afterRun.get(`${PKG}/settings.py`)!;
        assert.equal(settings.split(BEGIN).length - 1, 1, 'exactly one block');
        const blockStart = settings.indexOf(BEGIN);
        const blockEnd = settings.indexOf(END);
        assert.ok(blockStart < blockEnd);
        const localImport = settings.search(/from \.(package_settings|settings_local) import/);
        assert.ok(localImport > blockEnd, 'block precedes the package_settings/settings_local imports');
        const main = settings.indexOf('if __name__ == "__main__":');
        if (main !== -1) assert.ok(main > blockEnd, 'block precedes the __main__ guard');
        assert.ok(settings.indexOf('INSTALLED_APPS = (') < blockStart, 'block follows INSTALLED_APPS');
        assert.equal(
          before.get(`${PKG}/settings.py`)!.match(/^MEDIA_URL = .*$/m)![0],
          settings.match(/^MEDIA_URL = .*$/m)![0],
        );
        assert.ok(
          keepsEveryLine(before.get(`${PKG}/settings.py`)!, settings),
          'settings.py keeps every line',
        );
        const block = settings.slice(blockStart, blockEnd);
        assert.match(block, /INSTALLED_APPS \+= \("storages",\)/);
        if (fixture.djangoStyle === 'DEFAULT_FILE_STORAGE') {
          assert.match(
            block,
            new RegExp(`^DEFAULT_FILE_STORAGE = "${exp.backend3.replace(/\./g, '\\.')}"$`, 'm'),
          );
          assert.doesNotMatch(block, /STORAGES = \{/);
        } else {
          assert.match(block, new RegExp(`"BACKEND": "${exp.backend4.replace(/\./g, '\\.')}"`));
          assert.match(block, /"staticfiles":/);
          assert.doesNotMatch(block, /DEFAULT_FILE_STORAGE/);
        }
        const compiled = spawnSync(
          '/usr/bin/python3',
          ['-m', 'py_compile', path.join(dir, PKG, 'settings.py')],
          {
            encoding: 'utf8',
          },
        );
        assert.equal(compiled.status, 0, compiled.stderr);

        // Dependencies: where this line keeps them, Django pinned to what that Arches release requires.
        const depFile =
          fixture.depFile === 'pyproject.toml'
            ? 'pyproject.toml'
            : fixture.depFile === null
              ? 'arches-storage/requirements.txt'
              : `${PKG}/install/requirements.txt`;
        const deps = afterRun.get(depFile);
        assert.ok(deps, `${depFile} written`);
        const quote = depFile === 'pyproject.toml' ? '"' : '';
        assert.ok(
          deps.includes(`${quote}Django${fixture.archesDjango}${quote}`),
          `Django${fixture.archesDjango} in ${depFile}`,
        );
        assert.ok(
          deps.includes(`${quote}django-storages[${exp.extra}]==1.14.6`),
          'django-storages with the extra',
        );
        assert.ok(deps.includes(`${quote}${exp.client}>=`), `${exp.client} declared`);
        if (before.has(depFile))
          assert.ok(keepsEveryLine(before.get(depFile)!, deps), `${depFile} keeps every line`);
        if (fixture.id === '7.6-upgraded') {
          assert.equal(
            afterRun.get(`${PKG}/install/requirements.txt`),
            before.get(`${PKG}/install/requirements.txt`),
          );
        }

        // The documents of this provider, and nothing of the others.
        const docs = [...afterRun.keys()].filter(
          (p) => p.startsWith('arches-storage/') && !p.endsWith('requirements.txt'),
        );
        assert.deepEqual(docs.map((p) => p.slice('arches-storage/'.length)).sort(), [...exp.docs].sort());
        for (const d of docs.filter((p) => p.endsWith('.json'))) JSON.parse(afterRun.get(d)!);

        // Nothing else touched.
        for (const [p, content] of before) {
          if (p !== `${PKG}/settings.py` && p !== depFile)
            assert.equal(afterRun.get(p), content, `${p} unchanged`);
        }
        const rc = JSON.parse(afterRun.get('.yo-rc.json')!) as Record<string, { provider: string }>;
        assert.equal(rc['generator-arches-storage']!.provider, provider);
      });
    }
  }
});
