/**
 * The loopback AWS fake, judged through real @aws-sdk clients pointed at it by endpoint: what it answers must
 * be what the SDK makes of AWS's own answers (error names, statuses, retries, redirects).
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import * as IAM from '@aws-sdk/client-iam';
import * as S3 from '@aws-sdk/client-s3';
import * as STS from '@aws-sdk/client-sts';
import { startAwsHttp, type AwsHttpFake, type AwsHttpOptions, type Credentials } from './aws-http.js';
import { withUnlistedValue } from './sdk-input.js';
import { startS3rver, type RunningS3 } from './s3rver.js';

const REGION = 'eu-west-2';
const APP_POLICY = (bucket: string) => ({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: ['s3:ListBucket'], Resource: [`arn:aws:s3:::${bucket}`] },
    { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: [`arn:aws:s3:::${bucket}/*`] },
  ],
});

/** Rejects with the SDK error; fails when the call succeeds. */
async function sdkError(
  p: Promise<unknown>,
): Promise<Error & { $metadata: { httpStatusCode?: number; attempts?: number } }> {
  try {
    await p;
  } catch (error) {
    return error as Error & { $metadata: { httpStatusCode?: number; attempts?: number } };
  }
  assert.fail('the call succeeded');
}

describe('aws-http: a loopback AWS fake that real SDK clients talk to', function () {
  let s3rver: RunningS3;
  const fakes: AwsHttpFake[] = [];
  before(async () => {
    s3rver = await startS3rver();
  });
  after(async () => {
    for (const f of fakes) await f.stop();
    await s3rver.stop();
  });

  async function fake(options: AwsHttpOptions = {}): Promise<AwsHttpFake> {
    const f = await startAwsHttp({ s3rver, ...options });
    fakes.push(f);
    return f;
  }
  const creds = (f: AwsHttpFake, c?: Credentials) => c ?? f.operator;
  const s3 = (f: AwsHttpFake, c?: Credentials, region = REGION, extra: S3.S3ClientConfig = {}) =>
    new S3.S3Client({
      region,
      endpoint: f.url,
      credentials: creds(f, c),
      followRegionRedirects: true,
      ...extra,
    });
  const iam = (f: AwsHttpFake, c?: Credentials, extra: IAM.IAMClientConfig = {}) =>
    new IAM.IAMClient({ region: REGION, endpoint: f.url, credentials: creds(f, c), ...extra });
  const sts = (f: AwsHttpFake, c?: Credentials) =>
    new STS.STSClient({ region: REGION, endpoint: f.url, credentials: creds(f, c) });
  let n = 0;
  const name = (): string => `aws-http-test-${++n}-${Date.now().toString(36)}`;
  const create = (f: AwsHttpFake, bucket: string) =>
    s3(f).send(
      new S3.CreateBucketCommand({
        Bucket: bucket,
        CreateBucketConfiguration: { LocationConstraint: REGION },
      }),
    );

  it('answers STS GetCallerIdentity for the operator, path-style S3 for an IP endpoint', async function () {
    const f = await fake();
    const id = await sts(f).send(new STS.GetCallerIdentityCommand({}));
    assert.equal(id.Account, f.accountId);
    assert.equal(id.Arn, `arn:aws:iam::${f.accountId}:user/operator`);
    const bucket = name();
    await create(f, bucket);
    const call = f.callsOf('s3', 'CreateBucket')[0]!;
    assert.equal(call.params.Bucket, bucket, 'the bucket came in the path (path style), not the host');
  });

  it('refuses unknown keys like AWS: InvalidClientTokenId on STS/IAM, InvalidAccessKeyId on S3', async function () {
    const f = await fake();
    const bogus = { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' };
    const e1 = await sdkError(sts(f, bogus).send(new STS.GetCallerIdentityCommand({})));
    assert.equal(e1.name, 'InvalidClientTokenId');
    assert.equal(e1.$metadata.httpStatusCode, 403);
    const e2 = await sdkError(iam(f, bogus).send(new IAM.GetUserCommand({ UserName: 'x' })));
    assert.equal(e2.name, 'InvalidClientTokenId');
    const e3 = await sdkError(s3(f, bogus).send(new S3.ListBucketsCommand({})));
    assert.equal(e3.name, 'InvalidAccessKeyId');
    assert.equal(e3.$metadata.httpStatusCode, 403);
  });

  it('applies CreateBucket LocationConstraint rules, us-east-1 quirks included, and HeadBucket 200/403/404', async function () {
    const f = await fake();
    const bucket = name();
    const east = s3(f, undefined, 'us-east-1');
    assert.equal(
      (
        await sdkError(
          east.send(
            new S3.CreateBucketCommand({
              Bucket: bucket,
              // us-east-1 is no LocationConstraint (the SDK's enum leaves it out); AWS refuses it.
              CreateBucketConfiguration: withUnlistedValue<S3.CreateBucketConfiguration>(
                {},
                'LocationConstraint',
                'us-east-1',
              ),
            }),
          ),
        )
      ).name,
      'InvalidLocationConstraint',
    );
    // (Without a CreateBucketConfiguration the SDK adds LocationConstraint = its region itself.)
    assert.equal(
      (
        await sdkError(
          s3(f).send(
            new S3.CreateBucketCommand({
              Bucket: bucket,
              CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
            }),
          ),
        )
      ).name,
      'IllegalLocationConstraintException',
    );
    await create(f, bucket);
    assert.equal((await sdkError(create(f, bucket))).name, 'BucketAlreadyOwnedByYou');
    const useast = name();
    await east.send(new S3.CreateBucketCommand({ Bucket: useast }));
    await east.send(new S3.CreateBucketCommand({ Bucket: useast })); // us-east-1 answers 200 to its owner
    assert.equal((await f.bucket(useast))?.region, 'us-east-1');
    const foreign = name();
    await f.seedBucket(foreign, { owner: '999988887777', region: REGION });
    assert.equal((await sdkError(create(f, foreign))).name, 'BucketAlreadyExists');
    assert.equal((await s3(f).send(new S3.HeadBucketCommand({ Bucket: bucket }))).BucketRegion, REGION);
    assert.equal(
      (await sdkError(s3(f).send(new S3.HeadBucketCommand({ Bucket: foreign })))).$metadata.httpStatusCode,
      403,
    );
    assert.equal((await sdkError(s3(f).send(new S3.HeadBucketCommand({ Bucket: name() })))).name, 'NotFound');
    assert.equal(
      (await sdkError(s3(f).send(new S3.CreateBucketCommand({ Bucket: 'Bad_Name' })))).name,
      'InvalidBucketName',
    );
  });

  it('answers 403 AccessDenied when x-amz-expected-bucket-owner is not the owner, and records it', async function () {
    const f = await fake();
    const bucket = name();
    await create(f, bucket);
    const e = await sdkError(
      s3(f).send(new S3.GetBucketTaggingCommand({ Bucket: bucket, ExpectedBucketOwner: '999988887777' })),
    );
    assert.equal(e.name, 'AccessDenied');
    await s3(f).send(new S3.HeadBucketCommand({ Bucket: bucket, ExpectedBucketOwner: f.accountId }));
    assert.deepEqual(
      f
        .callsOf('s3')
        .slice(-2)
        .map((c) => [c.operation, c.params.ExpectedBucketOwner, c.status]),
      [
        ['GetBucketTagging', '999988887777', 403],
        ['HeadBucket', f.accountId, 200],
      ],
    );
  });

  it('follows a region redirect (301 + x-amz-bucket-region) the way the SDK does', async function () {
    const f = await fake();
    const bucket = name();
    await create(f, bucket);
    await s3(f, undefined, 'us-east-1').send(new S3.GetBucketEncryptionCommand({ Bucket: bucket }));
    assert.deepEqual(
      f.callsOf('s3', 'GetBucketEncryption').map((c) => c.status),
      [301, 200],
    );
  });

  it('new buckets: Block Public Access on, SSE-S3, BucketOwnerEnforced; a public policy is refused until relaxed', async function () {
    const f = await fake();
    const bucket = name();
    await create(f, bucket);
    const c = s3(f);
    const enc = await c.send(new S3.GetBucketEncryptionCommand({ Bucket: bucket }));
    assert.equal(
      enc.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm,
      'AES256',
    );
    assert.equal(
      (await c.send(new S3.GetBucketOwnershipControlsCommand({ Bucket: bucket }))).OwnershipControls
        ?.Rules?.[0]?.ObjectOwnership,
      'BucketOwnerEnforced',
    );
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` },
      ],
    });
    const e = await sdkError(c.send(new S3.PutBucketPolicyCommand({ Bucket: bucket, Policy: policy })));
    assert.equal(e.name, 'AccessDenied');
    assert.match(e.message, /BlockPublicPolicy/);
    await c.send(
      new S3.PutPublicAccessBlockCommand({
        Bucket: bucket,
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          IgnorePublicAcls: true,
          BlockPublicPolicy: false,
          RestrictPublicBuckets: false,
        },
      }),
    );
    await c.send(new S3.PutBucketPolicyCommand({ Bucket: bucket, Policy: policy }));
    assert.equal((await c.send(new S3.GetBucketPolicyCommand({ Bucket: bucket }))).Policy, policy);
    await c.send(
      new S3.PutBucketEncryptionCommand({
        Bucket: bucket,
        ServerSideEncryptionConfiguration: {
          Rules: [
            {
              ApplyServerSideEncryptionByDefault: {
                SSEAlgorithm: 'aws:kms',
                KMSMasterKeyID: 'arn:aws:kms:eu-west-2:123456789012:key/k1',
              },
              BucketKeyEnabled: true,
            },
          ],
        },
      }),
    );
    const kms = (await c.send(new S3.GetBucketEncryptionCommand({ Bucket: bucket })))
      .ServerSideEncryptionConfiguration?.Rules?.[0];
    assert.equal(
      kms?.ApplyServerSideEncryptionByDefault?.KMSMasterKeyID,
      'arn:aws:kms:eu-west-2:123456789012:key/k1',
    );
    assert.equal(kms?.BucketKeyEnabled, true);
  });

  it('reads back a seeded configured bucket: tags, lifecycle, CORS, logging, versioning; missing configs answer 404', async function () {
    const f = await fake();
    const bucket = name();
    await f.seedBucket(bucket, {
      region: REGION,
      tags: { team: 'heritage' },
      lifecycle: [
        { ID: 'expire-tmp', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: '7' } },
      ],
      cors: [{ AllowedMethod: ['PUT'], AllowedOrigin: ['https://upload.example.org'] }],
      logging: { TargetBucket: 'logs', TargetPrefix: `${bucket}/` },
      versioning: 'Enabled',
    });
    const c = s3(f);
    assert.deepEqual((await c.send(new S3.GetBucketTaggingCommand({ Bucket: bucket }))).TagSet, [
      { Key: 'team', Value: 'heritage' },
    ]);
    const rules = (await c.send(new S3.GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules;
    assert.equal(rules?.[0]?.Expiration?.Days, 7);
    assert.equal(rules?.[0]?.Filter?.Prefix, 'tmp/');
    assert.deepEqual(
      (await c.send(new S3.GetBucketCorsCommand({ Bucket: bucket }))).CORSRules?.[0]?.AllowedMethods,
      ['PUT'],
    );
    assert.equal(
      (await c.send(new S3.GetBucketLoggingCommand({ Bucket: bucket }))).LoggingEnabled?.TargetBucket,
      'logs',
    );
    assert.equal((await c.send(new S3.GetBucketVersioningCommand({ Bucket: bucket }))).Status, 'Enabled');
    const fresh = name();
    await create(f, fresh);
    assert.equal(
      (await sdkError(c.send(new S3.GetBucketTaggingCommand({ Bucket: fresh })))).name,
      'NoSuchTagSet',
    );
    assert.equal(
      (await sdkError(c.send(new S3.GetBucketPolicyCommand({ Bucket: fresh })))).name,
      'NoSuchBucketPolicy',
    );
    assert.equal(
      (await sdkError(c.send(new S3.GetBucketCorsCommand({ Bucket: fresh })))).name,
      'NoSuchCORSConfiguration',
    );
    assert.equal(
      (await sdkError(c.send(new S3.GetBucketLifecycleConfigurationCommand({ Bucket: fresh })))).name,
      'NoSuchLifecycleConfiguration',
    );
  });

  it('IAM: users with tags, 409s, the two-key limit (inactive keys count), URL-encoded policies, DeleteConflict', async function () {
    const f = await fake();
    const c = iam(f);
    const made = await c.send(
      new IAM.CreateUserCommand({ UserName: 'app', Tags: [{ Key: 'managed-by', Value: 'me' }] }),
    );
    assert.equal(made.User?.Arn, `arn:aws:iam::${f.accountId}:user/app`);
    assert.deepEqual((await c.send(new IAM.ListUserTagsCommand({ UserName: 'app' }))).Tags, [
      { Key: 'managed-by', Value: 'me' },
    ]);
    const dup = await sdkError(c.send(new IAM.CreateUserCommand({ UserName: 'APP' })));
    assert.equal(dup.name, 'EntityAlreadyExistsException');
    assert.equal(dup.$metadata.httpStatusCode, 409);
    const gone = await sdkError(c.send(new IAM.GetUserCommand({ UserName: 'nobody' })));
    assert.equal(gone.name, 'NoSuchEntityException');
    assert.equal(gone.$metadata.httpStatusCode, 404);
    const k1 = await c.send(new IAM.CreateAccessKeyCommand({ UserName: 'app' }));
    await c.send(new IAM.CreateAccessKeyCommand({ UserName: 'app' }));
    await c.send(
      new IAM.UpdateAccessKeyCommand({
        UserName: 'app',
        AccessKeyId: k1.AccessKey!.AccessKeyId!,
        Status: 'Inactive',
      }),
    );
    const limit = await sdkError(c.send(new IAM.CreateAccessKeyCommand({ UserName: 'app' })));
    assert.equal(limit.name, 'LimitExceededException');
    assert.equal(limit.$metadata.httpStatusCode, 409);
    const keys = (await c.send(new IAM.ListAccessKeysCommand({ UserName: 'app' }))).AccessKeyMetadata ?? [];
    assert.deepEqual(
      keys.map((k) => k.Status),
      ['Inactive', 'Active'],
    );
    const document = JSON.stringify(APP_POLICY('some-bucket'));
    await c.send(
      new IAM.PutUserPolicyCommand({ UserName: 'app', PolicyName: 'media', PolicyDocument: document }),
    );
    const got = await c.send(new IAM.GetUserPolicyCommand({ UserName: 'app', PolicyName: 'media' }));
    assert.equal(decodeURIComponent(got.PolicyDocument!), document);
    assert.notEqual(got.PolicyDocument, document, 'IAM answers the document URL-encoded');
    const principal = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: '*' }],
    });
    const bad = await sdkError(
      c.send(new IAM.PutUserPolicyCommand({ UserName: 'app', PolicyName: 'bad', PolicyDocument: principal })),
    );
    assert.equal(bad.name, 'MalformedPolicyDocumentException');
    assert.equal(bad.$metadata.httpStatusCode, 400);
    const conflict = await sdkError(c.send(new IAM.DeleteUserCommand({ UserName: 'app' })));
    assert.equal(conflict.name, 'DeleteConflictException');
    assert.equal(conflict.$metadata.httpStatusCode, 409);
    assert.deepEqual((await c.send(new IAM.ListUserPoliciesCommand({ UserName: 'app' }))).PolicyNames, [
      'media',
    ]);
  });

  it('a new key is unknown for keyPropagationMs, a new policy applies after policyPropagationMs, then iam-simulate decides', async function () {
    const f = await fake({ keyPropagationMs: 600, policyPropagationMs: 400 });
    const bucket = name();
    await create(f, bucket);
    await iam(f).send(new IAM.CreateUserCommand({ UserName: 'app' }));
    const made = await iam(f).send(new IAM.CreateAccessKeyCommand({ UserName: 'app' }));
    const key = {
      accessKeyId: made.AccessKey!.AccessKeyId!,
      secretAccessKey: made.AccessKey!.SecretAccessKey!,
    };
    const app = s3(f, key);
    const put = () =>
      app.send(new S3.PutObjectCommand({ Bucket: bucket, Key: 'uploadedfiles/a.txt', Body: 'a' }));
    assert.equal((await sdkError(put())).name, 'InvalidAccessKeyId');
    assert.equal(
      (await sdkError(sts(f, key).send(new STS.GetCallerIdentityCommand({})))).name,
      'InvalidClientTokenId',
    );
    await new Promise((r) => setTimeout(r, 650));
    assert.equal(
      (await sts(f, key).send(new STS.GetCallerIdentityCommand({}))).Arn,
      `arn:aws:iam::${f.accountId}:user/app`,
    );
    assert.equal((await sdkError(put())).name, 'AccessDenied', 'no policy yet');
    await iam(f).send(
      new IAM.PutUserPolicyCommand({
        UserName: 'app',
        PolicyName: 'media',
        PolicyDocument: JSON.stringify(APP_POLICY(bucket)),
      }),
    );
    assert.equal((await sdkError(put())).name, 'AccessDenied', 'the policy has not propagated');
    await new Promise((r) => setTimeout(r, 450));
    await put();
    const body = await (
      await app.send(new S3.GetObjectCommand({ Bucket: bucket, Key: 'uploadedfiles/a.txt' }))
    ).Body?.transformToString();
    assert.equal(body, 'a');
    const del = await sdkError(
      app.send(new S3.DeleteObjectCommand({ Bucket: bucket, Key: 'uploadedfiles/a.txt' })),
    );
    assert.equal(del.name, 'AccessDenied', 'the policy grants no s3:DeleteObject');
    assert.match(del.message, /s3:DeleteObject/);
    const other = await sdkError(app.send(new S3.GetBucketTaggingCommand({ Bucket: bucket })));
    assert.equal(other.name, 'AccessDenied');
  });

  it('without s3:ListBucket, a missing key answers 403 instead of 404', async function () {
    const f = await fake();
    const bucket = name();
    await create(f, bucket);
    const [key] = f.seedUser('app', {
      keys: 1,
      policies: {
        p: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }],
        },
      },
    });
    const e = await sdkError(s3(f, key).send(new S3.GetObjectCommand({ Bucket: bucket, Key: 'missing' })));
    assert.equal(e.$metadata.httpStatusCode, 403);
    const e2 = await sdkError(s3(f).send(new S3.GetObjectCommand({ Bucket: bucket, Key: 'missing' })));
    assert.equal(e2.name, 'NoSuchKey');
  });

  it('transient faults are retried by the SDK (500, 503, Throttling, reset); persistent ones are not', async function () {
    const f = await fake();
    const bucket = name();
    await create(f, bucket);
    f.fault('s3', 'PutBucketTagging', { kind: 'InternalError', times: 2 });
    const ok = await s3(f).send(
      new S3.PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: [{ Key: 'a', Value: 'b' }] } }),
    );
    assert.equal(ok.$metadata.attempts, 3);
    f.fault('s3', 'PutBucketCors', { kind: 'SlowDown', times: 1 });
    await s3(f).send(
      new S3.PutBucketCorsCommand({
        Bucket: bucket,
        CORSConfiguration: { CORSRules: [{ AllowedMethods: ['GET'], AllowedOrigins: ['*'] }] },
      }),
    );
    f.fault('iam', 'CreateUser', { kind: 'Throttling', times: 1 });
    assert.equal((await iam(f).send(new IAM.CreateUserCommand({ UserName: 'app' }))).$metadata.attempts, 2);
    f.fault('sts', 'GetCallerIdentity', { kind: 'ECONNRESET', times: 2 });
    assert.equal((await sts(f).send(new STS.GetCallerIdentityCommand({}))).Account, f.accountId);
    assert.deepEqual(
      f.callsOf('sts').map((c) => c.code ?? c.status),
      ['ECONNRESET', 'ECONNRESET', 200],
    );
    f.fault('iam', 'PutUserPolicy', { kind: 'AccessDenied', persistent: true });
    const denied = await sdkError(
      iam(f).send(
        new IAM.PutUserPolicyCommand({
          UserName: 'app',
          PolicyName: 'p',
          PolicyDocument: JSON.stringify(APP_POLICY(bucket)),
        }),
      ),
    );
    assert.equal(denied.name, 'AccessDenied');
    assert.equal(denied.$metadata.attempts, 1);
    f.fault('s3', 'PutBucketEncryption', { kind: 'InternalError', persistent: true });
    const down = await sdkError(
      s3(f, undefined, REGION, { maxAttempts: 2 }).send(
        new S3.PutBucketEncryptionCommand({
          Bucket: bucket,
          ServerSideEncryptionConfiguration: {
            Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
          },
        }),
      ),
    );
    assert.equal(down.name, 'InternalError');
    assert.equal(down.$metadata.attempts, 2);
    f.clearFaults();
  });

  it('a fault after the effect loses the answer: a retried CreateAccessKey makes a second key, as on AWS', async function () {
    const f = await fake();
    f.seedUser('app');
    f.fault('iam', 'CreateAccessKey', { kind: 'InternalError', afterEffect: true });
    await iam(f).send(new IAM.CreateAccessKeyCommand({ UserName: 'app' }));
    assert.equal(f.user('app')?.keys.length, 2);
  });

  it('temporary operator credentials need their session token; an expired one answers ExpiredToken', async function () {
    const f = await fake({ temporaryOperator: true });
    assert.match(f.operator.accessKeyId, /^ASIA/);
    assert.match((await sts(f).send(new STS.GetCallerIdentityCommand({}))).Arn!, /assumed-role/);
    const tokenless = { accessKeyId: f.operator.accessKeyId, secretAccessKey: f.operator.secretAccessKey };
    assert.equal(
      (await sdkError(sts(f, tokenless).send(new STS.GetCallerIdentityCommand({})))).name,
      'InvalidClientTokenId',
    );
    f.expireSession();
    const e = await sdkError(sts(f).send(new STS.GetCallerIdentityCommand({})));
    assert.equal(e.name, 'ExpiredToken', 'STS answers code ExpiredToken, which the SDK does not model');
    assert.equal(e.$metadata.httpStatusCode, 403);
    assert.equal((await sdkError(s3(f).send(new S3.ListBucketsCommand({})))).name, 'ExpiredToken');
  });

  it('ListObjectVersions pages with KeyMarker/VersionIdMarker; DeleteObjects answers per-key Errors for locked objects', async function () {
    const f = await fake();
    const bucket = name();
    await create(f, bucket);
    for (const k of ['a', 'b', 'c']) await f.seedObject(bucket, `uploadedfiles/${k}`);
    await f.seedObject(bucket, 'uploadedfiles/held', 'held', { locked: true });
    f.seedVersions(bucket, 'uploadedfiles/b', 2, { deleteMarker: true });
    const c = s3(f);
    const seen: string[] = [];
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await c.send(
        new S3.ListObjectVersionsCommand({
          Bucket: bucket,
          MaxKeys: 2,
          KeyMarker: keyMarker,
          VersionIdMarker: versionMarker,
        }),
      );
      pages++;
      for (const v of [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])])
        seen.push(`${v.Key}@${v.VersionId === 'null' ? 'null' : 'v'}`);
      if (!page.IsTruncated) break;
      keyMarker = page.NextKeyMarker;
      versionMarker = page.NextVersionIdMarker;
    }
    assert.equal(pages, 4);
    assert.equal(seen.length, 7);
    assert.equal(new Set(seen.filter((s) => s.endsWith('@null'))).size, 4);
    const all = await c.send(new S3.ListObjectVersionsCommand({ Bucket: bucket }));
    const objects = [...(all.Versions ?? []), ...(all.DeleteMarkers ?? [])].map((v) => ({
      Key: v.Key!,
      VersionId: v.VersionId,
    }));
    const out = await c.send(
      new S3.DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } }),
    );
    assert.deepEqual(
      out.Errors?.map((e) => [e.Key, e.Code]),
      [['uploadedfiles/held', 'AccessDenied']],
    );
    assert.equal(out.Deleted, undefined, 'Quiet: only errors');
    const notEmpty = await sdkError(c.send(new S3.DeleteBucketCommand({ Bucket: bucket })));
    assert.equal(notEmpty.name, 'BucketNotEmpty');
    assert.deepEqual((await f.bucket(bucket))?.objects, ['uploadedfiles/held']);
    assert.equal((await f.bucket(bucket))?.versions, 0);
  });

  it('proxies the data plane to s3rver: an aws-chunked checksummed stream upload and multipart arrive intact', async function () {
    const f = await fake();
    const bucket = name();
    await create(f, bucket);
    const c = s3(f);
    const text = 'x'.repeat(70_000);
    await c.send(
      new S3.PutObjectCommand({
        Bucket: bucket,
        Key: 'stream.txt',
        Body: Readable.from([Buffer.from(text)]),
        ContentLength: text.length,
      }),
    );
    assert.equal(
      await (
        await c.send(new S3.GetObjectCommand({ Bucket: bucket, Key: 'stream.txt' }))
      ).Body?.transformToString(),
      text,
    );
    const up = await c.send(new S3.CreateMultipartUploadCommand({ Bucket: bucket, Key: 'multi.bin' }));
    const part = Buffer.alloc(5 * 1024 * 1024, 7);
    const p1 = await c.send(
      new S3.UploadPartCommand({
        Bucket: bucket,
        Key: 'multi.bin',
        UploadId: up.UploadId,
        PartNumber: 1,
        Body: part,
      }),
    );
    const p2 = await c.send(
      new S3.UploadPartCommand({
        Bucket: bucket,
        Key: 'multi.bin',
        UploadId: up.UploadId,
        PartNumber: 2,
        Body: Buffer.from('end'),
      }),
    );
    await c.send(
      new S3.CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'multi.bin',
        UploadId: up.UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: p1.ETag },
            { PartNumber: 2, ETag: p2.ETag },
          ],
        },
      }),
    );
    const head = await c.send(new S3.HeadObjectCommand({ Bucket: bucket, Key: 'multi.bin' }));
    assert.equal(head.ContentLength, part.length + 3);
    const listed = await c.send(new S3.ListObjectsV2Command({ Bucket: bucket }));
    assert.deepEqual(
      listed.Contents?.map((o) => o.Key),
      ['multi.bin', 'stream.txt'],
    );
    const foreign = name();
    await f.seedBucket(foreign, { owner: '999988887777', region: REGION });
    assert.equal(
      (await sdkError(c.send(new S3.PutObjectCommand({ Bucket: foreign, Key: 'k', Body: 'x' })))).name,
      'AccessDenied',
    );
  });

  it('adds the configured latency to every call', async function () {
    const f = await fake({ latencyMs: (service) => (service === 'sts' ? 120 : 0) });
    const started = Date.now();
    await sts(f).send(new STS.GetCallerIdentityCommand({}));
    assert.ok(Date.now() - started >= 120);
    const call = f.callsOf('sts')[0]!;
    assert.ok(call.doneAt - call.at >= 120);
  });

  it('an operator policy is enforced too (the README policy allows the app bucket and user only)', async function () {
    const { awsOperatorPolicy } = await import('../../lib/policies.js');
    const bucket = name();
    const f = await fake({ operatorPolicy: awsOperatorPolicy(bucket, 'app', DEFAULT_ACCOUNT) });
    await create(f, bucket);
    assert.equal((await sdkError(create(f, name()))).name, 'AccessDenied');
    await iam(f).send(new IAM.CreateUserCommand({ UserName: 'app', Tags: [{ Key: 'a', Value: 'b' }] }));
    assert.equal(
      (await sdkError(iam(f).send(new IAM.CreateUserCommand({ UserName: 'admin2' })))).name,
      'AccessDenied',
    );
  });
});

const DEFAULT_ACCOUNT = '123456789012';
