// Bundles src/main.ts (type-checked first by `tsc --noEmit`, see package.json) into dist/.
// INBOX_BASE is the path the page is served under (the local stack: /inbox/).
import { build } from 'esbuild'
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'

const base = process.env.INBOX_BASE ?? '/inbox/'
rmSync('dist', { recursive: true, force: true })
mkdirSync('dist')
await build({
  entryPoints: ['src/main.ts'],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  outfile: 'dist/app.js',
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  logLevel: 'warning',
})
cpSync('public/styles.css', 'dist/styles.css')
writeFileSync('dist/index.html', readFileSync('public/index.html', 'utf8').replace('%BASE%', base))
