/**
 * @module storage/routers
 * The one parser of the MICTLANX_ROUTERS setting (spec/protocol.md §10; spec/mictlanx.md §0):
 * `id:host:port` entries separated by spaces or commas, in order of preference (later ones are
 * fail-overs). lib/config.ts validates and derives endpoints with it; `MictlanxClient` takes its
 * output. Pure: no I/O.
 */
import { AppError } from '../errors';
import { KEY_ID_PATTERN } from './key-id';

/** One MictlanX router, as listed in MICTLANX_ROUTERS (`id:host:port`). */
export interface MictlanxRouter {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly protocol: 'http' | 'https';
  /** Overrides the URL derived from protocol/host/port (e.g. lib/config `RouterEndpoint.baseUrl`, or a proxy path). */
  readonly baseUrl?: string;
}

/** The format, as every message about a bad entry states it. */
export const ROUTER_FORMAT_HINT = 'each router must be written id:host:port (e.g. mictlanx-router-0:127.0.0.1:63666), separated by spaces or commas';

const HOST_NAME = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/;

/** A bad entry of the list and what is wrong with it. */
export type RouterListProblem = { readonly entry: string; readonly reason: string };

/** Splits the setting into entries (spaces, commas and newlines separate them). */
export function splitRouterList(text: string): string[] {
  return String(text ?? '')
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function short(s: string, n: number): string {
  return JSON.stringify(s.length > n ? `${s.slice(0, n)}…` : s);
}

/** Parses one entry, or explains what is wrong with it. */
function parseEntry(entry: string, protocol: 'http' | 'https'): MictlanxRouter | RouterListProblem {
  const parts = entry.split(':');
  if (parts.length !== 3) return { entry, reason: `${ROUTER_FORMAT_HINT}; ${short(entry, 80)} is not id:host:port` };
  const [id, host, portText] = parts;
  if (!KEY_ID_PATTERN.test(id)) return { entry, reason: `router id ${short(id, 40)} must be letters and digits, optionally joined by single - or _` };
  if (!HOST_NAME.test(host)) return { entry, reason: `${short(host, 80)} is not a host name or IPv4 address` };
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port < 1 || port > 65535) return { entry, reason: `router ports must be between 1 and 65535 (got ${short(portText, 10)})` };
  return { id, host, port, protocol };
}

/**
 * Parses MICTLANX_ROUTERS without throwing: the routers, or the first problem found.
 * @example parseRouterListSafe('r0:127.0.0.1:63666 r1:10.0.0.2:63666', 'http')
 */
export function parseRouterListSafe(text: string, protocol: 'http' | 'https' = 'http'): { ok: true; routers: MictlanxRouter[] } | { ok: false; problem: RouterListProblem } {
  if (protocol !== 'http' && protocol !== 'https') return { ok: false, problem: { entry: '', reason: 'the protocol must be http or https' } };
  const entries = splitRouterList(text);
  if (entries.length === 0) return { ok: false, problem: { entry: '', reason: 'list at least one router as id:host:port' } };
  const routers: MictlanxRouter[] = [];
  for (const entry of entries) {
    const r = parseEntry(entry, protocol);
    if ('reason' in r) return { ok: false, problem: r };
    routers.push(r);
  }
  return { ok: true, routers };
}

/**
 * Parses MICTLANX_ROUTERS: `id:host:port` entries separated by spaces or commas.
 * @throws AppError CONFIG_INVALID naming the bad entry and the expected form
 * @example parseRouterList('mictlanx-router-0:127.0.0.1:63666', 'http')
 */
export function parseRouterList(text: string, protocol: 'http' | 'https' = 'http'): MictlanxRouter[] {
  const r = parseRouterListSafe(text, protocol);
  if (r.ok) return r.routers;
  const detail = r.problem.reason;
  throw new AppError('CONFIG_INVALID', `MICTLANX_ROUTERS: ${detail}`, {
    userMessage: `The MictlanX router list is invalid: ${detail}. Write each router as id:host:port (e.g. mictlanx-router-0:127.0.0.1:63666), separated by spaces or commas.`,
  });
}

/** Base URL of a router. With https the port is dropped, as the Python client does. */
export function routerUrl(r: MictlanxRouter): string {
  if (r.baseUrl) return r.baseUrl.replace(/\/+$/, '');
  return r.protocol === 'https' ? `https://${r.host}` : `http://${r.host}:${r.port}`;
}
