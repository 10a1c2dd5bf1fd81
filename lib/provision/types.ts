/**
 * Provisioning as data: the SDK calls a plan holds (service, command name, input), the state a run records
 * in .yo-rc.json so the next run resumes instead of duplicating (typed fields, changed by typed patches), and
 * the Provisioner each provider that creates resources implements. The SDK is imported for its types only:
 * the modules that load it (sdk.ts, the provisioners) are loaded only when a run provisions.
 */
import type { IAMClient } from '@aws-sdk/client-iam';
import type { S3Client } from '@aws-sdk/client-s3';
import type { STSClient } from '@aws-sdk/client-sts';
import type { StorageAnswers, UserError } from '../types.js';
import type { ClientFactory } from './clients.js';
import type { ProbeOptions } from './probe.js';
import type { IAM_COMMANDS, S3_COMMANDS, STS_COMMANDS } from './sdk.js';

export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
}

/** Credentials as the SDK's chain resolved them: a session token means temporary (SSO, an assumed role). */
export interface ResolvedCredentials extends AccessKey {
  sessionToken?: string;
  expiration?: Date;
}

/** The SDK clients a provisioner uses; tests hand in clients pointed at s3rver and mocked where needed. */
export interface AwsClients {
  /** S3 with the operator's credentials, in the bucket's region (or at the S3-compatible endpoint). */
  s3: S3Client;
  iam: IAMClient;
  sts: STSClient;
  /** S3 signed with the app's own key, for the probe. */
  s3WithKey(key: AccessKey): S3Client;
  /** STS signed with the app's own key: GetCallerIdentity answers as soon as the key is valid (AWS only). */
  stsWithKey?(key: AccessKey): STSClient;
}

// ---------------------------------------------------------------------------------------------------------
// SDK calls as data.

/** The command table of sdk.ts as types: each command's input and output. */
type ApiOf<T> = {
  [K in keyof T]: T[K] extends (client: never, input: infer I) => Promise<infer O>
    ? { input: I; output: O }
    : never;
};
type In<A, K extends keyof A> = A[K] extends { input: infer I } ? I : never;
type Out<A, K extends keyof A> = A[K] extends { output: infer O } ? O : never;

/** Each command's input and output, by the name the plan gives it. */
export type S3Api = ApiOf<typeof S3_COMMANDS>;
export type IamApi = ApiOf<typeof IAM_COMMANDS>;
export type StsApi = ApiOf<typeof STS_COMMANDS>;
interface Apis {
  s3: S3Api;
  iam: IamApi;
  sts: StsApi;
}
export type Service = keyof Apis;

/** One SDK call, as the plan shows it and the executor sends it: `new <command>Command(input)`. */
export type SdkCall<S extends Service = Service> = {
  [P in S]: { [K in keyof Apis[P]]: { service: P; command: K; input: In<Apis[P], K> } }[keyof Apis[P]];
}[S];

/** What the SDK answers to a planned call. */
export type OutputOfCall<C extends SdkCall> = C extends { service: infer S extends Service; command: infer K }
  ? K extends keyof Apis[S]
    ? Out<Apis[S], K>
    : never
  : never;

/** A planned call, typed by its command: `call('s3', 'CreateBucket', { Bucket })`. */
export function call<S extends Service, K extends keyof Apis[S]>(
  service: S,
  command: K,
  input: In<Apis[S], K>,
): { service: S; command: K; input: In<Apis[S], K> } {
  return { service, command, input };
}

// ---------------------------------------------------------------------------------------------------------
// State.

/** Who put a bucket setting: this generator ('set'), or it was already as wanted and left alone ('kept'). */
export type SettingOrigin = 'set' | 'kept';

/**
 * The bucket, and per setting what this generator did to it: teardown and later runs change or remove only
 * what these fields say is ours. A bucket recorded before these fields existed has only name/arn/created.
 */
