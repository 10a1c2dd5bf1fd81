/**
 * `yo arches-storage:migrate` / `arches-storage migrate`: finds the two storages (the source from --from or
 * the `previous` .yo-rc.json records, else local files; the destination the current provider), where local
 * files are, and which credentials reach each side, then hands them to lib/migrate.ts.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type Generator from 'yeoman-generator';
import { secretBlockValues } from '../../lib/answers.js';
import { formatResult, migrate, type MigrateResult } from '../../lib/migrate.js';
import type { OptionValue } from '../../lib/options.js';
import { packagePath } from '../../lib/paths.js';
import { pythonCandidates } from '../../lib/pysettings.js';
import { LocalStore } from '../../lib/storage/local.js';
import { S3Store, type S3StoreConfig } from '../../lib/storage/s3.js';
import type { ObjectStore } from '../../lib/storage/types.js';
import { UserError } from '../../lib/types.js';
import { CommandGenerator } from '../base/command-generator.js';
import { resolveEndpoint, S3_SERVICE_PRESETS, serviceOf } from '../s3-compatible/services.js';
import command, { MIGRATE_SOURCES } from './command.js';

export const MEDIA_ROOT_SCRIPT = packagePath('python', 'media_root.py');

type Values = Record<string, OptionValue>;
const text = (v: OptionValue | undefined): string | undefined => (typeof v === 'string' && v ? v : undefined);

/** The values of our secrets block in a file (settings_local.py or the dotenv file); none if it is unreadable. */
function blockValues(file: string): Record<string, string> {
  let content: string;
  try {
    content = readFileSync(file, 'latin1');
  } catch {
    return {};
  }
  return secretBlockValues(file, content);
}

export default class MigrateGenerator extends CommandGenerator {
  protected readonly mutates = true;
  private notes: string[] = [];

  constructor(args: string[], options: Generator['options']) {
    super(args, options, command);
  }

  private _fail(message: string, subject: string): never {
    throw new UserError(message, subject, 2);
  }

