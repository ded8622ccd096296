'use client';
import { useSearchParams } from 'next/navigation';
import { JobView } from '@/components/jobs/JobView';
import { JobsList } from '@/components/jobs/JobsList';
import { NewJobForm } from '@/components/jobs/NewJobForm';
import { PageHeader } from '@/components/ui/Card';
import { SearchParamsBoundary } from '@/components/ui/SearchParamsBoundary';

function JobsRoute() {
  const id = useSearchParams().get('id');
  if (id) return <JobView id={id} />;
  return (
    <>
      <PageHeader title="Jobs" subtitle="Clustering jobs run by Rory workers on your ciphertexts. Every decryption a worker needs waits for your approval." />
      <div className="space-y-6">
        <NewJobForm />
        <JobsList />
      </div>
    </>
  );
}

export default function JobsPage() {
  return (
    <SearchParamsBoundary>
      <JobsRoute />
    </SearchParamsBoundary>
  );
}
