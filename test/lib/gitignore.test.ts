/**
 * "Would git commit this file?" is asked of git: these cases are the ones a pattern matcher gets wrong
 * (negations, nested .gitignore files, info/exclude, core.excludesFile, a project below the repository top).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isIgnored, isTracked } from '../../lib/gitignore.js';

function repo(files: Record<string, string>, init = true): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'arches-gitignore-'));
  if (init) spawnSync('git', ['init', '-q'], { cwd: dir });
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

const TARGET = 'pkg/settings_local.py';

describe('gitignore: asked of git', () => {
  it('a plain rule ignores; none does not', () => {
    assert.equal(isIgnored(repo({ '.gitignore': 'pkg/settings_local.py\n' }), TARGET), true);
    assert.equal(isIgnored(repo({ '.gitignore': 'node_modules/\n' }), TARGET), false);
    assert.equal(isIgnored(repo({}), TARGET), false);
  });

  it('a directory pattern (pkg/) ignores what is inside it', () => {
    assert.equal(isIgnored(repo({ '.gitignore': 'pkg/\n' }), TARGET), true);
  });

  it('a later negation un-ignores; a nested .gitignore negation beats the root rule', () => {
    assert.equal(
      isIgnored(repo({ '.gitignore': 'settings_local.py\n!pkg/settings_local.py\n' }), TARGET),
      false,
    );
    const nested = repo({
      '.gitignore': '/pkg/settings_local.py\n',
      'pkg/.gitignore': '!settings_local.py\n',
    });
    assert.equal(isIgnored(nested, TARGET), false);
  });

  it('.git/info/exclude and core.excludesFile count', () => {
    const dir = repo({ '.git/info/exclude': 'settings_local.py\n' });
    assert.equal(isIgnored(dir, TARGET), true);
    const other = repo({ 'global-ignore': 'settings_local.py\n' });
    spawnSync('git', ['config', 'core.excludesFile', path.join(other, 'global-ignore')], { cwd: other });
    assert.equal(isIgnored(other, TARGET), true);
  });

  it('proposed content is judged without writing it, with the nested files and excludes still applying', () => {
    const dir = repo({ '.gitignore': 'node_modules/\n' });
    assert.equal(isIgnored(dir, TARGET, { '.gitignore': 'node_modules/\n/pkg/settings_local.py\n' }), true);
    assert.equal(isIgnored(dir, TARGET), false, 'the real .gitignore was not changed');
    const nested = repo({ 'pkg/.gitignore': '!settings_local.py\n' });
    assert.equal(isIgnored(nested, TARGET, { '.gitignore': '/pkg/settings_local.py\n' }), false);
    const excluded = repo({ '.git/info/exclude': '*.py\n' });
    assert.equal(isIgnored(excluded, TARGET, { '.gitignore': null }), true);
  });

  it('a project below the repository top: its .gitignore and the top one both apply', () => {
    const top = repo({ '.gitignore': 'sub/pkg/settings_local.py\n', 'sub/keep': '' });
    assert.equal(isIgnored(path.join(top, 'sub'), TARGET), true);
    assert.equal(
      isIgnored(path.join(top, 'sub'), TARGET, { '.gitignore': '!pkg/settings_local.py\n' }),
      false,
    );
  });

  it('outside any repository, the project rules are still judged by git', () => {
    const dir = repo({ '.gitignore': '/pkg/settings_local.py\n' }, false);
    assert.equal(isIgnored(dir, TARGET), true);
    assert.equal(isIgnored(dir, TARGET, { '.gitignore': null }), false);
  });

  it('tracked files are told apart (no ignore rule keeps them out of a commit)', () => {
    const dir = repo({ [TARGET]: 'X = 1\n' });
    assert.equal(isTracked(dir, TARGET), false);
    spawnSync('git', ['add', TARGET], { cwd: dir });
    assert.equal(isTracked(dir, TARGET), true);
  });
});
