/**
 * @module storage/pickle
 * The pickle subset behind the CKKS containers E3 (`list[bytes]`) and E4 (`list[list[bytes]]`),
 * spec/protocol.md §7.3; vectors in `shared/vectors/encodings.json` (E3, E4) and
 * `shared/vectors/ckks-pyfhel/*.pkl`.
 *
 * Writer: produces exactly what CPython's `pickle.dumps` (the C pickler) writes for nested lists of
 * bytes at protocol 3, 4 (the default; what MictlanX `Chunk.from_list` stores) or 5:
 * - protocol ≥ 4 frames: a frame is committed at the start of saving an object once it holds
 *   ≥ 64 KiB; frames shorter than 4 bytes are written without a FRAME header; a bytes object of
 *   ≥ 64 KiB is written outside any frame;
 * - memo: every list and bytes object is memoized (MEMOIZE, or BINPUT/LONG_BINPUT at protocol 3);
 *   the same object seen again (JS identity, like Python's `id`) is written as BINGET/LONG_BINGET;
 * - lists: EMPTY_LIST, then a single item + APPEND, or batches of 1000 items in MARK … APPENDS.
 * `{ minimal: true }` writes the spec's no-frame, no-memo form `80 04 5d 28 … 65 2e`.
 *
 * Reader: a data-only interpreter for these opcodes (protocols 2–5): PROTO, FRAME, EMPTY_LIST,
 * MARK, APPEND(S), SHORT_BINBYTES, BINBYTES, BINBYTES8, MEMOIZE, BINPUT, LONG_BINPUT, BINGET,
 * LONG_BINGET, STOP; and, for protocol 2 (which has no bytes opcode), exactly the two forms Python
 * uses for bytes: `_codecs.encode(<latin-1 str>, 'latin1')` (GLOBAL, BINUNICODE, TUPLE2, REDUCE)
 * and `bytes()` for b'' (GLOBAL `__builtin__ bytes`, EMPTY_TUPLE, REDUCE). No other global can be
 * named and nothing is ever called: any other opcode is rejected, so a hostile chunk cannot
 * execute code (unlike Python's `pickle.loads`, spec §12).
 *
 * Budgets (issue #12 finding 3, the "pickle bomb"): a memo reference (BINGET / LONG_BINGET) to a
 * list is refused, so the result is always a tree no larger than its input (shared lists let a
 * few hundred bytes describe an exponentially large value). References to bytes stay allowed —
 * CPython writes them for its shared `b''` and for a bytes object repeated in a list — but every
 * reference counts in full against `maxOutputBytes`, and every list or bytes value against
 * `maxNodes`. Both are checked before anything is allocated; callers that know the expected shape
 * pass tighter budgets (lib/storage/e3e4.ts).
 */
import { AppError } from '../errors';
import { Growable } from '../util/growable';

/** A value this codec can write and read: bytes or (nested) lists of them. */
export type PickleValue = Uint8Array | readonly PickleValue[];
/** What `unpickle` returns (fresh, mutable arrays). */
export type UnpickledValue = Uint8Array | UnpickledValue[];

export type PickleProtocol = 3 | 4 | 5;

export interface PickleOptions {
  /** Default 4 (Python 3.8–3.13's default, what Rory's Python services write). */
  readonly protocol?: PickleProtocol;
  /** The spec's minimal encoding (protocol 4, no FRAME, no memo). Default false. */
  readonly minimal?: boolean;
}

export interface UnpickleOptions {
  /** Copy each bytes item out of the input (default true). With false, items are views into it. */
  readonly copy?: boolean;
  /** Most lists + bytes values (references included) the result may hold (default PICKLE_MAX_NODES). */
  readonly maxNodes?: number;
  /**
   * Most bytes the result may hold, each reference to a bytes value counted again (default
   * `PICKLE_OUTPUT_EXPANSION × input length + 64 KiB`).
   */
  readonly maxOutputBytes?: number;
}

