/**
 * Resolves the answers for a run from the option declarations: CLI options, then ARCHES_STORAGE_*
 * environment variables, then the answers remembered in .yo-rc.json, then the declared fallback. The
 * generator asks for what is still open when it may prompt; otherwise `missing` names what is needed.
 */
import { blockLines } from './blocks.js';
import type { ProjectFiles } from './detect.js';
import {
  coerce,
  fromEnvironment,
  type OptionDecl,
  type OptionValue,
  type PartialAnswers,
} from './options.js';
import type { StorageProvider } from './provider.js';
import { UserError, type ProviderId, type StorageAnswers, type StorageSecrets } from './types.js';

/** What the answer checks need of a provider beyond its option declarations. */
export type AnswerRules = Pick<StorageProvider, 'id' | 'validateAnswers' | 'missingHints'>;

export type Source = 'option' | 'environment' | 'remembered' | 'default' | 'prompt';

export interface Resolved {
  values: Record<string, OptionValue>;
  sources: Record<string, Source>;
}

/** What a run does besides the answers. */
export interface RunFlags {
  project?: string;
  archesVersion?: string;
  provision: boolean;
  dryRun: boolean;
  skipPrompts?: boolean;
}

export function cliValue(o: OptionDecl, cli: Record<string, unknown>): OptionValue | undefined {
  const camel = o.name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  return coerce(o, cli[o.name] ?? cli[camel]);
}

/** Values given explicitly: CLI options, then the environment. */
export function explicitValues(
  decls: readonly OptionDecl[],
  cli: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): Resolved {
  const r: Resolved = { values: {}, sources: {} };
  for (const o of decls) {
    const fromCli = cliValue(o, cli);
    const value = fromCli ?? fromEnvironment(o, env);
    if (value === undefined) continue;
    r.values[o.key] = value;
    r.sources[o.key] = fromCli !== undefined ? 'option' : 'environment';
  }
  return r;
}

/** The option keys of the secrets (StorageSecrets): PartialAnswers says which are given, never their values. */
const SECRET_KEYS = ['accessKeyId', 'secretAccessKey', 'accountKey'] as const;

export function partialAnswers(
  provider: ProviderId,
  values: Record<string, OptionValue>,
  pkg?: string,
  projectOrigins?: readonly string[],
  secretsStored?: readonly string[],
): PartialAnswers {
  const s = (k: string): string | undefined => (typeof values[k] === 'string' ? values[k] : undefined);
  const b = (k: string): boolean | undefined => (typeof values[k] === 'boolean' ? values[k] : undefined);
  return {
    provider,
    pkg,
    projectOrigins,
    provision: b('provision'),
    destroy: b('destroy'),
    useOperatorKey: b('useOperatorKey'),
    secretsGiven: SECRET_KEYS.filter((k) => s(k) !== undefined),
    secretsStored,
    bucket: s('bucket'),
    region: s('region'),
    endpoint: s('endpoint'),
    service: s('service'),
    account: s('account'),
    container: s('container'),
    iamUser: s('iamUser'),
    publicRead: values.publicRead === true,
    corsOrigins: Array.isArray(values.corsOrigins) ? values.corsOrigins : undefined,
  };
}

/**
 * The settings names (AWS_SECRET_ACCESS_KEY…) of the secrets the project already keeps for the app, where a
 * run reads them back: the managed block of the secrets file when there is one, of settings_local.py otherwise.
 * Names only: a question for a secret the project keeps need not be asked.
 */
export function storedSecretNames(files: ProjectFiles, pkg: string, secretsFile?: string): string[] {
  const file = secretsFile ?? `${pkg}/settings_local.py`;
  const text = files.read(file);
  return Object.keys(text === null ? {} : secretBlockValues(file, text));
}

/**
 * The values in our secrets block of a file's text: `NAME = "value"` in settings_local.py, `NAME=value` in the
 * dotenv file; an empty value keeps nothing. The one reader of what the overlay writes there.
 */
