'use client';
/** App frame: navigation and the one error boundary (providers: app/Providers.tsx). */
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import type { ReactNode } from 'react';
import { ErrorBoundary } from './ErrorBoundary';

const NAV = [
  { href: '/datasets/', label: 'Datasets' },
  { href: '/jobs/', label: 'Jobs' },
  { href: '/keys/', label: 'Keys' },
  { href: '/settings/', label: 'Settings' },
  { href: '/status/', label: 'Status' },
] as const;

export function AppShell({ children }: { children: ReactNode }) {
  const pathname = usePathname() ?? '/';
  return (
    <div className="min-h-screen">
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-6xl items-center gap-6 px-4 py-3">
          <Link href="/" className="font-semibold tracking-tight text-slate-900">
            Rory <span className="font-normal text-slate-500">Data Owner</span>
          </Link>
          <nav aria-label="Main" className="flex gap-1">
            {NAV.map((item) => {
              const active = pathname.startsWith(item.href.replace(/\/$/, ''));
              return (
                <Link
                  key={item.href}
                  href={item.href}
                  aria-current={active ? 'page' : undefined}
                  className={`rounded-md px-3 py-1.5 text-sm ${
                    active ? 'bg-brand-50 font-medium text-brand-700' : 'text-slate-600 hover:bg-slate-100'
                  }`}
                >
                  {item.label}
                </Link>
              );
            })}
          </nav>
          <span className="ml-auto rounded-full bg-emerald-50 px-3 py-1 text-xs text-emerald-700" title="Datasets and secret keys stay in this browser. Only ciphertexts — or data you explicitly acknowledge — are uploaded.">
            Plaintext stays in this browser
          </span>
        </div>
      </header>
      <main className="mx-auto max-w-6xl px-4 py-6">
        <ErrorBoundary>{children}</ErrorBoundary>
      </main>
    </div>
  );
}
