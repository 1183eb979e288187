from ga_cli.cli import main

main()
