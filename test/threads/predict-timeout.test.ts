// test/serve/predict-timeout.test.ts again, with the front door on two threads
// (serve --http-threads 2): 504s and abandoned clients cross the thread hop.
import { HTTP_THREADS_ENV } from '../helpers/server.ts';

process.env[HTTP_THREADS_ENV] = '2';
await import('../serve/predict-timeout.test.ts');
