from wikibridge.cli import main

main()
