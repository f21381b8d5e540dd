// The entry of the single binary (scripts/build-binary.ts bundles it with
// everything it imports into one CommonJS file). The binary is also the
// Node that `serve` starts to read cortex.yaml: the role variable says which.
import { CONFIG_READER_ROLE_ENV } from '../own-files.ts';

if (process.env[CONFIG_READER_ROLE_ENV] === 'config-reader') {
  delete process.env[CONFIG_READER_ROLE_ENV];
  void import('../config/load-isolated-child.ts');
} else {
  void import('../cli.ts');
}
