"""Where a SavedModel is in a listing or a folder, and local zips extracted
once into the cache (python/cortex_local_worker/model_store.py)."""
import os
import shutil
import tempfile
import unittest
import zipfile

from cortex_local_worker import model_store
from cortex_local_worker.model_store import ModelSourceError, find_saved_model, saved_model_prefix

SAVED_MODEL = ["saved_model.pb", "variables/variables.index", "variables/variables.data-00000-of-00001"]


def under(prefix, names=SAVED_MODEL):
    return {prefix + n for n in names}


class SavedModelPrefix(unittest.TestCase):
    def test_a_saved_model_at_the_top(self):
        self.assertEqual(saved_model_prefix(under("") | {"assets/vocab.txt"}), "")

    def test_the_highest_valid_version_wins_numerically(self):
        names = under("1/") | under("9/") | under("10/") | {"11/saved_model.pb"}
        self.assertEqual(saved_model_prefix(names), "10/")

    def test_variables_are_required(self):
        self.assertIsNone(saved_model_prefix({"saved_model.pb", "variables/variables.index"}))
        self.assertIsNone(saved_model_prefix({"model/saved_model.pb"}))
        self.assertIsNone(saved_model_prefix(set()))


class LocalZip(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir)
        self.lines = []

    def make_zip(self, name, members):
        path = os.path.join(self.dir, name)
        with zipfile.ZipFile(path, "w") as z:
            for member in members:
                z.writestr(member, b"x")
        return path

    def local(self, path):
        return model_store.local_model(path, "tensorflow", os.path.join(self.dir, "project", ".cortex-local", "models"), log=self.lines.append)

    def test_extracted_once_then_reused(self):
        path = self.make_zip("m.zip", ["1568244606/" + n for n in SAVED_MODEL])
        first = self.local(path)
        self.assertTrue(first.endswith(os.path.join("1568244606")), first)
        self.assertTrue(os.path.isfile(os.path.join(first, "saved_model.pb")))
        self.assertEqual(len([l for l in self.lines if l.startswith("extracting")]), 1)
        self.assertEqual(self.local(path), first)
        self.assertEqual(len([l for l in self.lines if l.startswith("extracting")]), 1)
        with open(os.path.join(self.dir, "project", ".cortex-local", ".gitignore")) as f:
            self.assertIn("*\n", f.read())

    def test_a_zip_of_a_folder_of_versions(self):
        path = self.make_zip("export.zip", ["export/3/" + n for n in SAVED_MODEL] + ["export/12/" + n for n in SAVED_MODEL])
        self.assertEqual(os.path.basename(self.local(path)), "12")

    def test_a_zip_without_a_saved_model_says_what_it_expected(self):
        path = self.make_zip("bad.zip", ["model.h5"])
        with self.assertRaisesRegex(ModelSourceError, "bad.zip holds no TensorFlow SavedModel: expected saved_model.pb and variables/"):
            self.local(path)

    def test_a_file_that_is_not_a_zip(self):
        path = os.path.join(self.dir, "broken.zip")
        with open(path, "wb") as f:
            f.write(b"not a zip")
        with self.assertRaisesRegex(ModelSourceError, "cannot extract .*broken.zip: File is not a zip file"):
            self.local(path)

    def test_local_files_and_folders_are_used_where_they_are(self):
        self.assertEqual(model_store.local_model("/models/m.onnx", "onnx", "/unused"), "/models/m.onnx")
        self.assertEqual(model_store.local_model("/models/export", "tensorflow", "/unused"), "/models/export")

    def test_find_saved_model_ignores_the_cache_manifest(self):
        folder = os.path.join(self.dir, "x")
        os.makedirs(os.path.join(folder, "only", "variables"))
        open(os.path.join(folder, model_store.MANIFEST), "w").close()
        for n in SAVED_MODEL:
            open(os.path.join(folder, "only", n), "w").close()
        self.assertEqual(find_saved_model(folder), os.path.join(folder, "only", ""))


if __name__ == "__main__":
    unittest.main()
