'use client';
import { KeysManager } from '@/components/keys/KeysManager';
import { titledPage } from '@/components/ui/TitledPage';

export default titledPage('Keys', 'Liu, FDHOPE and CKKS keys. Secret keys never leave this browser except inside a passphrase-protected backup.', KeysManager);
