"""Imports the user's predictor file and builds the predictor, the way Cortex 0.15 did,
and says why when it cannot: one line naming the file, the line and the fix, then
the traceback of the user's code (none of this runtime's frames)."""
import importlib.util
import inspect
import os
import sys
import traceback

CLASS_NAMES = {"python": "PythonPredictor", "tensorflow": "TensorFlowPredictor", "onnx": "ONNXPredictor"}

# Cortex 0.15 (lib/type/predictor.py, *_CLASS_VALIDATION) required these
# argument lists exactly, names included, and refused the API at start otherwise.
SIGNATURES = {
    "python": {"__init__": ["self", "config"], "predict": ["self", "payload"]},
    "tensorflow": {"__init__": ["self", "tensorflow_client", "config"], "predict": ["self", "payload"]},
    "onnx": {"__init__": ["self", "onnx_client", "config"], "predict": ["self", "payload"]},
}

_RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__))


class PredictorLoadError(Exception):
    """Why the predictor could not be built: `summary`, one line naming the
    file:line and the fix, and `details`, the user's traceback ('' when
    the summary says it all)."""

    def __init__(self, summary, details=""):
        super().__init__(summary)
        self.summary = summary
        self.details = details


_project_dir = None


def set_project_dir(path):
    """The folder that file names in reports are shown relative to. The
    worker runs in its replica's own folder, not in the project's."""
    global _project_dir
    _project_dir = os.path.abspath(path)


def _project():
    return _project_dir or os.getcwd()


def add_python_path(python_path):
    if python_path not in sys.path:
        sys.path.insert(0, python_path)


def load_predictor(predictor_type, path, config, client=None):
    """`client`: the onnx_client or tensorflow_client the predictor of those types is built with."""
    class_name = CLASS_NAMES[predictor_type]
    module = _import(path)
    cls = find_class(module, class_name, path)
    check_signatures(cls, class_name, SIGNATURES[predictor_type], path)
    try:
        return cls(config) if predictor_type == "python" else cls(client, config)
    except BaseException as e:
        raise _failure(e, "in %s.__init__" % class_name) from None


def _import(path):
    spec = importlib.util.spec_from_file_location("predictor", path)
    if spec is None or spec.loader is None:
        raise PredictorLoadError("%s: cannot be imported as a Python module (predictor.path must name a .py file)" % _shown(path))
    module = importlib.util.module_from_spec(spec)
    sys.modules["predictor"] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as e:
        raise _failure(e, "while importing %s" % _shown(path)) from None
    return module


def find_class(module, class_name, path):
    found = getattr(module, class_name, None)
    if found is not None and inspect.isclass(found):
        return found
    own = sorted(
        (_line_of(c) or 0, name)
        for name, c in vars(module).items()
        if inspect.isclass(c) and getattr(c, "__module__", None) == module.__name__
    )
    if found is not None:
        raise PredictorLoadError(
            "%s: %s is not a class (it is a %s): define class %s"
            % (_where(path, _line_of(found)), class_name, type(found).__name__, class_name)
        )
    if own:
        names = ", ".join(name for _, name in own)
        raise PredictorLoadError(
            "%s: class %s not found (found: %s): the class must be named %s"
            % (_where(path, own[0][0]), class_name, names, class_name)
        )
    raise PredictorLoadError("%s: class %s not found (the file defines no class)" % (_shown(path), class_name))


def check_signatures(cls, class_name, required, path):
    for fn_name, args in required.items():
        fn = getattr(cls, fn_name, None)
        if fn is None or not callable(fn):
            raise PredictorLoadError(
                "%s: class %s must define %s(%s)" % (_where(path, _line_of(cls)), class_name, fn_name, ", ".join(args))
            )
        try:
            found = inspect.getfullargspec(fn).args
        except TypeError:
            found = None
        if found == args:
            continue
        wanted = "%s(%s)" % (fn_name, ", ".join(args))
        if fn is object.__init__:
            # A class without __init__ gets object's, which takes no config: Cortex refused it too.
            raise PredictorLoadError(
                "%s: class %s defines no %s, which Cortex 0.15 required" % (_where(path, _line_of(cls)), class_name, wanted)
            )
        raise PredictorLoadError(
            "%s: %s.%s(%s) must be %s, as Cortex 0.15 required"
            % (_where(path, _line_of(fn)), class_name, fn_name, ", ".join(found or []), wanted)
        )


def init_failure_report(error):
    """The text of an INIT_ERROR frame: the summary line first, then the user's traceback."""
    if not isinstance(error, PredictorLoadError):
        # Raised before the predictor's code ran (the model, the framework): the message is the summary.
        error = _failure(error, None)
    return error.summary + ("\n" + error.details if error.details else "")


def _failure(error, phase):
    frames = _user_frames(error.__traceback__)
    where = _location(error, frames)
    if isinstance(error, ModuleNotFoundError):
        what = "%s in %s: install it there or point --python at your virtualenv (modules of your own are imported from predictor.python_path)" % (
            error,
            sys.executable,
        )
    elif isinstance(error, SyntaxError):
        what = "%s: %s" % (type(error).__name__, error.msg)
    else:
        text = str(error)
        what = "%s%s%s" % (type(error).__name__, ": " + text if text else "", " (" + phase + ")" if phase else "")
    return PredictorLoadError("%s: %s" % (where, what) if where else what, _traceback_text(error))


def _location(error, frames):
    if isinstance(error, SyntaxError) and error.filename and error.lineno:
        return _where(error.filename, error.lineno)
    project = _project() + os.sep
    inside = [f for f in frames if os.path.abspath(f.filename).startswith(project)]
    chosen = (inside or frames)[-1:]
    return _where(chosen[0].filename, chosen[0].lineno) if chosen else None


def _is_runtime(filename):
    return filename.startswith("<frozen importlib") or os.path.abspath(filename).startswith(_RUNTIME_DIR + os.sep)


def _user_frames(tb):
    return [f for f in traceback.extract_tb(tb) if not _is_runtime(f.filename)]


def _traceback_text(error):
    """The traceback as Python prints it, chained exceptions included, without this runtime's frames."""
    te = traceback.TracebackException(type(error), error, error.__traceback__)
    seen = set()
    stack = [te]
    frames = 0
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        t.stack = traceback.StackSummary.from_list([f for f in t.stack if not _is_runtime(f.filename)])
        frames += len(t.stack)
        shown = (t.__cause__, None if t.__suppress_context__ else t.__context__)
        stack.extend(x for x in shown if x is not None)
    # Raised by this runtime alone (a model that cannot be loaded): the summary says it all.
    if frames == 0 and not isinstance(error, SyntaxError):
        return ""
    chunks = list(te.format())
    # A level left with no frame of the user's (a SyntaxError found while
    # importing) reads better without the header over nothing.
    kept = [
        c
        for i, c in enumerate(chunks)
        if not (c == "Traceback (most recent call last):\n" and not (i + 1 < len(chunks) and chunks[i + 1].startswith("  File ")))
    ]
    return "".join(kept).rstrip("\n")


def _line_of(obj):
    code = getattr(obj, "__code__", None)
    if code is not None:
        return code.co_firstlineno
    try:
        return inspect.getsourcelines(obj)[1]
    except (OSError, TypeError):
        return None


def _shown(filename):
    """A file as the user knows it: relative to the project folder when inside it."""
    absolute = os.path.abspath(filename)
    project = _project()
    return os.path.relpath(absolute, project) if absolute.startswith(project + os.sep) else absolute


def _where(filename, line):
    return "%s:%d" % (_shown(filename), line) if line else _shown(filename)
