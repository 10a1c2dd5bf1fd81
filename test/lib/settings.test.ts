import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  gitignoreCovers,
  settingsInsertAt,
  settingsLocalLines,
  storageSettingsLines,
} from '../../lib/settings.js';
import type { SettingsStyle, StorageAnswers } from '../../lib/types.js';
import { FIXTURES, projectFiles } from '../helpers/projects.js';

const PYTHON = '/usr/bin/python3';

/**
 * Runs Python lines the way settings.py would (INSTALLED_APPS already defined), and reports the settings they
 * leave behind. With `instantiate`, also builds the S3 backend from them with Debian's Django 3.2 +
 * django-storages 1.13.2: DEFAULT_FILE_STORAGE through default_storage, STORAGES by passing OPTIONS as keyword
 * arguments (an unknown OPTIONS key raises ImproperlyConfigured there).
 */
const RUNNER = String.raw`
import json, os, sys
req = json.load(sys.stdin)
ENV = ("AWS_REQUEST_CHECKSUM_CALCULATION", "AWS_RESPONSE_CHECKSUM_VALIDATION", "AZURE_ACCOUNT_KEY")
for k in ENV:
    os.environ.pop(k, None)
for k, v in req.get("env", {}).items():
    os.environ[k] = v
g = {"INSTALLED_APPS": tuple(req.get("installed", []))}
if "storages" in req:
    g["STORAGES"] = req["storages"]
for _ in range(req.get("times", 1)):
    exec(req["code"], g)
out = {}
for k, v in g.items():
    if k.isupper():
        try:
            json.dumps(v)
            out[k] = v
        except TypeError:
            out[k] = repr(v)
out["INSTALLED_APPS"] = list(g["INSTALLED_APPS"])
result = {"settings": out, "env": {k: os.environ.get(k) for k in ENV}}
if req.get("instantiate"):
    from django.conf import settings
    conf = {k: v for k, v in out.items() if k != "STORAGES"}
    settings.configure(**conf)
    import django
    django.setup()
    attrs = ("bucket_name", "region_name", "default_acl", "file_overwrite", "querystring_auth",
             "signature_version", "endpoint_url", "addressing_style")
    if "STORAGES" in out:
        from storages.backends.s3boto3 import S3Boto3Storage
        backend = out["STORAGES"]["default"]["BACKEND"]
        assert backend in ("storages.backends.s3.S3Storage", "storages.backends.s3boto3.S3Boto3Storage"), backend
        storage = S3Boto3Storage(**out["STORAGES"]["default"]["OPTIONS"])
    else:
        from django.core.files.storage import default_storage
        default_storage._setup()
        storage = default_storage._wrapped
    result["storage"] = {"class": type(storage).__module__ + "." + type(storage).__name__}
    for a in attrs:
        result["storage"][a] = getattr(storage, a)
print(json.dumps(result))
`;
import { spec } from '../helpers/providers.js';

interface PyResult {
  settings: Record<string, unknown>;
  env: Record<string, string | null>;
  storage?: Record<string, unknown>;
}

