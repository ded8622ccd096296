import { Suspense, type ReactNode } from 'react';

/**
 * The Suspense boundary a route that reads its `?id=` (useSearchParams) needs in the static
 * export: the exported page holds this "Loading…" until the browser renders the route.
 */
export function SearchParamsBoundary({ children }: { children: ReactNode }) {
  return <Suspense fallback={<p className="text-sm text-slate-500">Loading…</p>}>{children}</Suspense>;
}
