'use client';
/**
 * Status page: the app's own self-check and the live health of the Rory Manager and of each
 * MictlanX router, with the addresses in use. Behind a proxy (issue 16, deploy/README.md) each
 * card says so and shows the upstream address the proxy forwards to; the Workers card shows how
 * the workers the Manager hands out are reached.
 */
import Link from 'next/link';
import { useEffect, useState } from 'react';
import { managerUrl, routerEndpoints, workerUrlTemplate, type RouterEndpoint } from '@/lib/config';
import { toAppError } from '@/lib/errors';
import { selfCheck, type ProbeResult, type SelfCheck } from '@/lib/health';
import { useManagerHealth, useRouterHealth } from '@/lib/queries/health';
import { useSettings } from '@/lib/queries/settings';
import { Alert } from '../ui/Alert';

export function StatusBoard() {
  const { data: loaded, error } = useSettings();
  const manager = useManagerHealth(loaded?.settings);
  const [self, setSelf] = useState<SelfCheck | null>(null);
  useEffect(() => setSelf(selfCheck()), []);
  if (error) return <Alert tone="error">{toAppError(error).userMessage}</Alert>;
  if (!loaded) return <p className="text-sm text-slate-500">Loading…</p>;
  const s = loaded.settings;
  return (
    <div className="grid gap-4 md:grid-cols-2">
      <ServiceCard name="This app (Data Owner)" address={typeof window !== 'undefined' ? window.location.origin : ''} testId="status-app">
        {self && (
          <>
            <StateBadge ok={self.status === 'ready'} label={self.status} />
            <pre className="mt-2 overflow-x-auto rounded bg-slate-50 p-2 text-xs" data-testid="self-check">
              {JSON.stringify({ component_type: self.component_type, status: self.status })}
            </pre>
            {self.problems.map((p) => (
              <p key={p} className="text-xs text-red-700">{p}</p>
            ))}
          </>
        )}
      </ServiceCard>
      <ServiceCard name="Rory Manager" address={managerUrl(s)} testId="status-manager">
        {s.RORY_MANAGER_URL && <Via upstream={`${s.RORY_MANAGER_IP_ADDR}:${s.RORY_MANAGER_PORT}`} setting="RORY_MANAGER_URL" />}
        <ProbeView result={manager.data} loading={manager.isPending} />
      </ServiceCard>
      {routerEndpoints(s).map((r) => (
        <RouterCard key={r.id + r.baseUrl} router={r} />
      ))}
      <ServiceCard name="Rory Workers" address={workerUrlTemplate(s) ?? 'the address the Manager hands out'} testId="status-workers">
        <p className="text-xs text-slate-700">
          {s.RORY_WORKER_URL_TEMPLATE
            ? 'Each worker the Manager assigns is called at this address (RORY_WORKER_URL_TEMPLATE), with its id and port filled in; the proxy forwards to the worker on the deployment network.'
            : 'Each worker is called at the worker_url the Manager answers with, or at http://{worker_id}:{worker_port} (upstream Managers answer with a Docker host name: put them behind a proxy, see deploy/README.md).'}
        </p>
      </ServiceCard>
      <p className="text-xs text-slate-500 md:col-span-2">
        Addresses come from <Link className="underline" href="/settings/">Settings</Link>.
      </p>
    </div>
  );
}

function RouterCard({ router }: { router: RouterEndpoint }) {
  const q = useRouterHealth(router.baseUrl);
  return (
    <ServiceCard name={`MictlanX router ${router.id}`} address={router.baseUrl} testId={`status-router-${router.id}`}>
      {router.proxied && <Via upstream={`${router.host}:${router.port}`} setting="MICTLANX_ROUTER_URLS" />}
      <ProbeView result={q.data} loading={q.isPending} />
    </ServiceCard>
  );
}

/** "Through the proxy" line of a service addressed by base URL. */
function Via({ upstream, setting }: { upstream: string; setting: string }) {
  return (
    <p className="mb-2 text-xs text-slate-600" data-testid="via-proxy">
      Through the deployment&apos;s proxy ({setting}); upstream address <span className="font-mono">{upstream}</span>.
    </p>
  );
}

function ServiceCard({ name, address, testId, children }: { name: string; address: string; testId: string; children: React.ReactNode }) {
  return (
    <section className="rounded-xl border border-slate-200 bg-white p-4 shadow-sm" data-testid={testId} aria-label={name}>
      <h2 className="font-medium">{name}</h2>
      <p className="mb-2 font-mono text-xs text-slate-500">{address}</p>
      {children}
    </section>
  );
}

function ProbeView({ result, loading }: { result?: ProbeResult; loading: boolean }) {
  if (loading || !result) return <p className="text-sm text-slate-500">Checking…</p>;
  if (result.ok) {
    return (
      <div>
        <StateBadge ok label="reachable" />
        <span className="ml-2 text-xs text-slate-500">{Math.round(result.latencyMs)} ms</span>
      </div>
    );
  }
  const label = { timeout: 'timeout', cors: 'blocked by CORS', refused: 'unreachable', http: 'error', invalid: 'unexpected answer' }[result.reason];
  return (
    <div>
      <StateBadge ok={false} label={label} />
      <p className="mt-1 text-xs text-slate-700">{result.detail}</p>
    </div>
  );
}

function StateBadge({ ok, label }: { ok: boolean; label: string }) {
  return (
    <span
      data-state={ok ? 'ok' : 'down'}
      className={`inline-flex items-center gap-1 rounded-full px-2 py-0.5 text-xs font-medium ${ok ? 'bg-emerald-100 text-emerald-800' : 'bg-red-100 text-red-800'}`}
    >
      <span aria-hidden className={`h-1.5 w-1.5 rounded-full ${ok ? 'bg-emerald-500' : 'bg-red-500'}`} />
      {label}
    </span>
  );
}
