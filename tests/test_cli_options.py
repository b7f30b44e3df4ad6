"""Number options: every one is checked by the parser, so a NaN, an infinity or a value out of range is a usage
error (exit 2) naming the option, before any network or file work starts."""

import socket

import pytest

from conftest import run

PROBE_RUN = ["probe", "--ca-file", "/no/such/store.pem"]
SCAN_PROBE = ["scan", "-q", "--probe", "--probe-endpoint", "host:99999"]
REFRESH = ["rules", "refresh"]

NOT_SECONDS = ["nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e309", "0", "-0.0", "-1", "1e300", "86401", "5s", ""]
SECONDS = [(command, option) for command in (PROBE_RUN, SCAN_PROBE) for option in ("--timeout", "--deadline")]
SECONDS.append((REFRESH, "--timeout"))
COUNTS = [(command, option, bad) for command in (PROBE_RUN, SCAN_PROBE)
          for option, bad in (("--jobs", ("0", "-1", "1001", "2.5", "nan", "inf", "1e3")),
                              ("--retries", ("-1", "101", "0.5", "nan", "inf")))]


def _no_network(*_args, **_kwargs):
    raise OSError("network used by a test of option parsing")


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", _no_network)
    monkeypatch.setattr(socket.socket, "connect", _no_network)


def _usage_error(args, option):
    result = run(*args)
    assert result.code == 2, result.err
    assert f"argument {option}:" in result.err and "Traceback" not in result.err
    return result


@pytest.mark.parametrize("command, option", SECONDS, ids=lambda v: v if isinstance(v, str) else v[0])
@pytest.mark.parametrize("value", NOT_SECONDS)
def test_a_duration_that_is_not_finite_and_positive_is_a_usage_error(command, option, value):
    _usage_error([*command, f"{option}={value}"], option)


@pytest.mark.parametrize("command, option, values", COUNTS, ids=lambda v: v if isinstance(v, str) else "-".join(v[:1]))
def test_a_count_out_of_range_is_a_usage_error(command, option, values):
    for value in values:
        _usage_error([*command, f"{option}={value}"], option)


@pytest.mark.parametrize("command", [PROBE_RUN, SCAN_PROBE], ids=["probe", "scan"])
def test_values_in_range_are_taken(command):
    result = run(*command, "--timeout", "0.25", "--deadline", "86400", "--jobs", "1000", "--retries", "100")
    assert result.code == 2 and "argument" not in result.err  # the later, unrelated error of the command line
    assert ("no such file" if command is PROBE_RUN else "port from 1 to 65535") in result.err


def test_the_help_states_the_bounds():
    result = run("probe", "--help")
    assert "at most 1000" in result.out.replace(",", "") and "at most 100" in result.out


COMMANDS = [["scan"], ["truststore"], ["probe"], ["fix"], ["config"], ["rules"], ["rules", "list"], ["rules", "show"],
            ["rules", "refresh"], ["schema"],
            ["report"], *(["report", action] for action in ("render", "merge", "diff", "keygen", "sign", "verify"))]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_the_parser_built_for_one_command_parses_and_helps_as_the_whole_parser(command, capsys):
    from auditor.cli.parser import build_parser, command_word

    def help_of(parsers):
        with pytest.raises(SystemExit):
            parsers.root.parse_args([*command, "--help"])
        return capsys.readouterr().out

    assert command_word(["-q", *command, "x"]) == command[0]
    whole = help_of(build_parser())
    assert "usage: auditor " + " ".join(command) in whole
    assert help_of(build_parser(only=command[0])) == whole


def test_the_parser_of_one_command_knows_every_command_and_a_misspelt_one_lists_them_all(capsys):
    """A parser built for one command adds no other command's parser; auditor.cli.parser.COMMANDS must name every
    command, or a command left out of it would lose its parser whenever another one runs."""
    from auditor.cli.parser import COMMANDS as NAMES, build_parser

    listed = build_parser().root._subparsers._group_actions[0].choices
    assert tuple(listed) == NAMES
    assert tuple(build_parser(only="truststore").root._subparsers._group_actions[0].choices) == ("truststore",)
    with pytest.raises(SystemExit):
        build_parser(only="trustore").root.parse_args(["trustore"])
    assert "invalid choice: 'trustore' (choose from " + ", ".join(repr(name) for name in NAMES) + ")" in capsys.readouterr().err


def test_a_keystore_password_is_not_shown_by_the_command_s_value():
    from auditor.cli.options import command_options
    from auditor.cli.parser import build_parser, shown_command_line

    for argv in (["truststore", "cacerts", "--storepass", "changeit"], ["probe", "--storepass", "changeit"]):
        asked = command_options(build_parser(only=argv[0]).root.parse_args(argv), shown_command_line(["auditor", *argv]))
        assert asked.storepass == "changeit"
        assert "changeit" not in repr(asked) and "storepass='***'" in repr(asked)
