/**
 * The one Yeoman generator class behind every provider generator: declare the options, gather answers,
 * build the overlay with the core, write it. Everything it decides, the core decides.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import Generator from 'yeoman-generator';
import {
  assertComplete,
  explicitValues,
  fillDefaults,
  partialAnswers,
  rememberable,
  toAnswers,
  type Resolved,
} from '../core/answers.js';
import { detectProject, type ArchesProject, type ProjectFiles } from '../core/detect.js';
import { optionsFor, type OptionDecl, type OptionValue } from '../core/options.js';
import { buildOverlay, type Overlay } from '../core/overlay.js';
import { readProjectOrigins, settingsInspector, type SettingsInspector } from '../core/pysettings.js';
import type { ClientFactory } from '../core/provision/clients.js';
import type { ProbeOptions } from '../core/provision/probe.js';
import type { AccessKey, ProvisionedState, ProvisionSummary } from '../core/provision/types.js';
import { UserError, type ProviderId, type StorageSecrets } from '../core/types.js';

/** What .yo-rc.json keeps under `generator-arches-storage`. */
export interface StoredConfig {
  provider?: ProviderId | 'app';
  /** What provisioning created, per provider: names and ARNs, never a secret. */
  resources?: Partial<Record<ProviderId, ProvisionedState>>;
  providers?: Partial<Record<ProviderId, Record<string, OptionValue>>>;
  archesVersion?: string;
  created?: string[];
}

/** A Yeoman option type for repeatable options: keeps every occurrence. */
const listType = (value: unknown): string[] => (Array.isArray(value) ? value : [value]).map(String);

export function declareOptions(g: Generator, decls: readonly OptionDecl[]): void {
  for (const o of decls) {
    g.option(o.name, {
      type: o.kind === 'boolean' ? Boolean : o.kind === 'list' ? listType : String,
      description: o.description + (o.env ? ` [env ${o.env}]` : ''),
    });
  }
}

/** No prompts under --skip-prompts, CI=true, or without a terminal; --no-skip-prompts forces them. */
export function promptsAllowed(
  skipPrompts: boolean | undefined,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (skipPrompts !== undefined) return !skipPrompts;
  return env.CI !== 'true' && Boolean(process.stdin.isTTY);
}

/** Replaces every secret value in text, for anything printed. */
export function redact(text: string, secrets: StorageSecrets): string {
  let out = text;
  for (const s of Object.values(secrets))
    if (typeof s === 'string' && s.length >= 4) out = out.split(s).join('********');
  return out;
}

export class StorageGenerator extends Generator {
  protected readonly provider: ProviderId;
  protected readonly decls: OptionDecl[];
  protected project!: ArchesProject;
  protected gathered!: Resolved;
  protected overlay!: Overlay;
  protected interactive = false;
  /** Reads and judges the settings with Python (--python, the project's venv, or the system's). */
  protected inspector!: SettingsInspector;
  /** The site's origins the project's settings name: the default of --cors-origin in every mode. */
  protected projectOrigins: { origins: string[]; used: string[]; skipped: string[] } = {
    origins: [],
    used: [],
    skipped: [],
  };
  protected summary?: ProvisionSummary;
  protected resources?: ProvisionedState;
  protected newKey?: AccessKey;
  protected switchedTo?: ProviderId;

  constructor(args: string[], options: Generator['options'], provider: ProviderId) {
    // Each provider's generator is a subclass made by providerGenerator(): its tasks live here.
    super(args, options, { inheritTasks: true, customInstallTask: true });
    this.provider = provider;
    this.decls = optionsFor(provider);
    declareOptions(this, this.decls);
    this.description = `Configure an Arches project's uploaded files for ${provider}`;
  }

  protected get stored(): StoredConfig {
    return this.config.getAll() as StoredConfig;
  }

