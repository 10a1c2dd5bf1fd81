/**
 * The two sides of a copy, opened from what a run knows of each storage: its id and its answers (remembered in
 * .yo-rc.json, or this run's), where the local files are, and which credentials reach it. Shared by
 * `arches-storage migrate` and a provider run that copies the files over as it switches (generators/base).
 * Every line it says about a side (which files, which bucket, whose credentials) goes into `notes`.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { secretBlockValues } from '../../lib/answers.js';
import { optionText as text, type OptionValue } from '../../lib/options.js';
import { packagePath } from '../../lib/paths.js';
import { pythonCandidates } from '../../lib/pysettings.js';
import { LocalStore } from '../../lib/storage/local.js';
import { awsSdkNodeNote, S3Store, type S3StoreConfig } from '../../lib/storage/s3.js';
import type { ObjectStore } from '../../lib/storage/types.js';
import { UserError } from '../../lib/types.js';
import { resolveEndpoint, S3_SERVICE_PRESETS, serviceOf } from '../s3-compatible/services.js';

export const MEDIA_ROOT_SCRIPT = packagePath('python', 'media_root.py');

/** The storages a copy can read and write today. */
export const COPYABLE = ['local', 'aws', 's3-compatible'] as const;

export type Credentials = NonNullable<S3StoreConfig['credentials']>;
type Values = Readonly<Record<string, OptionValue>>;

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

export interface StoreSide {
  /** The provider id: local, aws, s3-compatible (gcs and azure are refused as not yet copyable). */
  id: string;
  /** Its answers (bucket, region, endpoint, service, account, secretsFile). */
  values: Values;
  /** For messages: "from" or "to". */
  side: 'from' | 'to';
  /** The app's key for it, when the run knows it (given, or just created). */
  key?: Credentials;
  /** Whether the app's key for it is the one our secrets block holds now (the storage the project is on). */
  keyInBlock?: boolean;
}

export interface StoresContext {
  root: string;
  pkg: string;
  /** --python: the project's interpreter, to read MEDIA_ROOT with. */
  python?: string;
  /** --media-root: where the local files are (relative to the root). */
  mediaRoot?: string;
}

export class Stores {
  readonly notes: string[] = [];
  private media?: string;

  constructor(private readonly ctx: StoresContext) {}

  private fail(message: string, subject: string): never {
    throw new UserError(message, subject, 2);
  }

  /** Whether a provider's storage can be copied from or to (a refusal says why, else undefined). */
  static refusal(id: string, side: string): string | undefined {
    if ((COPYABLE as readonly string[]).includes(id)) return undefined;
    return `migrate ${side} ${id}: not yet — copying to and from ${id === 'gcs' ? 'Google Cloud Storage' : id === 'azure' ? 'Azure Blob' : id} comes with its provisioning. Nothing was copied.`;
  }

