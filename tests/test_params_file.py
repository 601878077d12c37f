"""A parameter file that cannot be read as YAML stops with one line naming the file
and the fault (`make check`, before DVC's own parser error), not a traceback."""

import pytest

from layerkd.check import main, problems


@pytest.mark.parametrize("content, message", [
    (b"tasks: [caf\xe9]\n", "is not UTF-8 text: byte 0xe9 on line 1"),
    (b"# a comment\ntasks: [digits]\r\nseeds: \xff\n", "is not UTF-8 text: byte 0xff on line 3"),
    (b"tasks: [digits\nmodel: : 1\n", "is not valid YAML"),
    (b"", "is empty"),
    (b"# only a comment\n", "is empty"),
])
def test_an_unreadable_params_file_is_named_with_its_fault(tmp_path, capsys, content, message):
    path = tmp_path / "params.yaml"
    path.write_bytes(content)
    found = problems(path)
    assert len(found) == 1 and str(path) in found[0] and message in found[0], found
    assert main([str(path)]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
