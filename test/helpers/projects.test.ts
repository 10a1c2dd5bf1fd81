import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIXTURES, writeProject, type FixtureId } from './projects.js';

const PYTHON = '/usr/bin/python3';

describe('test/helpers/projects fixtures', () => {
  const dirs: string[] = [];
  const fresh = (): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arches-fixture-'));
    dirs.push(dir);
    return dir;
  };
  after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  const read = (dir: string, rel: string) => fs.readFileSync(path.join(dir, rel), 'utf8');

  it('lists every fixture id once', () => {
    const ids = FIXTURES.map((f) => f.id);
    assert.deepEqual(new Set(ids).size, ids.length);
    assert.deepEqual([...ids].sort(), ['6.2', '7.3', '7.4', '7.5', '7.6', '7.6-upgraded', '8.0', '8.1']);
  });

  for (const info of FIXTURES) {
    describe(`fixture ${info.id}`, () => {
      let dir: string;
      let pkg: string;
      before(() => {
        dir = fresh();
        pkg = writeProject(dir, info.id);
      });
      const rel = (p: string) => p.replace(/<pkg>/g, pkg);

      it('writes exactly the files FIXTURES lists', () => {
        assert.equal(pkg, 'demo_heritage');
        const written: string[] = [];
        const walk = (sub: string) => {
          for (const e of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
            const p = sub ? `${sub}/${e.name}` : e.name;
            if (e.isDirectory()) {
              if (e.name !== '__pycache__') walk(p);
            } else written.push(p);
          }
        };
        walk('');
        assert.deepEqual(written.sort(), info.files.map(rel).sort());
        if (info.depFile) assert.ok(fs.existsSync(path.join(dir, rel(info.depFile))));
        assert.ok(fs.existsSync(path.join(dir, rel(info.packageJson))));
      });

      it('fills in every placeholder of the fixture directory', () => {
        assert.ok(!fs.existsSync(path.join(dir, '__pkg__')));
        assert.ok(!fs.existsSync(path.join(dir, '_gitignore')));
        for (const f of info.files.map(rel)) assert.doesNotMatch(read(dir, f), /\{\{|\}\}|__pkg__/, f);
      });

      it('has the settings.py structure of its line', () => {
        const s = read(dir, `${pkg}/settings.py`);
        assert.match(s, /^try:\n {4}from arches\.settings import \*\nexcept ImportError:\n {4}pass$/m);
        assert.match(s, /^import os$/m);
        assert.match(s, /^INSTALLED_APPS = \($/m);
        assert.match(s, /^MEDIA_URL = '\/files\/'$/m);
        assert.equal(
          /^UPLOADED_FILES_DIR = "uploadedfiles"$/m.test(s),
          !['6.2', '7.3', '7.4'].includes(info.id),
        );
        assert.equal(/^if __name__ == "__main__":$/m.test(s), ['7.3', '7.4', '7.5'].includes(info.id));
        assert.equal(/^ {4}try: ?\n {8}from settings_local import \*$/m.test(s), info.id !== '6.2');
        assert.ok(s.indexOf('from .package_settings import *') < s.indexOf('from .settings_local import *'));
        if (info.id.startsWith('7.6')) assert.match(s, /^INSTALLED_APPS \+= \("arches\.app",\)$/m);
        if (info.id.startsWith('8.')) {
          assert.match(s, /^INSTALLED_APPS \+= \(\n {4}"arches\.app",\n {4}"django\.contrib\.admin",\n\)$/m);
        }
        assert.doesNotMatch(s, /STORAGES|DEFAULT_FILE_STORAGE|STATICFILES_STORAGE/);
      });

      it('declares its release in package.json and the dependency file', () => {
        const pj = JSON.parse(read(dir, rel(info.packageJson))) as { dependencies: Record<string, string> };
        assert.equal(pj.dependencies.arches, `archesproject/arches#stable/${info.release}`);
        if (info.depFile === 'pyproject.toml') {
          const t = read(dir, 'pyproject.toml');
          const [maj, min] = info.release.split('.').map(Number) as [number, number];
          assert.ok(t.includes(`"arches>=${info.release},<${maj}.${min + 1}.0",`));
          assert.equal(t.includes('[dependency-groups]'), info.id.startsWith('8.'));
        } else if (info.depFile) {
          assert.match(
            read(dir, rel(info.depFile)),
            new RegExp(`^arches==${info.release.replace(/\./g, '\\.')}$`, 'm'),
          );
        }
      });

      it('lists settings_local.py in .gitignore as FIXTURES says', () => {
        const lines = read(dir, '.gitignore').split('\n');
        assert.equal(lines.includes(`${pkg}/settings_local.py`), info.settingsLocalIgnored);
      });

      it('has Python files that compile', function () {
        if (!fs.existsSync(PYTHON)) this.skip();
        for (const f of [`${pkg}/settings.py`, `${pkg}/settings_local.py`, 'manage.py']) {
          execFileSync(PYTHON, ['-m', 'py_compile', path.join(dir, f)], { stdio: 'pipe' });
        }
      });
    });
  }

  it('honours pkg, release and gitignoreSettingsLocal options', () => {
    const dir = fresh();
    const id: FixtureId = '7.4';
    assert.equal(
      writeProject(dir, id, { pkg: 'my_proj', release: '7.4.1', gitignoreSettingsLocal: false }),
      'my_proj',
    );
    assert.match(read(dir, 'my_proj/install/requirements.txt'), /^arches==7\.4\.1$/m);
    assert.match(read(dir, 'my_proj/package.json'), /archesproject\/arches#stable\/7\.4\.1"/);
    assert.match(read(dir, 'manage.py'), /"my_proj\.settings"/);
    assert.ok(!read(dir, '.gitignore').includes('settings_local.py'));

    const dir8 = fresh();
    writeProject(dir8, '8.0', { pkg: 'my_proj', release: '8.0.3' });
    const t = read(dir8, 'pyproject.toml');
    assert.ok(t.includes('name = "my-proj"'));
    assert.ok(t.includes('"arches>=8.0.3,<8.1.0",'));
    assert.ok(t.includes('packages = ["my_proj"]'));
  });

  it('keeps the stale 7.5 requirements.txt in the upgraded 7.6 project', () => {
    const dir = fresh();
    writeProject(dir, '7.6-upgraded');
    assert.match(read(dir, 'demo_heritage/install/requirements.txt'), /^arches==7\.5\.5$/m);
    assert.match(read(dir, 'demo_heritage/install/requirements.txt'), /; sys_platform == "win32"$/m);
    assert.ok(read(dir, 'pyproject.toml').includes('"arches>=7.6.0,<7.7.0",'));
    assert.ok(!fs.existsSync(path.join(dir, 'demo_heritage/package.json')));
  });
});
