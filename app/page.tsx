'use client';
import Link from 'next/link';
import { Card, PageHeader } from '@/components/ui/Card';

const STEPS = [
  { href: '/datasets/', title: '1. Add a dataset', text: 'Pick or drop a CSV or NPY file. It is parsed and kept in this browser; nothing is uploaded.' },
  { href: '/keys/', title: '2. Create keys', text: 'Generate Liu, FDHOPE and CKKS keys. Secret keys stay in this browser, wrapped at rest.' },
  { href: '/jobs/', title: '3. Run a job', text: 'Encrypt, upload ciphertexts to MictlanX and let Rory workers cluster or classify them. Approve each decryption.' },
  { href: '/status/', title: 'Check the cloud', text: 'See whether the Rory Manager and the MictlanX routers are reachable.' },
] as const;

export default function HomePage() {
  return (
    <>
      <PageHeader
        title="Rory Data Owner"
        subtitle="Privacy-preserving data mining as a service. Your dataset and your secret keys never leave this browser; workers only see ciphertexts."
      />
      <div className="grid gap-4 md:grid-cols-2">
        {STEPS.map((s) => (
          <Link key={s.href} href={s.href} className="block">
            <Card className="h-full transition hover:border-brand-600">
              <p className="font-medium">{s.title}</p>
              <p className="mt-1 text-sm text-slate-600">{s.text}</p>
            </Card>
          </Link>
        ))}
      </div>
    </>
  );
}
