/**
 * `yo arches-storage[:provider]` finds the generators by yeoman-environment's lookup of the installed package
 * (yo itself cannot run as root here, see FACTS.md): the same lookup, pointed at this package.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createEnv } from 'yeoman-environment';
import { COMMAND_IDS, PROVIDER_IDS } from '../../generators/registry.js';
import { ROOT } from '../helpers/run.js';

describe('yeoman-environment lookup (what yo runs)', function () {
  it('registers arches-storage and every provider subgenerator from dist/generators', async function () {
    // Installed (npm install -g, npm link) the package sits in a folder named after it: that names the namespace.
    const global = mkdtempSync(path.join(tmpdir(), 'global-'));
    mkdirSync(path.join(global, 'node_modules'));
    const installed = path.join(global, 'node_modules', 'generator-arches-storage');
    symlinkSync(ROOT, installed);
    const env = createEnv();
    await env.lookup({ packagePaths: [installed] });
    rmSync(global, { recursive: true, force: true });
    const namespaces = env
      .namespaces()
      .filter((n) => n.startsWith('arches-storage'))
      .sort();
    // Every registered provider and command, and app (a folder per generator; base registers nothing).
    assert.deepEqual(
      namespaces,
      ['app', ...PROVIDER_IDS, ...COMMAND_IDS].map((id) => `arches-storage:${id}`).sort(),
    );
    assert.ok(namespaces.includes('arches-storage:s3-compatible'));
    const meta = env.getGeneratorMeta('arches-storage:gcs');
    assert.match(meta?.resolved ?? '', /\/dist\/generators\/gcs\/index\.js$/);
  });
});
