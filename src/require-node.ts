// Imported first by cli.ts, so it runs before any module that needs a newer
// Node (ES modules evaluate their imports in order). Keep its syntax plain:
// an old Node must parse it to print the line instead of a stack trace.
import { nodeTooOld } from './node-version.ts';

const problem = nodeTooOld(process.versions.node, process.execPath);
if (problem !== null) {
  process.stderr.write(`${problem}\n`);
  process.exit(2);
}
