import { describe, expect, it, vi } from 'vitest';
import { main } from '../cli/main.js';

/** The CLI in-process, from the TypeScript source, as the library's own callers would run it. */
describe('main (in-process)', () => {
  it('prints the package version', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await main(['node', 'spillsim', '--version'])).toBe(0);
      expect(out.mock.calls.map((c) => String(c[0])).join('')).toMatch(/^\d+\.\d+\.\d+\n$/);
    } finally {
      out.mockRestore();
    }
  });

  it('turns a mistyped command into exit 2 with a suggestion, not a stack trace', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['node', 'spillsim', 'simm'])).toBe(2);
      const text = err.mock.calls.map((c) => String(c[0])).join('');
      expect(text).toMatch(/Did you mean sim\?/);
      expect(text).not.toMatch(/\n\s+at /);
    } finally {
      err.mockRestore();
    }
  });
});
