/**
 * The one Yeoman generator class behind every provider generator: declare the options, gather answers,
 * build the overlay with the core, write it. Everything it decides, the core decides.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import Generator, { Storage } from 'yeoman-generator';
import {
  assertComplete,
  explicitValues,
  fillDefaults,
  partialAnswers,
  rememberable,
  storedSecretNames,
  toAnswers,
  type Resolved,
} from '../../lib/answers.js';
import { detectProject, type ArchesProject, type ProjectFiles } from '../../lib/detect.js';
import type { OptionDecl, OptionValue, PartialAnswers } from '../../lib/options.js';
import type { StorageProvider } from '../../lib/provider.js';
import { ALL_DOCUMENT_NAMES, providerById } from '../registry.js';
import {
  acquireLock,
  preflight,
  readOurs,
  removeFile,
  writeFileAtomic,
  writeYoRc,
  YO_RC,
  YO_RC_NAMESPACE,
  yoRcText,
  type Lock,
} from '../../lib/safefs.js';
import { bytesAsText, diskFiles } from '../../lib/projectfiles.js';
import { redact } from '../../lib/redact.js';
import { formatRelease, settingsStyle } from '../../lib/matrix.js';
import { buildOverlay, type Overlay } from '../../lib/overlay.js';
import {
  pythonCandidates,
  readProjectOrigins,
  settingsInspector,
  type SettingsInspector,
} from '../../lib/pysettings.js';
import type { ClientFactory } from '../../lib/provision/clients.js';
import type { ProbeOptions } from '../../lib/provision/probe.js';
import { recordedResources } from '../../lib/provision/journal.js';
import type { AccessKey, ProvisionedState, ProvisionSummary } from '../../lib/provision/types.js';
import { givenKey, UserError, type ProviderId } from '../../lib/types.js';
import { awsSdkNodeNote } from '../../lib/storage/s3.js';
import { promptsAllowed } from './command-context.js';
import type { VerifyReport } from '../../lib/verify.js';
import type { SwitchCopy } from './switch.js';

/** What .yo-rc.json keeps under `generator-arches-storage`. */
export interface StoredConfig {
  /** The provider last configured (a registry id; the app generator ignores a stored 'app'). */
  provider?: ProviderId;
  /** The provider before the run that switched to this one (`arches-storage migrate` copies from there). */
  previous?: ProviderId;
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

/**
 * An option the app generator passes to the provider's generator it composes with, once it has shown the
 * project summary (before its provider question). Not a CLI flag: the bin refuses it, and nothing else sets it.
 */
export const PROJECT_SHOWN = 'projectSummaryShown';

/** What detection found, shown before the first question of an interactive run. */
export function projectSummary(p: ArchesProject, versionRemembered = false): string {
  const from =
    versionRemembered && p.releaseSource === '--arches-version'
      ? '.yo-rc.json (an earlier --arches-version)'
      : p.releaseSource;
  const deps = p.dependencyTarget;
  return [
    `Arches project: package ${p.pkg} in ${p.root}`,
    `  release:      Arches ${formatRelease(p.release)} (read from ${from})`,
    `  settings:     ${p.settingsPath} (${settingsStyle(p.release)} style)`,
    `  dependencies: ${deps.path}${deps.kind === 'requirements' && deps.created ? ' (created by this run)' : ''}`,
  ].join('\n');
}

/**
 * Yeoman logs "An error occured while running <task>" before every failure; the error itself is what the user
 * needs, said once (by the bin, or yo), so that line is dropped.
 */
export function dropErrorPreamble(g: Generator): void {
  const log = g.log;
  (g as { log: typeof log }).log = new Proxy(log, {
    get: (target, key, receiver): unknown =>
      key === 'error'
        ? (message: unknown, ...rest: unknown[]) =>
            /^An error occured while running /.test(String(message))
              ? target
              : (target.error as (...a: unknown[]) => unknown)(message, ...rest)
        : Reflect.get(target, key, receiver),
  });
}

export class StorageGenerator extends Generator {
  protected readonly provider: ProviderId;
  /** The provider's data (generators/<id>/provider.ts). */
  protected readonly spec: StorageProvider;
  protected readonly decls: readonly OptionDecl[];
  protected project!: ArchesProject;
  protected gathered!: Resolved;
  protected overlay!: Overlay;
  protected interactive = false;
  /** --dry-run: nothing is written and nothing is changed in the cloud; decided once, in initializing(). */
  protected dryRun = false;
  /** The Arches release came from .yo-rc.json (an earlier --arches-version), for the project summary. */
  protected versionRemembered = false;
  /** Reads and judges the settings with Python (--python, the project's venv, or the system's). */
  protected inspector!: SettingsInspector;
  /** The site's origins the project's settings name: the default of --cors-origin in every mode. */
  protected projectOrigins: { origins: string[]; used: string[]; skipped: string[] } = {
    origins: [],
    used: [],
    skipped: [],
  };
  protected summary?: ProvisionSummary;
  protected newKey?: AccessKey;
  protected switchedTo?: ProviderId;
  /** --dry-run --json: the diff, for the JSON document. */
  protected dryRunDiff?: string;
  /** --dry-run on a provisioning run: the plan of SDK calls as printed (showDryRun prints it). */
  protected provisionPlanText?: string;
  /** The user answered no to "Write these changes?". */
  protected declined = false;
  /** --dry-run --json on a provisioning run: the plan of SDK calls, for the JSON document. */
  protected provisionPlan?: unknown;
  /** The stored files this switch takes along (--migrate or a yes at the prompt). */
  protected switchCopy?: SwitchCopy;
  /** The storage whose files stay behind (a no-prompt run without --migrate): said at the end. */
  protected migrateHint?: string;
  /** The proof at the end of a run that created resources or copied files. */
  protected verifyReport?: VerifyReport;

