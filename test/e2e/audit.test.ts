/**
 * End to end: `arches-storage audit` through the bin, with Debian's Django 3.2 (/usr/bin/python3) as the
 * project's Python and a stand-in `arches` package (demo/arches-stub plus a `files` model and a concept image
 * `values` model, in a temporary folder) over an sqlite database the test fills. Local storage (MEDIA_ROOT, the
 * package folder) and the generated s3-compatible settings against s3rver.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  utimesSync,
  writeFileSync,
  appendFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { ARCHES_STUB, DJANGO_PYTHON } from '../helpers/django.js';
import { freshProject, NO_PROMPT, runBin, runBinAsync, runGenerator } from '../helpers/run.js';
import { S3RVER_KEY, startS3rver, type RunningS3 } from '../helpers/s3rver.js';

const PKG = 'demo_heritage';
const DAY = 86_400;

const MODELS = `from django.db import models


class File(models.Model):
    fileid = models.UUIDField(primary_key=True)
    path = models.FileField(upload_to="uploadedfiles")

    class Meta:
        app_label = "models"
        db_table = "files"


class FileValue(models.Model):
    valueid = models.UUIDField(primary_key=True)
    valuetype_id = models.TextField(db_column="valuetype")
    value = models.FileField(upload_to="concepts")

    class Meta:
        app_label = "models"
        managed = False
        db_table = "values"
`;

/** demo/arches-stub with arches.app.models.models (File, FileValue), in a temporary folder. */
function standIn(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'arches-audit-stub-'));
  cpSync(ARCHES_STUB, dir, { recursive: true });
  mkdirSync(path.join(dir, 'arches/app/models'), { recursive: true });
  writeFileSync(path.join(dir, 'arches/app/__init__.py'), '');
  writeFileSync(path.join(dir, 'arches/app/models/__init__.py'), '');
  writeFileSync(path.join(dir, 'arches/app/models/models.py'), MODELS);
  return dir;
}

/** The project's settings_local.py points Django at the sqlite database and the stand-in app. */
function useDatabase(dir: string): string {
  const db = path.join(dir, 'audit.sqlite3');
  appendFileSync(
    path.join(dir, PKG, 'settings_local.py'),
    '\n# test: the stand-in files model over sqlite\n' +
      'INSTALLED_APPS = ("storages", "arches.app.models")\n' +
      `DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ${JSON.stringify(db)}}}\n`,
  );
  return db;
}

/** Replaces the rows: files (fileid, path) and concept image values. */
function fillRows(db: string, files: Record<string, string>, images: Record<string, string> = {}): void {
  const script = `
import json, sqlite3, sys
db, files, images = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
c = sqlite3.connect(db)
c.execute("create table if not exists files (fileid char(32) primary key, path varchar(100) not null)")
c.execute("create table if not exists \\"values\\" (valueid char(32) primary key, valuetype text, value text)")
c.execute("delete from files"); c.execute("delete from \\"values\\"")
for i, (k, v) in enumerate(files.items()): c.execute("insert into files values (?, ?)", (k, v))
for k, v in images.items(): c.execute("insert into \\"values\\" values (?, 'image', ?)", (k, v))
c.execute("insert into \\"values\\" values ('ffffffffffffffffffffffffffffffff', 'prefLabel', 'not a file')")
c.commit()
`;
  execFileSync(DJANGO_PYTHON, ['-c', script, db, JSON.stringify(files), JSON.stringify(images)]);
}

