from sagatui.cli import main

raise SystemExit(main())
