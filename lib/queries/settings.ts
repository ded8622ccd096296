/** TanStack Query options and hooks for settings (one fetcher + options factory + thin hooks). */
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { RawSettings } from '../config';
import { loadSettings, resetSettings, saveSettings, type LoadedSettings } from '../settings-store';

export const settingsQueryOptions = () =>
  queryOptions({ queryKey: ['settings'], queryFn: () => loadSettings(), staleTime: Infinity });

export function useSettings() {
  return useQuery(settingsQueryOptions());
}

export function useSaveSettings() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: async ({ raw, loaded }: { raw: RawSettings; loaded: LoadedSettings }) => saveSettings(raw, loaded.deployment),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['settings'] }),
  });
}

export function useResetSettings() {
  const qc = useQueryClient();
  return useMutation({ mutationFn: resetSettings, onSuccess: () => qc.invalidateQueries({ queryKey: ['settings'] }) });
}
