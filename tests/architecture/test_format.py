#!/usr/bin/python3
"""check.sh's format gate (scripts/format.sh --check) fails on a file that
.clang-format would change and passes one it would not. Fault it catches:
a gate that cannot fail (a wrong style path makes clang-format fall back
to its defaults, or an error go unnoticed)."""
import os
import subprocess
import tempfile
import unittest

SOURCE_DIR = os.environ.get("PHONEBIND_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
SCRIPT = os.path.join(SOURCE_DIR, "scripts", "format.sh")


def check(text):
    with tempfile.NamedTemporaryFile("w", suffix=".c", delete=False) as f:
        f.write(text)
    try:
        return subprocess.run([SCRIPT, "--check", f.name], capture_output=True, text=True)
    finally:
        os.unlink(f.name)


class FormatGate(unittest.TestCase):
    def test_unformatted_fails(self):
        result = check("int  main( void ){return 0;}\n")
        self.assertEqual(result.returncode, 1)
        self.assertIn("not formatted", result.stderr)

    def test_formatted_passes(self):
        self.assertEqual(check("int main(void)\n{\n  return 0;\n}\n").returncode, 0)

    def test_the_project_style_applies(self):
        """LLVM's default would put the brace on the function's line."""
        self.assertEqual(check("int main(void) {\n  return 0;\n}\n").returncode, 1)


if __name__ == "__main__":
    unittest.main()
