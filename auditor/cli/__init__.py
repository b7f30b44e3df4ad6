"""The command line: the parser, the commands, and how a command ends (its report written, its exit code)."""