/** Deepest list nesting accepted by the writer and the reader. */
export const PICKLE_MAX_DEPTH = 64;
/** Default cap on the lists and bytes values of one unpickled result. */
export const PICKLE_MAX_NODES = 1_000_000;
/**
 * Default cap on the output of one unpickle, as a multiple of its input length. Without list
 * references the output can exceed the input only through repeated bytes references; 64× covers
 * CPython's shared small bytes and lists repeating one object, and still bounds downstream work.
 */
export const PICKLE_OUTPUT_EXPANSION = 64;
const PICKLE_OUTPUT_SLACK = 64 * 1024;

const OP = {
  MARK: 0x28,
  STOP: 0x2e,
  EMPTY_TUPLE: 0x29,
  BINBYTES: 0x42,
  SHORT_BINBYTES: 0x43,
  REDUCE: 0x52,
  BINUNICODE: 0x58,
  EMPTY_LIST: 0x5d,
  APPEND: 0x61,
  GLOBAL: 0x63,
  APPENDS: 0x65,
  BINGET: 0x68,
  LONG_BINGET: 0x6a,
  BINPUT: 0x71,
  LONG_BINPUT: 0x72,
  PROTO: 0x80,
  TUPLE2: 0x86,
  BINBYTES8: 0x8e,
  MEMOIZE: 0x94,
  FRAME: 0x95,
} as const;

const FRAME_SIZE_TARGET = 64 * 1024;
const FRAME_SIZE_MIN = 4;
const FRAME_HEADER = 9;
const BATCH_SIZE = 1000;

// ---- writer -----------------------------------------------------------------------------------

/** The written bytes: a view when the unused tail is small (avoids copying large payloads). */
function written(out: Growable<Uint8Array>): Uint8Array {
  const slack = out.data.length - out.length;
  return slack <= 4096 + (out.length >>> 6) ? out.data.subarray(0, out.length) : out.data.slice(0, out.length);
}

/** Mirrors CPython's `_pickle.c` Pickler for lists and bytes. */
class Pickler {
  readonly #out: Growable<Uint8Array>;
  readonly #protocol: PickleProtocol;
  readonly #minimal: boolean;
  readonly #memo = new Map<object, number>();
  readonly #open = new Set<object>();
  #framing = false;
  #frameStart = -1;

  constructor(protocol: PickleProtocol, minimal: boolean, capacity: number) {
    this.#out = new Growable(Uint8Array, Math.max(64, capacity));
    this.#protocol = protocol;
    this.#minimal = minimal;
  }

  dump(value: PickleValue): Uint8Array {
    this.#write([OP.PROTO, this.#protocol]);
    this.#framing = this.#protocol >= 4 && !this.#minimal;
    this.#save(value, 0);
    this.#write([OP.STOP]);
    this.#commitFrame();
    return written(this.#out);
  }

  #write(bytes: ArrayLike<number>): void {
    const out = this.#out;
    if (this.#framing && this.#frameStart < 0) {
      out.reserve(FRAME_HEADER);
      this.#frameStart = out.length;
      out.length += FRAME_HEADER;
    }
    out.reserve(bytes.length);
    out.data.set(bytes, out.length);
    out.length += bytes.length;
  }

  #commitFrame(): void {
    if (!this.#framing || this.#frameStart < 0) return;
    const out = this.#out;
    const start = this.#frameStart;
    const frameLen = out.length - start - FRAME_HEADER;
    if (frameLen >= FRAME_SIZE_MIN) {
      out.data[start] = OP.FRAME;
      new DataView(out.data.buffer, out.data.byteOffset + start + 1, 8).setBigUint64(0, BigInt(frameLen), true);
    } else {
      out.data.copyWithin(start, start + FRAME_HEADER, out.length);
      out.length -= FRAME_HEADER;
    }
    this.#frameStart = -1;
  }

