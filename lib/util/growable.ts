/**
 * @module util/growable
 * An append buffer over a typed array whose capacity doubles when it runs out (amortised O(1) per
 * element): the CSV parsers' value, label and column buffers (lib/data) and the pickle writer's
 * byte sink (lib/storage). Pure: no DOM or Node APIs.
 *
 * Hot loops may write `data` directly: `reserve(n)`, then fill `data[length … length + n)` and
 * advance `length`. Growing replaces `data`, so read it again after every `reserve`.
 */

/** The element arrays a `Growable` is used with. */
export type GrowableArray = Float64Array | Int32Array | Uint8Array;

export class Growable<T extends GrowableArray> {
  /** The backing array: `data[0, length)` are the elements; the rest is spare capacity. */
  data: T;
  /** How many elements have been written. */
  length = 0;

  /**
   * @param kind the typed-array constructor, e.g. `Float64Array`
   * @param capacity the initial capacity, in elements
   * @example const values = new Growable(Float64Array, 1024);
   */
  constructor(
    private readonly kind: new (length: number) => T,
    capacity: number,
  ) {
    this.data = new kind(capacity);
  }

  /** Makes room for `extra` more elements: the capacity doubles (to at least 16) until they fit. */
  reserve(extra: number): void {
    const need = this.length + extra;
    if (need <= this.data.length) return;
    let cap = Math.max(16, this.data.length * 2);
    while (cap < need) cap *= 2;
    const next = new this.kind(cap);
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }

  push(v: number): void {
    if (this.length === this.data.length) this.reserve(1);
    this.data[this.length++] = v;
  }

  /** The elements in an exact-size array: `data` itself when full, otherwise a copy (never a view of the larger buffer: it may be transferred). */
  finish(): T {
    return this.length === this.data.length ? this.data : (this.data.slice(0, this.length) as T);
  }
}
