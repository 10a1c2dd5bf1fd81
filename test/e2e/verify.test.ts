/**
 * End to end: `arches-storage verify` (the real bin) against a project switched to s3-compatible on s3rver,
 * with Debian's Django 3.2 + django-storages 1.13 + boto3 as the project's Python.
 *
 * s3rver checks no SigV4 signature and lets anonymous reads through (FACTS.md "Local peers"), so it sits
 * behind a gate here that does what S3 does for a private bucket: it verifies each SigV4 signature (header or
 * presigned query) with the S3RVER secret, answers 403 SignatureDoesNotMatch to a wrong one and 403
 * AccessDenied to an unsigned request; CORS preflights (OPTIONS) pass through to s3rver's own CORS rules.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import {
  PutBucketCorsCommand,
  ListObjectsV2Command,
  type PutBucketCorsCommandInput,
} from '@aws-sdk/client-s3';
import { ARCHES_STUB, DJANGO_PYTHON } from '../helpers/django.js';
import { freshProject, NO_PROMPT, runBinAsync, runGenerator } from '../helpers/run.js';
import { S3RVER_KEY, startS3rver, type RunningS3 } from '../helpers/s3rver.js';

const hmac = (key: Buffer | string, text: string): Buffer => createHmac('sha256', key).update(text).digest();
const rfc3986 = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** SigV4 as S3 checks it: true when the request's signature is the one the secret gives. */
function sigV4Valid(req: http.IncomingMessage, secret: string): boolean {
  const url = new URL(req.url ?? '/', 'http://gate');
  const auth = req.headers.authorization;
  const q = url.searchParams;
  let credential: string, signedHeaders: string, signature: string, amzDate: string, payload: string;
  if (auth) {
    const m = /Credential=([^,]+), *SignedHeaders=([^,]+), *Signature=([0-9a-f]+)/.exec(auth);
    if (!m) return false;
    credential = m[1]!;
    signedHeaders = m[2]!;
    signature = m[3]!;
    amzDate = String(req.headers['x-amz-date']);
    payload = String(req.headers['x-amz-content-sha256'] ?? 'UNSIGNED-PAYLOAD');
  } else {
    credential = q.get('X-Amz-Credential') ?? '';
    signedHeaders = q.get('X-Amz-SignedHeaders') ?? '';
    signature = q.get('X-Amz-Signature') ?? '';
    amzDate = q.get('X-Amz-Date') ?? '';
    payload = 'UNSIGNED-PAYLOAD';
  }
  const [, date, region, service] = credential.split('/');
  const query = [...q.entries()]
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const headers = signedHeaders
    .split(';')
    .map(
      (h) =>
        `${h}:${String(req.headers[h] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const canonical = [req.method, url.pathname, query, headers, signedHeaders, payload].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = [
    'AWS4-HMAC-SHA256',
    amzDate,
    scope,
    createHash('sha256').update(canonical).digest('hex'),
  ].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date!), region!), service!), 'aws4_request');
  return hmac(key, toSign).toString('hex') === signature;
}

interface Gate {
  endpoint: string;
  stop(): Promise<void>;
}

async function startGate(target: string): Promise<Gate> {
  const refuse = (res: http.ServerResponse, code: string): void => {
    res.writeHead(403, { 'content-type': 'application/xml' });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`,
    );
  };
  const server = http.createServer((req, res) => {
    const signed = Boolean(req.headers.authorization) || req.url?.includes('X-Amz-Algorithm=');
    if (req.method !== 'OPTIONS') {
      if (!signed) return refuse(res, 'AccessDenied');
      if (!sigV4Valid(req, S3RVER_KEY.secretAccessKey)) return refuse(res, 'SignatureDoesNotMatch');
    }
    const upstream = http.request(
      new URL(req.url ?? '/', target),
      { method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface Report {
  ok: boolean;
  exitCode?: number;
  checks: Array<{ id: string; status: string; detail: string; fix?: string }>;
}

describe('end to end: arches-storage verify on s3rver with Debian Django 3.2 / django-storages 1.13', function () {
  this.timeout(120_000);
  let s3: RunningS3;
  let gate: Gate;
  const dirs: string[] = [];
  const ORIGIN = 'https://arches.example.org';
  const env = { PYTHONPATH: ARCHES_STUB, AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined };

  before(async () => {
    s3 = await startS3rver();
    gate = await startGate(s3.endpoint);
  });
  after(async () => {
    await gate.stop();
    await s3.stop();
    dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  });

  // Arches 6.2.9 requires Django==3.2.25, the one Debian has (7.4.4 pins 3.2.24: verify reports that).
  async function project(bucket: string, extra: Record<string, unknown> = {}): Promise<string> {
    const dir = freshProject('6.2');
    dirs.push(dir);
    await s3.createBucket(bucket);
    await runGenerator('s3-compatible', dir, {
      ...NO_PROMPT,
      service: 'minio',
      endpoint: gate.endpoint,
      bucket,
      'cors-origin': [ORIGIN],
      'access-key-id': S3RVER_KEY.accessKeyId,
      'secret-access-key': S3RVER_KEY.secretAccessKey,
      ...extra,
    });
    const cors = JSON.parse(
      readFileSync(path.join(dir, 'arches-storage/cors.json'), 'utf8'),
    ) as PutBucketCorsCommandInput['CORSConfiguration'];
    await s3.client.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: cors }));
    return dir;
  }

  const verify = async (
    dir: string,
    more: string[] = [],
    extraEnv: Record<string, string | undefined> = {},
  ): Promise<{ status: number | null; stdout: string; stderr: string }> =>
    runBinAsync(['verify', '--project', dir, '--python', DJANGO_PYTHON, ...more], {
      env: { ...env, ...extraEnv },
    });

  const byId = (r: Report, id: string): Report['checks'][number] => {
    const c = r.checks.find((x) => x.id === id);
    assert.ok(c, `check ${id} in ${r.checks.map((x) => x.id).join(', ')}`);
    return c;
  };

  it('a project switched to s3-compatible passes every check, and the probe is gone afterwards', async function () {
    const dir = await project('verify-ok');
    const text = await verify(dir);
    assert.equal(text.status, 0, text.stdout + text.stderr);
    for (const id of [
      'settings',
      'backend',
      'save',
      'read',
      'url',
      'http-signed',
      'http-unsigned',
      `cors:${ORIGIN}`,
      'delete',
      'version:Django',
      'version:django-storages',
      'version:boto3',
    ])
      assert.match(text.stdout, new RegExp(`^  ok +${id.replace(/[.:/]/g, '\\$&')} `, 'm'), id);
    assert.match(text.stdout, /All 12 checks passed\./);
    assert.doesNotMatch(text.stdout, /S3RVER/, 'no key in the report');
    const json = await verify(dir, ['--json']);
    assert.equal(json.status, 0, json.stderr);
    const doc = JSON.parse(json.stdout) as Report;
    assert.equal(doc.ok, true);
    assert.ok(doc.checks.every((c) => c.status === 'ok'));
    assert.match(byId(doc, 'http-unsigned').detail, /403/);
    assert.doesNotMatch(byId(doc, 'url').detail, /X-Amz-Signature/, 'the signature is not printed');
    const left = await s3.client.send(new ListObjectsV2Command({ Bucket: 'verify-ok' }));
    assert.equal(left.KeyCount ?? 0, 0, 'the probes were deleted');
  });

  it('a wrong secret key fails the save check with a clear line, and nothing leaks', async function () {
    const dir = await project('verify-badkey');
    const local = path.join(dir, 'demo_heritage/settings_local.py');
    writeFileSync(
      local,
      readFileSync(local, 'utf8').replace(
        'AWS_SECRET_ACCESS_KEY = "S3RVER"',
        'AWS_SECRET_ACCESS_KEY = "wrong-secret-123"',
      ),
    );
    const r = await verify(dir);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /^ {2}FAILED +save +default_storage\.save\(".*"\) failed: SignatureDoesNotMatch/m);
    assert.match(r.stdout, /→ the secret key does not match the access key id/);
    assert.match(r.stdout, /^ {2}skipped read +the probe could not be saved/m);
    assert.match(r.stderr, /check\(s\) failed \(save\)/);
    assert.doesNotMatch(r.stdout + r.stderr, /wrong-secret-123/);
    const json = JSON.parse((await verify(dir, ['--json'])).stdout) as Report;
    assert.equal(json.ok, false);
    assert.equal(json.exitCode, 1);
    assert.equal(byId(json, 'save').status, 'failed');
  });

  it('a CORS origin not configured on the bucket fails the preflight', async function () {
    const dir = await project('verify-cors');
    const rc = path.join(dir, '.yo-rc.json');
    const doc = JSON.parse(readFileSync(rc, 'utf8')) as Record<
      string,
      { providers: Record<string, { corsOrigins: string[] }> }
    >;
    doc['generator-arches-storage']!.providers['s3-compatible']!.corsOrigins.push(
      'https://other.example.net',
    );
    writeFileSync(rc, JSON.stringify(doc));
    const r = await verify(dir);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /^ {2}ok +cors:https:\/\/arches\.example\.org /m);
    assert.match(
      r.stdout,
      /^ {2}FAILED +cors:https:\/\/other\.example\.net +preflight from https:\/\/other\.example\.net answered 403 without Access-Control-Allow-Origin/m,
    );
    assert.match(r.stdout, /→ apply arches-storage\/cors\.json/);
  });

  it('an installed version below the pin is reported', async function () {
    const dir = await project('verify-old');
    // An old boto3 distribution first on sys.path: importlib.metadata answers with it.
    const site = path.join(dir, 'old-site');
    mkdirSync(path.join(site, 'boto3-1.4.0.dist-info'), { recursive: true });
    writeFileSync(
      path.join(site, 'boto3-1.4.0.dist-info/METADATA'),
      'Metadata-Version: 2.1\nName: boto3\nVersion: 1.4.0\n',
    );
    const r = await verify(dir, [], { PYTHONPATH: `${site}:${ARCHES_STUB}` });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^ {2}FAILED +version:boto3 +boto3 1\.4\.0 does not satisfy /m);
    assert.match(r.stdout, /→ install boto3/);
    assert.match(r.stdout, /^ {2}ok +version:Django /m);
  });

  it('no project Python: exit 2 and one line saying to pass --python', async function () {
    const dir = freshProject('7.4');
    dirs.push(dir);
    const r = await runBinAsync(['verify', '--project', dir], { env: { ...env, VIRTUAL_ENV: undefined } });
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^arches-storage: No project Python found .*pass --python/);
  });
});