  constructor(args: string[], options: Generator['options'], spec: StorageProvider) {
    // Each provider's generator is a subclass made by providerGenerator(): its tasks live here.
    super(args, options, { inheritTasks: true, customInstallTask: true });
    this.spec = spec;
    this.provider = spec.id;
    dropErrorPreamble(this);
    this.decls = spec.options;
    declareOptions(this, this.decls);
    this.description = `Configure an Arches project's uploaded files for ${spec.title}`;
  }

  /** Our keys in .yo-rc.json as this task (phase) read them, for the project root they were read under. */
  private storedCache?: { root: string; config: StoredConfig };

  /**
   * Our keys in .yo-rc.json, read from disk once per task: provisioning records state there as it goes, so each
   * phase reads it again (and code that writes it mid-task calls forgetStored()).
   */
  protected get stored(): StoredConfig {
    const root = this.destinationRoot();
    if (this.storedCache?.root !== root) this.storedCache = { root, config: readOurs(root) };
    return this.storedCache.config;
  }

  /** The next read of `stored` goes to disk: for code that has just written .yo-rc.json. */
  protected forgetStored(): void {
    this.storedCache = undefined;
  }

  /**
   * Yeoman's config Storage, over nothing: its constructor would read .yo-rc.json through mem-fs (a raw stack
   * trace when it is corrupt) and its writes are committed non-atomically. Ours go through core/safefs.
   */
  override get config(): Storage {
    return inertConfig(this);
  }

  /** The project lock, from initializing() to the end of the run (or its failure). */
  private lock?: Lock;

  /** Releases the project lock when the run ends or any task fails. */
  override async executeTask(...args: Parameters<Generator['executeTask']>): Promise<void> {
    // Each phase reads .yo-rc.json afresh (the one before may have recorded provisioning state).
    this.forgetStored();
    try {
      await super.executeTask(...args);
    } catch (error) {
      this.lock?.release();
      throw error;
    }
    if (args[0].taskName === 'end') this.lock?.release();
  }

  /** The project on disk, read as bytes (see core/projectfiles.ts). */
  protected files(): ProjectFiles {
    return diskFiles(this.destinationRoot());
  }

