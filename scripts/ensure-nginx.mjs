// Installs Debian's nginx for the nginx end-to-end suite (tests/e2e/nginx.test.ts) when it is
// missing, as scripts/ensure-chromium.mjs does for Chromium, with the brotli filter module when
// Debian has it (deploy/README.md). Needs root (CI and the dev machines
// run as root). A temporary policy-rc.d keeps apt from starting a system nginx on port 80.
import { execSync, spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';

const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx';
if (existsSync(NGINX)) process.exit(0);

if (typeof process.getuid === 'function' && process.getuid() !== 0) {
  console.error(`nginx is missing at ${NGINX}. Install it with: sudo apt-get install -y nginx libnginx-mod-http-brotli-filter (or set NGINX_PATH).`);
  process.exit(1);
}
console.log('Installing Debian nginx for the nginx end-to-end suite…');
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const POLICY = '/usr/sbin/policy-rc.d';
const ownPolicy = !existsSync(POLICY);
if (ownPolicy) writeFileSync(POLICY, '#!/bin/sh\n# written by scripts/ensure-nginx.mjs during apt-get install\nexit 101\n', { mode: 0o755 });
try {
  execSync('apt-get update -qq', { stdio: 'inherit', env });
  // The brotli filter module is optional: installed when this Debian release has it.
  const hasBrotli = spawnSync('apt-cache', ['show', 'libnginx-mod-http-brotli-filter'], { env, stdio: 'ignore' }).status === 0;
  execSync(`apt-get install -y -qq --no-install-recommends nginx${hasBrotli ? ' libnginx-mod-http-brotli-filter' : ''}`, { stdio: 'inherit', env });
} finally {
  if (ownPolicy) rmSync(POLICY, { force: true });
}
if (!existsSync(NGINX)) {
  console.error(`apt-get finished but ${NGINX} does not exist.`);
  process.exit(1);
}