  /** CPython calls this before saving each object. */
  #opcodeBoundary(): void {
    if (this.#framing && this.#frameStart >= 0 && this.#out.length - this.#frameStart - FRAME_HEADER >= FRAME_SIZE_TARGET) {
      this.#commitFrame();
    }
  }

  #save(v: PickleValue, depth: number): void {
    this.#opcodeBoundary();
    if (!this.#minimal) {
      const idx = this.#memo.get(v);
      if (idx !== undefined) {
        this.#write(idx < 256 ? [OP.BINGET, idx] : [OP.LONG_BINGET, ...u32(idx)]);
        return;
      }
    }
    if (v instanceof Uint8Array) this.#saveBytes(v);
    else if (Array.isArray(v)) this.#saveList(v, depth);
    else throw new AppError('INVALID_ARGUMENT', 'pickle: only Uint8Array and (nested) arrays of them can be written', { userMessage: 'Internal error: only ciphertext bytes can be stored in a CKKS container.' });
  }

  #saveBytes(b: Uint8Array): void {
    const n = b.length;
    let header: number[];
    if (n <= 0xff) header = [OP.SHORT_BINBYTES, n];
    else if (n <= 0xffffffff) header = [OP.BINBYTES, ...u32(n)];
    else if (this.#protocol >= 4) header = [OP.BINBYTES8, ...u64(n)];
    else throw new AppError('INVALID_ARGUMENT', 'pickle: bytes longer than 4 GiB need protocol 4', { userMessage: 'A ciphertext is too large to store in this container format.' });
    if (n >= FRAME_SIZE_TARGET && this.#framing) {
      // Large payloads bypass the frame: commit the current one, write unframed.
      this.#commitFrame();
      this.#framing = false;
      this.#write(header);
      this.#write(b);
      this.#framing = true;
    } else {
      this.#write(header);
      this.#write(b);
    }
    this.#memoPut(b);
  }

  #saveList(list: readonly PickleValue[], depth: number): void {
    if (depth >= PICKLE_MAX_DEPTH) throw new AppError('INVALID_ARGUMENT', `pickle: lists nested deeper than ${PICKLE_MAX_DEPTH}`, { userMessage: 'Internal error: a CKKS container is nested too deeply.' });
    if (this.#open.has(list)) {
      // Python resolves self-references through the memo; the minimal form has none.
      throw new AppError('INVALID_ARGUMENT', 'pickle: a list that contains itself needs the memo (not minimal)', { userMessage: 'Internal error: a CKKS container contains itself.' });
    }
    this.#write([OP.EMPTY_LIST]);
    this.#memoPut(list);
    const n = list.length;
    if (n === 0) return;
    this.#open.add(list);
    if (this.#minimal) {
      this.#write([OP.MARK]);
      for (const item of list) this.#save(item, depth + 1);
      this.#write([OP.APPENDS]);
    } else if (n === 1) {
      this.#save(list[0], depth + 1);
      this.#write([OP.APPEND]);
    } else {
      let i = 0;
      do {
        this.#write([OP.MARK]);
        const end = Math.min(n, i + BATCH_SIZE);
        for (; i < end; i++) this.#save(list[i], depth + 1);
        this.#write([OP.APPENDS]);
      } while (i < n);
    }
    this.#open.delete(list);
  }

  #memoPut(obj: object): void {
    if (this.#minimal) return;
    const idx = this.#memo.size;
    this.#memo.set(obj, idx);
    if (this.#protocol >= 4) this.#write([OP.MEMOIZE]);
    else this.#write(idx < 256 ? [OP.BINPUT, idx] : [OP.LONG_BINPUT, ...u32(idx)]);
  }
}

function u32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

function u64(n: number): number[] {
  const lo = n % 2 ** 32;
  const hi = Math.floor(n / 2 ** 32);
  return [...u32(lo), ...u32(hi)];
}

