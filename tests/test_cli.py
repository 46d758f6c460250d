"""The front door, run in-process: output, exit codes, no tracebacks for user errors."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path

import pytest

from scanrush import cli
from scanrush.errors import InfrastructureError

DATA = Path(__file__).parent / "scenario" / "data"
MINIMAL = str(DATA / "minimal.yaml")
Write = Callable[[str, str], Path]


def broken(write: Write) -> Path:
    text = (DATA / "minimal.yaml").read_text()
    return write("broken.yaml", text.replace("jitter: 60ms", "jiter: 60ms").replace("workers: 4", "workers: 0"))


def test_validate_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(["validate", MINIMAL]) == 0
    assert capsys.readouterr().out == f"ok  {MINIMAL}  (minimal, 9 terminals, 1h)\n"


def test_validate_lists_every_problem_and_exits_2(tmp_scenario: Write, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(["validate", str(broken(tmp_scenario))]) == 2
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        "FAIL  broken.yaml  (2 problems)",
        "  broken.yaml:12:27: networks.mall-wifi.jiter = '60ms': unknown key 'jiter' (did you mean 'jitter'?)",
        "  broken.yaml:20:20: gateway.workers = 0: should be greater than or equal to 1",
    ]
    assert "Traceback" not in captured.out + captured.err


def test_validate_several_files(tmp_scenario: Write, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(["validate", MINIMAL, str(broken(tmp_scenario)), "missing.yaml"]) == 2
    out = capsys.readouterr().out
    assert out.startswith("ok  ")
    assert "FAIL  missing.yaml  (1 problem)\n  missing.yaml: no such file\n" in out
    assert out.endswith("2 of 3 files have problems\n")


def test_validate_with_set(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(["validate", MINIMAL, "--set", "mall.zones.fashion.stores=50", "--set", "seed=3"]) == 0
    assert "(minimal, 54 terminals, 1h)" in capsys.readouterr().out


def test_validate_bad_set_names_set(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(["validate", MINIMAL, "--set", "gateway.wrkers=3"]) == 2
    assert "  --set: gateway.wrkers: unknown key 'wrkers' (did you mean 'workers'?)" in capsys.readouterr().out


def test_validate_needs_a_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(["validate"]) == 2
    err = capsys.readouterr().err
    assert "usage: scanrush validate" in err
    assert "error: the following arguments are required: FILE" in err


def test_schema_prints_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "Scenario"
    assert "jitter" in schema["$defs"]["Network"]["properties"]
    assert set(schema["$defs"]["Window"]["required"]) == {"at", "for"}  # the YAML key, not `for_`


def test_schema_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "scenario.schema.json"
    assert cli.run(["schema", "--output", str(target)]) == 0
    assert json.loads(target.read_text())["additionalProperties"] is False
    assert capsys.readouterr().out == f"wrote {target}\n"


def test_schema_unwritable_output_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(["schema", "-o", str(tmp_path / "no" / "such" / "dir.json")]) == 2
    assert capsys.readouterr().err.startswith("error: cannot write ")


def test_help_shows_the_whole_tool(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(["--help"]) == 0
    out = capsys.readouterr().out
    for command in cli.COMMANDS:
        assert f"    {command.name}" in out
    assert "130  interrupted" in out


def test_command_table() -> None:
    names = [command.name for command in cli.COMMANDS]
    assert names == ["validate", "sim", "load", "check", "report", "compare", "sweep", "plan", "whatif",
                     "gateway", "toxiproxy", "schema"]
    assert all(command.module == f"scanrush.commands.{command.name}" for command in cli.COMMANDS)


def test_no_command_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run([]) == 2
    assert "commands:" in capsys.readouterr().err


def test_unknown_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(["simulate"]) == 2
    assert "invalid choice: 'simulate'" in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(["--version"]) == 0
    assert capsys.readouterr().out.startswith("scanrush ")


# --------------------------------------------------------------------------- the dispatch machinery


def with_command(monkeypatch: pytest.MonkeyPatch, name: str, module: str) -> None:
    monkeypatch.setattr(cli, "COMMANDS", (*cli.COMMANDS, cli.Command(name, module, "a test command")))


def fake_module(monkeypatch: pytest.MonkeyPatch, run: Callable[[object], int]) -> None:
    module = types.ModuleType("scanrush_test_fake_command")
    module.add_arguments = lambda parser: parser.add_argument("--flag", action="store_true")  # type: ignore[attr-defined]
    module.run = run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    with_command(monkeypatch, "fake", module.__name__)


def test_missing_command_module_is_not_available(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    with_command(monkeypatch, "ghost", "scanrush.commands.ghost")
    assert cli.run(["ghost", "x.yaml"]) == 3
    err = capsys.readouterr().err
    assert err == "error: 'scanrush ghost' is not available in this installation (no module scanrush.commands.ghost)\n"


def test_missing_dependency_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "scanrush_test_needs_dep.py").write_text("import scanrush_no_such_package_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with_command(monkeypatch, "needy", "scanrush_test_needs_dep")
    assert cli.run(["needy"]) == 3
    assert "needs the Python package 'scanrush_no_such_package_xyz'" in capsys.readouterr().err


def test_errors_print_one_line_unless_debug(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    def fail(args: object) -> int:
        raise InfrastructureError("port 8080 is in use")

    fake_module(monkeypatch, fail)
    assert cli.run(["fake"]) == 3
    assert capsys.readouterr().err == "error: port 8080 is in use\n"
    assert cli.run(["fake", "--debug"]) == 3  # --debug accepted after the command too
    err = capsys.readouterr().err
    assert err.startswith("Traceback")
    assert err.endswith("error: port 8080 is in use\n")


def test_keyboard_interrupt_exits_130(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    fake_module(monkeypatch, interrupted)
    assert cli.run(["--debug", "fake", "--flag"]) == 130
    assert capsys.readouterr().err == "interrupted\n"


def test_command_exit_code_passes_through(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_module(monkeypatch, lambda args: 4 if getattr(args, "flag", False) else 1)
    assert cli.run(["fake", "--flag"]) == 4
    assert cli.run(["fake"]) == 1


def test_main_exits_with_the_code() -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["validate", MINIMAL])
    assert caught.value.code == 0


def test_validate_imports_nothing_heavy() -> None:
    code = ("import sys; from scanrush.cli import run; run(['validate', sys.argv[1]]); "
            "print(sorted(m for m in ('simpy', 'locust', 'gevent', 'matplotlib', 'sim') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code, MINIMAL], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "[]"
