/**
 * End to end with real peers: the s3-compatible overlay generated against a local s3rver, then Debian's
 * Django 3.2 + django-storages 1.13 + boto3 (/usr/bin/python3) upload, read back, list, sign and delete a file
 * through the generated settings — for a DEFAULT_FILE_STORAGE line (7.4) and a STORAGES line (7.6, whose
 * settings.py is imported and its STORAGES dict used to build the backend). The generated CORS document is
 * applied to the bucket and a browser preflight checked against it.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import {
  GetBucketCorsCommand,
  ListObjectsV2Command,
  PutBucketCorsCommand,
  type PutBucketCorsCommandInput,
} from '@aws-sdk/client-s3';
import { djangoCheck } from '../helpers/django.js';
import { freshProject, NO_PROMPT, runGenerator } from '../helpers/run.js';
import { S3RVER_KEY, startS3rver, type RunningS3 } from '../helpers/s3rver.js';

describe('end to end: generated settings + s3rver + Django 3.2 / django-storages 1.13', function () {
  let s3: RunningS3;
  const dirs: string[] = [];
  before(async () => {
    s3 = await startS3rver();
  });
  after(async () => {
    await s3.stop();
    dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  });

  async function generate(
    id: '7.4' | '7.6',
    bucket: string,
    extra: Record<string, unknown> = {},
  ): Promise<string> {
    const dir = freshProject(id);
    dirs.push(dir);
    await s3.createBucket(bucket);
    await runGenerator('s3-compatible', dir, {
      ...NO_PROMPT,
      service: 'minio',
      endpoint: s3.endpoint,
      bucket,
      'cors-origin': ['https://arches.example.org'],
      ...extra,
    });
    return dir;
  }

  it('7.4 (DEFAULT_FILE_STORAGE): keys from settings_local.py; upload, read, list, sign, delete', async function () {
    const dir = await generate('7.4', 'arches-e2e-legacy', {
      'access-key-id': S3RVER_KEY.accessKeyId,
      'secret-access-key': S3RVER_KEY.secretAccessKey,
    });
    const result = await djangoCheck(dir, 'demo_heritage');
    assert.equal(result.style, 'DEFAULT_FILE_STORAGE');
    assert.equal(result.backend, 'storages.backends.s3boto3.S3Boto3Storage');
    assert.equal(result.media_url, '/files/');
    assert.equal(result.installed_apps_has_storages, true);
    assert.equal(result.saved_as, 'uploadedfiles/probe.txt');
    assert.equal(result.exists, true);
    assert.equal(result.size, Buffer.byteLength('Arches media probe ✓\n') * 100);
    assert.equal(result.read_back_equal, true);
    assert.equal(result.second_name_differs, true, 'file_overwrite False keeps both uploads');
    assert.equal(result.listdir.length, 2, 'listdir sees both uploads');
    assert.ok(result.listdir.includes('probe.txt'));
    assert.ok(
      result.listdir.some((n) => /^probe_\w+\.txt$/.test(n)),
      'the second upload got a fresh name',
    );
    const url = new URL(result.url);
    assert.equal(url.origin, s3.endpoint, 'URL points at the endpoint, not MEDIA_URL');
    assert.equal(url.pathname, '/arches-e2e-legacy/uploadedfiles/probe.txt', 'path-style addressing');
    assert.equal(url.searchParams.get('X-Amz-Algorithm'), 'AWS4-HMAC-SHA256', 'signed with SigV4');
    assert.equal(result.exists_after_delete, false);
    const left = await s3.client.send(new ListObjectsV2Command({ Bucket: 'arches-e2e-legacy' }));
    assert.equal(left.KeyCount ?? 0, 0, 'both probe objects deleted from the bucket');
  });

  it('7.6 (STORAGES): the settings module imports, STORAGES is well formed, and its backend works', async function () {
    const dir = await generate('7.6', 'arches-e2e-storages');
    // No keys in files this time: the environment supplies them, as in a container deployment.
    const result = await djangoCheck(dir, 'demo_heritage', {
      AWS_ACCESS_KEY_ID: S3RVER_KEY.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_KEY.secretAccessKey,
    });
    assert.equal(result.style, 'STORAGES');
    assert.deepEqual(result.storages_keys, ['default', 'staticfiles']);
    assert.equal(result.read_back_equal, true);
    assert.equal(result.exists_after_delete, false);
    assert.match(result.url, /X-Amz-Signature=/);
    assert.match(result.url, new RegExp(`^${s3.endpoint}/arches-e2e-storages/uploadedfiles/`));
  });

  it('the generated cors.json is accepted by the server and answers the site’s preflight only', async function () {
    const dir = await generate('7.4', 'arches-e2e-cors');
    const cors = JSON.parse(
      readFileSync(path.join(dir, 'arches-storage/cors.json'), 'utf8'),
    ) as PutBucketCorsCommandInput['CORSConfiguration'];
    await s3.client.send(new PutBucketCorsCommand({ Bucket: 'arches-e2e-cors', CORSConfiguration: cors }));
    const stored = await s3.client.send(new GetBucketCorsCommand({ Bucket: 'arches-e2e-cors' }));
    assert.deepEqual(stored.CORSRules?.[0]?.AllowedOrigins, ['https://arches.example.org']);
    const preflight = (origin: string): Promise<Response> =>
      fetch(`${s3.endpoint}/arches-e2e-cors/uploadedfiles/x.jpg`, {
        method: 'OPTIONS',
        headers: { Origin: origin, 'Access-Control-Request-Method': 'GET' },
      });
    // s3rver answers a matching preflight with "*" (AWS echoes the origin) and refuses the others with 403.
    const ok = await preflight('https://arches.example.org');
    assert.equal(ok.status, 200);
    assert.ok(ok.headers.get('access-control-allow-origin'));
    assert.match(ok.headers.get('access-control-allow-methods') ?? '', /GET/);
    const other = await preflight('https://evil.example.com');
    assert.equal(other.status, 403);
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    const put = await fetch(`${s3.endpoint}/arches-e2e-cors/uploadedfiles/x.jpg`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://arches.example.org', 'Access-Control-Request-Method': 'PUT' },
    });
    assert.equal(put.status, 403, 'the browser may read, not write');
  });
});
