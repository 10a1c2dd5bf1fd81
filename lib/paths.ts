/**
 * Where the package's own files are (templates/, python/, package.json), whether this module runs from its
 * TypeScript source (lib/) or compiled (dist/lib/): the nearest folder above it holding our package.json.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string };
      if (name === 'generator-arches-storage') return dir;
    }
    const up = path.dirname(dir);
    if (up === dir)
      throw new Error('generator-arches-storage: package.json not found above ' + import.meta.url);
    dir = up;
  }
}

/** The package root: holds package.json, templates/ and python/. */
export const PACKAGE_ROOT = packageRoot();
export const packagePath = (...parts: string[]): string => path.join(PACKAGE_ROOT, ...parts);
