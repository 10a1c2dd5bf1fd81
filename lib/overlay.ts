/**
 * Builds the overlay: from a detected project and the user's answers, the complete list of file changes.
 * Pure apart from reading through `files` and rendering templates; it writes nothing. Every check that can
 * refuse runs here, before the generator writes a byte.
 */
import nodePath from 'node:path';
import { applyBlock, blockLines } from './blocks.js';
import {
  applyPyprojectBlock,
  applyRequirementsBlock,
  decideDependencies,
  formatRequirement,
} from './deps.js';
import { OVERLAY_DIR, type ArchesProject, type ProjectFiles } from './detect.js';
import { djangoSpecifier, formatRelease, neededPackages, settingsStyle } from './matrix.js';
import type { StorageProvider } from './provider.js';
import { checkStorageSettings, defaultSettingsInspector, type SettingsInspector } from './pysettings.js';
import { utf8Bytes } from './projectfiles.js';
import { renderLines, renderTemplate } from './templates.js';
import { gitignoreCovers, settingsInsertAt, settingsLocalLines, storageSettingsLines } from './settings.js';
import { UserError, type FileChange, type StorageAnswers, type StorageSecrets } from './types.js';

export interface OverlayInput {
  project: ArchesProject;
  /** The provider's data (generators/<id>/provider.ts). */
  provider: StorageProvider;
  /** Every document name any provider writes to arches-storage/: those this provider does not are removed. */
  documentNames: readonly string[];
  answers: StorageAnswers;
  secrets: StorageSecrets;
  /** Files this generator created earlier (from .yo-rc.json): emptied ones are deleted, not left empty. */
  created: readonly string[];
  /** --secrets-file: the keys go to this dotenv file (relative to the root, or absolute) instead. */
  secretsFile?: string;
  /** Secrets files remembered for any provider: `local` removes its blocks from them. */
  rememberedSecretsFiles?: readonly string[];
  /** Judges the settings with the block (core/pysettings.ts); default: the real one, with Python. */
  inspect?: SettingsInspector;
}

/** A --secrets-file as the overlay names it: root-relative with forward slashes inside the project. */
export function secretsFilePath(root: string, file: string): { path: string; inside: boolean } {
  const abs = nodePath.resolve(root, file);
  const rel = nodePath.relative(root, abs);
  const inside = rel !== '' && !rel.startsWith('..') && !nodePath.isAbsolute(rel);
  return { path: inside ? rel.split(nodePath.sep).join('/') : abs, inside };
}

