/**
 * A bucket as an object store, through @aws-sdk/client-s3 (loaded when a store is opened, so --help and the
 * local-only paths never load the SDK). Listing is ListObjectsV2 pages of 1,000 keys, never a HEAD per
 * object. Writes send the body with a known length (a file stream or a buffer: never an aws-chunked stream),
 * Content-MD5 and x-amz-checksum-sha256 (per part for multipart uploads); a write counts only when the
 * service answers the same SHA-256 it stored; or, when it answers none (most S3-compatible servers), for a
 * single-part body, when the service is one that refuses a body whose Content-MD5 does not match (S3's
 * contract, asked once per store with a probe: some servers, s3rver among them, check nothing); else when a
 * read-back of the object hashes to the source's SHA-256. An ETag is an identity, never taken for an MD5.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { compositeSha256, sha256Stream } from './hash.js';
import {
  VerifyError,
  type ObjectEntry,
  type ObjectStore,
  type WriteResult,
  type WriteSource,
} from './types.js';

export interface S3StoreConfig {
  bucket: string;
  region?: string;
  /** S3-compatible services: the endpoint URL (none for Amazon S3). */
  endpoint?: string;
  pathStyle?: boolean;
  /** The app's key; none: the SDK's default chain (the operator's profile, environment, role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

type S3 = typeof import('@aws-sdk/client-s3');

/**
 * Quiets the AWS SDK's multi-line Node-version warning (set before the SDK loads) and returns the one line said
 * instead on a Node before 22, else undefined.
 */
export function awsSdkNodeNote(): string | undefined {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return Number(process.versions.node.split('.')[0]) < 22
    ? `note: Node ${process.versions.node} is past end of life; AWS SDK releases from January 2027 need Node 22 or later.`
    : undefined;
}

const unquote = (etag: string | undefined): string => (etag ?? '').replace(/^"|"$/g, '');

export class S3Store implements ObjectStore {
  readonly kind = 's3' as const;
  readonly description: string;
  private md5Checked?: Promise<boolean>;
  private constructor(
    private readonly sdk: S3,
    private readonly client: S3Client,
    readonly config: S3StoreConfig,
  ) {
    this.description =
      `s3://${config.bucket}` + (config.endpoint ? ` at ${config.endpoint}` : ' (Amazon S3)');
  }