  /** Where the local files are: --media-root, else MEDIA_ROOT through the project's Python, else <pkg>/. */
  mediaRoot(): string {
    if (this.media !== undefined) return this.media;
    const { root, pkg } = this.ctx;
    const given = text(this.ctx.mediaRoot);
    if (given) {
      this.notes.push(`local files: ${path.resolve(root, given)} (--media-root)`);
      return (this.media = path.resolve(root, given));
    }
    const python = pythonCandidates(root, { python: this.ctx.python }).find((c) => c.project);
    const fallback = path.join(root, pkg);
    if (!python) {
      this.notes.push(
        `local files: ${fallback} (Arches' default MEDIA_ROOT; no project Python found — --python or --media-root to say otherwise)`,
      );
      return (this.media = fallback);
    }
    const r = spawnSync(python.path, [MEDIA_ROOT_SCRIPT, root, pkg], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONIOENCODING: 'utf-8' },
    });
    try {
      if (r.status === 0) {
        const answer = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as { MEDIA_ROOT: string };
        this.notes.push(`local files: ${answer.MEDIA_ROOT} (MEDIA_ROOT from the settings, ${python.path})`);
        return (this.media = answer.MEDIA_ROOT);
      }
    } catch {
      // fall through: reported below
    }
    const why = (r.error?.message ?? r.stderr.trim().split('\n').at(-1)) || `exit ${r.status}`;
    this.fail(
      `${python.path} could not import ${pkg}.settings to find MEDIA_ROOT (${why}); pass --media-root DIR or --python. Nothing was copied.`,
      'media-root',
    );
  }

  /** The app's key (given; our block in the secrets file or settings_local.py; the environment), else the SDK chain. */
  credentials(s: StoreSide): Credentials | undefined {
    const { root, pkg } = this.ctx;
    const who = `${s.side} ${s.id}: credentials`;
    if (s.key) {
      this.notes.push(`${who}: the app's key of this run`);
      return s.key;
    }
    const secretsFile = text(s.values.secretsFile);
    const tried: Array<[string, string]> = s.keyInBlock
      ? [
          ...(secretsFile ? [[path.resolve(root, secretsFile), secretsFile] as [string, string]] : []),
          [path.join(root, pkg, 'settings_local.py'), `${pkg}/settings_local.py`],
        ]
      : [];
    for (const [abs, shown] of tried) {
      const v = blockValues(abs);
      if (v.AWS_ACCESS_KEY_ID && v.AWS_SECRET_ACCESS_KEY) {
        this.notes.push(`${who}: the app's key from ${shown}`);
        return { accessKeyId: v.AWS_ACCESS_KEY_ID, secretAccessKey: v.AWS_SECRET_ACCESS_KEY };
      }
    }
    const env = process.env;
    if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
      this.notes.push(`${who}: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY from the environment`);
      return {
        accessKeyId: env.AWS_ACCESS_KEY_ID,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
        ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
      };
    }
    this.notes.push(
      `${who}: the operator's (the AWS SDK's default chain${env.AWS_PROFILE ? `, profile ${env.AWS_PROFILE}` : ''})`,
    );
    return undefined;
  }

  /**
   * Opens one side (no network call yet: the SDK is loaded, the credentials read now, so a switch that
   * rewrites our secrets block afterwards does not change them).
   */
  async open(s: StoreSide): Promise<ObjectStore> {
    const refusal = Stores.refusal(s.id, s.side);
    if (refusal) throw new UserError(refusal, 'from', 2);
    if (s.id === 'local') {
      return new LocalStore(this.mediaRoot());
    }
    const nodeNote = awsSdkNodeNote();
    if (nodeNote && !this.notes.includes(nodeNote)) this.notes.push(nodeNote);
    const bucket = text(s.values.bucket);
    if (!bucket)
      this.fail(
        `migrate ${s.side} ${s.id}: no bucket is recorded for ${s.id}; run \`arches-storage ${s.id}\` first. Nothing was copied.`,
        'from',
      );
    if (s.id === 'aws') {
      this.notes.push(`${s.side} aws: s3://${bucket}`);
      return S3Store.open({ bucket, region: text(s.values.region), credentials: this.credentials(s) });
    }
    const service = serviceOf(s.values.service);
    const preset = service ? S3_SERVICE_PRESETS[service] : undefined;
    const endpoint = resolveEndpoint({
      endpoint: text(s.values.endpoint),
      service: text(s.values.service),
      region: text(s.values.region),
      account: text(s.values.account),
    });
    if (!endpoint)
      this.fail(`migrate ${s.side} ${s.id}: no endpoint is recorded. Nothing was copied.`, 'from');
    this.notes.push(`${s.side} ${s.id}: s3://${bucket} at ${endpoint}`);
    return S3Store.open({
      bucket,
      endpoint,
      region: text(s.values.region) ?? preset?.defaultRegion,
      pathStyle: preset?.pathStyle ?? true,
      credentials: this.credentials(s),
    });
  }
}