/** The dotenv lines of the secrets file (templates/secrets.env.ejs): NAME=value, unquoted. */
function dotenvLines(spec: StorageProvider, secrets: StorageSecrets): string[] {
  const pairs = spec.secrets(secrets);
  for (const [name, value] of pairs) {
    if (/[\s"'\\#]/.test(value)) {
      throw new UserError(
        `The value for ${name} contains a space, quote, backslash or # and cannot be written to a dotenv file unquoted. Nothing was written.`,
        'secrets-file',
        2,
      );
    }
  }
  return renderLines('secrets.env.ejs', { secrets: pairs });
}

/** Which "Keys" text NOTES.md gives (templates/notes/keys-<kind>.md.ejs), and where the keys are. */
type NotesKeys = { kind: 'settings-local' | 'dotenv'; at: string } | { kind: 'none' };

/** Keys kept in settings_local.py win over the environment a secrets file feeds: NOTES names them first. */
function notesKeys(settingsLocal: string | undefined, secretsFile: string | undefined): NotesKeys {
  if (settingsLocal !== undefined) return { kind: 'settings-local', at: settingsLocal };
  if (secretsFile !== undefined) return { kind: 'dotenv', at: secretsFile };
  return { kind: 'none' };
}

export interface Overlay {
  changes: FileChange[];
  warnings: string[];
  /** Files the generator has created and that exist after this overlay (for .yo-rc.json). */
  created: string[];
  /** Human-readable plan lines. */
  plan: string[];
}

const json = (value: unknown): string => JSON.stringify(value, null, 2) + '\n';

function changeOf(path: string, before: string | null, after: string | null): FileChange | undefined {
  return before === after ? undefined : { path, before, after };
}

export function buildOverlay(files: ProjectFiles, input: OverlayInput): Overlay {
  const { project, answers: a, secrets } = input;
  const style = settingsStyle(project.release);
  const spec = input.provider;
  const warnings: string[] = [...(spec.warnings?.(a) ?? [])];
  const changes: FileChange[] = [];
  const created = new Set(input.created);
  const push = (c: FileChange | undefined): void => {
    if (c) changes.push(c);
  };
  /**
   * A managed block put into (or taken out of) a file, with the created-file bookkeeping: a file this run
   * creates is recorded, and one the generator created that would be left empty is deleted instead.
   */
  const ownedBlock = (rel: string, before: string | null, lines: readonly string[] | null): string | null => {
    let after = applyBlock(rel, before, lines);
    if (after !== null && before === null) created.add(rel);
    if (after === '' && created.has(rel)) after = null;
    if (after === null) created.delete(rel);
    return after;
  };

  // 1. Dependencies: refuse conflicting pins anywhere in the project before touching anything.
  const needed = neededPackages(project.release, spec.packages);
  const decisions = decideDependencies(
    needed,
    project.declared.filter((d) => !d.managed),
  );
  for (const d of decisions) if (d.warning) warnings.push(d.warning);
  // What detection noticed and could not judge (a URL include, a marker it cannot evaluate).
  warnings.push(...(project.warnings ?? []));
  const add = decisions.filter((d) => d.action === 'add').map((d) => d.package);
  const target = project.dependencyTarget;
  const depBefore = files.read(target.path);
  let depAfter: string | null;
  if (target.kind === 'pyproject') {
    depAfter = applyPyprojectBlock(target.path, depBefore ?? '', add);
  } else {
    depAfter = applyRequirementsBlock(target.path, depBefore, add);
    if (depAfter !== null && depBefore === null) created.add(target.path);
    if (depAfter === null || (depAfter === '' && created.has(target.path))) {
      depAfter = null;
      created.delete(target.path);
    }
  }
  push(changeOf(target.path, depBefore, depAfter));

  // 2. settings.py: the managed block before the local imports; nothing of the user's may override it.
  const settingsBefore = files.read(project.settingsPath);
  if (settingsBefore === null) throw new UserError(`${project.settingsPath} is missing.`, 'project');
  const localPath = `${project.pkg}/settings_local.py`;
  const localBefore = files.read(localPath);
  const local = spec.backend === null;
  const settingsLines = local ? null : storageSettingsLines(spec, a, style);
  const settingsAfter = applyBlock(project.settingsPath, settingsBefore, settingsLines, settingsInsertAt);
  if (!local && settingsAfter !== null) {
    // Judged by Python itself (python/settings_inspect.py), not by line patterns: whatever would override the
    // block, or that Django refuses beside it, stops the run here.
    const inspect = input.inspect ?? defaultSettingsInspector();
    const judged = checkStorageSettings(inspect, files, project, style, spec, a, settingsAfter);
    warnings.push(...judged.warnings);
    if (judged.problems.length) {
      throw new UserError(
        `Refusing to write the storage block: these settings would not work:\n  ${judged.problems.join('\n  ')}\n` +
          'Nothing was written.',
        'settings',
      );
    }
  }
  push(changeOf(project.settingsPath, settingsBefore, settingsAfter));

  // 3. Secrets: only in a git-ignored file, mode 0600 — the settings_local.py block, or the --secrets-file
  // dotenv file. Kept as they are unless new ones are given; new ones in the secrets file move them out of
  // settings_local.py (whose values would otherwise win over the environment).
  const secretsFile =
    input.secretsFile === undefined ? undefined : secretsFilePath(project.root, input.secretsFile);
  const givenSecrets = settingsLocalLines(spec, secrets);
  const newSecrets = secretsFile ? null : givenSecrets;
  const hadSecrets = localBefore !== null && blockLines(localPath, localBefore) !== undefined;
  const localLines =
    local || (secretsFile && givenSecrets)
      ? null
      : (newSecrets ?? (hadSecrets ? blockLines(localPath, localBefore)! : null));
  /** Secrets files git would not ignore without a rule of ours. */
  const unignored: string[] = [];
  const secretPaths: string[] = [];
  if (localLines !== null) secretPaths.push(localPath);
  let secretsFileChange: FileChange | undefined;
  let secretsInFile: string | undefined;
  const fileSecrets: Array<{ path: string; lines: string[] | null }> = [];
  if (secretsFile) {
    const lines = givenSecrets ? dotenvLines(spec, secrets) : null;
    fileSecrets.push({ path: secretsFile.path, lines });
  }
  if (local) {
    for (const f of input.rememberedSecretsFiles ?? [])
      fileSecrets.push({ path: secretsFilePath(project.root, f).path, lines: null });
  }
  for (const f of fileSecrets) {
    const before = files.read(f.path);
    const keep = f.lines ?? (local || before === null ? null : (blockLines(f.path, before) ?? null));
    const after = ownedBlock(f.path, before, keep);
    if (keep !== null && secretsFile?.inside) secretPaths.push(f.path);
    const change = changeOf(f.path, before, after);
    if (change && keep !== null) change.secret = true;
    if (f.lines) secretsFileChange = change;
    if (keep !== null && secretsFile && f.path === secretsFile.path) secretsInFile = f.path;
    push(change);
  }
  for (const rel of newSecrets
    ? [localPath]
    : secretsFileChange && secretsFile?.inside
      ? [secretsFile.path]
      : []) {
    if (files.tracked?.(rel)) {
      throw new UserError(
        `${rel} is tracked by git, so keys written there would be committed. Untrack it ` +
          `(git rm --cached ${rel}), choose a --secrets-file outside git, or leave the key options out and set ` +
          `${spec.secretEnvironment.join(', ')} in the environment. Nothing was written.`,
        rel === localPath ? 'settings_local' : 'secrets-file',
      );
    }
  }
  const localAfter = ownedBlock(localPath, localBefore, localLines);
  const localChange = changeOf(localPath, localBefore, localAfter);
  if (localChange && localLines !== null) localChange.secret = true;
  push(localChange);

  const gitignoreBefore = files.read('.gitignore');
  const withoutOurs = gitignoreBefore === null ? null : applyBlock('.gitignore', gitignoreBefore, null);
  // Asked of git (negations, nested .gitignore files, excludes); a plain reading only where git cannot answer.
  const wouldIgnore = (rel: string, gitignore: string | null): boolean =>
    files.ignored?.(rel, { '.gitignore': gitignore }) ??
    (rel === localPath ? gitignoreCovers(gitignore, project.pkg) : false);
  for (const rel of secretPaths) if (!wouldIgnore(rel, withoutOurs)) unignored.push(rel);
  const gitignoreAfter = ownedBlock(
    '.gitignore',
    gitignoreBefore,
    unignored.length ? renderLines('gitignore.ejs', { paths: unignored }) : null,
  );
  const writingSecrets = newSecrets !== null || secretsFileChange !== undefined;
  for (const rel of writingSecrets ? unignored : []) {
    if (wouldIgnore(rel, gitignoreAfter)) continue;
    throw new UserError(
      `${rel} would still be committed by git even with the rule /${rel} in .gitignore: a nested ` +
        `.gitignore or an exclude file un-ignores it (git check-ignore -v --no-index ${rel} shows which ` +
        `rule). Fix that rule, or leave the key options out and set ${spec.secretEnvironment.join(', ')} in the ` +
        `environment. Nothing was written.`,
      rel === localPath ? 'settings_local' : 'secrets-file',
    );
  }
  push(changeOf('.gitignore', gitignoreBefore, gitignoreAfter));

  // 4. The documents this provider applies, and the notes; files of other providers are removed.
  const documents = spec.documents(a);
  const owned: Record<string, string | null> = { 'NOTES.md': null };
  for (const name of input.documentNames) owned[name] = null;
  for (const d of documents) owned[d.name] = utf8Bytes(json(d.content));
  if (!local) {
    owned['NOTES.md'] = utf8Bytes(
      renderTemplate('NOTES.md.ejs', {
        a,
        spec,
        project,
        release: formatRelease(project.release),
        django: djangoSpecifier(project.release),
        style,
        configured: spec.configured(a),
        sections: spec.noteSections?.(a) ?? [],
        documents,
        requirements: add.map(formatRequirement),
        kept: decisions.filter((d) => d.action === 'keep').map((d) => d.existing!.text),
        dependencyFile: target.path,
        pinsInOverlay: target.path.startsWith(`${OVERLAY_DIR}/`),
        localPath,
        keys: notesKeys(localLines !== null ? localPath : undefined, secretsInFile),
      }),
    );
  }
  for (const [name, after] of Object.entries(owned)) {
    const rel = `${OVERLAY_DIR}/${name}`;
    push(changeOf(rel, files.read(rel), after));
  }

  const plan = [
    `Arches ${formatRelease(project.release)} (from ${project.releaseSource}), package ${project.pkg}, ${style} style`,
    `Storage: ${spec.title}${a.bucket ? `, bucket ${a.bucket}` : ''}${a.container ? `, container ${a.container}` : ''}`,
    ...changes.map(
      (c) => `${c.before === null ? 'create' : c.after === null ? 'delete' : 'update'} ${c.path}`,
    ),
  ];
  if (!changes.length) plan.push('Nothing to change: the project already has this overlay.');
  return { changes, warnings, created: [...created].sort(), plan };
}
