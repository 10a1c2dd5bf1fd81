/**
 * Authorisation as AWS decides it, for the two AWS fakes (fake-aws.ts in process, aws-http.ts over the wire):
 * which IAM action and resource an S3 call needs, and whether a principal's policies allow it, evaluated by
 * @cloud-copilot/iam-simulate (identity policies, and service control policies for an explicit deny).
 */
import { getDenialReasons, runSimulation, type SimulationOrgPolicies } from '@cloud-copilot/iam-simulate';

/** S3 object operations whose IAM action is not `s3:<operation>` on the object ARN. */
const OBJECT_ACTIONS: Readonly<Record<string, string>> = {
  PutObject: 's3:PutObject',
  UploadPart: 's3:PutObject',
  CreateMultipartUpload: 's3:PutObject',
  CompleteMultipartUpload: 's3:PutObject',
  CopyObject: 's3:PutObject',
  GetObject: 's3:GetObject',
  HeadObject: 's3:GetObject',
  DeleteObject: 's3:DeleteObject',
  AbortMultipartUpload: 's3:AbortMultipartUpload',
  ListParts: 's3:ListMultipartUploadParts',
};

/** S3 bucket operations whose IAM action is not `s3:<operation>`. */
const BUCKET_ACTIONS: Readonly<Record<string, string>> = {
  HeadBucket: 's3:ListBucket',
  ListObjects: 's3:ListBucket',
  ListObjectsV2: 's3:ListBucket',
  ListObjectVersions: 's3:ListBucketVersions',
  ListMultipartUploads: 's3:ListBucketMultipartUploads',
  PutPublicAccessBlock: 's3:PutBucketPublicAccessBlock',
  DeletePublicAccessBlock: 's3:PutBucketPublicAccessBlock',
  GetPublicAccessBlock: 's3:GetBucketPublicAccessBlock',
  DeleteBucketOwnershipControls: 's3:PutBucketOwnershipControls',
  PutBucketEncryption: 's3:PutEncryptionConfiguration',
  DeleteBucketEncryption: 's3:PutEncryptionConfiguration',
  GetBucketEncryption: 's3:GetEncryptionConfiguration',
  DeleteBucketTagging: 's3:PutBucketTagging',
  PutBucketCors: 's3:PutBucketCORS',
  DeleteBucketCors: 's3:PutBucketCORS',
  GetBucketCors: 's3:GetBucketCORS',
  PutBucketLifecycleConfiguration: 's3:PutLifecycleConfiguration',
  DeleteBucketLifecycle: 's3:PutLifecycleConfiguration',
  GetBucketLifecycleConfiguration: 's3:GetLifecycleConfiguration',
};

/**
 * The IAM action and resource ARN an S3 operation needs. `key` makes it an object operation's ARN;
 * `versionId`: a DeleteObject of one version, which needs s3:DeleteObjectVersion.
 */
export function s3Action(
  operation: string,
  bucket: string,
  key = '',
  options: { versionId?: boolean } = {},
): [action: string, resource: string] {
  const bucketArn = `arn:aws:s3:::${bucket}`;
  if (operation === 'DeleteObject' && options.versionId)
    return ['s3:DeleteObjectVersion', `${bucketArn}/${key}`];
  const object = OBJECT_ACTIONS[operation];
  if (object) return [object, `${bucketArn}/${key}`];
  if (operation === 'ListBuckets') return ['s3:ListAllMyBuckets', '*'];
  return [BUCKET_ACTIONS[operation] ?? `s3:${operation}`, bucketArn];
}

export interface AuthorizationRequest {
  /** The caller's ARN. */
  principal: string;
  action: string;
  /** An ARN, or '*'. */
  resource: string;
  /** The account that owns the resource. */
  resourceAccount: string;
  /** The caller's identity policies, parsed. None: nothing is allowed. */
  identityPolicies: readonly unknown[];
  /** Actions a service control policy of the caller's organisation denies (everything else it allows). */
  scpDenies?: Iterable<string>;
}

/** Why a call is refused, in the words of AWS's AccessDenied message. */
export type Denial = 'no-identity-allow' | 'identity-deny' | 'scp-deny';

/** Whether AWS allows the call: undefined if it does, else why not. A request iam-simulate rejects is denied. */
export async function authorize(request: AuthorizationRequest): Promise<Denial | undefined> {
  const denied = [...(request.scpDenies ?? [])];
  const scps: SimulationOrgPolicies[] = denied.length
    ? [
        {
          orgIdentifier: 'ou-fake',
          policies: [
            {
              name: 'FullAWSAccess',
              policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
            },
            {
              name: 'Deny',
              policy: {
                Version: '2012-10-17',
                Statement: [{ Effect: 'Deny', Action: denied, Resource: '*' }],
              },
            },
          ],
        },
      ]
    : [];
  const response = await runSimulation(
    {
      request: {
        principal: request.principal,
        action: request.action,
        resource: { resource: request.resource, accountId: request.resourceAccount },
        contextVariables: {},
      },
      identityPolicies: request.identityPolicies.map((policy, i) => ({ name: `inline-${i}`, policy })),
      serviceControlPolicies: scps,
      resourceControlPolicies: [],
    },
    {},
  );
  if (response.resultType === 'error') return 'no-identity-allow';
  if (response.overallResult === 'Allowed') return undefined;
  const analysis = response.resultType === 'single' ? response.result.analysis : undefined;
  const explicit = analysis ? getDenialReasons(analysis).find((d) => d.denialType === 'Explicit') : undefined;
  if (explicit?.policyType === 'scp') return 'scp-deny';
  if (explicit) return 'identity-deny';
  return 'no-identity-allow';
}

/** AWS's AccessDenied message for a refused call. */
export function notAuthorizedMessage(
  principal: string,
  action: string,
  resource: string,
  why: Denial,
): string {
  const reason =
    why === 'scp-deny'
      ? 'with an explicit deny in a service control policy'
      : why === 'identity-deny'
        ? 'with an explicit deny in an identity-based policy'
        : `because no identity-based policy allows the ${action} action`;
  return `User: ${principal} is not authorized to perform: ${action} on resource: "${resource}" ${reason}`;
}
