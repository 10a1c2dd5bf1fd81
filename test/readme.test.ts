/** The README tells the truth: every declared option is documented, and CI runs the README's test command. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { allOptions } from '../generators/registry.js';
import { awsOperatorPolicy } from '../lib/policies.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', function () {
  it('documents every option, with its environment variable, and no option that does not exist', function () {
    const table = readme.slice(readme.indexOf('## Options'), readme.indexOf('## What lands where'));
    for (const o of allOptions()) {
      const flag = o.name === 'provision' ? '--no-provision' : `--${o.name}`;
      const row = table.split('\n').find((l) => l.startsWith(`| \`${flag}`));
      assert.ok(row, `${flag} is documented`);
      if (o.env) assert.ok(row.includes(o.env), `${flag} names ${o.env}`);
      const remembered = row.split('|')[4]!.trim();
      assert.equal(
        remembered,
        o.secret ? 'never' : o.persist ? 'yes' : 'no',
        `${flag}: the remembered column`,
      );
    }
    const documented = [...table.matchAll(/^\| `--(?:no-)?([a-z-]+)/gm)].map((m) => m[1]);
    const declared = new Set(allOptions().map((o) => o.name));
    for (const d of documented) assert.ok(declared.has(d!), `--${d} in the README is declared`);
  });

  it('gives the two set-up commands on its first screen, and CI runs the test one', function () {
    const firstScreen = readme.split('\n').slice(0, 25).join('\n');
    assert.match(firstScreen, /^npm ci && npm run demo/m);
    assert.match(firstScreen, /^npm ci && npm test/m);
    const ci = readFileSync(new URL('../.ci/run', import.meta.url), 'utf8');
    assert.match(ci, /^npm ci$/m);
    assert.match(ci, /^npm test$/m);
  });

  it('prints the operator policy the code builds (the one the provisioning tests enforce)', function () {
    const block = /```json\n(\{\n  "Version"[\s\S]*?)\n```/.exec(readme)?.[1];
    assert.ok(block, 'the README has the operator policy');
    assert.deepEqual(JSON.parse(block), awsOperatorPolicy('BUCKET', 'APP-USER', 'ACCOUNT-ID'));
  });
});
