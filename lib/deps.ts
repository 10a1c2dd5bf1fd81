/**
 * The dependency side of the overlay. The project's own declarations are read by lib/requirements.ts
 * (requirements files, with their includes) and lib/pyproject.ts (pyproject.toml), their environment markers
 * evaluated by lib/markers.ts; here they are checked against what the overlay needs, over the real releases of
 * each package (lib/releases.ts): a declaration that no needed release satisfies is refused, naming its file:line
 * and why the package is needed.
 */
import { compareSpecifiers, isSpecifier, namedIntersection, normalizeName } from './releases.js';
import {
  formatRequirement,
  locateDeclared,
  parseRequirement,
  type Declared,
  type HashModeSite,
} from './requirements.js';
import { UserError, type NeededPackage } from './types.js';

export { evaluateMarker, type MarkerVerdict } from './markers.js';
export { applyPyprojectBlock, readPyprojectDependencies } from './pyproject.js';
export { normalizeName } from './releases.js';
export {
  applyRequirementsBlock,
  formatRequirement,
  locateDeclared,
  readRequirementsTree,
  type Declared,
} from './requirements.js';

export interface DependencyDecision {
  package: NeededPackage;
  action: 'add' | 'keep';
  existing?: Declared;
  warning?: string;
}

/** The refusal for a project whose pip install runs in hash-checking mode, naming the lines to add. */
function hashModeError(site: HashModeSite, add: readonly NeededPackage[]): UserError {
  const how =
    site.how === '--hash'
      ? "has a --hash, which turns on pip's hash-checking mode for the whole install"
      : "turns on pip's hash-checking mode (--require-hashes)";
  return new UserError(
    `${locateDeclared(site)} ${how}: pip would then refuse every requirement without a hash, and the ` +
      'generator cannot compute hashes offline. Add these lines to the unhashed list your hashes are generated ' +
      'from (e.g. requirements.in, then re-run `pip-compile --generate-hashes`), then re-run the generator:\n' +
      add.map((p) => `  ${formatRequirement(p)}`).join('\n'),
    site.file,
  );
}

/** How a declaration's specifier relates to what a needed package accepts. */
type Verdict =
  | { kind: 'conflict' }
  | { kind: 'unchecked'; why: string }
  | { kind: 'fits'; outside?: string; note?: string };

/**
 * Over the package's real releases: a conflict when the declaration admits releases but none that `accept`
 * admits; unchecked when it admits no listed release (one made since the list, or none at all: not ours to
 * guess). Without a list, only the versions the two specifiers name are tried, and the warning says so.
 */
function judge(p: NeededPackage, spec: string): Verdict {
  const c = compareSpecifiers(p.name, spec, p.accept);
  const want = `${p.name}${p.accept}`;
  if (c.list) {
    if (c.both !== undefined)
      return { kind: 'fits', ...(c.onlyFirst === undefined ? {} : { outside: c.onlyFirst }) };
    if (c.firstAdmitsAny) return { kind: 'conflict' };
    // Only a release made since the list could satisfy it: refused when even such a release could not meet
    // what is needed (`>=6.1` against `<6.0.0`), kept with a warning when one could (`==5.2.99`).
    const meeting = namedIntersection(spec, p.accept);
    if (meeting === undefined) return { kind: 'conflict' };
    return {
      kind: 'unchecked',
      why:
        `admits no ${p.name} release the generator knows (${c.list.source}), so it was not checked against ` +
        `${want} (${p.reason}); a later release such as ${meeting} would satisfy both.`,
    };
  }
  const noList = `the generator has no release list for ${p.name}, so it tried only the versions the two specifiers name`;
  if (c.both === undefined)
    return {
      kind: 'unchecked',
      why: `was not checked against ${want} (${p.reason}): ${noList}, and none satisfies both.`,
    };
  return {
    kind: 'fits',
    ...(c.onlyFirst === undefined ? {} : { outside: c.onlyFirst }),
    note: `${noList}: ${c.both} satisfies both it and ${want} (${p.reason}); check that such a release exists.`,
  };
}

