/**
 * The journal: the one writer of what provisioning leaves on disk. The resource state goes to .yo-rc.json
 * (`resources.<provider>`, atomically, other keys and namespaces kept) after every step that changes it, so
 * a failure halfway leaves a state the next run completes; the app's new secret goes where the overlay keeps
 * it the moment it exists (.gitignore first, so it is never in a file git would commit). Everything else
 * reads the state; the generator's final .yo-rc.json write copies `resources` from disk (recordedResources).
 */
import path from 'node:path';
import { readOurs, writeFileAtomic, writeYoRc } from '../safefs.js';
import type { FileChange } from '../types.js';
import type { AccessKey, BucketState, ProvisionedState, StateChange, UserState } from './types.js';

const STATE_KEYS: ReadonlyArray<keyof ProvisionedState> = [
  'accountId',
  'callerArn',
  'region',
  'endpoint',
  'bucket',
  'user',
  'accessKeyId',
  'previousAccessKeyId',
];
const BUCKET_KEYS: ReadonlyArray<keyof BucketState> = [
  'name',
  'arn',
  'created',
  'configured',
  'publicAccessBlock',
  'ownership',
  'encryption',
  'tags',
  'cors',
  'corsRuleId',
  'policy',
  'policySids',
  'lifecycle',
  'lifecycleRuleIds',
  'verified',
];
const USER_KEYS: ReadonlyArray<keyof UserState> = ['name', 'arn', 'created', 'policyName'];

/** The fields of `value` in `keys` order, unset (undefined or null) ones left out. */
function ordered<T extends object>(value: T, keys: ReadonlyArray<keyof T>): T {
  const out: Partial<T> = {};
  for (const k of keys) if (value[k] !== undefined && value[k] !== null) out[k] = value[k];
  return out as T;
}

/**
 * The state in one key order, whatever order concurrent steps finished in, so that the same end state writes
 * the same .yo-rc.json; unset fields are left out.
 */
export function orderedState(state: ProvisionedState): ProvisionedState {
  return ordered(
    {
      ...state,
      bucket: state.bucket && ordered(state.bucket, BUCKET_KEYS),
      user: state.user && ordered(state.user, USER_KEYS),
    },
    STATE_KEYS,
  );
}

/** `record` with `patch` merged in: a null field is removed. */
function merged<T extends object>(record: T, patch: { [K in keyof T]?: T[K] | null }): T {
  const out = { ...record };
  for (const k of Object.keys(patch) as Array<keyof T>) {
    const v = patch[k];
    if (v === null) delete out[k];
    else if (v !== undefined) out[k] = structuredClone(v);
  }
  return out;
}

/** The state after a step's change. A change to a record that does not exist is a bug in the plan. */
export function applyChange(state: ProvisionedState, change: StateChange): ProvisionedState {
  let next = change.set ? merged(state, change.set) : { ...state };
  if (change.bucket) {
    if (!next.bucket) throw new Error('a step changes the bucket record before the bucket is recorded');
    next = { ...next, bucket: merged(next.bucket, change.bucket) };
  }
  if (change.user) {
    if (!next.user) throw new Error('a step changes the user record before the user is recorded');
    next = { ...next, user: merged(next.user, change.user) };
  }
  return orderedState(next);
}

/** The resource state of every provider as it is on disk: what the generator's .yo-rc.json write keeps. */
export function recordedResources(root: string): Partial<Record<string, ProvisionedState>> {
  return { ...(readOurs(root).resources as Partial<Record<string, ProvisionedState>> | undefined) };
}

export interface JournalOptions {
  root: string;
  provider: string;
  /** The state the run starts from (the plan's). */
  state: ProvisionedState;
  /** The overlay's changes once the app has this key: the files that hold it, and the .gitignore rule. */
  secretChanges(key: AccessKey): readonly FileChange[];
  /** settings_local.py, relative to the root: rewritten too when the key moves to a secrets file. */
  settingsLocal: string;
}

export class Journal {
  #state: ProvisionedState;
  #key: AccessKey | undefined;

  constructor(private readonly options: JournalOptions) {
    this.#state = orderedState(structuredClone(options.state));
  }

  /** The state as recorded so far. */
  get state(): ProvisionedState {
    return structuredClone(this.#state);
  }

  /** The key this run stored, if it stored one. */
  get savedKey(): AccessKey | undefined {
    return this.#key;
  }

  /** Applies a step's change and writes the state at once. */
  record(change: StateChange): void {
    this.#state = applyChange(this.#state, change);
    this.#write(this.#state);
  }

  /** Replaces the record whole (teardown's end: what is left), or removes it. */
  settle(state: ProvisionedState | undefined): void {
    this.#state = state ? orderedState(state) : {};
    this.#write(state && this.#state);
  }

  /**
   * Stores a new secret at once where the overlay keeps it: .gitignore first (the key is never on disk in a
   * file git would commit), then every file that holds it (0600 from the first byte), and settings_local.py
   * when the key moves to the secrets file.
   */
  secret(key: AccessKey): void {
    const changes = this.options.secretChanges(key);
    const gitignore = changes.filter((c) => c.path === '.gitignore');
    const holders = changes.filter((c) => c.secret === true || c.path === this.options.settingsLocal);
    for (const c of [...gitignore, ...holders]) {
      if (c.after !== null)
        writeFileAtomic(path.resolve(this.options.root, c.path), c.after, { secret: c.secret === true });
    }
    this.#key = key;
  }

  #write(state: ProvisionedState | undefined): void {
    const ours = readOurs(this.options.root);
    const resources = recordedResources(this.options.root);
    if (state) resources[this.options.provider] = state;
    else delete resources[this.options.provider];
    writeYoRc(this.options.root, { ...ours, resources });
  }
}
