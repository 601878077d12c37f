"""The documents' copies of generated tables (layerkd.readme_tables)."""

from layerkd.readme_tables import main, stale, stale_everywhere, sync

README = """# Title

### Table 1 (`paper/tables/t1.md`)

Some words.

| a | b |
|---|---|
| 1 | 2 |

Text after.

### Mentioned only (`paper/tables/t2.md`)

### Other
| x |
"""


def write(tmp_path, t1="| a | b |\n|---|---|\n| 1 | 2 |\n"):
    (tmp_path / "paper" / "tables").mkdir(parents=True)
    (tmp_path / "paper" / "tables" / "t1.md").write_text(t1)
    (tmp_path / "README.md").write_text(README)
    return tmp_path / "README.md"


def test_copies_equal_to_their_tables_are_not_stale(tmp_path):
    readme = write(tmp_path)
    assert stale(readme, tmp_path) == []
    assert sync(readme, tmp_path) == [] and readme.read_text() == README


def test_a_changed_table_is_stale_and_sync_copies_it(tmp_path):
    readme = write(tmp_path, "| a | b |\n|---|---|\n| 1 | 3 |\n| 4 | 5 |\n")
    assert stale(readme, tmp_path) == ["paper/tables/t1.md"]
    assert main(["--root", str(tmp_path), "--check"]) == 1
    assert sync(readme, tmp_path) == ["paper/tables/t1.md"]
    text = readme.read_text()
    assert "| 1 | 3 |\n| 4 | 5 |\n\nText after." in text and "| 1 | 2 |" not in text
    assert "### Other\n| x |" in text  # tables under other headings are left alone
    assert stale(readme, tmp_path) == []


def test_copies_in_docs_pages_are_checked_and_synced(tmp_path):
    write(tmp_path)
    (tmp_path / "docs").mkdir()
    page = tmp_path / "docs" / "results.md"
    page.write_text(README.replace("| 1 | 2 |", "| 9 | 9 |"))
    assert stale_everywhere(tmp_path) == ["docs/results.md: paper/tables/t1.md"]
    assert main(["--root", str(tmp_path), "--check"]) == 1
    assert main(["--root", str(tmp_path)]) == 0
    assert "| 1 | 2 |" in page.read_text() and "| 9 | 9 |" not in page.read_text()
    assert stale_everywhere(tmp_path) == [] and main(["--root", str(tmp_path), "--check"]) == 0
