/**
 * What a command that is not a provider (`migrate`, `verify`, `audit`) works with, without Yeoman: its option
 * values resolved (options, then ARCHES_STORAGE_* variables, then declared fallbacks), the project found, the
 * project lock held, and the result printed as text or, with --json, as one JSON document. The Yeoman
 * generator of a command (base/command-generator.ts) and the package bin's direct path (cli/main.ts, for
 * commands that never prompt) both open one, so `yo arches-storage:migrate` and `arches-storage migrate` do the
 * same work; the bin's path skips loading yeoman-environment (≈ 80 MiB and a second of start-up).
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { explicitValues } from '../../lib/answers.js';
import type { CommandDefinition } from '../../lib/command.js';
import { detectProject, type ArchesProject } from '../../lib/detect.js';
import type { OptionValue } from '../../lib/options.js';
import { diskFiles } from '../../lib/projectfiles.js';
import { acquireLock, readOurs, type Lock } from '../../lib/safefs.js';
import { UserError } from '../../lib/types.js';
import type { StoredConfig } from './storage-generator.js';

/** No prompts under --skip-prompts, CI=true, or without a terminal; --no-skip-prompts forces them. */
export function promptsAllowed(
  skipPrompts: boolean | undefined,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (skipPrompts !== undefined) return !skipPrompts;
  return env.CI !== 'true' && Boolean(process.stdin.isTTY);
}

export class CommandContext {
  private constructor(
    readonly command: CommandDefinition,
    /** The resolved option values, by OptionDecl.key (only those given, or their declared fallback). */
    readonly values: Readonly<Record<string, OptionValue>>,
    /** The project folder (--project, else the working directory). */
    readonly root: string,
    readonly project: ArchesProject,
    readonly interactive: boolean,
    private readonly lock: Lock,
  ) {}

  /**
   * Resolves the options (`cli`: parsed flags, kebab or camelCase keys), finds the project under --project or
   * `cwd`, and takes the project lock (shared when the command changes nothing or only plans).
   */
  static open(
    command: CommandDefinition,
    cli: Record<string, unknown>,
    cwd: string,
    mutates: boolean,
  ): CommandContext {
    const values: Record<string, OptionValue> = {
      ...explicitValues(command.options, cli, process.env).values,
    };
    for (const o of command.options) {
      if (values[o.key] !== undefined) continue;
      const fallback = o.fallback?.({});
      if (fallback !== undefined) values[o.key] = fallback;
    }
    let root = cwd;
    if (typeof values.project === 'string') {
      root = path.resolve(values.project);
      if (!statSync(root, { throwIfNoEntry: false })?.isDirectory())
        throw new UserError(`--project ${root} is not a directory. Nothing was changed.`, 'project', 2);
    }
    const lock = acquireLock(root, `arches-storage ${command.id}`, {
      readOnly: !mutates || values.dryRun === true,
    });
    try {
      const skip = values.skipPrompts;
      const interactive = promptsAllowed(typeof skip === 'boolean' ? skip : undefined);
      const version = values.archesVersion ?? readOurs(root).archesVersion;
      const project = detectProject(root, diskFiles(root), typeof version === 'string' ? version : undefined);
      return new CommandContext(command, values, root, project, interactive, lock);
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  /** Our keys in .yo-rc.json, as they are on disk now. */
  stored(): StoredConfig {
    return readOurs(this.root);
  }

  /** The result: one JSON document on stdout with --json, else the text (stdout, so it can be piped). */
  report(doc: Readonly<Record<string, unknown>>, text: string): void {
    if (this.values.json === true) process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
    else process.stdout.write(text.endsWith('\n') ? text : text + '\n');
  }

  release(): void {
    this.lock.release();
  }
}
