/**
 * `yo arches-storage:verify` / `arches-storage verify`: the Yeoman side of the command; the work is runVerify
 * in run.ts (the package bin runs it without Yeoman).
 */
import type Generator from 'yeoman-generator';
import { CommandGenerator } from '../base/command-generator.js';
import command from './command.js';
import { MUTATES, runVerify } from './run.js';

export default class VerifyGenerator extends CommandGenerator {
  protected readonly mutates = MUTATES;

  constructor(args: string[], options: Generator['options']) {
    super(args, options, command);
  }

  async default(): Promise<void> {
    await runVerify(this.ctx);
  }
}
