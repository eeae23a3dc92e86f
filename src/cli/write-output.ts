import { writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { OutputError } from '../core/errors.ts';
import { makeDirectory } from '../workspace/make-directory.ts';

/**
 * Write the files a command was asked for (its `--out`), creating their
 * folder; a place that cannot hold them is an OutputError naming the path,
 * the system's reason and the option to change, never a stack trace.
 *
 * @example
 * writeOutputFiles([{ path: '/tmp/report.html', content: html }], '--out');
 */
export function writeOutputFiles(files: readonly { path: string; content: string }[], option: string): void {
  for (const file of files) {
    try {
      makeDirectory(dirname(file.path));
      writeFileSync(file.path, file.content);
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'error';
      throw new OutputError(`cannot write ${file.path} (${reason}: ${(error as Error).message.replace(/^\w+: /, '')}): choose a folder you can write to with ${option}`, {
        cause: error,
        details: { path: file.path, code: reason },
      });
    }
  }
}
