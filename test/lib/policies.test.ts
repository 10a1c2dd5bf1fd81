import assert from 'node:assert/strict';
import {
  anonymousPrincipal,
  runSimulation,
  type EvaluationResult,
  type Simulation,
  type SimulationRequestPrincipal,
} from '@cloud-copilot/iam-simulate';
import {
  awsPublicReadBucketPolicy,
  awsUserPolicy,
  azureCorsRules,
  gcsBucketSettings,
  gcsCorsConfiguration,
  gcsIamBinding,
  gcsPublicReadBinding,
  partitionForRegion,
  s3CorsConfiguration,
  s3LifecycleRules,
  type IamIdentityPolicy,
  type IamResourcePolicy,
} from '../../lib/policies.js';

// iam-simulate (AGPL) is a devDependency used here only, never from src/.

const BUCKET = 'arches-media-demo';
const ACCOUNT = '111122223333';
const OTHER_ACCOUNT = '444455556666';
const APP_USER = `arn:aws:iam::${ACCOUNT}:user/arches-media-app`;

interface Scenario {
  principal: SimulationRequestPrincipal;
  /** Identity policies of the principal; must be empty for the anonymous principal. */
  identityPolicies?: IamIdentityPolicy[];
  bucketPolicy?: IamResourcePolicy;
  /** Effective S3 Block Public Access (RestrictPublicBuckets) on the bucket. */
  blockPublicAccess?: boolean;
}

/**
 * Runs one request through iam-simulate. The bucket (and every resource) lives in ACCOUNT. A simulation
 * that iam-simulate refuses as malformed fails the test instead of counting as a denial.
 */
