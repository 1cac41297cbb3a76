/**
 * Runs `reflex start <services>` as a real child process (the same bin a user runs), for tests
 * that need separate processes: several services sharing one NATS, or a process to kill.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../services/launcher/bin/reflex.js', import.meta.url));

export interface ReflexProcess {
  child: ChildProcess;
  /** Everything it logged so far (pino JSON lines). */
  output(): string;
  waitForLog(fragment: string, timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function startReflex(services: string[], env: Record<string, string>): ReflexProcess {
  const child = spawn(process.execPath, [BIN, 'start', ...services], {
    env: { ...process.env, REFLEX_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => out,
    waitForLog: async (fragment, timeoutMs = 20_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!out.includes(fragment)) {
        if (child.exitCode !== null) throw new Error(`reflex ${services.join(' ')} exited (${child.exitCode}) before '${fragment}':\n${out}`);
        if (Date.now() > deadline) throw new Error(`reflex ${services.join(' ')} did not log '${fragment}':\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    kill: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        await exited;
      }
    },
  };
}
