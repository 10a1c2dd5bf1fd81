/**
 * Pure validators for the names, regions, URLs and origins a user types. Each `validate*` function returns
 * `undefined` when the value is valid, or one message that names the value and the first rule it breaks.
 * The `*Warning` functions return a message for values that work but are risky.
 *
 * Nothing here does I/O; callers decide whether a message is an error (UserError) or a prompt hint.
 */

import type { StorageProvider } from './provider.js';

/** Four dot-separated groups of 1–3 digits, e.g. `192.168.5.4`. */
const IPV4_SHAPE = /^\d{1,3}(\.\d{1,3}){3}$/;

function quote(value: string): string {
  return JSON.stringify(value);
}

/** Names the first character in `value` that is not accepted by `allowed` (a single-character regex). */
function firstBadCharacter(value: string, allowed: RegExp): string | undefined {
  for (const ch of value) {
    if (!allowed.test(ch)) return ch;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// AWS S3 bucket names
// ---------------------------------------------------------------------------------------------------------

const S3_FORBIDDEN_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'] as const;
const S3_FORBIDDEN_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'] as const;

/**
 * General-purpose S3 bucket naming rules: 3–63 characters of lowercase letters, digits, `.` and `-`,
 * starting and ending with a letter or digit, no `..`, not an IP address, and none of the prefixes and
 * suffixes AWS reserves for other bucket types.
 */
export function validateS3BucketName(name: string): string | undefined {
  const bad = (rule: string): string => `bucket name ${quote(name)} is invalid: ${rule}`;
  if (name.length < 3 || name.length > 63) {
    return bad(`S3 bucket names must be between 3 and 63 characters long (this one has ${name.length})`);
  }
  const ch = firstBadCharacter(name, /[a-z0-9.-]/);
  if (ch !== undefined) {
    const detail = /[A-Z]/.test(ch) ? 'no uppercase letters' : `no ${quote(ch)}`;
    return bad(`S3 bucket names may contain only lowercase letters, digits, "." and "-" (${detail})`);
  }
  if (!/^[a-z0-9]/.test(name)) {
    return bad('S3 bucket names must start with a lowercase letter or a digit');
  }
  if (!/[a-z0-9]$/.test(name)) {
    return bad('S3 bucket names must end with a lowercase letter or a digit');
  }
  if (name.includes('..')) {
    return bad('S3 bucket names must not contain two adjacent periods ("..")');
  }
  if (IPV4_SHAPE.test(name)) {
    return bad('S3 bucket names must not be formatted as an IP address (like 192.168.5.4)');
  }
  for (const prefix of S3_FORBIDDEN_PREFIXES) {
    if (name.startsWith(prefix)) {
      return bad(`S3 bucket names must not start with the reserved prefix ${quote(prefix)}`);
    }
  }
  for (const suffix of S3_FORBIDDEN_SUFFIXES) {
    if (name.endsWith(suffix)) {
      return bad(`S3 bucket names must not end with the reserved suffix ${quote(suffix)}`);
    }
  }
  return undefined;
}

/**
 * A warning for a valid S3 bucket name that contains dots: the `*.s3.<region>.amazonaws.com` wildcard
 * certificate does not cover `a.b.s3...`, so virtual-hosted-style HTTPS requests fail certificate checks.
 */
export function s3BucketNameWarning(name: string): string | undefined {
  if (!name.includes('.')) return undefined;
  return (
    `bucket name ${quote(name)} contains ".": virtual-hosted-style HTTPS requests to it fail TLS ` +
    `certificate validation (the *.s3 wildcard certificate covers only one label); prefer "-" instead of "."`
  );
}

// ---------------------------------------------------------------------------------------------------------
// Google Cloud Storage bucket names
// ---------------------------------------------------------------------------------------------------------

/**
 * Maps the digits people use to dodge the "google" rule onto letters, so that "g00gle" and "goog1e"
 * are caught as close misspellings.
 */
function deLeet(value: string): string {
  return value.replace(/0/g, 'o').replace(/1/g, 'l').replace(/3/g, 'e');
}

/**
 * GCS bucket naming rules: lowercase letters, digits, `-`, `_` and `.`; start and end with a letter or
 * digit; 3–63 characters, or up to 222 when the name contains dots with every dot-separated part 1–63;
 * not an IP address; not starting with "goog"; not containing "google" or a close misspelling.
 */
export function validateGcsBucketName(name: string): string | undefined {
  const bad = (rule: string): string => `bucket name ${quote(name)} is invalid: ${rule}`;
  const dotted = name.includes('.');
  if (name.length < 3) {
    return bad(`GCS bucket names must be at least 3 characters long (this one has ${name.length})`);
  }
  if (!dotted && name.length > 63) {
    return bad(
      `GCS bucket names without dots must be at most 63 characters long (this one has ${name.length})`,
    );
  }
  if (dotted && name.length > 222) {
    return bad(
      `GCS bucket names with dots must be at most 222 characters long (this one has ${name.length})`,
    );
  }
  const ch = firstBadCharacter(name, /[a-z0-9._-]/);
  if (ch !== undefined) {
    const detail = /[A-Z]/.test(ch) ? 'no uppercase letters' : `no ${quote(ch)}`;
    return bad(`GCS bucket names may contain only lowercase letters, digits, "-", "_" and "." (${detail})`);
  }
  if (!/^[a-z0-9]/.test(name)) {
    return bad('GCS bucket names must start with a lowercase letter or a digit');
  }
  if (!/[a-z0-9]$/.test(name)) {
    return bad('GCS bucket names must end with a lowercase letter or a digit');
  }
  if (dotted) {
    const part = name.split('.').find((p) => p.length === 0 || p.length > 63);
    if (part !== undefined) {
      return bad(
        part.length === 0
          ? 'each dot-separated part of a GCS bucket name must be 1–63 characters (no "..")'
          : `each dot-separated part of a GCS bucket name must be at most 63 characters (${quote(part)} has ${part.length})`,
      );
    }
  }
  if (IPV4_SHAPE.test(name)) {
    return bad('GCS bucket names must not be formatted as an IP address (like 192.168.5.4)');
  }
  if (name.startsWith('goog')) {
    return bad('GCS bucket names must not start with "goog"');
  }
  if (/go{2,}g+l+e/.test(deLeet(name))) {
    return bad('GCS bucket names must not contain "google" or a close misspelling of it (like "g00gle")');
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Azure
// ---------------------------------------------------------------------------------------------------------

/** Azure storage account names: 3–24 lowercase letters and digits, globally unique. */
export function validateAzureAccountName(name: string): string | undefined {
  const bad = (rule: string): string => `storage account name ${quote(name)} is invalid: ${rule}`;
  if (name.length < 3 || name.length > 24) {
    return bad(
      `Azure storage account names must be between 3 and 24 characters long (this one has ${name.length})`,
    );
  }
  const ch = firstBadCharacter(name, /[a-z0-9]/);
  if (ch !== undefined) {
    const detail = /[A-Z]/.test(ch) ? 'no uppercase letters' : `no ${quote(ch)}`;
    return bad(`Azure storage account names may contain only lowercase letters and digits (${detail})`);
  }
  return undefined;
}

/**
 * Azure blob container names: 3–63 characters of lowercase letters, digits and `-`; start with a letter
 * or digit; every `-` between two letters or digits. `$root` and `$web` are special containers.
 */
export function validateAzureContainerName(name: string): string | undefined {
  const bad = (rule: string): string => `container name ${quote(name)} is invalid: ${rule}`;
  if (name === '$root' || name === '$web') {
    return bad(
      `${quote(name)} is a special Azure container (${name === '$root' ? 'the root container' : 'the static website container'}); ` +
        'choose an ordinary container name for media',
    );
  }
  if (name.length < 3 || name.length > 63) {
    return bad(
      `Azure container names must be between 3 and 63 characters long (this one has ${name.length})`,
    );
  }
  const ch = firstBadCharacter(name, /[a-z0-9-]/);
  if (ch !== undefined) {
    const detail = /[A-Z]/.test(ch) ? 'no uppercase letters' : `no ${quote(ch)}`;
    return bad(`Azure container names may contain only lowercase letters, digits and "-" (${detail})`);
  }
  if (!/^[a-z0-9]/.test(name)) {
    return bad('Azure container names must start with a lowercase letter or a digit');
  }
  if (name.includes('--')) {
    return bad('Azure container names must not contain consecutive hyphens ("--")');
  }
  if (name.endsWith('-')) {
    return bad('Azure container names must not end with "-"');
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// AWS IAM and regions
// ---------------------------------------------------------------------------------------------------------

/** IAM user names: 1–64 characters of letters, digits and `+=,.@_-`. */
export function validateIamUserName(name: string): string | undefined {
  const bad = (rule: string): string => `IAM user name ${quote(name)} is invalid: ${rule}`;
  if (name.length < 1 || name.length > 64) {
    return bad(`IAM user names must be between 1 and 64 characters long (this one has ${name.length})`);
  }
  const ch = firstBadCharacter(name, /[A-Za-z0-9+=,.@_-]/);
  if (ch !== undefined) {
    return bad(`IAM user names may contain only letters, digits and "+=,.@_-" (no ${quote(ch)})`);
  }
  return undefined;
}

/**
 * The shape of AWS region names: an area code (`us`, `eu`, `ap`, `il`, `eusc`…), an optional partition
 * marker (`gov`, `iso`, `isob`, `isoe`, `isof`, `de`…), a compass direction and a number:
 * `us-east-1`, `ap-southeast-5`, `us-gov-west-1`, `us-isob-east-1`, `eusc-de-east-1`.
 */
const AWS_REGION =
  /^[a-z]{2,4}(-[a-z]{2,5})?-(central|north|south|east|west|northeast|northwest|southeast|southwest)-[1-9]\d?$/;

export function validateAwsRegion(region: string): string | undefined {
  const bad = (rule: string): string => `AWS region ${quote(region)} is invalid: ${rule}`;
  if (region.length === 0) {
    return bad('a region is required, e.g. "us-east-1" or "eu-central-1"');
  }
  if (AWS_REGION.test(region)) return undefined;
  if (AWS_REGION.test(region.toLowerCase())) {
    return bad(`AWS region names are lowercase: use ${quote(region.toLowerCase())}`);
  }
  const zone = /^(.*-\d{1,2})[a-z]$/.exec(region);
  if (zone?.[1] !== undefined && AWS_REGION.test(zone[1])) {
    return bad(`that is an availability zone, not a region: use ${quote(zone[1])}`);
  }
  return bad(
    'expected an AWS region name of the form area-[partition-]direction-number, e.g. "us-east-1", ' +
      '"eu-central-2" or "us-gov-west-1"',
  );
}

/** Region rules of the S3-compatible presets, with an example for messages. */
const COMPATIBLE_REGION_RULES: Record<string, { pattern: RegExp; label: string; expected: string }> = {
  digitalocean: {
    pattern: /^[a-z]{3}\d$/,
    label: 'DigitalOcean Spaces',
    expected: 'a datacenter slug of three letters and a digit, e.g. "nyc3", "ams3", "sgp1", "fra1" or "syd1"',
  },
  wasabi: {
    pattern: AWS_REGION,
    label: 'Wasabi',
    expected: 'an AWS-style region, e.g. "us-east-1", "eu-central-1" or "ap-northeast-1"',
  },
  backblaze: {
    pattern: /^[a-z]{2}-[a-z]+-\d{3}$/,
    label: 'Backblaze B2',
    expected: 'the region from the bucket\'s S3 endpoint, e.g. "us-west-004" or "eu-central-003"',
  },
  r2: {
    pattern: /^auto$/,
    label: 'Cloudflare R2',
    expected: '"auto" (R2 picks the location; jurisdictions go in the endpoint host, not the region)',
  },
  minio: {
    pattern: /^[a-z0-9-]+$/,
    label: 'MinIO',
    expected: 'a token of lowercase letters, digits and "-" (MinIO defaults to "us-east-1")',
  },
  other: {
    pattern: /^[a-z0-9-]+$/,
    label: 'the S3-compatible service',
    expected: 'a token of lowercase letters, digits and "-", e.g. "us-east-1"',
  },
};

/** Region format for an S3-compatible preset. */
export function validateRegionFor(service: string, region: string): string | undefined {
  const rule = COMPATIBLE_REGION_RULES[service] ?? COMPATIBLE_REGION_RULES.other!;
  if (rule.pattern.test(region)) return undefined;
  const got = region.length === 0 ? 'an empty region' : `region ${quote(region)}`;
  return `${got} is invalid for ${rule.label}: expected ${rule.expected}`;
}

// ---------------------------------------------------------------------------------------------------------
// Endpoint URLs
// ---------------------------------------------------------------------------------------------------------

/**
 * Hosts of known S3-compatible services, each as a regex `^(prefix)\.(service host)$`: a match means the
 * user put something (a bucket) in front of the service host.
 */
const BUCKET_IN_FRONT_OF: readonly RegExp[] = [
  /^(.+)\.([a-z]{3}\d\.(?:cdn\.)?digitaloceanspaces\.com)$/,
  /^(.+)\.(s3(?:\.[a-z0-9-]+)?\.wasabisys\.com)$/,
  /^(.+)\.(s3\.[a-z0-9-]+\.backblazeb2\.com)$/,
  /^(.+)\.([0-9a-f]{32}(?:\.(?:eu|fedramp))?\.r2\.cloudflarestorage\.com)$/,
  /^(.+)\.(s3(?:[.-](?:dualstack\.)?[a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?)$/,
  /^(.+)\.(storage\.googleapis\.com)$/,
];

/**
 * An S3-compatible endpoint: an absolute http(s) URL of the service root. No path beyond `/`, no query or
 * fragment, no credentials, and never the bucket name in front of the service host.
 */
export function validateEndpointUrl(url: string): string | undefined {
  // A URL with credentials in it is refused before anything else, and never echoed (the secret may hold "/").
  if (/@/.test(url.split(/[?#]/)[0] ?? '')) {
    return 'the endpoint URL must not contain credentials (a user name or password before "@", not echoed here); give the access keys with --access-key-id and --secret-access-key';
  }
  const bad = (rule: string): string => `endpoint URL ${quote(url)} is invalid: ${rule}`;
  const example = 'e.g. "https://nyc3.digitaloceanspaces.com" or "http://localhost:9000"';
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    return bad(`expected an absolute URL starting with https:// or http://, ${example}`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return bad(`it is not a well-formed URL; expected ${example}`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    return bad(`the scheme must be https or http, not ${quote(parsed.protocol.slice(0, -1))}`);
  }
  if (parsed.hostname === '') {
    return bad(`the URL has no host; expected ${example}`);
  }
  if (url.includes('?')) {
    return bad('it must not have a query string ("?…")');
  }
  if (url.includes('#')) {
    return bad('it must not have a fragment ("#…")');
  }
  if (parsed.pathname !== '/' && parsed.pathname !== '') {
    return bad(
      `it must not have a path (${quote(parsed.pathname)}): the endpoint is the service root; ` +
        'give the bucket name separately, never in the endpoint',
    );
  }
  for (const pattern of BUCKET_IN_FRONT_OF) {
    const m = pattern.exec(parsed.hostname);
    if (m?.[1] !== undefined && m[2] !== undefined) {
      const fixed = `${parsed.protocol}//${m[2]}${parsed.port === '' ? '' : `:${parsed.port}`}`;
      return bad(
        `${quote(m[1])} in front of ${quote(m[2])} looks like a bucket name: never put the bucket in the ` +
          `endpoint; use ${quote(fixed)} and give the bucket name separately`,
      );
    }
  }
  return undefined;
}

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  );
}

/** A warning for a valid endpoint that uses plain http to anything but a loopback host. */
export function endpointUrlWarning(url: string): string | undefined {
  if (validateEndpointUrl(url) !== undefined) return undefined;
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' || isLoopbackHost(parsed.hostname)) return undefined;
  return (
    `endpoint URL ${quote(url)} uses plain http to ${quote(parsed.hostname)}: access keys' signatures and ` +
    'every file travel unencrypted; use https unless this is a trusted private network'
  );
}

// ---------------------------------------------------------------------------------------------------------
// CORS origins
// ---------------------------------------------------------------------------------------------------------

/**
 * One CORS origin, exactly as browsers send it: `scheme://host[:port]`, scheme http or https, lowercase,
 * no path, query, credentials or default port. A single leading `*.` subdomain wildcard
 * (`https://*.example.org`) is accepted because S3 supports it (see `validateCorsOriginFor` for GCS and
 * Azure, which do not). `*` alone is refused: the point is to name the site's origins.
 *
 * Takes exactly one parameter so that it can be passed to `Array.prototype.map`.
 */
export function validateCorsOrigin(origin: string): string | undefined {
  return checkCorsOrigin(origin, undefined);
}

/** What a provider's CORS rules take: GCS and Azure match origins exactly (or `*`), S3 also `*.` wildcards. */
export type CorsRules = Pick<StorageProvider, 'title' | 'exactCorsOrigins'>;

/** `validateCorsOrigin` for a given provider: a `*.` subdomain wildcard is refused where rules match exactly. */
export function validateCorsOriginFor(rules: CorsRules, origin: string): string | undefined {
  return checkCorsOrigin(origin, rules);
}

function checkCorsOrigin(origin: string, rules: CorsRules | undefined): string | undefined {
  if (/@/.test(origin.split(/[?#]/)[0] ?? '')) {
    return 'a CORS origin must not contain credentials (a user name or password before "@", not echoed here)';
  }
  const bad = (rule: string): string => `CORS origin ${quote(origin)} is invalid: ${rule}`;
  if (origin === '*') {
    return bad(
      '"*" would let every website read the media with scripts; name the site\'s origins instead, ' +
        'e.g. "https://arches.example.org"',
    );
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(origin);
  if (scheme?.[1] === undefined) {
    const hint =
      /^[a-z0-9*]/i.test(origin) && !origin.includes(':') ? `, e.g. ${quote(`https://${origin}`)}` : '';
    return bad(`an origin must start with https:// or http://${hint}`);
  }
  if (scheme[1] !== 'https' && scheme[1] !== 'http') {
    return bad(
      /^https?$/i.test(scheme[1])
        ? `the scheme must be lowercase: use ${quote(origin.replace(scheme[1], scheme[1].toLowerCase()))}`
        : `the scheme must be https or http, not ${quote(scheme[1])}`,
    );
  }
  const rest = origin.slice(scheme[0].length);
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  const tail = authorityEnd === -1 ? '' : rest.slice(authorityEnd);
  if (tail === '/') {
    return bad(`an origin has no path: drop the trailing "/" (${quote(`${scheme[0]}${authority}`)})`);
  }
  if (tail.startsWith('/')) {
    return bad(`an origin has no path: drop ${quote(tail)} (${quote(`${scheme[0]}${authority}`)})`);
  }
  if (tail.startsWith('?')) {
    return bad('an origin has no query string ("?…")');
  }
  if (tail.startsWith('#')) {
    return bad('an origin has no fragment ("#…")');
  }
  if (authority === '') {
    return bad('the origin has no host');
  }
  let hostPort = authority;
  const wildcard = authority.startsWith('*.');
  if (wildcard) {
    if (rules?.exactCorsOrigins) {
      return bad(
        `${rules.title} CORS rules match origins exactly: ` +
          'subdomain wildcards ("*.") work only with S3; list each origin',
      );
    }
    hostPort = `wildcard${authority.slice(1)}`;
  }
  if (hostPort.includes('*')) {
    return bad('the only wildcard allowed is a single leading "*." subdomain, e.g. "https://*.example.org"');
  }
  let parsed: URL;
  try {
    parsed = new URL(`${scheme[1]}://${hostPort}`);
  } catch {
    return bad('the host or port is not well-formed');
  }
  if (parsed.hostname === '') {
    return bad('the origin has no host');
  }
  // The canonical form is the WHATWG URL serialisation of the origin: what a browser sends in `Origin`.
  const wild = (o: string): string => (wildcard ? o.replace('://wildcard.', '://*.') : o);
  const canonical = wild(parsed.origin);
  if (canonical === origin) return undefined;
  // Say which rule the given form breaks, where one reason explains the difference.
  if (canonical === origin.toLowerCase()) {
    return bad(`browsers send origins in lowercase: use ${quote(canonical)}`);
  }
  const port = /:(\d*)$/.exec(hostPort);
  if (port !== null && parsed.port === '') {
    return bad(
      port[1] === ''
        ? 'an empty port (":" with no number): drop the ":"'
        : `browsers omit the default port ${port[1]} for ${scheme[1]}: drop ":${port[1]}"`,
    );
  }
  return bad(`browsers send this origin as ${quote(canonical)}: use that form`);
}

/** Splits comma-separated entries, trims them, drops empty ones and duplicates (first one wins). */
export function normalizeCorsOrigins(list: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const entry of list) {
    for (const piece of entry.split(',')) {
      const origin = piece.trim();
      if (origin === '' || seen.has(origin)) continue;
      seen.add(origin);
      out.push(origin);
    }
  }
  return out;
}
