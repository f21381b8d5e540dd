"""Turns `predictor.model` into a local path the framework can open.

A local file or folder is used where it is (the config layer resolved it). An
`s3://bucket/key` is downloaded once into `<project>/.cortex-local/models/<hash>/`
and reused on later starts while S3 still lists the same objects (same ETags
and sizes); a zipped SavedModel, local or downloaded, is extracted there.

Several workers and replicas start at once: one fetches under an exclusive
file lock while the others wait, then find the copy complete. A copy is
built in `<hash>.partial/` and renamed into place, so a reader never sees half
of one; a download cut short (the worker killed by --init-timeout, say)
resumes from where it stopped on the next start.
"""
import contextlib
import datetime
import fcntl
import hashlib
import http.client
import json
import os
import re
import shutil
import sys
import time
import zipfile

from . import aws_config
from .s3_client import S3Client, S3Error, parse_s3_uri

MANIFEST = ".cortex-local-model.json"
_PARTIAL_STATE = ".cortex-local-partial.json"
_CHUNK = 1 << 20
# Downloads from this size on print a line at every tenth.
PROGRESS_FROM_BYTES = 8 * 1024 * 1024
_PLAIN_MD5 = re.compile(r"^[0-9a-f]{32}$")


class ModelSourceError(Exception):
    pass


def log(message):
    sys.stderr.write("cortex-local: %s\n" % message)
    sys.stderr.flush()


def local_model(model, predictor_type, models_dir, environ=os.environ, log=log):
    if model.startswith("s3://"):
        return _S3Model(model, predictor_type, models_dir, environ, log).fetch()
    if predictor_type == "tensorflow" and os.path.isfile(model) and model.endswith(".zip"):
        return _local_zip(model, models_dir, log)
    return model


# --- SavedModel layout (as Cortex's isValidTensorFlowS3Directory and TF Serving's versions) ---


def _is_saved_model(names, prefix=""):
    return (
        prefix + "saved_model.pb" in names
        and prefix + "variables/variables.index" in names
        and any(n.startswith(prefix + "variables/variables.data-00000-of") for n in names)
    )


def saved_model_prefix(names):
    """Of a set of relative file names, the prefix ('' or 'N/') of the
    SavedModel they hold: the top, else the highest valid integer-named
    version folder. None when there is none."""
    if _is_saved_model(names):
        return ""
    versions = {n.split("/", 1)[0] for n in names if "/" in n and n.split("/", 1)[0].isdigit()}
    for version in sorted(versions, key=int, reverse=True):
        if _is_saved_model(names, version + "/"):
            return version + "/"
    return None


def _files_under(folder):
    names = set()
    for dirpath, _, filenames in os.walk(folder):
        for name in filenames:
            names.add(os.path.relpath(os.path.join(dirpath, name), folder).replace(os.sep, "/"))
    return names


def find_saved_model(folder):
    """The SavedModel in an extracted zip: at its top, in a version folder, or
    the same inside its only top-level folder (`zip -r m.zip export/`)."""
    prefix = saved_model_prefix(_files_under(folder))
    if prefix is not None:
        return os.path.join(folder, prefix)
    entries = [e for e in os.listdir(folder) if not e.startswith(".cortex-local")]
    if len(entries) == 1 and os.path.isdir(os.path.join(folder, entries[0])):
        inner = os.path.join(folder, entries[0])
        prefix = saved_model_prefix(_files_under(inner))
        if prefix is not None:
            return os.path.join(inner, prefix)
    return None


# --- the cache folder ---


@contextlib.contextmanager
def _locked(path, what, log):
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log("waiting for another worker that is fetching %s" % what)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _prepare_models_dir(models_dir):
    os.makedirs(models_dir, exist_ok=True)
    # Downloaded models are large and belong to no one's sources.
    ignore = os.path.join(os.path.dirname(models_dir), ".gitignore")
    if not os.path.exists(ignore):
        with open(ignore, "w") as f:
            f.write("# made by cortex-local: its caches and working folders\n*\n")


