// Folds the JSON of scripts/eval-defences.sh into each model's metadata `metrics.robustness`, writes the page's
// robustness curves (www/models/robustness.json) and the README table (target/defences/table.md). When
// scripts/eval-autoattack.sh has run, its results (target/autoattack/<model>.json) join as `metrics.robustness.autoattack`
// and the table's AutoAttack column.
// Usage: node scripts/defences-metrics.mjs www/models target/defences [target/autoattack]
import fs from 'node:fs';
import path from 'node:path';

const [dir = 'www/models', res = 'target/defences', aaDir = 'target/autoattack'] = process.argv.slice(2);
const read = (f) => (fs.existsSync(path.join(res, f)) ? JSON.parse(fs.readFileSync(path.join(res, f), 'utf8')) : null);
const pct = (v) => (v == null ? '–' : `${(v * 100).toFixed(1)} %`);

/** Rewrites the `advlab` metadata of a safetensors file (header re-padded to 8 bytes; tensors untouched). */
function updateMeta(file, fn) {
  const buf = fs.readFileSync(file);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const meta = JSON.parse(header.__metadata__.advlab);
  fn(meta);
  header.__metadata__.advlab = JSON.stringify(meta);
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - (Buffer.byteLength(text) % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(text)));
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(text, 'utf8'), buf.subarray(8 + n)]));
}

const white = (m) => ({
  clean: read(`${m}.fgsm.json`)?.clean_accuracy ?? null,
  fgsm: read(`${m}.fgsm.json`),
  pgd: read(`${m}.pgd.json`),
  square: read(`${m}.square.json`),
  // PGD-40 on exactly the images Square attacked, so "Square beats PGD" compares like with like.
  pgdSquareImages: read(`${m}.pgd-square-images.json`),
});
/** Accuracy under the worst of two attacks per image (both must leave the image correct), on their common images. */
function worstOf(a, b) {
  if (!a?.outcomes || !b?.outcomes) return null;
  const n = Math.min(a.outcomes.length, b.outcomes.length);
  let ok = 0;
  for (let i = 0; i < n; i++) ok += a.outcomes[i] === '1' && b.outcomes[i] === '1' ? 1 : 0;
  return { adversarial_accuracy: ok / n, n };
}
/** `advlab eval --attack autoattack`'s JSON for model `m`, if scripts/eval-autoattack.sh wrote it. */
function autoattack(m) {
  const f = path.join(aaDir, `${m}.json`);
  if (!fs.existsSync(f)) return null;
  const j = JSON.parse(fs.readFileSync(f, 'utf8'));
  return {
    accuracy: j.adversarial_accuracy,
    n: j.n,
    eta: j.eta,
    seed: j.seed,
    stages: Object.fromEntries(j.stages.map((s) => [s.name, s.robust_accuracy])),
    fgsm_reference: j.fgsm_accuracy,
    flags: j.flags.map((x) => x.key),
  };
}
const summary = (j) =>
  j && { accuracy: j.adversarial_accuracy, n: j.n, eta: j.eta, seed: j.seed, mean_queries: j.mean_queries };

const rows = [];
for (const m of ['mnist-cnn', 'mnist-cnn-adv', 'mnist-cnn-ens', 'mnist-cnn-fgsm', 'fashion-cnn', 'fashion-cnn-adv']) {
  const file = path.join(dir, `${m}.safetensors`);
  if (!fs.existsSync(file) || !read(`${m}.fgsm.json`)) continue;
  const w = white(m);
  const transfer = {};
  for (const src of ['mnist-mlp', 'mnist-cnn'])
    for (const a of ['fgsm', 'pgd']) {
      const t = read(`transfer.${src}.${a}.${m}.json`);
      if (t) transfer[`${src}/${a}`] = { accuracy: t.target_adversarial_accuracy, n: t.n, eta: t.eta };
    }
  const robustness = {
    protocol: 'first n test images; PGD-40 random start, step η/15; Square: max_queries as stated; seed 1',
    fgsm: summary(w.fgsm),
    pgd40: summary(w.pgd),
    square: summary(w.square),
    pgd40_on_square_images: summary(w.pgdSquareImages),
    worst_of_pgd40_and_square: summary(worstOf(w.pgdSquareImages, w.square)),
    transfer,
  };
  const aa = autoattack(m);
  if (aa) robustness.autoattack = aa;
  if (m.endsWith('-adv') || m.endsWith('-ens') || m.endsWith('-fgsm')) {
    updateMeta(file, (meta) => {
      meta.metrics = { ...(meta.metrics || {}), robustness };
    });
  }
  rows.push({ m, w, transfer, aa });
}

const lines = [
  '| model | clean | FGSM (white-box) | PGD-40 (white-box) | Square (black-box, queries) | AutoAttack | FGSM from mnist-mlp | PGD from mnist-mlp | FGSM from mnist-cnn | PGD from mnist-cnn |',
  '|---|---|---|---|---|---|---|---|---|---|',
];
for (const { m, w, transfer, aa } of rows) {
  const t = (k) => (transfer[k] ? pct(transfer[k].accuracy) : '–');
  const worst = worstOf(w.pgdSquareImages, w.square);
  const sq = w.square
    ? `${pct(w.square.adversarial_accuracy)} (n = ${w.square.n}; PGD-40 on these: ${pct(w.pgdSquareImages?.adversarial_accuracy)}; worst of both per image: ${pct(worst?.adversarial_accuracy)})`
    : '–';
  lines.push(
    `| ${m} (η = ${w.fgsm.eta}) | ${pct(w.clean)} | ${pct(w.fgsm.adversarial_accuracy)} | ${pct(w.pgd?.adversarial_accuracy)} (n = ${w.pgd?.n}) | ${sq} | ${aa ? `**${pct(aa.accuracy)}** (n = ${aa.n})` : '–'} | ${t('mnist-mlp/fgsm')} | ${t('mnist-mlp/pgd')} | ${t('mnist-cnn/fgsm')} | ${t('mnist-cnn/pgd')} |`,
  );
  const pgdSame = w.pgdSquareImages ?? w.pgd;
  if (w.square && pgdSame && w.square.adversarial_accuracy < pgdSame.adversarial_accuracy)
    lines.push(`|  ↳ Square beats PGD on ${m} (same ${w.square.n} images: ${pct(w.square.adversarial_accuracy)} < ${pct(pgdSame.adversarial_accuracy)}) | | | | | | | | | |`);
}
fs.writeFileSync(path.join(res, 'table.md'), lines.join('\n') + '\n');
console.log(lines.join('\n'));

// Curves for the page: PGD-40 accuracy against η, per model.
const curves = {};
for (const m of ['mnist-cnn', 'mnist-cnn-adv', 'mnist-cnn-ens', 'mnist-cnn-fgsm']) {
  const pts = [];
  const c0 = read(`${m}.fgsm.json`);
  if (!c0) continue;
  for (const eta of ['0.05', '0.1', '0.15', '0.2', '0.25', '0.3', '0.35', '0.4']) {
    const j = read(`curve.${m}.${eta}.json`);
    if (j) pts.push({ eta: Number(eta), accuracy: j.adversarial_accuracy, clean: j.clean_accuracy });
  }
  if (pts.length) curves[m] = [{ eta: 0, accuracy: pts[0].clean }, ...pts.map(({ eta, accuracy }) => ({ eta, accuracy }))];
}
const out = {
  attack: 'pgd',
  steps: 40,
  n: read('curve.mnist-cnn.0.3.json')?.n ?? null,
  models: curves,
};
fs.writeFileSync(path.join(dir, 'robustness.json'), JSON.stringify(out, null, 1) + '\n');
