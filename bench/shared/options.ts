/**
 * Command-line options of the benches, declared by their defaults: a number default makes a
 * numeric option, a list of numbers a comma-separated numeric list (`--workers 1,2`), a list of
 * strings a choice whose first entry is the default (`--scheme liu|fdhope`), a string a free
 * string. Values are checked (a bench never runs with NaN sizes), and `--help` prints the options
 * with their defaults and exits before any work starts. Not a bench itself.
 *
 * @example
 * const args = benchOptions({ workers: [1, 2], reps: 3, scheme: ['liu', 'fdhope'] });
 * args.workers; // number[]
 * args.scheme; // 'liu' | 'fdhope'
 */
import { parseArgs } from 'node:util';

type Default = number | string | readonly number[] | readonly string[];

/** The parsed value of an option with default `D`. */
export type OptionValue<D> = D extends number ? number : D extends readonly number[] ? number[] : D extends readonly (infer S)[] ? S : string;

function isNumberList(d: Default): d is readonly number[] {
  return Array.isArray(d) && d.every((x) => typeof x === 'number');
}

function shown(d: Default): string {
  if (isNumberList(d)) return d.join(',');
  if (Array.isArray(d)) return d.join('|');
  return String(d);
}

function parseNumber(name: string, raw: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || Number.isNaN(n)) throw new Error(`--${name} must be a number, not "${raw}"`);
  return n;
}

/**
 * Parses `process.argv` against `defaults` (see the module comment).
 * @throws Error naming the option when a value is not a number or not one of the choices
 */
export function benchOptions<const T extends Record<string, Default>>(defaults: T): { readonly [K in keyof T]: OptionValue<T[K]> } {
  const options: Record<string, { type: 'string'; default: string }> = {};
  for (const [name, d] of Object.entries(defaults)) options[name] = { type: 'string', default: isNumberList(d) ? d.join(',') : Array.isArray(d) ? String(d[0]) : String(d) };
  const values: Readonly<Record<string, string | boolean | undefined>> = parseArgs({ options: { ...options, help: { type: 'boolean', short: 'h' } } }).values;
  if (values.help) {
    console.log(`Options (default):\n${Object.entries(defaults).map(([name, d]) => `  --${name} ${shown(d)}`).join('\n')}`);
    process.exit(0);
  }
  const out: Record<string, number | number[] | string> = {};
  for (const [name, d] of Object.entries(defaults)) {
    const raw = String(values[name]);
    if (typeof d === 'number') out[name] = parseNumber(name, raw);
    else if (isNumberList(d)) out[name] = raw.split(',').map((x) => parseNumber(name, x));
    else if (Array.isArray(d)) {
      if (!d.includes(raw)) throw new Error(`--${name} must be one of ${d.join(', ')}, not "${raw}"`);
      out[name] = raw;
    } else out[name] = raw;
  }
  return out as { readonly [K in keyof T]: OptionValue<T[K]> };
}
