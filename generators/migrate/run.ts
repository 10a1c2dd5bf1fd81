/**
 * `yo arches-storage:migrate` / `arches-storage migrate`: finds the two storages (the source from --from or
 * the `previous` .yo-rc.json records, else local files; the destination the current provider), where local
 * files are, and which credentials reach each side, then hands them to lib/migrate.ts.
 */
import path from 'node:path';
import { formatResult, migrate, type MigrateResult } from '../../lib/migrate.js';
import { optionText as text } from '../../lib/options.js';
import { errorMessage, UserError } from '../../lib/types.js';
import type { CommandContext } from '../base/command-context.js';
import { MIGRATE_SOURCES } from './command.js';
import { Stores } from './stores.js';

function fail(message: string, subject: string): never {
  throw new UserError(message, subject, 2);
}

/** Whether the command changes anything (it then holds the project lock exclusively). */
export const MUTATES = true;

export async function runMigrate(ctx: CommandContext): Promise<void> {
  const stored = ctx.stored();
  const to = stored.provider;
  if (!to || to === 'app')
    fail(
      'No storage is configured here yet: run `arches-storage <provider>` first, then migrate.',
      'provider',
    );
  const from = text(ctx.values.from) ?? stored.previous ?? 'local';
  if (!(MIGRATE_SOURCES as readonly string[]).includes(from))
    fail(`--from must be one of ${MIGRATE_SOURCES.join(', ')}`, 'from');
  if (from === to && to === 'local')
    fail(
      'The current storage is local files and so is the source: nothing to migrate (--from names the source).',
      'from',
    );
  const concurrency = Number(ctx.values.concurrency ?? '4');
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 999)
    fail('--concurrency must be a whole number from 1 to 999', 'concurrency');
  const stores = new Stores({
    root: ctx.root,
    pkg: ctx.project.pkg,
    python: text(ctx.values.python),
    mediaRoot: text(ctx.values.mediaRoot),
  });
  const remembered = (id: string) => stored.providers?.[id] ?? {};
  // Our secrets block holds the key of the storage the project is on now: the destination's.
  const source = await stores.open({
    id: from,
    values: remembered(from),
    side: 'from',
    keyInBlock: from === to,
  });
  const destination = await stores.open({ id: to, values: remembered(to), side: 'to', keyInBlock: true });
  if (source.description === destination.description)
    fail(`The source and the destination are the same (${source.description}). Nothing was copied.`, 'from');
  let result: MigrateResult;
  try {
    result = await migrate({
      source,
      destination,
      journal: path.join(ctx.root, '.arches-storage', 'migrate.json'),
      dryRun: ctx.values.dryRun === true,
      overwrite: ctx.values.overwrite === true,
      verifyExisting: ctx.values.verifyExisting === true,
      concurrency,
      progress: {
        stream: process.stderr,
        color: process.stderr.isTTY === true && !process.env.NO_COLOR,
      },
    });
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(
      `migrate from ${source.description} to ${destination.description} failed: ${errorMessage(error)}`,
      'migrate',
      1,
    );
  } finally {
    source.close();
    destination.close();
  }
  const doc = { ...result, from, to, source: result.from, destination: result.to, notes: stores.notes };
  const summary = stores.notes.map((n) => `${n}\n`).join('') + formatResult(result);
  if (result.ok) {
    ctx.report(doc, summary);
    return;
  }
  if (ctx.values.json !== true) process.stdout.write(summary);
  throw new UserError(
    `${result.counts.total - result.counts.copied - result.counts.skipped} of ${result.counts.total} source files are not verified present at the destination.`,
    'migrate',
    1,
    { ...doc, ok: false },
  );
}
