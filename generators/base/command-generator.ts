/**
 * The Yeoman class behind the commands that are not providers (`migrate`, `verify`, `audit`): declare the
 * command's options, resolve them (options, then ARCHES_STORAGE_* variables), find the project, hold the
 * project lock, and print the result as text or, with --json, as one JSON document. A command's generator
 * (generators/<id>/index.ts) extends it with its own `default()` task; the work itself lives in lib/.
 */
import Generator, { type Storage } from 'yeoman-generator';
import type { CommandDefinition } from '../../lib/command.js';
import type { ArchesProject } from '../../lib/detect.js';
import type { OptionValue } from '../../lib/options.js';
import { CommandContext } from './command-context.js';
import { declareOptions, dropErrorPreamble, inertConfig, type StoredConfig } from './storage-generator.js';

export abstract class CommandGenerator extends Generator {
  protected readonly command: CommandDefinition;
  /** What the command works with (lib-level, no Yeoman): values, project, lock, report. */
  protected ctx!: CommandContext;
  /** The resolved option values, by OptionDecl.key (only those given, or their declared fallback). */
  protected values: Readonly<Record<string, OptionValue>> = {};
  protected project!: ArchesProject;
  protected interactive = false;

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
      this.ctx?.release();
      throw error;
    }
    if (args[0].taskName === 'end') this.ctx?.release();
  }

  initializing(): void {
    this.ctx = CommandContext.open(this.command, this.options, this.destinationRoot(), this.mutates);
    this.destinationRoot(this.ctx.root);
    this.values = this.ctx.values;
    this.project = this.ctx.project;
    this.interactive = this.ctx.interactive;
  }

  /** Our keys in .yo-rc.json, as they are on disk now. */
  protected stored(): StoredConfig {
    return this.ctx.stored();
  }

  /** The result: one JSON document on stdout with --json, else the text (stdout, so it can be piped). */
  protected report(doc: Readonly<Record<string, unknown>>, text: string): void {
    this.ctx.report(doc, text);
  }
}
