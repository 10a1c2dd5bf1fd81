/**
 * SwitchCopy (generators/base/switch.ts), the copy a provider run makes as it switches, against a real s3rver:
 * the top-up pass after the switch copies exactly what was uploaded to the old storage between the passes; the
 * source's credentials come from our secrets block as it was when the run began (before provisioning rewrites
 * it), ahead of the environment; a source that cannot be listed stops the run before anything changes.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SwitchCopy, type SwitchCopyInput } from '../../generators/base/switch.js';
import { UserError } from '../../lib/types.js';
import { freshProject, NO_PROMPT, runGenerator } from '../helpers/run.js';
import { S3RVER_KEY, startS3rver, type RunningS3 } from '../helpers/s3rver.js';

const BUCKET = 'switch-copy-test';
const PKG = 'demo_heritage';

const sink = (): Writable =>
  new Writable({
    write(_chunk, _enc, done) {
      done();
    },
  });

/** Every key, for VIRTUAL_ENV-free runs (no project Python: MEDIA_ROOT is <pkg>/). */
function input(root: string, over: Partial<SwitchCopyInput>): SwitchCopyInput {
  return {
    root,
    pkg: PKG,
    from: 'local',
    fromValues: {},
    to: 's3-compatible',
    progress: sink(),
    say: () => undefined,
    ...over,
  };
}

const s3Values = (endpoint: string): Record<string, string> => ({
  service: 'other',
  endpoint,
  bucket: BUCKET,
});

describe('SwitchCopy: the copy a switching provider run makes', function () {
  this.timeout(60_000);
  let s3: RunningS3;
  let root: string;
  let savedEnv: NodeJS.ProcessEnv;

  beforeEach(async () => {
    savedEnv = { ...process.env };
    delete process.env.VIRTUAL_ENV;
    for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'])
      delete process.env[k];
    s3 = await startS3rver();
    await s3.createBucket(BUCKET);
    root = freshProject('7.4');
  });
  afterEach(async () => {
    process.env = savedEnv;
    await s3.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('the top-up after the switch copies exactly the file uploaded between the passes', async () => {
    const media = path.join(root, PKG, 'uploadedfiles');
    mkdirSync(path.join(media, 'nested dir'), { recursive: true });
    writeFileSync(path.join(media, 'a.jpg'), 'first');
    writeFileSync(path.join(media, 'nested dir', 'é b.pdf'), 'second');
    writeFileSync(path.join(media, 'empty.txt'), '');
    const said: string[] = [];
    const copy = await SwitchCopy.open(input(root, { say: (t) => said.push(t) }));
    try {
      assert.deepEqual(copy.count, { files: 3, bytes: 11 });
      assert.match(copy.describe(), /^3 files \(11 B\) in local files under /);
      const first = await copy.copy(s3Values(s3.endpoint), S3RVER_KEY, false);
      assert.equal(first.ok, true);
      assert.equal(first.counts.copied, 3);

      // Arches keeps writing to the old storage until it restarts with the new settings.
      writeFileSync(path.join(media, 'late upload.png'), 'arrived between the passes');
      const top = await copy.topUp();
      assert.equal(top.ok, true);
      assert.equal(top.counts.total, 4);
      assert.equal(top.counts.copied, 1, 'only the late file is copied');
      assert.equal(top.counts.skipped, 3);
      const got = await s3.client.send(
        new GetObjectCommand({ Bucket: BUCKET, Key: 'uploadedfiles/late upload.png' }),
      );
      assert.equal(await got.Body!.transformToString(), 'arrived between the passes');

      const report = copy.report();
      assert.equal(report.copy?.counts.copied, 3);
      assert.equal(report.topUp?.counts.copied, 1);
      assert.ok(said.some((t) => t.startsWith('Top-up after the switch:')));
      assert.ok(existsSync(path.join(media, 'a.jpg')), 'the source is never deleted');
    } finally {
      copy.close();
    }
  });

  it("reads the source's key from our secrets block before the run rewrites it, ahead of the environment", async () => {
    // The project is on s3-compatible with the app key in settings_local.py's block.
    await runGenerator('s3-compatible', root, {
      ...NO_PROMPT,
      service: 'other',
      endpoint: s3.endpoint,
      bucket: BUCKET,
      'cors-origin': 'https://arches.example.org',
      'access-key-id': S3RVER_KEY.accessKeyId,
      'secret-access-key': S3RVER_KEY.secretAccessKey,
    });
    const settingsLocal = path.join(root, PKG, 'settings_local.py');
    assert.match(readFileSync(settingsLocal, 'utf8'), /AWS_SECRET_ACCESS_KEY/);
    await s3.client.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'uploadedfiles/in-bucket.txt', Body: 'x' }),
    );
    // A wrong key in the environment: s3rver refuses it (its signature check), so only the block's key lists.
    process.env.AWS_ACCESS_KEY_ID = 'WRONGKEY';
    process.env.AWS_SECRET_ACCESS_KEY = 'wrong-secret';

    const copy = await SwitchCopy.open(
      input(root, { from: 's3-compatible', fromValues: s3Values(s3.endpoint), to: 'local' }),
    );
    try {
      assert.deepEqual(copy.count, { files: 1, bytes: 1 });
      // What provisioning does next: the block now holds another storage's key.
      writeFileSync(settingsLocal, readFileSync(settingsLocal, 'utf8').replaceAll('S3RVER', 'REPLACED'));
      const result = await copy.copy({}, undefined, false);
      assert.equal(result.ok, true);
      assert.equal(readFileSync(path.join(root, PKG, 'uploadedfiles', 'in-bucket.txt'), 'utf8'), 'x');
      assert.ok(
        copy
          .report()
          .notes.includes(`from s3-compatible: credentials: the app's key from ${PKG}/settings_local.py`),
        copy.report().notes.join('\n'),
      );
    } finally {
      copy.close();
    }
  });

  it('a source that cannot be listed stops the run with exit 1 before anything changes', async () => {
    process.env.AWS_ACCESS_KEY_ID = 'WRONGKEY';
    process.env.AWS_SECRET_ACCESS_KEY = 'wrong-secret';
    await assert.rejects(
      SwitchCopy.open(input(root, { from: 's3-compatible', fromValues: s3Values(s3.endpoint), to: 'local' })),
      (e: unknown) => {
        assert.ok(e instanceof UserError);
        assert.equal(e.exitCode, 1);
        assert.match(
          e.message,
          /^Could not list the files stored in .*: nothing was changed\. .*--no-migrate/,
        );
        return true;
      },
    );
  });
});
