/**
 * What goes inside the managed blocks of settings.py and settings_local.py, and where the settings.py block
 * goes: before the package_settings / settings_local imports and any `if __name__ == "__main__":` block, so
 * that local overrides still win.
 */
import type { PyValue, StorageProvider } from './provider.js';
import { renderLines } from './templates.js';
import type { SettingsStyle, StorageAnswers, StorageSecrets } from './types.js';

/** The one serialiser of Python values we write (the templates get it as `py`). */
export function py(value: PyValue): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return String(value);
  return JSON.stringify(value);
}

/**
 * The Python lines of the settings.py block for a provider (templates/settings/<style>.py.ejs); empty for
 * `local`.
 */
export function storageSettingsLines(
  spec: StorageProvider,
  a: StorageAnswers,
  style: SettingsStyle,
): string[] {
  if (!spec.backend) return [];
  return renderLines(`settings/${style}.py.ejs`, {
    title: spec.title,
    secretEnvironment: spec.secretEnvironment,
    environment: spec.environment?.(a),
    settingsFromEnvironment: spec.settingsFromEnvironment ?? [],
    backend: spec.backend,
    settings: spec.settings(a),
    py,
  });
}

/** The settings_local.py block (templates/settings_local.py.ejs): secrets only, or null when there are none. */
export function settingsLocalLines(spec: StorageProvider, secrets: StorageSecrets): string[] | null {
  const pairs = spec.secrets(secrets);
  return pairs.length ? renderLines('settings_local.py.ejs', { secrets: pairs, py }) : null;
}

const TAIL_IMPORT =
  /^\s*(from\s+\.(package_settings|settings_local)\s+import|from\s+\S+\.(package_settings|settings_local)\s+import)/;
const MAIN_GUARD = /^if\s+__name__\s*==\s*["']__main__["']\s*:/;

/**
 * Offset where the settings.py block goes: before the first top-level statement that imports
 * package_settings or settings_local (a `try:` whose body does so, or a bare import) or the `__main__`
 * guard, and before the comment lines directly above it. Appends when there is none.
 */
export function settingsInsertAt(content: string): number {
  const lines = content.split('\n');
  const offsets: number[] = [];
  let pos = 0;
  for (const l of lines) {
    offsets.push(pos);
    pos += l.length + 1;
  }
  const code = (i: number): string => (lines[i] ?? '').replace(/\r$/, '');
  const firstBodyLine = (i: number): string | undefined => {
    for (let j = i + 1; j < lines.length; j++) {
      const t = code(j).trim();
      if (t && !t.startsWith('#')) return code(j);
    }
    return undefined;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = code(i);
    if (/^\s/.test(line) || line === '') continue;
    const anchor =
      TAIL_IMPORT.test(line) ||
      MAIN_GUARD.test(line) ||
      (/^try\s*:/.test(line) && TAIL_IMPORT.test(firstBodyLine(i) ?? ''));
    if (!anchor) continue;
    let start = i;
    while (start > 0 && code(start - 1).startsWith('#')) start--;
    return offsets[start]!;
  }
  return content.length;
}

/** Does a .gitignore already keep `<pkg>/settings_local.py` out of git? Plain patterns only. */
export function gitignoreCovers(gitignore: string | null, pkg: string): boolean {
  if (!gitignore) return false;
  const target = `${pkg}/settings_local.py`;
  let ignored = false;
  for (const raw of gitignore.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    const body = negate ? line.slice(1) : line;
    // A leading "/" (or any inner "/") anchors a pattern to the root; without one it matches at any depth.
    const anchored = body.replace(/^\//, '');
    const matches =
      anchored === target ||
      anchored === `${pkg}/settings_local*` ||
      (!body.startsWith('/') && (body === 'settings_local.py' || body === 'settings_local*')) ||
      body === '**/settings_local.py' ||
      body === '*/settings_local.py';
    if (matches) ignored = !negate;
  }
  return ignored;
}