async function decide(scenario: Scenario, action: string, resource: string): Promise<EvaluationResult> {
  const simulation: Simulation = {
    request: {
      principal: scenario.principal,
      action,
      resource: { resource, accountId: ACCOUNT },
      contextVariables: {},
    },
    identityPolicies: (scenario.identityPolicies ?? []).map((policy, i) => ({
      name: `identity-${i}`,
      policy,
    })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(scenario.bucketPolicy === undefined ? {} : { resourcePolicy: scenario.bucketPolicy }),
    ...(scenario.blockPublicAccess === undefined
      ? {}
      : { additionalSettings: { s3: { blockPublicAccess: scenario.blockPublicAccess } } }),
  };
  const response = await runSimulation(simulation, {});
  if (response.resultType === 'error') {
    assert.fail(
      `iam-simulate refused the simulation of ${action} on ${resource}: ${JSON.stringify(response.errors)}`,
    );
  }
  return response.overallResult;
}

const bucketArn = `arn:aws:s3:::${BUCKET}`;
const objectArn = `arn:aws:s3:::${BUCKET}/uploadedfiles/photo.jpg`;

describe('awsUserPolicy', () => {
  const policy = awsUserPolicy(BUCKET);
  const app: Scenario = { principal: APP_USER, identityPolicies: [policy] };

  it('is the exact least-privilege document, in a stable key order', () => {
    assert.equal(
      JSON.stringify(policy),
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'ListBucket',
            Effect: 'Allow',
            Action: ['s3:ListBucket', 's3:GetBucketLocation'],
            Resource: ['arn:aws:s3:::arches-media-demo'],
          },
          {
            Sid: 'ReadWriteObjects',
            Effect: 'Allow',
            Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
            Resource: ['arn:aws:s3:::arches-media-demo/*'],
          },
        ],
      }),
    );
  });

  it('has no Principal and alphanumeric Sids (IAM would refuse the document otherwise)', () => {
    for (const statement of policy.Statement) {
      assert.ok(!('Principal' in statement));
      assert.match(statement.Sid, /^[A-Za-z0-9]+$/);
    }
    assert.ok(!JSON.stringify(policy).includes('Principal'));
  });

  it('stays under the 2,048-character inline user policy limit (counted without whitespace)', () => {
    // A bucket name of the maximum length is the worst case.
    const longest = JSON.stringify(awsUserPolicy('a'.repeat(63)), null, 2).replace(/\s/g, '');
    assert.ok(longest.length < 2048, `${longest.length} characters`);
  });

  it('lets the app user list the bucket and find its region', async () => {
    assert.equal(await decide(app, 's3:ListBucket', bucketArn), 'Allowed');
    assert.equal(await decide(app, 's3:GetBucketLocation', bucketArn), 'Allowed');
  });

  for (const action of ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload']) {
    it(`lets the app user ${action} on objects in the bucket`, async () => {
      assert.equal(await decide(app, action, objectArn), 'Allowed');
      assert.equal(await decide(app, action, `${bucketArn}/archestemp/deep/er/file.bin`), 'Allowed');
    });
  }

  it('grants exactly the actions proven above (a misspelt action would be silently unmatched)', () => {
    assert.deepEqual(policy.Statement.flatMap((s) => s.Action).sort(), [
      's3:AbortMultipartUpload',
      's3:DeleteObject',
      's3:GetBucketLocation',
      's3:GetObject',
      's3:ListBucket',
      's3:PutObject',
    ]);
  });

  const denied: ReadonlyArray<readonly [string, string, string]> = [
    ['s3:GetObject', 'arn:aws:s3:::another-bucket/photo.jpg', 'read objects in another bucket'],
    [
      's3:PutObject',
      'arn:aws:s3:::arches-media-demo-backup/photo.jpg',
      'write to a bucket whose name merely starts alike',
    ],
    ['s3:ListBucket', 'arn:aws:s3:::another-bucket', 'list another bucket'],
    ['s3:ListAllMyBuckets', '*', 'list all buckets'],
    ['s3:DeleteBucket', bucketArn, 'delete the bucket'],
    ['s3:PutBucketPolicy', bucketArn, 'change the bucket policy'],
    ['s3:PutBucketCors', bucketArn, 'change the CORS rules'],
    ['s3:PutBucketAcl', bucketArn, 'change the bucket ACL'],
    ['s3:PutObjectAcl', objectArn, 'change object ACLs'],
    ['s3:PutBucketPublicAccessBlock', bucketArn, 'relax Block Public Access'],
    ['iam:CreateUser', `arn:aws:iam::${ACCOUNT}:user/intruder`, 'create IAM users'],
    ['iam:CreateAccessKey', APP_USER, 'mint more access keys for itself'],
  ];
  for (const [action, resource, what] of denied) {
    it(`does not let the app user ${what} (${action})`, async () => {
      assert.equal(await decide(app, action, resource), 'ImplicitlyDenied');
    });
  }

  it('leaves an anonymous caller with nothing when there is no bucket policy', async () => {
    const anonymous: Scenario = { principal: anonymousPrincipal };
    for (const action of ['s3:GetObject', 's3:PutObject', 's3:DeleteObject']) {
      assert.equal(await decide(anonymous, action, objectArn), 'ImplicitlyDenied', action);
    }
    assert.equal(await decide(anonymous, 's3:ListBucket', bucketArn), 'ImplicitlyDenied');
  });

  it('uses the partition in every ARN', () => {
    const cn = JSON.stringify(awsUserPolicy(BUCKET, 'aws-cn'));
    assert.ok(cn.includes('"arn:aws-cn:s3:::arches-media-demo"'));
    assert.ok(cn.includes('"arn:aws-cn:s3:::arches-media-demo/*"'));
    assert.ok(!cn.includes('arn:aws:'));
  });

  it('refuses bucket names that would widen the grant', () => {
    for (const bad of ['', '*', 'arches-*', 'a/b', 'a:b', '${aws:username}', 'a b']) {
      assert.throws(() => awsUserPolicy(bad), /refusing to write a policy/, bad);
    }
  });
});

