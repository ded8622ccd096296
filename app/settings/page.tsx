'use client';
import { SettingsForm } from '@/components/settings/SettingsForm';
import { titledPage } from '@/components/ui/TitledPage';

export default titledPage(
  'Settings',
  'Every variable of the upstream Rory client, with its default. Saved in this browser; import or export a .client.env file.',
  SettingsForm,
);
