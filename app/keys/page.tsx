'use client';
import { EmptyState, PageHeader } from '@/components/ui/Card';

export default function KeysPage() {
  return (
    <>
      <PageHeader title="Keys" subtitle="Liu, FDHOPE and CKKS keys. Secret keys never leave this browser." />
      <EmptyState title="No keys yet">Generate a key set before your first job.</EmptyState>
    </>
  );
}
