import assert from 'node:assert/strict';
import {
  assertComplete,
  explicitValues,
  fillDefaults,
  missingRequired,
  partialAnswers,
  rememberable,
  storedSecretNames,
  toAnswers,
  validationErrors,
  type Resolved,
} from '../../lib/answers.js';
import { BEGIN, END } from '../../lib/blocks.js';
import type { ProjectFiles } from '../../lib/detect.js';
import { coerce, fromEnvironment, type OptionValue } from '../../lib/options.js';
import { UserError, type ProviderId } from '../../lib/types.js';
import {
  allOptions,
  optionsFor,
  PROVIDER_IDS as PROVIDERS,
  providerById,
} from '../../generators/registry.js';

const OPTIONS = allOptions();

const PKG = 'demo_heritage';
const R2_ACCOUNT = '0123456789abcdef0123456789abcdef';

const decl = (name: string) => {
  const o = OPTIONS.find((x) => x.name === name);
  assert.ok(o, `no option ${name}`);
  return o;
};

/** The no-prompt path: explicit values, then remembered answers and fallbacks. */
function resolve(
  provider: ProviderId,
  cli: Record<string, unknown> = {},
  env: NodeJS.ProcessEnv = {},
  remembered: Record<string, unknown> = {},
): Resolved {
  const decls = optionsFor(provider);
  return fillDefaults(decls, explicitValues(decls, cli, env), remembered, provider, PKG);
}

const missingNames = (provider: ProviderId, values: Record<string, OptionValue> = {}): string[] => {
  const r = resolve(provider, values);
  return missingRequired(optionsFor(provider), r, provider, PKG).map((o) => o.name);
};

function completeError(provider: ProviderId, cli: Record<string, unknown>): UserError {
  const decls = optionsFor(provider);
  const r = resolve(provider, cli);
  let caught: unknown;
  try {
    assertComplete(decls, r, providerById(provider), PKG);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof UserError, `expected a UserError, got ${String(caught)}`);
  return caught;
}

const AWS_OK = { bucket: 'demo-media', region: 'eu-west-2', 'cors-origin': 'https://arches.example.org' };

