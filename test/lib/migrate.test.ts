/**
 * The migration engine against real peers: local files to local files, local files to s3rver (behind a
 * counting proxy, so the requests a run sends are seen on the wire) and back. Nested folders, unicode,
 * spaces, 0-byte files and a 70 MiB file (multipart above the 64 MiB default); a re-run copies nothing and
 * sends only listings; a changed source file and a differing destination object are reported, never
 * overwritten without `overwrite`; a run killed with SIGKILL half-way is completed by the next.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { migrate, MiB } from '../../lib/migrate.js';
import { LocalStore } from '../../lib/storage/local.js';
import { S3Store } from '../../lib/storage/s3.js';
import type { ObjectStore } from '../../lib/storage/types.js';
import { S3RVER_KEY, startS3rver, type RunningS3 } from '../helpers/s3rver.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * A proxy in front of s3rver that records each request's method and path+query. With `checkMd5`, it also does
 * what S3 does and s3rver does not: a body whose Content-MD5 does not match is refused (400 BadDigest).
 */
async function countingProxy(
  target: string,
  checkMd5 = false,
): Promise<{ endpoint: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const { hostname, port } = new URL(target);
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const up = http.request(
      { hostname, port, method: req.method, path: req.url, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    // (Destroyed on purpose after a refusal: the 400 already sent must not be cut.)
    up.on('error', () => {
      if (!res.writableEnded) res.destroy();
    });
    const claimed = req.headers['content-md5'];
    if (!checkMd5 || typeof claimed !== 'string') {
      req.pipe(up);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (createHash('md5').update(body).digest('base64') === claimed) {
        up.end(body);
        return;
      }
      res.writeHead(400, { 'content-type': 'application/xml' });
      res.end(
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>BadDigest</Code>' +
          '<Message>The Content-MD5 you specified did not match what we received.</Message></Error>',
      );
      up.destroy();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

const FILES: Record<string, Buffer> = {
  'uploadedfiles/nested/deeper/a.txt': Buffer.from('nested file\n'),
  'uploadedfiles/ünïcødé ✓ fïle.jpg': randomBytes(3000),
  'uploadedfiles/with space/b c.pdf': randomBytes(12345),
  'uploadedfiles/empty.bin': Buffer.alloc(0),
  'concepts/image.png': randomBytes(500),
};

function writeTree(dir: string, files: Record<string, Buffer>): void {
  for (const [key, body] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, key)), { recursive: true });
    writeFileSync(path.join(dir, key), body);
  }
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function s3Body(s3: RunningS3, bucket: string, key: string): Promise<Buffer> {
  const out = await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

describe('migrate engine (lib/migrate.ts + lib/storage)', function () {
  this.timeout(120_000);
  const dirs: string[] = [];
  const tmp = (): string => {
    const d = mkdtempSync(path.join(tmpdir(), 'migrate-'));
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  describe('local -> local', function () {
    it('copies every file under the prefixes, keeps keys, and a re-run copies nothing', async function () {
      const src = tmp();
      const dst = tmp();
      const journal = path.join(tmp(), '.arches-storage/migrate.json');
      writeTree(src, FILES);
      writeFileSync(path.join(src, 'settings.py'), 'SECRET = 1\n');
      const run = () => migrate({ source: new LocalStore(src), destination: new LocalStore(dst), journal });
      const first = await run();
      assert.equal(first.ok, true);
      assert.equal(first.counts.copied, Object.keys(FILES).length);
      for (const [key, body] of Object.entries(FILES))
        assert.equal(sha(readFileSync(path.join(dst, key))), sha(body), key);
      assert.equal(existsSync(path.join(dst, 'settings.py')), false, 'only what Arches stores is copied');
      assert.equal(readFileSync(path.join(path.dirname(journal), '.gitignore'), 'utf8'), '*\n');
      const second = await run();
      assert.equal(second.ok, true);
      assert.equal(second.counts.copied, 0);
      assert.equal(second.counts.skipped, Object.keys(FILES).length);
      assert.equal(second.verifiedBy['read-back'], 0, 'recorded copies are not read again');
    });

    it('a changed source file (same size, new content and mtime) is reported as different, not copied', async function () {
      const src = tmp();
      const dst = tmp();
      const journal = path.join(tmp(), 'migrate.json');
      writeTree(src, FILES);
      const run = (overwrite = false) =>
        migrate({ source: new LocalStore(src), destination: new LocalStore(dst), journal, overwrite });
      assert.equal((await run()).ok, true);
      const key = 'uploadedfiles/with space/b c.pdf';
      const changed = randomBytes(FILES[key]!.length);
      writeFileSync(path.join(src, key), changed);
      const later = new Date(Date.now() + 5000);
      utimesSync(path.join(src, key), later, later);
      const second = await run();
      assert.equal(second.ok, false);
      assert.deepEqual(
        second.different.map((d) => d.key),
        [key],
      );
      assert.match(second.different[0]!.why, /source changed/);
      assert.equal(sha(readFileSync(path.join(dst, key))), sha(FILES[key]!), 'destination kept');
      // A touch without a change of content is not a difference.
      const other = 'uploadedfiles/nested/deeper/a.txt';
      utimesSync(path.join(src, other), later, later);
      const third = await run(true);
      assert.equal(third.ok, true);
      assert.deepEqual(third.copies, [key], 'only the changed file is copied over with overwrite');
      assert.equal(sha(readFileSync(path.join(dst, key))), sha(changed));
    });

    it('a same-size destination file with no record is unverified; --verify-existing finds it different', async function () {
      const src = tmp();
      const dst = tmp();
      writeTree(src, FILES);
      const key = 'concepts/image.png';
      writeTree(dst, { [key]: randomBytes(500), 'uploadedfiles/empty.bin': Buffer.alloc(0) });
      const plain = await migrate({ source: new LocalStore(src), destination: new LocalStore(dst) });
      assert.equal(plain.ok, false);
      assert.deepEqual(plain.unverified.sort(), [key, 'uploadedfiles/empty.bin']);
      const verified = await migrate({
        source: new LocalStore(src),
        destination: new LocalStore(dst),
        verifyExisting: true,
      });
      assert.deepEqual(
        verified.different.map((d) => d.key),
        [key],
      );
      assert.equal(verified.counts.skipped, 4, 'the equal empty file is verified by reading both');
      assert.notEqual(sha(readFileSync(path.join(dst, key))), sha(FILES[key]!), 'not overwritten');
    });

    it('dry run lists what it would copy and writes nothing', async function () {
      const src = tmp();
      const dst = tmp();
      writeTree(src, FILES);
      const r = await migrate({
        source: new LocalStore(src),
        destination: new LocalStore(dst),
        dryRun: true,
      });
      assert.equal(r.copies.length, Object.keys(FILES).length);
      assert.equal(existsSync(path.join(dst, 'uploadedfiles')), false);
    });
  });

  it('a source read that fails gives its memory back: the copies after it still run (budget of one file)', async function () {
    this.timeout(10_000);
    const size = MiB;
    const keys = ['uploadedfiles/a.bin', 'uploadedfiles/b.bin', 'uploadedfiles/c.bin'];
    const source: ObjectStore = {
      description: 'a store whose first read fails',
      kind: 's3',
      list: (prefix = '') =>
        Readable.from(keys.filter((k) => k.startsWith(prefix)).map((key) => ({ key, size, etag: key }))),
      read: (key) =>
        key === keys[0]
          ? Promise.reject(new Error('connection reset'))
          : Promise.resolve(Readable.from([Buffer.alloc(size, key.length)])),
      write: () => Promise.reject(new Error('not a destination')),
      digest: () => Promise.reject(new Error('not used')),
      stamp: (e) => e.etag ?? '',
      close: () => undefined,
    };
    const dest = tmp();
    const r = await migrate({
      source,
      destination: new LocalStore(dest),
      concurrency: 1,
      partSize: size,
      memoryBudget: size,
    });
    assert.deepEqual(
      r.failed.map((f) => f.key),
      [keys[0]],
    );
    assert.equal(r.counts.copied, 2);
    assert.equal(statSync(path.join(dest, keys[2]!)).size, size);
  });

  describe('local <-> s3rver', function () {
    let s3: RunningS3;
    let proxy: Awaited<ReturnType<typeof countingProxy>>;
    before(async () => {
      s3 = await startS3rver();
      proxy = await countingProxy(s3.endpoint);
    });
    after(async () => {
      await proxy.close();
      await s3.stop();
    });
    const store = (bucket: string) =>
      S3Store.open({ bucket, endpoint: proxy.endpoint, pathStyle: true, credentials: S3RVER_KEY });

    it('copies to a bucket (70 MiB in parts), a re-run sends only listings, and back to local files', async function () {
      const src = tmp();
      const big = randomBytes(70 * MiB);
      writeTree(src, { ...FILES, 'uploadedfiles/big/video.mp4': big });
      await s3.createBucket('mig-a');
      const journal = path.join(tmp(), 'migrate.json');
      proxy.requests.length = 0;
      const dest = await store('mig-a');
      const first = await migrate({ source: new LocalStore(src), destination: dest, journal });
      assert.deepEqual(first.failed, []);
      assert.equal(first.ok, true);
      assert.equal(first.counts.copied, 6);
      const parts = proxy.requests.filter((r) => /^PUT .*partNumber=/.test(r));
      assert.equal(parts.length, 5, '70 MiB in 16 MiB parts');
      assert.equal(first.verifiedBy['read-back'], 6, 's3rver answers no checksum: every object read back');
      for (const [key, body] of Object.entries({ ...FILES, 'uploadedfiles/big/video.mp4': big }))
        assert.equal(sha(await s3Body(s3, 'mig-a', key)), sha(body), key);

      proxy.requests.length = 0;
      const again = await migrate({ source: new LocalStore(src), destination: dest, journal });
      assert.equal(again.ok, true);
      assert.equal(again.counts.copied, 0);
      assert.equal(again.counts.skipped, 6);
      assert.ok(proxy.requests.length > 0);
      assert.deepEqual(
        proxy.requests.filter((r) => !/^GET \/mig-a\/?\?.*list-type=2/.test(r)),
        [],
        'only ListObjectsV2 requests: no HEAD, GET or PUT of an object',
      );
      assert.equal(proxy.requests.length, 2, 'one LIST per prefix');

      const back = tmp();
      const down = await migrate({ source: dest, destination: new LocalStore(back), journal });
      assert.equal(down.ok, true);
      assert.equal(down.counts.copied, 6);
      assert.equal(sha(readFileSync(path.join(back, 'uploadedfiles/big/video.mp4'))), sha(big));
      assert.equal(statSync(path.join(back, 'uploadedfiles/empty.bin')).size, 0);
      dest.close();
    });

    it('a service that checks Content-MD5 (as S3 does) is not read back for single-part bodies; s3rver, which does not, is', async function () {
      const src = tmp();
      writeTree(src, FILES);
      const checking = await countingProxy(s3.endpoint, true);
      try {
        for (const [bucket, endpoint, requests, checks] of [
          ['mig-md5', checking.endpoint, checking.requests, true],
          ['mig-nomd5', proxy.endpoint, proxy.requests, false],
        ] as const) {
          await s3.createBucket(bucket);
          requests.length = 0;
          const dest = await S3Store.open({ bucket, endpoint, pathStyle: true, credentials: S3RVER_KEY });
          const r = await migrate({ source: new LocalStore(src), destination: dest });
          dest.close();
          assert.equal(r.ok, true, JSON.stringify(r.failed));
          const n = Object.keys(FILES).length;
          assert.deepEqual(
            r.verifiedBy,
            checks
              ? { sha256: 0, 'content-md5': n, 'read-back': 0 }
              : { sha256: 0, 'content-md5': 0, 'read-back': n },
            bucket,
          );
          const probes = requests.filter((q) => q.includes('.arches-storage-md5-probe-'));
          assert.deepEqual(
            probes.map((q) => q.split(' ')[0]),
            checks ? ['PUT'] : ['PUT', 'DELETE'],
            'one probe per run; stored only where nothing checks, then deleted',
          );
          const gets = requests.filter((q) => q.startsWith('GET ') && !q.includes('list-type=2'));
          assert.equal(gets.length, checks ? 0 : n, 'read-backs');
          for (const [key, body] of Object.entries(FILES))
            assert.equal(sha(await s3Body(s3, bucket, key)), sha(body));
          const left = await s3.client.send(
            new ListObjectsV2Command({ Bucket: bucket, Prefix: 'archestemp/' }),
          );
          assert.equal(left.KeyCount ?? 0, 0, 'no probe left behind');
        }
      } finally {
        await checking.close();
      }
    });

    it('a destination object that differs is not overwritten without overwrite', async function () {
      const src = tmp();
      writeTree(src, FILES);
      await s3.createBucket('mig-b');
      const key = 'uploadedfiles/with space/b c.pdf';
      const foreign = randomBytes(FILES[key]!.length);
      await s3.client.send(new PutObjectCommand({ Bucket: 'mig-b', Key: key, Body: foreign }));
      await s3.client.send(
        new PutObjectCommand({ Bucket: 'mig-b', Key: 'concepts/image.png', Body: Buffer.from('short') }),
      );
      const dest = await store('mig-b');
      const r = await migrate({ source: new LocalStore(src), destination: dest, verifyExisting: true });
      assert.equal(r.ok, false);
      assert.deepEqual(r.different.map((d) => d.key).sort(), ['concepts/image.png', key]);
      assert.equal(sha(await s3Body(s3, 'mig-b', key)), sha(foreign), 'kept');
      const forced = await migrate({
        source: new LocalStore(src),
        destination: dest,
        overwrite: true,
        verifyExisting: true,
      });
      assert.equal(forced.ok, true);
      assert.equal(sha(await s3Body(s3, 'mig-b', key)), sha(FILES[key]!));
      dest.close();
    });

    it('a copy killed with SIGKILL half-way is completed by the next run', async function () {
      const src = tmp();
      const many: Record<string, Buffer> = {};
      for (let i = 0; i < 150; i++)
        many[`uploadedfiles/batch/f${String(i).padStart(3, '0')}.bin`] = randomBytes(40_000);
      writeTree(src, many);
      await s3.createBucket('mig-c');
      const journal = path.join(tmp(), 'migrate.json');
      const script = path.join(tmp(), 'child.mts');
      writeFileSync(
        script,
        `import { migrate } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'lib/migrate.ts')).href)};\n` +
          `import { LocalStore } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'lib/storage/local.ts')).href)};\n` +
          `import { S3Store } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'lib/storage/s3.ts')).href)};\n` +
          `const dest = await S3Store.open({ bucket: 'mig-c', endpoint: ${JSON.stringify(proxy.endpoint)}, pathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });\n` +
          `await migrate({ source: new LocalStore(${JSON.stringify(src)}), destination: dest, journal: ${JSON.stringify(journal)}, concurrency: 2 });\n`,
      );
      proxy.requests.length = 0;
      const child = spawn(process.execPath, ['--import', 'tsx', script], {
        cwd: ROOT,
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      await new Promise<void>((resolve, reject) => {
        const timer = setInterval(() => {
          if (proxy.requests.filter((r) => r.startsWith('PUT')).length >= 40) {
            clearInterval(timer);
            child.kill('SIGKILL');
            resolve();
          }
        }, 5);
        child.on('exit', (code) => {
          clearInterval(timer);
          reject(new Error(`the child ended on its own (${code}) before it was killed`));
        });
      });
      const dest = await store('mig-c');
      const listed: string[] = [];
      for await (const e of dest.list('uploadedfiles/')) listed.push(e.key);
      assert.ok(listed.length >= 30 && listed.length < 150, `half-way: ${listed.length} objects`);
      const r = await migrate({ source: new LocalStore(src), destination: dest, journal });
      assert.deepEqual(r.failed, []);
      assert.deepEqual(r.unverified, [], 'objects of the interrupted run are verified, not left unverified');
      assert.equal(r.ok, true);
      assert.equal(r.counts.copied + r.counts.skipped, 150);
      assert.ok(r.counts.copied < 150 && r.counts.copied > 0);
      for (const [key, body] of Object.entries(many))
        assert.equal(sha(await s3Body(s3, 'mig-c', key)), sha(body), key);
      const again = await migrate({ source: new LocalStore(src), destination: dest, journal });
      assert.equal(again.counts.copied, 0);
      assert.equal(again.counts.skipped, 150);
      dest.close();
    });
  });
});
