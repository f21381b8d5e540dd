// Whether a process id names a live process, for lock and folder owners left
// behind by a server that died.

/** EPERM: it exists, under another user. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
