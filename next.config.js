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
  webpack: (config, { isServer }) => {
    if (!isServer) {
      config.resolve.alias = { ...config.resolve.alias, module: emptyModule };
      config.resolve.fallback = { ...config.resolve.fallback, fs: false, path: false, crypto: false, url: false };
    }
    return config;
  },
};

export default nextConfig;
