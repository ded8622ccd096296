'use client';
import { StatusBoard } from '@/components/status/StatusBoard';
import { PageHeader } from '@/components/ui/Card';

export default function StatusPage() {
  return (
    <>
      <PageHeader title="Status" subtitle="Live health of the Rory Manager, each MictlanX router and this app. Refreshed every 10 seconds." />
      <StatusBoard />
    </>
  );
}
