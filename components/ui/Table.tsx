import type { ReactNode } from 'react';

/** The header cells of a table's column row, one per name, all in `className`. */
export function HeaderCells({ names, className }: { names: readonly string[]; className: string }) {
  return (
    <>
      {names.map((n, i) => (
        <th key={i} className={className}>
          {n}
        </th>
      ))}
    </>
  );
}

/**
 * A body row headed by its name (`<th scope="row">` in the header cells' `className`, not bold),
 * then its cells.
 */
export function NamedRow({ name, className, children }: { name: ReactNode; className: string; children: ReactNode }) {
  return (
    <tr className="border-t border-slate-100">
      <th scope="row" className={`${className} font-normal`}>
        {name}
      </th>
      {children}
    </tr>
  );
}