  initializing(): void {
    const explicit = explicitValues(this.decls, this.options, process.env);
    const dir =
      typeof explicit.values.project === 'string' ? path.resolve(explicit.values.project) : undefined;
    if (dir) {
      if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
        throw new UserError(`--project ${dir} is not a directory. Nothing was written.`, 'project', 2);
      }
      this.destinationRoot(dir);
    }
    // Decided once: --dry-run is a CLI flag only (no variable, no memory), so nothing later can change it.
    this.dryRun = explicit.values.dryRun === true;
    // One run at a time, taken before anything is read: a second run exits 1 naming this one.
    this.lock = acquireLock(this.destinationRoot(), `arches-storage ${this.provider}`, {
      readOnly: this.dryRun,
    });
    const skip = explicit.values.skipPrompts;
    this.interactive = promptsAllowed(typeof skip === 'boolean' ? skip : undefined);
    const version = explicit.values.archesVersion ?? this.stored.archesVersion;
    this.versionRemembered = explicit.values.archesVersion === undefined && version !== undefined;
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
      const found = readProjectOrigins(this.inspector, this.files(), this.project, this.spec);
      this.projectOrigins = found;
    }
  }

  async prompting(): Promise<void> {
    const remembered = this.stored.providers?.[this.provider] ?? {};
    const pkg = this.project.pkg;
    if (this.interactive) {
      // What the run found, before the first question (the app generator said it before asking the provider).
      if (!summaryShown(this.options)) this.log(projectSummary(this.project, this.versionRemembered));
      // Where the app's keys are kept (names only): a secret the project keeps is not asked again.
      const secretsFile = this.gathered.values.secretsFile ?? remembered.secretsFile;
      const secretsStored = storedSecretNames(
        this.files(),
        pkg,
        typeof secretsFile === 'string' ? secretsFile : undefined,
      );
      const asked = this.decls.filter((o) => o.question && this.gathered.values[o.key] === undefined);
      for (const o of asked) {
        // One question at a time, so later defaults (region, endpoint) follow earlier answers (service).
        const a = partialAnswers(
          this.provider,
          this.gathered.values,
          pkg,
          this.projectOrigins.origins,
          secretsStored,
        );
        // A secret is never offered from memory (it is never remembered either).
        const suggestion = o.secret ? undefined : (remembered[o.key] ?? o.fallback?.(a) ?? o.suggest?.(a));
        const required = o.required?.(a) ?? false;
        if (!(o.when?.(a) ?? (required || o.fallback !== undefined || suggestion !== undefined))) continue;
        if (o.key === 'corsOrigins' && this.projectOrigins.used.length)
          this.log(`CORS origins found in the project's settings: ${this.projectOrigins.used.join(', ')}.`);
        const value = await this.ask(o, a, suggestion, required);
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
    assertComplete(this.decls, this.gathered, this.spec, pkg);
  }

  /**
   * Asks one option's question: a select with the declared labels when it has choices, a password prompt for a
   * masked answer (never echoed, no default), an input otherwise. The answer as typed, or undefined.
   */
  private async ask(
    o: OptionDecl,
    a: PartialAnswers,
    suggestion: OptionValue | undefined,
    required: boolean,
  ): Promise<string | undefined> {
    const message = o.question!;
    // An empty answer to an optional question means "none" (the question says what then).
    const validate = (v: string): string | true =>
      v === '' ? (required ? `${o.name} is required` : true) : o.validate?.(v, a) || true;
    let answer: Record<string, unknown>;
    if (o.choices) {
      answer = await this.prompt({
        type: 'select',
        name: o.key,
        message,
        choices: o.choices.map((c) => ({ value: c.value, name: c.name })),
        default: typeof suggestion === 'string' ? suggestion : undefined,
      });
    } else if (o.masked ?? o.secret) {
      // Nothing is shown as it is typed, and there is no key to reveal it.
      answer = await this.prompt({ type: 'password', name: o.key, message, toggleMask: false, validate });
    } else {
      const shown = Array.isArray(suggestion) ? suggestion.join(',') : suggestion;
      answer = await this.prompt({
        type: 'input',
        name: o.key,
        message,
        default: typeof shown === 'string' ? shown : undefined,
        validate,
      });
    }
    const value = answer[o.key];
    return typeof value === 'string' ? value : undefined;
  }

  async configuring(): Promise<void> {
    const { answers, secrets, flags } = toAnswers(this.provider, this.gathered.values);
    const v = this.gathered.values;
    // The overlay is built first: a conflicting pin or edited marker stops the run before any cloud call.
    const overlayFor = (a: typeof answers, s: typeof secrets, spec = this.spec): Overlay =>
      buildOverlay(this.files(), {
        project: this.project,
        provider: spec,
        documentNames: ALL_DOCUMENT_NAMES,
        inspect: this.inspector,
        answers: a,
        secrets: s,
        created: this.stored.created ?? [],
        secretsFile: typeof v.secretsFile === 'string' ? v.secretsFile : undefined,
        rememberedSecretsFiles: Object.values(this.stored.providers ?? {})
          .map((p) => p?.secretsFile)
          .filter((f): f is string => typeof f === 'string'),
      });
    this.overlay = overlayFor(answers, secrets);
    const destroying = v.destroy === true;
    const provisioning = this.spec.provisioner !== undefined && (flags.provision || destroying);
    if (!provisioning && this.spec.backend !== null && flags.provision) {
      throw new UserError(
        `Creating ${this.provider} resources is not available yet: configure a bucket that already exists ` +
          `with --no-provision. Nothing was written.`,
        'provision',
      );
    }
    // The SDK's own multi-line Node-version warning is replaced by one line, said once (below).
    const nodeNote = awsSdkNodeNote();
    // The files stored so far: counted (and the source's credentials read) before anything changes.
    await this.prepareSwitchCopy(destroying);
    if (!provisioning) return;
    // Provisioning records state and the secret on disk as it goes: check those files (and every file the
    // overlay will write, with room for the key) before the first cloud call, so a full or read-only disk is
    // found while nothing exists yet.
    if (!flags.dryRun) {
      const slack = 4096;
      const secretsFile = typeof v.secretsFile === 'string' ? v.secretsFile : undefined;
      preflight([
        ...this.overlay.changes.map((c) => ({
          abs: this.destinationPath(c.path),
          bytes: (c.after?.length ?? 0) + slack,
          remove: c.after === null,
        })),
        { abs: this.destinationPath(YO_RC), bytes: slack * 4 },
        { abs: this.destinationPath(`${this.project.pkg}/settings_local.py`), bytes: slack },
        ...(secretsFile ? [{ abs: path.resolve(this.destinationRoot(), secretsFile), bytes: slack }] : []),
        { abs: this.destinationPath('.gitignore'), bytes: slack },
      ]);
    }
    // (A switch copy that opened a bucket has said it already, with its other notes.)
    if (nodeNote && !this.switchCopy?.report().notes.includes(nodeNote)) this.log(nodeNote);
    const { provision, destroy } = await import('./provisioning.js');
    const ctx = {
      provider: this.provider,
      spec: this.spec,
      root: this.destinationRoot(),
      project: this.project,
      answers,
      secrets,
      interactive: this.interactive,
      state: this.stored.resources?.[this.provider] ?? {},
      created: this.stored.created ?? [],
      files: this.files(),
      keyOwner: this.stored.provider,
      inspect: this.inspector,
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
      if (!done.applied) {
        this.provisionPlan = done.plan;
        this.provisionPlanText = done.planText;
        return;
      }
      this.summary = done.summary;
      // Teardown ends on local files: the overlay is removed like `arches-storage local` does.
      this.switchedTo = 'local';
      this.overlay = overlayFor(
        { provider: 'local', corsOrigins: [], publicRead: false },
        {},
        providerById('local'),
      );
      return;
    }
    const outcome = await provision(ctx);
    if (!outcome.applied) {
      this.provisionPlan = outcome.plan;
      this.provisionPlanText = outcome.planText;
      return;
    }
    this.summary = outcome.summary;
    this.newKey = outcome.appKey;
    if (outcome.appKey) this.overlay = overlayFor(answers, { ...secrets, ...outcome.appKey });
  }

  /**
   * Whether this switch takes the stored files along (--migrate, or a yes at the prompt): opens the storage the
   * project is on now and counts its files. A no-prompt run without --migrate only hears how to copy them.
   */
  private async prepareSwitchCopy(destroying: boolean): Promise<void> {
    if (!this.decls.some((o) => o.key === 'migrate')) return;
    const wanted = this.gathered.values.migrate;
    if (wanted === false) return;
    const stored = this.stored;
    const from = stored.provider && stored.provider !== 'app' ? stored.provider : 'local';
    const to = this.provider;
    if (from === to) {
      if (wanted === true)
        this.log(
          `note: --migrate: the project is on ${to} already, so nothing is switched from; ` +
            '`arches-storage migrate --from <storage>` copies from another storage.',
        );
      return;
    }
    if (destroying) {
      if (wanted === true)
        throw new UserError(
          '--migrate with --destroy: copy the files back first with `arches-storage local --migrate`, then tear down. Nothing was changed.',
          'migrate',
          2,
        );
      return;
    }
    if (wanted === undefined && !this.interactive) {
      this.migrateHint = from;
      return;
    }
    const { SwitchCopy } = await import('./switch.js');
    const refusal = SwitchCopy.refusal(from, to);
    if (refusal) {
      if (wanted === true) throw new UserError(refusal, 'migrate', 2);
      this.log(
        `note: the files stored in ${from} stay there: ${refusal.replace(/ Nothing was copied\.$/, '')}.`,
      );
      return;
    }
    const python = this.gathered.values.python;
    const copy = await SwitchCopy.open({
      root: this.destinationRoot(),
      pkg: this.project.pkg,
      python: typeof python === 'string' ? python : undefined,
      from,
      fromValues: stored.providers?.[from] ?? {},
      to,
      progress: process.stderr,
      say: (m) => this.log(m),
    });
    if (copy.count.files === 0) {
      this.log(`No stored files in ${copy.sourceDescription}: nothing to copy.`);
      copy.close();
      return;
    }
    if (wanted === undefined) {
      const question = {
        type: 'confirm',
        name: 'migrate',
        message:
          `Copy the ${copy.describe()} to the new storage as part of this switch ` +
          '(copy, switch the settings, then copy what arrived meanwhile)?',
        default: true,
      };
      const answer = (await this.prompt(question as Parameters<Generator['prompt']>[0])) as {
        migrate: boolean;
      };
      if (!answer.migrate) {
        copy.close();
        this.migrateHint = from;
        return;
      }
    } else {
      this.log(
        this.dryRun
          ? `Dry run: would copy what is missing of the ${copy.describe()} before the settings switch.`
          : `Found ${copy.describe()}: copied before the settings switch.`,
      );
    }
    this.switchCopy = copy;
  }

  /** The first copy pass, once the new storage exists and before the settings name it. */
  async default(): Promise<void> {
    const copy = this.switchCopy;
    if (!copy || this.dryRun || this.provisionPlan !== undefined) return;
    const { secrets } = toAnswers(this.provider, this.gathered.values);
    // Our secrets block holds the new storage's key only when the old storage needed none (local files).
    await copy.copy(this.gathered.values, this.newKey ?? givenKey(secrets), copy.fromLocal);
  }

  async writing(): Promise<void> {
    const { secrets } = toAnswers(this.provider, this.gathered.values);
    if (this.dryRun) {
      this.showDryRun();
      return;
    }
    this.log(redact(this.overlay.plan.join('\n'), secrets));
    // Interactive runs ask once before the files change (a provisioning run asked before its plan already).
    if (this.interactive && !this.summary && this.overlay.changes.length) {
      const question = { type: 'confirm', name: 'write', message: 'Write these changes?', default: true };
      const { write } = (await this.prompt(question as Parameters<Generator['prompt']>[0])) as {
        write: boolean;
      };
      if (!write) {
        this.declined = true;
        this.log('Nothing was written.');
        return;
      }
    }
    const root = this.destinationRoot();
    const stored = this.stored;
    // Rewritten whole, in one key order, whatever order an earlier (or interrupted) run left.
    const now = this.switchedTo ?? this.provider;
    const previous =
      stored.provider && stored.provider !== 'app' && stored.provider !== now
        ? stored.provider
        : stored.previous;
    const ours: StoredConfig = {
      provider: now,
      ...(previous ? { previous } : {}),
      // The journal's key (provisioning state, written as each step finished): copied from disk as it is now.
      resources: recordedResources(root),
      providers: {
        ...stored.providers,
        [this.provider]: rememberable(this.decls, this.gathered.values),
      },
      created: this.overlay.created,
      ...(typeof this.gathered.values.archesVersion === 'string'
        ? { archesVersion: this.gathered.values.archesVersion }
        : {}),
    };
    // Every target is checked before the first byte: a folder or disk that would refuse one stops the run here.
    preflight([
      ...this.overlay.changes.map((c) => ({
        abs: this.destinationPath(c.path),
        bytes: c.after?.length ?? 0,
        remove: c.after === null,
      })),
      { abs: this.destinationPath(YO_RC), bytes: Buffer.byteLength(yoRcText(root, { ...ours })) },
    ]);
    // Each file is replaced whole; .yo-rc.json last, so a run killed at any point is completed by the next.
    for (const c of this.overlay.changes) {
      const abs = this.destinationPath(c.path);
      if (c.after === null) removeFile(abs);
      else writeFileAtomic(abs, c.after, { secret: c.secret === true });
    }
    writeYoRc(root, { ...ours });
  }

  /** After the switch: the top-up copy, then the proof through the project's Python. */
  async install(): Promise<void> {
    if (this.dryRun || this.declined || this.provisionPlan !== undefined) {
      this.switchCopy?.close();
      return;
    }
    try {
      if (this.switchCopy) await this.switchCopy.topUp();
    } finally {
      this.switchCopy?.close();
    }
    await this.verifyAfter();
  }

  /** `arches-storage verify` at the end of a run that created resources or copied files, when a Python is found. */
  private async verifyAfter(): Promise<void> {
    const v = this.gathered.values;
    if (v.verifyAfter === false || !(this.summary || this.switchCopy)) return;
    const root = this.destinationRoot();
    const found = pythonCandidates(root, {
      python: typeof v.python === 'string' ? v.python : undefined,
    }).find((c) => c.project);
    if (!found) {
      this.log(
        'note: no project Python here (--python, $VIRTUAL_ENV, .venv, venv, ENV): run `arches-storage verify` where the site runs to prove the storage.',
      );
      return;
    }
    const { formatReport, verifyStorage } = await import('../../lib/verify.js');
    const { answers } = toAnswers(this.provider, v);
    const report = await verifyStorage({
      root,
      pkg: this.project.pkg,
      release: this.project.release,
      provider: providerById(this.switchedTo ?? this.provider),
      corsOrigins: this.switchedTo ? [] : answers.corsOrigins,
      publicRead: this.switchedTo ? false : answers.publicRead,
      python: found.path,
    });
    this.verifyReport = report;
    if (v.json !== true) this.log(formatReport(report).trimEnd());
    if (!report.ok) {
      const failed = report.checks.filter((c) => c.status === 'failed').map((c) => c.id);
      throw new UserError(
        `The changes are written, but verify found ${failed.length} failing check(s) (${failed.join(', ')}): ` +
          'fix them, then run `arches-storage verify`.',
        'verify',
        1,
        { verify: report },
      );
    }
  }

  /**
   * What a dry run is for, printed in one place: the overlay's plan and the diff of every file, on stdout so
   * they can be saved or piped, secrets masked; with --json they go into the one document end() prints.
   */
  protected showDryRun(): void {
    const { secrets } = toAnswers(this.provider, this.gathered.values);
    const diffs = this.overlay.changes.map((c) =>
      createTwoFilesPatch(
        `a/${c.path}`,
        `b/${c.path}`,
        bytesAsText(c.before ?? ''),
        bytesAsText(c.after ?? ''),
      ),
    );
    if (this.gathered.values.json === true) {
      this.dryRunDiff = redact(diffs.join('\n'), secrets);
      return;
    }
    const out = [this.overlay.plan.join('\n'), ...diffs, 'Dry run: nothing was written.\n'];
    const calls =
      this.provisionPlanText === undefined
        ? ''
        : `${this.provisionPlanText}\n\nDry run: no call that changes anything was made.\n`;
    process.stdout.write(redact(calls + out.join('\n'), secrets));
  }

  end(): void {
    for (const w of this.overlay.warnings) this.log(`warning: ${w}`);
    const v = this.gathered.values;
    if (this.migrateHint && !this.dryRun && !this.declined && this.provisionPlan === undefined)
      this.log(
        `note: files stored in ${this.migrateHint} before this switch stay there, and Arches' links to them need ` +
          `them here: \`arches-storage migrate\` copies them (a provider run copies them with --migrate).`,
      );
    if (v.json === true) {
      // --json: stdout is exactly one JSON document, whatever the run did (failures: see cli/main.ts).
      const { secrets } = toAnswers(this.provider, v);
      const doc = {
        ok: true,
        provider: this.switchedTo ?? this.provider,
        dryRun: this.dryRun,
        written: !this.dryRun && !this.declined,
        arches: formatRelease(this.project.release),
        package: this.project.pkg,
        changes: this.overlay.changes.map((c) => ({
          path: c.path,
          action: c.before === null ? 'create' : c.after === null ? 'delete' : 'update',
        })),
        warnings: this.overlay.warnings.map((w) => redact(w, secrets)),
        ...(this.dryRunDiff !== undefined ? { diff: this.dryRunDiff } : {}),
        ...(this.provisionPlan ? { provisioningPlan: this.provisionPlan } : {}),
        ...(this.summary ?? {}),
        ...(this.switchCopy ? { migration: this.switchCopy.report() } : {}),
        ...(this.verifyReport ? { verify: this.verifyReport } : {}),
        ...(v.showSecret === true && this.newKey ? { secretAccessKey: this.newKey.secretAccessKey } : {}),
      };
      process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
      return;
    }
    if (!this.summary) return;
    const summary = this.summary;
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

/**
 * Yeoman's config Storage over nothing: it reads no .yo-rc.json (its constructor would, through mem-fs, with a
 * raw stack trace when the file is corrupt) and refuses to write one (its writes are not atomic). Our keys are
 * read and written only through core/safefs.
 */
class InertStorage extends Storage {
  override readContent(): Record<string, never> {
    return {};
  }

  override writeContent(): string {
    throw new Error('.yo-rc.json is written through core/safefs (writeYoRc), not this.config');
  }

  /** Yeoman's per-generator child storages: a part of nothing is nothing, so the same inert storage. */
  override createStorage(): Storage {
    return this;
  }
}

/**
 * One inert Storage per mem-fs store (one per Yeoman environment) and .yo-rc.json path: each Storage adds a
 * change listener to the store, which every composed generator shares (Node warns past ten).
 */
const INERT_CONFIGS = new WeakMap<Generator['fs']['store'], Map<string, Storage>>();

/**
 * What a generator of this package returns from an overridden `config` getter: Yeoman's constructor asks
 * for it (and would read .yo-rc.json through mem-fs); our keys are read and written only through core/safefs.
 */
export function inertConfig(g: Generator): Storage {
  const configPath = g.destinationPath(YO_RC);
  const byPath = INERT_CONFIGS.get(g.fs.store) ?? new Map<string, Storage>();
  INERT_CONFIGS.set(g.fs.store, byPath);
  const config = byPath.get(configPath) ?? new InertStorage(YO_RC_NAMESPACE, g.fs, configPath);
  byPath.set(configPath, config);
  return config;
}

function summaryShown(options: object): boolean {
  return (options as { [PROJECT_SHOWN]?: unknown })[PROJECT_SHOWN] === true;
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
    denialGraceSeconds: n('ARCHES_STORAGE_PROBE_DENIAL_GRACE'),
  };
}

/** The generator class for one provider: what each generators/<provider>/index.ts exports. */
export function providerGenerator(spec: StorageProvider) {
  return class extends StorageGenerator {
    constructor(args: string[], options: Generator['options']) {
      super(args, options, spec);
    }
  };
}
