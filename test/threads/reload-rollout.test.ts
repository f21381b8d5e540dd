// test/reload/rollout.test.ts again, with the front door on two threads (serve --http-threads 2).
import { HTTP_THREADS_ENV } from '../helpers/server.ts';

process.env[HTTP_THREADS_ENV] = '2';
await import('../reload/rollout.test.ts');