  /** Where the local files are: --media-root, else MEDIA_ROOT through the project's Python, else <pkg>/. */
  private _mediaRoot(): string {
    const root = this.destinationRoot();
    const given = text(this.values.mediaRoot);
    if (given) {
      this.notes.push(`local files: ${path.resolve(root, given)} (--media-root)`);
      return path.resolve(root, given);
    }
    const python = pythonCandidates(root, { python: text(this.values.python) }).find((c) => c.project);
    const fallback = path.join(root, this.project.pkg);
    if (!python) {
      this.notes.push(
        `local files: ${fallback} (Arches' default MEDIA_ROOT; no project Python found — --python or --media-root to say otherwise)`,
      );
      return fallback;
    }
    const r = spawnSync(python.path, [MEDIA_ROOT_SCRIPT, root, this.project.pkg], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONIOENCODING: 'utf-8' },
    });
    try {
      if (r.status === 0) {
        const answer = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as { MEDIA_ROOT: string };
        this.notes.push(`local files: ${answer.MEDIA_ROOT} (MEDIA_ROOT from the settings, ${python.path})`);
        return answer.MEDIA_ROOT;
      }
    } catch {
      // fall through: reported below
    }
    const why = (r.error?.message ?? r.stderr.trim().split('\n').at(-1)) || `exit ${r.status}`;
    this._fail(
      `${python.path} could not import ${this.project.pkg}.settings to find MEDIA_ROOT (${why}); pass --media-root DIR or --python. Nothing was copied.`,
      'media-root',
    );
  }

  /** The app's key (settings_local.py block, the secrets file, the environment), else the SDK chain. */
  private _credentials(isCurrent: boolean, secretsFile: string | undefined): S3StoreConfig['credentials'] {
    const root = this.destinationRoot();
    const tried: Array<[string, string]> = isCurrent
      ? [
          ...(secretsFile ? [[path.resolve(root, secretsFile), secretsFile] as [string, string]] : []),
          [path.join(root, this.project.pkg, 'settings_local.py'), `${this.project.pkg}/settings_local.py`],
        ]
      : [];
    for (const [abs, shown] of tried) {
      const v = blockValues(abs);
      if (v.AWS_ACCESS_KEY_ID && v.AWS_SECRET_ACCESS_KEY) {
        this.notes.push(`credentials: the app's key from ${shown}`);
        return { accessKeyId: v.AWS_ACCESS_KEY_ID, secretAccessKey: v.AWS_SECRET_ACCESS_KEY };
      }
    }
    const env = process.env;
    if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
      this.notes.push('credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY from the environment');
      return {
        accessKeyId: env.AWS_ACCESS_KEY_ID,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
        ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
      };
    }
    this.notes.push(
      `credentials: the operator's (the AWS SDK's default chain${env.AWS_PROFILE ? `, profile ${env.AWS_PROFILE}` : ''})`,
    );
    return undefined;
  }

  private async _store(id: string, isCurrent: boolean, side: string): Promise<ObjectStore> {
    if (id === 'local') return new LocalStore(this._mediaRoot());
    if (id === 'gcs' || id === 'azure')
      throw new UserError(
        `migrate ${side} ${id}: not yet — copying to and from ${id === 'gcs' ? 'Google Cloud Storage' : 'Azure Blob'} comes with its provisioning. Nothing was copied.`,
        'from',
        2,
      );
    const values: Values = this.stored().providers?.[id] ?? {};
    const bucket = text(values.bucket);
    if (!bucket)
      this._fail(
        `migrate ${side} ${id}: .yo-rc.json records no bucket for ${id}; run \`arches-storage ${id}\` first. Nothing was copied.`,
        'from',
      );
    const prefix = `${side} ${id}: `;
    const secretsFile = text(values.secretsFile);
    if (id === 'aws') {
      this.notes.push(`${prefix}s3://${bucket}`);
      return S3Store.open({
        bucket,
        region: text(values.region),
        credentials: this._credentials(isCurrent, secretsFile),
      });
    }
    const service = serviceOf(values.service);
    const preset = service ? S3_SERVICE_PRESETS[service] : undefined;
    const endpoint = resolveEndpoint({
      endpoint: text(values.endpoint),
      service: text(values.service),
      region: text(values.region),
      account: text(values.account),
    });
    if (!endpoint)
      this._fail(`migrate ${side} ${id}: .yo-rc.json records no endpoint. Nothing was copied.`, 'from');
    this.notes.push(`${prefix}s3://${bucket} at ${endpoint}`);
    return S3Store.open({
      bucket,
      endpoint,
      region: text(values.region) ?? preset?.defaultRegion,
      pathStyle: preset?.pathStyle ?? true,
      credentials: this._credentials(isCurrent, secretsFile),
    });
  }

  async default(): Promise<void> {
    const stored = this.stored();
    const to = stored.provider;
    if (!to || to === 'app')
      this._fail(
        'No storage is configured here yet: run `arches-storage <provider>` first, then migrate.',
        'provider',
      );
    const from = text(this.values.from) ?? stored.previous ?? 'local';
    if (!(MIGRATE_SOURCES as readonly string[]).includes(from))
      this._fail(`--from must be one of ${MIGRATE_SOURCES.join(', ')}`, 'from');
    if (from === to && to === 'local')
      this._fail(
        'The current storage is local files and so is the source: nothing to migrate (--from names the source).',
        'from',
      );
    const concurrency = Number(this.values.concurrency ?? '4');
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 999)
      this._fail('--concurrency must be a whole number from 1 to 999', 'concurrency');
    const source = await this._store(from, from === to, 'from');
    const destination = await this._store(to, true, 'to');
    if (source.description === destination.description)
      this._fail(
        `The source and the destination are the same (${source.description}). Nothing was copied.`,
        'from',
      );
    let result: MigrateResult;
    try {
      result = await migrate({
        source,
        destination,
        journal: path.join(this.destinationRoot(), '.arches-storage', 'migrate.json'),
        dryRun: this.values.dryRun === true,
        overwrite: this.values.overwrite === true,
        verifyExisting: this.values.verifyExisting === true,
        concurrency,
        progress: {
          stream: process.stderr,
          color: process.stderr.isTTY === true && !process.env.NO_COLOR,
        },
      });
    } catch (error) {
      if (error instanceof UserError) throw error;
      throw new UserError(
        `migrate from ${source.description} to ${destination.description} failed: ${error instanceof Error ? error.message : String(error)}`,
        'migrate',
        1,
      );
    } finally {
      source.close();
      destination.close();
    }
    const doc = { ...result, from, to, source: result.from, destination: result.to, notes: this.notes };
    const summary = this.notes.map((n) => `${n}\n`).join('') + formatResult(result);
    if (result.ok) {
      this.report(doc, summary);
      return;
    }
    if (this.values.json !== true) process.stdout.write(summary);
    throw new UserError(
      `${result.counts.total - result.counts.copied - result.counts.skipped} of ${result.counts.total} source files are not verified present at the destination.`,
      'migrate',
      1,
      { ...doc, ok: false },
    );
  }
}