describe('core/answers and core/options', () => {
  describe('explicitValues: CLI over environment', () => {
    const decls = optionsFor('aws');
    it('a kebab-case CLI option wins over the environment', () => {
      const r = explicitValues(
        decls,
        { bucket: 'cli-bucket', 'iam-user': 'cli-user' },
        {
          ARCHES_STORAGE_BUCKET: 'env-bucket',
          ARCHES_STORAGE_IAM_USER: 'env-user',
          ARCHES_STORAGE_REGION: 'eu-west-1',
        },
      );
      assert.deepEqual(r.values, { bucket: 'cli-bucket', iamUser: 'cli-user', region: 'eu-west-1' });
      assert.deepEqual(r.sources, { bucket: 'option', iamUser: 'option', region: 'environment' });
    });
    it('a camelCase CLI option (as Yeoman adds them) wins over the environment', () => {
      const r = explicitValues(
        decls,
        { iamUser: 'camel-user', corsOrigin: ['https://a.example.org'] },
        {
          ARCHES_STORAGE_IAM_USER: 'env-user',
          ARCHES_STORAGE_CORS_ORIGINS: 'https://env.example.org',
        },
      );
      assert.equal(r.values.iamUser, 'camel-user');
      assert.deepEqual(r.values.corsOrigins, ['https://a.example.org']);
      assert.equal(r.sources.corsOrigins, 'option');
    });
    it('kebab-case wins over camelCase when both are there', () => {
      const r = explicitValues(decls, { 'iam-user': 'kebab', iamUser: 'camel' }, {});
      assert.equal(r.values.iamUser, 'kebab');
    });
    it('a CLI false beats an environment true', () => {
      const r = explicitValues(decls, { 'public-read': false }, { ARCHES_STORAGE_PUBLIC_READ: 'true' });
      assert.equal(r.values.publicRead, false);
      assert.equal(r.sources.publicRead, 'option');
    });
    it('empty CLI strings and empty variables count as not given', () => {
      const r = explicitValues(
        decls,
        { bucket: '' },
        { ARCHES_STORAGE_BUCKET: '', ARCHES_STORAGE_REGION: '' },
      );
      assert.deepEqual(r.values, {});
    });
    it('a repeated string option keeps the last occurrence; a list keeps all', () => {
      const r = explicitValues(
        decls,
        { bucket: ['first-b', 'last-b'], 'cors-origin': ['https://a.org', 'https://b.org,https://c.org'] },
        {},
      );
      assert.equal(r.values.bucket, 'last-b');
      assert.deepEqual(r.values.corsOrigins, ['https://a.org', 'https://b.org', 'https://c.org']);
    });
    it('options of another provider are not read', () => {
      const r = explicitValues(
        optionsFor('gcs'),
        { region: 'eu-west-2', account: 'x' },
        { ARCHES_STORAGE_CONTAINER: 'c' },
      );
      assert.deepEqual(r.values, {});
    });
  });

  describe('environment parsing', () => {
    const bool = decl('public-read');
    for (const t of ['1', 'true', 'TRUE', 'True', 'yes', 'on', 'ON']) {
      it(`ARCHES_STORAGE_PUBLIC_READ=${t} → true`, () => {
        assert.equal(fromEnvironment(bool, { ARCHES_STORAGE_PUBLIC_READ: t }), true);
      });
    }
    for (const f of ['0', 'false', 'no', 'off', 'nope']) {
      it(`ARCHES_STORAGE_PUBLIC_READ=${f} → false`, () => {
        assert.equal(fromEnvironment(bool, { ARCHES_STORAGE_PUBLIC_READ: f }), false);
      });
    }
    it('unset or empty → not given', () => {
      assert.equal(fromEnvironment(bool, {}), undefined);
      assert.equal(fromEnvironment(bool, { ARCHES_STORAGE_PUBLIC_READ: '' }), undefined);
    });
    it('lists: comma-separated, trimmed, empty entries and duplicates dropped', () => {
      assert.deepEqual(
        fromEnvironment(decl('cors-origin'), {
          ARCHES_STORAGE_CORS_ORIGINS:
            ' https://a.example.org , https://b.example.org,,https://a.example.org ',
        }),
        ['https://a.example.org', 'https://b.example.org'],
      );
    });
    it('strings are taken as they are; options without a variable ignore the environment', () => {
      assert.equal(fromEnvironment(decl('bucket'), { ARCHES_STORAGE_BUCKET: 'my-bucket' }), 'my-bucket');
      assert.equal(fromEnvironment(decl('dry-run'), { ARCHES_STORAGE_DRY_RUN: 'true' }), undefined);
    });
    it('coerce: CLI strings for booleans', () => {
      assert.equal(coerce(bool, 'false'), false);
      assert.equal(coerce(bool, 'yes'), true);
      assert.equal(coerce(bool, true), true);
      assert.equal(coerce(bool, undefined), undefined);
      assert.equal(coerce(bool, null), undefined);
    });
    it('coerce: a repeated string option keeps the last; a list keeps every one; an object shows as its JSON', () => {
      assert.equal(coerce(decl('bucket'), ['first', 'last']), 'last');
      assert.equal(coerce(decl('bucket'), 7), '7');
      assert.deepEqual(coerce(decl('cors-origin'), ['https://a.example.org', 'https://b.example.org']), [
        'https://a.example.org',
        'https://b.example.org',
      ]);
      // A hand-edited .yo-rc.json: the value the bucket check then rejects is named as it is on disk.
      assert.equal(coerce(decl('bucket'), { name: 'b' }), '{"name":"b"}');
      assert.deepEqual(coerce(decl('cors-origin'), [{ o: 1 }]), ['{"o":1}']);
      assert.equal(coerce(decl('bucket'), []), undefined);
    });
  });

  describe('fillDefaults: remembered, then fallback, never a suggestion', () => {
    it('aws with nothing given: only real fallbacks', () => {
      const r = resolve('aws');
      assert.equal(r.values.bucket, undefined, 'the bucket suggestion must not be used without a prompt');
      assert.equal(r.values.region, undefined, 'the region suggestion must not be used without a prompt');
      assert.equal(r.values.corsOrigins, undefined, 'the CORS suggestion must not be used without a prompt');
      assert.equal(r.values.iamUser, 'arches-demo-heritage-media');
      assert.equal(r.sources.iamUser, 'default');
      assert.equal(r.values.publicRead, false);
      assert.equal(r.values.provision, true);
      assert.equal(r.values.dryRun, false);
    });
    it('remembered answers fill the gaps, but never secrets or run flags', () => {
      const r = resolve(
        'aws',
        {},
        {},
        {
          bucket: 'remembered-bucket',
          region: 'eu-west-1',
          corsOrigins: ['https://old.example.org'],
          publicRead: true,
          accessKeyId: 'AKIAREMEMBERED',
          secretAccessKey: 'remembered-secret',
          provision: false,
          dryRun: true,
        },
      );
      assert.equal(r.values.bucket, 'remembered-bucket');
      assert.equal(r.sources.bucket, 'remembered');
      assert.equal(r.values.region, 'eu-west-1');
      assert.deepEqual(r.values.corsOrigins, ['https://old.example.org']);
      assert.equal(r.values.publicRead, true);
      assert.equal(r.values.accessKeyId, undefined);
      assert.equal(r.values.secretAccessKey, undefined);
      assert.equal(r.values.provision, true);
      assert.equal(r.values.dryRun, false);
    });
    it('CLI over environment over remembered over fallback', () => {
      const r = resolve(
        'aws',
        { bucket: 'cli-bucket' },
        { ARCHES_STORAGE_BUCKET: 'env-bucket', ARCHES_STORAGE_REGION: 'eu-central-1' },
        {
          bucket: 'old-bucket',
          region: 'us-west-2',
          iamUser: 'remembered-user',
          corsOrigins: ['https://old.example.org'],
        },
      );
      assert.equal(r.values.bucket, 'cli-bucket');
      assert.equal(r.sources.bucket, 'option');
      assert.equal(r.values.region, 'eu-central-1');
      assert.equal(r.sources.region, 'environment');
      assert.equal(r.values.iamUser, 'remembered-user');
      assert.equal(r.sources.iamUser, 'remembered');
    });
    it('s3-compatible: region falls back per preset only where the region does not pick the endpoint', () => {
      assert.equal(resolve('s3-compatible', { service: 'minio' }).values.region, 'us-east-1');
      assert.equal(resolve('s3-compatible', { service: 'r2' }).values.region, 'auto');
      assert.equal(resolve('s3-compatible', { service: 'digitalocean' }).values.region, undefined);
      assert.equal(resolve('s3-compatible', { service: 'backblaze' }).values.region, undefined);
      assert.equal(resolve('s3-compatible', { endpoint: 'https://s3.example.org' }).values.service, 'other');
      assert.equal(resolve('s3-compatible').values.service, undefined);
    });
    it('azure: the container falls back to media', () => {
      const r = resolve('azure');
      assert.equal(r.values.container, 'media');
      assert.equal(r.sources.container, 'default');
    });
  });

  describe('missingRequired per provider', () => {
    const table: ReadonlyArray<readonly [string, ProviderId, Record<string, OptionValue>, string[]]> = [
      ['aws', 'aws', {}, ['bucket', 'region', 'cors-origin']],
      ['aws, complete', 'aws', AWS_OK, []],
      ['gcs', 'gcs', {}, ['bucket', 'cors-origin']],
      ['azure (container defaults to media)', 'azure', {}, ['account', 'cors-origin']],
      ['s3-compatible without a service', 's3-compatible', {}, ['bucket', 'service', 'cors-origin']],
      [
        's3-compatible minio needs an endpoint',
        's3-compatible',
        { service: 'minio' },
        ['bucket', 'endpoint', 'cors-origin'],
      ],
      [
        's3-compatible other needs an endpoint',
        's3-compatible',
        { service: 'other' },
        ['bucket', 'endpoint', 'cors-origin'],
      ],
      [
        'digitalocean needs a region, not an endpoint',
        's3-compatible',
        { service: 'digitalocean' },
        ['bucket', 'region', 'cors-origin'],
      ],
      ['wasabi needs a region', 's3-compatible', { service: 'wasabi' }, ['bucket', 'region', 'cors-origin']],
      [
        'backblaze needs a region',
        's3-compatible',
        { service: 'backblaze' },
        ['bucket', 'region', 'cors-origin'],
      ],
      [
        'r2 without account: the endpoint',
        's3-compatible',
        { service: 'r2' },
        ['bucket', 'endpoint', 'cors-origin'],
      ],
      [
        'r2 with an account',
        's3-compatible',
        { service: 'r2', account: R2_ACCOUNT },
        ['bucket', 'cors-origin'],
      ],
      [
        'r2 with an endpoint',
        's3-compatible',
        { service: 'r2', endpoint: `https://${R2_ACCOUNT}.r2.cloudflarestorage.com` },
        ['bucket', 'cors-origin'],
      ],
      ['local', 'local', {}, []],
    ];
    for (const [name, provider, values, expected] of table) {
      it(`${name}: ${expected.join(', ') || 'nothing'}`, () => {
        assert.deepEqual(missingNames(provider, values), expected);
      });
    }
  });

  describe('assertComplete', () => {
    it('names EVERY missing option in one message, with its variable, and exits 2', () => {
      const e = completeError('aws', {});
      assert.equal(e.exitCode, 2);
      for (const part of [
        '--bucket (or ARCHES_STORAGE_BUCKET)',
        '--region (or ARCHES_STORAGE_REGION)',
        '--cors-origin (or ARCHES_STORAGE_CORS_ORIGINS)',
      ]) {
        assert.ok(e.message.includes(part), `message lacks ${part}:\n${e.message}`);
      }
      assert.match(e.message, /Nothing was written/);
      assert.equal(e.subject, 'bucket');
    });
    it('missing and invalid options together, in one message', () => {
      const e = completeError('aws', { bucket: 'my_app-media' });
      assert.equal(e.exitCode, 2);
      assert.match(e.message, /--region/);
      assert.match(e.message, /--cors-origin/);
      assert.match(e.message, /--bucket: .*my_app-media/);
    });
    it('azure and s3-compatible minio', () => {
      const az = completeError('azure', {});
      assert.match(az.message, /--account/);
      assert.match(az.message, /--cors-origin/);
      assert.doesNotMatch(az.message, /--container/);
      const minio = completeError('s3-compatible', { service: 'minio', bucket: 'media' });
      assert.match(minio.message, /--endpoint/);
      assert.match(minio.message, /--cors-origin/);
      assert.doesNotMatch(minio.message, /--bucket/);
    });
    it('passes when complete, for every provider', () => {
      const complete: Record<ProviderId, Record<string, unknown>> = {
        aws: AWS_OK,
        's3-compatible': {
          service: 'minio',
          endpoint: 'http://localhost:9000',
          bucket: 'media',
          'cors-origin': 'http://localhost:8000',
        },
        gcs: { bucket: 'demo_media', 'cors-origin': 'https://arches.example.org' },
        azure: { account: 'demoheritage', 'cors-origin': 'https://arches.example.org' },
        local: {},
      };
      for (const p of PROVIDERS)
        assert.doesNotThrow(
          () => assertComplete(optionsFor(p), resolve(p, complete[p]), providerById(p), PKG),
          p,
        );
    });
  });

  describe('validation names the option', () => {
    const table: ReadonlyArray<readonly [ProviderId, Record<string, unknown>, RegExp]> = [
      ['aws', { ...AWS_OK, bucket: 'my_app-media' }, /^--bucket: .*"my_app-media"/],
      ['aws', { ...AWS_OK, bucket: 'ab' }, /^--bucket: /],
      ['aws', { ...AWS_OK, region: 'EU-WEST-2' }, /^--region: /],
      ['aws', { ...AWS_OK, region: 'eu-west-2a' }, /^--region: /],
      ['aws', { ...AWS_OK, 'cors-origin': 'arches.example.org' }, /^--cors-origin: /],
      ['aws', { ...AWS_OK, 'cors-origin': 'https://arches.example.org/' }, /^--cors-origin: /],
      ['aws', { ...AWS_OK, 'iam-user': 'bad user!' }, /^--iam-user: /],
      ['gcs', { bucket: 'Demo-Media', 'cors-origin': 'https://a.example.org' }, /^--bucket: /],
      ['azure', { account: 'My_Account', 'cors-origin': 'https://a.example.org' }, /^--account: /],
      [
        'azure',
        { account: 'demoheritage', container: 'Media', 'cors-origin': 'https://a.example.org' },
        /^--container: /,
      ],
      [
        's3-compatible',
        {
          service: 'ceph',
          endpoint: 'https://s3.example.org',
          bucket: 'media',
          'cors-origin': 'https://a.example.org',
        },
        /^--service: /,
      ],
      [
        's3-compatible',
        {
          service: 'minio',
          endpoint: 'localhost:9000',
          bucket: 'media',
          'cors-origin': 'https://a.example.org',
        },
        /^--endpoint: /,
      ],
      [
        's3-compatible',
        { service: 'r2', account: 'not-hex', bucket: 'media', 'cors-origin': 'https://a.example.org' },
        /^--account: /,
      ],
      [
        's3-compatible',
        {
          service: 'digitalocean',
          region: 'us-east-1',
          bucket: 'media',
          'cors-origin': 'https://a.example.org',
        },
        /^--region: /,
      ],
    ];
    for (const [provider, cli, pattern] of table) {
      it(`${provider} ${JSON.stringify(cli)} → ${pattern}`, () => {
        const r = resolve(provider, cli);
        const errors = validationErrors(optionsFor(provider), r, providerById(provider), PKG);
        assert.ok(
          errors.some((e) => pattern.test(e)),
          `no error matching ${pattern} in ${JSON.stringify(errors)}`,
        );
      });
    }
    it('GCS accepts an underscore that S3 refuses', () => {
      const gcs = resolve('gcs', { bucket: 'my_app-media', 'cors-origin': 'https://a.example.org' });
      assert.deepEqual(validationErrors(optionsFor('gcs'), gcs, providerById('gcs'), PKG), []);
    });
    it('an access key id without its secret (and the reverse) is refused', () => {
      for (const pair of [{ 'access-key-id': 'AKIAEXAMPLE' }, { 'secret-access-key': 'shh' }]) {
        const r = resolve('aws', { ...AWS_OK, ...pair });
        const errors = validationErrors(optionsFor('aws'), r, providerById('aws'), PKG);
        assert.ok(
          errors.some((e) => e.includes('--access-key-id') && e.includes('--secret-access-key')),
          JSON.stringify(errors),
        );
      }
      const both = resolve('aws', { ...AWS_OK, 'access-key-id': 'AKIAEXAMPLE', 'secret-access-key': 'shh' });
      assert.deepEqual(validationErrors(optionsFor('aws'), both, providerById('aws'), PKG), []);
    });
    it('the r2 preset without account or endpoint is refused', () => {
      const r = resolve('s3-compatible', {
        service: 'r2',
        bucket: 'media',
        'cors-origin': 'https://a.example.org',
      });
      assert.ok(
        validationErrors(optionsFor('s3-compatible'), r, providerById('s3-compatible'), PKG).some((e) =>
          /--service r2.*--account/.test(e),
        ),
      );
    });
  });

  describe('secrets', () => {
    const SECRETS = {
      'access-key-id': 'AKIASECRETID',
      'secret-access-key': 'top/secret+key',
      'account-key': 'YXp1cmUta2V5',
    };
    it('are never rememberable, for any provider', () => {
      for (const p of [...PROVIDERS, 'app'] as const) {
        const decls = optionsFor(p);
        const values = explicitValues(decls, { ...AWS_OK, ...SECRETS, provider: 'aws' }, {}).values;
        const kept = rememberable(decls, values);
        const text = JSON.stringify(kept);
        for (const s of Object.values(SECRETS))
          assert.ok(!text.includes(s), `${p} would remember a secret: ${text}`);
        assert.equal(kept.accessKeyId, undefined);
        assert.equal(kept.secretAccessKey, undefined);
        assert.equal(kept.accountKey, undefined);
      }
    });
    it('the answers are remembered; run flags are not', () => {
      const decls = optionsFor('aws');
      const r = resolve('aws', { ...AWS_OK, 'dry-run': true, project: '/tmp/x', 'skip-prompts': true });
      const kept = rememberable(decls, r.values);
      assert.deepEqual(Object.keys(kept).sort(), [
        'bucket',
        'corsOrigins',
        'iamUser',
        'publicRead',
        'region',
      ]);
    });
    it('every secret option is declared without persistence, with a variable', () => {
      const secret = OPTIONS.filter((o) => o.secret);
      assert.deepEqual(secret.map((o) => o.name).sort(), [
        'access-key-id',
        'account-key',
        'secret-access-key',
      ]);
      for (const o of secret) assert.equal(o.persist, false, o.name);
    });
    it('toAnswers keeps secrets apart from the answers', () => {
      const r = resolve('aws', { ...AWS_OK, ...SECRETS });
      const { answers, secrets, flags } = toAnswers('aws', r.values);
      assert.equal(JSON.stringify(answers).includes('AKIASECRETID'), false);
      assert.equal(JSON.stringify(answers).includes('top/secret+key'), false);
      assert.deepEqual(secrets, {
        accessKeyId: 'AKIASECRETID',
        secretAccessKey: 'top/secret+key',
        accountKey: undefined,
      });
      assert.deepEqual(answers, {
        provider: 'aws',
        bucket: 'demo-media',
        region: 'eu-west-2',
        corsOrigins: ['https://arches.example.org'],
        iamUser: 'arches-demo-heritage-media',
        publicRead: false,
      });
      assert.equal(flags.provision, true);
      assert.equal(flags.dryRun, false);
    });
  });
  describe('questions for secrets', () => {
    const files = (entries: Record<string, string>): ProjectFiles => ({
      read: (rel) => entries[rel] ?? null,
      dirs: () => [],
    });
    const block = (...lines: string[]): string => ['# mine', BEGIN, ...lines, END, ''].join('\n');
    const LOCAL = `${PKG}/settings_local.py`;

    it('storedSecretNames names the secrets kept in the managed block, never elsewhere, never empty ones', () => {
      const local = block(
        'AWS_ACCESS_KEY_ID = "AKIAKEPT"',
        'AWS_SECRET_ACCESS_KEY = "kept/secret"',
        'AZURE_ACCOUNT_KEY = ""',
      );
      assert.deepEqual(storedSecretNames(files({ [LOCAL]: local }), PKG), [
        'AWS_ACCESS_KEY_ID',
        'AWS_SECRET_ACCESS_KEY',
      ]);
      // Outside our block the user's own lines are not ours to read back.
      assert.deepEqual(storedSecretNames(files({ [LOCAL]: 'AWS_SECRET_ACCESS_KEY = "theirs"\n' }), PKG), []);
      assert.deepEqual(storedSecretNames(files({}), PKG), []);
      // With a secrets file, that file is where the run reads the keys back (dotenv lines).
      const env = block('AWS_ACCESS_KEY_ID=AKIAKEPT', 'AWS_SECRET_ACCESS_KEY=kept');
      assert.deepEqual(
        storedSecretNames(files({ [LOCAL]: local, '.env.storage': env }), PKG, '.env.storage'),
        ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'],
      );
      assert.deepEqual(storedSecretNames(files({ [LOCAL]: local }), PKG, '.env.storage'), []);
    });

    it('partialAnswers says which secrets are given, never their values, and carries the run flags', () => {
      const a = partialAnswers(
        's3-compatible',
        { accessKeyId: 'AKIAGIVEN', provision: false, useOperatorKey: true },
        PKG,
        [],
        ['AZURE_ACCOUNT_KEY'],
      );
      assert.deepEqual(a.secretsGiven, ['accessKeyId']);
      assert.deepEqual(a.secretsStored, ['AZURE_ACCOUNT_KEY']);
      assert.equal(a.provision, false);
      assert.equal(a.useOperatorKey, true);
      assert.ok(!JSON.stringify(a).includes('AKIAGIVEN'));
    });

    it('secrets are masked questions; a key id is asked in the open', () => {
      const asked = PROVIDERS.flatMap((p) => optionsFor(p)).filter((o) => o.secret && o.question);
      assert.deepEqual(asked.map((o) => o.name).sort(), [
        'access-key-id',
        'account-key',
        'secret-access-key',
      ]);
      const s3c = optionsFor('s3-compatible');
      const masked = (name: string): boolean => {
        const o = s3c.find((x) => x.name === name) ?? optionsFor('azure').find((x) => x.name === name)!;
        return o.masked ?? o.secret ?? false;
      };
      assert.equal(masked('access-key-id'), false);
      assert.equal(masked('secret-access-key'), true);
      assert.equal(masked('account-key'), true);
      // AWS creates its app key: it asks none.
      assert.ok(!optionsFor('aws').some((o) => o.secret && o.question));
    });

    it('S3-compatible asks the app key only when provisioning needs one and none is given or kept', () => {
      const s3c = optionsFor('s3-compatible');
      const id = s3c.find((o) => o.key === 'accessKeyId')!;
      const secret = s3c.find((o) => o.key === 'secretAccessKey')!;
      const kept = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'];
      assert.equal(id.when!({}), true);
      assert.equal(id.when!({ provision: true }), true);
      assert.equal(id.when!({ provision: false }), false);
      assert.equal(id.when!({ destroy: true }), false);
      assert.equal(id.when!({ useOperatorKey: true }), false);
      assert.equal(id.when!({ secretsStored: kept }), false);
      assert.equal(id.when!({ secretsStored: ['AWS_ACCESS_KEY_ID'] }), true, 'half a kept key is no key');
      // The secret follows a key id (an empty key id leaves the run to say what else can sign in).
      assert.equal(secret.when!({}), false);
      assert.equal(secret.when!({ secretsGiven: ['accessKeyId'] }), true);
      assert.equal(secret.when!({ secretsGiven: ['accessKeyId'], secretsStored: kept }), false);
    });

    it('Azure asks the account key while the project keeps none', () => {
      const key = optionsFor('azure').find((o) => o.key === 'accountKey')!;
      assert.equal(key.when!({}), true);
      assert.equal(key.when!({ secretsStored: ['AZURE_ACCOUNT_KEY'] }), false);
    });
  });
});
