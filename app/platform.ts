'use client';
/**
 * Installs the browser's platform services (lib/platform.ts): the crypto Web Worker pool. Imported
 * for its side effect by app/Providers.tsx, the first client module every page loads.
 */
import { installPlatform } from '@/lib/platform';
import { browserCryptoEngine, setCryptoPoolSize } from '@/workers/crypto-client';

installPlatform({ engine: browserCryptoEngine, setPoolSize: setCryptoPoolSize });