  static async open(config: S3StoreConfig): Promise<S3Store> {
    const sdk = await import('@aws-sdk/client-s3');
    const client = new sdk.S3Client({
      region: config.region ?? 'us-east-1',
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      forcePathStyle: config.pathStyle === true,
      ...(config.credentials ? { credentials: config.credentials } : {}),
      // Checksums are sent explicitly (x-amz-checksum-sha256 on every body): the SDK's own would frame
      // stream bodies as aws-chunked, which some S3-compatible servers store verbatim.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    return new S3Store(sdk, client, config);
  }

  async *list(prefix = ''): AsyncIterable<ObjectEntry> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new this.sdk.ListObjectsV2Command({
          Bucket: this.config.bucket,
          Prefix: prefix || undefined,
          MaxKeys: 1000,
          ContinuationToken: token,
        }),
      );
      for (const o of page.Contents ?? [])
        if (o.Key !== undefined && !o.Key.endsWith('/'))
          yield { key: o.Key, size: o.Size ?? 0, etag: unquote(o.ETag) };
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async read(key: string): Promise<Readable> {
    const out = await this.client.send(
      new this.sdk.GetObjectCommand({ Bucket: this.config.bucket, Key: key }),
    );
    return out.Body as Readable;
  }

  stamp(entry: ObjectEntry): string {
    return entry.etag ?? '';
  }

  async digest(key: string): Promise<string> {
    return sha256Stream(await this.read(key));
  }

  async write(key: string, source: WriteSource, size: number): Promise<WriteResult> {
    const Bucket = this.config.bucket;
    if (source.kind !== 'parts') {
      const { digests } = source;
      const out = await this.client.send(
        new this.sdk.PutObjectCommand({
          Bucket,
          Key: key,
          Body: source.kind === 'file' ? createReadStream(source.path) : source.body,
          ContentLength: size,
          ContentMD5: digests.md5,
          ChecksumSHA256: digests.sha256,
        }),
      );
      return this.verified(key, unquote(out.ETag), out.ChecksumSHA256, digests.sha256, digests.sha256, true);
    }
    const { UploadId } = await this.client.send(
      new this.sdk.CreateMultipartUploadCommand({ Bucket, Key: key, ChecksumAlgorithm: 'SHA256' }),
    );
    try {
      const parts: Array<{ PartNumber: number; ETag: string; ChecksumSHA256: string }> = [];
      for await (const part of source.parts) {
        const PartNumber = parts.length + 1;
        const out = await this.client.send(
          new this.sdk.UploadPartCommand({
            Bucket,
            Key: key,
            UploadId,
            PartNumber,
            Body: part.body,
            ContentLength: part.body.length,
            ContentMD5: part.digests.md5,
            ChecksumSHA256: part.digests.sha256,
          }),
        );
        if (out.ChecksumSHA256 !== undefined && out.ChecksumSHA256 !== part.digests.sha256)
          throw new VerifyError(key, `${key}: part ${PartNumber} stored with another SHA-256`);
        parts.push({ PartNumber, ETag: out.ETag ?? '', ChecksumSHA256: part.digests.sha256 });
      }
      const done = await this.client.send(
        new this.sdk.CompleteMultipartUploadCommand({
          Bucket,
          Key: key,
          UploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
      const whole = source.whole().sha256;
      return await this.verified(
        key,
        unquote(done.ETag),
        done.ChecksumSHA256,
        compositeSha256(parts.map((p) => p.ChecksumSHA256)),
        whole,
      );
    } catch (error) {
      await this.client
        .send(new this.sdk.AbortMultipartUploadCommand({ Bucket, Key: key, UploadId }))
        .catch(() => undefined);
      throw error;
    }
  }

  /**
   * Whether the service refuses a body whose Content-MD5 does not match it, asked once per store: a PUT of a small
   * probe under archestemp/ with the MD5 of other bytes. Refused with BadDigest or InvalidDigest: it checks.
   * Stored: it does not (the probe is deleted; archestemp/ expires anyway). Anything else: not known, so not
   * relied on.
   */
  private contentMd5Checked(): Promise<boolean> {
    this.md5Checked ??= (async () => {
      const Bucket = this.config.bucket;
      const Key = `archestemp/.arches-storage-md5-probe-${randomUUID()}`;
      const body = Buffer.from('arches-storage: does this service check Content-MD5?\n');
      try {
        await this.client.send(
          new this.sdk.PutObjectCommand({
            Bucket,
            Key,
            Body: body,
            ContentLength: body.length,
            ContentMD5: createHash('md5').update('other bytes').digest('base64'),
          }),
        );
      } catch (error) {
        const e = error as { name?: string; Code?: string };
        return ['BadDigest', 'InvalidDigest'].includes(e.name ?? e.Code ?? '');
      }
      await this.client.send(new this.sdk.DeleteObjectCommand({ Bucket, Key })).catch(() => undefined);
      return false;
    })();
    return this.md5Checked;
  }

  /**
   * The service's stored checksum when it answers one; for a single-part body (sent with its Content-MD5), the
   * service's own check when it makes one; else a read-back of the object.
   */
  private async verified(
    key: string,
    etag: string,
    answered: string | undefined,
    expectedAnswer: string,
    wholeSha256: string,
    md5Sent = false,
  ): Promise<WriteResult> {
    if (answered) {
      // Amazon S3 answers a full-object SHA-256 for PutObject and a composite "-N" one for multipart.
      if (answered !== expectedAnswer && answered !== wholeSha256)
        throw new VerifyError(
          key,
          `${key}: stored with SHA-256 ${answered}, the source's is ${expectedAnswer}`,
        );
      return { stamp: etag, verifiedBy: 'sha256' };
    }
    if (md5Sent && (await this.contentMd5Checked())) return { stamp: etag, verifiedBy: 'content-md5' };
    const back = await this.digest(key);
    if (back !== wholeSha256)
      throw new VerifyError(key, `${key}: the object read back differs from the source (SHA-256)`);
    return { stamp: etag, verifiedBy: 'read-back' };
  }

  close(): void {
    this.client.destroy();
  }
}
