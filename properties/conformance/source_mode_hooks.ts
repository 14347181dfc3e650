import { PROCESS_HOST_DATA_ENV } from './worker_protocol.js';

/**
 * Module hooks for a worker started from the TypeScript sources (under vitest): Node 20 cannot
 * import `.ts`, so these transpile it with the project's own `typescript`, map `./x.js` imports
 * to `./x.ts` when only the source exists, and resolve `spillsim` to the source entry, as the
 * vitest alias does. From the build (dist/) none of this is used.
 *
 * Kept as source text because the hooks run on Node's loader thread, which loads them by URL
 * and cannot import TypeScript itself.
 */
const HOOKS_SOURCE = `
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
let ts;
let rootUrl;
let aliases = {};
let cacheDir;
export function initialize(data) {
  rootUrl = data.rootUrl;
  aliases = data.aliases;
  cacheDir = join(tmpdir(), 'spillsim-ts-cache');
  mkdirSync(cacheDir, { recursive: true });
}
function transpile(url, source) {
  // Loading typescript costs about a second, so transpiled files are cached by content hash.
  const key = createHash('sha256').update(url).update('\0').update(source).digest('hex').slice(0, 32);
  const cached = join(cacheDir, key + '.js');
  try {
    return readFileSync(cached, 'utf8');
  } catch {}
  ts ??= createRequire(rootUrl + 'package.json')('typescript');
  const output = ts.transpileModule(source, {
    fileName: url,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false },
  }).outputText;
  // Workers of one process transpile side by side: each writes its own temporary, then renames.
  const temporary = cached + '.' + process.pid + '.' + Math.random().toString(36).slice(2) + '.tmp';
  try {
    writeFileSync(temporary, output);
    renameSync(temporary, cached);
  } catch {
    // A cache that cannot be written only costs speed.
  }
  return output;
}
export async function resolve(specifier, context, next) {
  if (Object.hasOwn(aliases, specifier)) return { url: aliases[specifier], shortCircuit: true };
  try {
    return await next(specifier, context);
  } catch (error) {
    const fromTs = context.parentURL !== undefined && context.parentURL.endsWith('.ts');
    if (fromTs && specifier.endsWith('.js')) return next(specifier.slice(0, -3) + '.ts', context);
    throw error;
  }
}
export async function load(url, context, next) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return next(url, context);
  return { format: 'module', source: transpile(url, readFileSync(new URL(url), 'utf8')), shortCircuit: true };
}
`;

export const SOURCE_MODE_HOOKS_URL = `data:text/javascript,${encodeURIComponent(HOOKS_SOURCE)}`;

/** The worker's first script: register the hooks, then import the real entry. */
export const SOURCE_MODE_BOOTSTRAP = `
const { register } = require('node:module');
const { workerData } = require('node:worker_threads');
register(workerData.hooksUrl, { data: workerData.hooksData });
import(workerData.entryUrl).catch((error) => {
  process.stderr.write('spillsim: conformance worker failed to start: ' + (error && error.message) + '\\n');
  process.exit(70);
});
`;

/**
 * The same for a child process host (`--import` before its entry): the hooks and their data come
 * with its job, in the environment variable the isolated runner sets.
 */
const REGISTER_SOURCE = `
import { register } from 'node:module';
const data = JSON.parse(process.env.${PROCESS_HOST_DATA_ENV});
register(data.hooksUrl, { data: data.hooksData });
`;

export const SOURCE_MODE_REGISTER_URL = `data:text/javascript,${encodeURIComponent(REGISTER_SOURCE)}`;