describe('awsPublicReadBucketPolicy', () => {
  const bucketPolicy = awsPublicReadBucketPolicy(BUCKET);
  const anonymous: Scenario = { principal: anonymousPrincipal, bucketPolicy };

  it('is the exact public-read document, in a stable key order', () => {
    assert.equal(
      JSON.stringify(bucketPolicy),
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'PublicReadGetObject',
            Effect: 'Allow',
            Principal: '*',
            Action: ['s3:GetObject'],
            Resource: ['arn:aws:s3:::arches-media-demo/*'],
          },
        ],
      }),
    );
  });

  it('lets an anonymous caller GetObject', async () => {
    assert.equal(await decide(anonymous, 's3:GetObject', objectArn), 'Allowed');
  });

  for (const [action, resource] of [
    ['s3:PutObject', objectArn],
    ['s3:DeleteObject', objectArn],
    ['s3:PutObjectAcl', objectArn],
    ['s3:ListBucket', bucketArn],
    ['s3:PutBucketPolicy', bucketArn],
  ] as const) {
    it(`does not let an anonymous caller ${action}`, async () => {
      assert.equal(await decide(anonymous, action, resource), 'ImplicitlyDenied');
    });
  }

  it('does not extend to other buckets', async () => {
    assert.equal(
      await decide(anonymous, 's3:GetObject', 'arn:aws:s3:::another-bucket/photo.jpg'),
      'ImplicitlyDenied',
    );
  });

  it('is blocked while S3 Block Public Access (RestrictPublicBuckets) is on', async () => {
    assert.equal(
      await decide({ ...anonymous, blockPublicAccess: true }, 's3:GetObject', objectArn),
      'ExplicitlyDenied',
    );
  });

  it('does not widen what the app user may do', async () => {
    const app: Scenario = { principal: APP_USER, identityPolicies: [awsUserPolicy(BUCKET)], bucketPolicy };
    assert.equal(await decide(app, 's3:GetObject', objectArn), 'Allowed');
    assert.equal(await decide(app, 's3:DeleteBucket', bucketArn), 'ImplicitlyDenied');
    assert.equal(await decide(app, 's3:PutBucketPolicy', bucketArn), 'ImplicitlyDenied');
  });

  it('lets a signed user of another account read too (it is public), but not write', async () => {
    const stranger = `arn:aws:iam::${OTHER_ACCOUNT}:user/someone`;
    const allowAll: IamIdentityPolicy = {
      Version: '2012-10-17',
      Statement: [{ Sid: 'Everything', Effect: 'Allow', Action: ['s3:*'], Resource: ['*'] }],
    };
    const scenario: Scenario = { principal: stranger, identityPolicies: [allowAll], bucketPolicy };
    assert.equal(await decide(scenario, 's3:GetObject', objectArn), 'Allowed');
    assert.equal(await decide(scenario, 's3:PutObject', objectArn), 'ImplicitlyDenied');
  });
});

describe('iam-simulate sanity (so that the proofs above mean something)', () => {
  it('refuses an identity policy that has a Principal', async () => {
    const response = await runSimulation(
      {
        request: {
          principal: APP_USER,
          action: 's3:GetObject',
          resource: { resource: objectArn, accountId: ACCOUNT },
          contextVariables: {},
        },
        identityPolicies: [{ name: 'bad', policy: awsPublicReadBucketPolicy(BUCKET) }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
      },
      {},
    );
    assert.equal(response.resultType, 'error');
  });

  it('refuses unknown actions in a request, so "Allowed" above names real actions', async () => {
    const response = await runSimulation(
      {
        request: {
          principal: APP_USER,
          action: 's3:GetObjekt',
          resource: { resource: objectArn, accountId: ACCOUNT },
          contextVariables: {},
        },
        identityPolicies: [{ name: 'app', policy: awsUserPolicy(BUCKET) }],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
      },
      {},
    );
    assert.equal(response.resultType, 'error');
  });
});

describe('partitionForRegion', () => {
  it('maps region prefixes to ARN partitions', () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      ['us-east-1', 'aws'],
      ['eu-central-2', 'aws'],
      ['il-central-1', 'aws'],
      ['cn-north-1', 'aws-cn'],
      ['cn-northwest-1', 'aws-cn'],
      ['us-gov-west-1', 'aws-us-gov'],
      ['us-gov-east-1', 'aws-us-gov'],
      ['us-iso-east-1', 'aws-iso'],
      ['us-isob-east-1', 'aws-iso-b'],
      ['eu-isoe-west-1', 'aws-iso-e'],
      ['us-isof-south-1', 'aws-iso-f'],
      ['eusc-de-east-1', 'aws-eusc'],
    ];
    for (const [region, partition] of cases) {
      assert.equal(partitionForRegion(region), partition, region);
    }
  });
});

describe('s3CorsConfiguration', () => {
  it('is the PutBucketCors shape, in a stable key order', () => {
    const origins = ['https://arches.example.org', 'http://localhost:8000'];
    const config = s3CorsConfiguration(origins);
    assert.equal(
      JSON.stringify(config),
      JSON.stringify({
        CORSRules: [
          {
            AllowedOrigins: ['https://arches.example.org', 'http://localhost:8000'],
            AllowedMethods: ['GET', 'HEAD'],
            AllowedHeaders: ['*'],
            ExposeHeaders: ['ETag'],
            MaxAgeSeconds: 3000,
          },
        ],
      }),
    );
    assert.notEqual(config.CORSRules[0]?.AllowedOrigins, origins, 'must copy, not alias, the input');
  });

  it('refuses an empty origin list (S3 answers MalformedXML)', () => {
    assert.throws(() => s3CorsConfiguration([]), /at least one origin/);
  });
});

