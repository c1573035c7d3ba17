from kraken_ws.cli import main

main()