def _read_manifest(folder):
    try:
        with open(os.path.join(folder, MANIFEST)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _commit(partial, folder, manifest):
    with open(os.path.join(partial, MANIFEST), "w") as f:
        json.dump(manifest, f, indent=2)
    if os.path.exists(folder):
        stale = "%s.old-%d" % (folder, os.getpid())
        os.rename(folder, stale)
        os.rename(partial, folder)
        shutil.rmtree(stale, ignore_errors=True)
    else:
        os.rename(partial, folder)


def _digest(*parts):
    return hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()[:16]


def _now_iso():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


def _extract_saved_model(zip_path, into, source):
    try:
        with zipfile.ZipFile(zip_path) as z:
            z.extractall(into)
    except (zipfile.BadZipFile, OSError) as e:
        raise ModelSourceError("cannot extract %s: %s" % (source, e)) from None
    found = find_saved_model(into)
    if found is None:
        raise ModelSourceError(
            "%s holds no TensorFlow SavedModel: expected saved_model.pb and variables/ at its top, "
            "in a numbered version folder, or in its one top folder" % source
        )
    return os.path.relpath(found, into)


def _local_zip(path, models_dir, log):
    st = os.stat(path)
    _prepare_models_dir(models_dir)
    digest = _digest("zip", os.path.abspath(path), st.st_size, st.st_mtime_ns)
    folder = os.path.join(models_dir, digest)
    with _locked(folder + ".lock", path, log):
        manifest = _read_manifest(folder)
        if manifest is None:
            partial = folder + ".partial"
            shutil.rmtree(partial, ignore_errors=True)
            os.makedirs(partial)
            log("extracting %s into %s" % (path, folder))
            inner = _extract_saved_model(path, partial, path)
            manifest = {"source": os.path.abspath(path), "path": inner, "created": _now_iso()}
            _commit(partial, folder, manifest)
    return os.path.normpath(os.path.join(folder, manifest["path"]))


# --- S3 ---


def _mb(n):
    if n < 1000:
        return "%d bytes" % n
    if n < 1e6:
        return "%.1f kB" % (n / 1e3)
    return "%.1f MB" % (n / 1e6)


class _Progress:
    def __init__(self, what, total, log):
        self._what = what
        self._total = total
        self._log = log
        self._done = 0
        self._tenth = 0
        self._started = time.monotonic()

    def add(self, n):
        self._done += n
        if self._total < PROGRESS_FROM_BYTES:
            return
        tenth = self._done * 10 // self._total
        if tenth > self._tenth:
            self._tenth = tenth
            elapsed = max(time.monotonic() - self._started, 1e-6)
            self._log(
                "downloading %s: %d%% (%s of %s, %.1f MB/s)"
                % (self._what, tenth * 10, _mb(self._done), _mb(self._total), self._done / elapsed / 1e6)
            )


class _S3Model:
    def __init__(self, uri, predictor_type, models_dir, environ, log):
        self.uri = uri
        self.type = predictor_type
        self.models_dir = models_dir
        self.log = log
        self.bucket, self.key = parse_s3_uri(uri)
        try:
            settings = aws_config.resolve(environ)
        except aws_config.AwsConfigError as e:
            raise ModelSourceError("cannot download %s: %s" % (uri, e)) from None
        self.client = S3Client(settings)
        self.folder = os.path.join(models_dir, _digest("s3", settings.endpoint or "aws", self.bucket, self.key, predictor_type))

    def fetch(self):
        _prepare_models_dir(self.models_dir)
        with _locked(self.folder + ".lock", self.uri, self.log):
            cached = _read_manifest(self.folder)
            try:
                objects, kind, root = self._plan()
            except S3Error as e:
                if cached is not None and self._intact(cached):
                    self.log(
                        "cannot check %s for changes (%s); using the copy downloaded %s in %s"
                        % (self.uri, e, cached["created"], self.folder)
                    )
                    return self._path(cached)
                raise ModelSourceError("cannot download the model: %s" % e) from None
            listed = [list(o) for o in objects]
            if cached is not None and cached.get("objects") == listed and self._intact(cached):
                self.log("using the copy of %s in %s (unchanged on S3)" % (self.uri, self.folder))
                return self._path(cached)
            try:
                manifest = self._download(objects, kind, root)
            except S3Error as e:
                raise ModelSourceError("cannot download the model: %s" % e) from None
            manifest["objects"] = listed
            _commit(self.folder + ".partial", self.folder, manifest)
            return self._path(manifest)

    def _path(self, manifest):
        return os.path.normpath(os.path.join(self.folder, manifest["path"]))

    def _intact(self, manifest):
        if manifest.get("kind") == "zip":
            return os.path.isfile(os.path.join(self._path(manifest), "saved_model.pb"))
        for key, size, _ in manifest.get("objects", []):
            local = os.path.join(self.folder, key[len(manifest["root"]) :])
            if not os.path.isfile(local) or os.path.getsize(local) != size:
                return False
        return True

    def _plan(self):
        """(objects to download, kind, key prefix stripped to name them locally)."""
        if self.type == "onnx" or self.key.endswith(".zip"):
            info = self.client.head_object(self.bucket, self.key)
            kind = "zip" if self.type == "tensorflow" else "file"
            return [info], kind, self.key.rsplit("/", 1)[0] + "/" if "/" in self.key else ""
        prefix = self.key.rstrip("/") + "/"
        listed = [o for o in self.client.list_objects(self.bucket, prefix) if not o.key.endswith("/")]
        version = saved_model_prefix({o.key[len(prefix) :] for o in listed})
        if version is None:
            found = ", ".join(o.key for o in listed[:5]) + (", …" if len(listed) > 5 else "")
            raise ModelSourceError(
                "s3://%s/%s is not a TensorFlow SavedModel: expected saved_model.pb and variables/ under it, "
                "or under a numbered version folder (found %s)" % (self.bucket, prefix, found or "no objects")
            )
        root = prefix + version
        return [o for o in listed if o.key.startswith(root)], "folder", root

    def _download(self, objects, kind, root):
        partial = self.folder + ".partial"
        os.makedirs(partial, exist_ok=True)
        state_path = os.path.join(partial, _PARTIAL_STATE)
        try:
            with open(state_path) as f:
                state = json.load(f)
        except (OSError, ValueError):
            state = {}
        if set(state) - {o.key for o in objects}:
            # Left from a download of other objects (S3 changed since): start afresh.
            shutil.rmtree(partial)
            os.makedirs(partial)
            state = {}
        total = sum(o.size for o in objects)
        what = self.uri if len(objects) == 1 else "%s (%d files)" % (self.uri, len(objects))
        self.log("downloading %s, %s, from %s into %s" % (what, _mb(total), self.client.describe(), self.folder))
        started = time.monotonic()
        progress = _Progress(self.uri, total, self.log)
        for obj in objects:
            dest = os.path.join(partial, obj.key[len(root) :])
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            if state.get(obj.key) != obj.etag and os.path.exists(dest):
                os.remove(dest)
            state[obj.key] = obj.etag
            with open(state_path, "w") as f:
                json.dump(state, f)
            self._download_one(obj, dest, progress)
        self.log("downloaded %s in %.1fs" % (what, time.monotonic() - started))
        manifest = {"source": self.uri, "kind": kind, "root": root, "created": _now_iso()}
        if kind == "zip":
            archive = os.path.join(partial, objects[0].key[len(root) :])
            manifest["path"] = _extract_saved_model(archive, partial, self.uri)
            os.remove(archive)
        elif kind == "file":
            manifest["path"] = objects[0].key[len(root) :]
        else:
            manifest["path"] = ""
        os.remove(state_path)
        return manifest

    def _download_one(self, obj, dest, progress):
        have = os.path.getsize(dest) if os.path.exists(dest) else 0
        if have > obj.size:
            os.remove(dest)
            have = 0
        progress.add(have)
        if have < obj.size:
            response = (
                self.client.open_object(self.bucket, obj.key, byte_range="bytes=%d-" % have, etag=obj.etag)
                if have
                else self.client.open_object(self.bucket, obj.key)
            )
            try:
                with response, open(dest, "ab") as out:
                    while True:
                        chunk = response.read(_CHUNK)
                        if not chunk:
                            break
                        out.write(chunk)
                        progress.add(len(chunk))
            except (http.client.HTTPException, OSError) as e:
                raise self._stopped(obj, dest, "%s: %s" % (type(e).__name__, e)) from None
        size = os.path.getsize(dest)
        if size < obj.size:
            raise self._stopped(obj, dest, "the connection closed early")
        problem = None
        if size > obj.size:
            problem = "%d bytes arrived, S3 listed %d" % (size, obj.size)
        elif _PLAIN_MD5.match(obj.etag) and _md5(dest) != obj.etag:
            problem = "its MD5 differs from the ETag S3 gave (%s)" % obj.etag
        if problem is not None:
            os.remove(dest)
            raise ModelSourceError(
                "the download of s3://%s/%s is corrupt: %s; it will be fetched again on the next start" % (self.bucket, obj.key, problem)
            )

    def _stopped(self, obj, dest, why):
        return ModelSourceError(
            "the download of s3://%s/%s stopped after %s of %s (%s); it resumes from there on the next start"
            % (self.bucket, obj.key, _mb(os.path.getsize(dest)), _mb(obj.size), why)
        )


def _md5(path):
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()
