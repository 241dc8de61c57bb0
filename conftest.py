"""Repository-level pytest setup. The rnnparity plugin itself is registered by the package
(entry point pytest11), so an installed rnnparity brings its options and summary to any pytest run."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
