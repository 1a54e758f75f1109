from logbot.cli import main

main()
