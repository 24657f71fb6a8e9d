from wikibridge.entry import main

main()