/** Payload bytes + a generous per-object overhead, so the output buffer rarely grows. */
function estimateSize(v: PickleValue, seen = new Set<object>()): number {
  if (seen.has(v)) return 5;
  seen.add(v);
  if (v instanceof Uint8Array) return v.length + 14 + FRAME_HEADER;
  if (Array.isArray(v)) return v.reduce((n: number, x: PickleValue) => n + estimateSize(x, seen), 16);
  return 0;
}

/**
 * Pickles bytes or nested lists of bytes, byte-for-byte as CPython's `pickle.dumps(value, protocol)`
 * (the C pickler) writes them.
 * @throws AppError('INVALID_ARGUMENT') for other value types, bad options, or nesting deeper than 64.
 */
export function pickle(value: PickleValue, options: PickleOptions = {}): Uint8Array {
  const minimal = options.minimal ?? false;
  const protocol = options.protocol ?? 4;
  if (protocol !== 3 && protocol !== 4 && protocol !== 5) throw new AppError('INVALID_ARGUMENT', 'pickle protocol must be 3, 4 or 5', { userMessage: 'Internal error: unsupported pickle protocol.' });
  if (minimal && protocol !== 4) throw new AppError('INVALID_ARGUMENT', 'the minimal encoding is protocol 4', { userMessage: 'Internal error: unsupported pickle options.' });
  return new Pickler(protocol, minimal, estimateSize(value) + 16).dump(value);
}

/** E3: `pickle.dumps(list_of_bytes)` (protocol 4 unless told otherwise). */
export function pickleBytesList(items: readonly Uint8Array[], options: PickleOptions = {}): Uint8Array {
  if (!Array.isArray(items) || !items.every((x) => x instanceof Uint8Array)) {
    throw new AppError('INVALID_ARGUMENT', 'pickleBytesList needs an array of Uint8Array', { userMessage: 'Internal error: only ciphertext bytes can be stored in a CKKS container.' });
  }
  return pickle(items, options);
}

/** E4: `pickle.dumps(list_of_lists_of_bytes)` (protocol 4 unless told otherwise). */
export function pickleBytesMatrix(rows: readonly (readonly Uint8Array[])[], options: PickleOptions = {}): Uint8Array {
  if (!Array.isArray(rows) || !rows.every((r) => Array.isArray(r) && r.every((x) => x instanceof Uint8Array))) {
    throw new AppError('INVALID_ARGUMENT', 'pickleBytesMatrix needs an array of arrays of Uint8Array', { userMessage: 'Internal error: only rows of ciphertext bytes can be stored in a CKKS container.' });
  }
  return pickle(rows, options);
}

// ---- reader -----------------------------------------------------------------------------------

/** Protocol-2 helpers that may appear on the stack but never in a result. */
class PyTuple {
  constructor(readonly items: readonly StackValue[]) {}
}
class PyGlobal {
  constructor(readonly name: 'codecs.encode' | 'bytes') {}
}
type StackValue = Uint8Array | StackValue[] | PyTuple | PyGlobal | string;

const ALLOWED_GLOBALS: ReadonlyMap<string, PyGlobal['name']> = new Map([
  ['_codecs\nencode', 'codecs.encode'],
  ['__builtin__\nbytes', 'bytes'],
  ['builtins\nbytes', 'bytes'],
]);

const OPCODE_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(OP).map(([k, v]) => [v, k]));

class Unpickler {
  readonly #data: Uint8Array;
  readonly #view: DataView;
  readonly #copy: boolean;
  #pos = 0;
  /** End of the current frame, or -1 outside frames. */
  #frameEnd = -1;
  readonly #stack: StackValue[] = [];
  readonly #marks: number[] = [];
  readonly #memo = new Map<number, StackValue>();
  #opStart = 0;
  #opcode = -1;
  readonly #maxNodes: number;
  readonly #maxOutputBytes: number;
  #nodes = 0;
  #outputBytes = 0;

