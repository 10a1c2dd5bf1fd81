/**
 * `yo arches-storage:audit` / `arches-storage audit`: lists orphans and broken links (lib/audit.ts, through
 * the project's Python), and with --delete-orphans deletes the orphans older than --min-age once the list is
 * shown and the deletion confirmed. Exit 0 when every row's object exists (orphans are a warning), 1 when
 * rows point at missing objects.
 */
import type Generator from 'yeoman-generator';
import {
  deleteOrphans,
  formatDeletable,
  formatReport,
  listStorage,
  ownedPrefixes,
  parseMinAge,
  projectPython,
  summarise,
  type DeleteAnswer,
} from '../../lib/audit.js';
import { UserError } from '../../lib/types.js';
import { CommandGenerator } from '../base/command-generator.js';
import audit from './command.js';

export default class AuditGenerator extends CommandGenerator {
  constructor(args: string[], options: Generator['options']) {
    super(args, options, audit);
  }

  /** Only a deletion changes anything (then the project lock is held). */
  protected get mutates(): boolean {
    return this.values.deleteOrphans === true;
  }

  async default(): Promise<void> {
    const minAgeSeconds = parseMinAge(String(this.values.minAge ?? '7d'));
    const extra = this.values.prefix;
    const prefixes = ownedPrefixes(Array.isArray(extra) ? extra : typeof extra === 'string' ? [extra] : []);
    const python = projectPython(
      this.project.root,
      typeof this.values.python === 'string' ? this.values.python : undefined,
    );
    const request = { root: this.project.root, pkg: this.project.pkg, prefixes };
    const listing = await listStorage(python, request);
    const report = summarise(listing, { prefixes, now: Date.now() / 1000, minAgeSeconds });
    const json = this.values.json === true;
    const say = (text: string): void => {
      // Shown before anything is deleted; with --json, stdout carries the document only, so on stderr.
      (json ? process.stderr : process.stdout).write(text + '\n');
    };
    let deletion: (DeleteAnswer & { dryRun: boolean }) | undefined;
    if (this.values.deleteOrphans === true) {
      const chosen = report.orphanList.filter((o) => o.deletable).map((o) => o.name);
      say(formatDeletable(report));
      const dryRun = this.values.dryRun === true;
      if (chosen.length === 0) deletion = { deleted: [], kept: [], dryRun };
      else if (dryRun) {
        say(`Dry run: ${chosen.length} orphan(s) would be deleted; nothing was deleted.`);
        deletion = { deleted: [], kept: chosen.map((name) => ({ name, why: 'dry run' })), dryRun };
      } else {
        let go = true;
        if (this.interactive) {
          const question = {
            type: 'confirm',
            name: 'deleteOrphans',
            message: `Delete these ${chosen.length} orphan(s) from the storage?`,
            default: false,
          };
          go = (
            (await this.prompt(question as Parameters<Generator['prompt']>[0])) as { deleteOrphans: boolean }
          ).deleteOrphans;
        }
        deletion = go
          ? { ...(await deleteOrphans(python, request, chosen, minAgeSeconds)), dryRun }
          : { deleted: [], kept: chosen.map((name) => ({ name, why: 'not confirmed' })), dryRun };
      }
    }
    const doc = {
      ok: report.broken.length === 0,
      python: { path: python.path, source: python.source },
      django: listing.django,
      ...report,
      ...(deletion ? { deletion } : {}),
    };
    const lines = [formatReport(report)];
    if (deletion && !deletion.dryRun) {
      lines.push('', `Deleted ${deletion.deleted.length} orphan(s).`);
      for (const k of deletion.kept) lines.push(`  kept ${k.name}: ${k.why}`);
    }
    if (report.broken.length === 0) {
      this.report(doc, lines.join('\n'));
      return;
    }
    if (!json) this.report(doc, lines.join('\n'));
    throw new UserError(
      `${report.broken.length} row(s) point at objects missing from the storage (broken links)`,
      'files',
      1,
      json ? doc : undefined,
    );
  }
}
