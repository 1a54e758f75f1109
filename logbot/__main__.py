from logbot.cli import main

main(prog_name="logbot")
