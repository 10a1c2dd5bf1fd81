/** Digests and fixed-size parts of a stream, with bounded memory. */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Digests, Part } from './types.js';

export class Hasher {
  private readonly sha = createHash('sha256');
  private readonly md5: Hash = createHash('md5');
  update(chunk: Buffer): void {
    this.sha.update(chunk);
    this.md5.update(chunk);
  }
  digest(): Digests {
    return { sha256: this.sha.digest('base64'), md5: this.md5.digest('base64') };
  }
}

export async function digestStream(stream: Readable): Promise<Digests> {
  const h = new Hasher();
  for await (const chunk of stream) h.update(chunk as Buffer);
  return h.digest();
}

export const digestFile = (file: string): Promise<Digests> => digestStream(createReadStream(file));

/** The SHA-256 (base64) of a stream alone: a read-back needs no MD5, the costlier of the two here. */
export async function sha256Stream(stream: Readable): Promise<string> {
  const sha = createHash('sha256');
  for await (const chunk of stream) sha.update(chunk as Buffer);
  return sha.digest('base64');
}

export const sha256File = (file: string): Promise<string> => sha256Stream(createReadStream(file));

export async function readAll(stream: Readable, size: number): Promise<Buffer> {
  const body = Buffer.allocUnsafe(size);
  let at = 0;
  for await (const chunk of stream) {
    const c = chunk as Buffer;
    if (at + c.length > size) throw new Error(`the body is longer than the listed ${size} bytes`);
    c.copy(body, at);
    at += c.length;
  }
  if (at !== size) throw new Error(`the body has ${at} bytes, the listing said ${size}`);
  return body;
}

/** The SHA-256 S3 answers for a multipart object: the digest of the parts' digests, "-N". */
export function compositeSha256(partDigests: readonly string[]): string {
  const h = createHash('sha256');
  for (const d of partDigests) h.update(Buffer.from(d, 'base64'));
  return `${h.digest('base64')}-${partDigests.length}`;
}

/**
 * Cuts a stream into parts of `partSize` bytes (the last one shorter), each in its own buffer taken from the
 * budget before it is filled and given back once the consumer asks for the next part; the whole body's
 * digests are available from `whole()` once every part has been consumed.
 */
export function partsOf(
  stream: Readable,
  size: number,
  partSize: number,
  budget: ByteBudget,
): { parts: AsyncIterable<Part>; whole: () => Digests } {
  const all = new Hasher();
  let final: Digests | undefined;
  async function* generate(): AsyncGenerator<Part> {
    const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    let pending: Buffer | undefined;
    let left = size;
    while (left > 0) {
      const length = Math.min(partSize, left);
      await budget.take(length);
      try {
        const body = Buffer.allocUnsafe(length);
        let at = 0;
        while (at < length) {
          let chunk = pending;
          pending = undefined;
          if (!chunk) {
            const next = await iterator.next();
            if (next.done) throw new Error(`the body ended after ${size - left + at} of ${size} bytes`);
            chunk = next.value;
          }
          const n = Math.min(chunk.length, length - at);
          chunk.copy(body, at, 0, n);
          if (n < chunk.length) pending = chunk.subarray(n);
          at += n;
        }
        const h = new Hasher();
        h.update(body);
        all.update(body);
        left -= length;
        yield { body, digests: h.digest() };
      } finally {
        budget.give(length);
      }
    }
    if (pending?.length || !(await iterator.next()).done) {
      stream.destroy();
      throw new Error(`the body is longer than the listed ${size} bytes`);
    }
    final = all.digest();
  }
  return {
    parts: generate(),
    whole: () => {
      if (!final) throw new Error('whole() before every part was read');
      return final;
    },
  };
}

/** Bytes of buffers the copy may hold at once (whatever the files' sizes and the concurrency). */
export class ByteBudget {
  private used = 0;
  private readonly waiting: Array<{ n: number; go: () => void }> = [];
  constructor(readonly limit: number) {}
  async take(n: number): Promise<void> {
    const want = Math.min(n, this.limit);
    if (this.used + want <= this.limit && this.waiting.length === 0) {
      this.used += want;
      return;
    }
    await new Promise<void>((go) => this.waiting.push({ n: want, go }));
  }
  give(n: number): void {
    this.used -= Math.min(n, this.limit);
    while (this.waiting.length && this.used + this.waiting[0]!.n <= this.limit) {
      const next = this.waiting.shift()!;
      this.used += next.n;
      next.go();
    }
  }
}
