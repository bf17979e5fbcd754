#!/usr/bin/env node
// Readability of each lesson's opening takeaway (issue 16: "a plain three-sentence takeaway a 14-year-old can
// follow"). English: Flesch reading ease, 206.835 − 1.015 · words/sentence − 84.6 · syllables/word. Dutch: the
// Flesch–Douma variant, 206.84 − 0.93 · words/sentence − 77 · syllables/word. On both scales 60 and above is
// "plain" (what readers of about 13–15 follow); the script exits 1 if a takeaway scores below MIN (default 60).
// Syllables are counted by rule (vowel groups, with each language's exceptions), not from a dictionary, so a
// score is good to a few points. Run: node scripts/readability.mjs [--json]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MIN = Number(process.env.MIN || 60);
const LESSONS = ['linear', 'blackbox', 'onepixel', 'curves'];

/** Sentences: split after . ! ? followed by a space or the end. */
export function sentences(text) {
  return text
    .split(/(?<=[.!?])\s+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Words: runs of letters (with inner apostrophes and hyphens); numbers such as "4 000" count as one word each. */
export function words(text) {
  return text.match(/[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu) || [];
}

/** English syllables by rule: vowel groups, minus a silent final e, plus -le after a consonant. */
export function syllablesEn(word) {
  let w = word.toLowerCase().replace(/['’]s$/, '').replace(/[^a-z]/g, '');
  if (!w) return 1; // a number or symbol: read as one unit
  if (w.length <= 3) return 1;
  let extra = 0;
  if (/[^aeiouy]le$/.test(w)) extra = 1; // simple, little
  // Silent final e, -es and -ed (makes, pushed), but not where they are sounded (images, pushes, wanted).
  w = w.replace(/(?:[^laeiouysxzcgh]es|[^laeiouytd]ed|[^laeiouy]e)$/, (m) => m[0]);
  w = w.replace(/^y/, '');
  const groups = (w.match(/[aeiouy]+/g) || []).length;
  // "tion", "ious" are one group already; "ia", "io" in "via", "ratio" are two (rare here).
  return Math.max(1, groups + extra - (extra && /le$/.test(w) ? 1 : 0));
}

/**
 * Dutch syllables by rule: vowel groups (aa, ee, oe, ie, eu, ui, ou, au, ei, ij, ooi, aai, eeu, ieu … are one
 * vowel each), a trema starts a new syllable (ideeën, geïnteresseerd), and a final -e is sounded (as in Dutch it is).
 */
export function syllablesNl(word) {
  let w = word.toLowerCase().replace(/[^a-zàáâäèéêëìíîïòóôöùúûü]/g, '');
  if (!w) return 1;
  w = w.replace(/ij/g, 'Y');
  // A trema marks a vowel that begins a new syllable: split the group before it.
  w = w.replace(/([aeiouyY])([ëïöüä])/g, '$1-$2');
  const groups = (w.match(/[aeiouyYàáâäèéêëìíîïòóôöùúûü]+/g) || []).length;
  return Math.max(1, groups);
}

/** { sentences, words, syllables, wps, spw, score } for one text in 'en' or 'nl'. */
export function readability(text, lang) {
  const s = sentences(text).length;
  const ws = words(text);
  const syl = ws.reduce((n, w) => n + (lang === 'nl' ? syllablesNl(w) : syllablesEn(w)), 0);
  const wps = ws.length / s;
  const spw = syl / ws.length;
  const score = lang === 'nl' ? 206.84 - 0.93 * wps - 77 * spw : 206.835 - 1.015 * wps - 84.6 * spw;
  return { sentences: s, words: ws.length, syllables: syl, wps, spw, score };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const tables = Object.fromEntries(['en', 'nl'].map((l) => [l, JSON.parse(fs.readFileSync(path.join(ROOT, `www/i18n/${l}.json`), 'utf8'))]));
  const rows = [];
  for (const name of LESSONS) {
    for (const lang of ['en', 'nl']) {
      const text = tables[lang][`lessons.${name}.takeaway`];
      if (!text) throw new Error(`no lessons.${name}.takeaway in ${lang}.json`);
      rows.push({ lesson: name, lang, ...readability(text, lang) });
    }
  }
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(rows, null, 2));
  } else {
    console.log(`\nLesson takeaways: Flesch reading ease (en), Flesch–Douma (nl); ≥ ${MIN} is plain:\n`);
    console.log('| lesson | lang | sentences | words/sentence | syllables/word | score | ≥ ' + MIN + ' |');
    console.log('|---|---|---|---|---|---|---|');
    for (const r of rows) {
      console.log(`| ${r.lesson} | ${r.lang} | ${r.sentences} | ${r.wps.toFixed(1)} | ${r.spw.toFixed(2)} | ${r.score.toFixed(0)} | ${r.score >= MIN ? 'yes' : 'NO'} |`);
    }
  }
  const low = rows.filter((r) => r.score < MIN);
  if (low.length) {
    console.error(`below ${MIN}: ${low.map((r) => `${r.lesson} (${r.lang}) ${r.score.toFixed(0)}`).join(', ')}`);
    process.exitCode = 1;
  }
}
