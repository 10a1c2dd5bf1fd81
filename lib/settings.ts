/**
 * What goes inside the managed blocks of settings.py and settings_local.py, and where the settings.py block
 * goes: before the package_settings / settings_local imports and any `if __name__ == "__main__":` block, so
 * that local overrides still win.
 */
import type { PyValue, StorageProvider } from './provider.js';
import type { SettingsStyle, StorageAnswers, StorageSecrets } from './types.js';

export function py(value: PyValue): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return String(value);
  return JSON.stringify(value);
}

const STATICFILES_DEFAULT = 'django.contrib.staticfiles.storage.StaticFilesStorage';

/** The Python lines of the settings.py block for a provider; empty for `local`. */
export function storageSettingsLines(
  spec: StorageProvider,
  a: StorageAnswers,
  style: SettingsStyle,
): string[] {
  if (!spec.backend) return [];
  const lines = [
    `# ${spec.title} for uploaded files (django-storages). MEDIA_URL stays "/files/": Arches serves`,
    '# /files/<uuid> itself and redirects to the storage URL.',
    '# Keys are never written here: see settings_local.py or set them in the environment',
    `# (${spec.secretEnvironment.join(', ')}).`,
    'import os',
    '',
    'if "storages" not in INSTALLED_APPS:',
    '    INSTALLED_APPS += ("storages",)',
  ];
  const env = spec.environment?.(a);
  if (env) {
    lines.push('', `# ${env.why}`);
    for (const [name, value] of env.values) lines.push(`os.environ.setdefault(${py(name)}, ${py(value)})`);
  }
  for (const name of spec.settingsFromEnvironment ?? [])
    lines.push('', `${name} = os.environ.get(${py(name)})`);
  const settings = spec.settings(a);
  lines.push('');
  if (style === 'DEFAULT_FILE_STORAGE') {
    lines.push(`DEFAULT_FILE_STORAGE = ${py(spec.backend.DEFAULT_FILE_STORAGE)}`);
    for (const s of settings) lines.push(`${s.global} = ${py(s.value)}`);
  } else {
    lines.push(
      'STORAGES = {',
      '    "default": {',
      `        "BACKEND": ${py(spec.backend.STORAGES)},`,
      '        "OPTIONS": {',
      ...settings.map((s) => `            ${py(s.option)}: ${py(s.value)},`),
      '        },',
      '    },',
      '    # STORAGES replaces the staticfiles default too: keep the one Arches set, if any.',
      `    "staticfiles": globals().get("STORAGES", {}).get("staticfiles", {"BACKEND": ${py(STATICFILES_DEFAULT)}}),`,
      '}',
    );
  }
  return lines;
}

/** The settings_local.py block: secrets only, or null when there are none to write. */
export function settingsLocalLines(spec: StorageProvider, secrets: StorageSecrets): string[] | null {
  const pairs = spec.secrets(secrets);
  if (!pairs.length) return null;
  return [
    '# Secrets for the storage backend. This file must stay out of version control.',
    ...pairs.map(([k, v]) => `${k} = ${py(v)}`),
  ];
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
