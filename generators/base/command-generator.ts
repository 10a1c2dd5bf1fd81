/**
 * The Yeoman class behind the commands that are not providers (`migrate`, `verify`, `audit`): declare the
 * command's options, resolve them (options, then ARCHES_STORAGE_* variables), find the project, hold the
 * project lock, and print the result as text or, with --json, as one JSON document. A command's generator
 * (generators/<id>/index.ts) extends it with its own `default()` task; the work itself lives in lib/.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import Generator, { type Storage } from 'yeoman-generator';
import { explicitValues } from '../../lib/answers.js';
import type { CommandDefinition } from '../../lib/command.js';
import { detectProject, type ArchesProject } from '../../lib/detect.js';
import type { OptionValue } from '../../lib/options.js';
import { diskFiles } from '../../lib/projectfiles.js';
import { acquireLock, readOurs, type Lock } from '../../lib/safefs.js';
import { UserError } from '../../lib/types.js';
import {
  declareOptions,
  dropErrorPreamble,
  inertConfig,
  promptsAllowed,
  type StoredConfig,
} from './storage-generator.js';

export abstract class CommandGenerator extends Generator {
  protected readonly command: CommandDefinition;
  /** The resolved option values, by OptionDecl.key (only those given, or their declared fallback). */
  protected values: Record<string, OptionValue> = {};
  protected project!: ArchesProject;
  protected interactive = false;
  private lock?: Lock;

  constructor(args: string[], options: Generator['options'], command: CommandDefinition) {
    // The tasks (initializing, then the command's own) are inherited by each command's subclass.
    super(args, options, { inheritTasks: true, customInstallTask: true });
    this.command = command;
    dropErrorPreamble(this);
    declareOptions(this, command.options);
    this.description = command.summary;
  }

  /** .yo-rc.json is read through lib/safefs only, never by Yeoman's Storage. */
  override get config(): Storage {
    return inertConfig(this);
  }

  /** Whether the command changes anything (then it holds the project lock; otherwise it only checks none is held). */
  protected abstract readonly mutates: boolean;

  /** Releases the project lock when the run ends or any task fails. */
  override async executeTask(...args: Parameters<Generator['executeTask']>): Promise<void> {
    try {
      await super.executeTask(...args);
    } catch (error) {
      this.lock?.release();
      throw error;
    }
    if (args[0].taskName === 'end') this.lock?.release();
  }

  initializing(): void {
    const resolved = explicitValues(this.command.options, this.options, process.env);
    this.values = { ...resolved.values };
    for (const o of this.command.options) {
      if (this.values[o.key] !== undefined) continue;
      const fallback = o.fallback?.({});
      if (fallback !== undefined) this.values[o.key] = fallback;
    }
    const dir = typeof this.values.project === 'string' ? path.resolve(this.values.project) : undefined;
    if (dir) {
      if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory())
        throw new UserError(`--project ${dir} is not a directory. Nothing was changed.`, 'project', 2);
      this.destinationRoot(dir);
    }
    this.lock = acquireLock(this.destinationRoot(), `arches-storage ${this.command.id}`, {
      readOnly: !this.mutates || this.values.dryRun === true,
    });
    const skip = this.values.skipPrompts;
    this.interactive = promptsAllowed(typeof skip === 'boolean' ? skip : undefined);
    const version = this.values.archesVersion ?? this.stored().archesVersion;
    this.project = detectProject(
      this.destinationRoot(),
      diskFiles(this.destinationRoot()),
      typeof version === 'string' ? version : undefined,
    );
  }

  /** Our keys in .yo-rc.json, as they are on disk now. */
  protected stored(): StoredConfig {
    return readOurs(this.destinationRoot());
  }

  /** The result: one JSON document on stdout with --json, else the text (stdout, so it can be piped). */
  protected report(doc: Readonly<Record<string, unknown>>, text: string): void {
    if (this.values.json === true) process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
    else process.stdout.write(text.endsWith('\n') ? text : text + '\n');
  }
}
