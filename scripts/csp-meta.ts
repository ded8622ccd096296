/**
 * Post-build step of `npm run build` (after `next build`, issue 12 finding 4): writes the app's
 * Content-Security-Policy (lib/security/csp.ts) as a `<meta http-equiv>` tag into every
 * out/**\/*.html, for hosts that cannot set response headers. Each page gets the sha256 of its
 * own inline scripts and styles. A meta policy cannot carry `frame-ancestors` or `report-uri`
 * (browsers ignore them there), so only a header-capable host (server/static.ts, nginx)
 * protects against framing; server/static.ts removes this tag and sends the full policy.
 *
 * connect-src: the origins in RORY_CSP_CONNECT_SRC (separated by spaces or commas) when set;
 * otherwise the manager and routers of out/config.json (or of the built-in defaults) plus the
 * default workers of `npm start` (127.0.0.1:9000 and :9001).
 *
 *   tsx scripts/csp-meta.ts [out-dir]
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { buildCsp, connectSources, pageHashes, settingsOrigins, withCspMeta } from '../lib/security/csp';
import { deploymentSettings } from '../server/static';

const DEFAULT_WORKERS = ['http://127.0.0.1:9000', 'http://127.0.0.1:9001'];

async function htmlFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await htmlFiles(p)));
    else if (e.name.endsWith('.html')) out.push(p);
  }
  return out;
}

async function main() {
  const outDir = resolve(process.argv[2] ?? 'out');
  const env = process.env.RORY_CSP_CONNECT_SRC;
  let connect: string[];
  if (env !== undefined && env.trim() !== '') {
    connect = env.split(/[\s,]+/).filter(Boolean);
  } else {
    const configText = await readFile(join(outDir, 'config.json'), 'utf8').catch(() => undefined);
    let config: unknown;
    try {
      config = configText === undefined ? undefined : JSON.parse(configText);
    } catch {
      throw new Error(`${join(outDir, 'config.json')} is not valid JSON`);
    }
    connect = [...settingsOrigins(deploymentSettings(config)), ...DEFAULT_WORKERS];
  }
  const sha256 = (t: string) => createHash('sha256').update(t, 'utf8').digest('base64');
  const files = await htmlFiles(outDir);
  if (files.length === 0) throw new Error(`no HTML files under ${outDir}: run next build first`);
  for (const file of files) {
    const html = await readFile(file, 'utf8');
    const policy = buildCsp({ connectSrc: connect, ...pageHashes(html, sha256) }, 'meta');
    await writeFile(file, withCspMeta(html, policy));
  }
  console.log(`CSP meta tag written into ${files.length} page(s); connect-src 'self' ${connectSources(connect).join(' ')}`);
}

main().catch((e: unknown) => {
  console.error(`csp-meta: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
