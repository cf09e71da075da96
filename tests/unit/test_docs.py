from pathlib import Path

from vpcwatch_tools.docs import check_table, replace_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_check_table_is_generated_from_the_registry() -> None:
    text = README.read_text(encoding="utf-8")
    assert check_table() in text, "README check table drifted: run `make readme`"
    assert replace_table(text) == text


def test_readme_opens_with_the_two_setup_commands() -> None:
    head = README.read_text(encoding="utf-8").split("## ")[0]
    assert head.index("make demo") < head.index("make test")
