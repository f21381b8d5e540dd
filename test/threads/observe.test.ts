// test/serve/observe.test.ts again, with the front door on two threads (serve --http-threads 2):
// refusals counted on the threads, status and logs asked across them.
import { HTTP_THREADS_ENV } from '../helpers/server.ts';

process.env[HTTP_THREADS_ENV] = '2';
await import('../serve/observe.test.ts');
