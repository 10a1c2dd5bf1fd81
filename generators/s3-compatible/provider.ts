/**
 * S3-compatible services (DigitalOcean Spaces, Wasabi, Backblaze B2, Cloudflare R2, MinIO, others): the
 * S3 backend with the service's endpoint form and quirks. The provisioner (./provisioner.ts) creates the
 * bucket and CORS with the operator's credentials; it is loaded only when a run provisions.
 */
import {
  ACCESS_KEY_ID,
  bucketOption,
  corsOriginOption,
  LEADING,
  PROFILE,
  PROVISION,
  PROVISIONING_TRAILING,
  PUBLIC_READ,
  REGION_DESCRIPTION,
  SECRET_ACCESS_KEY,
  str,
  type OptionDecl,
  type PartialAnswers,
} from '../../lib/options.js';
import { s3CorsConfiguration, s3LifecycleRules } from '../../lib/policies.js';
import type { StorageProvider } from '../../lib/provider.js';
import { S3_BACKEND, s3Packages, s3Secrets, s3Settings, S3_SECRET_ENVIRONMENT } from '../../lib/s3.js';
import {
  endpointUrlWarning,
  s3BucketNameWarning,
  validateEndpointUrl,
  validateRegionFor,
  validateS3BucketName,
} from '../../lib/validate.js';
import { resolveEndpoint, S3_SERVICE_PRESETS, S3_SERVICES, serviceOf } from './services.js';

const regionPicksEndpoint = (a: PartialAnswers): boolean =>
  a.service === 'digitalocean' || a.service === 'wasabi' || a.service === 'backblaze';

const preset = (a: PartialAnswers) => S3_SERVICE_PRESETS[serviceOf(a.service) ?? 'other'];

const REGION: OptionDecl = {
  name: 'region',
  kind: 'string',
  description: REGION_DESCRIPTION,
  key: 'region',
  env: 'ARCHES_STORAGE_REGION',
  persist: true,
  // The endpoint of DigitalOcean, Wasabi and Backblaze depends on the region: it must be said.
  required: regionPicksEndpoint,
  fallback: (a) => (regionPicksEndpoint(a) ? undefined : preset(a).defaultRegion),
  suggest: (a) => preset(a).defaultRegion,
  question: 'Region',
  validate: (v, a) => validateRegionFor(a.service ?? 'other', str(v)),
};

const SERVICE: OptionDecl = {
  name: 'service',
  kind: 'string',
  description: `S3-compatible service preset: ${S3_SERVICES.join(', ')} (fills in the endpoint form and quirks)`,
  key: 'service',
  env: 'ARCHES_STORAGE_SERVICE',
  persist: true,
  required: () => true,
  fallback: (a) => (a.endpoint ? 'other' : undefined),
  question: 'Which S3-compatible service?',
  choices: S3_SERVICES.map((id) => ({ value: id, name: S3_SERVICE_PRESETS[id].title })),
  validate: (v) =>
    serviceOf(str(v)) ? undefined : `--service "${str(v)}" is not one of ${S3_SERVICES.join(', ')}`,
};

const ENDPOINT: OptionDecl = {
  name: 'endpoint',
  kind: 'string',
  description: 'S3-compatible endpoint URL (https://host[:port], no bucket in it); presets fill it in',
  key: 'endpoint',
  env: 'ARCHES_STORAGE_ENDPOINT',
  persist: true,
  required: (a) => a.service === 'minio' || a.service === 'other' || (a.service === 'r2' && !a.account),
  question: 'Endpoint URL',
  validate: (v) => validateEndpointUrl(str(v)),
};

const ACCOUNT: OptionDecl = {
  name: 'account',
  kind: 'string',
  description: 'The Cloudflare account id for --service r2 (fills in the endpoint)',
  key: 'account',
  env: 'ARCHES_STORAGE_ACCOUNT',
  persist: true,
  question: 'Cloudflare account id (empty: give the endpoint instead)',
  when: (a) => a.service === 'r2' && a.endpoint === undefined,
  validate: (v) =>
    /^[0-9a-f]{32}$/.test(str(v))
      ? undefined
      : `--account "${str(v)}" is not a Cloudflare account id (32 hexadecimal characters)`,
};

/**
 * Provisioning needs the app's key (the provisioner signs in with it unless operator credentials are found):
 * asked when none is given or kept, unless the operator's key is to be the app's (--use-operator-key).
 */
const appKeyNeeded = (a: PartialAnswers): boolean =>
  a.provision !== false &&
  a.destroy !== true &&
  a.useOperatorKey !== true &&
  !(a.secretsStored?.includes('AWS_ACCESS_KEY_ID') && a.secretsStored.includes('AWS_SECRET_ACCESS_KEY'));

