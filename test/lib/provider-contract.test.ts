/**
 * A provider is its folder plus one registration line: the core takes a provider's data and never names one.
 * Proven three ways: every registered provider has its folder's files; a provider that exists only as data
 * in this test goes through the whole overlay; and the shared code compares no provider id.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { PROVIDER_IDS, REGISTRY } from '../../generators/registry.js';
import { detectProject } from '../../lib/detect.js';
import { LEADING, TRAILING, bucketOption, corsOriginOption } from '../../lib/options.js';
import { buildOverlay } from '../../lib/overlay.js';
import type { StorageProvider } from '../../lib/provider.js';
import { filesOf } from '../helpers/assert.js';
import { projectFiles } from '../helpers/projects.js';
import { ROOT } from '../helpers/run.js';

/** A provider that exists only here: an imaginary django-storages backend with its own client package. */
const EXAMPLE: StorageProvider = {
  id: 'example',
  label: 'Example Object Store',
  title: 'Example Object Store',
  summary: 'an imaginary provider, for the contract test',
  options: [...LEADING, bucketOption(() => undefined), corsOriginOption({ title: 'Example' }), ...TRAILING],
  backend: {
    DEFAULT_FILE_STORAGE: 'storages.backends.example.ExampleStorage',
    STORAGES: 'storages.backends.example.ExampleStorage',
  },
  settings: (a) => [
    { option: 'bucket_name', global: 'EXAMPLE_BUCKET_NAME', value: a.bucket ?? null },
    { option: 'signed_urls', global: 'EXAMPLE_SIGNED_URLS', value: true },
  ],
  secrets: (s) => (s.accountKey ? [['EXAMPLE_TOKEN', s.accountKey]] : []),
  secretEnvironment: ['EXAMPLE_TOKEN'],
  packages: { extra: 'example', client: { name: 'example-client', specifier: '>=2,<3', accept: '>=2' } },
  documentNames: ['example-cors.json'],
  documents: (a) => [
    { name: 'example-cors.json', description: 'CORS for the site', content: { origins: a.corsOrigins } },
  ],
  configured: (a) => [`Example bucket \`${a.bucket}\`.`],
  noteSections: () => [{ title: 'Example quirks', text: 'None worth a section.' }],
};

describe('provider contract: a folder plus one registration line', function () {
  it('every registered provider has generators/<id>/provider.ts and index.ts, and index builds from provider.ts', function () {
    assert.deepEqual(
      PROVIDER_IDS,
      REGISTRY.map((p) => p.id),
    );
    for (const id of PROVIDER_IDS) {
      const dir = path.join(ROOT, 'generators', id);
      for (const f of ['provider.ts', 'index.ts']) assert.ok(existsSync(path.join(dir, f)), `${id}/${f}`);
      const index = readFileSync(path.join(dir, 'index.ts'), 'utf8');
      assert.match(
        index,
        /import provider from '\.\/provider\.js'/,
        `${id}/index.ts uses its own provider.ts`,
      );
    }
    // Every provider folder is registered: a folder that is not would be a generator without its data.
    const folders = readdirSync(path.join(ROOT, 'generators')).filter(
      (f) =>
        statSync(path.join(ROOT, 'generators', f)).isDirectory() &&
        existsSync(path.join(ROOT, 'generators', f, 'provider.ts')),
    );
    assert.deepEqual(folders.sort(), [...PROVIDER_IDS].sort());
  });

  it('a provider given only as data goes through the whole overlay', function () {
    const map = projectFiles('7.6');
    const files = filesOf(map);
    const project = detectProject('/project', files);
    const overlay = buildOverlay(files, {
      project,
      provider: EXAMPLE,
      documentNames: [...REGISTRY.flatMap((p) => p.documentNames), ...EXAMPLE.documentNames],
      answers: {
        provider: 'example',
        bucket: 'heritage-media',
        corsOrigins: ['https://arches.example.org'],
        publicRead: false,
      },
      secrets: { accountKey: 'EXAMPLE-SECRET-TOKEN' },
      created: [],
    });
    const after = (p: string): string => overlay.changes.find((c) => c.path === p)?.after ?? '';
    const settings = after(project.settingsPath);
    assert.match(settings, /"BACKEND": "storages\.backends\.example\.ExampleStorage"/);
    assert.match(settings, /"bucket_name": "heritage-media"/);
    assert.match(settings, /"signed_urls": True/);
    assert.match(settings, /EXAMPLE_TOKEN/, 'the block says where the secret comes from');
    assert.ok(!settings.includes('EXAMPLE-SECRET-TOKEN'), 'no secret in settings.py');
    assert.match(after(`${project.pkg}/settings_local.py`), /EXAMPLE_TOKEN = "EXAMPLE-SECRET-TOKEN"/);
    assert.deepEqual(JSON.parse(after('arches-storage/example-cors.json')), {
      origins: ['https://arches.example.org'],
    });
    const deps = overlay.changes.find((c) => c.path === project.dependencyTarget.path)?.after ?? '';
    assert.match(deps, /django-storages\[example\]/);
    assert.match(deps, /example-client>=2,<3/);
    const notes = after('arches-storage/NOTES.md');
    assert.match(notes, /^# Uploaded files in Example Object Store$/m);
    assert.match(notes, /^- Example bucket `heritage-media`\.$/m);
    assert.match(notes, /^- `arches-storage\/example-cors\.json`: CORS for the site\.$/m);
    assert.match(notes, /^## Example quirks$/m);
  });

  it('the shared code (lib/, cli/, generators/base, generators/app) compares no provider id', function () {
    const ids = PROVIDER_IDS.filter((id) => id !== 'local').map((id) => id.replace(/[-]/g, '\\-'));
    const comparison = new RegExp(`(===|!==|case)\\s*'(${ids.join('|')})'|'(${ids.join('|')})'\\s*(===|!==)`);
    const offenders: string[] = [];
    const walk = (rel: string): void => {
      for (const name of readdirSync(path.join(ROOT, rel))) {
        const r = `${rel}/${name}`;
        if (statSync(path.join(ROOT, r)).isDirectory()) walk(r);
        else if (r.endsWith('.ts'))
          readFileSync(path.join(ROOT, r), 'utf8')
            .split('\n')
            .forEach((line, i) => {
              if (comparison.test(line)) offenders.push(`${r}:${i + 1}: ${line.trim()}`);
            });
      }
    };
    for (const dir of ['lib', 'cli', 'generators/base', 'generators/app']) walk(dir);
    assert.deepEqual(offenders, []);
  });
});
