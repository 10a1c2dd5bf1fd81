/**
 * Snapshots of the overlay: for every provider × every fixture Arches line (and the variants below), the bytes
 * of every file the overlay writes, compared with committed plain files under test/snapshots/overlay/
 * <provider>/<line>/<variant>/: `changes.txt` (each change, `create|update|delete <path>`, ` (secret)` when the
 * file holds keys, then the warnings) and `files/<path>` (the file after the change). A path segment that starts
 * with a dot is stored with a `dot` prefix (`.gitignore` → `dot.gitignore`), so that git reads no snapshot as its
 * own `.gitignore`.
 *
 * `UPDATE_SNAPSHOTS=1 npx mocha test/lib/overlay-snapshots.test.ts` rewrites them; without it a difference fails
 * with a unified diff.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { REGISTRY } from '../../generators/registry.js';
import { detectProject, type ProjectFiles } from '../../lib/detect.js';
import { buildOverlay, type Overlay } from '../../lib/overlay.js';
import { PACKAGE_ROOT } from '../../lib/paths.js';
import type { SettingsInspector } from '../../lib/pysettings.js';
import { gitignoreCovers } from '../../lib/settings.js';
import type { ProviderId, StorageAnswers, StorageSecrets } from '../../lib/types.js';
import { filesOf } from '../helpers/assert.js';
import { FIXTURES, projectFiles, type FixtureId, type WriteProjectOptions } from '../helpers/projects.js';
import { overlayProvider } from '../helpers/providers.js';

const SNAPSHOTS = path.join(PACKAGE_ROOT, 'test', 'snapshots', 'overlay');
const UPDATE = process.env.UPDATE_SNAPSHOTS === '1';

const ANSWERS: Record<ProviderId, StorageAnswers> = {
  aws: {
    provider: 'aws',
    bucket: 'demo-heritage-media',
    region: 'eu-west-2',
    corsOrigins: ['https://arches.example.org'],
    iamUser: 'arches-demo-heritage-media',
    publicRead: false,
  },
  's3-compatible': {
    provider: 's3-compatible',
    service: 'minio',
    endpoint: 'http://localhost:9000',
    region: 'us-east-1',
    bucket: 'demo-heritage-media',
    corsOrigins: ['http://localhost:8000'],
    publicRead: false,
  },
  gcs: {
    provider: 'gcs',
    bucket: 'demo-heritage-media',
    corsOrigins: ['https://arches.example.org'],
    publicRead: false,
  },
  azure: {
    provider: 'azure',
    account: 'demoheritage',
    container: 'media',
    corsOrigins: ['https://arches.example.org', 'http://localhost:8000'],
    publicRead: false,
  },
  local: { provider: 'local', corsOrigins: [], publicRead: false },
};

/** Every secret any provider takes; each provider keeps its own. */
const KEYS: StorageSecrets = {
  accessKeyId: 'AKIAFIXTURE7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYFIXTURESECRET',
  accountKey: 'QXp1cmVGaXh0dXJlQWNjb3VudEtleQ==',
};

/** The s3-compatible presets, with what each needs besides the service. */
const SERVICES: Record<string, Partial<StorageAnswers>> = {
  digitalocean: { endpoint: undefined, region: 'ams3' },
  wasabi: { endpoint: undefined, region: 'eu-central-1' },
  backblaze: { endpoint: undefined, region: 'us-west-004' },
  r2: { endpoint: undefined, region: 'auto', account: '0123456789abcdef0123456789abcdef' },
  minio: {},
  other: { endpoint: 'https://objects.example.org:9443/' },
};

/** One line of each settings style, for the variants not run on every line. */
const STYLE_LINES: readonly FixtureId[] = ['7.4', '8.1'];

interface Scenario {
  provider: string;
  line: FixtureId;
  variant: string;
  answers: StorageAnswers;
  secrets: StorageSecrets;
  secretsFile?: string;
  project?: WriteProjectOptions;
}

function scenarios(): Scenario[] {
  const out: Scenario[] = [];
  for (const p of REGISTRY) {
    const id = p.id;
    const answers = ANSWERS[id];
    if (!answers)
      throw new Error(`overlay snapshots: no answers for the provider ${id}; add them to ANSWERS`);
    const takesKeys = p.secrets(KEYS).length > 0;
    for (const { id: line } of FIXTURES) {
      out.push({ provider: id, line, variant: 'no-keys', answers, secrets: {} });
      if (!takesKeys) continue;
      out.push({ provider: id, line, variant: 'keys', answers, secrets: KEYS });
      out.push({
        provider: id,
        line,
        variant: 'secrets-file',
        answers,
        secrets: KEYS,
        secretsFile: 'secrets.env',
      });
    }
    for (const line of STYLE_LINES) {
      if (p.backend) {
        out.push({
          provider: id,
          line,
          variant: 'public-read',
          answers: { ...answers, publicRead: true },
          secrets: {},
        });
      }
      if (takesKeys) {
        // settings_local.py not yet git-ignored: the .gitignore block names it.
        out.push({
          provider: id,
          line,
          variant: 'keys-unignored',
          answers,
          secrets: KEYS,
          project: { gitignoreSettingsLocal: false },
        });
      }
      if (id === 's3-compatible') {
        for (const [service, extra] of Object.entries(SERVICES)) {
          out.push({
            provider: id,
            line,
            variant: `service-${service}`,
            answers: { ...answers, service, ...extra },
            secrets: {},
          });
        }
      }
    }
  }
  return out;
}

