/**
 * The AWS-like fake answers like AWS: STS, IAM and the S3 control plane from its own state, buckets, CORS and
 * objects from a real s3rver; app keys are authorised by iam-simulate; calls the generator never makes are refused.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeleteConflictException,
  DeleteUserCommand,
  DeleteUserPolicyCommand,
  EntityAlreadyExistsException,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMServiceException,
  LimitExceededException,
  ListAccessKeysCommand,
  ListUserPoliciesCommand,
  ListUserTagsCommand,
  ListUsersCommand,
  MalformedPolicyDocumentException,
  NoSuchEntityException,
  PutUserPolicyCommand,
  ServiceFailureException,
} from '@aws-sdk/client-iam';
import * as IAM from '@aws-sdk/client-iam';
import * as STS from '@aws-sdk/client-sts';
import * as S3 from '@aws-sdk/client-s3';
import {
  BucketAlreadyExists,
  BucketAlreadyOwnedByYou,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  GetBucketCorsCommand,
  GetBucketEncryptionCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  GetBucketLocationCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  DeleteObjectsCommand,
  NoSuchBucket,
  NotFound,
  PutBucketCorsCommand,
  PutBucketEncryptionCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  S3ServiceException,
  type S3Client,
} from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import type { AccessKey, AwsClients } from '../../lib/provision/types.js';
import { FakeAws, type FakeAwsOptions } from './fake-aws.js';
import { withUnlistedValue } from './sdk-input.js';
import { startS3rver, type RunningS3 } from './s3rver.js';

interface SdkError extends Error {
  $fault?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
  Code?: string;
  code?: string;
}

const ACCOUNT = '123456789012';

async function rejection(promise: Promise<unknown>): Promise<SdkError> {
  return promise.then(
    () => assert.fail('the call should fail'),
    (error: unknown) => error as SdkError,
  );
}

function assertAwsError(
  error: SdkError,
  name: string,
  status: number,
  fault: 'client' | 'server' = 'client',
): void {
  assert.equal(error.name, name, error.message);
  assert.equal(error.$metadata?.httpStatusCode, status);
  assert.equal(error.$fault, fault);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function policyFor(bucket: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Sid: 'List', Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${bucket}` },
      {
        Sid: 'ReadWriteObjects',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
        Resource: `arn:aws:s3:::${bucket}/*`,
      },
    ],
  });
}

describe('FakeAws: an AWS that behaves like AWS (s3rver + calls modelled in process)', function () {
  let server: RunningS3;
  const fakes: FakeAws[] = [];
  let counter = 0;
  const unique = (prefix: string) => `${prefix}-${++counter}-${process.pid}`;

  before(async () => {
    server = await startS3rver();
  });
  after(async () => {
    fakes.forEach((f) => f.restore());
    await server.stop();
  });

  function fresh(options: Partial<FakeAwsOptions> = {}): { fake: FakeAws; aws: AwsClients } {
    const fake = new FakeAws({ s3rverEndpoint: server.endpoint, ...options });
    fakes.push(fake);
    return { fake, aws: fake.clients() };
  }

  async function userWithKey(
    fake: FakeAws,
    aws: AwsClients,
    policy?: string,
  ): Promise<{ name: string; key: AccessKey }> {
    const name = unique('app');
    await aws.iam.send(new CreateUserCommand({ UserName: name }));
    if (policy)
      await aws.iam.send(
        new PutUserPolicyCommand({ UserName: name, PolicyName: 'p', PolicyDocument: policy }),
      );
    const made = await aws.iam.send(new CreateAccessKeyCommand({ UserName: name }));
    return {
      name,
      key: { accessKeyId: made.AccessKey!.AccessKeyId!, secretAccessKey: made.AccessKey!.SecretAccessKey! },
    };
  }

  it('models every command the generator sends, and no other', function () {
    const sources = [
      'generators/aws/provisioner.ts',
      'generators/s3-compatible/provisioner.ts',
      'generators/base/provisioning.ts',
      ...readdirSync(new URL('../../lib/provision/', import.meta.url)).map((f) => `lib/provision/${f}`),
      'scripts/bench.ts',
    ];
    const sent = { s3: new Set<string>(), iam: new Set<string>(), sts: new Set<string>() };
    for (const file of sources) {
      const text = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
      // Every SDK command class the file names (imported for a table or sent directly).
      for (const [, name] of text.matchAll(/\b([A-Z]\w*)Command\b/g)) {
        const service = (
          [
            ['s3', S3],
            ['iam', IAM],
            ['sts', STS],
          ] as const
        ).find(([, sdk]) => typeof (sdk as Record<string, unknown>)[`${name}Command`] === 'function')?.[0];
        if (service) sent[service].add(name!);
      }
    }
    assert.ok(sent.s3.has('PutObject') && sent.iam.has('CreateUser') && sent.sts.has('GetCallerIdentity'));
    const modelled = fresh().fake.modelled();
    for (const service of ['s3', 'iam', 'sts'] as const)
      assert.deepEqual([...modelled[service]].sort(), [...sent[service]].sort(), service);
  });

  describe('STS', function () {
    it('GetCallerIdentity names the account and the operator', async function () {
      const { aws } = fresh();
      const identity = await aws.sts.send(new GetCallerIdentityCommand({}));
      assert.equal(identity.Account, ACCOUNT);
      assert.equal(identity.Arn, `arn:aws:iam::${ACCOUNT}:user/operator`);
      assert.match(identity.UserId!, /^AIDA[A-Z2-7]{17}$/);
      assert.equal(identity.$metadata.httpStatusCode, 200);
      assert.equal(fresh().fake.accountId, ACCOUNT);
    });

    it('GetCallerIdentity with an app key: InvalidClientTokenId (403) until the key has propagated, then its user', async function () {
      const { fake, aws } = fresh({ keyPropagationMs: 300 });
      const { name, key } = await userWithKey(fake, aws);
      const early = await rejection(aws.stsWithKey!(key).send(new GetCallerIdentityCommand({})));
      assertAwsError(early, 'InvalidClientTokenId', 403);
      await sleep(320);
      const identity = await aws.stsWithKey!(key).send(new GetCallerIdentityCommand({}));
      assert.equal(identity.Arn, `arn:aws:iam::${ACCOUNT}:user/${name}`);
      const wrong = aws.stsWithKey!({ ...key, secretAccessKey: 'not-the-secret' });
      assertAwsError(
        await rejection(wrong.send(new GetCallerIdentityCommand({}))),
        'InvalidClientTokenId',
        403,
      );
    });
  });

  describe('IAM', function () {
    it('CreateUser returns the ARN and echoes tags; a name taken in any case is EntityAlreadyExists (409)', async function () {
      const { fake, aws } = fresh();
      const tags = [{ Key: 'arches-project', Value: 'demo' }];
      const made = await aws.iam.send(new CreateUserCommand({ UserName: 'Arches-Media', Tags: tags }));
      assert.equal(made.User?.Arn, `arn:aws:iam::${ACCOUNT}:user/Arches-Media`);
      assert.equal(made.User?.UserName, 'Arches-Media');
      assert.deepEqual(made.User?.Tags, tags);
      assert.ok(made.User?.CreateDate instanceof Date);
      const error = await rejection(aws.iam.send(new CreateUserCommand({ UserName: 'arches-media' })));
      assert.ok(error instanceof EntityAlreadyExistsException);
      assert.ok(error instanceof IAMServiceException);
      assertAwsError(error, 'EntityAlreadyExistsException', 409);
      assert.equal((error as SdkError).Code, 'EntityAlreadyExists');
      assert.equal(error.message, 'User with name arches-media already exists.');
      assert.deepEqual(fake.iam.get('Arches-Media')?.tags, tags);
      assert.deepEqual(
        (await aws.iam.send(new ListUserTagsCommand({ UserName: 'Arches-Media' }))).Tags,
        tags,
      );
      const got = await aws.iam.send(new GetUserCommand({ UserName: 'Arches-Media' }));
      assert.equal(got.User?.UserId, made.User?.UserId);
    });

    it('an invalid user name is a ValidationError (400)', async function () {
      const { aws } = fresh();
      const error = await rejection(aws.iam.send(new CreateUserCommand({ UserName: 'has space' })));
      assert.ok(error instanceof IAMServiceException);
      assertAwsError(error, 'ValidationError', 400);
    });

    it('GetUser, ListUserTags of a missing user: NoSuchEntity (404)', async function () {
      const { aws } = fresh();
      for (const call of [
        () => aws.iam.send(new GetUserCommand({ UserName: 'nobody' })),
        () => aws.iam.send(new ListUserTagsCommand({ UserName: 'nobody' })),
      ]) {
        const error = await rejection(call());
        assert.ok(error instanceof NoSuchEntityException);
        assertAwsError(error, 'NoSuchEntityException', 404);
        assert.equal(error.message, 'The user with name nobody cannot be found.');
      }
    });

    it('PutUserPolicy refuses invalid JSON and a Principal (MalformedPolicyDocument) and documents over 2048 characters (LimitExceeded)', async function () {
      const { fake, aws } = fresh();
      await aws.iam.send(new CreateUserCommand({ UserName: 'policy-user' }));
      const put = (PolicyDocument: string, PolicyName = 'p') =>
        aws.iam.send(new PutUserPolicyCommand({ UserName: 'policy-user', PolicyName, PolicyDocument }));
      const invalid = await rejection(put('{"Version": "2012-10-17", "Statement": ['));
      assert.ok(invalid instanceof MalformedPolicyDocumentException);
      assertAwsError(invalid, 'MalformedPolicyDocumentException', 400);
      const withPrincipal = JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' },
        ],
      });
      const principal = await rejection(put(withPrincipal));
      assert.ok(principal instanceof MalformedPolicyDocumentException);
      assert.equal(principal.message, 'Policy document should not specify a principal.');
      const huge = JSON.stringify({
        Version: '2012-10-17',
        Statement: Array.from({ length: 40 }, (_, i) => ({
          Effect: 'Allow',
          Action: 's3:GetObject',
          Resource: `arn:aws:s3:::bucket-${i}/*`,
        })),
      });
      assert.ok(huge.length > 2048);
      const tooBig = await rejection(put(huge));
      assert.ok(tooBig instanceof LimitExceededException);
      assertAwsError(tooBig, 'LimitExceededException', 409);
      // Whitespace does not count.
      const spaced = policyFor('spaced').replace(/,/g, `,${'\n'.padEnd(300)}`);
      assert.ok(spaced.length > 2048);
      await put(spaced);
      assert.deepEqual(fake.iam.get('policy-user')?.policies.get('p'), spaced);
      assert.deepEqual(
        (await aws.iam.send(new ListUserPoliciesCommand({ UserName: 'policy-user' }))).PolicyNames,
        ['p'],
      );
      // IAM returns the document URL-encoded (RFC 3986), and the JS SDK does not decode it.
      const got = await aws.iam.send(new GetUserPolicyCommand({ UserName: 'policy-user', PolicyName: 'p' }));
      assert.match(got.PolicyDocument!, /^%7B/);
      assert.equal(decodeURIComponent(got.PolicyDocument!), spaced);
      await aws.iam.send(new DeleteUserPolicyCommand({ UserName: 'policy-user', PolicyName: 'p' }));
      const gone = await rejection(
        aws.iam.send(new DeleteUserPolicyCommand({ UserName: 'policy-user', PolicyName: 'p' })),
      );
      assert.ok(gone instanceof NoSuchEntityException);
    });

    it('CreateAccessKey makes AWS-shaped keys, at most 2 per user (inactive ones count): a third is LimitExceeded', async function () {
      const { fake, aws } = fresh();
      await aws.iam.send(new CreateUserCommand({ UserName: 'key-user' }));
      const first = (await aws.iam.send(new CreateAccessKeyCommand({ UserName: 'key-user' }))).AccessKey!;
      assert.match(first.AccessKeyId!, /^AKIA[A-Z0-9]{16}$/);
      assert.equal(first.SecretAccessKey!.length, 40);
      assert.equal(first.Status, 'Active');
      const second = (await aws.iam.send(new CreateAccessKeyCommand({ UserName: 'key-user' }))).AccessKey!;
      // Deactivated by hand (the generator never deactivates a key).
      fake.iam.get('key-user')!.keys[0]!.status = 'Inactive';
      const third = await rejection(aws.iam.send(new CreateAccessKeyCommand({ UserName: 'key-user' })));
      assert.ok(third instanceof LimitExceededException);
      assertAwsError(third, 'LimitExceededException', 409);
      assert.equal(third.message, 'Cannot exceed quota for AccessKeysPerUser: 2');
      const listed = await aws.iam.send(new ListAccessKeysCommand({ UserName: 'key-user' }));
      assert.deepEqual(
        listed.AccessKeyMetadata?.map((k) => [k.AccessKeyId, k.Status, k.CreateDate instanceof Date]),
        [
          [first.AccessKeyId, 'Inactive', true],
          [second.AccessKeyId, 'Active', true],
        ],
      );
      assert.deepEqual(
        fake.iam.get('key-user')?.keys.map((k) => [k.id, k.secret, k.status]),
        [
          [first.AccessKeyId, first.SecretAccessKey, 'Inactive'],
          [second.AccessKeyId, second.SecretAccessKey, 'Active'],
        ],
      );
      await aws.iam.send(
        new DeleteAccessKeyCommand({ UserName: 'key-user', AccessKeyId: first.AccessKeyId }),
      );
      const again = await rejection(
        aws.iam.send(new DeleteAccessKeyCommand({ UserName: 'key-user', AccessKeyId: first.AccessKeyId })),
      );
      assert.ok(again instanceof NoSuchEntityException);
      assert.equal(again.message, `The Access Key with id ${first.AccessKeyId} cannot be found.`);
    });

    it('DeleteUser is a DeleteConflict (409) while the user has keys or inline policies', async function () {
      const { fake, aws } = fresh();
      const { name, key } = await userWithKey(fake, aws, policyFor('any-bucket'));
      const withKey = await rejection(aws.iam.send(new DeleteUserCommand({ UserName: name })));
      assert.ok(withKey instanceof DeleteConflictException);
      assertAwsError(withKey, 'DeleteConflictException', 409);
      assert.equal(withKey.message, 'Cannot delete entity, must delete access keys first.');
      await aws.iam.send(new DeleteAccessKeyCommand({ UserName: name, AccessKeyId: key.accessKeyId }));
      const withPolicy = await rejection(aws.iam.send(new DeleteUserCommand({ UserName: name })));
      assert.ok(withPolicy instanceof DeleteConflictException);
      assert.equal(withPolicy.message, 'Cannot delete entity, must delete policies first.');
      await aws.iam.send(new DeleteUserPolicyCommand({ UserName: name, PolicyName: 'p' }));
      await aws.iam.send(new DeleteUserCommand({ UserName: name }));
      assert.equal(fake.iam.get(name), undefined);
      assert.ok(
        (await rejection(aws.iam.send(new DeleteUserCommand({ UserName: name })))) instanceof
          NoSuchEntityException,
      );
    });
  });

  describe('S3 control plane (answered by the fake) on buckets in s3rver', function () {
    it('a bucket s3rver does not have: NoSuchBucket (404)', async function () {
      const { aws } = fresh();
      const error = await rejection(
        aws.s3.send(new PutBucketTaggingCommand({ Bucket: 'no-such-bucket-here', Tagging: { TagSet: [] } })),
      );
      assert.ok(error instanceof NoSuchBucket);
      assertAwsError(error, 'NoSuchBucket', 404);
    });

    it('records public access block, ownership, encryption and tags; new buckets default to all blocked', async function () {
      const { fake, aws } = fresh();
      const bucket = unique('control');
      await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const defaults = await aws.s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket }));
      assert.deepEqual(defaults.PublicAccessBlockConfiguration, {
        BlockPublicAcls: true,
        IgnorePublicAcls: true,
        BlockPublicPolicy: true,
        RestrictPublicBuckets: true,
      });
      const noTags = await rejection(aws.s3.send(new GetBucketTaggingCommand({ Bucket: bucket })));
      assertAwsError(noTags, 'NoSuchTagSet', 404);
      assert.ok(noTags instanceof S3ServiceException);
      const pab = {
        BlockPublicAcls: true,
        IgnorePublicAcls: true,
        BlockPublicPolicy: false,
        RestrictPublicBuckets: false,
      };
      await aws.s3.send(
        new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: pab }),
      );
      const ownership = { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' as const }] };
      await aws.s3.send(
        new PutBucketOwnershipControlsCommand({ Bucket: bucket, OwnershipControls: ownership }),
      );
      const encryption = {
        Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' as const } }],
      };
      await aws.s3.send(
        new PutBucketEncryptionCommand({ Bucket: bucket, ServerSideEncryptionConfiguration: encryption }),
      );
      const tags = [{ Key: 'arches-project', Value: 'demo' }];
      const tagged = await aws.s3.send(
        new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: tags } }),
      );
      assert.equal(tagged.$metadata.httpStatusCode, 204);
      const state = fake.s3.get(bucket)!;
      assert.deepEqual(state.publicAccessBlock, pab);
      assert.equal(JSON.stringify(state.ownership), JSON.stringify(ownership));
      assert.deepEqual(state.encryption, encryption);
      assert.deepEqual(state.tags, tags);
      assert.deepEqual((await aws.s3.send(new GetBucketTaggingCommand({ Bucket: bucket }))).TagSet, tags);
      assert.deepEqual(
        (await aws.s3.send(new GetPublicAccessBlockCommand({ Bucket: bucket })))
          .PublicAccessBlockConfiguration,
        pab,
      );
      assert.deepEqual(
        (await aws.s3.send(new GetBucketOwnershipControlsCommand({ Bucket: bucket }))).OwnershipControls,
        ownership,
      );
      assert.deepEqual(
        (await aws.s3.send(new GetBucketEncryptionCommand({ Bucket: bucket })))
          .ServerSideEncryptionConfiguration,
        encryption,
      );
      const badOwnership = await rejection(
        aws.s3.send(
          new PutBucketOwnershipControlsCommand({
            Bucket: bucket,
            OwnershipControls: {
              Rules: [
                withUnlistedValue(
                  { ObjectOwnership: S3.ObjectOwnership.ObjectWriter },
                  'ObjectOwnership',
                  'Nobody',
                ),
              ],
            },
          }),
        ),
      );
      assertAwsError(badOwnership, 'MalformedXML', 400);
      const dupTags = await rejection(
        aws.s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: [...tags, ...tags] } })),
      );
      assertAwsError(dupTags, 'InvalidTag', 400);
    });

    it('lifecycle: none is NoSuchLifecycleConfiguration (404); rules are kept as put; S3’s checks; deleted', async function () {
      const { fake, aws } = fresh();
      const bucket = unique('lifecycle');
      await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const none = await rejection(
        aws.s3.send(new S3.GetBucketLifecycleConfigurationCommand({ Bucket: bucket })),
      );
      assertAwsError(none, 'NoSuchLifecycleConfiguration', 404);
      const rules: S3.LifecycleRule[] = [
        { ID: 'a', Status: 'Enabled', Filter: { Prefix: 'tmp/' }, Expiration: { Days: 7 } },
        {
          ID: 'b',
          Status: 'Enabled',
          Filter: { Prefix: '' },
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
        },
      ];
      await aws.s3.send(
        new S3.PutBucketLifecycleConfigurationCommand({
          Bucket: bucket,
          LifecycleConfiguration: { Rules: rules },
        }),
      );
      assert.deepEqual(fake.s3.get(bucket)!.lifecycle, rules);
      const got = await aws.s3.send(new S3.GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
      assert.deepEqual(got.Rules, rules);
      assert.equal(got.TransitionDefaultMinimumObjectSize, 'all_storage_classes_128K');
      const put = (r: S3.LifecycleRule[]) =>
        rejection(
          aws.s3.send(
            new S3.PutBucketLifecycleConfigurationCommand({
              Bucket: bucket,
              LifecycleConfiguration: { Rules: r },
            }),
          ),
        );
      assertAwsError(await put([rules[0]!, rules[0]!]), 'InvalidRequest', 400);
      assertAwsError(
        await put([{ ID: 'c', Status: 'Enabled', Filter: { Prefix: 'x/' } }]),
        'InvalidRequest',
        400,
      );
      assertAwsError(
        await put(Array.from({ length: 1001 }, (_, i) => ({ ...rules[0]!, ID: `r${i}` }))),
        'InvalidRequest',
        400,
      );
      assert.deepEqual(fake.s3.get(bucket)!.lifecycle, rules, 'a refused put changes nothing');
      await aws.s3.send(new S3.DeleteBucketLifecycleCommand({ Bucket: bucket }));
      assertAwsError(
        await rejection(aws.s3.send(new S3.GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))),
        'NoSuchLifecycleConfiguration',
        404,
      );
    });

    it('a bucket made directly in s3rver is known to the control plane too', async function () {
      const { fake, aws } = fresh();
      const bucket = unique('direct');
      await server.createBucket(bucket);
      await aws.s3.send(
        new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: [{ Key: 'k', Value: 'v' }] } }),
      );
      assert.deepEqual(fake.s3.get(bucket)?.tags, [{ Key: 'k', Value: 'v' }]);
    });

    it('a public policy is AccessDenied (403) while BlockPublicPolicy is on, allowed once PutPublicAccessBlock relaxes it', async function () {
      const { fake, aws } = fresh();
      const bucket = unique('public');
      await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const publicPolicy = JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'PublicReadGetObject',
            Effect: 'Allow',
            Principal: '*',
            Action: 's3:GetObject',
            Resource: `arn:aws:s3:::${bucket}/*`,
          },
        ],
      });
      const blocked = await rejection(
        aws.s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: publicPolicy })),
      );
      assertAwsError(blocked, 'AccessDenied', 403);
      assert.match(
        blocked.message,
        /because public policies are blocked by the BlockPublicPolicy block public access setting/,
      );
      assert.equal(fake.s3.get(bucket)?.policy, undefined);
      // A Deny to everyone is not public: allowed under Block Public Access.
      const tlsOnly = JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 's3:*',
            Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
        ],
      });
      await aws.s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: tlsOnly }));
      await aws.s3.send(
        new PutPublicAccessBlockCommand({
          Bucket: bucket,
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            IgnorePublicAcls: true,
            BlockPublicPolicy: false,
            RestrictPublicBuckets: false,
          },
        }),
      );
      const put = await aws.s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: publicPolicy }));
      assert.equal(put.$metadata.httpStatusCode, 204);
      assert.equal(fake.s3.get(bucket)?.policy, publicPolicy);
      assert.equal((await aws.s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy, publicPolicy);
      await aws.s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
      assertAwsError(
        await rejection(aws.s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))),
        'NoSuchBucketPolicy',
        404,
      );
    });

    it('MalformedPolicy (400) for invalid JSON, a missing Principal or a resource outside the bucket', async function () {
      const { aws } = fresh();
      const bucket = unique('malformed');
      await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const put = (Policy: string) => aws.s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy }));
      assertAwsError(await rejection(put('{"Statement": [')), 'MalformedPolicy', 400);
      const noPrincipal = { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` };
      const missing = await rejection(put(JSON.stringify({ Statement: [noPrincipal] })));
      assert.equal(missing.message, 'Missing required field Principal');
      const elsewhere = {
        ...noPrincipal,
        Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
        Resource: 'arn:aws:s3:::other/*',
      };
      const resource = await rejection(put(JSON.stringify({ Statement: [elsewhere] })));
      assertAwsError(resource, 'MalformedPolicy', 400);
      assert.equal(resource.message, 'Policy has invalid resource');
    });
  });

  describe('S3 through s3rver, answering like AWS', function () {
    it('PutBucketCors / GetBucketCors reach s3rver', async function () {
      const { fake, aws } = fresh();
      const bucket = unique('cors');
      await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const rule = {
        AllowedMethods: ['GET', 'HEAD'],
        AllowedOrigins: ['https://arches.example.org'],
        AllowedHeaders: ['*'],
        ExposeHeaders: ['ETag'],
        MaxAgeSeconds: 3000,
      };
      await aws.s3.send(
        new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: [rule] } }),
      );
      const direct = await server.client.send(new GetBucketCorsCommand({ Bucket: bucket }));
      assert.deepEqual(direct.CORSRules?.[0]?.AllowedOrigins, rule.AllowedOrigins);
      const through = await aws.s3.send(new GetBucketCorsCommand({ Bucket: bucket }));
      assert.deepEqual(through.CORSRules?.[0]?.AllowedMethods, rule.AllowedMethods);
      assert.deepEqual(
        fake.calls.map(([op]) => op),
        ['CreateBucket', 'PutBucketCors'],
      );
    });

    it('re-creating your own bucket: BucketAlreadyOwnedByYou (409) outside us-east-1, 200 in us-east-1', async function () {
      const { aws } = fresh();
      const bucket = unique('mine');
      const config = { LocationConstraint: 'eu-west-2' as const };
      await aws.s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: config }));
      const again = await rejection(
        aws.s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: config })),
      );
      assert.ok(again instanceof BucketAlreadyOwnedByYou);
      assertAwsError(again, 'BucketAlreadyOwnedByYou', 409);
      const head = await aws.s3.send(new HeadBucketCommand({ Bucket: bucket }));
      assert.equal(head.BucketRegion, 'eu-west-2');

      const other = unique('mine-use1');
      await aws.s3.send(new CreateBucketCommand({ Bucket: other }));
      const ok = await aws.s3.send(new CreateBucketCommand({ Bucket: other }));
      assert.equal(ok.$metadata.httpStatusCode, 200);
      assert.equal((await aws.s3.send(new HeadBucketCommand({ Bucket: other }))).BucketRegion, 'us-east-1');
    });

    it('LocationConstraint us-east-1 is InvalidLocationConstraint; invalid names are InvalidBucketName', async function () {
      const { aws } = fresh();
      const invalid = await rejection(
        aws.s3.send(
          new CreateBucketCommand({
            Bucket: unique('loc'),
            CreateBucketConfiguration: withUnlistedValue<S3.CreateBucketConfiguration>(
              {},
              'LocationConstraint',
              'us-east-1',
            ),
          }),
        ),
      );
      assertAwsError(invalid, 'InvalidLocationConstraint', 400);
      const underscore = await rejection(aws.s3.send(new CreateBucketCommand({ Bucket: 'my_app-media' })));
      assertAwsError(underscore, 'InvalidBucketName', 400);
    });

    it('a bucket of another account: HeadBucket 403, CreateBucket BucketAlreadyExists (409); a free name: NotFound (404)', async function () {
      const { fake, aws } = fresh();
      fake.takenBuckets.add('someone-elses-bucket');
      const head = await rejection(aws.s3.send(new HeadBucketCommand({ Bucket: 'someone-elses-bucket' })));
      assert.ok(head instanceof S3ServiceException);
      // HEAD errors have no body: the SDK only has the status, so 403 surfaces as name 'Unknown'.
      assertAwsError(head, 'Unknown', 403);
      const create = await rejection(
        aws.s3.send(new CreateBucketCommand({ Bucket: 'someone-elses-bucket' })),
      );
      assert.ok(create instanceof BucketAlreadyExists);
      assertAwsError(create, 'BucketAlreadyExists', 409);
      const free = await rejection(aws.s3.send(new HeadBucketCommand({ Bucket: unique('free') })));
      assert.ok(free instanceof NotFound);
      assertAwsError(free, 'NotFound', 404);
    });

    it("ListObjectVersions lists s3rver's objects and the fake's versions; DeleteBucket is BucketNotEmpty until DeleteObjects removed them", async function () {
      const { fake, aws } = fresh();
      const bucket = unique('versions');
      await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
      await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a', Body: 'x' }));
      fake.addVersions(bucket, 'b', 1, 1);
      const listed = await aws.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
      assert.deepEqual(
        listed.Contents?.map((o) => o.Key),
        ['a'],
        "ListObjectsV2 (for services without versions) lists s3rver's objects",
      );
      const versions = await aws.s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
      assert.deepEqual(
        versions.Versions?.map((v) => [v.Key, v.VersionId]),
        [
          ['a', 'null'],
          ['b', versions.Versions?.[1]?.VersionId],
        ],
      );
      assert.equal(versions.DeleteMarkers?.length, 1);
      const full = await rejection(aws.s3.send(new DeleteBucketCommand({ Bucket: bucket })));
      assertAwsError(full, 'BucketNotEmpty', 409);
      const all = [...(versions.Versions ?? []), ...(versions.DeleteMarkers ?? [])];
      const deleted = await aws.s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: all.map((v) => ({ Key: v.Key!, VersionId: v.VersionId! })) },
        }),
      );
      assert.equal(deleted.Deleted?.length, 3);
      assert.equal(fake.versionsLeft(bucket), 0);
      await aws.s3.send(new DeleteBucketCommand({ Bucket: bucket }));
      assertAwsError(
        await rejection(server.client.send(new HeadBucketCommand({ Bucket: bucket }))),
        'NotFound',
        404,
      );
    });

    it('a command the generator never sends is refused, and recorded', async function () {
      const { fake, aws } = fresh();
      const bucket = unique('unmodelled');
      await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const s3 = await rejection(aws.s3.send(new GetBucketLocationCommand({ Bucket: bucket })));
      assert.equal(s3.message, 'FakeAws does not model S3 GetBucketLocation');
      const versioning = await rejection(
        aws.s3.send(
          new PutBucketVersioningCommand({
            Bucket: bucket,
            VersioningConfiguration: { Status: 'Enabled' },
          }),
        ),
      );
      assert.equal(versioning.message, 'FakeAws does not model S3 PutBucketVersioning');
      const iam = await rejection(aws.iam.send(new ListUsersCommand({})));
      assert.equal(iam.message, 'FakeAws does not model IAM ListUsers');
      assert.deepEqual(
        fake.calls.map(([op]) => op),
        ['CreateBucket', 'PutBucketVersioning'],
      );
    });
  });

  describe('app keys on S3 (s3WithKey)', function () {
    it('a fresh key is InvalidAccessKeyId, then AccessDenied, then works: PutObject reaches s3rver', async function () {
      const { fake, aws } = fresh({ keyPropagationMs: 300 });
      const bucket = unique('probe');
      await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const { key } = await userWithKey(fake, aws, policyFor(bucket));
      const app = aws.s3WithKey(key);
      const put = () => app.send(new PutObjectCommand({ Bucket: bucket, Key: 'probe.txt', Body: 'hello' }));
      const unknown = await rejection(put());
      assertAwsError(unknown, 'InvalidAccessKeyId', 403);
      assert.equal(unknown.message, 'The AWS Access Key Id you provided does not exist in our records.');
      await sleep(320);
      assertAwsError(await rejection(put()), 'AccessDenied', 403);
      await sleep(120);
      await put();
      const got = await app.send(new GetObjectCommand({ Bucket: bucket, Key: 'probe.txt' }));
      assert.equal(await got.Body?.transformToString(), 'hello');
      const direct = await server.client.send(new GetObjectCommand({ Bucket: bucket, Key: 'probe.txt' }));
      assert.equal(await direct.Body?.transformToString(), 'hello');
      await app.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'probe.txt' }));
      assertAwsError(
        await rejection(server.client.send(new GetObjectCommand({ Bucket: bucket, Key: 'probe.txt' }))),
        'NoSuchKey',
        404,
      );
    });

    it('a key whose user has no policy for the bucket is AccessDenied; unknown, deleted and inactive keys are InvalidAccessKeyId', async function () {
      const { fake, aws } = fresh();
      const bucket = unique('denied');
      await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const bare = await userWithKey(fake, aws);
      const denied = await rejection(
        aws.s3WithKey(bare.key).send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' })),
      );
      assertAwsError(denied, 'AccessDenied', 403);
      assert.equal(
        denied.message,
        `User: arn:aws:iam::${ACCOUNT}:user/${bare.name} is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::${bucket}/k" because no identity-based policy allows the s3:PutObject action`,
      );
      const elsewhere = await userWithKey(fake, aws, policyFor('another-bucket'));
      assertAwsError(
        await rejection(
          aws.s3WithKey(elsewhere.key).send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })),
        ),
        'AccessDenied',
        403,
      );
      const made = aws.s3WithKey({ accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' });
      assertAwsError(
        await rejection(made.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }))),
        'InvalidAccessKeyId',
        403,
      );
      const wrongSecret = aws.s3WithKey({ ...bare.key, secretAccessKey: 'not-the-secret' });
      assertAwsError(
        await rejection(wrongSecret.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }))),
        'SignatureDoesNotMatch',
        403,
      );
      await aws.iam.send(
        new DeleteAccessKeyCommand({ UserName: bare.name, AccessKeyId: bare.key.accessKeyId }),
      );
      assertAwsError(
        await rejection(
          aws.s3WithKey(bare.key).send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' })),
        ),
        'InvalidAccessKeyId',
        403,
      );
      const allowed = await userWithKey(fake, aws, policyFor(bucket));
      fake.iam.get(allowed.name)!.keys[0]!.status = 'Inactive';
      assertAwsError(
        await rejection(
          aws.s3WithKey(allowed.key).send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' })),
        ),
        'InvalidAccessKeyId',
        403,
      );
    });

    it('without s3:ListBucket a missing object is 403, not 404', async function () {
      const { fake, aws } = fresh();
      const bucket = unique('nolist');
      await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const objectsOnly = JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: `arn:aws:s3:::${bucket}/*` },
        ],
      });
      const { key } = await userWithKey(fake, aws, objectsOnly);
      const app: S3Client = aws.s3WithKey(key);
      assertAwsError(
        await rejection(app.send(new GetObjectCommand({ Bucket: bucket, Key: 'missing' }))),
        'AccessDenied',
        403,
      );
      const full = await userWithKey(fake, aws, policyFor(bucket));
      assertAwsError(
        await rejection(
          aws.s3WithKey(full.key).send(new GetObjectCommand({ Bucket: bucket, Key: 'missing' })),
        ),
        'NoSuchKey',
        404,
      );
    });

    it("an explicit Deny wins over an Allow, in the user's policy or a service control policy, and says which", async function () {
      const { fake, aws } = fresh();
      const bucket = unique('deny');
      await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const allowAndDeny = JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          ...(JSON.parse(policyFor(bucket)) as { Statement: unknown[] }).Statement,
          { Effect: 'Deny', Action: 's3:DeleteObject', Resource: '*' },
        ],
      });
      const { name, key } = await userWithKey(fake, aws, allowAndDeny);
      const app = aws.s3WithKey(key);
      await app.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' }));
      const denied = await rejection(app.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' })));
      assertAwsError(denied, 'AccessDenied', 403);
      assert.equal(
        denied.message,
        `User: arn:aws:iam::${ACCOUNT}:user/${name} is not authorized to perform: s3:DeleteObject on resource: "arn:aws:s3:::${bucket}/k" with an explicit deny in an identity-based policy`,
      );
      fake.scpDeny.add('s3:GetObject');
      const scp = await rejection(app.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })));
      assertAwsError(scp, 'AccessDenied', 403);
      assert.match(
        scp.message,
        /s3:GetObject on resource: ".+\/k" with an explicit deny in a service control policy$/,
      );
      await app.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'y' }));
      fake.scpDeny.clear();
      const got = await app.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }));
      assert.equal(await got.Body?.transformToString(), 'y');
    });
  });

  describe('faults, calls and latency', function () {
    it('failOnce fires exactly once, on IAM and STS calls', async function () {
      const { fake, aws } = fresh();
      fake.failOnce('CreateUser', 'AccessDenied');
      const denied = await rejection(aws.iam.send(new CreateUserCommand({ UserName: 'faulty' })));
      assert.ok(denied instanceof IAMServiceException);
      assertAwsError(denied, 'AccessDenied', 403);
      assert.match(
        denied.message,
        /^User: arn:aws:iam::123456789012:user\/operator is not authorized to perform: iam:CreateUser/,
      );
      assert.equal(fake.iam.get('faulty'), undefined, 'nothing was created');
      await aws.iam.send(new CreateUserCommand({ UserName: 'faulty' }));
      assert.ok(fake.iam.get('faulty'));
      fake.failOnce('CreateAccessKeyCommand', 'InternalError');
      const failed = await rejection(aws.iam.send(new CreateAccessKeyCommand({ UserName: 'faulty' })));
      assert.ok(failed instanceof ServiceFailureException);
      assertAwsError(failed, 'ServiceFailureException', 500, 'server');
      assert.equal(failed.$metadata?.attempts, 3, 'reported as after the SDK gave up retrying');
      await aws.iam.send(new CreateAccessKeyCommand({ UserName: 'faulty' }));
      fake.failOnce('GetCallerIdentity', 'Throttling');
      assertAwsError(await rejection(aws.sts.send(new GetCallerIdentityCommand({}))), 'Throttling', 400);
      await aws.sts.send(new GetCallerIdentityCommand({}));
      assert.deepEqual(
        fake.calls.map(([op]) => op),
        ['CreateUser', 'CreateUser', 'CreateAccessKey', 'CreateAccessKey'],
        'every mutating call made, failed ones included',
      );
      assert.deepEqual(fake.calls[0], ['CreateUser', { UserName: 'faulty' }]);
    });

    it('failOnce on S3: answered and passed-through commands, final even though the SDK retries', async function () {
      const { fake, aws } = fresh();
      const bucket = unique('faults');
      fake.failOnce('CreateBucket', 'InternalError');
      const internal = await rejection(aws.s3.send(new CreateBucketCommand({ Bucket: bucket })));
      assertAwsError(internal, 'InternalError', 500, 'server');
      assert.equal(internal.$metadata?.attempts, 3);
      assertAwsError(
        await rejection(server.client.send(new HeadBucketCommand({ Bucket: bucket }))),
        'NotFound',
        404,
      );
      await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
      fake.failOnce('PutBucketCors', 'Throttling');
      const cors = { CORSRules: [{ AllowedMethods: ['GET'], AllowedOrigins: ['*'] }] };
      const slow = await rejection(
        aws.s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: cors })),
      );
      assertAwsError(slow, 'SlowDown', 503, 'server');
      await aws.s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: cors }));
      fake.failOnce('PutBucketTagging', 'ECONNRESET');
      const reset = await rejection(
        aws.s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: [] } })),
      );
      assert.equal(reset.name, 'Error');
      assert.equal(reset.code, 'ECONNRESET');
      assert.equal(fake.s3.get(bucket)?.tags, undefined);
      await aws.s3.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: [] } }));
      fake.failOnce('HeadBucket', 'AccessDenied');
      assertAwsError(await rejection(aws.s3.send(new HeadBucketCommand({ Bucket: bucket }))), 'Unknown', 403);
      await aws.s3.send(new HeadBucketCommand({ Bucket: bucket }));
    });

    it('latencyMs is added to every call, answered or passed through, and calls overlap', async function () {
      const { aws } = fresh({ latencyMs: 150 });
      const bucket = unique('latency');
      const timed = async (call: () => Promise<unknown>) => {
        const started = performance.now();
        await call();
        return performance.now() - started;
      };
      assert.ok((await timed(() => aws.sts.send(new GetCallerIdentityCommand({})))) >= 145);
      assert.ok((await timed(() => aws.s3.send(new CreateBucketCommand({ Bucket: bucket })))) >= 145);
      assert.ok((await timed(() => aws.s3.send(new HeadBucketCommand({ Bucket: bucket })))) >= 145);
      const together = await timed(() =>
        Promise.all(
          Array.from({ length: 5 }, (_, i) =>
            aws.iam.send(new CreateUserCommand({ UserName: `${bucket}-${i}` })),
          ),
        ),
      );
      assert.ok(together >= 145 && together < 600, `5 concurrent calls took ${together} ms`);
    });

    it('restore() closes the clients: later calls fail', async function () {
      const fake = new FakeAws({ s3rverEndpoint: server.endpoint });
      const { s3, iam } = fake.clients();
      await iam.send(new CreateUserCommand({ UserName: 'before-restore' }));
      fake.restore();
      for (const call of [
        () => iam.send(new GetUserCommand({ UserName: 'before-restore' })),
        () => s3.send(new HeadBucketCommand({ Bucket: 'any-bucket' })),
      ])
        assert.equal((await rejection(call())).message, 'FakeAws was restored: its clients are closed');
      fake.restore();
    });
  });
});
