// Options every command shares (declared on the root program).
import type { Command } from 'commander';

export interface GlobalOptions {
  adapter?: string;
}

/** An optional positive-integer option: undefined when absent, a clear error when malformed. */
export function optionalPositiveInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < 1) throw new RangeError(`--${name}: expected a positive integer, got '${v}'`);
  return n;
}

/** --image-size help shared by the commands that run a checkpoint. */
export const IMAGE_SIZE_HELP = "input size (default: the checkpoint's training size, else 112)";

export function globalOptions(cmd: Command): GlobalOptions {
  let root = cmd;
  while (root.parent) root = root.parent;
  return root.opts<GlobalOptions>();
}
