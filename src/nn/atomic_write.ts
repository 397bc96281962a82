// Atomic file replacement: a reader sees either the old file or the complete new one, never a
// half-written checkpoint, even if the process dies or the machine loses power mid-write.
//
// Recipe: write to a temporary file in the *same directory* (rename is only atomic within one
// file system), fsync it (so the data is on disk before the name points at it), rename it over
// the target, then fsync the directory (so the rename itself survives a crash). On any failure
// the temporary file is removed and the target is left untouched.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

/** The temporary name used next to `target`; hidden, unique per process and call. */
function tempPathFor(target: string): string {
  const dir = path.dirname(target);
  const base = path.basename(target);
  return path.join(dir, `.${base}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
}

/** Errors that mean "this platform/file system cannot fsync a directory"; harmless to ignore. */
function isDirFsyncUnsupported(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EISDIR' || code === 'EINVAL' || code === 'EPERM' || code === 'EACCES' || code === 'ENOTSUP';
}

async function fsyncDir(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch (err) {
    if (!isDirFsyncUnsupported(err)) throw err;
  } finally {
    await handle?.close();
  }
}

function fsyncDirSync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch (err) {
    if (!isDirFsyncUnsupported(err)) throw err;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Replace `target` atomically with `data` (temp file in the same directory + fsync + rename +
 * directory fsync). The parent directory must exist.
 */
export async function writeFileAtomic(target: string, data: Uint8Array): Promise<void> {
  const tmp = tempPathFor(target);
  let handle: fsp.FileHandle | undefined;
  try {
    // 'wx': fail rather than clobber if the random name somehow exists.
    handle = await fsp.open(tmp, 'wx', 0o666);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(tmp, target);
  } catch (err) {
    if (handle) await handle.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await fsyncDir(path.dirname(target));
}

/** Synchronous twin of {@link writeFileAtomic}, for exit handlers and simple scripts. */
export function writeFileAtomicSync(target: string, data: Uint8Array): void {
  const tmp = tempPathFor(target);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx', 0o666);
    let off = 0;
    // writeSync may write less than asked for large buffers; loop until everything is out.
    while (off < data.byteLength) off += fs.writeSync(fd, data, off, data.byteLength - off);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, target);
  } catch (err) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        /* already failing; keep the original error */
      }
    }
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDirSync(path.dirname(target));
}

/** `value` as indented JSON with a final newline, written atomically. */
export function writeJsonAtomicSync(target: string, value: unknown): void {
  writeFileAtomicSync(target, new TextEncoder().encode(JSON.stringify(value, null, 2) + '\n'));
}
