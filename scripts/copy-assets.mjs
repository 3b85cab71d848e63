// Part of `npm run build`: files the compiled code reads next to itself (the FAQ knowledge base,
// any other *.yaml/*.yml/*.json under src/ and workers/) are copied into dist/ at the same paths.
import { cpSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ASSET = /\.(ya?ml|json)$/;
let copied = 0;
for (const dir of ['src', 'workers']) {
  const from = path.join(root, dir);
  if (!existsSync(from)) continue;
  cpSync(from, path.join(root, 'dist', dir), {
    recursive: true,
    filter: (src) => {
      if (statSync(src).isDirectory()) return true;
      if (!ASSET.test(src)) return false;
      copied++;
      return true;
    },
  });
}
console.log(`[build] copied ${copied} asset file(s) into dist/`);
