"""The core must import and run with Qt absent: run it in a fresh interpreter where PySide6 cannot be imported."""

import subprocess
import sys
import textwrap

import pytest


@pytest.mark.subprocess
def test_core_imports_without_qt(tiny_model_path):
    code = textwrap.dedent(f"""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split('.')[0] in ('PySide6', 'shiboken6', 'PyQt5', 'PyQt6', 'pyqtgraph'):
                    raise ImportError('Qt is blocked in this test: ' + name)
        sys.meta_path.insert(0, Block())
        import pkgutil, importlib, stylemixer.core
        for m in pkgutil.walk_packages(stylemixer.core.__path__, 'stylemixer.core.'):
            importlib.import_module(m.name)
        import stylemixer.cli
        from stylemixer.cli import main
        assert main(['info', {str(tiny_model_path)!r}]) == 0
        assert not any(k.startswith(('PySide6', 'pyqtgraph')) for k in sys.modules)
    """)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
