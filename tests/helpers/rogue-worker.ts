/**
 * A worker with custom routes (e.g. one that tampers with what it stores), registered with its
 * own manager on 127.0.0.1, for lying-worker tests against the real local router.
 */
import { expect } from 'vitest';
import { listen, type Route } from '@/server/common/http';
import { createManager } from '@/server/manager';

export async function startRogueWorker(routes: Route[]): Promise<{ managerUrl: string; close: () => Promise<void> }> {
  const server = await listen(routes, 0, '127.0.0.1');
  const manager = await createManager();
  const reg = await fetch(`${manager.url}/workers/started`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${manager.registrationToken}`, 'Worker-Id': 'liar', 'Worker-Port': String(server.port), 'Worker-Host': '127.0.0.1' },
  });
  expect(reg.status).toBe(204);
  return {
    managerUrl: manager.url,
    close: async () => {
      await manager.close();
      await server.close();
    },
  };
}
