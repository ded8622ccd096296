/**
 * @module settings-store
 * Persistence of settings: the user's changes in IndexedDB (idb-keyval, store `rory-settings`),
 * layered over the deployment's `config.json` (served next to the app) and the built-in defaults.
 */
import { createStore, del, get, set, type UseStore } from 'idb-keyval';
import { AppError } from './errors';
import { DEFAULT_SETTINGS, validateSettings, type RawSettings, type Settings } from './config';

const USER_KEY = 'user-settings-v1';
let store: UseStore | undefined;
const settingsDb = () => (store ??= createStore('rory-settings', 'settings'));

export interface LoadedSettings {
  /** Effective settings (defaults < deployment < user). */
  readonly settings: Settings;
  /** What the deployment's config.json sets (defaults < deployment). */
  readonly deployment: Settings;
  /** Keys the user has changed from the deployment values. */
  readonly userKeys: readonly string[];
  /** Problem with config.json, if any (the app still runs on defaults). */
  readonly deploymentWarning?: string;
}

/** Reads `config.json` from the app origin. A missing file is normal (defaults apply). */
export async function loadDeploymentSettings(fetchImpl: typeof fetch = fetch): Promise<{ settings: Settings; warning?: string }> {
  let raw: unknown;
  try {
    const res = await fetchImpl('/config.json', { cache: 'no-store' });
    if (res.status === 404) return { settings: DEFAULT_SETTINGS };
    if (!res.ok) return { settings: DEFAULT_SETTINGS, warning: `config.json could not be read (HTTP ${res.status}); using defaults.` };
    raw = await res.json();
  } catch {
    return { settings: DEFAULT_SETTINGS, warning: 'config.json is not valid JSON; using defaults.' };
  }
  const obj = (raw && typeof raw === 'object' && 'settings' in raw ? (raw as { settings: unknown }).settings : raw) as RawSettings;
  const r = validateSettings(obj ?? {});
  if (!r.ok) {
    const fields = Object.entries(r.errors).map(([k, m]) => `${k}: ${m}`).join('; ');
    return { settings: DEFAULT_SETTINGS, warning: `config.json has invalid values (${fields}); using defaults.` };
  }
  return { settings: r.settings };
}

export async function loadSettings(fetchImpl?: typeof fetch): Promise<LoadedSettings> {
  const { settings: deployment, warning } = await loadDeploymentSettings(fetchImpl);
  let user: RawSettings;
  try {
    user = ((await get(USER_KEY, settingsDb())) as RawSettings | undefined) ?? {};
  } catch (e) {
    throw new AppError('KEYSTORE_FAILURE', `settings store unavailable: ${String(e)}`, {
      userMessage: 'This browser blocks IndexedDB (private mode or storage disabled), so settings cannot be kept. Allow site storage and reload.',
    });
  }
  const r = validateSettings(user, deployment);
  const settings = r.ok ? r.settings : deployment;
  return { settings, deployment, userKeys: Object.keys(user), deploymentWarning: warning };
}

/** Saves the values that differ from the deployment settings. Throws CONFIG_INVALID with field errors. */
export async function saveSettings(raw: RawSettings, deployment: Settings): Promise<Settings> {
  const r = validateSettings(raw, deployment);
  if (!r.ok) {
    throw new AppError('CONFIG_INVALID', 'invalid settings', {
      userMessage: 'Some settings are invalid; fix the highlighted fields.',
      details: r.errors as Record<string, string>,
    });
  }
  const changed: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r.settings)) if (deployment[k as keyof Settings] !== v) changed[k] = v;
  await set(USER_KEY, changed, settingsDb());
  return r.settings;
}

export async function resetSettings(): Promise<void> {
  await del(USER_KEY, settingsDb());
}
