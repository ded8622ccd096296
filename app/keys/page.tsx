'use client';
import { KeysManager } from '@/components/keys/KeysManager';
import { PageHeader } from '@/components/ui/Card';

export default function KeysPage() {
  return (
    <>
      <PageHeader title="Keys" subtitle="Liu, FDHOPE and CKKS keys. Secret keys never leave this browser except inside a passphrase-protected backup." />
      <KeysManager />
    </>
  );
}
