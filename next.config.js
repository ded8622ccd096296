// Static export: `next build` writes out/. Every page is a client shell; ids travel in the query string.
import { fileURLToPath } from 'node:url';

const emptyModule = fileURLToPath(new URL('./lib/empty-module.js', import.meta.url));

/** @type {import('next').NextConfig} */
const nextConfig = {
  output: 'export',
  trailingSlash: true,
  images: { unoptimized: true },
  reactStrictMode: true,
  // `npm test` runs `tsc --noEmit` over the whole repository; the build does not type-check again.
  typescript: { ignoreBuildErrors: true },
  // node-seal's Emscripten glue does `await import("module")` on its Node path; the browser bundle
  // never takes that path, so Node's `module` is aliased to an empty stub (both bundlers).
  turbopack: { resolveAlias: { module: './lib/empty-module.js' } },
  webpack: (config, { isServer, webpack }) => {
    if (!isServer) {
      config.resolve.alias = { ...config.resolve.alias, module: emptyModule };
      config.resolve.fallback = { ...config.resolve.fallback, fs: false, path: false, crypto: false, url: false };
      // The app runs under a CSP without 'unsafe-eval' (lib/security/csp.ts). zod 4 probes
      // `new Function("")` whenever it builds an object schema, and a strict CSP reports that
      // probe as a violation even though zod catches the error. zod reads its config from
      // globalThis.__zod_globalConfig when it loads; setting `jitless` there at the top of every
      // client chunk (page and Web Worker bundles alike) runs before any schema is built,
      // whatever the module order. zod then validates without generated code.
      config.plugins.push(
        new webpack.BannerPlugin({
          banner: 'globalThis.__zod_globalConfig=Object.assign(globalThis.__zod_globalConfig||{},{jitless:true});',
          raw: true,
          entryOnly: false,
          test: /\.m?js$/,
        }),
      );
    }
    return config;
  },
};

export default nextConfig;
