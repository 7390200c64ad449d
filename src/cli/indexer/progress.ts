import cliProgress from 'cli-progress';
import type { ProgressSink } from './run-index.js';
import type { IndexTotals } from './report.js';

/**
 * A progress bar on stderr (stdout stays for the summary and --json). Rate is photos per second
 * in this run; the ETA is cli-progress's, from the recent rate. Off when stderr is not a terminal.
 */
export function progressBar(enabled: boolean): ProgressSink {
  if (!enabled) return { start() {}, update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: ' {bar} {percentage}% | {value}/{total} photos | {rate}/s | ETA {eta_formatted} | {added} added, {noFace} no face, {errors} errors',
      etaBuffer: 30,
      hideCursor: true,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let startedAt = 0;
  let startValue = 0;
  return {
    start(total, alreadyDone) {
      startedAt = performance.now();
      startValue = alreadyDone;
      bar.start(total, alreadyDone, { rate: '-', added: 0, noFace: 0, errors: 0 });
    },
    update(done, t: IndexTotals) {
      const seconds = (performance.now() - startedAt) / 1000;
      bar.update(done, { rate: seconds > 0 ? ((done - startValue) / seconds).toFixed(1) : '-', added: t.added, noFace: t.noFace, errors: t.errors });
    },
    stop() {
      bar.stop();
    },
  };
}
