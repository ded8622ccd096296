'use client';
import { SettingsForm } from '@/components/settings/SettingsForm';
import { PageHeader } from '@/components/ui/Card';

export default function SettingsPage() {
  return (
    <>
      <PageHeader
        title="Settings"
        subtitle="Every variable of the upstream Rory client, with its default. Saved in this browser; import or export a .client.env file."
      />
      <SettingsForm />
    </>
  );
}