  constructor(data: Uint8Array, copy: boolean, maxNodes: number, maxOutputBytes: number) {
    this.#data = data;
    this.#view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.#copy = copy;
    this.#maxNodes = maxNodes;
    this.#maxOutputBytes = maxOutputBytes;
  }

  /** Counts one list or bytes value of `bytes` bytes against the budgets, before it is made. */
  #spend(bytes: number): void {
    if (++this.#nodes > this.#maxNodes) throw this.#error(`more than ${this.#maxNodes} values (budget exceeded)`);
    this.#outputBytes += bytes;
    if (this.#outputBytes > this.#maxOutputBytes) throw this.#error(`the result would exceed ${this.#maxOutputBytes} bytes (budget exceeded)`);
  }

  load(): StackValue {
    for (;;) {
      this.#opStart = this.#pos;
      if (this.#frameEnd >= 0 && this.#pos === this.#frameEnd) this.#frameEnd = -1;
      this.#opcode = -1;
      if (this.#pos >= this.#data.length) throw this.#error('truncated: no STOP opcode');
      this.#opcode = this.#take(1)[0];
      switch (this.#opcode) {
        case OP.PROTO: {
          const p = this.#take(1)[0];
          if (p < 2 || p > 5) throw this.#error(`unsupported pickle protocol ${p}`);
          break;
        }
        case OP.FRAME: {
          const len = this.#u64();
          if (this.#frameEnd >= 0) throw this.#error('FRAME inside an unfinished frame');
          if (len > this.#data.length - this.#pos) throw this.#error('frame longer than the data');
          this.#frameEnd = this.#pos + len;
          break;
        }
        case OP.EMPTY_LIST:
          this.#spend(0);
          this.#stack.push([]);
          break;
        case OP.MARK:
          this.#marks.push(this.#stack.length);
          break;
        case OP.APPEND: {
          const item = this.#pop();
          this.#topList().push(item);
          break;
        }
        case OP.APPENDS: {
          const start = this.#marks.pop();
          if (start === undefined) throw this.#error('APPENDS without MARK');
          const items = this.#stack.splice(start);
          const list = this.#topList();
          // A loop, not push(...items): a hostile batch can be longer than the engine's argument limit.
          for (const item of items) list.push(item);
          break;
        }
        case OP.SHORT_BINBYTES: {
          const n = this.#take(1)[0];
          this.#stack.push(this.#bytes(n));
          break;
        }
        case OP.BINBYTES:
          this.#stack.push(this.#bytes(this.#u32()));
          break;
        case OP.BINBYTES8:
          this.#stack.push(this.#bytes(this.#u64()));
          break;
        case OP.MEMOIZE:
          this.#memo.set(this.#memo.size, this.#top());
          break;
        case OP.BINPUT:
          this.#memo.set(this.#take(1)[0], this.#top());
          break;
        case OP.LONG_BINPUT:
          this.#memo.set(this.#u32(), this.#top());
          break;
        case OP.BINGET:
          this.#stack.push(this.#memoGet(this.#take(1)[0]));
          break;
        case OP.LONG_BINGET:
          this.#stack.push(this.#memoGet(this.#u32()));
          break;
        case OP.GLOBAL: {
          const name = `${this.#line()}\n${this.#line()}`;
          const allowed = ALLOWED_GLOBALS.get(name);
          if (allowed === undefined) throw this.#error('GLOBAL other than _codecs.encode / bytes is not allowed');
          this.#stack.push(new PyGlobal(allowed));
          break;
        }
        case OP.BINUNICODE:
          this.#stack.push(this.#utf8(this.#u32()));
          break;
        case OP.EMPTY_TUPLE:
          this.#stack.push(new PyTuple([]));
          break;
        case OP.TUPLE2: {
          const b = this.#pop();
          const a = this.#pop();
          this.#stack.push(new PyTuple([a, b]));
          break;
        }
        case OP.REDUCE: {
          const args = this.#pop();
          const fn = this.#pop();
          this.#stack.push(this.#reduce(fn, args));
          break;
        }
        case OP.STOP: {
          if (this.#marks.length > 0 || this.#stack.length !== 1) throw this.#error('STOP with an unbalanced stack');
          if (this.#pos !== this.#data.length) throw this.#error('data after STOP');
          return this.#stack[0];
        }
        default:
          throw this.#error(`opcode 0x${this.#opcode.toString(16).padStart(2, '0')} is not supported`);
      }
    }
  }

  #error(reason: string): AppError {
    const name = OPCODE_NAMES[this.#opcode];
    return new AppError('PROTOCOL_VIOLATION', `unpickle: ${reason} (at byte ${this.#opStart}${name === undefined ? '' : `, ${name}`})`, {
      userMessage: 'A stored CKKS container is not a valid pickled list of ciphertexts.',
      details: { offset: this.#opStart },
    });
  }

  /** Reads `n` bytes; inside a frame the read must not cross its end. */
  #take(n: number): Uint8Array {
    const limit = this.#frameEnd >= 0 ? this.#frameEnd : this.#data.length;
    if (n > limit - this.#pos) {
      throw this.#error(this.#frameEnd >= 0 && this.#frameEnd < this.#data.length ? 'opcode crosses the end of its frame' : 'truncated');
    }
    const out = this.#data.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  #u32(): number {
    const at = this.#pos;
    this.#take(4);
    return this.#view.getUint32(at, true);
  }

  #u64(): number {
    const at = this.#pos;
    this.#take(8);
    const v = this.#view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw this.#error('length too large');
    return Number(v);
  }

  #bytes(n: number): Uint8Array {
    const b = this.#take(n);
    this.#spend(n);
    return this.#copy ? b.slice() : b;
  }

  #line(): string {
    const limit = this.#frameEnd >= 0 ? this.#frameEnd : this.#data.length;
    const nl = this.#data.subarray(this.#pos, Math.min(limit, this.#pos + 256)).indexOf(0x0a);
    if (nl < 0) throw this.#error('GLOBAL name not terminated');
    const raw = this.#take(nl + 1).subarray(0, nl);
    let s = '';
    for (const c of raw) {
      if (c < 0x20 || c > 0x7e) throw this.#error('GLOBAL name is not printable ASCII');
      s += String.fromCharCode(c);
    }
    return s;
  }

  #utf8(n: number): string {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(this.#take(n));
    } catch (e) {
      if (e instanceof AppError) throw e;
      throw this.#error('BINUNICODE is not valid UTF-8');
    }
  }

  #reduce(fn: StackValue, args: StackValue): Uint8Array {
    if (!(fn instanceof PyGlobal) || !(args instanceof PyTuple)) throw this.#error('REDUCE is only allowed on _codecs.encode / bytes');
    if (fn.name === 'bytes') {
      if (args.items.length !== 0) throw this.#error('bytes() with arguments is not allowed');
      this.#spend(0);
      return new Uint8Array(0);
    }
    const [text, encoding] = args.items;
    if (args.items.length !== 2 || typeof text !== 'string' || encoding !== 'latin1') {
      throw this.#error("_codecs.encode is only allowed as encode(str, 'latin1')");
    }
    // A memoized str can be encoded many times: each result is a fresh copy, so count it first.
    this.#spend(text.length);
    const out = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c > 0xff) throw this.#error('latin-1 text has a code point above 255');
      out[i] = c;
    }
    return out;
  }

  #top(): StackValue {
    const base = this.#marks.length > 0 ? this.#marks[this.#marks.length - 1] : 0;
    if (this.#stack.length <= base) throw this.#error('stack underflow');
    return this.#stack[this.#stack.length - 1];
  }

  #pop(): StackValue {
    const v = this.#top();
    this.#stack.pop();
    return v;
  }

  #topList(): StackValue[] {
    const t = this.#top();
    if (!Array.isArray(t)) throw this.#error('APPEND target is not a list');
    return t;
  }

  #memoGet(idx: number): StackValue {
    const v = this.#memo.get(idx);
    if (v === undefined) throw this.#error(`memo entry ${idx} is not defined`);
    if (Array.isArray(v)) {
      // The pickle bomb: [L, L] with L = [M, M] … doubles per level. Python never shares a list
      // in E3/E4 data; a list that contains itself is the other way to reach one.
      throw this.#error('a memo reference to a list is not allowed (a shared list, or a list that contains itself)');
    }
    if (v instanceof Uint8Array) this.#spend(v.byteLength);
    return v;
  }

  /**
   * Checks that `v` holds only bytes and lists, nested at most PICKLE_MAX_DEPTH deep. Lists are
   * never shared (memo references to lists are refused), so this walks a tree no larger than the
   * node budget.
   */
  result(v: StackValue, depth = 0): UnpickledValue {
    if (v instanceof Uint8Array) return v;
    if (Array.isArray(v)) {
      if (depth >= PICKLE_MAX_DEPTH) throw this.#error(`lists nested deeper than ${PICKLE_MAX_DEPTH}`);
      for (const x of v) this.result(x, depth + 1);
      return v as UnpickledValue[];
    }
    throw this.#error('the result contains something other than bytes and lists');
  }
}

