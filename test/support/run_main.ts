import { vi } from 'vitest';
import { main } from '../../cli/main.js';

export interface MainRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The command as a user runs it, in process: `main` with stdout and stderr captured. */
export async function runMain(args: string[]): Promise<MainRun> {
  let stdout = '';
  let stderr = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  try {
    const code = await main(['node', 'spillsim', ...args]);
    return { code, stdout, stderr };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}
