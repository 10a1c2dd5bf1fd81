/**
 * `yo arches-storage:verify` / `arches-storage verify`: runs lib/verify.ts against the current provider in
 * .yo-rc.json (local when none is recorded) with the project's own Python, prints a line per check (or the
 * --json document) and exits 0 only when no check failed (1 otherwise; 2 with no project Python).
 */
import type Generator from 'yeoman-generator';
import { UserError } from '../../lib/types.js';
import { formatReport, verifyStorage } from '../../lib/verify.js';
import { CommandGenerator } from '../base/command-generator.js';
import { providerById } from '../registry.js';
import verify from './command.js';

export default class VerifyGenerator extends CommandGenerator {
  protected readonly mutates = false;

  constructor(args: string[], options: Generator['options']) {
    super(args, options, verify);
  }

  async default(): Promise<void> {
    const stored = this.stored();
    const provider = providerById(stored.provider && stored.provider !== 'app' ? stored.provider : 'local');
    const remembered = stored.providers?.[provider.id] ?? {};
    const cors = remembered.corsOrigins;
    const report = await verifyStorage({
      root: this.project.root,
      pkg: this.project.pkg,
      release: this.project.release,
      provider,
      corsOrigins: Array.isArray(cors) ? cors : typeof cors === 'string' ? [cors] : [],
      publicRead: remembered.publicRead === true,
      python: typeof this.values.python === 'string' ? this.values.python : undefined,
    });
    const json = this.values.json === true;
    if (report.ok) {
      this.report({ ...report }, formatReport(report));
      return;
    }
    if (!json) this.report({}, formatReport(report));
    const failed = report.checks.filter((c) => c.status === 'failed').map((c) => c.id);
    throw new UserError(
      `verify: ${failed.length} check(s) failed (${failed.join(', ')})`,
      'verify',
      1,
      json ? { ...report } : undefined,
    );
  }
}
