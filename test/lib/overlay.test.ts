import assert from 'node:assert/strict';
import { BEGIN, END, MARK_PREFIX_BEGIN, MARK_PREFIX_END } from '../../lib/blocks.js';
import { detectProject } from '../../lib/detect.js';
import { buildOverlay, type Overlay } from '../../lib/overlay.js';
import type { ProviderId, StorageAnswers, StorageSecrets } from '../../lib/types.js';
import { FIXTURES, projectFiles, type FixtureId } from '../helpers/projects.js';
import { filesOf, throwsUser } from '../helpers/assert.js';
import { overlayProvider } from '../helpers/providers.js';
import { PROVIDER_IDS } from '../../generators/registry.js';

const PKG = 'demo_heritage';
const SETTINGS = `${PKG}/settings.py`;
const LOCAL = `${PKG}/settings_local.py`;
const REQS = `${PKG}/install/requirements.txt`;

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
    corsOrigins: ['https://arches.example.org'],
    publicRead: false,
  },
  local: { provider: 'local', corsOrigins: [], publicRead: false },
};

// Recognisable secret values: none may appear anywhere but settings_local.py.
const KEY_ID = 'AKIAFIXTURE7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYFIXTURESECRET';
const ACCOUNT_KEY = 'QXp1cmVGaXh0dXJlQWNjb3VudEtleQ==';
const SECRETS: Record<ProviderId, StorageSecrets> = {
  aws: { accessKeyId: KEY_ID, secretAccessKey: SECRET },
  's3-compatible': { accessKeyId: KEY_ID, secretAccessKey: SECRET },
  gcs: {},
  azure: { accountKey: ACCOUNT_KEY },
  local: {},
};

interface State {
  map: Map<string, string>;
  created: string[];
}

const stateOf = (id: FixtureId, options: Parameters<typeof projectFiles>[1] = {}): State => ({
  map: projectFiles(id, options),
  created: [],
});

/** One generator run on the Map: detect, build the overlay, apply its changes (checking each `before`). */
function run(
  state: State,
  provider: ProviderId,
  secrets: StorageSecrets = {},
  answers?: Partial<StorageAnswers>,
): Overlay {
  const files = filesOf(state.map);
  const project = detectProject('/project', files);
  const overlay = buildOverlay(files, {
    project,
    ...overlayProvider(provider),
    answers: { ...ANSWERS[provider]!, ...answers },
    secrets,
    created: state.created,
  });
  for (const c of overlay.changes) {
    assert.equal(c.before, state.map.get(c.path) ?? null, `${c.path}: the change's "before" is not the file`);
    assert.notEqual(c.before, c.after, `${c.path}: a change that changes nothing`);
    if (c.after === null) state.map.delete(c.path);
    else state.map.set(c.path, c.after);
  }
  state.created = overlay.created;
  return overlay;
}

const paths = (o: Overlay): string[] => o.changes.map((c) => c.path).sort();

const sameFiles = (actual: Map<string, string>, expected: Map<string, string>, what: string): void => {
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort(), `${what}: file list`);
  for (const [k, v] of expected) assert.equal(actual.get(k), v, `${what}: ${k}`);
};

/** The overlay-folder documents each provider writes (besides NOTES.md), by hand. */
const DOCUMENTS: Record<ProviderId, string[]> = {
  aws: ['arches-storage/aws-user-policy.json', 'arches-storage/cors.json', 'arches-storage/lifecycle.json'],
  's3-compatible': ['arches-storage/cors.json', 'arches-storage/lifecycle.json'],
  gcs: [
    'arches-storage/gcs-bucket-settings.json',
    'arches-storage/gcs-cors.json',
    'arches-storage/gcs-iam-binding.json',
  ],
  azure: ['arches-storage/azure-cors.json'],
  local: [],
};

