'use client';
/**
 * Datasets route: the list and the add panel, or one dataset when `?id=` names it (static export).
 * Wires the parse worker (workers/parse-client) into the add panel, so files are read off the page.
 */
import { useRouter, useSearchParams } from 'next/navigation';
import { AddDataset } from '@/components/datasets/AddDataset';
import { DatasetDetail } from '@/components/datasets/DatasetDetail';
import { DatasetList } from '@/components/datasets/DatasetList';
import { Alert } from '@/components/ui/Alert';
import { PageHeader } from '@/components/ui/Card';
import { SearchParamsBoundary } from '@/components/ui/SearchParamsBoundary';
import { readTableInWorker } from '@/workers/parse-client';

function DatasetsRoute() {
  const id = useSearchParams().get('id');
  const router = useRouter();
  return (
    <>
      <PageHeader title="Datasets" subtitle="CSV and NPY files, kept in this browser for encrypted clustering and classification jobs." />
      <div className="space-y-6">
        <Alert tone="info" title="Your files stay in this browser">
          <p data-testid="privacy-note">
            Datasets are read here and stored only in this browser (IndexedDB). They are never uploaded in plaintext: jobs send encrypted data to the
            Rory cloud, and anything derived from plaintext only after you acknowledge it.
          </p>
        </Alert>
        {id ? (
          <DatasetDetail id={id} onDeleted={() => router.push('/datasets/')} />
        ) : (
          <>
            <AddDataset readTable={readTableInWorker} onSaved={(r) => router.push(`/datasets/?id=${r.id}`)} />
            <DatasetList />
          </>
        )}
      </div>
    </>
  );
}

export default function DatasetsPage() {
  return (
    <SearchParamsBoundary>
      <DatasetsRoute />
    </SearchParamsBoundary>
  );
}
