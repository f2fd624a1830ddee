import cliProgress from 'cli-progress';
import { log } from './output.js';

export interface ProgressDisplayOptions {
  /** Draw a bar (a terminal) or write log lines (CI, pipes, files); default: whether stderr is a terminal. */
  tty?: boolean;
  /** Where log lines go (default stderr). */
  write?: (line: string) => void;
  /** Milliseconds clock (default performance.now). */
  now?: () => number;
  /** Without a terminal, a line at least this often while updates arrive (ms; default one minute). */
  heartbeatMs?: number;
}

/** 42s, 3m07s, 2h05m. */
function fmtElapsed(ms: number): string {
  const s = Math.round(ms / 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  return `${Math.floor(s / 3600)}h${two(Math.floor(s / 60) % 60)}m`;
}

/**
 * One overall progress display on stderr: a bar on a terminal; elsewhere (CI, pipes) a log line,
 * with the time elapsed, whenever the part changes, another 10% is done, or a minute has passed
 * since the last line (a default-budget training can hold one part for an hour: the log must still
 * show that it moves).
 */
export function overallProgress(title: string, o: ProgressDisplayOptions = {}) {
  const tty = o.tty ?? process.stderr.isTTY;
  const write = o.write ?? log;
  const now = o.now ?? (() => performance.now());
  const heartbeat = o.heartbeatMs ?? 60_000;
  let bar: cliProgress.SingleBar | null = null;
  let lastPart = '';
  let nextLog = 0;
  let lastLine = -Infinity;
  const t0 = now();
  return {
    update(p: { part: string; fraction: number; detail: string }) {
      const pct = Math.round(p.fraction * 1000) / 10;
      if (tty) {
        if (!bar) {
          bar = new cliProgress.SingleBar(
            { stream: process.stderr, format: `${title} |{bar}| {percentage}% | {part}: {detail} | {elapsed}s`, hideCursor: true, clearOnComplete: false },
            cliProgress.Presets.shades_classic,
          );
          bar.start(100, 0, { part: p.part, detail: p.detail, elapsed: 0 });
        }
        bar.update(pct, { part: p.part, detail: p.detail.slice(0, 60), elapsed: Math.round((now() - t0) / 1000) });
        return;
      }
      const t = now();
      if (p.part !== lastPart || pct >= nextLog || t - lastLine >= heartbeat) {
        write(`${title} ${pct.toFixed(0).padStart(3)}% ${fmtElapsed(t - t0).padStart(6)} ${p.part}: ${p.detail}`);
        lastPart = p.part;
        nextLog = Math.floor(pct / 10) * 10 + 10;
        lastLine = t;
      }
    },
    stop() {
      bar?.stop();
    },
  };
}

export interface StepProgressOptions<P> extends ProgressDisplayOptions {
  /** cli-progress format of the bar: {bar}, {value}/{total}, and the payload's fields. */
  format: string;
  total: number;
  payload: (p: P) => Record<string, string | number>;
  /** The log line of a step (the elapsed time is put in front of it). */
  line: (p: P, payload: Record<string, string | number>) => string;
  /** Runs of at most this many steps log every step (default 0: every tenth of the steps). */
  everyStepUpTo?: number;
}

/**
 * A step counter's display on stderr: a bar on a terminal; elsewhere a log line, with the time
 * elapsed, every tenth of the steps (every step for short runs), at the last step, and at least once
 * a minute while steps arrive. A resumed run's bar starts at its first step.
 */
export function stepProgress<P extends { step: number }>(o: StepProgressOptions<P>) {
  const tty = o.tty ?? process.stderr.isTTY;
  const write = o.write ?? log;
  const now = o.now ?? (() => performance.now());
  const heartbeat = o.heartbeatMs ?? 60_000;
  const every = o.total <= (o.everyStepUpTo ?? 0) ? 1 : Math.max(1, Math.floor(o.total / 10));
  let bar: cliProgress.SingleBar | null = null;
  let nextLog = 0;
  let lastLine = -Infinity;
  const t0 = now();
  return {
    update(p: P) {
      const payload = o.payload(p);
      if (tty) {
        if (!bar) {
          bar = new cliProgress.SingleBar({ stream: process.stderr, format: o.format, hideCursor: true, etaBuffer: 50 }, cliProgress.Presets.shades_classic);
          bar.start(o.total, p.step - 1, payload);
        }
        bar.update(p.step, payload);
        return;
      }
      const t = now();
      if (p.step >= nextLog || p.step === o.total || t - lastLine >= heartbeat) {
        write(`${fmtElapsed(t - t0).padStart(6)} ${o.line(p, payload)}`);
        if (p.step >= nextLog) nextLog = p.step + every;
        lastLine = t;
      }
    },
    stop() {
      bar?.stop();
    },
  };
}
