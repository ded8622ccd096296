/** Health checks for the Status page, refreshed every 10 s with TanStack Query. */
import { queryOptions, useQuery } from '@tanstack/react-query';
import { managerUrl, routerEndpoints, type Settings } from '../config';
import { expectComponent, expectRouterStats, probe } from '../health';

const REFRESH_MS = 10_000;

export const routerHealthQueryOptions = (baseUrl: string) =>
  queryOptions({
    queryKey: ['health', 'router', baseUrl],
    queryFn: () => probe(`${baseUrl}/api/v4/peers/stats`, { expect: expectRouterStats }),
    refetchInterval: REFRESH_MS,
  });

export const managerHealthQueryOptions = (s: Settings | undefined) =>
  queryOptions({
    queryKey: ['health', 'manager', s ? managerUrl(s) : ''],
    queryFn: () => probe(`${managerUrl(s!)}/clustering/test`, { expect: expectComponent('manager') }),
    refetchInterval: REFRESH_MS,
    enabled: !!s,
  });

export function useManagerHealth(s: Settings | undefined) {
  return useQuery(managerHealthQueryOptions(s));
}

export function useRouterHealth(baseUrl: string) {
  return useQuery(routerHealthQueryOptions(baseUrl));
}

export { routerEndpoints };