export function secretBlockValues(file: string, text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of blockLines(file, text) ?? []) {
    const m = /^([A-Z][A-Z0-9_]*)\s*=\s*"?([^"\s][^"]*)"?\s*$/.exec(l);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** Fills in remembered answers and fallbacks (the no-prompt path; prompts use them as defaults instead). */
export function fillDefaults(
  decls: readonly OptionDecl[],
  resolved: Resolved,
  remembered: Record<string, unknown>,
  provider: ProviderId,
  pkg?: string,
  projectOrigins?: readonly string[],
): Resolved {
  const out: Resolved = { values: { ...resolved.values }, sources: { ...resolved.sources } };
  for (const o of decls) {
    if (out.values[o.key] !== undefined || o.secret) continue;
    const stored = o.persist ? coerce(o, remembered[o.key]) : undefined;
    if (stored !== undefined) {
      out.values[o.key] = stored;
      out.sources[o.key] = 'remembered';
    }
  }
  for (const o of decls) {
    if (out.values[o.key] !== undefined) continue;
    const fallback = o.fallback?.(partialAnswers(provider, out.values, pkg, projectOrigins));
    if (fallback !== undefined) {
      out.values[o.key] = fallback;
      out.sources[o.key] = 'default';
    }
  }
  return out;
}

/** Required options that still have no value, for this provider. */
export function missingRequired(
  decls: readonly OptionDecl[],
  r: Resolved,
  provider: ProviderId,
  pkg?: string,
): OptionDecl[] {
  const a = partialAnswers(provider, r.values, pkg);
  return decls.filter((o) => o.required?.(a) && r.values[o.key] === undefined);
}

/** Every validation failure, each naming its option. */
export function validationErrors(
  decls: readonly OptionDecl[],
  r: Resolved,
  provider: AnswerRules,
  pkg?: string,
): string[] {
  const a = partialAnswers(provider.id, r.values, pkg);
  const errors: string[] = [];
  for (const o of decls) {
    const v = r.values[o.key];
    if (v === undefined || !o.validate) continue;
    const message = o.validate(v, a);
    if (message) errors.push(`--${o.name}: ${message}`);
  }
  errors.push(...(provider.validateAnswers?.(a) ?? []));
  if ((r.values.accessKeyId === undefined) !== (r.values.secretAccessKey === undefined)) {
    errors.push('--access-key-id and --secret-access-key go together: give both or neither');
  }
  return errors;
}

/** Stops the run, before anything is touched, when answers are missing or invalid. */
export function assertComplete(
  decls: readonly OptionDecl[],
  r: Resolved,
  provider: AnswerRules,
  pkg?: string,
): void {
  const missing = missingRequired(decls, r, provider.id, pkg);
  const errors = validationErrors(decls, r, provider, pkg);
  const parts: string[] = [];
  if (missing.length) {
    parts.push(
      `Missing required option${missing.length > 1 ? 's' : ''} for ${provider.id}: ` +
        missing
          .map((o) => `--${o.name}${o.env ? ` (or ${o.env})` : ''}${provider.missingHints?.[o.name] ?? ''}`)
          .join(', '),
    );
  }
  if (errors.length) parts.push(`Invalid input:\n  ${errors.join('\n  ')}`);
  if (parts.length) {
    throw new UserError(`${parts.join('\n')}\nNothing was written.`, missing[0]?.name ?? 'input', 2);
  }
}

export function toAnswers(
  provider: ProviderId,
  values: Record<string, OptionValue>,
): { answers: StorageAnswers; secrets: StorageSecrets; flags: RunFlags } {
  const a = partialAnswers(provider, values);
  const s = (k: string): string | undefined => (typeof values[k] === 'string' ? values[k] : undefined);
  const answers: StorageAnswers = {
    provider,
    corsOrigins: a.corsOrigins ?? [],
    publicRead: a.publicRead ?? false,
  };
  for (const k of ['bucket', 'region', 'endpoint', 'service', 'account', 'container', 'iamUser'] as const) {
    const v = a[k];
    if (v !== undefined) Object.assign(answers, { [k]: v });
  }
  return {
    answers,
    secrets: {
      accessKeyId: s('accessKeyId'),
      secretAccessKey: s('secretAccessKey'),
      accountKey: s('accountKey'),
    },
    flags: {
      project: s('project'),
      archesVersion: s('archesVersion'),
      provision: values.provision !== false,
      dryRun: values.dryRun === true,
      skipPrompts: typeof values.skipPrompts === 'boolean' ? values.skipPrompts : undefined,
    },
  };
}

/** The answers to remember in .yo-rc.json: persisted options only, so never a secret. */
export function rememberable(
  decls: readonly OptionDecl[],
  values: Record<string, OptionValue>,
): Record<string, OptionValue> {
  const out: Record<string, OptionValue> = {};
  for (const o of decls)
    if (o.persist && !o.secret && values[o.key] !== undefined) out[o.key] = values[o.key]!;
  return out;
}
