// Builds the client into the gateway module, where go:embed reaches it
// (gateway/internal/webui/dist, committed). The build is reproducible: no
// source maps, no timestamps, file names hashed from their content, and no
// absolute paths of this machine in the output (`make web-check` rebuilds
// and compares).
import { defineConfig } from 'vite';

const gateway = process.env.PIXSHARE_GATEWAY ?? 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/',
  publicDir: 'public',
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'preact' },
  },
  build: {
    outDir: '../gateway/internal/webui/dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    // Everything is a file of its own: the CSP allows no inline script or
    // style, and data: URIs of assets would only make the bundle larger.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: 'es2022',
    reportCompressedSize: false,
  },
  // `npm run dev` serves the client with hot reload and sends the API to a
  // running stack (make run).
  server: {
    host: '127.0.0.1',
    proxy: {
      '/v1': gateway,
      '/openapi.yaml': gateway,
      '/docs': gateway,
    },
  },
});