export interface BucketState {
  name: string;
  arn?: string;
  /** CreateBucket made it (false: it existed and was adopted). */
  created: boolean;
  /** Old state: the probe passed once. Read, never written. */
  configured?: boolean;
  /** The probe passed with the app key. */
  verified?: boolean;
  publicAccessBlock?: SettingOrigin;
  ownership?: SettingOrigin;
  /** 'kept': the bucket had default encryption (SSE-KMS stays SSE-KMS). */
  encryption?: SettingOrigin;
  /** Tag keys this generator added (the owner's tags are never listed, never removed). */
  tags?: string[];
  /** 'created': the bucket had no CORS configuration; 'merged': our rule was added to the owner's rules. */
  cors?: 'created' | 'merged';
  /** The ID of our CORS rule (absent in old state: a rule equal to ours, without ID). */
  corsRuleId?: string;
  /** 'created': the bucket had no policy; 'merged': our statements were added to the owner's policy. */
  policy?: 'created' | 'merged';
  /** Sids of the bucket-policy statements this generator wrote. */
  policySids?: string[];
  /**
   * 'created': the bucket had no lifecycle configuration (teardown deletes it); 'merged': our rules were
   * added to the owner's (teardown puts the owner's back).
   */
  lifecycle?: 'created' | 'merged';
  /** The IDs of the lifecycle rules this generator put (the owner's rules are never listed). */
  lifecycleRuleIds?: string[];
}

export interface UserState {
  name: string;
  arn: string;
  /** CreateUser made it (false: adopted with --adopt-user). Old state lacks it: such users were ours. */
  created?: boolean;
  policyName?: string;
}

/** What exists because of this generator, by name and ARN: never a secret. Kept in .yo-rc.json. */
export interface ProvisionedState {
  accountId?: string;
  callerArn?: string;
  region?: string;
  endpoint?: string;
  bucket?: BucketState;
  user?: UserState;
  /** The app's access key, made by this generator. */
  accessKeyId?: string;
  /** The key a rotation replaces, until it is deleted (so a failed rotation leaves no unrecorded key). */
  previousAccessKeyId?: string;
}

/** Fields of T replaced, or removed (null). */
type Patch<T> = { [K in keyof T]?: T[K] | null };

/**
 * What a step changes in the recorded state once it has succeeded, as data the journal applies: top-level
 * fields replaced or removed (`set`, a bucket or user record given whole), fields of the bucket and user
 * records merged in or removed.
 */
export interface StateChange {
  set?: Patch<ProvisionedState>;
  bucket?: Patch<BucketState>;
  user?: Patch<UserState>;
}

// ---------------------------------------------------------------------------------------------------------
// Plans.

export type StepId =
  | 'create-bucket'
  | 'public-access-block'
  | 'ownership'
  | 'encryption'
  | 'cors'
  | 'lifecycle'
  | 'tags'
  | 'bucket-policy'
  | 'create-user'
  | 'user-policy'
  | 'delete-orphan-keys'
  | 'create-access-key'
  | 'verify'
  | 'delete-old-key'
  | 'delete-access-keys'
  | 'delete-user-policy'
  | 'delete-user'
  | 'empty-bucket'
  | 'delete-bucket'
  | 'restore-tags'
  | 'restore-cors'
  | 'restore-lifecycle'
  | 'restore-policy';

/** A step as the plan prints it (and --json shows it). */
export interface PlanStep {
  id: StepId;
  title: string;
  /** Steps that must finish first; the others run concurrently. */
  needs: StepId[];
  /** The SDK calls the step sends, in order, exactly as they are sent. */
  calls: SdkCall[];
  /** Calls a step with its own logic sends only in some cases (said in `note`), exactly as they are sent. */
  maySend?: SdkCall[];
  /** What a step with its own logic sends beyond `calls` (pages, retries): said, since it cannot be listed. */
  note?: string;
}

/**
 * How an exception a call answers is taken, instead of failing the step: 'done' (the call's effect is there
 * already), a UserError to stop with, or a warning and on (recording the step's change or not).
 */
export interface ErrorRule {
  /** Which exceptions: an `instanceof` test of the SDK's class where it has one. */
  when(error: unknown): boolean;
  then: 'done' | UserError | { warn: string; record: boolean };
}

/** What a step with its own logic is given: the one way to send, the run's journal, and the run's reports. */
export interface StepContext {
  clients: AwsClients;
  send<C extends SdkCall>(call: C): Promise<OutputOfCall<C>>;
  /** The state as recorded so far in this run. */
  state(): ProvisionedState;
  /** Stores a new secret at once (the journal writes it where the overlay keeps it). */
  saveSecret(key: AccessKey): void;
  /** The key stored by this run, if one was. */
  savedKey(): AccessKey | undefined;
  warn(message: string): void;
  /** The probe passed after this many seconds (reported, not recorded: it differs every run). */
  verified(seconds: number): void;
}

