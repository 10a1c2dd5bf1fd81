/**
 * Files under a directory (MEDIA_ROOT) as an object store: keys are paths relative to it with "/", listed by
 * one walk (size and mtime from the directory entries' stat), written to a temp file beside the target,
 * read back and compared, then renamed into place.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, opendir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sha256File } from './hash.js';
import {
  VerifyError,
  type ObjectEntry,
  type ObjectStore,
  type WriteResult,
  type WriteSource,
} from './types.js';

const TEMP = '.arches-storage-tmp-';

export class LocalStore implements ObjectStore {
  readonly kind = 'local' as const;
  readonly description: string;
  constructor(readonly root: string) {
    this.root = path.resolve(root);
    this.description = `local files under ${this.root}`;
  }

  localPath(key: string): string {
    const abs = path.resolve(this.root, ...key.split('/'));
    if (!abs.startsWith(this.root + path.sep))
      throw new Error(`key ${JSON.stringify(key)} leaves ${this.root}`);
    return abs;
  }

  async *list(prefix = ''): AsyncIterable<ObjectEntry> {
    const start = prefix ? this.localPath(prefix.replace(/\/$/, '')) : this.root;
    const info = await stat(start).catch(() => undefined);
    if (!info?.isDirectory()) return;
    const walk = async function* (dir: string, rel: string): AsyncGenerator<ObjectEntry> {
      for await (const e of await opendir(dir)) {
        const key = rel ? `${rel}/${e.name}` : e.name;
        const abs = path.join(dir, e.name);
        if (e.isDirectory()) yield* walk(abs, key);
        else if (e.isFile() && !e.name.includes(TEMP)) {
          const s = await stat(abs);
          yield { key, size: s.size, mtimeMs: Math.floor(s.mtimeMs) };
        }
      }
    };
    yield* walk(start, path.relative(this.root, start).split(path.sep).join('/'));
  }

  read(key: string): Promise<Readable> {
    return Promise.resolve(createReadStream(this.localPath(key)));
  }

  stamp(entry: ObjectEntry): string {
    return `${entry.size}:${entry.mtimeMs ?? 0}`;
  }

  async digest(key: string): Promise<string> {
    return sha256File(this.localPath(key));
  }

  async write(key: string, source: WriteSource, size: number): Promise<WriteResult> {
    const target = this.localPath(key);
    await mkdir(path.dirname(target), { recursive: true });
    const temp = path.join(
      path.dirname(target),
      `.${path.basename(target)}${TEMP}${randomBytes(4).toString('hex')}`,
    );
    try {
      let expected = source.kind === 'parts' ? '' : source.digests.sha256;
      if (source.kind === 'file')
        await pipeline(createReadStream(source.path), createWriteStream(temp, { flags: 'wx' }));
      else if (source.kind === 'buffer')
        await pipeline(Readable.from([source.body]), createWriteStream(temp, { flags: 'wx' }));
      else {
        await pipeline(
          Readable.from(
            (async function* () {
              for await (const p of source.parts) yield p.body;
            })(),
          ),
          createWriteStream(temp, { flags: 'wx' }),
        );
        expected = source.whole().sha256;
      }
      const fh = await open(temp, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      const written = await stat(temp);
      if (written.size !== size)
        throw new VerifyError(key, `${key}: wrote ${written.size} bytes, expected ${size}`);
      const back = await sha256File(temp);
      if (back !== expected)
        throw new VerifyError(key, `${key}: the bytes read back differ from the source (SHA-256)`);
      await rename(temp, target);
      const s = await stat(target);
      return {
        stamp: this.stamp({ key, size: s.size, mtimeMs: Math.floor(s.mtimeMs) }),
        verifiedBy: 'read-back',
      };
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  close(): void {}
}
