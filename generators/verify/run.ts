/**
 * `yo arches-storage:verify` / `arches-storage verify`: runs lib/verify.ts against the current provider in
 * .yo-rc.json (local when none is recorded) with the project's own Python, prints a line per check (or the
 * --json document) and exits 0 only when no check failed (1 otherwise; 2 with no project Python).
 */
import { UserError } from '../../lib/types.js';
import { formatReport, verifyStorage } from '../../lib/verify.js';
import type { CommandContext } from '../base/command-context.js';
import { providerById } from '../registry.js';

/** Whether the command changes anything (it then holds the project lock exclusively). */
export const MUTATES = false;

export async function runVerify(ctx: CommandContext): Promise<void> {
  const stored = ctx.stored();
  const provider = providerById(stored.provider && stored.provider !== 'app' ? stored.provider : 'local');
  const remembered = stored.providers?.[provider.id] ?? {};
  const cors = remembered.corsOrigins;
  const report = await verifyStorage({
    root: ctx.project.root,
    pkg: ctx.project.pkg,
    release: ctx.project.release,
    provider,
    corsOrigins: Array.isArray(cors) ? cors : typeof cors === 'string' ? [cors] : [],
    publicRead: remembered.publicRead === true,
    python: typeof ctx.values.python === 'string' ? ctx.values.python : undefined,
  });
  const json = ctx.values.json === true;
  if (report.ok) {
    ctx.report({ ...report }, formatReport(report));
    return;
  }
  if (!json) ctx.report({}, formatReport(report));
  const failed = report.checks.filter((c) => c.status === 'failed').map((c) => c.id);
  throw new UserError(
    `verify: ${failed.length} check(s) failed (${failed.join(', ')})`,
    'verify',
    1,
    json ? { ...report } : undefined,
  );
}
