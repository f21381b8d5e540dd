// test/reload/apis.test.ts again, with the front door on two threads (serve --http-threads 2):
// the routing table swapped on every thread, admin requests carried to the main thread.
import { HTTP_THREADS_ENV } from '../helpers/server.ts';

process.env[HTTP_THREADS_ENV] = '2';
await import('../reload/apis.test.ts');
