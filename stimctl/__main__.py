from stimctl.cli import run

run()
