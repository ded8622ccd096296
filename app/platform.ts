'use client';
/**
 * Installs the browser's platform services (lib/platform.ts): the page's crypto Web Worker pool
 * (keys page: generation, self-tests, backups) and the job Web Worker's client (jobs run in that
 * worker, with its own crypto pool). Imported for its side effect by app/Providers.tsx, the first
 * client module every page loads.
 */
import { installPlatform } from '@/lib/platform';
import { browserCryptoEngine, setCryptoPoolSize } from '@/workers/crypto-client';
import { browserJobService } from '@/workers/job-client';

installPlatform({ engine: browserCryptoEngine, setPoolSize: setCryptoPoolSize, jobs: browserJobService });
