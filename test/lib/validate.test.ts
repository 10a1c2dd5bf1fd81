import assert from 'node:assert/strict';
import {
  endpointUrlWarning,
  normalizeCorsOrigins,
  s3BucketNameWarning,
  validateAwsRegion,
  validateAzureAccountName,
  validateAzureContainerName,
  validateCorsOrigin,
  validateCorsOriginFor,
  validateEndpointUrl,
  validateGcsBucketName,
  validateIamUserName,
  validateRegionFor,
  validateS3BucketName,
} from '../../lib/validate.js';
import { S3_SERVICE_PRESETS, S3_SERVICES, type S3Service } from '../../generators/s3-compatible/services.js';
import { spec } from '../helpers/providers.js';

type Validator = (value: string) => string | undefined;

/** Each good value must pass; each bad value must fail with a message that names the value and the rule. */
function table(
  validator: Validator,
  good: readonly string[],
  bad: ReadonlyArray<readonly [string, RegExp]>,
): void {
  for (const value of good) {
    it(`accepts ${JSON.stringify(value)}`, () => {
      assert.equal(validator(value), undefined);
    });
  }
  for (const [value, rule] of bad) {
    it(`refuses ${JSON.stringify(value.length > 40 ? `${value.slice(0, 20)}…(${value.length})` : value)} (${rule.source})`, () => {
      const message = validator(value);
      assert.ok(message !== undefined, `expected ${JSON.stringify(value)} to be refused`);
      // A value with credentials in it is never echoed; every other value is quoted.
      if (rule.source === 'credentials') {
        const userinfo = /\/\/([^@]*)@/.exec(value)![1]!;
        assert.ok(!message.includes(value) && !message.includes(`${userinfo}@`), `echoed: ${message}`);
      } else {
        assert.ok(message.includes(JSON.stringify(value)), `message should quote the value: ${message}`);
      }
      assert.match(message, rule);
    });
  }
}

describe('validateS3BucketName', () => {
  table(
    validateS3BucketName,
    [
      'abc',
      'arches-media-demo',
      'my-app-media',
      '0123456789',
      'a'.repeat(63),
      'a.b.c',
      'xn-abc',
      'sthree',
      'amzn-s3-demo',
      's3alias',
      'x-s3aliasx',
      'mrap.x',
      '192.168.5',
      '1.2.3.4.5',
    ],
    [
      ['my_app-media', /only lowercase letters, digits, "\." and "-" \(no "_"\)/],
      ['My-Bucket', /only lowercase letters.*\(no uppercase letters\)/],
      ['ab', /between 3 and 63 characters.*has 2/],
      ['', /between 3 and 63 characters/],
      ['a'.repeat(64), /between 3 and 63 characters.*has 64/],
      ['-abc', /must start with a lowercase letter or a digit/],
      ['.abc', /must start with/],
      ['abc-', /must end with a lowercase letter or a digit/],
      ['abc.', /must end with/],
      ['a..b', /two adjacent periods/],
      ['192.168.5.4', /IP address/],
      ['xn--abc', /reserved prefix "xn--"/],
      ['sthree-x', /reserved prefix "sthree-"/],
      ['amzn-s3-demo-x', /reserved prefix "amzn-s3-demo-"/],
      ['x-s3alias', /reserved suffix "-s3alias"/],
      ['x--ol-s3', /reserved suffix "--ol-s3"/],
      ['x.mrap', /reserved suffix "\.mrap"/],
      ['x--x-s3', /reserved suffix "--x-s3"/],
      ['x--table-s3', /reserved suffix "--table-s3"/],
      ['my bucket', /no " "/],
    ],
  );

  it('warns about dots and only about dots', () => {
    assert.equal(s3BucketNameWarning('arches-media'), undefined);
    assert.match(
      s3BucketNameWarning('media.example.org') ?? '',
      /"media\.example\.org".*virtual-hosted.*HTTPS/,
    );
  });
});

