/**
 * @module util/member-of
 * Type guards for closed lists of string literals (`[...] as const`): `includes` on such a list
 * neither accepts an arbitrary string nor narrows, so each list would otherwise hand-write the same
 * guard with a cast.
 */

/**
 * A type guard for "is one of `list`".
 * @example
 * const SCHEMES = ['liu', 'fdhope'] as const;
 * const isScheme = memberOf(SCHEMES); // (v: unknown) => v is 'liu' | 'fdhope'
 */
export function memberOf<T extends string>(list: readonly T[]): (v: unknown) => v is T {
  const members: ReadonlySet<unknown> = new Set(list);
  return (v: unknown): v is T => members.has(v);
}