/**
 * Decide, per needed package, whether the project's own declarations already cover it (`keep`) or the block must
 * declare it (`add`); refuses (UserError, exit 1) when a declaration or constraint admits no release the package
 * needs, or when something must be added to an install that runs in pip's hash-checking mode.
 * Declarations marked `inactive` (their marker is false on every Python of the Arches line) are not checked.
 */
export function decideDependencies(
  needed: readonly NeededPackage[],
  declared: readonly Declared[],
): DependencyDecision[] {
  const conflicts: string[] = [];
  let conflictFile: string | undefined;
  const decisions: DependencyDecision[] = [];
  for (const p of needed) {
    if (!isSpecifier(p.accept))
      throw new Error(`internal error: invalid accept range ${JSON.stringify(p.accept)} for ${p.name}`);
    const want = `${p.name}${p.accept}`;
    const named = declared.filter((d) => !d.managed && normalizeName(d.name) === normalizeName(p.name));
    const warnings: string[] = named
      .filter((d) => d.inactive)
      .map((d) => `${locateDeclared(d)}: \`${d.text}\` was not checked: ${d.inactive}.`);
    const mine = named.filter((d) => !d.inactive);
    let conflicted = false;
    for (const d of mine) {
      const scope = d.scope ? ` (${d.scope})` : '';
      const where = `${locateDeclared(d)}: \`${d.text}\`${d.constraint ? ', a constraint (-c file),' : ''}${scope}`;
      const parsed = parseRequirement(d.text);
      if (parsed && parsed.kind !== 'version') {
        warnings.push(
          `${where} installs ${p.name} from a URL or path, so its version cannot be checked against ${want} (${p.reason}).`,
        );
        continue;
      }
      const spec = parsed?.specifier ?? d.specifier;
      if (!isSpecifier(spec)) {
        warnings.push(
          `${where}: cannot read the version specifier "${spec}", so it was not checked against ${want} (${p.reason}).`,
        );
        continue;
      }
      const verdict = judge(p, spec);
      if (verdict.kind === 'conflict') {
        conflicts.push(`${where} admits no version in ${want}, which is needed because ${p.reason}.`);
        conflictFile ??= d.file;
        conflicted = true;
        continue;
      }
      if (verdict.kind === 'unchecked') warnings.push(`${where} ${verdict.why}`);
      if (verdict.kind === 'fits' && verdict.note) warnings.push(`${where}: ${verdict.note}`);
      // A constraint only narrows what a requirement asks for: a loose one, or one without extras, is fine.
      if (d.constraint) continue;
      if (verdict.kind === 'fits' && verdict.outside !== undefined) {
        warnings.push(
          `${where} also allows ${p.name} versions outside ${p.accept}, such as ${verdict.outside} (${p.reason}); ` +
            `consider pinning it to ${p.name}${p.specifier}.`,
        );
      }
      const missing = p.extras.filter(
        (x) => !(parsed?.extras ?? []).some((y) => normalizeName(y) === normalizeName(x)),
      );
      if (missing.length)
        warnings.push(
          `${where} lacks the extra${missing.length > 1 ? 's' : ''} [${missing.join(',')}] that cloud storage needs; ` +
            `add ${missing.length > 1 ? 'them' : 'it'} (e.g. ` +
            `${formatRequirement({ ...p, extras: [...(parsed?.extras ?? []), ...missing], specifier: spec })}).`,
        );
    }
    if (conflicted) continue;
    // A constraint installs nothing: the package is still added unless a requirement declares it.
    const existing = mine.find((d) => !d.constraint);
    decisions.push({
      package: p,
      action: existing ? 'keep' : 'add',
      ...(existing ? { existing } : {}),
      ...(warnings.length ? { warning: warnings.join(' ') } : {}),
    });
  }
  if (conflicts.length) {
    throw new UserError(
      (conflicts.length === 1
        ? 'A declared dependency conflicts with what cloud storage needs:\n'
        : `${conflicts.length} declared dependencies conflict with what cloud storage needs:\n`) +
        conflicts.map((c) => `  - ${c}`).join('\n') +
        '\nChange or remove these declarations, then re-run the generator.',
      conflictFile,
    );
  }
  const add = decisions.filter((d) => d.action === 'add').map((d) => d.package);
  const site = declared.find((d) => d.hashMode)?.hashMode;
  if (add.length && site) throw hashModeError(site, add);
  return decisions;
}
