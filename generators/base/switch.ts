/**
 * A provider run that switches storages can take the files along (`--migrate`, or a yes at the prompt), in the
 * order that keeps the site working: copy everything to the new storage while the settings still name the old
 * one, switch the settings, then a top-up pass for files uploaded meanwhile (lib/migrate.ts: one listing per
 * side, only what is missing is copied, every copy verified; the same journal as `arches-storage migrate`, so
 * an interrupted run is completed by the next one or by `migrate`).
 *
 * The source is opened before anything changes: its credentials are read from our secrets block while the
 * block still holds them (a provisioning run rewrites it with the new storage's key), and its listing is the
 * count the prompt shows. A source that cannot be listed stops the run before any change.
 */
import path from 'node:path';
import {
  DEFAULT_PREFIXES,
  formatBytes,
  formatResult,
  migrate,
  type MigrateResult,
} from '../../lib/migrate.js';
import type { OptionValue } from '../../lib/options.js';
import type { ObjectStore } from '../../lib/storage/types.js';
import { errorMessage, UserError } from '../../lib/types.js';
import { Stores, type Credentials } from '../migrate/stores.js';

type Values = Readonly<Record<string, OptionValue>>;

export interface SwitchCopyInput {
  root: string;
  pkg: string;
  python?: string;
  /** The storage the project is on now (our settings block names it) and its remembered answers. */
  from: string;
  fromValues: Values;
  /** The storage the run switches to. */
  to: string;
  /** Where progress goes (stderr; a bar on a terminal, a line every few seconds otherwise). */
  progress: NodeJS.WritableStream & { isTTY?: boolean };
  /** Where each pass's summary goes (the run's log). */
  say: (text: string) => void;
}

export interface SwitchCopyReport {
  from: string;
  to: string;
  source: string;
  destination?: string;
  /** What the source held when the run began. */
  found: { files: number; bytes: number };
  copy?: MigrateResult;
  topUp?: MigrateResult;
  notes: string[];
}

export class SwitchCopy {
  private readonly stores: Stores;
  private destination?: ObjectStore;
  private found = { files: 0, bytes: 0 };
  private copied?: MigrateResult;
  private toppedUp?: MigrateResult;
  private notesSaid = 0;

  private constructor(
    private readonly input: SwitchCopyInput,
    stores: Stores,
    private readonly source: ObjectStore,
  ) {
    this.stores = stores;
  }

  /** Why these two storages cannot be copied between (gcs and azure not yet), or undefined. */
  static refusal(from: string, to: string): string | undefined {
    return Stores.refusal(from, 'from') ?? Stores.refusal(to, 'to');
  }

  /** Opens the source (its credentials read now) and counts what it holds under Arches' prefixes. */
  static async open(input: SwitchCopyInput): Promise<SwitchCopy> {
    const stores = new Stores({ root: input.root, pkg: input.pkg, python: input.python });
    const source = await stores.open({
      id: input.from,
      values: input.fromValues,
      side: 'from',
      keyInBlock: true,
    });
    const copy = new SwitchCopy(input, stores, source);
    copy.sayNotes();
    try {
      for (const prefix of DEFAULT_PREFIXES)
        for await (const e of source.list(prefix)) {
          copy.found.files++;
          copy.found.bytes += e.size;
        }
    } catch (error) {
      source.close();
      throw new UserError(
        `Could not list the files stored in ${source.description} (${errorMessage(error)}): nothing was changed. ` +
          `Fix the access, or re-run with --no-migrate and copy them later with \`arches-storage migrate\`.`,
        'migrate',
        1,
      );
    }
    return copy;
  }

  /** Says what the stores noted since the last call (which files, which bucket, whose credentials). */
  private sayNotes(): void {
    for (const n of this.stores.notes.slice(this.notesSaid)) this.input.say(n);
    this.notesSaid = this.stores.notes.length;
  }

  /** Whether the source is local files (it needs no key of ours). */
  get fromLocal(): boolean {
    return this.input.from === 'local';
  }

  get sourceDescription(): string {
    return this.source.description;
  }

  get count(): { files: number; bytes: number } {
    return { ...this.found };
  }

  /** "1,234 files (5.6 GiB) in local files under /srv/p/pkg". */
  describe(): string {
    return `${this.found.files.toLocaleString('en-US')} file${this.found.files === 1 ? '' : 's'} (${formatBytes(this.found.bytes)}) in ${this.source.description}`;
  }

  private async run(dryRun = false): Promise<MigrateResult> {
    const destination = this.destination;
    if (!destination) throw new Error('SwitchCopy: the destination is not open');
    try {
      return await migrate({
        source: this.source,
        destination,
        journal: path.join(this.input.root, '.arches-storage', 'migrate.json'),
        dryRun,
        progress: dryRun
          ? undefined
          : {
              stream: this.input.progress,
              color: this.input.progress.isTTY === true && !process.env.NO_COLOR,
            },
      });
    } catch (error) {
      throw new UserError(
        `Copying from ${this.source.description} to ${destination.description} failed: ${errorMessage(error)}`,
        'migrate',
        1,
      );
    }
  }

  /**
   * The first pass, before the settings switch: opens the destination (its values as this run resolved them,
   * the app key the run created or was given) and copies. Not every file verified present: exit 1, settings
   * untouched, and the next run (or `arches-storage migrate`) completes the copy.
   */
  async copy(toValues: Values, key: Credentials | undefined, keyInBlock: boolean): Promise<MigrateResult> {
    this.destination = await this.stores.open({
      id: this.input.to,
      values: toValues,
      side: 'to',
      key,
      keyInBlock,
    });
    this.sayNotes();
    const result = await this.run();
    this.copied = result;
    this.input.say(formatResult(result).trimEnd());
    if (!result.ok) {
      const missing = result.counts.total - result.counts.copied - result.counts.skipped;
      throw new UserError(
        `${missing} of ${result.counts.total} files are not verified present in ${this.destination.description}; ` +
          `the settings were not switched (they still use ${this.source.description}). Re-run to complete the copy.`,
        'migrate',
        1,
        { migration: this.report() },
      );
    }
    return result;
  }

  /** The second pass, after the switch: files uploaded to the old storage meanwhile. */
  async topUp(): Promise<MigrateResult> {
    const result = await this.run();
    this.toppedUp = result;
    this.input.say(`Top-up after the switch: ${formatResult(result).trimEnd()}`);
    if (!result.ok) {
      const missing = result.counts.total - result.counts.copied - result.counts.skipped;
      throw new UserError(
        `The settings now use the new storage, but ${missing} file(s) from ${this.source.description} are not ` +
          `verified present there: run \`arches-storage migrate\` to complete the copy.`,
        'migrate',
        1,
        { migration: this.report() },
      );
    }
    return result;
  }

  report(): SwitchCopyReport {
    return {
      from: this.input.from,
      to: this.input.to,
      source: this.source.description,
      ...(this.destination ? { destination: this.destination.description } : {}),
      found: this.count,
      ...(this.copied ? { copy: this.copied } : {}),
      ...(this.toppedUp ? { topUp: this.toppedUp } : {}),
      notes: [...this.stores.notes],
    };
  }

  close(): void {
    this.source.close();
    this.destination?.close();
  }
}
