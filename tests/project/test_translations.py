"""The Simplified Chinese catalogue is complete, and the UI speaks Chinese by default.

A developer who adds a translatable string without translating it gets a failing test that names
the string: the catalogue is regenerated from a copy of the source tree exactly as `make messages`
does, and every entry must then carry a non-empty, non-fuzzy msgstr.
"""

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = Path("locale") / "zh_Hans" / "LC_MESSAGES" / "django.po"

# Top-level folders that are not source: never copied, never scanned.
NOT_SOURCE = {".venv", "var", "staticfiles", ".git", "node_modules"}
# Build and cache litter anywhere in the tree.
LITTER = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo", ".pytest_cache", ".ruff_cache", "node_modules")

MAKEMESSAGES = [
    "makemessages",
    "-l",
    "zh_Hans",
    "--no-location",
    "--no-obsolete",
    "--ignore=.venv",
    "--ignore=staticfiles",
    "--ignore=var",
    "--ignore=node_modules",
]

needs_gettext = pytest.mark.skipif(
    not (shutil.which("msgfmt") and shutil.which("xgettext") and shutil.which("msgmerge")),
    reason="GNU gettext (msgfmt, xgettext, msgmerge) is not installed",
)


# --- a tiny .po reader ---------------------------------------------------------------------


def _unquote(literal: str) -> str:
    """The value of one quoted .po string; .po escapes are C escapes, as in Python."""
    return ast.literal_eval(literal)


def parse_po(text: str) -> list[dict]:
    """Entries of a .po file: {"flags": set, "msgctxt", "msgid", "msgid_plural", "msgstr": [..]}.

    Continuation lines ("...") are joined to the keyword before them; obsolete entries (#~) are skipped.
    """
    entries = []
    for block in re.split(r"\n[ \t]*\n", text.strip()):
        entry = {"flags": set(), "msgctxt": None, "msgid": None, "msgid_plural": None, "msgstr": {}}
        key = None
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("#,"):
                entry["flags"].update(flag.strip() for flag in line[2:].split(",") if flag.strip())
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                if key is None:
                    raise ValueError(f"continuation line without a keyword: {line!r}")
                kind, index = key
                if kind == "msgstr":
                    entry["msgstr"][index] += _unquote(line)
                else:
                    entry[kind] += _unquote(line)
            else:
                match = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(\".*\")$", line)
                if not match:
                    raise ValueError(f"unexpected line in .po file: {line!r}")
                kind, index, literal = match.group(1), match.group(2), match.group(3)
                if kind == "msgstr":
                    key = (kind, int(index or 0))
                    entry["msgstr"][key[1]] = _unquote(literal)
                else:
                    key = (kind, None)
                    entry[kind] = _unquote(literal)
        if entry["msgid"] is not None:
            entries.append(entry)
    return entries


def _label(entry: dict) -> str:
    label = repr(entry["msgid"])
    if entry["msgctxt"] is not None:
        label = f"[{entry['msgctxt']}] {label}"
    return label


def test_po_parser_joins_continuation_lines_and_reads_flags():
    entries = parse_po(
        '#, fuzzy\nmsgid ""\nmsgstr ""\n"Language: zh_Hans\\n"\n\n'
        '#, fuzzy, python-format\nmsgid ""\n"From %(n)s yuan "\n"on."\nmsgstr "自%(n)s元起。"\n\n'
        'msgctxt "menu"\nmsgid "Say \\"hi\\""\nmsgstr ""\n\n'
        'msgid "share"\nmsgid_plural "shares"\nmsgstr[0] "股"\n'
    )
    header, long, quoted, plural = entries
    assert header["msgid"] == "" and header["msgstr"][0] == "Language: zh_Hans\n"
    assert long["msgid"] == "From %(n)s yuan on." and long["flags"] == {"fuzzy", "python-format"}
    assert (quoted["msgctxt"], quoted["msgid"], quoted["msgstr"][0]) == ("menu", 'Say "hi"', "")
    assert plural["msgid_plural"] == "shares" and plural["msgstr"] == {0: "股"}


# --- the catalogue is complete -------------------------------------------------------------


def _copy_source(destination: Path) -> None:
    def ignore(directory, names):
        skipped = set(LITTER(directory, names))
        if Path(directory).resolve() == ROOT:
            skipped |= NOT_SOURCE & set(names)
        return skipped

    shutil.copytree(ROOT, destination, ignore=ignore, symlinks=True)


def _clean_env(var_dir: Path) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env["VAR_DIR"] = str(var_dir)
    return env


@needs_gettext
def test_every_string_has_a_chinese_translation(tmp_path):
    source = tmp_path / "src"
    _copy_source(source)
    result = subprocess.run(
        [sys.executable, "manage.py", *MAKEMESSAGES],
        cwd=source,
        env=_clean_env(tmp_path / "var"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    entries = parse_po((source / CATALOGUE).read_text(encoding="utf-8"))
    messages = [entry for entry in entries if entry["msgid"] != ""]
    assert messages, "makemessages found no strings at all"

    untranslated = [_label(e) for e in messages if not e["msgstr"] or not all(e["msgstr"].values())]
    fuzzy = [_label(e) for e in messages if "fuzzy" in e["flags"]]
    assert not untranslated, (
        f"{len(untranslated)} string(s) have no Chinese translation in {CATALOGUE} "
        "(run `make messages`, fill the msgstr, then `make translations`):\n  " + "\n  ".join(untranslated)
    )
    assert not fuzzy, (
        f"{len(fuzzy)} fuzzy translation(s) in {CATALOGUE}; check them and remove the `#, fuzzy` flag:\n  "
        + "\n  ".join(fuzzy)
    )


# --- the UI speaks Chinese by default, English on request ----------------------------------


@pytest.fixture
def catalogue_in_use(tmp_path, settings):
    """Serve the committed catalogue: compiled afresh when msgfmt is here, else the built .mo."""
    if shutil.which("msgfmt"):
        compiled = tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES"
        compiled.mkdir(parents=True)
        subprocess.run(
            ["msgfmt", "--check-format", "-o", str(compiled / "django.mo"), str(ROOT / CATALOGUE)],
            check=True,
            capture_output=True,
            timeout=60,
        )
        # Changing LOCALE_PATHS clears Django's translation caches (django.test.signals).
        settings.LOCALE_PATHS = [tmp_path / "locale"]
    elif not (ROOT / CATALOGUE).with_suffix(".mo").exists():
        pytest.skip("no compiled catalogue and no msgfmt to build one (run `make translations`)")


@pytest.mark.django_db
def test_public_board_is_in_chinese_by_default(client, catalogue_in_use):
    response = client.get("/board/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "公开栏" in content
    assert "Public board" not in content


@pytest.mark.django_db
def test_public_board_is_in_english_with_the_language_cookie(client, catalogue_in_use, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/board/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "Public board" in content
    assert "公开栏" not in content