describe('validateGcsBucketName', () => {
  table(
    validateGcsBucketName,
    [
      'abc',
      'my_app-media',
      'arches-media-demo',
      'a'.repeat(63),
      `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(30)}`, // 222
      'media.example.org',
      'go-ogle',
      'gogle',
      'goggles-media',
      'toggle',
    ],
    [
      ['ab', /at least 3 characters/],
      ['a'.repeat(64), /without dots must be at most 63.*has 64/],
      [
        `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(31)}`,
        /with dots must be at most 222.*has 223/,
      ],
      [`${'a'.repeat(64)}.example.org`, /each dot-separated part.*at most 63/],
      ['a..b', /each dot-separated part.*1–63/],
      ['My-Bucket', /only lowercase letters, digits, "-", "_" and "\.".*no uppercase/],
      ['my$bucket', /no "\$"/],
      ['-abc', /must start with a lowercase letter or a digit/],
      ['_abc', /must start with/],
      ['abc_', /must end with a lowercase letter or a digit/],
      ['192.168.5.4', /IP address/],
      ['goog-media', /must not start with "goog"/],
      ['my-google-media', /must not contain "google"/],
      ['my-g00gle-media', /close misspelling/],
      ['googgle', /must not start with "goog"/],
      ['xgoog1e', /close misspelling/],
    ],
  );
});

describe('validateAzureAccountName', () => {
  table(
    validateAzureAccountName,
    ['abc', 'archesmedia01', 'a'.repeat(24)],
    [
      ['ab', /between 3 and 24 characters/],
      ['a'.repeat(25), /between 3 and 24 characters.*has 25/],
      ['arches-media', /only lowercase letters and digits \(no "-"\)/],
      ['ArchesMedia', /only lowercase letters and digits \(no uppercase letters\)/],
      ['arches_media', /no "_"/],
    ],
  );
});

describe('validateAzureContainerName', () => {
  table(
    validateAzureContainerName,
    ['abc', 'media', 'arches-media-01', '0abc', 'a'.repeat(63), 'a-b-c'],
    [
      ['ab', /between 3 and 63 characters/],
      ['a'.repeat(64), /between 3 and 63 characters/],
      ['My-Media', /only lowercase letters, digits and "-".*no uppercase/],
      ['my_media', /no "_"/],
      ['my.media', /no "\."/],
      ['-media', /must start with a lowercase letter or a digit/],
      ['my--media', /consecutive hyphens/],
      ['media-', /must not end with "-"/],
      ['$root', /special Azure container.*root container/],
      ['$web', /special Azure container.*static website/],
    ],
  );
});

describe('validateIamUserName', () => {
  table(
    validateIamUserName,
    ['a', 'arches-media-app', 'Arches.App+ci=1,x@y_z', 'a'.repeat(64)],
    [
      ['', /between 1 and 64 characters/],
      ['a'.repeat(65), /between 1 and 64 characters.*has 65/],
      ['arches app', /only letters, digits and "\+=,\.@_-" \(no " "\)/],
      ['arches/app', /no "\/"/],
      ['arches:app', /no ":"/],
    ],
  );
});

describe('validateAwsRegion', () => {
  table(
    validateAwsRegion,
    [
      'us-east-1',
      'us-west-2',
      'eu-central-2',
      'ap-southeast-5',
      'ap-northeast-3',
      'us-gov-west-1',
      'cn-north-1',
      'cn-northwest-1',
      'il-central-1',
      'mx-central-1',
      'ca-west-1',
      'me-south-1',
      'af-south-1',
      'sa-east-1',
      'us-iso-east-1',
      'us-isob-east-1',
      'eu-isoe-west-1',
      'us-isof-south-1',
      'eusc-de-east-1',
    ],
    [
      ['', /required.*"us-east-1"/],
      ['US-EAST-1', /lowercase: use "us-east-1"/],
      ['us-east-1a', /availability zone.*use "us-east-1"/],
      ['useast1', /area-\[partition-\]direction-number.*"us-east-1"/],
      ['us-east', /e\.g\. "us-east-1"/],
      ['us-up-1', /e\.g\. "us-east-1"/],
      ['us-east-0', /e\.g\. "us-east-1"/],
      ['nyc3', /e\.g\. "us-east-1"/],
      ['auto', /e\.g\. "us-east-1"/],
    ],
  );
});

