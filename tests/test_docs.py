"""The documentation's references hold: every `docs/<page>.md#<anchor>` cited in code, tests,
templates or pages names a page and a heading that exist, and nothing refers to files outside
the repository. Anchors are GitHub's: the heading in lower case, punctuation dropped, spaces
as hyphens."""

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIPPED_DIRECTORIES = {
    ".git",
    ".venv",
    "__pycache__",
    "staticfiles",
    "test-artifacts",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    ".schemathesis",
    "node_modules",
}
SCANNED_SUFFIXES = {".py", ".md", ".html", ".toml", ".txt", ".cfg", ".ini", ".yml", ".yaml"}
SCANNED_NAMES = {"Makefile", "run"}

# `docs/api.md#paging`, `docs/limits.md` (a page alone is a reference too).
DOCS_REFERENCE = re.compile(r"(?<![\w.-])docs/([\w.-]+\.md)(?:#([\w-]+))?")
# A Markdown link's target: `[text](limits.md#the-admin-login)`.
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")
# The former contract files, cited by name or by section number. "RFC 9110 §5.5" is not one.
OLD_CITATION = re.compile(r"legacy-api\.md|(?<![\w/-])(?<!\]\()operations\.md|§")
OUTSIDE_PATH = re.compile(r"\.\./shared")


def scanned_files(root: Path = ROOT) -> list[Path]:
    files = []
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if any(part in SKIPPED_DIRECTORIES for part in relative.parts):
            continue
        if path.is_file() and (path.suffix in SCANNED_SUFFIXES or path.name in SCANNED_NAMES):
            files.append(path)
    return sorted(files)


def project_files() -> list[Path]:
    """Every scanned file but this one, whose examples are broken on purpose."""
    return [path for path in scanned_files() if path != Path(__file__).resolve()]


def outside_fences(text: str):
    """(line number, line) of the lines that are not inside a fenced code block."""
    fenced = False
    for number, line in enumerate(text.splitlines(), start=1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield number, line


def github_anchor(heading: str) -> str:
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """The anchors of a page's headings, a repeated one numbered as GitHub numbers it."""
    found: set[str] = set()
    for _, line in outside_fences(page.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if not match:
            continue
        base = github_anchor(match.group(2))
        anchor, count = base, 0
        while anchor in found:
            count += 1
            anchor = f"{base}-{count}"
        found.add(anchor)
    return found


def broken_references(files: list[Path], root: Path = ROOT) -> list[str]:
    """Each reference to a page or heading that does not exist, as `file:line: reference`."""
    problems = []
    cache: dict[Path, set[str]] = {}

    def check(source: Path, number: int, page: Path, anchor: str | None, cited: str):
        where = f"{source.relative_to(root)}:{number}: {cited}"
        if not page.is_file():
            problems.append(f"{where} (no such file)")
        elif anchor and page.suffix == ".md":
            if page not in cache:
                cache[page] = anchors(page)
            if anchor not in cache[page]:
                problems.append(f"{where} (no such heading)")

    for source in files:
        text = source.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            for match in DOCS_REFERENCE.finditer(line):
                page = root / "docs" / match.group(1)
                check(source, number, page, match.group(2), match.group(0))
        if source.suffix != ".md":
            continue
        for number, line in outside_fences(text):
            for match in MARKDOWN_LINK.finditer(line):
                target = match.group(1)
                if re.match(r"^[a-z]+:", target):
                    continue  # a URL
                path, _, anchor = target.partition("#")
                page = (source.parent / path).resolve() if path else source
                check(source, number, page, anchor or None, target)
    return problems


def lines_matching(pattern: re.Pattern, files: list[Path], root: Path = ROOT) -> list[str]:
    found = []
    for source in files:
        text = source.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            if pattern.search(line) and not (pattern is OLD_CITATION and "RFC" in line):
                found.append(f"{source.relative_to(root)}:{number}: {line.strip()}")
    return found


def test_every_docs_reference_names_an_existing_page_and_heading():
    assert broken_references(project_files()) == []


def test_nothing_refers_to_files_beside_the_repository():
    assert lines_matching(OUTSIDE_PATH, project_files()) == []


def test_sections_are_cited_from_the_repository_own_pages():
    files = [path for path in project_files()]
    assert lines_matching(OLD_CITATION, files) == []


def test_the_readme_links_the_reference_pages():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/api.md)" in readme
    assert "(docs/operations.md)" in readme


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Requests: the server in front of Django", "requests-the-server-in-front-of-django"),
        ("`import_images`", "import_images"),
        ("Worst case: min_ram=2048 (admin)", "worst-case-min_ram2048-admin"),
        (
            "The database: deadlines, timeouts and outages",
            "the-database-deadlines-timeouts-and-outages",
        ),
        ("Staff guide (the admin site)", "staff-guide-the-admin-site"),
    ],
)
def test_anchors_are_computed_as_github_computes_them(heading, anchor):
    assert github_anchor(heading) == anchor


def test_a_broken_reference_is_reported(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "api.md").write_text(
        "# API\n\n## Paging\n\n```sh\n# not a heading\n```\n\n## Paging\n", encoding="utf-8"
    )
    source = tmp_path / "module.py"
    source.write_text(
        "# docs/api.md#paging docs/api.md#paging-1\n"
        "# docs/api.md#not-a-heading docs/api.md#sorting docs/missing.md#paging\n",
        encoding="utf-8",
    )
    page = tmp_path / "docs" / "guide.md"
    page.write_text("[ok](api.md#paging) [broken](api.md#filters) [self](#nowhere)\n")
    problems = broken_references([source, page], root=tmp_path)
    assert problems == [
        "module.py:2: docs/api.md#not-a-heading (no such heading)",
        "module.py:2: docs/api.md#sorting (no such heading)",
        "module.py:2: docs/missing.md#paging (no such file)",
        "docs/guide.md:1: api.md#filters (no such heading)",
        "docs/guide.md:1: #nowhere (no such heading)",
    ]


def test_an_old_citation_and_an_outside_path_are_found(tmp_path):
    # Spelled in pieces, so that a search of the repository for them finds only real ones.
    old_api, old_guide, beside = "legacy-api" + ".md", "operations" + ".md", "." * 2 + "/shared"
    lines = [
        f"# {old_api} §3: the last value counts",
        "# (§2) alone",
        "# RFC 9110 §5.5: a field value",
        f"# see docs/{old_guide}#commands and [the guide]({old_guide})",
        f"# `seed_images` ({old_guide})",
        f"# see {beside}/spec",
    ]
    source = tmp_path / "module.py"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert lines_matching(OLD_CITATION, [source], root=tmp_path) == [
        f"module.py:{number}: {lines[number - 1]}" for number in (1, 2, 5)
    ]
    assert lines_matching(OUTSIDE_PATH, [source], root=tmp_path) == [f"module.py:6: {lines[5]}"]


def test_the_license_is_the_apache_license_2_0_with_the_project_notice():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text
    assert "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
    assert "Copyright 2026 The IMS image catalog authors" in text


def test_the_changelog_has_an_unreleased_section_and_the_project_version():
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "version"
    ]
    headings = [
        line for _, line in outside_fences((ROOT / "CHANGELOG.md").read_text(encoding="utf-8"))
    ]
    assert "## [Unreleased]" in headings
    assert any(line.startswith(f"## [{version}] - ") for line in headings)
