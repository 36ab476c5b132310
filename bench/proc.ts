// What the bench reads of processes from /proc (Linux): CPU used so far.
import { readFileSync } from 'node:fs';

/** CPU seconds (user + system, all threads) a process has used so far; NaN when it is gone or unknown. */
export function cpuSeconds(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    // Fields after the command name: utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Idle CPU seconds of the whole machine so far (all cores), from /proc/stat. */
export function machineIdleSeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  return (Number(fields[4]) + Number(fields[5])) / 100;
}