/** Python is not the point here: an inspector that finds nothing to object to. */
const quietInspector: SettingsInspector = () => ({
  mode: 'ast',
  python: { path: 'stub', source: 'test', version: '3' },
  findings: [],
  syntaxErrors: [],
  values: {},
  notes: [],
});

/**
 * The project as a Map, with git's ignore question answered by a plain reading of the root .gitignore (git
 * itself is not the point either): a file is ignored when a line names it, or for settings_local.py when
 * gitignoreCovers says so.
 */
function projectOf(s: Scenario): ProjectFiles {
  const map = projectFiles(s.line, s.project);
  return {
    ...filesOf(map),
    ignored: (rel, overrides) => {
      const gitignore =
        overrides && '.gitignore' in overrides
          ? (overrides['.gitignore'] ?? null)
          : (map.get('.gitignore') ?? null);
      const lines = (gitignore ?? '').split(/\r?\n/).map((l) => l.trim());
      if (lines.includes(rel) || lines.includes(`/${rel}`)) return true;
      const local = /^([^/]+)\/settings_local\.py$/.exec(rel);
      return local ? gitignoreCovers(gitignore, local[1]!) : false;
    },
  };
}

function overlayOf(s: Scenario): Overlay {
  const files = projectOf(s);
  return buildOverlay(files, {
    project: detectProject('/project', files),
    ...overlayProvider(s.provider),
    answers: s.answers,
    secrets: s.secrets,
    created: [],
    secretsFile: s.secretsFile,
    inspect: quietInspector,
  });
}

const stored = (rel: string): string =>
  rel
    .split('/')
    .map((seg) => (seg.startsWith('.') ? `dot${seg}` : seg))
    .join('/');

/** What a scenario's snapshot folder holds: relative path → bytes. */
function rendered(o: Overlay): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const manifest = [
    ...o.changes.map(
      (c) =>
        `${c.before === null ? 'create' : c.after === null ? 'delete' : 'update'} ${c.path}${c.secret ? ' (secret)' : ''}`,
    ),
    ...o.warnings.map((w) => `warning: ${w}`),
  ];
  out.set('changes.txt', Buffer.from(manifest.join('\n') + '\n', 'utf8'));
  for (const c of o.changes) {
    if (c.after !== null) out.set(`files/${stored(c.path)}`, Buffer.from(c.after, 'latin1'));
  }
  return out;
}

function readTree(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (!fs.existsSync(dir)) return out;
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const abs = path.join(entry.parentPath, entry.name);
    out.set(path.relative(dir, abs).split(path.sep).join('/'), fs.readFileSync(abs));
  }
  return out;
}

function writeTree(dir: string, files: Map<string, Buffer>): void {
  fs.rmSync(dir, { recursive: true, force: true });
  for (const [rel, bytes] of files) {
    const abs = path.join(dir, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, bytes);
  }
}

/** Every difference between the snapshot and what the overlay writes now, as unified diffs. */
function differences(where: string, expected: Map<string, Buffer>, actual: Map<string, Buffer>): string[] {
  const out: string[] = [];
  for (const rel of [...new Set([...expected.keys(), ...actual.keys()])].sort()) {
    const e = expected.get(rel);
    const a = actual.get(rel);
    if (e && a && e.equals(a)) continue;
    const name = `${where}/${rel}`;
    if (!e) out.push(`${name}: written now, not in the snapshot`);
    else if (!a) out.push(`${name}: in the snapshot, not written now`);
    out.push(
      createTwoFilesPatch(
        name,
        name,
        e?.toString('utf8') ?? '',
        a?.toString('utf8') ?? '',
        'snapshot',
        'now',
      ),
    );
  }
  return out;
}

const rerun = 'UPDATE_SNAPSHOTS=1 npx mocha test/lib/overlay-snapshots.test.ts rewrites them';

describe('core/overlay snapshots (test/snapshots/overlay)', () => {
  const all = scenarios();

  for (const s of all) {
    const where = `${s.provider}/${s.line}/${s.variant}`;
    it(where, () => {
      const dir = path.join(SNAPSHOTS, s.provider, s.line, s.variant);
      const actual = rendered(overlayOf(s));
      if (UPDATE) {
        writeTree(dir, actual);
        return;
      }
      const diffs = differences(where, readTree(dir), actual);
      if (diffs.length) assert.fail(`the overlay differs from its snapshot (${rerun}):\n${diffs.join('\n')}`);
    });
  }

  it('no snapshot without its scenario', () => {
    const known = new Set(all.map((s) => path.join(s.provider, s.line, s.variant)));
    const stale: string[] = [];
    for (const provider of fs.existsSync(SNAPSHOTS) ? fs.readdirSync(SNAPSHOTS) : []) {
      for (const line of fs.readdirSync(path.join(SNAPSHOTS, provider))) {
        for (const variant of fs.readdirSync(path.join(SNAPSHOTS, provider, line))) {
          const rel = path.join(provider, line, variant);
          if (known.has(rel)) continue;
          if (UPDATE) fs.rmSync(path.join(SNAPSHOTS, rel), { recursive: true, force: true });
          else stale.push(rel);
        }
      }
    }
    assert.deepEqual(stale, [], `snapshots no scenario writes (${rerun})`);
  });
});
