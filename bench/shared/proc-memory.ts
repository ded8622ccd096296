/**
 * Memory of a process tree as Linux accounts it (benches only): the proportional set size (PSS,
 * /proc/<pid>/smaps_rollup) summed over a root process and all its descendants, so pages shared
 * between processes (libraries, the zygote's) count once. For Chromium this is every page of every
 * process the browser started: renderer (page and its workers), browser (blob storage, where a
 * request's Blob body lives), network service and GPU process.
 */
import { readdirSync, readFileSync } from 'node:fs';

function children(): Map<number, number[]> {
  const byParent = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // Field 4 of /proc/<pid>/stat, after the parenthesised command name.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      byParent.set(ppid, [...(byParent.get(ppid) ?? []), Number(name)]);
    } catch {
      // The process ended while the table was read.
    }
  }
  return byParent;
}

/**
 * The root of the processes whose command line contains `marker` (e.g. Chromium's user-data-dir):
 * the one whose parent does not contain it.
 */
export function findProcess(marker: string): number | undefined {
  const matches = new Set<number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(marker)) matches.add(Number(name));
    } catch {
      // gone
    }
  }
  const withMatchingParent = new Set<number>();
  for (const [parent, kids] of children()) if (matches.has(parent)) for (const kid of kids) withMatchingParent.add(kid);
  const roots = [...matches].filter((pid) => !withMatchingParent.has(pid));
  return roots.length === 1 ? roots[0] : undefined;
}

/** PSS in bytes of `root` and its descendants. */
export function treePss(root: number): number {
  const tree = children();
  let total = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    try {
      const kb = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      total += Number(kb?.[1] ?? 0) * 1024;
    } catch {
      // gone
    }
    stack.push(...(tree.get(pid) ?? []));
  }
  return total;
}
