/**
 * `yo arches-storage:migrate` / `arches-storage migrate`: the Yeoman side of the command; the work is runMigrate
 * in run.ts (the package bin runs it without Yeoman).
 */
import type Generator from 'yeoman-generator';
import { CommandGenerator } from '../base/command-generator.js';
import command from './command.js';
import { MUTATES, runMigrate } from './run.js';

export default class MigrateGenerator extends CommandGenerator {
  protected readonly mutates = MUTATES;

  constructor(args: string[], options: Generator['options']) {
    super(args, options, command);
  }

  async default(): Promise<void> {
    await runMigrate(this.ctx);
  }
}