const APP_KEY_ID: OptionDecl = {
  ...ACCESS_KEY_ID,
  question: 'Access key id the app uses (empty: none)',
  when: appKeyNeeded,
  // An identifier the user checks by eye as it is typed; like the secret, it is never stored or logged.
  masked: false,
};

const APP_SECRET: OptionDecl = {
  ...SECRET_ACCESS_KEY,
  question: 'Secret access key the app uses',
  when: (a) => appKeyNeeded(a) && (a.secretsGiven?.includes('accessKeyId') ?? false),
};

const USE_OPERATOR_KEY: OptionDecl = {
  name: 'use-operator-key',
  kind: 'boolean',
  description:
    'S3-compatible: the credentials you provision with become the app’s key too (long-term keys only)',
  key: 'useOperatorKey',
  persist: false,
  fallback: () => false,
};

const title = 'S3-compatible storage';

const s3Compatible: StorageProvider = {
  id: 's3-compatible',
  label: 'S3-compatible: DigitalOcean Spaces, Wasabi, Backblaze B2, Cloudflare R2, MinIO',
  title,
  summary: 'DigitalOcean Spaces, Wasabi, Backblaze B2, Cloudflare R2, MinIO, others',
  options: [
    ...LEADING,
    bucketOption(validateS3BucketName),
    // The service first: the region's default and rules, and whether an endpoint is needed, follow from it.
    SERVICE,
    REGION,
    ACCOUNT,
    ENDPOINT,
    corsOriginOption({ title }),
    PUBLIC_READ,
    APP_KEY_ID,
    APP_SECRET,
    PROVISION,
    PROFILE,
    USE_OPERATOR_KEY,
    ...PROVISIONING_TRAILING,
  ],
  backend: S3_BACKEND,
  settings: (a) => [
    ...s3Settings(a),
    { option: 'endpoint_url', global: 'AWS_S3_ENDPOINT_URL', value: resolveEndpoint(a) ?? null },
    ...(preset(a).pathStyle
      ? [{ option: 'addressing_style', global: 'AWS_S3_ADDRESSING_STYLE', value: 'path' }]
      : []),
  ],
  // boto3 >= 1.36 sends checksums that MinIO, B2 and others reject; older boto3 ignores these variables.
  environment: () => ({
    why: 'boto3 >= 1.36 sends checksums that most S3-compatible services reject.',
    values: [
      ['AWS_REQUEST_CHECKSUM_CALCULATION', 'when_required'],
      ['AWS_RESPONSE_CHECKSUM_VALIDATION', 'when_required'],
    ],
  }),
  secrets: s3Secrets,
  secretEnvironment: S3_SECRET_ENVIRONMENT,
  packages: s3Packages,
  documentNames: ['cors.json', 'lifecycle.json'],
  documents: (a) => [
    {
      name: 'cors.json',
      description: `CORS for ${a.corsOrigins.join(', ')}`,
      content: s3CorsConfiguration(a.corsOrigins),
    },
    {
      name: 'lifecycle.json',
      description:
        'the bucket lifecycle rules (Arches’ temporary files and incomplete uploads expire after 7 days)',
      content: s3LifecycleRules(),
    },
  ],
  configured: (a) => [
    `Service: ${a.service ? S3_SERVICE_PRESETS[serviceOf(a.service) ?? 'other'].title : 'S3-compatible server'}, endpoint \`${resolveEndpoint(a)}\`${a.region ? `, region \`${a.region}\`` : ''}.`,
    `Bucket \`${a.bucket}\`.`,
  ],
  noteSections: (a) => {
    const p = a.service ? S3_SERVICE_PRESETS[serviceOf(a.service) ?? 'other'] : undefined;
    return p?.note ? [{ title: p.title, text: p.note }] : [];
  },
  warnings: (a) => {
    const endpoint = resolveEndpoint(a);
    return [
      a.bucket ? s3BucketNameWarning(a.bucket) : undefined,
      endpoint ? endpointUrlWarning(endpoint) : undefined,
    ].filter((w): w is string => !!w);
  },
  validateAnswers: (a) =>
    a.service === 'r2' && a.endpoint === undefined && a.account === undefined
      ? ['--service r2 needs --account (the Cloudflare account id) or --endpoint']
      : [],
  missingHints: {
    endpoint:
      ', or --service digitalocean|wasabi|backblaze with --region, or --service r2 with --account, which supply the endpoint',
  },
  provisioner: () => import('./provisioner.js').then((m) => m.s3CompatibleProvisioner),
};

export default s3Compatible;
