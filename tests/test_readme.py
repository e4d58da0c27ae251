"""README stays true: every environment variable and management command the code knows is documented."""

import re
from pathlib import Path

from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
ENV_READ = re.compile(r"""env_(?:str|bool|int|float|list|choice|networks)\(\s*["']([A-Z][A-Z0-9_]+)["']""")


def _variables_read_by_the_code():
    names = set()
    for path in [*ROOT.glob("newstunneler/**/*.py"), *ROOT.glob("apps/**/*.py")]:
        names.update(ENV_READ.findall(path.read_text()))
    return names


def test_every_environment_variable_is_in_the_readme():
    variables = _variables_read_by_the_code()
    assert "DATABASE_URL" in variables and "NT_DEBUG" in variables
    missing = sorted(name for name in variables if f"`{name}`" not in README)
    assert missing == [], f"README.md does not document: {missing}"


def test_every_project_command_is_in_the_readme():
    ours = [name for name, app in get_commands().items() if app.startswith(("apps.", "newstunneler"))]
    assert "run_stack" in ours
    missing = sorted(name for name in ours if f"manage.py {name}" not in README)
    assert missing == [], f"README.md does not document: {missing}"


def test_readme_shows_the_two_commands():
    assert "make run" in README and "make test" in README
