#!/usr/bin/env node
/**
 * The `rory` command (package.json `bin`): the headless Data Owner — `rory serve`, `rory cloud`,
 * `rory keys …`, `rory run`, `rory experiment` (headless/cli/main.ts; docs/headless.md). Loads the
 * TypeScript sources through tsx with the project's tsconfig (so `@/…` imports resolve from any
 * working directory) after checking the Node version the project needs.
 */
import { fileURLToPath } from 'node:url';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  console.error(
    `rory needs Node.js 22.12 or newer (this is ${process.versions.node}).\n` +
      'Run it through npm from the project directory, which uses the project\'s own Node 22: npx rory --help',
  );
  process.exit(1);
}

const { register } = await import('tsx/esm/api');
register({ tsconfig: fileURLToPath(new URL('../tsconfig.json', import.meta.url)) });
const { main } = await import('../headless/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
