import cliProgress from 'cli-progress';
import { log } from './output.js';

/**
 * One overall progress display on stderr: a bar on a terminal; elsewhere (CI, pipes) a log line
 * whenever the part changes or another 10% is done.
 */
export function overallProgress(title: string) {
  const tty = process.stderr.isTTY;
  let bar: cliProgress.SingleBar | null = null;
  let lastPart = '';
  let nextLog = 0;
  const t0 = performance.now();
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
        bar.update(pct, { part: p.part, detail: p.detail.slice(0, 60), elapsed: Math.round((performance.now() - t0) / 1000) });
      } else if (p.part !== lastPart || pct >= nextLog) {
        log(`${title} ${pct.toFixed(0).padStart(3)}% ${p.part}: ${p.detail}`);
        lastPart = p.part;
        nextLog = Math.floor(pct / 10) * 10 + 10;
      }
    },
    stop() {
      bar?.stop();
    },
  };
}
