// Writes the service worker's precache list, www/pkg/precache.json, from the files that are really there:
//   node scripts/precache.mjs [ROOT]     (ROOT: the repository, or a dist/ folder; default: the repository)
// `./build.sh build` runs it for the repository and `./build.sh dist` for dist/ (after minifying), so sw.js never
// keeps a hand-written list. What goes in: the two pages, every module, style sheet, JSON table and icon under
// www/ (never www/bench/, the developer pages, which dist/ does not ship either), the glue www/pkg/advlab.js,
// the test-image files, the model index and the few small models that every visit may need (the widget's default
// and the linear lesson's three). The wasm build (one of two) and the page's default model (index.json's) are
// chosen by sw.js itself at install time.
// Photo mode's files (its engine, its 10 MB model, its sample photos) are never in that list: they are written to
// www/pkg/photo-offline.json instead, which sw.js fetches only when the visitor asks to keep photo mode offline.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CODE = /\.(js|css|json|svg|html)$/;
/** Data files every view may need at once; other models are cached when first used. */
const DATA = [/^www\/samples\/[^/]+\.idx$/, /^www\/models\/[^/]+\.json$/, /^www\/models\/mnist-linear\.safetensors$/, /^www\/models\/lessons\/[^/]+\.safetensors$/];
// (www/pkg/photo-offline.json, the small list of photo mode's files, is precached: the button shows its size offline.)
const NEVER = [/^www\/bench\//, /^www\/pkg\/(?!advlab\.js$|photo-offline\.json$)/];

function walk(dir, root) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p, root) : [path.relative(root, p).split(path.sep).join('/')];
  });
}

/** The list for a folder holding index.html, embed.html and www/. */
export function precacheList(root) {
  const files = walk(path.join(root, 'www'), root).filter((f) => {
    if (NEVER.some((r) => r.test(f))) return false;
    if (f.startsWith('www/models/') || f.startsWith('www/samples/') || f.startsWith('www/data/')) return DATA.some((r) => r.test(f));
    return CODE.test(f);
  });
  const pages = ['index.html', 'embed.html'].filter((f) => fs.existsSync(path.join(root, f)));
  return ['./', ...pages, ...files.sort()];
}

/** Photo mode's files, the same rule as sw.js's PHOTO: [{path, bytes}] for www/pkg/photo-offline.json. */
export const PHOTO = /^www\/(models\/imagenet-[^/]*\.safetensors|pkg\/advlab_photo[^/]*|samples\/photos\/[^/]*)$/;
/**
 * What the page budget leaves out (scripts/sizes.mjs, tests/e2e/dist.test.mjs): photo mode's files and the audit
 * view (www/audit/, imported only when #lesson=audit opens, and it runs only on photo mode's full engine). All
 * ship in dist/; none loads on a visit that does not choose a photo model or open the audit.
 */
export const ON_DEMAND = /^www\/(models\/imagenet-[^/]*\.safetensors|pkg\/advlab_photo[^/]*|samples\/photos\/|audit\/)/;
export function photoList(root) {
  return walk(path.join(root, 'www'), root)
    .filter((f) => PHOTO.test(f))
    .sort()
    .map((f) => ({ path: f, bytes: fs.statSync(path.join(root, f)).size }));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(process.argv[2] || path.join(path.dirname(fileURLToPath(import.meta.url)), '..'));
  const out = path.join(root, 'www/pkg/precache.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  // Photo mode's list first: the precache list includes it.
  const photo = photoList(root);
  const photoOut = path.join(root, 'www/pkg/photo-offline.json');
  fs.writeFileSync(photoOut, JSON.stringify({ files: photo }, null, 1) + '\n');
  const mb = photo.reduce((a, f) => a + f.bytes, 0) / 1e6;
  console.log(`${path.relative(process.cwd(), photoOut) || photoOut}: ${photo.length} files, ${mb.toFixed(1)} MB (kept offline only on request)`);
  const files = precacheList(root);
  fs.writeFileSync(out, JSON.stringify({ files }, null, 1) + '\n');
  console.log(`${path.relative(process.cwd(), out) || out}: ${files.length} files`);
}
