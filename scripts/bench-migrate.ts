/**
 * Sections G and H of `npm run bench` (issue 8): `arches-storage migrate` against its peers, `rclone copy` and
 * `aws s3 sync`, copying one generated MEDIA_ROOT to an S3-compatible server (s3rver).
 *
 *   G  first copy to an EMPTY bucket: wall time of the whole child process (ours / rclone target ≤ 1.0×; ours /
 *      aws informational), peak RSS (ours target ≤ 200 MiB; its ratio to rclone's informational), CPU time,
 *      and the requests each tool sends.
 *   I  (md5Check) G again with the proxy refusing a body whose Content-MD5 does not match, as S3 does: a
 *      service ours verifies by that check (after one probe) instead of reading every object back.
 *   H  the same command again over the complete bucket: ours (its journal present) against
 *      `rclone copy --size-only` and `aws s3 sync` (size and mtime). Targets: ours sends no HEAD and at most one
 *      LIST per 1,000 keys per prefix (and no GET or PUT: nothing is copied or read back).
 *
 * The data: 2,000 files of 20–200 KiB and 20 of 20–50 MiB (≈ 0.9 GiB), nested folders, some names with spaces
 * and non-ASCII letters, all under `uploadedfiles/`, generated once per bench run from a fixed seed (AES-CTR
 * keystream; sizes and names from a seeded PRNG) with a fixed mtime. Every file is below the single-part
 * threshold of all three (ours 64 MiB; rclone `--s3-upload-cutoff 64M`; aws `multipart_threshold = 64MB`).
 *
 * The subjects, each a child process reading the same files:
 *   ours    `node bin/arches-storage.js migrate --skip-prompts --concurrency 4` in a fixture project (7.4) whose
 *           storage was set to s3-compatible with the bin (`--no-provision`, the s3rver key); MEDIA_ROOT is the
 *           package folder (no project Python). Its journal (.arches-storage/) is removed before each G run.
 *   rclone  `/usr/bin/rclone copy SRC bench:BUCKET/uploadedfiles --transfers 4 --checkers 4 --s3-upload-cutoff 64M`,
 *           its remote from RCLONE_CONFIG_BENCH_* variables (type s3, provider Other, path style) and an empty
 *           config file. Its other settings are its defaults (per-directory listing, HEAD after upload…).
 *   aws     `/usr/bin/aws s3 sync SRC s3://BUCKET/uploadedfiles/ --endpoint-url … --no-progress` with AWS_CONFIG_FILE
 *           holding `s3 = max_concurrent_requests = 4, multipart_threshold = 64MB, addressing_style = path`.
 *
 * Each G run gets a FRESH s3rver (a new directory, the bucket created at start): no subject benefits from an
 * earlier one. The H run of a subject follows its own G run on the same server. The subjects alternate (ours,
 * rclone, aws, then rclone, aws, ours…: each iteration starts one further along) for `iterations` rounds.
 * s3rver runs as a CHILD process (its own event loop, one CPU at most); the counting proxy runs in the bench's
 * process. Neither is a subject, but on this machine's cores they compete with the subject for CPU, the same
 * way for every subject; the s3rver CPU each run caused is reported (from /proc/<pid>/stat).
 *
 * Request counts: one loopback HTTP proxy (node:http) on a fixed port sits in front of each server (its upstream
 * is switched to every new s3rver), every tool is pointed at it, and each request is classified by kind: LIST
 * (GET on the bucket root: list-type / prefix / marker…), HEAD (an object), GET (an object), PUT (an object),
 * multipart (uploads / uploadId), other (bucket HEAD, GetBucketLocation, CreateBucket…, itemised). The proxy also
 * gives each kind's mean latency and the time from the spawn to the first request (start-up).
 *
 * Timing: the wall time from spawn to exit of `/usr/bin/time -f '%M %U %S' -o FILE <subject>`; GNU time adds a
 * fork and an exec to a run of seconds. Its %M is the peak RSS of the process it waits for: for ours the node
 * process of the bin (which starts no child here), for rclone its one Go process, for aws its one Python
 * process (/usr/bin/aws is a Python script).
 *
 * The check after EVERY run (G and H), through s3rver directly (not the proxy, so it is never counted): the
 * listing holds exactly the source's keys with the source's sizes, and each object's ETag is the MD5 of the
 * source file. That is sound for this check because s3rver computes a single-part ETag itself, as the MD5 of the
 * bytes it streams to disk (node_modules/s3rver/lib/stores/filesystem.js, putObject), whatever the client claimed;
 * a "-N" (multipart) ETag fails the check. Our product never trusts ETags because on other services an ETag is
 * not always an MD5 (multipart, SSE-KMS, some S3-compatible servers): here the server's code is known.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { writeProject } from '../test/helpers/projects.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = path.join(ROOT, 'bin/arches-storage.js');
const NODE = process.execPath;
const RCLONE = '/usr/bin/rclone';
const AWS = '/usr/bin/aws';
const BUCKET = 'arches-bench-media';
const KEY = { id: 'S3RVER', secret: 'S3RVER' };
const MiB = 1024 * 1024;
const KiB = 1024;
/** Ours lists these prefixes (lib/migrate.ts DEFAULT_PREFIXES); the data is all under the first. */
const PREFIXES = ['uploadedfiles/', 'concepts/'];
const SEED = 'arches-storage bench migrate v1';
/** Every generated file's mtime (aws s3 sync's re-run compares it with the objects' LastModified). */
const MTIME = new Date('2024-01-02T03:04:05Z');

