from trove.entry import main

main()