describe('validateRegionFor', () => {
  const cases: ReadonlyArray<{ service: S3Service; good: string[]; bad: Array<[string, RegExp]> }> = [
    {
      service: 'digitalocean',
      good: ['nyc3', 'ams3', 'sgp1', 'fra1', 'syd1', 'sfo3'],
      bad: [
        ['us-east-1', /DigitalOcean Spaces.*"nyc3"/],
        ['NYC3', /DigitalOcean Spaces/],
        ['nyc3.digitaloceanspaces.com', /DigitalOcean Spaces/],
      ],
    },
    {
      service: 'wasabi',
      good: [
        'us-east-1',
        'us-east-2',
        'us-central-1',
        'eu-central-1',
        'eu-west-2',
        'ap-northeast-1',
        'ca-central-1',
      ],
      bad: [
        ['nyc3', /Wasabi.*"us-east-1"/],
        ['s3.us-east-1.wasabisys.com', /Wasabi/],
      ],
    },
    {
      service: 'backblaze',
      good: ['us-west-004', 'eu-central-003', 'us-east-005', 'us-west-000'],
      bad: [
        ['us-west-4', /Backblaze B2.*"us-west-004"/],
        ['us-west-1', /Backblaze B2/],
        ['auto', /Backblaze B2/],
      ],
    },
    {
      service: 'r2',
      good: ['auto'],
      bad: [
        ['us-east-1', /Cloudflare R2.*"auto"/],
        ['eu', /Cloudflare R2.*"auto"/],
        ['AUTO', /Cloudflare R2/],
      ],
    },
    {
      service: 'minio',
      good: ['us-east-1', 'home-lab', 'dc1'],
      bad: [
        ['', /empty region.*MinIO/],
        ['US East', /MinIO.*lowercase letters, digits and "-"/],
      ],
    },
    {
      service: 'other',
      good: ['us-east-1', 'fr-par', 'auto'],
      bad: [
        ['', /empty region/],
        ['eu_west', /lowercase letters, digits and "-"/],
      ],
    },
  ];
  for (const { service, good, bad } of cases) {
    describe(service, () => {
      table(
        (region) => validateRegionFor(service, region),
        good,
        bad.filter(([v]) => v !== ''),
      );
      for (const [value, rule] of bad.filter(([v]) => v === '')) {
        it('refuses an empty region', () => {
          assert.match(validateRegionFor(service, value) ?? '', rule);
        });
      }
    });
  }

  it("accepts every preset's default region, and the endpoint it implies", () => {
    for (const service of S3_SERVICES) {
      const preset = S3_SERVICE_PRESETS[service];
      const region = preset.defaultRegion ?? '';
      assert.equal(validateRegionFor(service, region), undefined, service);
      if (preset.endpoint !== undefined) {
        const url = preset.endpoint
          .replace('{region}', region)
          .replace('{account}', '0123456789abcdef0123456789abcdef');
        assert.equal(validateEndpointUrl(url), undefined, url);
      }
    }
  });
});