export interface MigrateBenchOptions {
  /** The bench's temporary directory (removed by the bench). */
  tmpRoot: string;
  iterations: number;
  /** GNU time, for peak RSS and CPU; null: neither is measured (and the RSS target is not checked). */
  timeBin: string | null;
  /** Which of G and H to print and check (G's copies run either way: H needs them). */
  sections: { G: boolean; H: boolean };
  /**
   * The proxy refuses a body whose Content-MD5 does not match (400 BadDigest, the body buffered first, as S3
   * checks it), making s3rver a service that checks Content-MD5: section I. Default false (s3rver as it is: G).
   */
  md5Check?: boolean;
  /** Files of each kind (default 2,000 small, 20 large: the issue's data). */
  small?: number;
  large?: number;
}

// ---------------------------------------------------------------------------------------------------------------
// The data.

interface SourceFile {
  key: string;
  size: number;
  md5: string;
}

/** sfc32, seeded from a string: the sizes and names are the same in every bench run. */
function prng(seed: string): () => number {
  const h = createHash('sha256').update(seed).digest();
  let a = h.readUInt32LE(0);
  let b = h.readUInt32LE(4);
  let c = h.readUInt32LE(8);
  let d = h.readUInt32LE(12);
  return () => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

/**
 * Every folder holds files of its own, parents included: s3rver's delimiter listing (rclone lists folder by folder)
 * leaves out a folder that holds only folders (its walk never descends below a common prefix), which would make
 * rclone's re-run copy those files again. generateData checks it.
 */
const FOLDERS = [
  '',
  'photos',
  'photos/2019',
  'photos/2019/site A',
  'photos/2021',
  'photos/2021/trench 4',
  'photos/2021/trench 4/context 118',
  'scans',
  'scans/ünïcødé',
  'scans/tiff',
  'documents',
  'documents/report drafts',
  'documents/日本語 資料',
  'documents/Ελληνικά',
  'concept images',
  'concept images/façade',
  'big',
];
const STEMS = ['file', 'site plan', 'IMG', 'café ✓', 'naïve façade', 'Plan de Sète', 'scan', 'Zürich Straße'];
const EXTS = ['.jpg', '.pdf', '.png', '.tif', '.txt', '.docx'];

/** Writes the files under `mediaRoot/uploadedfiles/` and returns them (key, size, MD5 hex), sorted by key. */
export function generateData(mediaRoot: string, small = 2000, large = 20): SourceFile[] {
  const rand = prng(SEED);
  const between = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  const zeros = Buffer.alloc(50 * MiB);
  const out: SourceFile[] = [];
  const make = (i: number, size: number, folder: string): void => {
    // Some names plain, some with spaces, some with non-ASCII letters (NFC), one per index so no two collide.
    const stem = STEMS[i % STEMS.length]!;
    const name = `${stem} ${String(i).padStart(5, '0')}${EXTS[between(0, EXTS.length - 1)]}`.replace(
      /^file /,
      'file-',
    );
    const key = ['uploadedfiles', folder, name].filter(Boolean).join('/').normalize('NFC');
    const cipher = createCipheriv(
      'aes-256-ctr',
      createHash('sha256').update(`${SEED}:${i}`).digest(),
      Buffer.alloc(16),
    );
    const body = Buffer.concat([cipher.update(zeros.subarray(0, size)), cipher.final()]);
    const abs = path.join(mediaRoot, ...key.split('/'));
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, body);
    utimesSync(abs, MTIME, MTIME);
    out.push({ key, size, md5: createHash('md5').update(body).digest('hex') });
  };
  for (let i = 0; i < small; i++)
    make(i, between(20 * KiB, 200 * KiB), FOLDERS[between(0, FOLDERS.length - 2)]!);
  for (let i = 0; i < large; i++) make(small + i, between(20 * MiB, 50 * MiB), i % 2 ? 'big' : 'scans/tiff');
  const withFiles = new Set(out.map((f) => f.key.slice(0, f.key.lastIndexOf('/'))));
  for (const f of out)
    for (let dir = path.posix.dirname(f.key); dir !== '.'; dir = path.posix.dirname(dir))
      if (!withFiles.has(dir)) throw new Error(`the generated folder ${dir} holds no file of its own`);
  return out.sort((x, y) => (x.key < y.key ? -1 : 1));
}

