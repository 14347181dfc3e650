import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The layers of the house, bottom to top: a file may import its own layer or any layer below.
// `cli/` and `bench/` both sit on top (bench shows progress with the command's bar).
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LAYER: Record<string, number> = { src: 0, sim: 1, properties: 2, cli: 3, bench: 3 };
const IMPORT = /(?:^|[^\w.])(?:import|export)\s*(?:type\s+)?(?:[^'"`;]*?\sfrom\s*)?\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(ts|mts|js|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts'))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));
}

/** Relative imports of one file, as repository paths (`src/bytes.js`), with the line they stand on. */
export function relativeImports(file: string, text: string): { target: string; line: number }[] {
  const found: { target: string; line: number }[] = [];
  for (const match of text.matchAll(IMPORT)) {
    const target = relative(ROOT, resolve(ROOT, dirname(file), match[1]!));
    found.push({ target, line: text.slice(0, match.index).split('\n').length });
  }
  return found;
}

function layerOf(path: string): number | undefined {
  return LAYER[path.split('/')[0]!];
}

/** Strongly connected components of more than one file (Tarjan), each as a sorted list. */
function importCycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const to of graph.get(node) ?? []) {
      if (!graph.has(to)) continue;
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node)!, index.get(to)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) cycles.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return cycles;
}

const files = Object.keys(LAYER).flatMap(sourceFiles);
const graph = new Map<string, string[]>();
for (const file of files) {
  const imports = relativeImports(file, readFileSync(join(ROOT, file), 'utf8'));
  graph.set(file, imports.map(({ target }) => target.replace(/\.js$/, '.ts')));
}

describe('layers', () => {
  it('reads the imports of every layer (the scan finds files and arrows)', () => {
    for (const layer of Object.keys(LAYER)) expect(files.some((f) => f.startsWith(`${layer}/`)), layer).toBe(true);
    expect(graph.get('src/merge_queue.ts')).toContain('src/bytes.ts');
  });

  it('no file imports from a layer above its own', () => {
    const upward: string[] = [];
    for (const file of files) {
      for (const { target, line } of relativeImports(file, readFileSync(join(ROOT, file), 'utf8'))) {
        const from = layerOf(file)!;
        const to = layerOf(target);
        if (to === undefined) {
          if (!target.startsWith('package.json')) upward.push(`${file}:${line} imports ${target}, outside the layers`);
        } else if (to > from) {
          upward.push(`${file}:${line} imports ${target}, a layer above`);
        }
      }
    }
    expect(upward).toEqual([]);
  });

  it('has no import cycles', () => {
    expect(importCycles(graph)).toEqual([]);
  });

  it('the checks see an upward import and a cycle when there is one', () => {
    const planted = relativeImports('src/bytes.ts', "import { x } from '../sim/run.js';\nimport type { Y } from './merge_queue.js';");
    expect(planted.map((p) => p.target)).toEqual(['sim/run.js', 'src/merge_queue.js']);
    expect(layerOf(planted[0]!.target)! > layerOf('src/bytes.ts')!).toBe(true);
    const loop = new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts']], ['d.ts', ['a.ts']]]);
    expect(importCycles(loop)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });
});