describe('validateEndpointUrl', () => {
  table(
    validateEndpointUrl,
    [
      'https://nyc3.digitaloceanspaces.com',
      'https://nyc3.digitaloceanspaces.com/',
      'https://s3.us-east-1.wasabisys.com',
      'https://s3.wasabisys.com',
      'https://s3.us-west-004.backblazeb2.com',
      'https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com',
      'https://0123456789abcdef0123456789abcdef.eu.r2.cloudflarestorage.com',
      'http://localhost:9000',
      'http://127.0.0.1:9000',
      'http://[::1]:9000',
      'https://minio.internal.example.org:9000',
      'http://minio:9000',
      'https://s3.eu-central-1.amazonaws.com',
      'https://s3.dualstack.us-east-1.amazonaws.com',
      'https://storage.googleapis.com',
    ],
    [
      ['nyc3.digitaloceanspaces.com', /absolute URL starting with https:\/\//],
      ['localhost:9000', /absolute URL/],
      ['ftp://files.example.org', /scheme must be https or http.*"ftp"/],
      ['https://', /not a well-formed URL|no host/],
      ['https://key:secret@minio.example.org', /credentials/],
      ['https://key@minio.example.org', /credentials/],
      [
        'https://minio.example.org/arches-media',
        /must not have a path \("\/arches-media"\).*never in the endpoint/,
      ],
      ['https://minio.example.org/?x=1', /query string/],
      ['https://minio.example.org/#x', /fragment/],
      [
        'https://mybucket.nyc3.digitaloceanspaces.com',
        /"mybucket".*never put the bucket in the endpoint.*"https:\/\/nyc3\.digitaloceanspaces\.com"/,
      ],
      [
        'https://mybucket.s3.us-east-1.wasabisys.com',
        /never put the bucket.*"https:\/\/s3\.us-east-1\.wasabisys\.com"/,
      ],
      [
        'https://mybucket.s3.us-west-004.backblazeb2.com',
        /never put the bucket.*"https:\/\/s3\.us-west-004\.backblazeb2\.com"/,
      ],
      ['https://media.0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com', /never put the bucket/],
      [
        'https://arches-media.s3.eu-west-1.amazonaws.com',
        /"arches-media".*never put the bucket.*"https:\/\/s3\.eu-west-1\.amazonaws\.com"/,
      ],
      ['https://arches-media.s3.amazonaws.com', /never put the bucket.*"https:\/\/s3\.amazonaws\.com"/],
      ['https://arches-media.storage.googleapis.com', /never put the bucket/],
    ],
  );

  it('warns about plain http except to loopback hosts', () => {
    for (const url of [
      'http://localhost:9000',
      'http://127.0.0.1:9000',
      'http://[::1]:9000',
      'http://minio.localhost',
    ]) {
      assert.equal(endpointUrlWarning(url), undefined, url);
    }
    assert.equal(endpointUrlWarning('https://minio.example.org'), undefined);
    assert.match(
      endpointUrlWarning('http://minio.example.org:9000') ?? '',
      /plain http to "minio\.example\.org".*use https/,
    );
    assert.match(endpointUrlWarning('http://10.0.0.5:9000') ?? '', /plain http/);
    // An invalid URL is validateEndpointUrl's to report, not a warning.
    assert.equal(endpointUrlWarning('not a url'), undefined);
  });
});

describe('validateCorsOrigin', () => {
  table(
    validateCorsOrigin,
    [
      'https://arches.example.org',
      'http://localhost:8000',
      'http://127.0.0.1:8000',
      'https://arches.example.org:8443',
      'https://*.example.org',
      'http://[::1]:8000',
    ],
    [
      ['*', /"\*" would let every website.*name the site's origins/],
      [
        'arches.example.org',
        /must start with https:\/\/ or http:\/\/, e\.g\. "https:\/\/arches\.example\.org"/,
      ],
      ['ftp://arches.example.org', /scheme must be https or http/],
      ['HTTPS://arches.example.org', /scheme must be lowercase/],
      ['https://arches.example.org/', /drop the trailing "\/" \("https:\/\/arches\.example\.org"\)/],
      ['https://arches.example.org/search', /no path: drop "\/search"/],
      ['https://arches.example.org?x=1', /no query string/],
      ['https://arches.example.org#top', /no fragment/],
      ['https://user@arches.example.org', /credentials/],
      ['https://', /no host/],
      ['https://*', /only wildcard allowed is a single leading "\*\."/],
      ['https://arches.*.org', /only wildcard allowed/],
      ['https://*.*.example.org', /only wildcard allowed/],
      ['https://Arches.Example.org', /lowercase: use "https:\/\/arches\.example\.org"/],
      ['https://arches.example.org:443', /default port 443.*drop ":443"/],
      ['http://arches.example.org:80', /default port 80/],
      ['https://arches.example.org:', /empty port/],
      ['https://bücher.example', /send this origin as "https:\/\/xn--bcher-kva\.example"/],
      ['https://arches example.org', /not well-formed/],
    ],
  );

  it('refuses subdomain wildcards for GCS and Azure, which match origins exactly', () => {
    assert.equal(validateCorsOriginFor(spec('aws'), 'https://*.example.org'), undefined);
    assert.equal(validateCorsOriginFor(spec('s3-compatible'), 'https://*.example.org'), undefined);
    assert.match(
      validateCorsOriginFor(spec('gcs'), 'https://*.example.org') ?? '',
      /Google Cloud Storage.*wildcards/,
    );
    assert.match(validateCorsOriginFor(spec('azure'), 'https://*.example.org') ?? '', /Azure.*wildcards/);
    assert.equal(validateCorsOriginFor(spec('azure'), 'https://arches.example.org'), undefined);
    assert.match(validateCorsOriginFor(spec('gcs'), 'https://arches.example.org/') ?? '', /trailing/);
  });
});

describe('normalizeCorsOrigins', () => {
  it('splits on commas, trims, drops empties and duplicates in order', () => {
    assert.deepEqual(
      normalizeCorsOrigins([
        ' https://b.example.org , https://a.example.org',
        'https://b.example.org',
        '',
        'http://localhost:8000,,',
        'https://a.example.org ',
      ]),
      ['https://b.example.org', 'https://a.example.org', 'http://localhost:8000'],
    );
  });

  it('returns an empty list for nothing', () => {
    assert.deepEqual(normalizeCorsOrigins([]), []);
    assert.deepEqual(normalizeCorsOrigins([' , ']), []);
  });

  it('does not alias its input', () => {
    const input = ['https://a.example.org'];
    const out = normalizeCorsOrigins(input);
    out.push('x');
    assert.deepEqual(input, ['https://a.example.org']);
  });
});
