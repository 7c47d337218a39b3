#!/usr/bin/env python
from citygrid.cli import main

if __name__ == "__main__":
    main()
