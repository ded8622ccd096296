import { writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnvFile, SETTING_KEYS } from '@/lib/config';
import { startApp, type AppUnderTest } from './harness';

let app: AppUnderTest;

beforeAll(async () => {
  app = await startApp();
});
afterAll(async () => {
  await app?.close();
});

describe('app shell', () => {
  it('navigates every page from the main navigation', async () => {
    const { page, url } = app;
    await page.goto(url);
    await expect(page.getByRole('heading', { name: 'Rory Data Owner' }).isVisible()).resolves.toBe(true);
    for (const [label, heading] of [
      ['Datasets', 'Datasets'],
      ['Jobs', 'Jobs'],
      ['Keys', 'Keys'],
      ['Settings', 'Settings'],
      ['Status', 'Status'],
    ] as const) {
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label }).click();
      await page.getByRole('heading', { level: 1, name: heading }).waitFor();
      expect(await page.getByRole('link', { name: label, exact: true }).getAttribute('aria-current')).toBe('page');
    }
    expect(app.pageErrors).toEqual([]);
  });

  it('status page shows the app health check and why the cloud is unreachable', async () => {
    const { page, url } = app;
    await page.goto(`${url}/status/`);
    await expect(page.getByTestId('self-check').textContent()).resolves.toBe('{"component_type":"client","status":"ready"}');
    // No cloud is running in this test: the manager on the default port 6001 must be reported as unreachable, not hang.
    const manager = page.getByTestId('status-manager');
    await manager.locator('[data-state="down"]').waitFor({ timeout: 20_000 });
    expect(await manager.textContent()).toMatch(/unreachable|timeout/);
  });

  it('the static app answers the upstream client health route', async () => {
    const res = await fetch(`${app.url}/clustering/test`);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(await res.json()).toEqual({ component_type: 'client', status: 'ready' });
  });
});

describe('settings', () => {
  it('persists a changed setting across a reload', async () => {
    const { page, url } = app;
    await page.goto(`${url}/settings/`);
    const chunks = page.getByLabel(/NUM_CHUNKS/);
    expect(await chunks.inputValue()).toBe('4');
    await chunks.fill('7');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Settings saved in this browser.').waitFor();
    await page.reload();
    await page.getByLabel(/NUM_CHUNKS/).waitFor();
    expect(await page.getByLabel(/NUM_CHUNKS/).inputValue()).toBe('7');
  });

  it('refuses invalid values with a per-field message and keeps the saved value', async () => {
    const { page, url } = app;
    await page.goto(`${url}/settings/`);
    await page.getByLabel(/MICTLANX_ROUTERS/).fill('not a router');
    await page.getByLabel(/WORKER_TIMEOUT/).fill('-5');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText(/Not saved: 2 invalid value/).waitFor();
    expect(await page.getByText(/MICTLANX_ROUTERS: each router must be written id:host:port/).isVisible()).toBe(true);
    expect(await page.getByText(/WORKER_TIMEOUT: Worker timeout must be at least 1/).isVisible()).toBe(true);
    await page.reload();
    await page.getByLabel(/WORKER_TIMEOUT/).waitFor();
    expect(await page.getByLabel(/WORKER_TIMEOUT/).inputValue()).toBe('300');
  });

  it('imports an upstream .client.env file and exports every variable back', async () => {
    const { page, url } = app;
    const dir = await mkdtemp(join(tmpdir(), 'rory-env-'));
    const envPath = join(dir, '.client.env');
    await writeFile(
      envPath,
      [
        '# upstream client env',
        'NODE_ID=rory-client-7',
        'RORY_MANAGER_IP_ADDR=rory-manager-0',
        'RORY_MANAGER_PORT="6001"',
        "LIU_SECURITY_LEVEL='192'",
        'MICTLANX_ROUTERS=mictlanx-router-0:localhost:63666 mictlanx-router-1:localhost:63667',
        'MAX_ITERATIONS=25 # inline comment',
        'TESTING=1',
        'MICTLANX_URI=mictlanx://mictlanx-router-0@localhost:63666?api_version=4&protocol=http',
      ].join('\n'),
    );
    await page.goto(`${url}/settings/`);
    await page.getByLabel('Import .client.env file').setInputFiles(envPath);
    await page.getByText(/Imported 6 setting\(s\)/).waitFor();
    expect(await page.getByTestId('settings-notice').textContent()).toContain('Ignored keys this app does not use: TESTING, MICTLANX_URI');
    expect(await page.getByLabel(/NODE_ID/).inputValue()).toBe('rory-client-7');
    expect(await page.getByLabel(/RORY_MANAGER_PORT/).inputValue()).toBe('6001');
    expect(await page.getByLabel(/LIU_SECURITY_LEVEL/).inputValue()).toBe('192');
    expect(await page.getByLabel(/MAX_ITERATIONS/).inputValue()).toBe('25');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Settings saved in this browser.').waitFor();

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export .client.env' }).click()]);
    const exported = await (await download.createReadStream()).toArray();
    const parsed = parseEnvFile(Buffer.concat(exported).toString('utf8'));
    expect(Object.keys(parsed.values).sort()).toEqual([...SETTING_KEYS].sort());
    expect(parsed.values.NODE_ID).toBe('rory-client-7');
    expect(parsed.values.MICTLANX_ROUTERS).toBe('mictlanx-router-0:localhost:63666 mictlanx-router-1:localhost:63667');
    expect(parsed.values.LIU_SEED).toBe('123');
  });
});
