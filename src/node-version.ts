// The oldest Node.js cortex-local runs on, and the line it prints below it.
// undici 8 (the HTTP client of `get`) needs 22.19; the front door's
// `reusePort` (serve --http-threads) needs 22.12. On Node 20, `get` died
// inside undici and --http-threads reported a false "address already in use".

export const NODE_FLOOR = '22.19.0';

/** Why this Node cannot run cortex-local, as one line; null when it can. */
export function nodeTooOld(version: string, execPath: string): string | null {
  if (compareVersions(version, NODE_FLOOR) >= 0) return null;
  return (
    `cortex-local needs Node.js ${NODE_FLOOR} or newer (22 LTS or 24 LTS); this is Node.js ${version} (${execPath}). ` +
    'Install Node.js 24 LTS (https://nodejs.org, or `nvm install 24`), or use the single binary cortex-local-linux-x64, which carries its own Node.js'
  );
}

/** Orders dotted versions ("22.9.1" < "22.19.0"); a leading "v" is ignored. */
export function compareVersions(a: string, b: string): number {
  const pa = a.replace(/^v/, '').split('.').map((n) => parseInt(n, 10) || 0);
  const pb = b.replace(/^v/, '').split('.').map((n) => parseInt(n, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
