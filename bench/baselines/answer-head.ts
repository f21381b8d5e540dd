// The head the Node baselines answer with: what cortex-local sends a client
// without an Origin (no CORS headers), with a request id as long as its (a
// UUID), so that a ceiling writes as many header bytes as cortex-local does.
const REQUEST_ID = '6d1c7d52-8f2e-4c47-9a43-0d6a3e2b9f15';

export function answerHead(length: number): Record<string, string | number> {
  return { 'content-type': 'application/json', 'content-length': length, 'x-request-id': REQUEST_ID };
}
