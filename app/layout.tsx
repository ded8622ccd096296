import type { Metadata } from 'next';
import type { ReactNode } from 'react';
import { AppShell } from '@/components/AppShell';
import { Providers } from './Providers';
import './globals.css';

export const metadata: Metadata = {
  title: 'Rory Data Owner',
  description: 'Privacy-preserving data mining: your plaintext never leaves this browser.',
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <Providers>
          <AppShell>{children}</AppShell>
        </Providers>
      </body>
    </html>
  );
}
