// Progress output: a live bar on a terminal, one plain line per epoch otherwise (CI logs).
import cliProgress from 'cli-progress';

export interface Progress {
  start(label: string, total: number): void;
  update(done: number, fields?: Record<string, string>): void;
  stop(): void;
  line(msg: string): void;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  const tty = !!stream.isTTY && !process.env.CI;
  let bar: cliProgress.SingleBar | null = null;
  return {
    start(label, total) {
      if (!tty) return;
      bar = new cliProgress.SingleBar(
        {
          stream,
          format: `${label} [{bar}] {value}/{total} {fields} ETA {eta_formatted}`,
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 20,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0, { fields: '' });
    },
    update(done, fields = {}) {
      bar?.update(done, { fields: Object.entries(fields).map(([k, v]) => `${k} ${v}`).join('  ') });
    },
    stop() {
      bar?.stop();
      bar = null;
    },
    line(msg) {
      if (bar) {
        bar.stop();
        bar = null;
      }
      stream.write(msg + '\n');
    },
  };
}
