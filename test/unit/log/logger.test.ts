import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log/logger.js';
import { clearSecrets, redactSecrets, registerSecret } from '../../../src/log/secrets.js';

afterEach(() => clearSecrets());

function capture(level = 'trace', format: 'json' | 'pretty' = 'json') {
  const lines: string[] = [];
  const logger = createLogger({ level, format, write: (l) => lines.push(l) });
  return { logger, lines };
}

describe('redactSecrets', () => {
  it('removes registered secrets in raw, JSON-escaped and URL-encoded forms', () => {
    registerSecret('p"a ss');
    expect(redactSecrets('raw p"a ss json p\\"a ss url p%22a%20ss')).toBe('raw [REDACTED] json [REDACTED] url [REDACTED]');
  });

  it('removes passwords from connection URLs it was never told about', () => {
    expect(redactSecrets('connect mysql://repl:hunter2@db:3306 failed')).toBe('connect mysql://repl:[REDACTED]@db:3306 failed');
  });
});

describe('createLogger', () => {
  it('writes JSON lines with level labels and context', () => {
    const { logger, lines } = capture();
    logger.child({ file: 'mysql-bin.000001', position: 4 }).info('started');
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({ level: 'info', msg: 'started', file: 'mysql-bin.000001', position: 4 });
  });

  it('never writes a registered password, at any level or format, in messages or fields', () => {
    registerSecret('Sup3r-Secret');
    for (const format of ['json', 'pretty'] as const) {
      const { logger, lines } = capture('trace', format);
      logger.trace({ password: 'Sup3r-Secret' }, 'trace');
      logger.debug({ nested: { url: 'mysql://u:Sup3r-Secret@h' } }, 'debug');
      logger.error(new Error('Access denied (using password: Sup3r-Secret)'), 'failed');
      logger.info('message with Sup3r-Secret inside');
      expect(lines.length).toBe(4);
      expect(lines.join('')).not.toContain('Sup3r-Secret');
    }
  });

  it('censors fields named password even when not registered', () => {
    const { logger, lines } = capture();
    logger.info({ source: { password: 'unregistered' } }, 'x');
    expect(lines.join('')).not.toContain('unregistered');
  });

  it('respects the level', () => {
    const { logger, lines } = capture('warn');
    logger.info('hidden');
    logger.warn('shown');
    expect(lines).toHaveLength(1);
  });
});

describe('writeStderr', () => {
  it('writes every line whole through a full pipe to a slow reader (EAGAIN)', async () => {
    const { spawn } = await import('node:child_process');
    const logger = new URL('../../../src/log/logger.ts', import.meta.url).pathname;
    // 4 MiB of lines, far more than a pipe holds, while the reader is away; touching
    // process.stderr makes Node switch the pipe to non-blocking, as in the CLI.
    const script = `void process.stderr.isTTY; const { writeStderr } = await import(${JSON.stringify(logger)}); const line = 'x'.repeat(1023) + '\\n'; for (let i = 0; i < 4096; i++) writeStderr(line);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.pause();
    await new Promise((r) => setTimeout(r, 500));
    let bytes = 0;
    child.stderr.on('data', (chunk: Buffer) => (bytes += chunk.length));
    child.stderr.resume();
    const code = await new Promise((r) => child.on('close', r));
    expect(code).toBe(0);
    expect(bytes).toBe(4096 * 1024);
  });
});