const uuid = (n: number): string => n.toString(16).padStart(32, '0');
const dashed = (hex: string): string =>
  `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;

interface AuditDoc {
  ok: boolean;
  exitCode?: number;
  error?: string;
  rows: number;
  objects: number;
  referenced: number;
  backend: string;
  orphans: {
    count: number;
    bytes: number;
    oldest?: string;
    newest?: string;
    groups: Array<{ prefix: string; count: number; bytes: number; oldest: string; newest: string }>;
  };
  orphanList: Array<{ name: string; size: number; deletable: boolean; group: string }>;
  broken: Array<{ table: string; id: string; name: string }>;
  deletion?: { deleted: string[]; kept: Array<{ name: string; why: string }>; dryRun: boolean };
}

describe('end to end: arches-storage audit (Django 3.2, stand-in files model)', function () {
  this.timeout(120_000);
  const dirs: string[] = [];
  let stub: string;
  before(() => {
    stub = standIn();
    dirs.push(stub);
  });
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  const env = (): Record<string, string | undefined> => ({
    PYTHONPATH: stub,
    VIRTUAL_ENV: undefined,
    CI: 'true',
  });

  describe('local storage (MEDIA_ROOT)', function () {
    let dir: string;
    let db: string;
    const media = (rel: string): string => path.join(dir, PKG, rel);
    const put = (rel: string, bytes: number, ageSeconds: number): void => {
      mkdirSync(path.dirname(media(rel)), { recursive: true });
      writeFileSync(media(rel), Buffer.alloc(bytes, 1));
      const t = Date.now() / 1000 - ageSeconds;
      utimesSync(media(rel), t, t);
    };
    const audit = (...args: string[]): { status: number | null; stdout: string; stderr: string } =>
      runBin(['audit', '--project', dir, '--python', DJANGO_PYTHON, ...args], { env: env() });

    beforeEach(() => {
      dir = freshProject('7.4');
      dirs.push(dir);
      db = useDatabase(dir);
      put('uploadedfiles/a.jpg', 10, 40 * DAY);
      put('uploadedfiles/nested/ü b.png', 0, 40 * DAY);
      put('concepts/c.png', 5, 40 * DAY);
      put('uploadedfiles/old-orphan.jpg', 1000, 30 * DAY);
      put('uploadedfiles/new-orphan.jpg', 200, 60);
      put('uploadedfiles/tmp/t.bin', 300, 10 * DAY);
      put('archestemp/x.csv', 40, 13 * 3600);
      put('other/old.bin', 7, 90 * DAY);
      fillRows(
        db,
        {
          [uuid(1)]: 'uploadedfiles/a.jpg',
          [uuid(2)]: 'uploadedfiles/nested/ü b.png',
          [uuid(3)]: 'uploadedfiles/missing.jpg',
        },
        { [uuid(4)]: 'concepts/c.png' },
      );
    });

    it('reports orphans by prefix and broken links as JSON, and exits 1 for the broken link', function () {
      const r = audit('--json');
      assert.equal(r.status, 1, r.stderr);
      const doc = JSON.parse(r.stdout) as AuditDoc;
      assert.equal(doc.ok, false);
      assert.equal(doc.exitCode, 1);
      assert.match(doc.error ?? '', /1 row\(s\) point at objects missing/);
      assert.equal(doc.backend, 'django.core.files.storage.FileSystemStorage');
      assert.equal(doc.rows, 4, 'three files rows and one concept image (not the prefLabel value)');
      assert.deepEqual(doc.broken, [
        { table: 'files', id: dashed(uuid(3)), name: 'uploadedfiles/missing.jpg' },
      ]);
      assert.deepEqual(doc.orphanList.map((o) => o.name).sort(), [
        'archestemp/x.csv',
        'uploadedfiles/new-orphan.jpg',
        'uploadedfiles/old-orphan.jpg',
        'uploadedfiles/tmp/t.bin',
      ]);
      assert.equal(doc.objects, 7, 'only the owned prefixes are listed (not other/ or the settings)');
      assert.equal(doc.referenced, 3);
      assert.equal(doc.orphans.count, 4);
      assert.equal(doc.orphans.bytes, 1540);
      const groups = Object.fromEntries(doc.orphans.groups.map((g) => [g.prefix, [g.count, g.bytes]]));
      assert.deepEqual(groups, {
        'archestemp/': [1, 40],
        'uploadedfiles/': [2, 1200],
        'uploadedfiles/tmp/': [1, 300],
      });
      const old = Date.parse(doc.orphans.oldest!);
      assert.ok(Math.abs(old - (Date.now() - 30 * DAY * 1000)) < 120_000, `oldest ${doc.orphans.oldest}`);
      assert.ok(Date.now() - Date.parse(doc.orphans.newest!) < 300_000, `newest ${doc.orphans.newest}`);
    });

    it('prints a table, and exits 0 when every row’s object exists (orphans are a warning)', function () {
      fillRows(db, { [uuid(1)]: 'uploadedfiles/a.jpg' }, { [uuid(4)]: 'concepts/c.png' });
      const r = audit();
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /Orphans \(objects no row references\): 5, /);
      assert.match(r.stdout, /^ {2}uploadedfiles\/tmp\/ +1 +300 B /m);
      assert.match(r.stdout, /^ {2}uploadedfiles\/ +3 +1\.2 KiB /m);
      assert.match(r.stdout, /Broken links \(rows whose object is missing\): none/);
      assert.equal(r.stderr, '');
    });

    it('--delete-orphans deletes only orphans older than --min-age, only under the owned prefixes', function () {
      const r = audit('--delete-orphans', '--skip-prompts', '--json');
      assert.equal(r.status, 1, 'the broken link still fails the run');
      const doc = JSON.parse(r.stdout) as AuditDoc;
      assert.deepEqual(doc.deletion?.deleted.sort(), [
        'uploadedfiles/old-orphan.jpg',
        'uploadedfiles/tmp/t.bin',
      ]);
      assert.match(r.stderr, /Orphans older than 7d: 2, .*\(2 younger kept\)/);
      assert.equal(existsSync(media('uploadedfiles/old-orphan.jpg')), false);
      assert.equal(existsSync(media('uploadedfiles/tmp/t.bin')), false);
      for (const kept of [
        'uploadedfiles/new-orphan.jpg',
        'archestemp/x.csv',
        'uploadedfiles/a.jpg',
        'uploadedfiles/nested/ü b.png',
        'concepts/c.png',
        'other/old.bin',
        'settings.py',
      ])
        assert.ok(existsSync(media(kept)), `${kept} kept`);
      const again = audit('--delete-orphans', '--skip-prompts', '--min-age', '12h', '--prefix', 'other/');
      assert.equal(again.status, 1);
      assert.match(again.stdout, /Deleted 2 orphan\(s\)\./);
      assert.equal(existsSync(media('archestemp/x.csv')), false, '13 h old, past --min-age 12h');
      assert.equal(existsSync(media('other/old.bin')), false, '--prefix other/ lets it be cleaned');
      assert.ok(existsSync(media('uploadedfiles/new-orphan.jpg')), 'a minute old: kept');
      assert.ok(existsSync(media('settings.py')));
    });

    it('--dry-run lists what it would delete and deletes nothing', function () {
      const r = audit('--delete-orphans', '--dry-run', '--skip-prompts', '--min-age', '30m');
      assert.equal(r.status, 1);
      assert.match(r.stdout, /Dry run: 3 orphan\(s\) would be deleted; nothing was deleted\./);
      assert.match(r.stdout, /^ {2}uploadedfiles\/old-orphan\.jpg {2}1000 B /m);
      for (const name of ['uploadedfiles/old-orphan.jpg', 'uploadedfiles/tmp/t.bin', 'archestemp/x.csv'])
        assert.ok(existsSync(media(name)), `${name} kept`);
    });

    it('asks before deleting in an interactive run; "no" deletes nothing', async function () {
      fillRows(db, { [uuid(1)]: 'uploadedfiles/a.jpg', [uuid(2)]: 'uploadedfiles/nested/ü b.png' });
      const run = await runGenerator(
        'audit',
        dir,
        { python: DJANGO_PYTHON, 'delete-orphans': true, 'skip-prompts': false },
        { answers: { deleteOrphans: false }, env: { PYTHONPATH: stub, VIRTUAL_ENV: undefined } },
      );
      assert.deepEqual(
        run.questions.map((q) => [q.name, q.type, q.message, q.default]),
        [['deleteOrphans', 'confirm', 'Delete these 3 orphan(s) from the storage?', false]],
      );
      for (const name of ['uploadedfiles/old-orphan.jpg', 'uploadedfiles/tmp/t.bin', 'concepts/c.png'])
        assert.ok(existsSync(media(name)), `${name} kept`);
    });

    it('refuses a bad --min-age with exit 2', function () {
      const r = audit('--delete-orphans', '--min-age', '7 weeks', '--skip-prompts');
      assert.equal(r.status, 2);
      assert.match(r.stderr, /--min-age "7 weeks" is not a duration/);
    });

    it('without the project’s Python: exit 2, one line, saying to pass --python', function () {
      const r = runBin(['audit', '--project', dir], { env: env() });
      assert.equal(r.status, 2);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^arches-storage: No project Python found .*pass --python/);
    });
  });

  describe('the generated s3-compatible settings on s3rver', function () {
    let s3: RunningS3;
    before(async () => {
      s3 = await startS3rver();
    });
    after(async () => {
      await s3.stop();
    });

    it('lists the bucket through default_storage, and deletes only the orphans under the owned prefixes', async function () {
      const bucket = 'arches-audit';
      const dir = freshProject('7.4');
      dirs.push(dir);
      await s3.createBucket(bucket);
      await runGenerator('s3-compatible', dir, {
        ...NO_PROMPT,
        service: 'minio',
        endpoint: s3.endpoint,
        bucket,
        'cors-origin': ['https://arches.example.org'],
        'access-key-id': S3RVER_KEY.accessKeyId,
        'secret-access-key': S3RVER_KEY.secretAccessKey,
      });
      const db = useDatabase(dir);
      const keys = {
        'uploadedfiles/a.jpg': 'a',
        'uploadedfiles/nested/ü b.png': '',
        'uploadedfiles/orphan.jpg': 'orphan!',
        'uploadedfiles/tmp/t.bin': 'tmp',
        'private/keep.txt': 'not ours',
      };
      for (const [Key, Body] of Object.entries(keys))
        await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key, Body }));
      fillRows(db, {
        [uuid(1)]: 'uploadedfiles/a.jpg',
        [uuid(2)]: 'uploadedfiles/nested/ü b.png',
        [uuid(3)]: 'uploadedfiles/gone.jpg',
      });
      const args = ['audit', '--project', dir, '--python', DJANGO_PYTHON, '--json'];
      const r = await runBinAsync(args, { env: env() });
      assert.equal(r.status, 1, r.stderr);
      const doc = JSON.parse(r.stdout) as AuditDoc;
      assert.equal(doc.backend, 'storages.backends.s3boto3.S3Boto3Storage');
      assert.deepEqual(doc.orphanList.map((o) => [o.name, o.size]).sort(), [
        ['uploadedfiles/orphan.jpg', 7],
        ['uploadedfiles/tmp/t.bin', 3],
      ]);
      assert.deepEqual(
        doc.broken.map((b) => b.name),
        ['uploadedfiles/gone.jpg'],
      );
      assert.ok(
        doc.orphanList.every((o) => !o.deletable),
        'new objects are younger than 7d',
      );

      const d = await runBinAsync([...args, '--delete-orphans', '--skip-prompts', '--min-age', '0m'], {
        env: env(),
      });
      assert.equal(d.status, 1, d.stderr);
      assert.deepEqual((JSON.parse(d.stdout) as AuditDoc).deletion?.deleted.sort(), [
        'uploadedfiles/orphan.jpg',
        'uploadedfiles/tmp/t.bin',
      ]);
      const left = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket }));
      assert.deepEqual((left.Contents ?? []).map((o) => o.Key).sort(), [
        'private/keep.txt',
        'uploadedfiles/a.jpg',
        'uploadedfiles/nested/ü b.png',
      ]);
    });
  });
});
