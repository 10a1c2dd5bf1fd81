/**
 * The project on disk as the core reads it. Every file is read as bytes and handed on as a *binary string*
 * (one character per byte, latin1), and written back the same way: a UTF-8 BOM, a PEP 263 Latin-1 file, CRLF
 * line ends, tabs or a missing final newline survive byte for byte, whatever the encoding. What the generator
 * inserts into a user's file is ASCII (checked where blocks are rendered), so it reads the same in any of them;
 * files the generator writes whole (NOTES.md, the JSON documents) are UTF-8 text turned into bytes by `utf8Bytes`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ProjectFiles } from './detect.js';
import { isIgnored, isTracked } from './gitignore.js';
import { UserError } from './types.js';

/** UTF-8 text as the binary string of its bytes. */
export const utf8Bytes = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

/** A binary string shown as text (UTF-8 where it is, else byte for byte), for diffs and messages. */
export const bytesAsText = (bytes: string): string => {
  const buffer = Buffer.from(bytes, 'latin1');
  const text = buffer.toString('utf8');
  return Buffer.from(text, 'utf8').equals(buffer) ? text : bytes;
};

/** Reads a file as a binary string; null when it does not exist. */
export function readBytes(abs: string, rel = abs): string | null {
  try {
    return readFileSync(abs).toString('latin1');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw new UserError(
      `${rel} cannot be read (${code ?? (error as Error).message}): fix its permissions and run again. Nothing was written.`,
      rel,
    );
  }
}

export function diskFiles(root: string): ProjectFiles {
  return {
    // resolve, not join: an absolute path (a --secrets-file outside the project) is read where it is.
    read: (rel) => readBytes(path.resolve(root, rel), rel),
    dirs: (rel) => {
      try {
        return readdirSync(path.join(root, rel), { withFileTypes: true })
          .filter((d) => d.isDirectory())
          .map((d) => d.name)
          .sort();
      } catch {
        return [];
      }
    },
    tracked: (rel) => isTracked(root, rel),
    ignored: (rel, overrides) => isIgnored(root, rel, overrides),
  };
}