// ---------------------------------------------------------------------------------------------------------------
// s3rver, as a child process.

interface Server {
  port: number;
  child: ChildProcess;
  directory: string;
  /** user+sys CPU seconds the server has used so far. */
  cpu(): number;
  stop(): Promise<void>;
}

const CLOCK_TICKS = 100;

function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 (utime, stime) of proc(5), counted from the state (field 3) at index 0.
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

function writeServerScript(tmpRoot: string): string {
  const file = path.join(tmpRoot, 's3rver-child.mjs');
  writeFileSync(
    file,
    `import S3rver from ${JSON.stringify(import.meta.resolve('s3rver'))};\n` +
      'const [directory, bucket] = process.argv.slice(2);\n' +
      "const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });\n" +
      'const { port } = await server.run();\n' +
      "process.stdout.write(JSON.stringify({ port }) + '\\n');\n" +
      // The bench holds our stdin: when it ends (the bench stopped, or is gone), so do we.
      "process.stdin.on('end', () => server.close().then(() => process.exit(0)));\n" +
      'process.stdin.resume();\n',
  );
  return file;
}

async function startServer(script: string, directory: string): Promise<Server> {
  mkdirSync(directory, { recursive: true });
  // s3rver 3.7 encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only has in its legacy
  // provider: without it every listing of more than one page answers 500 (bucket.js generateContinuationToken).
  const child = spawn(NODE, ['--openssl-legacy-provider', script, directory, BUCKET], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const line = buf.split('\n')[0];
      if (buf.includes('\n')) resolve((JSON.parse(line!) as { port: number }).port);
    });
    child.on('exit', (code) => reject(new Error(`s3rver exited with ${code} before it listened`)));
  });
  return {
    port,
    child,
    directory,
    cpu: () => cpuSeconds(child.pid),
    stop: async () => {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The counting proxy.

const KINDS = ['LIST', 'HEAD', 'GET', 'PUT', 'multipart', 'other'] as const;
type Kind = (typeof KINDS)[number];
const LIST_PARAMS = new Set([
  'list-type',
  'prefix',
  'delimiter',
  'max-keys',
  'marker',
  'continuation-token',
  'start-after',
  'encoding-type',
  'fetch-owner',
]);

interface Counts {
  n: Record<Kind, number>;
  ms: Record<Kind, number>;
  other: Map<string, number>;
  bytesUp: number;
  bytesDown: number;
  /** performance.now() of the first request and of the last response's end. */
  first: number;
  last: number;
}

const emptyCounts = (): Counts => ({
  n: { LIST: 0, HEAD: 0, GET: 0, PUT: 0, multipart: 0, other: 0 },
  ms: { LIST: 0, HEAD: 0, GET: 0, PUT: 0, multipart: 0, other: 0 },
  other: new Map(),
  bytesUp: 0,
  bytesDown: 0,
  first: NaN,
  last: NaN,
});

/** A request's kind, path-style (/bucket/key?query); `detail` names the "other" ones. */
function classify(method: string, url: string): { kind: Kind; detail: string } {
  const u = new URL(url, 'http://proxy');
  const [, bucket = '', ...rest] = u.pathname.split('/');
  const key = rest.join('/');
  // The JS SDK tags requests with ?x-id=<Operation>; it names no subresource.
  const params = [...u.searchParams.keys()].filter((p) => p !== 'x-id');
  const sub = params.length ? `?${params.join('&')}` : '';
  if (!key) {
    const isList = params.every((p) => LIST_PARAMS.has(p));
    if (method === 'GET' && bucket && isList) return { kind: 'LIST', detail: '' };
    return { kind: 'other', detail: `${method} ${bucket ? 'bucket' : '/'}${sub}` };
  }
  if (u.searchParams.has('uploads') || u.searchParams.has('uploadId'))
    return { kind: 'multipart', detail: '' };
  if (params.every((p) => method === 'GET' && p.startsWith('response-'))) {
    if (method === 'HEAD') return { kind: 'HEAD', detail: '' };
    if (method === 'GET') return { kind: 'GET', detail: '' };
    if (method === 'PUT') return { kind: 'PUT', detail: '' };
  }
  return { kind: 'other', detail: `${method} object${sub}` };
}

class CountingProxy {
  upstream = 0;
  checkMd5 = false;
  counts = emptyCounts();
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  private readonly server = http.createServer((req, res) => this.forward(req, res));
  port = 0;

  async start(): Promise<void> {
    this.server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  reset(upstream: number): Counts {
    const done = this.counts;
    this.upstream = upstream;
    this.counts = emptyCounts();
    return done;
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    const started = performance.now();
    const counts = this.counts;
    if (Number.isNaN(counts.first)) counts.first = started;
    const { kind, detail } = classify(req.method ?? 'GET', req.url ?? '/');
    counts.n[kind]++;
    if (kind === 'other') counts.other.set(detail, (counts.other.get(detail) ?? 0) + 1);
    // Host is kept as the tool sent it (its signature covers it); the 100-continue handshake ends here.
    const headers = { ...req.headers };
    delete headers.expect;
    const up = http.request(
      {
        host: '127.0.0.1',
        port: this.upstream,
        method: req.method,
        path: req.url,
        headers,
        agent: this.agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.on('data', (d: Buffer) => (counts.bytesDown += d.length));
        answer.pipe(res);
      },
    );
    up.on('error', (error) => {
      if (res.writableEnded) return;
      if (!res.headersSent) res.writeHead(502);
      res.end(String(error));
    });
    res.on('close', () => {
      const now = performance.now();
      counts.ms[kind] += now - started;
      if (!(counts.last >= now)) counts.last = now;
    });
    const claimed = req.headers['content-md5'];
    if (!this.checkMd5 || typeof claimed !== 'string') {
      req.on('data', (d: Buffer) => (counts.bytesUp += d.length));
      req.pipe(up);
      return;
    }
    // As S3: the whole body, then its MD5 against the header; a mismatch is refused and nothing is stored.
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => {
      counts.bytesUp += d.length;
      chunks.push(d);
    });
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
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.agent.destroy();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Running a subject.

interface Run {
  wallMs: number;
  /** Peak RSS (MiB) and user+sys CPU (s) from GNU time; NaN without it. */
  rssMiB: number;
  cpuS: number;
  /** From the spawn to the first request the proxy saw. */
  startupMs: number;
  serverCpuS: number;
  counts: Counts;
  stdout: string;
  stderr: string;
}

interface Subject {
  id: 'ours' | 'rclone' | 'aws';
  label: string;
  rerunLabel: string;
  command: (rerun: boolean) => string[];
  cwd: string;
  env: Record<string, string>;
  /** Before a G run (ours: remove the journal). */
  prepare?: () => void;
  /** A problem with a finished run's output, or null. */
  check: (run: Run, rerun: boolean, total: number) => string | null;
}

let runCounter = 0;

async function runSubject(
  s: Subject,
  rerun: boolean,
  proxy: CountingProxy,
  server: Server,
  timeBin: string | null,
  tmpRoot: string,
): Promise<Run> {
  const [file, ...args] = s.command(rerun);
  const out = path.join(tmpRoot, `time-${++runCounter}.txt`);
  const argv = timeBin ? [timeBin, '-f', '%M %U %S', '-o', out, file!, ...args] : [file!, ...args];
  proxy.reset(server.port);
  const serverCpu = server.cpu();
  const started = performance.now();
  const r = await new Promise<{
    status: number | null;
    signal: string | null;
    stdout: string;
    stderr: string;
  }>((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: s.cwd,
      env: s.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 30 * 60_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
  const wallMs = performance.now() - started;
  // Requests still in flight (none: the tool has exited) would land in the next run's counts otherwise.
  const counts = proxy.reset(server.port);
  const label = `${rerun ? s.rerunLabel : s.label}`;
  if (r.status !== 0)
    throw new Error(
      `${label} exited with ${r.status ?? r.signal}:\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`,
    );
  let rssMiB = NaN;
  let cpuS = NaN;
  if (timeBin) {
    const [kib, user, sys] = readFileSync(out, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
    rssMiB = kib! / 1024;
    cpuS = user! + sys!;
  }
  const run: Run = {
    wallMs,
    rssMiB,
    cpuS,
    startupMs: counts.first - started,
    serverCpuS: server.cpu() - serverCpu,
    counts,
    stdout: r.stdout,
    stderr: r.stderr,
  };
  return run;
}

/** The bucket holds exactly the source's keys, sizes and bytes (ETag = MD5, see the header); through s3rver. */
async function verifyBucket(port: number, files: readonly SourceFile[]): Promise<string | null> {
  // The SDK's multi-line Node-version notice is not part of the bench's output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { S3Client, ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  const client = new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: KEY.id, secretAccessKey: KEY.secret },
  });
  const listed = new Map<string, { size: number; etag: string }>();
  try {
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: 1000, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? [])
        listed.set(o.Key ?? '', { size: o.Size ?? -1, etag: (o.ETag ?? '').replace(/^"|"$/g, '') });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } finally {
    client.destroy();
  }
  const problems: string[] = [];
  if (listed.size !== files.length) problems.push(`${listed.size} objects listed, ${files.length} files`);
  for (const f of files) {
    const o = listed.get(f.key);
    if (!o) problems.push(`missing: ${f.key}`);
    else if (o.size !== f.size) problems.push(`${f.key}: size ${o.size}, the source's ${f.size}`);
    else if (o.etag !== f.md5) problems.push(`${f.key}: ETag ${o.etag}, the source's MD5 ${f.md5}`);
  }
  const known = new Set(files.map((f) => f.key));
  for (const k of listed.keys()) if (!known.has(k)) problems.push(`unexpected object: ${k}`);
  return problems.length ? problems.slice(0, 5).join('; ') + (problems.length > 5 ? '; …' : '') : null;
}

// ---------------------------------------------------------------------------------------------------------------
// Setup of the three subjects.

function baseEnv(home: string): Record<string, string> {
  return {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    NO_COLOR: '1',
    CI: 'true',
  };
}

function subjects(tmpRoot: string, proxy: CountingProxy, project: string, mediaRoot: string): Subject[] {
  const home = path.join(tmpRoot, 'migrate-home');
  mkdirSync(home, { recursive: true });
  const src = path.join(mediaRoot, 'uploadedfiles');
  const copied = (out: string): number => Number(/copied:\s+(\d+)/.exec(out)?.[1] ?? NaN);
  const skipped = (out: string): number => Number(/skipped:\s+(\d+)/.exec(out)?.[1] ?? NaN);
  const noCopies = (r: Run): string | null =>
    r.counts.n.PUT + r.counts.n.multipart > 0
      ? `the re-run sent ${r.counts.n.PUT} PUT and ${r.counts.n.multipart} multipart requests`
      : null;

  const rcloneConfig = path.join(tmpRoot, 'rclone.conf');
  writeFileSync(rcloneConfig, '');
  const awsConfig = path.join(tmpRoot, 'aws-config');
  writeFileSync(
    awsConfig,
    '[default]\nregion = us-east-1\ns3 =\n  max_concurrent_requests = 4\n  multipart_threshold = 64MB\n  addressing_style = path\n',
  );
  const awsCredentials = path.join(tmpRoot, 'aws-credentials');
  writeFileSync(
    awsCredentials,
    `[default]\naws_access_key_id = ${KEY.id}\naws_secret_access_key = ${KEY.secret}\n`,
  );

  return [
    {
      id: 'ours',
      label: 'arches-storage migrate',
      rerunLabel: 'arches-storage migrate (journal)',
      command: () => [NODE, BIN, 'migrate', '--skip-prompts', '--concurrency', '4'],
      cwd: project,
      env: baseEnv(home),
      prepare: () => rmSync(path.join(project, '.arches-storage'), { recursive: true, force: true }),
      check: (r, rerun, total) => {
        const c = copied(r.stdout);
        const k = skipped(r.stdout);
        if (!rerun && c !== total) return `copied ${c} of ${total}:\n${r.stdout}`;
        if (rerun && (c !== 0 || k !== total)) return `re-run copied ${c}, skipped ${k}:\n${r.stdout}`;
        return rerun ? noCopies(r) : null;
      },
    },
    {
      id: 'rclone',
      label: 'rclone copy',
      rerunLabel: 'rclone copy --size-only',
      command: (rerun) => [
        RCLONE,
        'copy',
        src,
        `bench:${BUCKET}/uploadedfiles`,
        '--transfers',
        '4',
        '--checkers',
        '4',
        '--s3-upload-cutoff',
        '64M',
        ...(rerun ? ['--size-only'] : []),
      ],
      cwd: tmpRoot,
      env: {
        ...baseEnv(home),
        RCLONE_CONFIG: rcloneConfig,
        RCLONE_CONFIG_BENCH_TYPE: 's3',
        RCLONE_CONFIG_BENCH_PROVIDER: 'Other',
        RCLONE_CONFIG_BENCH_ENDPOINT: proxy.endpoint,
        RCLONE_CONFIG_BENCH_REGION: 'us-east-1',
        RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: KEY.id,
        RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: KEY.secret,
        RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE: 'true',
      },
      check: (r, rerun) => (rerun ? noCopies(r) : null),
    },
    {
      id: 'aws',
      label: 'aws s3 sync',
      rerunLabel: 'aws s3 sync (size+mtime)',
      command: () => [
        AWS,
        's3',
        'sync',
        src,
        `s3://${BUCKET}/uploadedfiles/`,
        '--endpoint-url',
        proxy.endpoint,
        '--no-progress',
      ],
      cwd: tmpRoot,
      env: {
        ...baseEnv(home),
        AWS_CONFIG_FILE: awsConfig,
        AWS_SHARED_CREDENTIALS_FILE: awsCredentials,
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_PAGER: '',
      },
      check: (r, rerun) => (rerun ? noCopies(r) : null),
    },
  ];
}

/** The fixture project, its storage set to s3-compatible (through the proxy) with the bin. */
async function configureProject(project: string, endpoint: string): Promise<void> {
  mkdirSync(project, { recursive: true });
  writeProject(project, '7.4');
  const args = [
    BIN,
    's3-compatible',
    '--project',
    project,
    '--service',
    'other',
    '--endpoint',
    endpoint,
    '--bucket',
    BUCKET,
    '--cors-origin',
    'https://arches.example.org',
    '--access-key-id',
    KEY.id,
    '--secret-access-key',
    KEY.secret,
    '--no-provision',
    '--skip-prompts',
  ];
  const r = await new Promise<{ status: number | null; out: string }>((resolve) => {
    const child = spawn(NODE, args, {
      cwd: project,
      env: baseEnv(project),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (status) => resolve({ status, out }));
  });
  if (r.status !== 0) throw new Error(`configuring the bench project failed (${r.status}):\n${r.out}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Statistics and printing (the style of the other sections).

const median = (xs: readonly number[]): number => {
  const s = [...xs].filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const p90 = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.9 * s.length) - 1)]!;
};
const pad = (s: string, n: number): string => s.padEnd(n);
const lpad = (s: string, n: number): string => s.padStart(n);
const sec = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');

function countsLine(c: Counts): string {
  return KINDS.map((k) => lpad(String(c.n[k]), k === 'multipart' ? 10 : 7)).join('');
}

function otherDetail(c: Counts): string {
  return [...c.other].map(([k, n]) => `${k} ×${n}`).join(', ');
}

function sameCounts(runs: readonly Run[]): boolean {
  return runs.every((r) => KINDS.every((k) => r.counts.n[k] === runs[0]!.counts.n[k]));
}

function printTable(title: string, labels: string[], runs: Run[][], memory: boolean): void {
  const w = Math.max(...labels.map((l) => l.length)) + 2;
  console.log(title);
  console.log(
    `  ${pad('', w)}${lpad('median', 10)}${lpad('p90', 10)}${lpad('min', 10)}${lpad('start-up', 10)}` +
      `${lpad('CPU', 9)}${lpad('s3rver CPU', 12)}${memory ? lpad('peak RSS', 13) : ''}`,
  );
  labels.forEach((label, i) => {
    const rs = runs[i]!;
    const walls = rs.map((r) => r.wallMs);
    console.log(
      `  ${pad(label, w)}${lpad(sec(median(walls)), 10)}${lpad(sec(p90(walls)), 10)}` +
        `${lpad(sec(Math.min(...walls)), 10)}${lpad(`${median(rs.map((r) => r.startupMs)).toFixed(0)} ms`, 10)}` +
        `${lpad(`${median(rs.map((r) => r.cpuS)).toFixed(2)} s`, 9)}` +
        `${lpad(`${median(rs.map((r) => r.serverCpuS)).toFixed(2)} s`, 12)}` +
        (memory ? lpad(`${Math.max(...rs.map((r) => r.rssMiB)).toFixed(1)} MiB`, 13) : ''),
    );
  });
}

function printCounts(labels: string[], runs: Run[][]): void {
  const w = Math.max(...labels.map((l) => l.length)) + 2;
  console.log(`  requests (last run${runs.every(sameCounts) ? '; the same in every run' : ''}):`);
  console.log(`  ${pad('', w)}${KINDS.map((k) => lpad(k, k === 'multipart' ? 10 : 7)).join('')}   other`);
  labels.forEach((label, i) => {
    const last = runs[i]!.at(-1)!.counts;
    const detail = otherDetail(last);
    console.log(`  ${pad(label, w)}${countsLine(last)}   ${detail || '-'}`);
  });
  console.log(`  mean latency per request through the proxy (last run), and bytes sent / received:`);
  labels.forEach((label, i) => {
    const c = runs[i]!.at(-1)!.counts;
    const parts = KINDS.filter((k) => c.n[k] > 0).map((k) => `${k} ${(c.ms[k] / c.n[k]).toFixed(1)} ms`);
    console.log(
      `  ${pad(label, w)}${parts.join(', ')}; ↑ ${(c.bytesUp / MiB).toFixed(1)} MiB ↓ ${(c.bytesDown / MiB).toFixed(1)} MiB`,
    );
  });
  if (!runs.every(sameCounts))
    labels.forEach((label, i) => {
      if (!sameCounts(runs[i]!))
        console.log(
          `  ${label}, every run: ${runs[i]!.map((r) => KINDS.map((k) => `${k} ${r.counts.n[k]}`).join(' ')).join(' | ')}`,
        );
    });
}

// ---------------------------------------------------------------------------------------------------------------

/** Sections G and H; returns the number of targets missed. */
export async function benchMigrate(o: MigrateBenchOptions): Promise<number> {
  for (const tool of [RCLONE, AWS])
    if (!existsSync(tool)) {
      console.log(`G/H  skipped: ${tool} is not installed (Debian: apt-get install rclone awscli)\n`);
      return 0;
    }
  const base = path.join(o.tmpRoot, o.md5Check ? 'migrate-md5' : 'migrate');
  const project = path.join(base, 'project');
  const mediaRoot = path.join(project, 'demo_heritage');
  const proxy = new CountingProxy();
  proxy.checkMd5 = o.md5Check === true;
  await proxy.start();
  try {
    await configureProject(project, proxy.endpoint);
    const started = performance.now();
    const files = generateData(mediaRoot, o.small ?? 2000, o.large ?? 20);
    const bytes = files.reduce((n, f) => n + f.size, 0);
    const largeCount = files.filter((f) => f.size >= MiB).length;
    console.log(
      `G/H data: ${files.length} files (${files.length - largeCount} of 20–200 KiB, ${largeCount} of 20–50 MiB), ` +
        `${(bytes / MiB).toFixed(1)} MiB under uploadedfiles/, generated in ${sec(performance.now() - started)}`,
    );
    const script = writeServerScript(o.tmpRoot);
    const subs = subjects(o.tmpRoot, proxy, project, mediaRoot);
    const g = new Map<string, Run[]>(subs.map((s) => [s.id, []]));
    const h = new Map<string, Run[]>(subs.map((s) => [s.id, []]));
    let serverCount = 0;
    for (let i = 0; i < o.iterations; i++) {
      // Each round starts one subject further along, so none always runs first (after the data's writing).
      const order = subs.map((_, j) => subs[(i + j) % subs.length]!);
      for (const s of order) {
        const server = await startServer(script, path.join(base, `s3rver-${++serverCount}`));
        try {
          s.prepare?.();
          for (const rerun of [false, true]) {
            if (rerun && !o.sections.H) break;
            const label = rerun ? s.rerunLabel : s.label;
            const run = await runSubject(s, rerun, proxy, server, o.timeBin, o.tmpRoot);
            const problem = s.check(run, rerun, files.length) ?? (await verifyBucket(server.port, files));
            if (problem) throw new Error(`${label} (round ${i + 1}): ${problem}`);
            (rerun ? h : g).get(s.id)!.push(run);
            process.stderr.write(
              `  [migrate bench] round ${i + 1}/${o.iterations} ${label}: ${sec(run.wallMs)}, verified\n`,
            );
          }
        } finally {
          await server.stop();
        }
      }
    }
    return report(o, subs, g, h, files.length);
  } finally {
    await proxy.stop();
  }
}

function report(
  o: MigrateBenchOptions,
  subs: Subject[],
  g: Map<string, Run[]>,
  h: Map<string, Run[]>,
  total: number,
): number {
  let missed = 0;
  const med = (m: Map<string, Run[]>, id: string): number => median(m.get(id)!.map((r) => r.wallMs));
  const memory = o.timeBin !== null;
  const timeNote = memory
    ? `wall time of each process under \`${o.timeBin} -f '%M %U %S'\` (CPU = user+sys, peak RSS = the max over runs)`
    : 'wall time of each process (no GNU time: no CPU or peak RSS)';
  if (o.sections.G) {
    const runs = subs.map((s) => g.get(s.id)!);
    printTable(
      (o.md5Check
        ? 'I  first copy to a service that checks Content-MD5 (s3rver behind the proxy, which checks it as S3 does)'
        : 'G  first copy to an empty bucket on a fresh s3rver') +
        ` (${o.iterations} runs each, interleaved; ${timeNote})`,
      subs.map((s) => s.label),
      runs,
      memory,
    );
    printCounts(
      subs.map((s) => s.label),
      runs,
    );
    const vsRclone = med(g, 'ours') / med(g, 'rclone');
    const vsAws = med(g, 'ours') / med(g, 'aws');
    const ours = Math.max(...g.get('ours')!.map((r) => r.rssMiB));
    const rclone = Math.max(...g.get('rclone')!.map((r) => r.rssMiB));
    const wallOk = vsRclone <= 1.0;
    const rssOk = !memory || ours <= 200;
    if (!wallOk) missed++;
    if (!rssOk) missed++;
    console.log(
      `  wall ours / rclone   ${lpad(`${vsRclone.toFixed(2)}×`, 7)}   target ≤ 1.0×      ${verdict(wallOk)}`,
    );
    console.log(`  wall ours / aws      ${lpad(`${vsAws.toFixed(2)}×`, 7)}   (informational)`);
    if (memory) {
      console.log(
        `  peak RSS ours        ${lpad(`${ours.toFixed(1)} MiB`, 11)}   target ≤ 200 MiB  ${verdict(rssOk)}` +
          `   (${(ours / rclone).toFixed(2)}× rclone's ${rclone.toFixed(1)} MiB; the node process of the bin)`,
      );
    }
    console.log(
      `  every run verified: ${total} keys, sizes, ETag = MD5 of the source (through s3rver directly)\n`,
    );
  }
  if (o.sections.H) {
    const runs = subs.map((s) => h.get(s.id)!);
    printTable(
      `H  re-run over the complete bucket (the same server, right after each G run; ${o.iterations} runs each)`,
      subs.map((s) => s.rerunLabel),
      runs,
      false,
    );
    printCounts(
      subs.map((s) => s.rerunLabel),
      runs,
    );
    const ours = h.get('ours')!;
    const heads = Math.max(...ours.map((r) => r.counts.n.HEAD));
    const lists = Math.max(...ours.map((r) => r.counts.n.LIST));
    // One page per 1,000 keys under each prefix (the empty concepts/ still takes its one page).
    const allowed = PREFIXES.reduce(
      (n, p) => n + Math.max(1, Math.ceil((p === 'uploadedfiles/' ? total : 0) / 1000)),
      0,
    );
    const headOk = heads === 0;
    const listOk = lists <= allowed;
    if (!headOk) missed++;
    if (!listOk) missed++;
    const rerunWall = (id: string): string => `${(med(h, 'ours') / med(h, id)).toFixed(2)}×`;
    console.log(`  re-run wall ours / rclone --size-only ${lpad(rerunWall('rclone'), 7)}   (informational)`);
    console.log(`  re-run wall ours / aws s3 sync        ${lpad(rerunWall('aws'), 7)}   (informational)`);
    console.log(
      `  HEAD requests: ours ${heads}, rclone ${h.get('rclone')!.at(-1)!.counts.n.HEAD}, aws ${h.get('aws')!.at(-1)!.counts.n.HEAD}` +
        `   target: ours 0   ${verdict(headOk)}`,
    );
    console.log(
      `  LIST requests: ours ${lists} for ${total} keys under ${PREFIXES.join(' and ')}   target ≤ ${allowed} ` +
        `(one per 1,000 keys per prefix)   ${verdict(listOk)}`,
    );
    console.log('  every re-run sent no PUT and verified the bucket unchanged\n');
  }
  return missed;
}
