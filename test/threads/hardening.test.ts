// test/serve/front-door.test.ts again, with the front door on two threads (serve --http-threads 2):
// the body cap and the refusal summaries go through shared memory there.
import { HTTP_THREADS_ENV } from '../helpers/server.ts';

process.env[HTTP_THREADS_ENV] = '2';
await import('../serve/front-door.test.ts');
