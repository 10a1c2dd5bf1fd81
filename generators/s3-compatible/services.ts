/** The S3-compatible services with a preset endpoint form and quirks. */
import type { StorageAnswers } from '../../lib/types.js';

export type S3Service = 'digitalocean' | 'wasabi' | 'backblaze' | 'r2' | 'minio' | 'other';
export const S3_SERVICES: readonly S3Service[] = [
  'digitalocean',
  'wasabi',
  'backblaze',
  'r2',
  'minio',
  'other',
];

/** The service an answer names, if it is one of ours. */
export const serviceOf = (v: unknown): S3Service | undefined =>
  typeof v === 'string' && (S3_SERVICES as readonly string[]).includes(v) ? (v as S3Service) : undefined;

export interface S3ServicePreset {
  title: string;
  /** Endpoint template: `{region}` and `{account}` are filled in from the answers. */
  endpoint?: string;
  defaultRegion?: string;
  /** Path-style addressing (MinIO and unknown servers); the others take virtual-hosted style. */
  pathStyle: boolean;
  note?: string;
}

export const S3_SERVICE_PRESETS: Record<S3Service, S3ServicePreset> = {
  digitalocean: {
    title: 'DigitalOcean Spaces',
    endpoint: 'https://{region}.digitaloceanspaces.com',
    defaultRegion: 'nyc3',
    pathStyle: false,
  },
  wasabi: {
    title: 'Wasabi',
    endpoint: 'https://s3.{region}.wasabisys.com',
    defaultRegion: 'us-east-1',
    pathStyle: false,
  },
  backblaze: {
    title: 'Backblaze B2',
    endpoint: 'https://s3.{region}.backblazeb2.com',
    defaultRegion: 'us-west-004',
    pathStyle: false,
    note: 'Backblaze B2 has no object ACLs; the overlay sends none.',
  },
  r2: {
    title: 'Cloudflare R2',
    endpoint: 'https://{account}.r2.cloudflarestorage.com',
    defaultRegion: 'auto',
    pathStyle: false,
    note: 'Cloudflare R2 has no ACLs and takes region "auto".',
  },
  minio: { title: 'MinIO', defaultRegion: 'us-east-1', pathStyle: true },
  other: { title: 'another S3-compatible server', defaultRegion: 'us-east-1', pathStyle: true },
};

/** The endpoint a preset implies, or the one given; undefined when neither is known yet. */
export function resolveEndpoint(
  a: Pick<StorageAnswers, 'endpoint' | 'service' | 'region' | 'account'>,
): string | undefined {
  if (a.endpoint) return a.endpoint.replace(/\/$/, '');
  const service = serviceOf(a.service);
  const preset = service ? S3_SERVICE_PRESETS[service] : undefined;
  if (!preset?.endpoint) return undefined;
  if (preset.endpoint.includes('{account}') && !a.account) return undefined;
  const region = a.region ?? preset.defaultRegion ?? '';
  return preset.endpoint.replace('{region}', region).replace('{account}', a.account ?? '');
}