/**
 * A step the runner executes: the data (`calls`, sent one after another, then `record` applied), or, where
 * a step has real logic (the probe, key creation that stores the secret at once, a race on CreateUser,
 * paging through a bucket's versions), `run`, which sends through the same `send` and returns the change.
 */
export interface Step extends PlanStep {
  record?: StateChange;
  errors?: ErrorRule[];
  run?(ctx: StepContext): Promise<StateChange | undefined>;
}

/** A resource the plan creates or takes over, for the summary. */
export interface PlannedResource {
  kind: 'bucket' | 'iam-user' | 'access-key';
  /** Unset for an access key: its id is known once it is made. */
  name?: string;
  outcome: 'created' | 'adopted';
  /** Why it counts as adopted (shown in the summary). */
  note?: string;
}

export interface ProvisionPlan {
  provider: string;
  /** The plan's heading, naming the account or endpoint. */
  title: string;
  /** Facts found by read-only calls before planning (account, whether the bucket/user exist). */
  facts: string[];
  steps: Step[];
  /** Documents applied, in full (user policy, bucket policy, CORS). */
  documents: Record<string, unknown>;
  /** The state before the first step, with what discovery settled folded in. */
  state: ProvisionedState;
  resources: PlannedResource[];
  /** A key known at plan time that the overlay stores once the plan is applied (--use-operator-key). */
  appKey?: AccessKey;
  /** The clients every step sends through. */
  clients: AwsClients;
}

/** The plan as printed and as --json shows it: data only. */
export interface PlanData {
  provider: string;
  steps: PlanStep[];
  facts: string[];
  documents: Record<string, unknown>;
}

export function planData(plan: ProvisionPlan): PlanData {
  return {
    provider: plan.provider,
    steps: plan.steps.map(({ id, title, needs, calls, maySend, note }) => ({
      id,
      title,
      needs,
      calls,
      ...(maySend ? { maySend } : {}),
      ...(note ? { note } : {}),
    })),
    facts: plan.facts,
    documents: plan.documents,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Provisioners.

export interface ProvisionFlags {
  profile?: string;
  rotateKey: boolean;
  /** --adopt-user: an IAM user not tagged as this project's may be given the policy and a key. */
  adoptUser: boolean;
  /** --use-operator-key: on an S3-compatible service, the provisioning credentials become the app key. */
  useOperatorKey: boolean;
  deleteBucket: boolean;
  /** --delete-objects: empty the bucket before deleting it (never Yeoman's --force). */
  deleteObjects: boolean;
}

/** What a provisioner is asked to do, and with what. */
export interface ProvisionRequest {
  answers: StorageAnswers;
  /** The project's Python package: IAM users are tagged with it. */
  pkg: string;
  /** What .yo-rc.json records for this provider. */
  state: ProvisionedState;
  flags: ProvisionFlags;
  /** The app key given as options or ARCHES_STORAGE_* variables. */
  givenKey?: AccessKey;
  /** The app key already stored (settings_local.py block or the secrets file). */
  storedKey?: AccessKey;
  probe?: ProbeOptions;
  factory: ClientFactory;
  warn(message: string): void;
}

/**
 * A provider that creates resources: discover with read-only calls, then plan (a pure function of the
 * request and what was found); the same for teardown. Applying is the runner's (lib/provision/runner.ts).
 */
export interface Provisioner<Found = unknown, Gone = unknown> {
  discover(request: ProvisionRequest): Promise<Found>;
  plan(request: ProvisionRequest, found: Found): ProvisionPlan;
  discoverTeardown(request: ProvisionRequest): Promise<Gone>;
  planTeardown(request: ProvisionRequest, found: Gone): ProvisionPlan;
}

// ---------------------------------------------------------------------------------------------------------
// Summaries.

/** What a finished (or failed) run reports. */
export interface ProvisionSummary {
  ok: boolean;
  provider: string;
  accountId?: string;
  created: string[];
  adopted: string[];
  deleted: string[];
  /** Where the new secret went, if one was made. */
  secretDestination?: string;
  accessKeyId?: string;
  verifiedAfterSeconds?: number;
  failedStep?: StepId;
  error?: string;
  wallSeconds: number;
}