  /** Reads the project through mem-fs, so a composing generator sees what was queued before it. */
  protected files(): ProjectFiles {
    return {
      read: (rel) => {
        const abs = this.destinationPath(rel);
        return this.fs.exists(abs) ? this.fs.read(abs) : null;
      },
      dirs: (rel) => {
        try {
          return readdirSync(this.destinationPath(rel), { withFileTypes: true })
            .filter((d) => d.isDirectory())
            .map((d) => d.name)
            .sort();
        } catch {
          return [];
        }
      },
      tracked: (rel) =>
        spawnSync('git', ['ls-files', '--error-unmatch', '--', rel], {
          cwd: this.destinationRoot(),
          stdio: 'ignore',
        }).status === 0,
    };
  }

  async initializing(): Promise<void> {
    const explicit = explicitValues(this.decls, this.options, process.env);
    const dir =
      typeof explicit.values.project === 'string' ? path.resolve(explicit.values.project) : undefined;
    if (dir) {
      if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
        throw new UserError(`--project ${dir} is not a directory. Nothing was written.`, 'project');
      }
      this.destinationRoot(dir);
    }
    const skip = explicit.values.skipPrompts;
    this.interactive = promptsAllowed(typeof skip === 'boolean' ? skip : undefined);
    const version = explicit.values.archesVersion ?? this.stored.archesVersion;
    this.project = detectProject(
      this.destinationRoot(),
      this.files(),
      typeof version === 'string' ? version : undefined,
    );
    this.gathered = explicit;
    const python = explicit.values.python;
    this.inspector = settingsInspector({ python: typeof python === 'string' ? python : undefined });
    const cors = this.decls.some((o) => o.key === 'corsOrigins');
    const rememberedCors = this.stored.providers?.[this.provider]?.corsOrigins;
    if (cors && explicit.values.corsOrigins === undefined && rememberedCors === undefined) {
      const found = readProjectOrigins(this.inspector, this.files(), this.project, this.provider);
      this.projectOrigins = found;
    }
  }

  async prompting(): Promise<void> {
    const remembered = this.stored.providers?.[this.provider] ?? {};
    const pkg = this.project.pkg;
    if (this.interactive) {
      const asked = this.decls.filter((o) => o.question && this.gathered.values[o.key] === undefined);
      for (const o of asked) {
        // One question at a time, so later defaults (region, endpoint) follow earlier answers (service).
        const a = partialAnswers(this.provider, this.gathered.values, pkg, this.projectOrigins.origins);
        if (o.key === 'corsOrigins' && this.projectOrigins.used.length)
          this.log(`CORS origins found in the project's settings: ${this.projectOrigins.used.join(', ')}.`);
        const suggestion = remembered[o.key] ?? o.fallback?.(a) ?? o.suggest?.(a);
        const required = o.required?.(a) ?? false;
        if (!required && o.fallback === undefined && suggestion === undefined) continue;
        const question = {
          type: o.choices ? 'list' : 'input',
          name: o.key,
          message: o.question!,
          choices: o.choices ? [...o.choices] : undefined,
          default: Array.isArray(suggestion) ? suggestion.join(',') : suggestion,
          validate: (v: string) =>
            (o.validate?.(v, a) ?? (required && !v ? `${o.name} is required` : true)) || true,
        };
        const answer = (await this.prompt(question as Parameters<Generator['prompt']>[0])) as Record<
          string,
          string
        >;
        const value = answer[o.key];
        if (value !== undefined && value !== '') {
          this.gathered.values[o.key] =
            o.kind === 'list'
              ? value
                  .split(',')
                  .map((s) => s.trim())
                  .filter(Boolean)
              : value;
          this.gathered.sources[o.key] = 'prompt';
        }
      }
    }
    const origins = this.projectOrigins;
    this.gathered = fillDefaults(this.decls, this.gathered, remembered, this.provider, pkg, origins.origins);
    if (this.gathered.sources.corsOrigins === 'default')
      this.log(
        `CORS origins taken from the project's settings: ${origins.used.join(', ')}` +
          `${origins.skipped.length ? ` (not origins: ${origins.skipped.join(', ')})` : ''}.`,
      );
    else if (
      this.gathered.values.corsOrigins === undefined &&
      this.decls.some((o) => o.key === 'corsOrigins')
    )
      this.log(
        'No CORS origin found in the project’s settings (PUBLIC_SERVER_ADDRESS, CSRF_TRUSTED_ORIGINS, ' +
          `ALLOWED_HOSTS)${origins.skipped.length ? `; not origins: ${origins.skipped.join(', ')}` : ''}.`,
      );
    assertComplete(this.decls, this.gathered, this.provider, pkg);
  }

  async configuring(): Promise<void> {
    const { answers, secrets, flags } = toAnswers(this.provider, this.gathered.values);
    const v = this.gathered.values;
    // The overlay is built first: a conflicting pin or edited marker stops the run before any cloud call.
    const overlayFor = (a: typeof answers, s: typeof secrets): Overlay =>
      buildOverlay(this.files(), {
        project: this.project,
        inspect: this.inspector,
        answers: a,
        secrets: s,
        created: this.stored.created ?? [],
      });
    this.overlay = overlayFor(answers, secrets);
    const cloud = this.provider === 'aws' || this.provider === 's3-compatible';
    const destroying = v.destroy === true;
    if (!cloud || (!flags.provision && !destroying)) {
      if (this.provider !== 'local' && flags.provision) {
        throw new UserError(
          `Creating ${this.provider} resources is not available yet: configure a bucket that already exists ` +
            `with --no-provision. Nothing was written.`,
          'provision',
        );
      }
      return;
    }
    const { provision, destroy } = await import('./provisioning.js');
    const ctx = {
      provider: this.provider as 'aws' | 's3-compatible',
      root: this.destinationRoot(),
      project: this.project,
      answers,
      secrets,
      interactive: this.interactive,
      state: this.stored.resources?.[this.provider] ?? {},
      created: this.stored.created ?? [],
      files: this.files(),
      // A programmatic seam for tests (yeoman-test passes options by reference); no CLI flag sets it.
      factory: testFactory(this.options),
      probe: probeTiming(),
      flags: {
        profile: typeof v.profile === 'string' ? v.profile : undefined,
        rotateKey: v.rotateKey === true,
        secretsFile: typeof v.secretsFile === 'string' ? v.secretsFile : undefined,
        showSecret: v.showSecret === true,
        json: v.json === true,
        dryRun: flags.dryRun,
        deleteBucket: v.deleteBucket === true,
        // Not Yeoman's --force (overwrite without asking): only --delete-objects deletes objects.
        deleteObjects: v.deleteObjects === true,
        adoptUser: v.adoptUser === true,
        useOperatorKey: v.useOperatorKey === true,
      },
      log: (m: string) => {
        this.log(redact(m, secrets));
      },
      confirm: async (message: string) => {
        const question = { type: 'confirm', name: 'apply', message, default: true };
        return ((await this.prompt(question as Parameters<Generator['prompt']>[0])) as { apply: boolean })
          .apply;
      },
    };
    if (destroying) {
      const done = await destroy(ctx);
      if (!done.applied) return;
      this.summary = done.summary;
      this.resources = done.remaining;
      // Teardown ends on local files: the overlay is removed like `arches-storage local` does.
      this.switchedTo = 'local';
      this.overlay = overlayFor({ provider: 'local', corsOrigins: [], publicRead: false }, {});
      return;
    }
    const outcome = await provision(ctx);
    if (!outcome.applied) return;
    this.summary = outcome.summary;
    this.resources = outcome.state;
    this.newKey = outcome.appKey;
    if (outcome.appKey) this.overlay = overlayFor(answers, { ...secrets, ...outcome.appKey });
  }

  writing(): void {
    const { flags, secrets } = toAnswers(this.provider, this.gathered.values);
    if (flags.dryRun) {
      // The plan and the diff are what a dry run is for: stdout, so they can be saved or piped.
      const out = [this.overlay.plan.join('\n')];
      for (const c of this.overlay.changes) {
        out.push(createTwoFilesPatch(`a/${c.path}`, `b/${c.path}`, c.before ?? '', c.after ?? ''));
      }
      out.push('Dry run: nothing was written.\n');
      process.stdout.write(redact(out.join('\n'), secrets));
      return;
    }
    this.log(redact(this.overlay.plan.join('\n'), secrets));
    for (const c of this.overlay.changes) {
      const abs = this.destinationPath(c.path);
      if (c.after === null) this.fs.delete(abs);
      else this.fs.write(abs, c.after);
      if (!this.interactive) this.forceWrite(abs);
    }
    const previous = this.stored.providers ?? {};
    const resources = { ...this.stored.resources };
    if (this.resources) resources[this.provider] = this.resources;
    else if (this.switchedTo) delete resources[this.provider];
    // Rewritten whole, in one key order, whatever order an earlier (or interrupted) run left.
    for (const key of Object.keys(this.config.getAll())) this.config.delete(key);
    this.config.set({
      provider: this.switchedTo ?? this.provider,
      resources,
      providers: { ...previous, [this.provider]: rememberable(this.decls, this.gathered.values) },
      created: this.overlay.created,
      ...(typeof this.gathered.values.archesVersion === 'string'
        ? { archesVersion: this.gathered.values.archesVersion }
        : {}),
    });
    if (!this.interactive) this.forceWrite(this.destinationPath('.yo-rc.json'));
  }

  /** No-prompt runs never ask the conflicter: mark the pending file as forced. */
  private forceWrite(abs: string): void {
    const file = this.env.sharedFs.get(abs) as { conflicter?: string };
    file.conflicter = 'force';
  }

  end(): void {
    for (const w of this.overlay.warnings) this.log(`warning: ${w}`);
    if (!this.summary) return;
    const v = this.gathered.values;
    const summary = {
      ...this.summary,
      ...(v.showSecret === true && this.newKey ? { secretAccessKey: this.newKey.secretAccessKey } : {}),
    };
    if (v.json === true) {
      process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
      return;
    }
    const lines = [
      `Done in ${summary.wallSeconds} s.`,
      ...(summary.created.length ? [`Created: ${summary.created.join(', ')}.`] : []),
      ...(summary.adopted.length ? [`Adopted: ${summary.adopted.join('; ')}.`] : []),
      ...(summary.deleted.length ? [`Removed: ${summary.deleted.join('; ')}.`] : []),
      ...(summary.secretDestination ? [`The app's secret key went to ${summary.secretDestination}.`] : []),
      ...(summary.verifiedAfterSeconds !== undefined
        ? [`Verified with the app key after ${summary.verifiedAfterSeconds} s.`]
        : []),
      ...(this.switchedTo ? [`The project is back on local files.`] : []),
    ];
    this.log(lines.join('\n'));
    if (v.showSecret === true && this.newKey)
      process.stdout.write(`AWS_SECRET_ACCESS_KEY=${this.newKey.secretAccessKey}\n`);
  }
}

function testFactory(options: object): ClientFactory | undefined {
  const f = (options as { clientsFactory?: unknown }).clientsFactory;
  return typeof f === 'function' ? (f as ClientFactory) : undefined;
}

/** Probe timing from the environment (seconds), for slow IAM propagation or quick tests. */
function probeTiming(): ProbeOptions {
  const n = (name: string): number | undefined => {
    const raw = process.env[name];
    return raw && Number(raw) > 0 ? Number(raw) : undefined;
  };
  return {
    maxWaitSeconds: n('ARCHES_STORAGE_PROBE_TIMEOUT'),
    minDelaySeconds: n('ARCHES_STORAGE_PROBE_MIN_DELAY'),
    maxDelaySeconds: n('ARCHES_STORAGE_PROBE_MAX_DELAY'),
  };
}

/** The generator class for one provider: what each generators/<provider>/index.ts exports. */
export function providerGenerator(provider: ProviderId): typeof StorageGenerator {
  return class extends StorageGenerator {
    constructor(args: string[], options: Generator['options']) {
      super(args, options, provider);
    }
  } as unknown as typeof StorageGenerator;
}
