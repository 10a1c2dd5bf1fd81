/**
 * Inputs the AWS SDK's types leave out, for tests of the fakes. A field typed by an SDK enum (a union of the
 * strings AWS documents, e.g. LocationConstraint or ObjectOwnership) goes on the wire as the string it holds:
 * AWS refuses a value outside the enum with its own error, and the fakes must too. The SDK validates nothing
 * on the way, so such a request is one that a client on other SDK data (or none) can send.
 */

/**
 * `input` with `field` set to `value`, which may be outside the field's enum. The input's type stays the SDK's
 * (so the command takes it); only `field` is knowingly off it, and nothing else is changed.
 */
export function withUnlistedValue<T extends object>(input: T, field: keyof T & string, value: string): T {
  return { ...input, [field]: value };
}