describe('core/overlay', () => {
  describe('the files each provider changes', () => {
    for (const [id, depFile] of [
      ['7.4', REQS],
      ['7.6', 'pyproject.toml'],
    ] as const) {
      for (const provider of PROVIDER_IDS) {
        it(`${provider} on ${id}`, () => {
          const s = stateOf(id);
          const o = run(s, provider);
          const expected =
            provider === 'local'
              ? []
              : [depFile, SETTINGS, 'arches-storage/NOTES.md', ...DOCUMENTS[provider]!].sort();
          assert.deepEqual(paths(o), expected);
          for (const c of o.changes) {
            if (c.path.startsWith('arches-storage/')) assert.equal(c.before, null, `${c.path} is created`);
            else assert.notEqual(c.before, null, `${c.path} is updated`);
          }
          assert.deepEqual(o.created, []);
          if (provider === 'local') assert.ok(o.plan.some((l) => /Nothing to change/.test(l)));
        });
        if (provider !== 'local' && provider !== 'gcs') {
          it(`${provider} on ${id} with secrets also changes settings_local.py (and not .gitignore, which covers it)`, () => {
            const o = run(stateOf(id), provider, SECRETS[provider]);
            assert.ok(paths(o).includes(LOCAL));
            assert.ok(!paths(o).includes('.gitignore'));
          });
        }
      }
    }

    it('aws with public read adds the bucket policy', () => {
      const o = run(stateOf('7.4'), 'aws', {}, { publicRead: true });
      assert.ok(paths(o).includes('arches-storage/aws-bucket-policy.json'));
    });

    it('6.2 and 7.3 get arches-storage/requirements.txt, remembered as created', () => {
      for (const id of ['6.2', '7.3'] as const) {
        const s = stateOf(id);
        const o = run(s, 'aws');
        assert.deepEqual(
          paths(o),
          ['arches-storage/NOTES.md', 'arches-storage/requirements.txt', ...DOCUMENTS.aws!, SETTINGS].sort(),
        );
        assert.deepEqual(o.created, ['arches-storage/requirements.txt']);
        const req = s.map.get('arches-storage/requirements.txt')!;
        assert.match(req, new RegExp(`^Django${id === '6.2' ? '==3\\.2\\.25' : '==3\\.2\\.15'}$`, 'm'));
      }
    });

    it('what the dependency block declares (7.4.4 aws, 7.6.10 gcs, 8.1.5 azure)', () => {
      const a = stateOf('7.4');
      run(a, 'aws');
      const req = a.map.get(REQS)!;
      assert.match(req, /^Django==3\.2\.24$/m);
      assert.match(req, /^django-storages\[s3\]==1\.14\.6$/m);
      assert.match(req, /^boto3>=1\.26,<2$/m);
      assert.ok(req.startsWith(projectFiles('7.4').get(REQS)!), 'the user lines stay first and untouched');
      const g = stateOf('7.6');
      run(g, 'gcs');
      const py = g.map.get('pyproject.toml')!;
      assert.match(py, /"Django>=4\.2\.21,<5\.0\.0"/);
      assert.match(py, /"django-storages\[google\]==1\.14\.6"/);
      assert.match(py, /"google-cloud-storage>=2\.10,<4"/);
      const z = stateOf('8.1');
      run(z, 'azure');
      const py8 = z.map.get('pyproject.toml')!;
      assert.match(py8, /"Django>=5\.2\.3,<6\.0\.0"/);
      assert.match(py8, /"django-storages\[azure\]==1\.14\.6"/);
      assert.match(py8, /"azure-storage-blob>=12\.17,<13"/);
    });

    it('settings.py: the block sits before the local imports, in the style of the line', () => {
      for (const [id, style] of [
        ['7.4', 'DEFAULT_FILE_STORAGE = '],
        ['7.5', 'STORAGES = {'],
        ['8.0', 'STORAGES = {'],
      ] as const) {
        const s = stateOf(id);
        run(s, 'aws');
        const text = s.map.get(SETTINGS)!;
        const block = text.indexOf(BEGIN);
        assert.ok(block > text.indexOf('INSTALLED_APPS = ('), id);
        assert.ok(block < text.indexOf('from .package_settings import'), id);
        assert.ok(text.includes(style), id);
        assert.equal(
          text.includes(style === 'STORAGES = {' ? 'DEFAULT_FILE_STORAGE' : 'STORAGES = {'),
          false,
          id,
        );
        assert.equal(text.split(MARK_PREFIX_BEGIN).length - 1, 1);
      }
    });
  });

  describe('switching providers', () => {
    for (const id of ['6.2', '7.4', '7.6', '7.6-upgraded', '8.1'] as const) {
      it(`aws → gcs → aws gives the first aws files back (${id})`, () => {
        const s = stateOf(id);
        run(s, 'aws', SECRETS.aws);
        const firstAws = new Map(s.map);
        const createdAfterAws = [...s.created];
        const toGcs = run(s, 'gcs');
        assert.ok(paths(toGcs).includes('arches-storage/aws-user-policy.json'), 'the aws policy is removed');
        assert.ok(!s.map.has('arches-storage/aws-user-policy.json'));
        assert.ok(s.map.has('arches-storage/gcs-cors.json'));
        assert.match(s.map.get(SETTINGS)!, /GoogleCloudStorage/);
        assert.doesNotMatch(s.map.get(SETTINGS)!, /S3Boto3Storage|S3Storage/);
        run(s, 'aws', SECRETS.aws);
        sameFiles(s.map, firstAws, `${id} after aws → gcs → aws`);
        assert.deepEqual(s.created, createdAfterAws);
      });
    }

    for (const f of FIXTURES) {
      for (const provider of PROVIDER_IDS.filter((p) => p !== 'local')) {
        it(`${provider} → local gives back exactly the original files (${f.id})`, () => {
          const s = stateOf(f.id);
          const original = new Map(s.map);
          run(s, provider, SECRETS[provider]);
          const back = run(s, 'local');
          sameFiles(s.map, original, `${f.id}: ${provider} → local`);
          assert.deepEqual(s.created, []);
          assert.ok(back.changes.length > 0);
        });
      }
    }

    it('aws → s3-compatible → azure → gcs → local gives back the original (7.5)', () => {
      const s = stateOf('7.5');
      const original = new Map(s.map);
      run(s, 'aws', SECRETS.aws);
      run(s, 's3-compatible', SECRETS['s3-compatible']);
      run(s, 'azure', SECRETS.azure);
      run(s, 'gcs');
      run(s, 'local');
      sameFiles(s.map, original, '7.5 chain → local');
    });
  });

  describe('idempotence', () => {
    for (const id of ['6.2', '7.4', '7.6', '8.0'] as const) {
      for (const provider of PROVIDER_IDS) {
        it(`${provider} twice on ${id}: the second run changes nothing`, () => {
          const s = stateOf(id);
          run(s, provider, SECRETS[provider]);
          const created = [...s.created];
          const again = run(s, provider, SECRETS[provider]);
          assert.deepEqual(again.changes, []);
          assert.deepEqual(again.created, created);
          assert.ok(again.plan.some((l) => /Nothing to change/.test(l)));
          // Without secrets the next time, the ones in settings_local.py are kept.
          assert.deepEqual(run(s, provider, {}).changes, []);
        });
      }
    }
  });

  describe('secrets', () => {
    for (const id of ['6.2', '7.4', '7.6', '8.1'] as const) {
      for (const provider of ['aws', 's3-compatible', 'azure'] as const) {
        it(`${provider} on ${id}: only in settings_local.py`, () => {
          const s = stateOf(id);
          const o = run(s, provider, SECRETS[provider]);
          const values = Object.values(SECRETS[provider]!) as string[];
          for (const c of o.changes) {
            const has = values.some((v) => (c.after ?? '').includes(v));
            assert.equal(has, c.path === LOCAL, `${c.path} ${has ? 'holds' : 'lacks'} a secret`);
          }
          for (const line of [...o.plan, ...o.warnings])
            for (const v of values) assert.ok(!line.includes(v), `a secret in the plan or warnings: ${line}`);
          for (const [path, content] of s.map) {
            if (path === LOCAL) continue;
            for (const v of values) assert.ok(!content.includes(v), `${path} holds a secret`);
          }
          const local = s.map.get(LOCAL)!;
          for (const v of values) assert.ok(local.includes(v));
          // The block goes after what the user had in settings_local.py.
          assert.ok(local.startsWith(projectFiles(id).get(LOCAL)!));
        });
      }
    }

    it('a .gitignore that does not cover settings_local.py gets a block, and local removes it again', () => {
      const s = stateOf('7.4', { gitignoreSettingsLocal: false });
      const original = new Map(s.map);
      const o = run(s, 'aws', SECRETS.aws);
      assert.ok(paths(o).includes('.gitignore'));
      const gi = s.map.get('.gitignore')!;
      assert.ok(gi.startsWith(original.get('.gitignore')!));
      assert.match(gi, /^\/demo_heritage\/settings_local\.py$/m);
      run(s, 'local');
      sameFiles(s.map, original, 'after local');
    });

    it('without secrets such a .gitignore is left alone', () => {
      const s = stateOf('7.6', { gitignoreSettingsLocal: false });
      const o = run(s, 'aws');
      assert.ok(!paths(o).includes('.gitignore'));
      assert.ok(!paths(o).includes(LOCAL));
    });

    it('a project without .gitignore or settings_local.py: both are created, then deleted by local', () => {
      const s = stateOf('7.6');
      s.map.delete('.gitignore');
      s.map.delete(LOCAL);
      const original = new Map(s.map);
      const o = run(s, 'azure', SECRETS.azure);
      assert.ok(paths(o).includes('.gitignore') && paths(o).includes(LOCAL));
      assert.deepEqual(o.created, ['.gitignore', LOCAL]);
      run(s, 'local');
      sameFiles(s.map, original, 'after local');
    });
  });

  describe('refusals: nothing is changed', () => {
    it('a user pin django-storages==1.9.1 in install/requirements.txt', () => {
      const s = stateOf('7.4');
      s.map.set(REQS, `${s.map.get(REQS)!}django-storages==1.9.1\n`);
      const before = new Map(s.map);
      const e = throwsUser(() => run(s, 'aws'), `${REQS}:5`, 'django-storages==1.9.1', '>=1.12.3');
      assert.equal(e.subject, REQS);
      sameFiles(s.map, before, 'after the refusal');
    });

    it('a Django pin in pyproject.toml outside what Arches 7.6.10 requires', () => {
      const s = stateOf('7.6');
      s.map.set(
        'pyproject.toml',
        s.map.get('pyproject.toml')!.replace('    "arches>=', '    "Django==4.2.11",\n    "arches>='),
      );
      const line = s.map.get('pyproject.toml')!.split('\n').indexOf('    "Django==4.2.11",') + 1;
      throwsUser(() => run(s, 'gcs'), `pyproject.toml:${line}`, 'Django==4.2.11', '>=4.2.21,<5.0.0');
    });

    it('STORAGES defined in settings_local.py (7.6)', () => {
      const s = stateOf('7.6');
      s.map.set(LOCAL, `${s.map.get(LOCAL)!}\nSTORAGES = {"default": {"BACKEND": "x"}}\n`);
      const before = new Map(s.map);
      throwsUser(() => run(s, 'aws'), `${LOCAL}:6`, 'STORAGES');
      sameFiles(s.map, before, 'after the refusal');
    });

    it('DEFAULT_FILE_STORAGE defined in settings_local.py (7.4)', () => {
      const s = stateOf('7.4');
      s.map.set(LOCAL, `${s.map.get(LOCAL)!}DEFAULT_FILE_STORAGE = "x.Y"\n`);
      throwsUser(() => run(s, 'gcs'), `${LOCAL}:5`, 'DEFAULT_FILE_STORAGE');
    });

    it('a storage setting after the block in settings.py would override it', () => {
      const s = stateOf('7.6');
      s.map.set(SETTINGS, `${s.map.get(SETTINGS)!}\nSTORAGES = {}\n`);
      throwsUser(() => run(s, 'aws'), SETTINGS, 'STORAGES');
    });

    it('a storage setting before the block only warns', () => {
      const s = stateOf('7.4');
      s.map.set(
        SETTINGS,
        s.map
          .get(SETTINGS)!
          .replace("MEDIA_URL = '/files/'\n", "MEDIA_URL = '/files/'\nDEFAULT_FILE_STORAGE = 'a.B'\n"),
      );
      const o = run(s, 'aws');
      assert.ok(o.warnings.some((w) => w.includes('DEFAULT_FILE_STORAGE')));
    });

    it('edited markers in settings.py', () => {
      const s = stateOf('7.4');
      run(s, 'aws');
      s.map.set(SETTINGS, s.map.get(SETTINGS)!.replace(END, `${MARK_PREFIX_END} (mine) <<<`));
      throwsUser(() => run(s, 'gcs'), SETTINGS);
      throwsUser(() => run(s, 'local'), SETTINGS);
    });
  });
});
