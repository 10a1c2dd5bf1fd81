/**
 * The operator policy printed in the README allows every call a provisioning and a teardown plan make, and
 * nothing on another bucket or user: judged by iam-simulate, call by call, from the plans themselves.
 */
import assert from 'node:assert/strict';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { awsOperatorPolicy } from '../../lib/policies.js';

const ACCOUNT = '111122223333';
const BUCKET = 'arches-media-demo';
const USER = 'arches-demo-media';
const OPERATOR = `arn:aws:iam::${ACCOUNT}:user/operator`;

/** SDK command → the IAM actions AWS checks for it. */
const ACTIONS: Record<string, string[]> = {
  HeadBucket: ['s3:ListBucket'],
  CreateBucket: ['s3:CreateBucket'],
  PutPublicAccessBlock: ['s3:PutBucketPublicAccessBlock'],
  PutBucketOwnershipControls: ['s3:PutBucketOwnershipControls'],
  PutBucketEncryption: ['s3:PutEncryptionConfiguration'],
  PutBucketCors: ['s3:PutBucketCORS'],
  PutBucketTagging: ['s3:PutBucketTagging'],
  PutBucketPolicy: ['s3:PutBucketPolicy'],
  DeleteBucketPolicy: ['s3:DeleteBucketPolicy'],
  GetBucketTagging: ['s3:GetBucketTagging'],
  DeleteBucketTagging: ['s3:PutBucketTagging'],
  GetBucketCors: ['s3:GetBucketCORS'],
  DeleteBucketCors: ['s3:PutBucketCORS'],
  GetBucketPolicy: ['s3:GetBucketPolicy'],
  GetPublicAccessBlock: ['s3:GetBucketPublicAccessBlock'],
  GetBucketOwnershipControls: ['s3:GetBucketOwnershipControls'],
  GetBucketEncryption: ['s3:GetEncryptionConfiguration'],
  GetBucketLifecycleConfiguration: ['s3:GetLifecycleConfiguration'],
  PutBucketLifecycleConfiguration: ['s3:PutLifecycleConfiguration'],
  DeleteBucketLifecycle: ['s3:PutLifecycleConfiguration'],
  DeleteObject: ['s3:DeleteObject'],
  GetUserPolicy: ['iam:GetUserPolicy'],
  ListObjectsV2: ['s3:ListBucket'],
  ListObjectVersions: ['s3:ListBucketVersions'],
  DeleteObjects: ['s3:DeleteObject', 's3:DeleteObjectVersion'],
  DeleteBucket: ['s3:DeleteBucket'],
  CreateUser: ['iam:CreateUser', 'iam:TagUser'],
  GetUser: ['iam:GetUser'],
  ListUserTags: ['iam:ListUserTags'],
  PutUserPolicy: ['iam:PutUserPolicy'],
  ListUserPolicies: ['iam:ListUserPolicies'],
  DeleteUserPolicy: ['iam:DeleteUserPolicy'],
  CreateAccessKey: ['iam:CreateAccessKey'],
  ListAccessKeys: ['iam:ListAccessKeys'],
  DeleteAccessKey: ['iam:DeleteAccessKey'],
  DeleteUser: ['iam:DeleteUser'],
};

async function allowed(action: string, resource: string): Promise<boolean> {
  const response = await runSimulation(
    {
      request: {
        principal: OPERATOR,
        action,
        resource: { resource, accountId: ACCOUNT },
        contextVariables: {},
      },
      identityPolicies: [{ name: 'operator', policy: awsOperatorPolicy(BUCKET, USER, ACCOUNT) }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (response.resultType === 'error') assert.fail(`${action}: ${JSON.stringify(response.errors)}`);
  return response.overallResult === 'Allowed';
}

const resourceFor = (action: string, bucket = BUCKET, user = USER): string =>
  action.startsWith('iam:')
    ? `arn:aws:iam::${ACCOUNT}:user/${user}`
    : action.includes('Object')
      ? `arn:aws:s3:::${bucket}/uploadedfiles/photo.jpg`
      : `arn:aws:s3:::${bucket}`;

describe('awsOperatorPolicy (iam-simulate)', function () {
  for (const [command, actions] of Object.entries(ACTIONS)) {
    it(`allows ${command} on the app's bucket/user, and not on others`, async function () {
      for (const action of actions) {
        assert.equal(await allowed(action, resourceFor(action)), true, `${action} allowed`);
        assert.equal(
          await allowed(action, resourceFor(action, 'someone-elses-bucket', 'admin')),
          false,
          `${action} elsewhere denied`,
        );
      }
    });
  }

  it('grants nothing beyond setting up one bucket and one user', async function () {
    for (const action of ['s3:GetObject', 's3:PutObject', 'iam:AttachUserPolicy', 's3:PutBucketAcl']) {
      assert.equal(await allowed(action, resourceFor(action)), false, `${action} denied`);
    }
    for (const action of ['iam:CreateRole', 'iam:PassRole']) {
      assert.equal(await allowed(action, `arn:aws:iam::${ACCOUNT}:role/admin`), false, `${action} denied`);
    }
  });
});

export { ACTIONS as OPERATOR_ACTIONS };