describe('s3LifecycleRules', () => {
  it('expires Arches’ temporary prefixes and aborts incomplete multipart uploads after 7 days, each rule with our own ID', () => {
    assert.deepEqual(s3LifecycleRules(), {
      Rules: [
        {
          ID: 'arches-storage-expire-uploadedfiles-tmp',
          Status: 'Enabled',
          Filter: { Prefix: 'uploadedfiles/tmp/' },
          Expiration: { Days: 7 },
        },
        {
          ID: 'arches-storage-expire-archestemp',
          Status: 'Enabled',
          Filter: { Prefix: 'archestemp/' },
          Expiration: { Days: 7 },
        },
        {
          ID: 'arches-storage-abort-incomplete-uploads',
          Status: 'Enabled',
          Filter: { Prefix: '' },
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
        },
      ],
    });
  });

  it('expires nothing Arches keeps: only the temporary prefixes have an Expiration', () => {
    const expiring = s3LifecycleRules().Rules.filter((r) => r.Expiration);
    assert.deepEqual(
      expiring.map((r) => r.Filter.Prefix),
      ['uploadedfiles/tmp/', 'archestemp/'],
    );
    for (const r of expiring) assert.ok(r.Filter.Prefix.endsWith('/'), 'a folder, not a name prefix');
  });

  it('is stable byte for byte, and its IDs are unique and within S3’s 255 characters', () => {
    assert.equal(JSON.stringify(s3LifecycleRules()), JSON.stringify(s3LifecycleRules()));
    const ids = s3LifecycleRules().Rules.map((r) => r.ID);
    assert.equal(new Set(ids).size, ids.length);
    for (const id of ids) assert.ok(id.length <= 255 && id.startsWith('arches-storage-'));
  });
});

describe('gcsCorsConfiguration', () => {
  it('is the setCorsConfiguration array, in a stable key order', () => {
    assert.equal(
      JSON.stringify(gcsCorsConfiguration(['https://arches.example.org'])),
      JSON.stringify([
        {
          origin: ['https://arches.example.org'],
          method: ['GET', 'HEAD'],
          responseHeader: ['Content-Type', 'ETag'],
          maxAgeSeconds: 3600,
        },
      ]),
    );
    assert.throws(() => gcsCorsConfiguration([]), /at least one origin/);
  });
});

describe('gcsIamBinding and gcsBucketSettings', () => {
  it('binds the service account as objectAdmin', () => {
    assert.equal(
      JSON.stringify(gcsIamBinding(BUCKET, 'arches@demo-project.iam.gserviceaccount.com')),
      JSON.stringify({
        role: 'roles/storage.objectAdmin',
        members: ['serviceAccount:arches@demo-project.iam.gserviceaccount.com'],
      }),
    );
  });

  it('refuses something that is not a service account email', () => {
    for (const bad of ['', 'arches', 'serviceAccount:arches@demo.iam.gserviceaccount.com', 'a b@c.d']) {
      assert.throws(() => gcsIamBinding(BUCKET, bad), /expected a service account email/, bad);
    }
  });

  it('enforces uniform access and public access prevention by default', () => {
    assert.equal(
      JSON.stringify(gcsBucketSettings()),
      JSON.stringify({
        iamConfiguration: {
          uniformBucketLevelAccess: { enabled: true },
          publicAccessPrevention: 'enforced',
        },
      }),
    );
  });

  it('relaxes public access prevention only for public read, with an allUsers viewer binding', () => {
    assert.equal(
      gcsBucketSettings({ publicRead: true }).iamConfiguration.publicAccessPrevention,
      'inherited',
    );
    assert.equal(
      gcsBucketSettings({ publicRead: false }).iamConfiguration.publicAccessPrevention,
      'enforced',
    );
    assert.deepEqual(gcsPublicReadBinding(), { role: 'roles/storage.objectViewer', members: ['allUsers'] });
  });
});

describe('azureCorsRules', () => {
  it('is the setProperties cors shape, in a stable key order', () => {
    assert.equal(
      JSON.stringify(azureCorsRules(['https://arches.example.org', 'http://localhost:8000'])),
      JSON.stringify([
        {
          allowedOrigins: 'https://arches.example.org,http://localhost:8000',
          allowedMethods: 'GET,HEAD',
          allowedHeaders: '*',
          exposedHeaders: 'ETag',
          maxAgeInSeconds: 3600,
        },
      ]),
    );
    assert.throws(() => azureCorsRules([]), /at least one origin/);
  });
});
