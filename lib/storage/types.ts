/**
 * Where Arches' files live, seen the same way whatever the storage: a flat set of keys ("uploadedfiles/a b.jpg",
 * "/" separated, relative to MEDIA_ROOT or to the bucket's root) listed in pages, read as streams, and written
 * with the checksums the copy has computed, each write verified before it counts.
 */
import type { Readable } from 'node:stream';

export interface ObjectEntry {
  key: string;
  size: number;
  /** Local files: the modification time (ms). */
  mtimeMs?: number;
  /** Object stores: the ETag as listed (an identity of this version, never taken for an MD5). */
  etag?: string;
}

/** Digests of the whole body, base64 (as S3 headers carry them). */
export interface Digests {
  sha256: string;
  md5: string;
}

/** One part of a large body: its bytes and their digests. */
export interface Part {
  body: Buffer;
  digests: Digests;
}

/**
 * What a write is handed: a local file (read with a known length, no buffering), a buffer, or, for large
 * bodies, a generator of parts of the store's part size (each buffer is released once sent).
 */
export type WriteSource =
  | { kind: 'file'; path: string; digests: Digests }
  | { kind: 'buffer'; body: Buffer; digests: Digests }
  | { kind: 'parts'; parts: AsyncIterable<Part>; partSize: number; whole: () => Digests };

export interface WriteResult {
  /** The destination's identity of what was written (ETag, or a local file's size:mtime stamp). */
  stamp: string;
  /**
   * How the written bytes were proven equal to the source's. sha256: the service answered the SHA-256 it stored; content-md5: a single-part body sent with its
   * Content-MD5 to a service shown (by a probe) to refuse a mismatch; read-back: the stored object was read and
   * hashed.
   */
  verifiedBy: 'sha256' | 'content-md5' | 'read-back';
}

export interface ObjectStore {
  /** For messages: "local files under /srv/proj/pkg", "s3://bucket (http://127.0.0.1:9000)". */
  readonly description: string;
  /** Whether reads are local files (a copy from here needs no buffering). */
  readonly kind: 'local' | 's3';
  /** Every object under the prefix, in pages (one LIST request per 1,000 keys for S3; no per-object HEAD). */
  list(prefix?: string): AsyncIterable<ObjectEntry>;
  /** The body of one object. */
  read(key: string): Promise<Readable>;
  /** The local path of a key, for stores that are files (a copy from there streams the file). */
  localPath?(key: string): string;
  /**
   * Writes a body of `size` bytes with the source's digests, and proves the stored bytes equal them (a
   * checksum the store keeps and answers, else a read-back); a mismatch throws and leaves nothing half-written.
   */
  write(key: string, source: WriteSource, size: number): Promise<WriteResult>;
  /** The SHA-256 (base64) of what the store holds under `key` (a read-back). */
  digest(key: string): Promise<string>;
  /** The identity of a listed entry, as `write` reports it (compared with the journal). */
  stamp(entry: ObjectEntry): string;
  /** Releases clients and sockets. */
  close(): void;
}

/** A failed check of a written object (counted as failed, never as copied). */
export class VerifyError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
    this.name = 'VerifyError';
  }
}
