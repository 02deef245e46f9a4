"""The exit codes of every command (README, Commands)."""

EXIT_OK = 0  # success
EXIT_REJECTED = 1  # some lines were rejected (import) or failed (sync); serve: its workers kept dying as they started
EXIT_USAGE = 2  # bad usage, a bad setting, an outdated schema, a refused file, a busy runner
EXIT_NOT_STORED = 3  # something could not be written (a full disk): nothing of the run was stored
