/**
 * What a user sees and where secrets go, through the real bin: exit codes (2 for a bad or missing answer, 1 for
 * a refusal), `--json` as one JSON document on success and failure, redaction of every printed form of a
 * secret, credentials in URLs refused unechoed, `--secrets-file` honoured for given keys, git asked whether a
 * secret file would be committed, and every byte of the user's files kept.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MARK_PREFIX_BEGIN } from '../../lib/blocks.js';
import { BIN, freshProject, ROOT, runBin, snapshot } from '../helpers/run.js';

const PKG = 'demo_heritage';
const KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const S3C = [
  's3-compatible',
  '--skip-prompts',
  '--no-provision',
  '--service',
  'minio',
  '--endpoint',
  'http://127.0.0.1:9000',
  '--bucket',
  'arches-media',
  '--cors-origin',
  'https://arches.example.org',
];
const KEYS = ['--access-key-id', KEY_ID, '--secret-access-key', SECRET];

function bytesOf(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [rel] of snapshot(dir)) out.set(rel, readFileSync(path.join(dir, rel)).toString('hex'));
  return out;
}

function noStack(text: string): void {
  assert.doesNotMatch(text, /\n\s+at .+:\d+:\d+/, `a stack trace was printed:\n${text}`);
}

function git(dir: string, ...args: string[]): number | null {
  return spawnSync('git', args, { cwd: dir, stdio: 'ignore' }).status;
}

describe('output, exit codes and secrets (bin)', function () {
  this.timeout(120_000);
  const dirs: string[] = [];
  const project = (id: Parameters<typeof freshProject>[0] = '7.4'): string => {
    const d = freshProject(id);
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  describe('exit codes', () => {
    it('2 for --project that is not a directory, or not an Arches project', () => {
      const missing = runBin([...S3C, '--project', '/nonexistent/arches']);
      assert.equal(missing.status, 2, missing.stderr);
      assert.match(missing.stderr, /--project .* is not a directory/);
      const empty = project();
      rmSync(path.join(empty, PKG), { recursive: true });
      const notArches = runBin([...S3C, '--project', empty]);
      assert.equal(notArches.status, 2, notArches.stderr);
      assert.match(notArches.stderr, /not an Arches project/);
      noStack(notArches.stderr);
    });

    it('2 for a bad or unsupported --arches-version', () => {
      const dir = project('6.2');
      for (const v of ['banana', '5.1.0', '9.0.0']) {
        const r = runBin([...S3C, '--project', dir, '--arches-version', v]);
        assert.equal(r.status, 2, `${v}: ${r.stderr}`);
        assert.match(r.stderr, /arches-storage: .*(not a release|not supported)/);
        noStack(r.stderr);
      }
    });

    it('a missing endpoint names what can supply it', () => {
      const dir = project();
      const r = runBin([
        's3-compatible',
        '--skip-prompts',
        '--no-provision',
        '--service',
        'other',
        '--bucket',
        'b-1',
        '--cors-origin',
        'https://arches.example.org',
        '--project',
        dir,
      ]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /--endpoint/);
      assert.match(r.stderr, /--service/);
    });

    it('130 and one line for Ctrl-C at a prompt (on a real terminal), nothing written', () => {
      const dir = project();
      const before = bytesOf(dir);
      const r = spawnSync(
        '/usr/bin/python3',
        [
          path.join(ROOT, 'test/helpers/pty_run.py'),
          process.execPath,
          BIN,
          'aws',
          '--no-skip-prompts',
          '--project',
          dir,
        ],
        // cwd: yeoman-test runs elsewhere in the suite chdir into folders that are later removed.
        { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: undefined } },
      );
      const { code, out } = JSON.parse(r.stdout) as { code: number; out: string };
      assert.equal(code, 130, out);
      assert.match(out, /Interrupted at a prompt: nothing was written/);
      noStack(out);
      assert.deepEqual(bytesOf(dir), before, 'nothing written, no lock left');
    });

    it('a broken .yo-rc.json gives one line and exit 1, from the app generator too', () => {
      const dir = project();
      writeFileSync(path.join(dir, '.yo-rc.json'), '{"generator-arches-storage": {"provider": "aws"');
      for (const args of [['app', '--skip-prompts'], S3C]) {
        const r = runBin([...args, '--project', dir]);
        assert.equal(r.status, 1, r.stderr);
        assert.match(r.stderr, /\.yo-rc\.json/);
        assert.match(r.stderr, /mv \.yo-rc\.json/);
        noStack(r.stderr);
      }
    });

    it('1 for a refusal (edited markers), one line per problem, no stack', () => {
      const dir = project();
      const settings = path.join(dir, PKG, 'settings.py');
      writeFileSync(settings, readFileSync(settings, 'utf8') + `\n${MARK_PREFIX_BEGIN}: edited\n`);
      const r = runBin([...S3C, '--project', dir]);
      assert.equal(r.status, 1, r.stderr);
      noStack(r.stderr);
    });
  });

  describe('--json', () => {
    it('success: stdout is one JSON document with ok, the changes and the warnings', () => {
      const dir = project();
      const r = runBin([...S3C, '--project', dir, '--json']);
      assert.equal(r.status, 0, r.stderr);
      const doc = JSON.parse(r.stdout) as { ok: boolean; changes: Array<{ path: string; action: string }> };
      assert.equal(doc.ok, true);
      assert.ok(doc.changes.some((c) => c.path === `${PKG}/settings.py` && c.action === 'update'));
    });

    it('dry run: the diff is inside the document, nothing written', () => {
      const dir = project();
      const before = bytesOf(dir);
      const r = runBin([...S3C, '--project', dir, '--json', '--dry-run']);
      assert.equal(r.status, 0, r.stderr);
      const doc = JSON.parse(r.stdout) as { ok: boolean; dryRun: boolean; diff: string };
      assert.equal(doc.dryRun, true);
      assert.match(doc.diff, /\+\+\+ b\/demo_heritage\/settings\.py/);
      assert.deepEqual(bytesOf(dir), before);
    });

    it('failure: stdout is one JSON document with ok: false and the exit code; non-zero exit', () => {
      const dir = project();
      for (const args of [
        [...S3C, '--project', dir, '--json', '--bucket', 'Bad_Bucket'],
        ['nosuchprovider', '--json'],
        [...S3C, '--project', '/nonexistent', '--json'],
        [...S3C, '--project', dir, '--json', '--no-such-flag'],
      ]) {
        const r = runBin(args);
        assert.notEqual(r.status, 0);
        const doc = JSON.parse(r.stdout) as { ok: boolean; exitCode: number; error: string };
        assert.equal(doc.ok, false, r.stdout);
        assert.equal(doc.exitCode, r.status);
        assert.ok(doc.error.length > 0);
      }
    });
  });

  describe('secrets in output', () => {
    it('a dry run shows no form of the secret (raw, escaped, URL-encoded)', () => {
      const dir = project();
      const r = runBin([...S3C, '--project', dir, '--dry-run', ...KEYS]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /settings_local\.py/);
      for (const form of [SECRET, JSON.stringify(SECRET).slice(1, -1), encodeURIComponent(SECRET)])
        assert.ok(!(r.stdout + r.stderr).includes(form), `printed: ${form}`);
      assert.ok(r.stdout.includes('********'));
    });

    it('credentials in an endpoint URL are refused without echoing them', () => {
      const dir = project();
      const args = S3C.map((a) =>
        a === 'http://127.0.0.1:9000' ? `https://${KEY_ID}:${SECRET}@minio.example.org` : a,
      );
      const r = runBin([...args, '--project', dir]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /credentials/);
      assert.ok(!(r.stdout + r.stderr).includes(SECRET));
      assert.ok(!(r.stdout + r.stderr).includes(encodeURIComponent(SECRET)));
    });
  });

  describe('where keys go', () => {
    it('--secrets-file takes given keys: a 0600 dotenv file git ignores; settings_local.py gets none', () => {
      const dir = project();
      git(dir, 'init', '-q');
      const r = runBin([...S3C, '--project', dir, ...KEYS, '--secrets-file', 'secrets/storage.env']);
      assert.equal(r.status, 0, r.stderr);
      const file = path.join(dir, 'secrets/storage.env');
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.match(
        readFileSync(file, 'utf8'),
        new RegExp(`^AWS_SECRET_ACCESS_KEY=${SECRET.replace(/[+/]/g, '\\$&')}$`, 'm'),
      );
      assert.doesNotMatch(
        readFileSync(path.join(dir, PKG, 'settings_local.py'), 'utf8'),
        /AWS_SECRET_ACCESS_KEY/,
      );
      assert.equal(git(dir, 'check-ignore', '-q', 'secrets/storage.env'), 0, 'git ignores the secrets file');
      assert.match(readFileSync(path.join(dir, 'arches-storage/NOTES.md'), 'utf8'), /secrets\/storage\.env/);
      const back = runBin(['local', '--skip-prompts', '--project', dir]);
      assert.equal(back.status, 0, back.stderr);
      assert.throws(() => statSync(file), /ENOENT/, 'local removes the secrets file it created');
    });

    it('--secrets-file outside the project keeps every line the user had in it', () => {
      const dir = project();
      const outside = path.join(freshProject('7.4'), 'app.env');
      dirs.push(path.dirname(outside));
      writeFileSync(outside, 'DATABASE_URL=postgres://db/arches\n');
      const r = runBin([...S3C, '--project', dir, ...KEYS, '--secrets-file', outside]);
      assert.equal(r.status, 0, r.stderr);
      const text = readFileSync(outside, 'utf8');
      assert.ok(text.startsWith('DATABASE_URL=postgres://db/arches\n'), text);
      assert.match(text, /^AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE$/m);
      assert.equal(statSync(outside).mode & 0o777, 0o600);
    });

    it('--secrets-file that git tracks is refused, nothing written', () => {
      const dir = project();
      git(dir, 'init', '-q');
      writeFileSync(path.join(dir, 'storage.env'), '# mine\n');
      git(dir, 'add', 'storage.env');
      const before = bytesOf(dir);
      const r = runBin([...S3C, '--project', dir, ...KEYS, '--secrets-file', 'storage.env']);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /storage\.env is tracked by git/);
      assert.deepEqual(bytesOf(dir), before);
    });

    it('settings_local.py un-ignored by a nested .gitignore is refused, nothing written', () => {
      const dir = project();
      writeFileSync(path.join(dir, PKG, '.gitignore'), '!settings_local.py\n');
      const before = bytesOf(dir);
      const r = runBin([...S3C, '--project', dir, ...KEYS]);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /would still be committed/);
      assert.deepEqual(bytesOf(dir), before);
    });

    it('a .gitignore that ignores the package folder needs no extra rule', () => {
      const dir = project();
      writeFileSync(path.join(dir, '.gitignore'), `${PKG}/\n`);
      const r = runBin([...S3C, '--project', dir, ...KEYS]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(readFileSync(path.join(dir, '.gitignore'), 'utf8'), `${PKG}/\n`);
    });

    it('settings_local.py that receives keys is 0600, also when it existed with wider bits', () => {
      const dir = project();
      const local = path.join(dir, PKG, 'settings_local.py');
      chmodSync(local, 0o644);
      const r = runBin([...S3C, '--project', dir, ...KEYS]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(statSync(local).mode & 0o777, 0o600);
    });
  });

  describe('NOTES.md', () => {
    it('is Markdown, not HTML-escaped', () => {
      const dir = project();
      const r = runBin([...S3C, '--project', dir]);
      assert.equal(r.status, 0, r.stderr);
      const notes = readFileSync(path.join(dir, 'arches-storage/NOTES.md'), 'utf8');
      assert.doesNotMatch(notes, /&(#\d+|quot|amp|lt|gt);/);
    });
  });

  describe('bytes, not text', () => {
    // [name, shape, applies to TOML too] — pip reads pyproject.toml as strict UTF-8, so no BOM or Latin-1 there.
    const shapes: Array<[string, (s: Buffer) => Buffer, boolean]> = [
      ['a UTF-8 BOM', (s) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), s]), false],
      [
        'a PEP 263 Latin-1 file with Latin-1 bytes',
        (s) =>
          Buffer.concat([
            Buffer.from('# -*- coding: latin-1 -*-\n# Caf\xe9 \xa9 Arch\xe9ologie\n', 'latin1'),
            s,
          ]),
        false,
      ],
      ['CRLF line ends', (s) => Buffer.from(s.toString('latin1').replace(/\n/g, '\r\n'), 'latin1'), true],
      [
        'tabs and trailing blanks',
        (s) => Buffer.from(s.toString('latin1').replace(/^ {4}/gm, '\t') + '# end  \t\n', 'latin1'),
        true,
      ],
      ['no final newline', (s) => Buffer.from(s.toString('latin1').replace(/\n+$/, ''), 'latin1'), true],
      [
        'invalid UTF-8 bytes in a comment',
        (s) => Buffer.concat([s, Buffer.from([0x23, 0x20, 0xff, 0xfe, 0x80, 0x0a])]),
        false,
      ],
    ];
    for (const id of ['7.4', '7.6'] as const) {
      for (const [name, shape, toml] of shapes) {
        it(`${id}, ${name}: every byte survives, and local gives the original files back`, () => {
          const dir = project(id);
          const dep = id === '7.4' ? `${PKG}/install/requirements.txt` : 'pyproject.toml';
          const targets = [`${PKG}/settings.py`, `${PKG}/settings_local.py`, '.gitignore'];
          if (id === '7.4' || toml) targets.push(dep);
          for (const rel of targets) {
            const abs = path.join(dir, rel);
            writeFileSync(abs, shape(readFileSync(abs)));
          }
          const before = bytesOf(dir);
          const r = runBin([...S3C, '--project', dir, ...KEYS]);
          assert.equal(r.status, 0, r.stderr);
          for (const rel of targets) {
            // The user's bytes are all still there, in order, with the block's lines between them.
            const now = readFileSync(path.join(dir, rel));
            const was = Buffer.from(before.get(rel)!, 'hex');
            if (now.equals(was)) continue;
            let at = 0;
            for (const byte of was) {
              at = now.indexOf(byte, at);
              assert.ok(at >= 0, `${rel}: a byte of the user's file went missing`);
              at++;
            }
          }
          const back = runBin(['local', '--skip-prompts', '--project', dir]);
          assert.equal(back.status, 0, back.stderr);
          const after = bytesOf(dir);
          after.delete('.yo-rc.json');
          assert.deepEqual(after, before);
        });
      }
    }
  });
});