function runPython(
  lines: readonly string[],
  options: {
    installed?: string[];
    storages?: unknown;
    times?: number;
    instantiate?: boolean;
    env?: Record<string, string>;
  } = {},
): PyResult {
  const r = spawnSync(PYTHON, ['-c', RUNNER], {
    input: JSON.stringify({ code: lines.join('\n') + '\n', ...options }),
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, `python failed:\n${r.stderr}\n--- code ---\n${lines.join('\n')}`);
  return JSON.parse(r.stdout) as PyResult;
}

const STATICFILES = { BACKEND: 'django.contrib.staticfiles.storage.StaticFilesStorage' };
const R2_ACCOUNT = '0123456789abcdef0123456789abcdef';

interface Case {
  name: string;
  answers: StorageAnswers;
  /** The backend for DEFAULT_FILE_STORAGE, then for STORAGES. */
  backend: [string, string];
  /** STORAGES OPTIONS, exactly; and the same as DEFAULT_FILE_STORAGE-era globals. */
  options: Record<string, unknown>;
  globals: Record<string, unknown>;
  checksumEnv: boolean;
  s3: boolean;
}

const S3_GLOBAL: Record<string, string> = {
  bucket_name: 'AWS_STORAGE_BUCKET_NAME',
  region_name: 'AWS_S3_REGION_NAME',
  default_acl: 'AWS_DEFAULT_ACL',
  file_overwrite: 'AWS_S3_FILE_OVERWRITE',
  querystring_auth: 'AWS_QUERYSTRING_AUTH',
  signature_version: 'AWS_S3_SIGNATURE_VERSION',
  endpoint_url: 'AWS_S3_ENDPOINT_URL',
  addressing_style: 'AWS_S3_ADDRESSING_STYLE',
};
const GCS_GLOBAL: Record<string, string> = {
  bucket_name: 'GS_BUCKET_NAME',
  default_acl: 'GS_DEFAULT_ACL',
  file_overwrite: 'GS_FILE_OVERWRITE',
  querystring_auth: 'GS_QUERYSTRING_AUTH',
};
const AZURE_GLOBAL: Record<string, string> = {
  account_name: 'AZURE_ACCOUNT_NAME',
  azure_container: 'AZURE_CONTAINER',
  overwrite_files: 'AZURE_OVERWRITE_FILES',
  expiration_secs: 'AZURE_URL_EXPIRATION_SECS',
};
/** OPTIONS keys django-storages 1.14 accepts (get_default_settings of each backend), for the ones we use. */
const KNOWN_OPTIONS: Record<string, readonly string[]> = {
  s3: Object.keys(S3_GLOBAL),
  gcs: [
    'project_id',
    'credentials',
    'bucket_name',
    'custom_endpoint',
    'location',
    'default_acl',
    'querystring_auth',
    'expiration',
    'file_overwrite',
    'object_parameters',
  ],
  azure: [
    'account_name',
    'account_key',
    'azure_container',
    'expiration_secs',
    'overwrite_files',
    'location',
    'connection_string',
  ],
};

const globalsOf = (opts: Record<string, unknown>, names: Record<string, string>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(opts).map(([k, v]) => [names[k]!, v]));

function s3Case(
  name: string,
  answers: StorageAnswers,
  options: Record<string, unknown>,
  checksumEnv: boolean,
): Case {
  return {
    name,
    answers,
    backend: ['storages.backends.s3boto3.S3Boto3Storage', 'storages.backends.s3.S3Storage'],
    options,
    globals: globalsOf(options, S3_GLOBAL),
    checksumEnv,
    s3: true,
  };
}

const base = { corsOrigins: ['https://arches.example.org'] };
const CASES: Case[] = [
  s3Case(
    'aws, private',
    { ...base, provider: 'aws', bucket: 'demo-media', region: 'eu-west-2', publicRead: false },
    {
      bucket_name: 'demo-media',
      region_name: 'eu-west-2',
      default_acl: null,
      file_overwrite: false,
      querystring_auth: true,
      signature_version: 's3v4',
    },
    false,
  ),
  s3Case(
    'aws, public-read',
    { ...base, provider: 'aws', bucket: 'demo-media', region: 'us-east-1', publicRead: true },
    {
      bucket_name: 'demo-media',
      region_name: 'us-east-1',
      default_acl: null,
      file_overwrite: false,
      querystring_auth: false,
      signature_version: 's3v4',
    },
    false,
  ),
  s3Case(
    's3-compatible minio',
    {
      ...base,
      provider: 's3-compatible',
      service: 'minio',
      endpoint: 'http://localhost:9000/',
      region: 'us-east-1',
      bucket: 'demo-media',
      publicRead: false,
    },
    {
      bucket_name: 'demo-media',
      region_name: 'us-east-1',
      default_acl: null,
      file_overwrite: false,
      querystring_auth: true,
      signature_version: 's3v4',
      endpoint_url: 'http://localhost:9000',
      addressing_style: 'path',
    },
    true,
  ),
  s3Case(
    's3-compatible digitalocean',
    {
      ...base,
      provider: 's3-compatible',
      service: 'digitalocean',
      region: 'ams3',
      bucket: 'demo-media',
      publicRead: false,
    },
    {
      bucket_name: 'demo-media',
      region_name: 'ams3',
      default_acl: null,
      file_overwrite: false,
      querystring_auth: true,
      signature_version: 's3v4',
      endpoint_url: 'https://ams3.digitaloceanspaces.com',
    },
    true,
  ),
  s3Case(
    's3-compatible r2, public-read',
    {
      ...base,
      provider: 's3-compatible',
      service: 'r2',
      account: R2_ACCOUNT,
      region: 'auto',
      bucket: 'demo-media',
      publicRead: true,
    },
    {
      bucket_name: 'demo-media',
      region_name: 'auto',
      default_acl: null,
      file_overwrite: false,
      querystring_auth: false,
      signature_version: 's3v4',
      endpoint_url: `https://${R2_ACCOUNT}.r2.cloudflarestorage.com`,
    },
    true,
  ),
  {
    name: 'gcs, private',
    answers: { ...base, provider: 'gcs', bucket: 'demo_media', publicRead: false },
    backend: ['storages.backends.gcloud.GoogleCloudStorage', 'storages.backends.gcloud.GoogleCloudStorage'],
    options: { bucket_name: 'demo_media', default_acl: null, file_overwrite: false, querystring_auth: true },
    globals: globalsOf(
      { bucket_name: 'demo_media', default_acl: null, file_overwrite: false, querystring_auth: true },
      GCS_GLOBAL,
    ),
    checksumEnv: false,
    s3: false,
  },
  {
    // The overlay always turns on uniform bucket-level access (policies.gcsBucketSettings), where any object
    // ACL makes uploads fail with HTTP 400: django-storages' docs say to keep GS_DEFAULT_ACL None and set
    // GS_QUERYSTRING_AUTH False for a public bucket with uniform access.
    name: 'gcs, public-read (uniform bucket-level access: no object ACL)',
    answers: { ...base, provider: 'gcs', bucket: 'demo_media', publicRead: true },
    backend: ['storages.backends.gcloud.GoogleCloudStorage', 'storages.backends.gcloud.GoogleCloudStorage'],
    options: { bucket_name: 'demo_media', default_acl: null, file_overwrite: false, querystring_auth: false },
    globals: globalsOf(
      { bucket_name: 'demo_media', default_acl: null, file_overwrite: false, querystring_auth: false },
      GCS_GLOBAL,
    ),
    checksumEnv: false,
    s3: false,
  },
  {
    name: 'azure',
    answers: { ...base, provider: 'azure', account: 'demoheritage', container: 'media', publicRead: false },
    backend: ['storages.backends.azure_storage.AzureStorage', 'storages.backends.azure_storage.AzureStorage'],
    options: {
      account_name: 'demoheritage',
      azure_container: 'media',
      overwrite_files: false,
      expiration_secs: 3600,
    },
    globals: globalsOf(
      {
        account_name: 'demoheritage',
        azure_container: 'media',
        overwrite_files: false,
        expiration_secs: 3600,
      },
      AZURE_GLOBAL,
    ),
    checksumEnv: false,
    s3: false,
  },
];

const SECRET_NAMES =
  /\b(AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AZURE_ACCOUNT_KEY|GS_CREDENTIALS)\s*=\s*["']/;

describe('core/settings', () => {
  describe('settingsInsertAt on every fixture', () => {
    for (const f of FIXTURES) {
      for (const eol of ['\n', '\r\n']) {
        it(`${f.id}${eol === '\r\n' ? ' (CRLF)' : ''}: before the package_settings / settings_local imports, after INSTALLED_APPS`, () => {
          const content = projectFiles(f.id).get('demo_heritage/settings.py')!.replace(/\n/g, eol);
          const at = settingsInsertAt(content);
          assert.ok(at === 0 || content[at - 1] === '\n', 'not at a line start');
          const before = content.slice(0, at);
          const after = content.slice(at);
          // The first code after the offset is the try-block that imports package_settings.
          const firstLines = after.split(eol).filter((l) => l.trim() !== '');
          assert.equal(firstLines[0], 'try:');
          assert.equal(firstLines[1], '    from .package_settings import *');
          // Everything that must precede the block does, everything that must follow does.
          assert.ok(before.includes('from arches.settings import *'));
          assert.ok(/^INSTALLED_APPS = \(/m.test(before));
          if (['7.6', '7.6-upgraded', '8.0', '8.1'].includes(f.id))
            assert.ok(
              /^INSTALLED_APPS \+= \($/m.test(before) || before.includes('INSTALLED_APPS += ("arches.app",)'),
            );
          assert.ok(before.includes("MEDIA_URL = '/files/'"));
          assert.ok(!before.includes('package_settings'));
          assert.ok(!before.includes('settings_local'));
          assert.ok(!before.includes('__main__'));
          assert.ok(after.includes('from .settings_local import *'));
          if (['7.3', '7.4', '7.5'].includes(f.id)) assert.ok(after.includes('if __name__ == "__main__":'));
        });
      }
    }
  });

  describe('settingsInsertAt on hand-written files', () => {
    it('goes above the comment lines directly above the try', () => {
      const content =
        'A = 1\n\n# Local settings win.\n# Keep this last.\ntry:\n    from .settings_local import *\nexcept ImportError:\n    pass\n';
      assert.equal(settingsInsertAt(content), content.indexOf('# Local settings win.'));
    });
    it('a comment separated by a blank line stays above the block', () => {
      const content =
        'A = 1\n# about A\n\ntry:\n    from .settings_local import *\nexcept ImportError:\n    pass\n';
      assert.equal(settingsInsertAt(content), content.indexOf('try:'));
    });
    it('a try whose body starts with a comment still counts', () => {
      const content =
        'A = 1\ntry:\n    # overrides\n    from .package_settings import *\nexcept ImportError:\n    pass\n';
      assert.equal(settingsInsertAt(content), content.indexOf('try:'));
    });
    it('an unrelated try is passed over', () => {
      const content =
        'try:\n    import debug_toolbar\nexcept ImportError:\n    pass\nB = 2\ntry:\n    from .settings_local import *\nexcept ImportError:\n    pass\n';
      assert.equal(settingsInsertAt(content), content.indexOf('try:', 10));
    });
    it('a bare top-level import of settings_local', () => {
      const content = 'A = 1\nfrom .settings_local import *\n';
      assert.equal(settingsInsertAt(content), content.indexOf('from .settings_local'));
    });
    it('an absolute import of pkg.settings_local', () => {
      const content = 'A = 1\ntry:\n    from demo.settings_local import *\nexcept ImportError:\n    pass\n';
      assert.equal(settingsInsertAt(content), content.indexOf('try:'));
    });
    it('the __main__ guard alone, with its comment', () => {
      const content = "A = 1\n\n# for node\nif __name__ == '__main__':\n    print(A)\n";
      assert.equal(settingsInsertAt(content), content.indexOf('# for node'));
    });
    it('nothing to go before: appends', () => {
      const content = 'A = 1\nB = 2\n';
      assert.equal(settingsInsertAt(content), content.length);
      assert.equal(settingsInsertAt(''), 0);
    });
    it('an indented import (inside a function) is not an anchor', () => {
      const content = 'def f():\n    from .settings_local import X\n\nA = 1\n';
      assert.equal(settingsInsertAt(content), content.length);
    });
  });

  describe('storageSettingsLines', () => {
    it('local has no block', () => {
      for (const style of ['DEFAULT_FILE_STORAGE', 'STORAGES'] as const) {
        assert.deepEqual(
          storageSettingsLines(
            spec('local'),
            { provider: 'local', corsOrigins: [], publicRead: false },
            style,
          ),
          [],
        );
      }
    });

    for (const c of CASES) {
      describe(c.name, () => {
        for (const style of [
          'DEFAULT_FILE_STORAGE',
          'STORAGES',
        ] as const satisfies readonly SettingsStyle[]) {
          it(`${style}: the exact settings, valid Python, no secret`, () => {
            const lines = storageSettingsLines(spec(c.answers.provider), c.answers, style);
            const text = lines.join('\n');
            assert.ok(!SECRET_NAMES.test(text), `a secret is assigned in:\n${text}`);
            assert.ok(!/MEDIA_URL\s*=/.test(text), 'MEDIA_URL must stay /files/');
            assert.equal(/CHECKSUM/.test(text), c.checksumEnv, 'checksum variables only for s3-compatible');
            const py = runPython(lines, { installed: ['django.contrib.admin', 'arches', 'demo_heritage'] });
            const s = py.settings;
            assert.deepEqual(s.INSTALLED_APPS, [
              'django.contrib.admin',
              'arches',
              'demo_heritage',
              'storages',
            ]);
            if (style === 'DEFAULT_FILE_STORAGE') {
              assert.equal(s.STORAGES, undefined, 'Django 3.2 lines must not get STORAGES');
              assert.equal(s.DEFAULT_FILE_STORAGE, c.backend[0]);
              for (const [k, v] of Object.entries(c.globals)) assert.deepEqual(s[k], v, k);
              // No stray storage globals beyond the expected ones.
              const prefix = c.s3 ? /^AWS_/ : c.answers.provider === 'gcs' ? /^GS_/ : /^AZURE_/;
              const extra = Object.keys(s).filter(
                (k) => prefix.test(k) && !(k in c.globals) && k !== 'AZURE_ACCOUNT_KEY',
              );
              assert.deepEqual(extra, []);
            } else {
              assert.equal(
                s.DEFAULT_FILE_STORAGE,
                undefined,
                'STORAGES together with DEFAULT_FILE_STORAGE is refused by Django',
              );
              const storages = s.STORAGES as Record<string, Record<string, unknown>>;
              assert.deepEqual(Object.keys(storages).sort(), ['default', 'staticfiles']);
              assert.deepEqual(storages.staticfiles, STATICFILES);
              assert.equal(storages.default!.BACKEND, c.backend[1]);
              assert.deepEqual(storages.default!.OPTIONS, c.options);
              const known = KNOWN_OPTIONS[c.s3 ? 's3' : c.answers.provider]!;
              for (const k of Object.keys(storages.default!.OPTIONS)) {
                assert.ok(known.includes(k), `django-storages has no OPTIONS key ${k}`);
                assert.equal(k, k.toLowerCase());
              }
              // No global storage settings alongside STORAGES (they would be ignored or confusing).
              assert.deepEqual(
                Object.keys(s).filter((k) => /^(AWS_|GS_|AZURE_)/.test(k) && k !== 'AZURE_ACCOUNT_KEY'),
                [],
              );
            }
            if (c.checksumEnv) {
              assert.deepEqual(py.env, {
                AWS_REQUEST_CHECKSUM_CALCULATION: 'when_required',
                AWS_RESPONSE_CHECKSUM_VALIDATION: 'when_required',
                AZURE_ACCOUNT_KEY: null,
              });
            }
            if (c.answers.provider === 'azure') {
              // The key comes from the environment (or settings_local.py, imported later), never from the block.
              assert.equal(s.AZURE_ACCOUNT_KEY, null);
              const withEnv = runPython(lines, { env: { AZURE_ACCOUNT_KEY: 'from-env' } });
              assert.equal(withEnv.settings.AZURE_ACCOUNT_KEY, 'from-env');
            }
          });

          if (c.s3) {
            it(`${style}: django-storages builds the S3 backend from it with these values`, function () {
              const py = runPython(storageSettingsLines(spec(c.answers.provider), c.answers, style), {
                instantiate: true,
              });
              const st = py.storage!;
              assert.equal(st.class, 'storages.backends.s3boto3.S3Boto3Storage');
              for (const [k, v] of Object.entries(c.options)) assert.deepEqual(st[k], v, k);
            });
          }
        }
      });
    }

    it('the STORAGES block keeps a staticfiles entry set earlier, and is idempotent when run twice', () => {
      const lines = storageSettingsLines(spec(CASES[0]!.answers.provider), CASES[0]!.answers, 'STORAGES');
      const custom = { BACKEND: 'whitenoise.storage.CompressedStaticFilesStorage' };
      const py = runPython(lines, { storages: { staticfiles: custom }, times: 2, installed: ['arches'] });
      const storages = py.settings.STORAGES as Record<string, unknown>;
      assert.deepEqual(storages.staticfiles, custom);
      assert.deepEqual(py.settings.INSTALLED_APPS, ['arches', 'storages']);
    });

    it('storages is not added twice when INSTALLED_APPS already has it', () => {
      const py = runPython(
        storageSettingsLines(spec(CASES[0]!.answers.provider), CASES[0]!.answers, 'DEFAULT_FILE_STORAGE'),
        {
          installed: ['storages', 'arches'],
        },
      );
      assert.deepEqual(py.settings.INSTALLED_APPS, ['storages', 'arches']);
    });
  });

  describe('settingsLocalLines', () => {
    it('S3 keys only when both are given', () => {
      const a: StorageAnswers = {
        provider: 'aws',
        bucket: 'b-b-b',
        region: 'eu-west-2',
        corsOrigins: [],
        publicRead: false,
      };
      const lines = settingsLocalLines(spec(a.provider), {
        accessKeyId: 'AKIAEXAMPLE',
        secretAccessKey: 'se"cret\\x',
      });
      assert.ok(lines);
      const py = runPython(lines);
      assert.equal(py.settings.AWS_ACCESS_KEY_ID, 'AKIAEXAMPLE');
      assert.equal(py.settings.AWS_SECRET_ACCESS_KEY, 'se"cret\\x');
      assert.equal(settingsLocalLines(spec(a.provider), { accessKeyId: 'AKIAEXAMPLE' }), null);
      assert.equal(settingsLocalLines(spec(a.provider), {}), null);
    });
    it('the Azure account key; nothing for gcs or local', () => {
      const az: StorageAnswers = {
        provider: 'azure',
        account: 'acct',
        container: 'media',
        corsOrigins: [],
        publicRead: false,
      };
      const py = runPython(settingsLocalLines(spec(az.provider), { accountKey: 'a2V5Cg==' })!);
      assert.equal(py.settings.AZURE_ACCOUNT_KEY, 'a2V5Cg==');
      assert.equal(settingsLocalLines(spec('gcs'), { accessKeyId: 'x', secretAccessKey: 'y' }), null);
      assert.equal(settingsLocalLines(spec('local'), { accessKeyId: 'x', secretAccessKey: 'y' }), null);
    });
  });

  describe('gitignoreCovers', () => {
    const pkg = 'demo_heritage';
    const cases: ReadonlyArray<readonly [string, string | null, boolean]> = [
      ['no .gitignore', null, false],
      ['an empty .gitignore', '', false],
      ['pkg/settings_local.py', 'demo_heritage/settings_local.py\n', true],
      ['/pkg/settings_local.py', '/demo_heritage/settings_local.py\n', true],
      ['settings_local.py (any level)', '*.pyc\nsettings_local.py\n', true],
      ['**/settings_local.py', '**/settings_local.py\n', true],
      ['*/settings_local.py', '*/settings_local.py\n', true],
      ['settings_local* (any level)', 'settings_local*\n', true],
      ['CRLF lines', '*.pyc\r\ndemo_heritage/settings_local.py\r\n', true],
      ['trailing whitespace', 'demo_heritage/settings_local.py   \n', true],
      ['another package', 'other_pkg/settings_local.py\n', false],
      ['a commented-out line', '# demo_heritage/settings_local.py\n', false],
      ['a comment mentioning it', '#settings_local.py\n', false],
      ['negated afterwards', 'settings_local.py\n!demo_heritage/settings_local.py\n', false],
      [
        'negated, then ignored again',
        '!demo_heritage/settings_local.py\ndemo_heritage/settings_local.py\n',
        true,
      ],
      ['a different file', 'demo_heritage/settings.py\ndemo_heritage/settings_local.py.bak\n', false],
      // A leading slash anchors the pattern at the root: /settings_local.py is the root's file only.
      ['/settings_local.py (root only)', '/settings_local.py\n', false],
    ];
    for (const [name, content, expected] of cases) {
      it(`${name} → ${expected}`, () => {
        assert.equal(gitignoreCovers(content, pkg), expected);
      });
    }
    it('every fixture .gitignore covers it; without the line it does not', () => {
      for (const f of FIXTURES) {
        assert.equal(gitignoreCovers(projectFiles(f.id).get('.gitignore')!, pkg), true, f.id);
        assert.equal(
          gitignoreCovers(projectFiles(f.id, { gitignoreSettingsLocal: false }).get('.gitignore')!, pkg),
          false,
          f.id,
        );
      }
    });
  });

  it(`${PYTHON} is there (the Python checks above need it)`, () => {
    assert.ok(existsSync(PYTHON));
  });
});
