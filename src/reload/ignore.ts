// Which files of a project are not part of an API's code: what `serve
// --watch` does not react to and what an API's version does not hash. As
// Cortex 0.15 left hidden files and folders and *.pyc out of the project it
// uploaded; also __pycache__, cortex-local's own .cortex-local/ (hidden), and
// the files editors write beside the one being saved.

/** Editors' swap, backup and atomic-save files, by base name. */
const EDITOR_FILES = [
  /~$/, // vim, emacs and gedit backups: predictor.py~
  /^#.*#$/, // emacs auto-save: #predictor.py#
  /^4913$/, // vim's probe that the folder is writable
  /\.sw[a-p]$/, // vim swap files, when not hidden
  /___jb_(tmp|old)___$/, // JetBrains safe write
  /\.(tmp|temp|bak|orig)$/i,
  /^sed[A-Za-z0-9]{6}$/, // sed -i's temporary file
];

/** `rel`: a path relative to the project folder, '/'-separated or not. */
export function isIgnoredPath(rel: string): boolean {
  const parts = rel.split(/[\\/]/).filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p.startsWith('.') || p === '__pycache__')) return true;
  const base = parts.at(-1);
  if (base === undefined) return false;
  return base.endsWith('.pyc') || EDITOR_FILES.some((re) => re.test(base));
}
