// Options every command shares (declared on the root program).
import type { Command } from 'commander';

export interface GlobalOptions {
  adapter?: string;
}

export function globalOptions(cmd: Command): GlobalOptions {
  let root = cmd;
  while (root.parent) root = root.parent;
  return root.opts<GlobalOptions>();
}
