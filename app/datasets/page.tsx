'use client';
import { EmptyState, PageHeader } from '@/components/ui/Card';

export default function DatasetsPage() {
  return (
    <>
      <PageHeader title="Datasets" subtitle="Local CSV and NPY files, kept in this browser (IndexedDB). Never uploaded in plaintext." />
      <EmptyState title="No datasets yet">Add a CSV or NPY file to start: numeric values only, one record per line, no index column.</EmptyState>
    </>
  );
}