/**
 * Reads a pickle made of bytes and (nested) lists of bytes, protocols 2–5 (see the module doc).
 * @throws AppError('PROTOCOL_VIOLATION') on any other opcode, malformed or truncated data, data
 *         after STOP, a memo reference to a list, a budget exceeded, or a result holding anything
 *         but bytes and lists.
 */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions = {}): UnpickledValue {
  if (!(bytes instanceof Uint8Array)) throw new AppError('INVALID_ARGUMENT', 'unpickle needs a Uint8Array', { userMessage: 'A stored CKKS container could not be read (wrong input type).' });
  const maxNodes = budget(options.maxNodes, PICKLE_MAX_NODES, 'maxNodes');
  const maxOutputBytes = budget(options.maxOutputBytes, bytes.length * PICKLE_OUTPUT_EXPANSION + PICKLE_OUTPUT_SLACK, 'maxOutputBytes');
  const u = new Unpickler(bytes, options.copy ?? true, maxNodes, maxOutputBytes);
  return u.result(u.load());
}

function budget(v: number | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || v < 0) throw new AppError('INVALID_ARGUMENT', `unpickle: ${name} must be a non-negative integer`, { userMessage: 'A stored CKKS container could not be read (invalid limit).' });
  return v;
}

/** E3: unpickles a `list[bytes]`. */
export function unpickleBytesList(bytes: Uint8Array, options: UnpickleOptions = {}): Uint8Array[] {
  const v = unpickle(bytes, options);
  if (!Array.isArray(v) || !v.every((x) => x instanceof Uint8Array)) {
    throw new AppError('PROTOCOL_VIOLATION', 'unpickle: expected a list of bytes', {
      userMessage: 'A stored CKKS container is not a pickled list of ciphertexts.',
    });
  }
  return v as Uint8Array[];
}

/** E4: unpickles a `list[list[bytes]]`. */
export function unpickleBytesMatrix(bytes: Uint8Array, options: UnpickleOptions = {}): Uint8Array[][] {
  const v = unpickle(bytes, options);
  if (!Array.isArray(v) || !v.every((r) => Array.isArray(r) && r.every((x) => x instanceof Uint8Array))) {
    throw new AppError('PROTOCOL_VIOLATION', 'unpickle: expected a list of lists of bytes', {
      userMessage: 'A stored CKKS container is not a pickled list of lists of ciphertexts.',
    });
  }
  return v as Uint8Array[][];
}
