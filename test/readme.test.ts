/**
 * The README tells the truth: its option table is the one the declarations give (scripts/readme.ts), CI runs
 * the README's test command, and the operator policy it prints is the one the code builds.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { allOptions, COMMANDS, PROVIDER_IDS, providersTaking } from '../generators/registry.js';
import { awsOperatorPolicy } from '../lib/policies.js';
import { flagOf, optionRows, renderReadme, tableSpan } from '../scripts/readme.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', function () {
  it('holds the option table `npm run readme` writes from the option declarations', async function () {
    const [from, to] = tableSpan(readme);
    const wanted = await renderReadme(readme);
    const [wantedFrom, wantedTo] = tableSpan(wanted);
    assert.equal(
      readme.slice(from, to),
      wanted.slice(wantedFrom, wantedTo),
      'README.md: the option table differs from the declarations; run `npm run readme`',
    );
    assert.equal(readme, wanted, 'nothing outside the table changes either');
  });

  it('renders one row per declared option, with its providers, variable and remembered column', function () {
    const rows = optionRows();
    const options = allOptions();
    const providerNames = new Set(options.map((o) => o.name));
    const commandOnly = [
      ...new Set(
        COMMANDS.flatMap((c) => c.options)
          .filter((o) => !providerNames.has(o.name))
          .map((o) => o.name),
      ),
    ];
    assert.equal(rows.length, options.length + commandOnly.length, 'every option once');
    for (const name of commandOnly) {
      const o = COMMANDS.flatMap((c) => c.options).find((d) => d.name === name)!;
      const row = rows.find((r) => r[0]!.includes(`\`${flagOf(o)}\``));
      assert.ok(row, `${flagOf(o)} (a command's option) has a row`);
      const takers = COMMANDS.filter((c) => c.options.some((d) => d.name === name)).map((c) => c.id);
      assert.equal(row[1], takers.join(', '), `${name}: commands`);
      assert.equal(row[2], o.env ? `\`${o.env}\`` : '—', `${name}: environment`);
    }
    for (const o of options) {
      const row = rows.find((r) => r[0]!.includes(`\`${flagOf(o)}\``));
      assert.ok(row, `${flagOf(o)} has a row`);
      const takers = providersTaking(o.name);
      if (o.name !== 'provider' && takers.length < PROVIDER_IDS.length)
        assert.equal(row[1], takers.join(', '), `${o.name}: providers`);
      assert.equal(row[2], o.env ? `\`${o.env}\`` : '—', `${o.name}: environment`);
      assert.equal(row[3], o.secret ? 'never' : o.persist ? 'yes' : 'no', `${o.name}: remembered`);
    }
    assert.ok(
      rows.some((r) => r[0] === '`--no-provision`'),
      'a boolean that is on unless told is shown by its --no- form',
    );
    const account = rows.find((r) => r[0] === '`--account <value>`')!;
    assert.match(
      account[4]!,
      /\*\*s3-compatible\*\*: The Cloudflare account id.*<br>\*\*azure\*\*: Azure storage/,
    );
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
